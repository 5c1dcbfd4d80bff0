#include "attest/issue.h"

namespace aex::channel {

namespace {

void PutGrantHeader(const KeyGrant& g, ByteWriter* w) {
  w->PutU32(g.conn_id);
  w->PutU16(g.io_index);
  w->PutU8(static_cast<uint8_t>(g.role));
  w->PutU8(static_cast<uint8_t>(static_cast<uint8_t>(g.cipher) | (g.rekey ? 0x80 : 0)));
  w->PutU64(g.nonce);
}

}  // namespace

Bytes WrapGrant(crypto::Aead& module_aead, uint32_t module_id, const KeyGrant& grant) {
  ByteWriter header;
  PutGrantHeader(grant, &header);
  ByteWriter ad;
  ad.PutU32(module_id);
  ad.PutBytes(header.bytes());
  Bytes blob = header.Take();
  size_t at = blob.size();
  blob.resize(at + crypto::kKeySize + crypto::kTagSize);
  Status s = module_aead.Seal(TaggedNonce("GRNT", grant.nonce), ad.bytes(), grant.key,
                              blob.data() + at);
  if (!s.ok()) return {};
  return blob;
}

Bytes SealDisable(crypto::Aead& module_aead, uint32_t module_id, uint64_t nonce) {
  ByteWriter w;
  w.PutU64(nonce);
  uint8_t ad[4];
  StoreU32(ad, module_id);
  Bytes blob = w.Take();
  blob.resize(8 + crypto::kTagSize);
  if (!module_aead.Seal(TaggedNonce("DSBL", nonce), ByteSpan(ad, 4), {}, blob.data() + 8).ok()) {
    return {};
  }
  return blob;
}

}  // namespace aex::channel
