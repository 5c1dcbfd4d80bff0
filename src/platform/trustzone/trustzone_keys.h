// The TrustZone (OP-TEE) key model, shared by the module's platform layer and
// the deployer's verifier so both sides compute exactly the same values.
//
//   HUK       the node's hardware unique key (its key file, 16 or 32 bytes)
//   K_vendor  = SHA-256(HUK || LE16(vendor_id))      as the original tool does,
//               or the descriptor's vendor_key (32 bytes)
//   TA UUID   = UUIDv5(kTaUuidNamespace, module name)  (RFC 4122 section 4.3)
//   K_m       = HKDF-SHA256(ikm = K_vendor, salt = "aex/trustzone/v1",
//                           info = UUID || measurement || u32 module_id
//                                  || u8 flags)[0..16)
//               flags: the platform's own (kEvidenceSimulated on this
//               simulated platform), fixed by the platform service, never
//               by the TA; the verifier derives K_m with the flags the
//               evidence header claims, so a false claim breaks the MAC
//   header    = u8 flags || u64 instance_id || random[16]  fresh per attestation
//   evidence  = header || HMAC-SHA256(K_m, "aex/trustzone/v2/attest"
//                                     || u32 module_id || header || request)
//   K_s       = HKDF-SHA256(ikm = K_m, salt = "aex/trustzone/v2/session",
//                           info = u32 module_id || header || SHA-256(request))[0..16)
// (platform.h: HmacEvidence, HkdfSessionKey). K_s wraps grants and disable.
//
// kTaUuidNamespace = 76ef74f9-320f-5d85-b64d-eeb272a674c5
//                  = uuid5(NAMESPACE_URL, "urn:aex:trustzone:ta"), so that
//   python3 -c 'import uuid; print(uuid.uuid5(uuid.UUID("76ef74f9-320f-5d85-b64d-eeb272a674c5"), "NAME"))'
// prints a module's TA UUID.

#ifndef AEX_PLATFORM_TRUSTZONE_TRUSTZONE_KEYS_H_
#define AEX_PLATFORM_TRUSTZONE_TRUSTZONE_KEYS_H_

#include <string>

#include "crypto/crypto.h"
#include "platform/trustzone/trustzone_uuid.h"

namespace aex::tee {

std::string UuidString(const Uuid& uuid);
crypto::Digest TrustZoneVendorKey(ByteSpan huk, uint16_t vendor_id);
crypto::Key TrustZoneModuleKey(ByteSpan vendor_key, const Uuid& uuid,
                               const crypto::Digest& measurement, uint32_t module_id,
                               uint8_t flags);

}  // namespace aex::tee

#endif  // AEX_PLATFORM_TRUSTZONE_TRUSTZONE_KEYS_H_
