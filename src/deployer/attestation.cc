#include "deployer/attestation.h"

#include "platform/native/native_keys.h"

namespace aex::deploy {

Result<crypto::Key> VerifyNativeEvidence(const AttestationTarget& target, ByteSpan challenge,
                                         ByteSpan evidence) {
  crypto::Key key = tee::DeriveNativeModuleKey(target.node_key, target.measurement,
                                               target.module_id);
  crypto::Digest expected = tee::NativeEvidence(key, target.module_id, challenge);
  if (!crypto::Equal(expected, evidence)) {
    crypto::Wipe(key);
    return AuthFailed(
        "native attestation failed: the module is not the expected binary, on the expected "
        "node, with the expected id");
  }
  return key;
}

Result<crypto::Key> AttestModule(NodeClient& client, const AttestationTarget& target) {
  // A fresh random challenge per attempt makes old evidence worthless.
  uint8_t challenge[32];
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(challenge));
  AEX_ASSIGN_OR_RETURN(Bytes evidence, client.Attest(target.module_id, challenge));
  switch (target.backend) {
    case tee::Backend::kNative: return VerifyNativeEvidence(target, challenge, evidence);
    default:
      return Status(Code::kFailedPrecondition,
                    std::string("no verifier for backend ") + tee::BackendName(target.backend));
  }
}

}  // namespace aex::deploy
