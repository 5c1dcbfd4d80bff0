// Attestation, deployer side: challenge a loaded module through its node,
// verify the evidence against what the deployer expects (backend, node,
// measurement of the binary it built, module id), and only then obtain the
// module key K_m. A module that fails gets no key and hence no connection.

#ifndef AEX_DEPLOYER_ATTESTATION_H_
#define AEX_DEPLOYER_ATTESTATION_H_

#include "crypto/crypto.h"
#include "deployer/node_client.h"
#include "platform/platform.h"

namespace aex::deploy {

struct AttestationTarget {
  tee::Backend backend = tee::Backend::kNative;
  uint32_t module_id = 0;
  crypto::Digest measurement{};  // SHA-256 of the binary the deployer built
  crypto::Key node_key{};        // native: K_N of the node, known to the deployer
};

// Runs the challenge-response and returns K_m on success; kAuthFailed with the
// reason otherwise.
Result<crypto::Key> AttestModule(NodeClient& client, const AttestationTarget& target);

// Verifies native evidence for `challenge` (exposed for tests).
Result<crypto::Key> VerifyNativeEvidence(const AttestationTarget& target, ByteSpan challenge,
                                         ByteSpan evidence);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_ATTESTATION_H_
