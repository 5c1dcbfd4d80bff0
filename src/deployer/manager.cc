// Deployer side of the attestation manager (docs/tee.md, "Attestation
// manager"): the manager is a module of the deployment (builder.cc adds it);
// the deployer attests it like any module, keys a direct request connection
// to it, provisions it with the nodes' trust anchors and node keys, and from
// then on asks it to attest the other modules and to make their key grants.
// The deployer relays challenges, evidence and grants between nodes and the
// manager but never holds those modules' keys.

#include "attest/manager_protocol.h"
#include "deployer/attestation.h"
#include "deployer/deployer.h"
#include "deployer/node_client.h"

namespace aex::deploy {

bool Deployer::IsManaged(const std::string& module) const {
  return descriptor_.manager_spec && module != descriptor_.manager_spec->name;
}

Result<Bytes> Deployer::ManagerCall(const Bytes& command) {
  // The manager answers one request at a time, and the control
  // connection's counters must reach it in order.
  std::lock_guard<std::mutex> lock(manager_mu_);
  auto response = Request(ManagerControl(*descriptor_.manager_spec), command);
  if (!response.ok()) {
    return Status(response.status().code(),
                  "attestation manager: " + response.status().message());
  }
  auto body = attest::DecodeResponse(*response);
  crypto::Wipe(*response);
  return body;
}

Status Deployer::PrepareManager(const std::set<std::string>& nodes) {
  const ManagerSpec& spec = *descriptor_.manager_spec;
  const Module& manager = *descriptor_.FindModule(spec.name);
  AEX_RETURN_IF_ERROR(AttestOne(manager));
  const Connection& control = *descriptor_.FindConnection(ManagerControl(spec));
  bool keyed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    keyed = direct_.count(control.name) != 0;
  }
  if (!keyed) {
    // Re-keyed in every run: a restored state file cannot make a command,
    // PROVISION included, go out under a (key, nonce) used before.
    AEX_RETURN_IF_ERROR(EnsureDirect(control));
    Progress("  connect   " + control.name + "  deployer -> " + spec.name +
             " (control connection)");
  }
  // The manager keeps anchors in memory only, so they are sent whenever
  // there is something to attest; the command replaces what it had.
  for (const std::string& name : nodes) {
    const Node& node = *descriptor_.FindNode(name);
    Module as_module;  // FillAttestationTarget reads the backend from a module
    as_module.type = node.type;
    AttestationTarget target;
    Status filled = FillAttestationTarget(descriptor_, node, as_module, &target);
    if (!filled.ok()) {
      WipeTarget(&target);
      return WithContext("provision the attestation manager", filled);
    }
    if (!target.signer_pem.empty()) {
      // The manager gets the signer's public key only; the deployer signs.
      auto spki = attest::SignerSpki(target.signer_pem);
      if (!spki.ok()) {
        WipeTarget(&target);
        return WithContext("provision the attestation manager", spki.status());
      }
      target.signer_spki = *spki;
      crypto::Wipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(target.signer_pem.data()),
                                      target.signer_pem.size()));
      target.signer_pem.clear();
    }
    Bytes command = attest::EncodeProvision(name, target);
    WipeTarget(&target);
    auto done = ManagerCall(command);
    crypto::Wipe(command);
    if (!done.ok()) return WithContext("provision node '" + name + "'", done.status());
  }
  Progress("  manager   " + spec.name + "  provisioned for " + std::to_string(nodes.size()) +
           " node(s)");
  return Status::Ok();
}

Status Deployer::AttestViaManager(const Module& m, uint32_t id,
                                  const crypto::Digest& measurement) {
  attest::ModuleClaim claim{m.name, m.node, m.type, id, measurement};
  AEX_ASSIGN_OR_RETURN(Bytes body, ManagerCall(attest::EncodeBegin(claim)));
  ByteReader r(body);
  ByteSpan request;
  if (!r.ReadLengthPrefixed(&request, attest::kMaxManagerField) || !r.empty()) {
    return Status(Code::kProtocol, "malformed BEGIN_ATTEST reply from the attestation manager");
  }
  // The deployer only relays: the challenge and the evidence are checked by
  // the manager, and the key they establish stays there.
  Bytes sent(request.begin(), request.end());
  if (m.type == Backend::kSgx) {
    // The deployer alone holds the enclave signing key: it signs the request.
    AEX_ASSIGN_OR_RETURN(std::string signer, LoadOrCreateSgxSigner(SgxSignerPath(descriptor_)));
    auto signed_request = attest::CompleteSgxRequest(signer, id, request);
    crypto::Wipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(signer.data()), signer.size()));
    if (!signed_request.ok()) return signed_request.status();
    sent = std::move(*signed_request);
  }
  AEX_ASSIGN_OR_RETURN(auto client, ClientFor(*descriptor_.FindNode(m.node)));
  AEX_ASSIGN_OR_RETURN(Bytes evidence, client->Attest(id, sent));
  AEX_ASSIGN_OR_RETURN(Bytes finished, ManagerCall(attest::EncodeFinish(m.name, evidence, sent)));
  ByteReader fr(finished);
  uint64_t instance = 0;
  if (!fr.ReadU64(&instance) || !fr.empty() || instance == 0) {
    return Status(Code::kProtocol, "malformed FINISH_ATTEST reply from the attestation manager");
  }
  std::lock_guard<std::mutex> lock(mu_);
  ModuleState& ms = state_file_->state().modules[m.name];
  if (ms.instance != 0 && ms.instance != instance) MarkInstanceChanged(m.name);
  ms.instance = instance;
  ms.by_manager = true;
  sessions_.erase(m.name);
  return Status::Ok();
}

void Deployer::ForgetManagedModules() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, ms] : state_file_->state().modules) {
    if (!ms.by_manager) continue;
    // Deploy sees a changed measurement: it unloads the instance (if it still
    // runs) and loads a new one, which the new manager then attests.
    ms.by_manager = false;
    ms.instance = 0;
    ms.measurement.clear();
  }
}

}  // namespace aex::deploy
