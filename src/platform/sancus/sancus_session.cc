// The module's side of the Sancus key model (sancus_session.h). K_N, the
// vendor key and K_m's derivation stay in sancus_keys.cc, linked by the
// platform service and the verifier only.

#include "crypto/spongent.h"
#include "platform/sancus/sancus_session.h"

namespace aex::tee {

Bytes SancusEvidence(const crypto::Key& module_key, uint32_t module_id, ByteSpan header,
                     ByteSpan request) {
  ByteWriter w(request.size() + 4 + header.size());
  w.PutBytes(request);
  w.PutU32(module_id);
  w.PutBytes(header);
  auto mac = crypto::SancusMac(module_key, w.bytes());
  Bytes out(header.begin(), header.end());
  out.insert(out.end(), mac.begin(), mac.end());
  return out;
}

crypto::Key SancusSessionKey(const crypto::Key& module_key, uint32_t module_id, ByteSpan header,
                             ByteSpan request) {
  ByteWriter w(64 + request.size());
  w.PutBytes(AsBytes("aex/sancus/v2/session"));
  w.PutU32(module_id);
  w.PutBytes(header);
  w.PutBytes(request);
  return crypto::SancusKdf(module_key, w.bytes());
}

}  // namespace aex::tee
