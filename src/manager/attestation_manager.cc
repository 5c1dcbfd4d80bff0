#include "manager/attestation_manager.h"

#include "attest/issue.h"
#include "runtime/channel.h"

namespace aex::manager {
namespace {

void ForgetKey(std::optional<crypto::Key>* key) {
  if (*key) crypto::Wipe(**key);
  key->reset();
}

// Sancus modules speak SPONGENT only, as on the deployer's own path.
std::unique_ptr<crypto::Aead> ModuleCipher(tee::Backend backend, const crypto::Key& key) {
  return channel::NewCipher(
      backend == tee::Backend::kSancus ? channel::Cipher::kSpongent : channel::Cipher::kAes, key);
}

}  // namespace

AttestationManager::~AttestationManager() {
  for (auto& [name, anchor] : anchors_) attest::WipeTarget(&anchor);
  for (auto& [name, m] : modules_) ForgetKey(&m.key);
}

Bytes AttestationManager::Handle(ByteSpan command) {
  auto result = Dispatch(command);
  if (!result.ok()) return attest::EncodeResponse(result.status(), {});
  Bytes out = attest::EncodeResponse(Status::Ok(), *result);
  crypto::Wipe(*result);
  return out;
}

Result<Bytes> AttestationManager::Dispatch(ByteSpan command) {
  ByteReader r(command);
  uint8_t op = 0;
  if (!r.ReadU8(&op)) return InvalidArgument("empty command");
  switch (static_cast<attest::ManagerOp>(op)) {
    case attest::ManagerOp::kProvisionNode:
      AEX_RETURN_IF_ERROR(Provision(r));
      return Bytes();
    case attest::ManagerOp::kBeginAttest: return BeginAttest(r);
    case attest::ManagerOp::kFinishAttest: return FinishAttest(r);
    case attest::ManagerOp::kGrant: return Grant(r);
    case attest::ManagerOp::kDisable: return Disable(r);
  }
  return InvalidArgument("unknown command " + std::to_string(op));
}

Status AttestationManager::Provision(ByteReader& r) {
  std::string node;
  attest::AttestationTarget target;
  Status s = attest::DecodeProvision(r, &node, &target);
  if (!s.ok()) {
    attest::WipeTarget(&target);
    return s;
  }
  auto& slot = anchors_[node];
  attest::WipeTarget(&slot);
  slot = std::move(target);
  log_("provisioned node " + node + " (" + tee::BackendName(slot.backend) + ")");
  return Status::Ok();
}

Result<attest::AttestationTarget> AttestationManager::TargetFor(
    const attest::ModuleClaim& claim) const {
  auto it = anchors_.find(claim.node);
  if (it == anchors_.end()) {
    return FailedPrecondition("node '" + claim.node + "' was not provisioned");
  }
  if (it->second.backend != claim.backend) {
    return FailedPrecondition("node '" + claim.node + "' is a " +
                              tee::BackendName(it->second.backend) + " node, not " +
                              tee::BackendName(claim.backend));
  }
  attest::AttestationTarget target = it->second;
  target.module_id = claim.module_id;
  target.measurement = claim.measurement;
  target.module_name = claim.module;
  return target;
}

Result<Bytes> AttestationManager::BeginAttest(ByteReader& r) {
  attest::ModuleClaim claim;
  AEX_RETURN_IF_ERROR(attest::DecodeBegin(r, &claim));
  AEX_ASSIGN_OR_RETURN(attest::AttestationTarget target, TargetFor(claim));
  auto challenge = attest::NewChallenge(target);
  attest::WipeTarget(&target);
  if (!challenge.ok()) return challenge.status();
  ManagedModule& m = modules_[claim.module];
  if (m.claim.module_id != claim.module_id || m.claim.node != claim.node) {
    // Another instance: its key and its nonces start afresh.
    ForgetKey(&m.key);
    m.nonce = 0;
  }
  m.claim = std::move(claim);
  ByteWriter w(challenge->request.size() + 4);
  w.PutLengthPrefixed(challenge->request);
  m.pending = std::move(*challenge);
  return w.Take();
}

Result<Bytes> AttestationManager::FinishAttest(ByteReader& r) {
  std::string name;
  ByteSpan evidence, request;
  if (!r.ReadString16(&name) || !r.ReadLengthPrefixed(&evidence, attest::kMaxManagerField) ||
      !r.ReadLengthPrefixed(&request, attest::kMaxManagerField) || !r.empty()) {
    return InvalidArgument("malformed FINISH_ATTEST command");
  }
  auto it = modules_.find(name);
  if (it == modules_.end() || !it->second.pending) {
    return FailedPrecondition("no attestation of '" + name + "' is in progress");
  }
  ManagedModule& m = it->second;
  // One answer per challenge, right or wrong: another try needs a new one.
  attest::Challenge challenge = std::move(*m.pending);
  m.pending.reset();
  if (m.claim.backend == tee::Backend::kSgx) {
    // The deployer signed the request the module received; the key exchange
    // stays the manager's own.
    AEX_RETURN_IF_ERROR(attest::AdoptSgxRequest(&challenge, request));
  } else if (!request.empty() && !crypto::Equal(request, challenge.request)) {
    return AuthFailed("the module was sent another challenge than the manager's");
  }
  AEX_ASSIGN_OR_RETURN(attest::AttestationTarget target, TargetFor(m.claim));
  auto session = attest::VerifyEvidence(target, challenge, evidence);
  attest::WipeTarget(&target);
  if (!session.ok()) return session.status();
  // A new session key: its grant nonces start again at 1.
  ForgetKey(&m.key);
  m.key = session->key;
  m.nonce = 0;
  log_("attested " + name + " (module id " + std::to_string(m.claim.module_id) + " on " +
       m.claim.node + ")");
  ByteWriter w(8);
  w.PutU64(session->instance_id);
  return w.Take();
}

Result<AttestationManager::ManagedModule*> AttestationManager::Attested(const std::string& name) {
  auto it = modules_.find(name);
  if (it == modules_.end() || !it->second.key) {
    return FailedPrecondition("module '" + name + "' is not attested by this manager");
  }
  return &it->second;
}

Result<Bytes> AttestationManager::Grant(ByteReader& r) {
  attest::GrantRequest request;
  AEX_RETURN_IF_ERROR(attest::DecodeGrant(r, &request));
  if (request.cipher > static_cast<uint8_t>(channel::Cipher::kSpongent)) {
    return InvalidArgument("unknown cipher " + std::to_string(request.cipher));
  }
  std::vector<ManagedModule*> ends;
  for (const auto& e : request.ends) {
    if (e.role > static_cast<uint8_t>(channel::Role::kHandler)) {
      return InvalidArgument("unknown role " + std::to_string(e.role));
    }
    AEX_ASSIGN_OR_RETURN(ManagedModule * m, Attested(e.module));
    ends.push_back(m);
  }
  crypto::Key conn_key{};
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(conn_key));
  attest::GrantReply reply;
  Status failed;
  for (size_t i = 0; i < ends.size() && failed.ok(); ++i) {
    auto aead = ModuleCipher(ends[i]->claim.backend, *ends[i]->key);
    if (!aead) {
      failed = FailedPrecondition("cipher not available for module " + request.ends[i].module);
      break;
    }
    channel::KeyGrant g{request.conn_id,
                        request.ends[i].io_index,
                        static_cast<channel::Role>(request.ends[i].role),
                        static_cast<channel::Cipher>(request.cipher),
                        ++ends[i]->nonce,
                        conn_key,
                        request.rekey};
    reply.blobs.push_back(channel::WrapGrant(*aead, ends[i]->claim.module_id, g));
    crypto::Wipe(g.key);
  }
  if (failed.ok() && request.deployer_end) reply.key = conn_key;
  crypto::Wipe(conn_key);
  if (!failed.ok()) return failed;
  Bytes body = attest::EncodeGrantReply(reply);
  if (reply.key) crypto::Wipe(*reply.key);
  return body;
}

Result<Bytes> AttestationManager::Disable(ByteReader& r) {
  std::string name;
  if (!r.ReadString16(&name) || !r.empty()) return InvalidArgument("malformed DISABLE command");
  AEX_ASSIGN_OR_RETURN(ManagedModule * m, Attested(name));
  auto aead = ModuleCipher(m->claim.backend, *m->key);
  if (!aead) return FailedPrecondition("cipher not available for module " + name);
  ByteWriter w(64);
  w.PutLengthPrefixed(channel::SealDisable(*aead, m->claim.module_id, ++m->nonce));
  return w.Take();
}

}  // namespace aex::manager
