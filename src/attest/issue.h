// The issuing side of the key grant and disable formats of runtime/channel.h:
// what the deployer and the attestation manager make under a module's key
// K_m. Kept out of the module runtime, which only opens them, so that every
// module's trusted computing base holds no code only issuers need.

#ifndef AEX_ATTEST_ISSUE_H_
#define AEX_ATTEST_ISSUE_H_

#include "runtime/channel.h"

namespace aex::channel {

// The grant blob channel::UnwrapGrant opens (format in runtime/channel.h).
Bytes WrapGrant(crypto::Aead& module_aead, uint32_t module_id, const KeyGrant& grant);
// The disable command channel::OpenDisable opens.
Bytes SealDisable(crypto::Aead& module_aead, uint32_t module_id, uint64_t nonce);

}  // namespace aex::channel

#endif  // AEX_ATTEST_ISSUE_H_
