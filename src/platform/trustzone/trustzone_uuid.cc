// The TA UUID (trustzone_keys.h), the one part of the TrustZone key model a
// TA links: its key derivation runs in the platform service, and printing a
// UUID (UuidString) serves the deployer and tools.

#include <openssl/sha.h>

#include "platform/trustzone/trustzone_uuid.h"

#include "aex/bytes.h"

namespace aex::tee {

Uuid TaUuid(std::string_view module_name) {
  static constexpr uint8_t kNamespace[16] = {0x76, 0xef, 0x74, 0xf9, 0x32, 0x0f, 0x5d, 0x85,
                                             0xb6, 0x4d, 0xee, 0xb2, 0x72, 0xa6, 0x74, 0xc5};
  Bytes in(kNamespace, kNamespace + 16);
  in.insert(in.end(), module_name.begin(), module_name.end());
  uint8_t sha1[SHA_DIGEST_LENGTH];
  SHA1(in.data(), in.size(), sha1);
  Uuid u;
  std::copy(sha1, sha1 + 16, u.begin());
  u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x50);  // version 5
  u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return u;
}

}  // namespace aex::tee
