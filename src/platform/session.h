// The evidence header and session key of the symmetric backends (native,
// trustzone, sancus), shared by their module-side platforms and the
// deployer's verifier. Its own object: an sgx module (whose session key comes
// from an X25519 agreement, sgx/sgx_keys.h) does not link it.

#ifndef AEX_PLATFORM_SESSION_H_
#define AEX_PLATFORM_SESSION_H_

#include <string_view>

#include "aex/bytes.h"
#include "aex/status.h"
#include "crypto/crypto.h"

namespace aex::tee {

// Evidence header of the symmetric backends (native, trustzone, sancus),
// fresh per Attest: u8 flags || u64 instance_id || random[16] from the
// platform's RNG. The evidence MAC and the session key K_s cover it.
inline constexpr size_t kSessionRandomSize = 16;
inline constexpr size_t kSessionHeaderSize = 1 + 8 + kSessionRandomSize;
Result<Bytes> NewSessionHeader(uint8_t flags, uint64_t instance_id);
// header || HMAC-SHA256(K_m, label || "/attest" || u32 module_id || header || challenge)
Bytes HmacEvidence(std::string_view label, const crypto::Key& module_key, uint32_t module_id,
                   ByteSpan header, ByteSpan challenge);
// K_s = HKDF-SHA256(ikm = K_m, salt = label || "/session",
//                   info = u32 module_id || header || SHA-256(challenge))[0..16)
crypto::Key HkdfSessionKey(std::string_view label, const crypto::Key& module_key,
                           uint32_t module_id, ByteSpan header, ByteSpan challenge);

// The attestation request of the vendor-keyed symmetric backends (sancus,
// trustzone): u16 vendor id (little-endian, as Sancus takes it) || a nonce of
// at least 16 bytes. The vendor id travels with the request as it reaches
// Sancus' protect instruction: from untrusted software, so that a lie only
// yields a key the deployer does not share.
inline bool ParseVendorRequest(ByteSpan request, uint16_t* vendor_id) {
  if (request.size() < 2 + 16) return false;
  *vendor_id = static_cast<uint16_t>(request[0] | request[1] << 8);
  return true;
}

}  // namespace aex::tee

#endif  // AEX_PLATFORM_SESSION_H_
