#include "platform/platform.h"

namespace aex::tee {

Status Platform::DrawInstanceId() {
  uint8_t id[8];
  do {
    AEX_RETURN_IF_ERROR(crypto::RandomBytes(id));
    instance_id_ = LoadU64(id);
  } while (instance_id_ == 0);
  return Status::Ok();
}

Result<Bytes> NewSessionHeader(uint8_t flags, uint64_t instance_id) {
  Bytes h(kSessionHeaderSize);
  h[0] = flags;
  StoreU64(h.data() + 1, instance_id);
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(std::span(h).subspan(9)));
  return h;
}

static Bytes SessionInput(std::string_view label, uint32_t module_id, ByteSpan header,
                          ByteSpan tail) {
  ByteWriter w(label.size() + 4 + header.size() + tail.size());
  w.PutBytes(AsBytes(label));
  w.PutU32(module_id);
  w.PutBytes(header);
  w.PutBytes(tail);
  return w.Take();
}

Bytes HmacEvidence(std::string_view label, const crypto::Key& module_key, uint32_t module_id,
                   ByteSpan header, ByteSpan challenge) {
  std::string tag = std::string(label) + "/attest";
  crypto::Digest mac =
      crypto::HmacSha256(module_key, SessionInput(tag, module_id, header, challenge));
  Bytes out(header.begin(), header.end());
  out.insert(out.end(), mac.begin(), mac.end());
  return out;
}

crypto::Key HkdfSessionKey(std::string_view label, const crypto::Key& module_key,
                           uint32_t module_id, ByteSpan header, ByteSpan challenge) {
  std::string salt = std::string(label) + "/session";
  crypto::Digest c = crypto::Sha256(challenge);  // HKDF info is bounded; the hash is not
  crypto::Key key;
  key.fill(0);  // HKDF fails only if OpenSSL is broken; a zero key then fails every grant
  (void)crypto::Hkdf(module_key, AsBytes(salt), SessionInput("", module_id, header, c), key);
  return key;
}

}  // namespace aex::tee
