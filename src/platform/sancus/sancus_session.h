// The part of the Sancus key model (sancus_keys.h) a module links: its
// evidence and session key from K_m. K_m's derivation from K_N is the
// platform service's and the verifier's (sancus_keys.h, _keys.cc).

#ifndef AEX_PLATFORM_SANCUS_SANCUS_SESSION_H_
#define AEX_PLATFORM_SANCUS_SANCUS_SESSION_H_

#include "crypto/crypto.h"

namespace aex::tee {

Bytes SancusEvidence(const crypto::Key& module_key, uint32_t module_id, ByteSpan header,
                     ByteSpan request);
crypto::Key SancusSessionKey(const crypto::Key& module_key, uint32_t module_id, ByteSpan header,
                             ByteSpan request);

}  // namespace aex::tee

#endif  // AEX_PLATFORM_SANCUS_SANCUS_SESSION_H_
