// The native backend's key model, shared by the module's platform layer and
// the deployer's verifier so both sides compute exactly the same values.
//
//   K_m      = HKDF-SHA256(ikm = K_N, salt = "aex/native/v1",
//                          info = measurement || u32 module_id)[0..16)
//   evidence = HMAC-SHA256(K_m, "aex/native/attest" || u32 module_id || challenge)
//
// Native offers no protection: K_N sits in a file on the node. The protocol
// still runs in full so that a wrong binary, node or module id is caught.

#ifndef AEX_PLATFORM_NATIVE_NATIVE_KEYS_H_
#define AEX_PLATFORM_NATIVE_NATIVE_KEYS_H_

#include "crypto/crypto.h"

namespace aex::tee {

crypto::Key DeriveNativeModuleKey(const crypto::Key& node_key, const crypto::Digest& measurement,
                                  uint32_t module_id);
crypto::Digest NativeEvidence(const crypto::Key& module_key, uint32_t module_id,
                              ByteSpan challenge);

}  // namespace aex::tee

#endif  // AEX_PLATFORM_NATIVE_NATIVE_KEYS_H_
