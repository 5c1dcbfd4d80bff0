// The native backend's key model, shared by the module's platform layer and
// the deployer's verifier so both sides compute exactly the same values.
//
//   K_m      = HKDF-SHA256(ikm = K_N, salt = "aex/native/v1",
//                          info = measurement || u32 module_id)[0..16)
//   header   = u8 flags || u64 instance_id || random[16]   fresh per attestation
//   evidence = header || HMAC-SHA256(K_m, "aex/native/v2/attest" || u32 module_id
//                                    || header || challenge)
//   K_s      = HKDF-SHA256(ikm = K_m, salt = "aex/native/v2/session",
//                          info = u32 module_id || header || SHA-256(challenge))[0..16)
// (platform.h: HmacEvidence, HkdfSessionKey). K_s, the session key, wraps
// grants and disable; K_m never leaves the two derivations.
//
// Native offers no protection: K_N sits in a file on the node. The protocol
// still runs in full so that a wrong binary, node or module id is caught.

#ifndef AEX_PLATFORM_NATIVE_NATIVE_KEYS_H_
#define AEX_PLATFORM_NATIVE_NATIVE_KEYS_H_

#include "crypto/crypto.h"

namespace aex::tee {

crypto::Key DeriveNativeModuleKey(const crypto::Key& node_key, const crypto::Digest& measurement,
                                  uint32_t module_id);
inline constexpr char kNativeLabel[] = "aex/native/v2";

}  // namespace aex::tee

#endif  // AEX_PLATFORM_NATIVE_NATIVE_KEYS_H_
