// The module's side of the Sancus key model (sancus_session.h). K_N, the
// vendor key and K_m's derivation stay in sancus_keys.cc, linked by the
// platform service and the verifier only.

#include <string_view>

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
  // The label starts the buffer by construction: GCC 12 at -O3 misreports
  // appending to a writer that begins with a literal (-Wstringop-overflow).
  static constexpr std::string_view kLabel = "aex/sancus/v2/session";
  ByteWriter tail(4 + header.size() + request.size());
  tail.PutU32(module_id);
  tail.PutBytes(header);
  tail.PutBytes(request);
  Bytes input(kLabel.begin(), kLabel.end());
  input.insert(input.end(), tail.bytes().begin(), tail.bytes().end());
  return crypto::SancusKdf(module_key, input);
}

}  // namespace aex::tee
