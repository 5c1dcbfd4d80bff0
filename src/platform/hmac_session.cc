// The HMAC evidence and HKDF session key of native and trustzone
// (session.h), in an object of their own: a sancus module, which MACs with
// SpongeWrap (sancus_session.h), does not link them.

#include <string>

#include "platform/session.h"

namespace aex::tee {

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
