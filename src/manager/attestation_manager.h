// The attestation manager: what runs inside the manager module (docs/tee.md,
// "Attestation manager"). The deployer attests the manager once and then
// delegates to it the attestation of other modules and the making of their
// key grants.
//
// It runs the same verifiers as the deployer (attest/verifier.h) and writes
// the same key grants (runtime/channel.h). Module keys K_m are made here and
// never leave except inside what they protect: key grants and disable
// commands, which only the module itself can open. A connection key leaves
// only wrapped, or, when the deployer is the connection's source, inside the
// response to the deployer, which the control channel seals.
//
// Commands reach Handle() only as requests on the control connection, which
// the deployer keyed after attesting the manager, so a stranger (or the
// node) can neither read nor forge nor replay them. Handle() still treats
// every byte as hostile: the deployer's relay duties make it parse
// attacker-chosen evidence.
//
// State lives in memory only: when the manager is lost, so are the keys of
// the modules it attested, and the deployer deploys those again.

#ifndef AEX_MANAGER_ATTESTATION_MANAGER_H_
#define AEX_MANAGER_ATTESTATION_MANAGER_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "aex/bytes.h"
#include "aex/status.h"
#include "attest/manager_protocol.h"
#include "attest/verifier.h"

namespace aex::manager {

class AttestationManager {
 public:
  using Logger = std::function<void(const std::string&)>;
  explicit AttestationManager(Logger log) : log_(std::move(log)) {}
  ~AttestationManager();
  AttestationManager(const AttestationManager&) = delete;
  AttestationManager& operator=(const AttestationManager&) = delete;

  // One command (attest/manager_protocol.h) and its encoded response. Never
  // fails: errors travel in the response.
  Bytes Handle(ByteSpan command);

 private:
  struct ManagedModule {
    attest::ModuleClaim claim;
    std::optional<attest::Challenge> pending;  // BEGIN_ATTEST issued, FINISH not yet
    std::optional<crypto::Key> key;            // K_s of the last attestation
    uint64_t nonce = 0;                        // last grant or disable nonce used
  };

  Result<Bytes> Dispatch(ByteSpan command);
  Status Provision(ByteReader& r);
  Result<Bytes> BeginAttest(ByteReader& r);
  // Replies with the attested instance id (u64).
  Result<Bytes> FinishAttest(ByteReader& r);
  Result<Bytes> Grant(ByteReader& r);
  Result<Bytes> Disable(ByteReader& r);

  Result<attest::AttestationTarget> TargetFor(const attest::ModuleClaim& claim) const;
  Result<ManagedModule*> Attested(const std::string& name);

  Logger log_;
  // Trust anchors and node keys per node name, as PROVISION_NODE set them.
  std::map<std::string, attest::AttestationTarget> anchors_;
  std::map<std::string, ManagedModule> modules_;
};

}  // namespace aex::manager

#endif  // AEX_MANAGER_ATTESTATION_MANAGER_H_
