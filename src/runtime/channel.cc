#include "runtime/channel.h"

#include <cstring>

#if defined(AEX_HAVE_SPONGENT)
#include "crypto/spongent.h"
#endif

namespace aex::channel {

crypto::Nonce TaggedNonce(const char tag[4], uint64_t n) {
  crypto::Nonce nonce;
  std::memcpy(nonce.data(), tag, 4);
  StoreU64(nonce.data() + 4, n);
  return nonce;
}

std::unique_ptr<crypto::Aead> NewCipher(Cipher cipher, const crypto::Key& key) {
  switch (cipher) {
    case Cipher::kAes: return std::make_unique<crypto::AesGcm>(key);
    case Cipher::kSpongent:
#if defined(AEX_HAVE_SPONGENT)
      return std::make_unique<crypto::SpongeWrapAead>(key);
#else
      return nullptr;
#endif
  }
  return nullptr;
}

crypto::Nonce EventNonce(uint32_t conn_id, Direction dir, uint64_t counter) {
  crypto::Nonce nonce;
  StoreU32(nonce.data(), conn_id);
  StoreU64(nonce.data() + 4, (uint64_t{static_cast<uint8_t>(dir)} << 63) | counter);
  return nonce;
}

Status SealEvent(crypto::Aead& aead, uint32_t conn_id, Direction dir, uint64_t counter,
                 ByteSpan plaintext, Bytes* out) {
  if (counter == 0 || counter > kMaxCounter) return InvalidArgument("counter out of range");
  size_t at = out->size();
  out->resize(at + 8 + plaintext.size() + crypto::kTagSize);
  StoreU64(out->data() + at, counter);
  Status s = aead.Seal(EventNonce(conn_id, dir, counter), {}, plaintext, out->data() + at + 8);
  if (!s.ok()) out->resize(at);
  return s;
}

Status OpenEvent(crypto::Aead& aead, uint32_t conn_id, Direction dir, ByteSpan sealed,
                 uint64_t* counter, Bytes* plaintext) {
  if (sealed.size() < kEventOverhead) return InvalidArgument("sealed event too short");
  uint64_t c = LoadU64(sealed.data());
  if (c == 0 || c > kMaxCounter) return AuthFailed("counter out of range");
  plaintext->resize(sealed.size() - kEventOverhead);
  AEX_RETURN_IF_ERROR(aead.Open(EventNonce(conn_id, dir, c), {}, sealed.subspan(8),
                                plaintext->data()));
  *counter = c;
  return Status::Ok();
}

Result<KeyGrant> UnwrapGrant(crypto::Aead& module_aead, uint32_t module_id, ByteSpan blob) {
  if (blob.size() != kGrantSize) return InvalidArgument("key grant has the wrong size");
  ByteReader r(blob);
  KeyGrant g;
  uint8_t role, cipher;
  ByteSpan sealed;
  r.ReadU32(&g.conn_id);
  r.ReadU16(&g.io_index);
  r.ReadU8(&role);
  r.ReadU8(&cipher);
  r.ReadU64(&g.nonce);
  r.ReadBytes(crypto::kKeySize + crypto::kTagSize, &sealed);
  g.rekey = cipher & 0x80;
  cipher &= 0x7f;
  if (role > 3 || cipher > 1) return InvalidArgument("key grant has an unknown role or cipher");
  g.role = static_cast<Role>(role);
  g.cipher = static_cast<Cipher>(cipher);
  ByteWriter ad;
  ad.PutU32(module_id);
  ad.PutBytes(blob.first(16));
  AEX_RETURN_IF_ERROR(
      module_aead.Open(TaggedNonce("GRNT", g.nonce), ad.bytes(), sealed, g.key.data()));
  return g;
}

Result<uint64_t> OpenDisable(crypto::Aead& module_aead, uint32_t module_id, ByteSpan blob) {
  if (blob.size() != 8 + crypto::kTagSize) return InvalidArgument("bad disable message size");
  uint64_t nonce = LoadU64(blob.data());
  uint8_t ad[4];
  StoreU32(ad, module_id);
  uint8_t none[1];
  AEX_RETURN_IF_ERROR(
      module_aead.Open(TaggedNonce("DSBL", nonce), ByteSpan(ad, 4), blob.subspan(8), none));
  return nonce;
}

}  // namespace aex::channel
