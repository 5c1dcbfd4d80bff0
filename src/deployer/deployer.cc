#include "deployer/deployer.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "attest/manager_protocol.h"
#include "deployer/attestation.h"
#include "deployer/interrupt.h"
#include "deployer/node_client.h"
#include "deployer/suggest.h"
#include "attest/issue.h"
#include "runtime/channel.h"

namespace aex::deploy {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

channel::Cipher CipherOf(Encryption e) {
  return e == Encryption::kSpongent ? channel::Cipher::kSpongent : channel::Cipher::kAes;
}

// One progress line: "  deploy   ping          module id 3 on node1  (0.012 s)".
std::string ProgressLine(const std::string& step, const std::string& what,
                         const std::string& detail, double seconds) {
  char line[512];
  snprintf(line, sizeof line, "  %-9s %-20s %s", step.c_str(), what.c_str(), detail.c_str());
  std::string out = line;
  if (seconds > 0) {
    snprintf(line, sizeof line, "  (%.3f s)", seconds);
    out += line;
  }
  return out;
}

}  // namespace

Deployer::Deployer(DeployerOptions options, Descriptor d,
                   std::map<std::string, gen::ModuleManifest> m, std::unique_ptr<StateFile> state,
                   NodeDialer dialer)
    : options_(std::move(options)),
      descriptor_(std::move(d)),
      manifests_(std::move(m)),
      state_file_(std::move(state)),
      dialer_(std::move(dialer)),
      sdk_(Sdk::Default()) {}

static Result<std::pair<Descriptor, std::map<std::string, gen::ModuleManifest>>> LoadChecked(
    const fs::path& path) {
  AEX_ASSIGN_OR_RETURN(Descriptor d, LoadDescriptor(path));
  if (d.manager_spec) AEX_RETURN_IF_ERROR(AddManager(&d, Sdk::Default()));
  AEX_RETURN_IF_ERROR(ValidateDescriptor(d));
  AEX_ASSIGN_OR_RETURN(auto manifests, ScanModules(d));
  AEX_RETURN_IF_ERROR(ValidateAgainstManifests(d, manifests));
  return std::make_pair(std::move(d), std::move(manifests));
}

Status Deployer::Validate(const fs::path& descriptor) {
  AEX_ASSIGN_OR_RETURN(auto loaded, LoadChecked(descriptor));
  return CheckReadyToRun(loaded.first);
}

namespace {

// 16 random bytes as hex: unique per deployment, so that two deployments
// sharing a node never take each other's modules for strays.
Result<std::string> NewDeploymentTag() {
  uint8_t raw[kDeploymentTagBytes];
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(raw));
  return HexEncode(raw);
}

// Test builds only (AEX_TEST_HOOKS): AEX_TEST_KILL_AFTER_LOAD=1 makes the
// deployer die by SIGKILL right after its first LOAD succeeded, before the
// module's id is recorded, as an operator's kill -9 at the worst moment
// would (tests/deployer/orphan_test.sh).
void MaybeStopAfterLoadForTest() {
#ifdef AEX_TEST_HOOKS
  const char* hook = std::getenv("AEX_TEST_KILL_AFTER_LOAD");
  if (hook != nullptr && std::string(hook) == "1") raise(SIGKILL);
#endif
}

// An unreadable state file must not leave the operator stuck: say how to
// recover (`aex reset` needs only the descriptor and moves the file aside).
Status WithRecoveryHint(const Status& s, const DeployerOptions& o, bool custom_state) {
  if (s.message().find(kCorruptStateMessage) == std::string::npos) return s;
  const std::string command = std::string("aex ") +
                              (custom_state ? "--state " + o.state_file.string() + " " : "") +
                              "reset " + o.descriptor.string();
  return Status(s.code(), s.message() + "\nTo recover, run `" + command +
                              "`: it resets every node the descriptor names (unloading all their "
                              "modules) and moves the corrupt file aside to " +
                              o.state_file.string() + ".corrupt-<time>; then run `aex up` again.");
}

}  // namespace

Result<std::unique_ptr<Deployer>> Deployer::Open(DeployerOptions options) {
  AEX_ASSIGN_OR_RETURN(auto loaded, LoadChecked(options.descriptor));
  fs::path dir = loaded.first.base_dir / ".aex";
  const bool custom_state = !options.state_file.empty();
  if (!custom_state) {
    options.state_file = dir / (options.descriptor.stem().string() + ".state.json");
  }
  if (options.cache_dir.empty()) options.cache_dir = dir / "build";
  std::error_code ec;
  fs::create_directories(options.state_file.parent_path(), ec);
  fs::create_directories(options.cache_dir, ec);
  if (options.jobs == 0) options.jobs = std::max(1u, std::thread::hardware_concurrency());
  auto state = StateFile::Open(
      options.state_file,
      options.recover_state ? CorruptState::kMoveAside : CorruptState::kRefuse,
      options.read_only ? StateLock::kNone : StateLock::kExclusive);
  if (!state.ok()) return WithRecoveryHint(state.status(), options, custom_state);
  if (!(*state)->moved_aside().empty() && options.progress) {
    options.progress((*state)->corruption() + "; moved it to " +
                     (*state)->moved_aside().string() + " and starting from the descriptor");
  }
  ApplyMoves(&loaded.first, (*state)->state());  // modules moved by aex update --node
  // Creates the deployment's TLS material on first use (node_tls.h).
  AEX_ASSIGN_OR_RETURN(NodeDialer dialer, NodeDialer::ForDeployment(loaded.first));
  auto deployer = std::unique_ptr<Deployer>(new Deployer(std::move(options),
                                                         std::move(loaded.first),
                                                         std::move(loaded.second),
                                                         std::move(*state), std::move(dialer)));
  deployer->custom_state_ = custom_state;
  return deployer;
}

void Deployer::Progress(const std::string& line) {
  if (!options_.progress) return;
  std::lock_guard<std::mutex> lock(mu_);
  options_.progress(line);
}

Status Deployer::ForEach(size_t count, unsigned jobs, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::vector<Status> results(count);
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < std::min<size_t>(jobs, count); ++w) {
    workers.emplace_back([&] {
      // After an interrupt (interrupt.h) no unit starts: the step fails and
      // its caller saves the state as after any error.
      for (size_t i; (i = next.fetch_add(1)) < count;) {
        results[i] = Interrupted() ? InterruptedError() : fn(i);
      }
    });
  }
  for (auto& t : workers) t.join();
  std::string errors;
  Code code = Code::kOk;
  for (const auto& r : results) {
    if (r.ok()) continue;
    if (code == Code::kOk) code = r.code();
    errors += (errors.empty() ? "" : "\n") + r.message();
  }
  return code == Code::kOk ? Status::Ok() : Status(code, errors);
}

Status Deployer::SaveAfter(Status step) {
  Status saved = state_file_->Save();
  return step.ok() ? saved : step;
}

Result<std::unique_ptr<NodeClient>> Deployer::ClientFor(const Node& node) {
  auto client = dialer_.Connect(node);
  if (!client.ok()) return WithContext("node '" + node.name + "'", client.status());
  return client;
}

uint16_t Deployer::IndexOf(const Module& m, gen::IoKind kind, const IoRef& ref) const {
  if (ref.index) return *ref.index;
  // Validated against the manifest at Open, so the name exists.
  return manifests_.at(m.name).IndexOf(kind, ref.name).value_or(0);
}

std::string Deployer::CommandLine(const std::string& command) const {
  return "aex " +
         (custom_state_ ? "--state " + options_.state_file.string() + " " : std::string()) +
         command + " " + options_.descriptor.string();
}

Status Deployer::WaitForNodes() {
  auto deadline = Clock::now() + options_.node_wait;
  std::atomic<bool> refused{false};
  return ForEach(descriptor_.nodes.size(), 64, [&](size_t i) -> Status {
    const Node& n = descriptor_.nodes[i];
    const std::string address = n.host + ":" + std::to_string(n.reactive_port);
    char limit[32];
    snprintf(limit, sizeof limit, "%g s", static_cast<double>(options_.node_wait.count()) / 1000);
    for (bool said = false;; said = true) {
      auto c = ClientFor(n);
      if (c.ok()) {
        if (said) Progress(ProgressLine("wait", n.name, "answers at " + address, 0));
        return Status::Ok();
      }
      // Another node answers on the port (NodeDialer): waiting will not
      // help, for this node or the others.
      if (c.status().code() == Code::kPermissionDenied) {
        refused = true;
        return c.status();
      }
      if (!said) {
        Progress(ProgressLine("wait", n.name,
                              "waiting for node '" + n.name + "' at " + address + " (up to " +
                                  limit + ")",
                              0));
      }
      if (refused) return c.status();
      if (Clock::now() > deadline) {
        const std::string hint =
            IsLoopbackHost(n.host)
                ? "is it running? `" + CommandLine("nodes start") + "` starts the local nodes"
                : "is aex-node running on " + n.host + "?";
        return Status(c.status().code(), c.status().message() + " (waited " + limit + "); " +
                                             hint);
      }
      if (Interrupted()) return InterruptedError();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

Status Deployer::Build(const std::string& only) {
  auto start = Clock::now();
  Status s = ForEach(descriptor_.modules.size(), options_.jobs, [&](size_t i) -> Status {
    const Module& m = descriptor_.modules[i];
    if (!only.empty() && m.name != only) return Status::Ok();
    auto t0 = Clock::now();
    auto built = BuildModule(descriptor_, m, sdk_, options_.cache_dir);
    if (!built.ok()) return WithContext("build '" + m.name + "'", built.status());
    Progress(ProgressLine("build", m.name, built->cached ? "cached" : "built", Seconds(t0)));
    std::lock_guard<std::mutex> lock(mu_);
    built_[m.name] = std::move(*built);
    return Status::Ok();
  });
  timings_["build"] = Seconds(start);
  return s;
}

// Reconcilable loads (docs/reliability.md): the intent to load is saved
// before any LOAD goes out, every LOAD carries the deployment's tag, and
// tagged modules the state does not account for (left by a run killed
// between a LOAD and its save) are unloaded before loading anew.
Status Deployer::PrepareLoads(const std::string& only,
                              const std::function<bool(const std::string&, uint32_t)>& running) {
  DeploymentState& st = state_file_->state();
  if (st.deployment_tag.empty()) {
    AEX_ASSIGN_OR_RETURN(st.deployment_tag, NewDeploymentTag());
  }
  for (const Module& m : descriptor_.modules) {
    if (!only.empty() && m.name != only) continue;
    // The same test as Deploy's for an instance it keeps.
    auto it = st.modules.find(m.name);
    const bool kept = it != st.modules.end() && it->second.id != 0 && it->second.node == m.node &&
                      it->second.measurement == HexEncode(built_.at(m.name).measurement) &&
                      running(m.node, it->second.id);
    if (!kept) st.loading[m.name] = m.node;
  }
  AEX_RETURN_IF_ERROR(WithContext("record the load intents", state_file_->Save()));
  if (Status strays = UnloadStrays(); !strays.ok()) {
    Progress("aex: warning: could not check every node for stray modules: " + strays.message());
  }
  return Status::Ok();
}

Status Deployer::Deploy(const std::string& only) {
  AEX_RETURN_IF_ERROR(Build(only));
  auto start = Clock::now();
  // What each node has loaded now: a node that restarted has lost its modules.
  std::map<std::string, json> loaded;
  for (const auto& n : descriptor_.nodes) {
    auto c = ClientFor(n);
    if (!c.ok()) continue;
    auto st = (*c)->NodeStatus();
    if (st.ok()) loaded[n.name] = json::parse(*st, nullptr, false);
  }
  // Running, and (when attested) still the instance the deployer attested:
  // *changed is set for a module restarted behind the deployer's back.
  auto is_running = [&](const std::string& node, uint32_t id, uint64_t instance = 0,
                        bool* changed = nullptr) {
    auto it = loaded.find(node);
    if (it == loaded.end() || !it->second.contains("modules")) return false;
    for (const auto& m : it->second["modules"]) {
      if (m.value("id", 0u) != id || m.value("state", "") != "running") continue;
      uint64_t live = m.contains("stats") ? m["stats"].value("instance_id", uint64_t{0}) : 0;
      if (changed) *changed = instance != 0 && live != 0 && live != instance;
      return true;
    }
    return false;
  };
  if (const ManagerSpec* spec = descriptor_.manager_spec ? &*descriptor_.manager_spec : nullptr;
      spec && (only.empty() || only == spec->name)) {
    // A manager that is (re)loaded starts with no keys: the modules it
    // attested are deployed again too.
    auto it = state_file_->state().modules.find(spec->name);
    bool changed = false;
    bool kept = it != state_file_->state().modules.end() && it->second.id != 0 &&
                it->second.node == spec->node &&
                it->second.measurement == HexEncode(built_.at(spec->name).measurement) &&
                is_running(spec->node, it->second.id, it->second.instance, &changed) &&
                !changed;
    if (!kept) ForgetManagedModules();
  }
  AEX_RETURN_IF_ERROR(PrepareLoads(only, is_running));
  Status s = ForEach(descriptor_.modules.size(), options_.jobs * 4, [&](size_t i) -> Status {
    const Module& m = descriptor_.modules[i];
    if (!only.empty() && m.name != only) return Status::Ok();
    const BuiltModule& b = built_.at(m.name);
    std::string measurement = HexEncode(b.measurement);
    if (m.preinstalled()) {
      auto status = loaded.find(m.node);
      return AdoptPreinstalled(m, b, status == loaded.end() ? json() : status->second);
    }
    std::optional<ModuleState> previous;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& st = state_file_->state().modules;
      auto it = st.find(m.name);
      if (it != st.end() && it->second.id != 0) {
        bool changed = false;
        if (it->second.node == m.node && it->second.measurement == measurement &&
            is_running(m.node, it->second.id, it->second.instance, &changed)) {
          if (!changed) return Status::Ok();  // already deployed, unchanged, still running
          // Restarted behind the deployer's back: attest it again and give
          // every connection touching it fresh keys.
          it->second.instance = 0;
          it->second.by_manager = false;
          sessions_.erase(m.name);
          MarkInstanceChanged(m.name);
          if (options_.progress) {
            options_.progress(ProgressLine("restart", m.name, "instance changed: needs attestation", 0));
          }
          return Status::Ok();
        }
        if (is_running(it->second.node, it->second.id)) previous = it->second;
      }
    }
    auto t0 = Clock::now();
    if (previous) {
      // The sources changed: the old instance goes (it would otherwise keep
      // running with stale connections). `aex update` replaces a module
      // without losing events; `up` simply redeploys it.
      if (const Node* old_node = descriptor_.FindNode(previous->node)) {
        AEX_ASSIGN_OR_RETURN(auto old_client, ClientFor(*old_node));
        Status st = old_client->Unload(previous->id);
        if (!st.ok() && st.code() != Code::kNotFound) {
          return WithContext("unload old instance of '" + m.name + "'", st);
        }
        // ForgetManagedModules clears the measurement of what a lost
        // attestation manager had attested.
        Progress(ProgressLine("replace", m.name,
                              "old instance " + std::to_string(previous->id) + " unloaded (" +
                                  (previous->measurement.empty()
                                       ? "its attestation manager was replaced"
                                       : "sources changed") +
                                  ")",
                              0));
      }
    }
    const Node& node = *descriptor_.FindNode(m.node);
    AEX_ASSIGN_OR_RETURN(auto client, ClientFor(node));
    AEX_ASSIGN_OR_RETURN(Bytes image, ReadModuleBinary(b.binary));
    AEX_ASSIGN_OR_RETURN(Bytes sigstruct, SigstructFor(descriptor_, m, b.measurement));
    auto id = client->LoadModule(m.name, static_cast<uint8_t>(m.type), m.device.value_or(""),
                                 image, state_file_->state().deployment_tag, sigstruct);
    if (!id.ok()) return WithContext("deploy '" + m.name + "'", id.status());
    MaybeStopAfterLoadForTest();
    {
    std::lock_guard<std::mutex> lock(mu_);
    state_file_->state().loading.erase(m.name);
    ModuleState& ms = state_file_->state().modules[m.name];
    ms = ModuleState{m.node, *id, b.binary.string(), measurement, 0, false};
    ForgetLinksOf(m.name);
    }
    Progress(ProgressLine("deploy", m.name, "module id " + std::to_string(*id) + " on " + m.node,
                          Seconds(t0)));
    return Status::Ok();
  });
  timings_["deploy"] = Seconds(start);
  return SaveAfter(s);
}

// A new instance has no session and no connections yet: every connection
// touching it and every periodic event on it must be set up again.
void Deployer::ForgetLinksOf(const std::string& module) {
  sessions_.erase(module);
  for (const auto& c : descriptor_.connections) {
    if (c.from_module == module || c.to_module == module) {
      state_file_->state().connections[c.name].established = false;
    }
  }
  for (const auto& e : descriptor_.periodic_events) {
    if (e.module == module) state_file_->state().events[e.name].registered = false;
  }
}

// A pre-installed module is not loaded: the node runs it already (aex-node
// --preinstall), and the deployer records the id the node gave it, to
// attest and connect it like any other.
Status Deployer::AdoptPreinstalled(const Module& m, const BuiltModule& b,
                                   const json& node_status) {
  std::optional<uint32_t> id;
  if (node_status.is_object() && node_status.contains("modules")) {
    for (const auto& entry : node_status["modules"]) {
      if (entry.value("name", "") == m.name && entry.value("state", "") == "running") {
        id = entry.value("id", 0u);
      }
    }
  }
  if (!id || *id == 0) {
    return FailedPrecondition("pre-installed module '" + m.name + "' is not running on node '" +
                              m.node + "' (start the node with --preinstall " + m.name +
                              "=<binary>; `aex nodes start` does so with the module's 'binary')");
  }
  const std::string measurement = HexEncode(b.measurement);
  std::lock_guard<std::mutex> lock(mu_);
  state_file_->state().loading.erase(m.name);
  ModuleState& ms = state_file_->state().modules[m.name];
  if (ms.id == *id && ms.node == m.node && ms.measurement == measurement) return Status::Ok();
  ms = ModuleState{m.node, *id, b.binary.string(), measurement, 0, false};
  ForgetLinksOf(m.name);
  Progress(ProgressLine("deploy", m.name,
                        "pre-installed: module id " + std::to_string(*id) + " on " + m.node, 0));
  return Status::Ok();
}

Status Deployer::AttestOne(const Module& m, bool again, Bytes* evidence) {
  AttestationTarget target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& st = state_file_->state().modules;
    auto it = st.find(m.name);
    if (it == st.end() || it->second.id == 0) {
      return FailedPrecondition("attest '" + m.name + "': module is not deployed");
    }
    if (it->second.attested() && !again) return Status::Ok();
    target.module_id = it->second.id;
    Bytes digest;
    if (!HexDecode(it->second.measurement, &digest) || digest.size() != 32) {
      return Internal("bad measurement in state for " + m.name);
    }
    std::copy(digest.begin(), digest.end(), target.measurement.begin());
  }
  if (m.expected_measurement && !crypto::Equal(*m.expected_measurement, target.measurement)) {
    return AuthFailed("attest '" + m.name + "': built binary does not match "
                      "expected_measurement");
  }
  auto t0 = Clock::now();
  if (IsManaged(m.name)) {
    AEX_RETURN_IF_ERROR(WithContext("attest '" + m.name + "'",
                                    AttestViaManager(m, target.module_id, target.measurement)));
    Progress(ProgressLine("attest", m.name, "verified by the attestation manager", Seconds(t0)));
    return Status::Ok();
  }
  const Node& node = *descriptor_.FindNode(m.node);
  Status filled = FillAttestationTarget(descriptor_, node, m, &target);
  auto client = filled.ok() ? ClientFor(node) : Result<std::unique_ptr<NodeClient>>(filled);
  if (!client.ok()) {
    WipeTarget(&target);
    return WithContext("attest '" + m.name + "'", client.status());
  }
  auto session = AttestModule(**client, target, evidence);
  WipeTarget(&target);
  if (!session.ok()) return WithContext("attest '" + m.name + "'", session.status());
  AEX_RETURN_IF_ERROR(CheckManagerProtection(m, *session));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ModuleState& ms = state_file_->state().modules[m.name];
    if (ms.instance != 0 && ms.instance != session->instance_id) MarkInstanceChanged(m.name);
    ms.instance = session->instance_id;
    ms.by_manager = false;
    RunSession& rs = sessions_[m.name];
    rs.key = session->key;
    rs.nonce = 0;  // a fresh K_s: grants count from 1 again
  }
  Progress(ProgressLine("attest", m.name, "verified", Seconds(t0)));
  return Status::Ok();
}

Status Deployer::CheckManagerProtection(const Module& m, const attest::Session& session) const {
  const ManagerSpec* spec = descriptor_.manager_spec ? &*descriptor_.manager_spec : nullptr;
  if (!spec || m.name != spec->name || spec->allow_unprotected) return Status::Ok();
  if (m.type != Backend::kNative && !(session.flags & tee::kEvidenceSimulated)) {
    return Status::Ok();
  }
  return Status(Code::kPermissionDenied,
                "attest '" + m.name + "': the attestation manager would receive every node's "
                "trust anchors and keys on node '" + spec->node + "', whose platform is " +
                (m.type == Backend::kNative ? "native (no TEE)" : "simulated (its evidence says so)") +
                " and does not protect it; set `allow_unprotected: true` under `manager:` to "
                "accept that explicitly");
}

void Deployer::MarkInstanceChanged(const std::string& module) {
  for (const auto& c : descriptor_.connections) {
    if (c.from_module == module || c.to_module == module) {
      state_file_->state().connections[c.name].established = false;
      direct_.erase(c.name);
    }
  }
  // Registered at the node for the old instance, which may be gone with it.
  for (const auto& e : descriptor_.periodic_events) {
    if (e.module == module) state_file_->state().events[e.name].registered = false;
  }
}

Status Deployer::NewConnectionKey(const Connection& c, uint32_t conn_id, crypto::Key* key) {
  uint8_t salt[16];
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(salt));
  if (!c.key || c.key->size() != crypto::kKeySize) return crypto::RandomBytes(*key);
  // A descriptor-fixed key would repeat (key, counter) on every
  // re-establishment: it only seeds a derivation with a fresh salt.
  Progress("  warning   connection '" + c.name + "': its fixed `key` is only an input to a "
           "per-establishment key derivation (fresh random salt); it is never used directly");
  uint8_t info[4 + 15];
  StoreU32(info, conn_id);
  std::copy_n("aex/conn-key/v1", 15, info + 4);
  return crypto::Hkdf(*c.key, salt, ByteSpan(info, sizeof info), *key);
}

Result<uint64_t> Deployer::NextGrant(const Module& m, crypto::Key* key) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = sessions_.find(m.name);
      if (it != sessions_.end()) {
        *key = it->second.key;
        return ++it->second.nonce;
      }
    }
    AEX_RETURN_IF_ERROR(AttestOne(m, /*again=*/true));
  }
  return Internal("no session with '" + m.name + "' after attesting it");
}

Status Deployer::AttestForEvidence(const std::string& module, Bytes* evidence) {
  const Module* m = descriptor_.FindModule(module);
  if (m == nullptr) return NotFound("no module '" + module + "' in the descriptor");
  if (IsManaged(module)) {
    return FailedPrecondition("attest '" + module + "': this run attests it through the "
                              "attestation manager, whose evidence the deployer never sees; "
                              "run without --manager to save its evidence");
  }
  return SaveAfter(AttestOne(*m, /*again=*/true, evidence));
}

Status Deployer::Attest(const std::string& only) {
  auto start = Clock::now();
  // With a manager, it is attested first and learns the nodes' trust
  // anchors; then it attests the others, concurrently with each other.
  std::set<std::string> managed_nodes;
  for (const Module& m : descriptor_.modules) {
    if ((!only.empty() && m.name != only) || !IsManaged(m.name)) continue;
    auto it = state_file_->state().modules.find(m.name);
    if (it == state_file_->state().modules.end() || !it->second.attested()) {
      managed_nodes.insert(m.node);
    }
  }
  if (!managed_nodes.empty()) {
    Status s = PrepareManager(managed_nodes);
    if (!s.ok()) {
      timings_["attest"] = Seconds(start);
      return SaveAfter(s);
    }
  }
  Status s = ForEach(descriptor_.modules.size(), options_.jobs * 4, [&](size_t i) -> Status {
    const Module& m = descriptor_.modules[i];
    if (!only.empty() && m.name != only) return Status::Ok();
    return AttestOne(m);
  });
  timings_["attest"] = Seconds(start);
  return SaveAfter(s);
}

Status Deployer::EstablishConnection(const Connection& c) {
  // The ends that get a key grant, the receiving end first: it must hold the
  // key before the sender can emit.
  struct End {
    const Module* module;
    channel::Role role;
    uint16_t index;
    ModuleState state;
  };
  std::vector<End> ends;
  const Module* to = descriptor_.FindModule(c.to_module);
  const Module* from = c.direct ? nullptr : descriptor_.FindModule(c.from_module);
  const bool to_handler = c.to_handler.has_value();
  ends.push_back({to, to_handler ? channel::Role::kHandler : channel::Role::kInput,
                  IndexOf(*to, to_handler ? gen::IoKind::kHandler : gen::IoKind::kInput,
                          to_handler ? *c.to_handler : *c.to_input),
                  {}});
  if (from) {
    const bool request = c.from_request.has_value();
    ends.push_back({from, request ? channel::Role::kRequest : channel::Role::kOutput,
                    IndexOf(*from, request ? gen::IoKind::kRequest : gen::IoKind::kOutput,
                            request ? *c.from_request : *c.from_output),
                    {}});
  }
  uint32_t conn_id;
  size_t managed = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& st = state_file_->state();
    auto& cs = st.connections[c.name];
    if (cs.id == 0) cs.id = st.next_connection_id++;
    conn_id = cs.id;
    for (End& e : ends) {
      // The deployer attests its own modules on demand (NextGrant); a
      // manager's must have been attested by the manager.
      auto it = st.modules.find(e.module->name);
      bool managed_end = IsManaged(e.module->name);
      if (it == st.modules.end() || it->second.id == 0 ||
          (managed_end && !it->second.by_manager)) {
        return FailedPrecondition("connect '" + c.name + "': module '" + e.module->name +
                                  "' is not " + (managed_end ? "attested" : "deployed"));
      }
      e.state = it->second;
      managed += managed_end ? 1 : 0;
    }
  }
  if (managed != 0 && managed != ends.size()) {
    return FailedPrecondition("connect '" + c.name + "': one end was attested by the "
                              "attestation manager and the other by the deployer; attest both "
                              "the same way (aex down, then aex up)");
  }
  // A module accepts only increasing grant nonces, so the grants for one
  // module go out one at a time, in nonce order, even when connections are
  // set up concurrently. Locks are taken in name order: no deadlock.
  std::vector<std::string> names;
  for (const End& e : ends) names.push_back(e.module->name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::vector<std::unique_lock<std::mutex>> held;
  for (const auto& n : names) held.emplace_back(*GrantLock(n));

  crypto::Key conn_key{};
  std::vector<Bytes> blobs;
  if (managed != 0) {
    attest::GrantRequest request{conn_id, static_cast<uint8_t>(CipherOf(c.encryption)), false,
                                 c.direct, {}};
    for (const End& e : ends) {
      request.ends.push_back({e.module->name, e.index, static_cast<uint8_t>(e.role)});
    }
    AEX_ASSIGN_OR_RETURN(Bytes body, ManagerCall(attest::EncodeGrant(request)));
    auto reply = attest::DecodeGrantReply(body, ends.size(), c.direct);
    crypto::Wipe(body);
    if (!reply.ok()) return WithContext("connect '" + c.name + "'", reply.status());
    blobs = std::move(reply->blobs);
    if (reply->key) conn_key = *reply->key;
    if (reply->key) crypto::Wipe(*reply->key);
  } else {
    AEX_RETURN_IF_ERROR(NewConnectionKey(c, conn_id, &conn_key));
    for (End& e : ends) {
      crypto::Key session{};
      auto nonce = NextGrant(*e.module, &session);
      if (!nonce.ok()) {
        crypto::Wipe(conn_key);
        return WithContext("connect '" + c.name + "'", nonce.status());
      }
      {
        std::lock_guard<std::mutex> lock(mu_);  // NextGrant may have re-attested it
        e.state = state_file_->state().modules[e.module->name];
      }
      channel::KeyGrant g{conn_id, e.index, e.role, CipherOf(c.encryption), *nonce, conn_key};
      auto mgmt = channel::NewCipher(e.module->type == Backend::kSancus
                                         ? channel::Cipher::kSpongent
                                         : channel::Cipher::kAes,
                                     session);
      crypto::Wipe(session);
      if (!mgmt) {
        crypto::Wipe(conn_key);
        return FailedPrecondition("cipher not available for module " + e.module->name);
      }
      blobs.push_back(channel::WrapGrant(*mgmt, e.state.id, g));
      crypto::Wipe(g.key);
    }
  }
  for (size_t i = 0; i < ends.size(); ++i) {
    const End& e = ends[i];
    AEX_ASSIGN_OR_RETURN(auto client, ClientFor(*descriptor_.FindNode(e.module->node)));
    Status st = client->SetKey(e.state.id, blobs[i]);
    if (!st.ok()) {
      crypto::Wipe(conn_key);
      return WithContext("set_key on '" + e.module->name + "'", st);
    }
  }
  held.clear();
  if (from) {
    const ModuleState& from_state = ends[1].state;
    const ModuleState& to_state = ends[0].state;
    const Node& src_node = *descriptor_.FindNode(from->node);
    const Node& dst_node = *descriptor_.FindNode(to->node);
    wire::Connect route{from_state.id, conn_id, to_state.id, "", 0};
    if (src_node.name != dst_node.name) {
      route.dst_host = dst_node.host;
      route.dst_port = dst_node.reactive_port;
    }
    auto client = ClientFor(src_node);
    Status routed = client.ok() ? (*client)->AddRoute(route) : client.status();
    if (!routed.ok()) {
      crypto::Wipe(conn_key);
      return WithContext("route for '" + c.name + "'", routed);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  state_file_->state().connections[c.name].established = true;
  // The deployer seals direct events with the key, in this run only; keys
  // of connections between modules are forgotten here.
  if (c.direct) {
    DirectKey& dk = direct_[c.name];
    dk.key = conn_key;
    dk.cipher = CipherOf(c.encryption);
    dk.counter = 0;
  }
  crypto::Wipe(conn_key);
  return Status::Ok();
}

std::mutex* Deployer::GrantLock(const std::string& module) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& m = grant_locks_[module];
  if (!m) m = std::make_unique<std::mutex>();
  return m.get();
}

Status Deployer::Connect(const std::string& only) {
  auto start = Clock::now();
  // Ids are handed out in file order before the parallel work, so a
  // deployment gets the same connection ids every time.
  for (const Connection& c : descriptor_.connections) {
    auto& cs = state_file_->state().connections[c.name];
    if (cs.id == 0) cs.id = state_file_->state().next_connection_id++;
  }
  if (descriptor_.manager_spec) {
    // Managed connections are keyed through the control connection.
    const Connection& control =
        *descriptor_.FindConnection(ManagerControl(*descriptor_.manager_spec));
    if (!state_file_->state().connections[control.name].established) {
      Status s = EstablishConnection(control);
      if (!s.ok()) {
        timings_["connect"] = Seconds(start);
        return SaveAfter(s);
      }
    }
  }
  Status s = ForEach(descriptor_.connections.size(), options_.jobs * 4, [&](size_t i) -> Status {
    const Connection& c = descriptor_.connections[i];
    if (!only.empty() && c.name != only) return Status::Ok();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = state_file_->state().connections.find(c.name);
      if (it != state_file_->state().connections.end() && it->second.established) {
        return Status::Ok();
      }
    }
    auto t0 = Clock::now();
    Status st = EstablishConnection(c);
    if (st.ok()) {
      Progress(ProgressLine("connect", c.name,
                   (c.direct ? std::string("deployer") : c.from_module) + " -> " + c.to_module +
                       " (" + EncryptionName(c.encryption) + ")",
                   Seconds(t0)));
    }
    return st;
  });
  timings_["connect"] = Seconds(start);
  return SaveAfter(s);
}

Status Deployer::Register(const std::string& only) {
  auto start = Clock::now();
  Status s = ForEach(descriptor_.periodic_events.size(), options_.jobs * 4,
                     [&](size_t i) -> Status {
    const PeriodicEvent& e = descriptor_.periodic_events[i];
    if (!only.empty() && e.name != only) return Status::Ok();
    uint32_t module_id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& st = state_file_->state();
      if (st.events[e.name].registered) return Status::Ok();
      auto it = st.modules.find(e.module);
      if (it == st.modules.end() || it->second.id == 0) {
        return FailedPrecondition("register '" + e.name + "': module not deployed");
      }
      module_id = it->second.id;
    }
    const Module& m = *descriptor_.FindModule(e.module);
    AEX_ASSIGN_OR_RETURN(auto client, ClientFor(*descriptor_.FindNode(m.node)));
    auto id = client->RegisterPeriodic(module_id, IndexOf(m, gen::IoKind::kEntry, e.entry),
                                       e.frequency_ms);
    if (!id.ok()) return WithContext("register '" + e.name + "'", id.status());
    {
      std::lock_guard<std::mutex> lock(mu_);
      state_file_->state().events[e.name] = EventState{*id, true};
    }
    Progress(ProgressLine("register", e.name,
                          m.name + "." + e.entry.ToString() + " every " +
                              std::to_string(e.frequency_ms) + " ms",
                          0));
    return Status::Ok();
  });
  timings_["register"] = Seconds(start);
  return SaveAfter(s);
}

Status Deployer::Up() {
  auto start = Clock::now();
  timings_.clear();
  Status s = [&]() -> Status {
    auto t0 = Clock::now();
    AEX_RETURN_IF_ERROR(WaitForNodes());
    timings_["wait"] = Seconds(t0);
    AEX_RETURN_IF_ERROR(Deploy());
    AEX_RETURN_IF_ERROR(Attest());
    AEX_RETURN_IF_ERROR(Connect());
    return Register();
  }();
  timings_["total"] = Seconds(start);
  if (s.ok()) return s;
  // A disabled instance that still runs refuses every event and key: no
  // step of up brings it back (one its node lost is loaded anew instead).
  for (const auto& [name, ms] : state_file_->state().modules) {
    if (!ms.disabled) continue;
    return Status(s.code(), s.message() + "\nmodule '" + name + "' was disabled (`aex " +
                                "disable`) and refuses every event and key. To recover, run `" +
                                CommandLine("down") + "` (unloads the deployment), then `" +
                                CommandLine("up") + "` (loads fresh instances)");
  }
  return s;
}

Status Deployer::Down(std::vector<LeftBehind>* left) {
  auto& modules = state_file_->state().modules;
  std::vector<std::pair<std::string, ModuleState>> list(modules.begin(), modules.end());
  Status s = ForEach(list.size(), options_.jobs * 4, [&](size_t i) -> Status {
    const auto& [name, ms] = list[i];
    const Node* node = descriptor_.FindNode(ms.node);
    if (!node || ms.id == 0) return Status::Ok();
    // A pre-installed module belongs to the node, not to the deployment.
    if (const Module* m = descriptor_.FindModule(name); m && m->preinstalled()) {
      Progress(ProgressLine("down", name, "pre-installed: left on " + ms.node, 0));
      return Status::Ok();
    }
    auto client = ClientFor(*node);
    if (!client.ok() && left) {
      std::lock_guard<std::mutex> lock(mu_);
      left->push_back({name, ms.node, ms.id, client.status().message()});
      return Status::Ok();
    }
    if (!client.ok()) return client.status();
    Status st = (*client)->Unload(ms.id);
    if (st.code() == Code::kNotFound) return Status::Ok();  // already gone
    if (st.ok()) Progress(ProgressLine("down", name, "unloaded from " + ms.node, 0));
    return WithContext("unload '" + name + "'", st);
  });
  if (!s.ok()) return SaveAfter(s);
  // What is left with the deployment's tag was never recorded: strays.
  Status strays = UnloadStrays();
  if (!strays.ok() && left) {
    left->push_back({"", "", 0, "stray check: " + strays.message()});
  } else {
    AEX_RETURN_IF_ERROR(strays);
  }
  return state_file_->Remove();
}

Status Deployer::UnloadStrays() {
  const DeploymentState& st = state_file_->state();
  if (st.deployment_tag.empty()) return Status::Ok();  // nothing was ever loaded with a tag
  std::set<std::pair<std::string, uint32_t>> known;  // (node, id) the state accounts for
  std::set<std::string> referenced;  // nodes the state has loaded or meant to load on
  for (const auto& [name, ms] : st.modules) {
    if (ms.id != 0) known.emplace(ms.node, ms.id);
    referenced.insert(ms.node);
  }
  for (const auto& [name, node] : st.loading) referenced.insert(node);
  Status s = ForEach(descriptor_.nodes.size(), 64, [&](size_t i) -> Status {
    const Node& node = descriptor_.nodes[i];
    auto client = ClientFor(node);
    auto list = client.ok() ? (*client)->ListModules(st.deployment_tag)
                            : Result<wire::ModuleList>(client.status());
    if (!list.ok()) {
      // A node the state never sent a LOAD to can hold a stray only from an
      // interrupted `aex update --node`: one that is down does not block.
      if (referenced.count(node.name) == 0) return Status::Ok();
      return WithContext("list modules on '" + node.name + "'", list.status());
    }
    for (const wire::ListedModule& m : list->modules) {
      if (known.count({node.name, m.id}) != 0 || m.tag != st.deployment_tag) continue;
      Status gone = (*client)->Unload(m.id);
      if (!gone.ok() && gone.code() != Code::kNotFound) {
        return WithContext("unload stray module " + std::to_string(m.id) + " on '" + node.name +
                               "'",
                           gone);
      }
      Progress(ProgressLine("stray", m.name,
                            "instance " + std::to_string(m.id) + " on " + node.name +
                                " unloaded (loaded by an interrupted run, never recorded)",
                            0));
    }
    return Status::Ok();
  });
  return s;
}

Status Deployer::Reset() {
  Status s = ForEach(descriptor_.nodes.size(), 64, [&](size_t i) -> Status {
    const Node& n = descriptor_.nodes[i];
    AEX_ASSIGN_OR_RETURN(auto client, ClientFor(n));
    AEX_RETURN_IF_ERROR(WithContext("reset '" + n.name + "'", client->Reset()));
    Progress(ProgressLine("reset", n.name, "every module unloaded", 0));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return state_file_->Remove();
}

Result<Bytes> Deployer::Call(const std::string& module, const std::string& entry, ByteSpan arg) {
  const Module* m = descriptor_.FindModule(module);
  if (!m) return NotFound("no module named '" + module + "'");
  // A mistyped entry is a usage error whether or not the module runs.
  IoRef ref{entry, std::nullopt};
  if (!entry.empty() && std::all_of(entry.begin(), entry.end(), ::isdigit) && entry.size() < 6) {
    ref.index = static_cast<uint16_t>(std::stoul(entry));
  } else if (!manifests_.at(module).IndexOf(gen::IoKind::kEntry, entry)) {
    return InvalidArgument("module '" + module + "' has no entry '" + entry + "'" +
                           DidYouMean(entry, manifests_.at(module).entries));
  }
  auto it = state_file_->state().modules.find(module);
  if (it == state_file_->state().modules.end() || it->second.id == 0) {
    return FailedPrecondition("module '" + module + "' is not deployed");
  }
  AEX_ASSIGN_OR_RETURN(auto client, ClientFor(*descriptor_.FindNode(m->node)));
  return client->CallEntry(it->second.id, IndexOf(*m, gen::IoKind::kEntry, ref), arg);
}

Status Deployer::EnsureDirect(const Connection& c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (direct_.count(c.name)) return Status::Ok();
  }
  // Every run keys its direct connections afresh (attestation in this run,
  // a new K_c, counters from 1): nothing of an earlier run is reused.
  return EstablishConnection(c);
}

Result<std::pair<uint64_t, Bytes>> Deployer::SealDirect(const Connection& c, ByteSpan arg) {
  AEX_RETURN_IF_ERROR(EnsureDirect(c));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = direct_.find(c.name);
  if (it == direct_.end()) return FailedPrecondition("connection '" + c.name + "' lost its key");
  auto aead = channel::NewCipher(it->second.cipher, it->second.key);
  if (!aead) return FailedPrecondition("cipher not available");
  uint64_t counter = ++it->second.counter;
  Bytes sealed;
  AEX_RETURN_IF_ERROR(channel::SealEvent(*aead, state_file_->state().connections[c.name].id,
                                         channel::Direction::kForward, counter, arg, &sealed));
  return std::make_pair(counter, std::move(sealed));
}

Status Deployer::Output(const std::string& connection, ByteSpan arg) {
  const Connection* c = descriptor_.FindConnection(connection);
  if (!c || !c->direct || !c->to_input) {
    return InvalidArgument("'" + connection + "' is not a direct connection to an input");
  }
  AEX_ASSIGN_OR_RETURN(auto sealed, SealDirect(*c, arg));
  uint32_t module_id, conn_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    module_id = state_file_->state().modules[c->to_module].id;
    conn_id = state_file_->state().connections[c->name].id;
  }
  AEX_ASSIGN_OR_RETURN(auto client, ClientFor(*descriptor_.FindNode(
                                        descriptor_.FindModule(c->to_module)->node)));
  Status sent = client->SendEvent(module_id, conn_id, sealed.second);
  return SaveAfter(sent);  // re-establishing may have changed the state
}

Result<Bytes> Deployer::Request(const std::string& connection, ByteSpan arg) {
  const Connection* c = descriptor_.FindConnection(connection);
  if (!c || !c->direct || !c->to_handler) {
    return InvalidArgument("'" + connection + "' is not a direct connection to a handler");
  }
  // Also called by worker threads (manager commands): state under mu_.
  AEX_ASSIGN_OR_RETURN(auto sealed, SealDirect(*c, arg));
  std::unique_lock<std::mutex> lock(mu_);
  const uint32_t module_id = state_file_->state().modules[c->to_module].id;
  const uint32_t conn_id = state_file_->state().connections[c->name].id;
  DirectKey dk = direct_.at(c->name);
  lock.unlock();
  AEX_ASSIGN_OR_RETURN(auto client, ClientFor(*descriptor_.FindNode(
                                        descriptor_.FindModule(c->to_module)->node)));
  AEX_ASSIGN_OR_RETURN(Bytes response, client->Request(module_id, conn_id, sealed.second));
  auto aead = channel::NewCipher(dk.cipher, dk.key);
  uint64_t counter = 0;
  Bytes plain;
  AEX_RETURN_IF_ERROR(channel::OpenEvent(*aead, conn_id, channel::Direction::kBackward, response,
                                         &counter, &plain));
  if (counter != sealed.first) return AuthFailed("response does not answer this request");
  return plain;
}

Status Deployer::Disable(const std::string& module) {
  const Module* m = descriptor_.FindModule(module);
  auto it = state_file_->state().modules.find(module);
  if (!m || it == state_file_->state().modules.end() || !it->second.attested()) {
    return FailedPrecondition("module '" + module + "' is not attested");
  }
  Bytes blob;
  if (it->second.by_manager) {
    // The manager holds K_m and the module's nonce: it seals the command.
    AEX_ASSIGN_OR_RETURN(Bytes body, ManagerCall(attest::EncodeDisable(module)));
    ByteReader r(body);
    ByteSpan sealed;
    if (!r.ReadLengthPrefixed(&sealed, attest::kMaxManagerField) || !r.empty()) {
      return Status(Code::kProtocol, "malformed DISABLE reply from the attestation manager");
    }
    blob.assign(sealed.begin(), sealed.end());
  } else {
    std::lock_guard<std::mutex> grant_lock(*GrantLock(module));
    crypto::Key session{};
    AEX_ASSIGN_OR_RETURN(uint64_t nonce, NextGrant(*m, &session));
    auto aead = channel::NewCipher(m->type == Backend::kSancus ? channel::Cipher::kSpongent
                                                               : channel::Cipher::kAes,
                                   session);
    crypto::Wipe(session);
    if (!aead) return FailedPrecondition("cipher not available");
    blob = channel::SealDisable(*aead, it->second.id, nonce);
  }
  AEX_ASSIGN_OR_RETURN(auto client, ClientFor(*descriptor_.FindNode(m->node)));
  AEX_RETURN_IF_ERROR(client->Disable(it->second.id, blob));
  it->second.disabled = true;
  for (const auto& c : descriptor_.connections) {
    if (c.from_module == module || c.to_module == module) {
      state_file_->state().connections[c.name].established = false;
    }
  }
  return state_file_->Save();
}

Status Deployer::ReloadState() {
  if (!options_.read_only) return FailedPrecondition("ReloadState: the deployer holds the lock");
  std::lock_guard<std::mutex> lock(mu_);
  return state_file_->Reload();
}

json Deployer::StateSummary() const {
  const DeploymentState& st = state_file_->state();
  json modules = json::array(), connections = json::array(), events = json::array();
  for (const auto& m : descriptor_.modules) {
    auto it = st.modules.find(m.name);
    const bool known = it != st.modules.end();
    json j = {{"name", m.name},
              {"node", known ? it->second.node : m.node},
              {"loaded", known && it->second.id != 0},
              {"attested", known && it->second.attested()},
              {"disabled", known && it->second.disabled}};
    j["id"] = known && it->second.id != 0 ? json(it->second.id) : json(nullptr);
    modules.push_back(std::move(j));
  }
  for (const auto& c : descriptor_.connections) {
    auto it = st.connections.find(c.name);
    connections.push_back(
        {{"name", c.name}, {"established", it != st.connections.end() && it->second.established}});
  }
  for (const auto& e : descriptor_.periodic_events) {
    auto it = st.events.find(e.name);
    events.push_back(
        {{"name", e.name}, {"registered", it != st.events.end() && it->second.registered}});
  }
  return {{"modules", modules}, {"connections", connections}, {"periodic_events", events}};
}

json Deployer::StatusReport() {
  json report = {{"descriptor", descriptor_.source_name}};
  auto& nodes = report["nodes"] = json::array();
  std::vector<json> per_node(descriptor_.nodes.size());
  (void)ForEach(descriptor_.nodes.size(), 64, [&](size_t i) -> Status {
    const Node& n = descriptor_.nodes[i];
    json j = {{"name", n.name},
              {"type", BackendName(n.type)},
              {"address", n.host + ":" + std::to_string(n.reactive_port)},
              {"tls", UsesTls(n)}};
    auto client = ClientFor(n);
    auto st = client.ok() ? (*client)->NodeStatus() : Result<std::string>(client.status());
    j["reachable"] = st.ok();
    if (st.ok()) {
      j["status"] = json::parse(*st, nullptr, false);
    } else {
      j["error"] = st.status().ToString();
    }
    per_node[i] = std::move(j);
    return Status::Ok();
  });
  for (auto& j : per_node) nodes.push_back(j);
  auto& modules = report["modules"] = json::array();
  for (const auto& m : descriptor_.modules) {
    json j = {{"name", m.name}, {"node", m.node}, {"type", BackendName(m.type)}};
    auto it = state_file_->state().modules.find(m.name);
    bool deployed = it != state_file_->state().modules.end() && it->second.id != 0;
    j["deployed"] = deployed;
    j["attested"] = deployed && it->second.attested();
    const uint64_t attested_instance = deployed ? it->second.instance : 0;
    if (deployed && it->second.attested()) {
      j["attested_by"] = it->second.by_manager ? "manager" : "deployer";
    }
    j["disabled"] = deployed && it->second.disabled;
    if (deployed) {
      j["id"] = it->second.id;
      j["measurement"] = it->second.measurement;
      for (const auto& n : per_node) {
        if (n["name"] != m.node || !n.contains("status")) continue;
        for (const auto& live : n["status"].value("modules", json::array())) {
          if (live.value("id", 0u) != it->second.id) continue;
          j["state"] = live.value("state", "unknown");
          if (live.contains("stats")) j["stats"] = live["stats"];
          if (live.contains("restarts")) j["restarts"] = live["restarts"];
          if (live.contains("refused")) j["refused"] = live["refused"];
          // Restarted behind the deployer's back: `aex up` re-attests and re-keys it.
          uint64_t instance = live.contains("stats")
                                  ? live["stats"].value("instance_id", uint64_t{0})
                                  : 0;
          if (attested_instance != 0 && instance != 0 && instance != attested_instance) {
            j["attested"] = false;
            j["needs_attestation"] = true;
            j["state"] = "needs attestation";
          }
          if (live.contains("reason")) j["reason"] = live["reason"];
        }
      }
      if (!j.contains("state")) j["state"] = "missing";
    }
    modules.push_back(std::move(j));
  }
  auto& conns = report["connections"] = json::array();
  for (const auto& c : descriptor_.connections) {
    auto it = state_file_->state().connections.find(c.name);
    bool est = it != state_file_->state().connections.end() && it->second.established;
    conns.push_back({{"name", c.name},
                     {"from", c.direct ? "deployer" : c.from_module},
                     {"to", c.to_module},
                     {"encryption", EncryptionName(c.encryption)},
                     {"kind", c.to_handler ? "request" : "event"},
                     {"established", est},
                     {"id", est ? it->second.id : 0}});
  }
  auto& events = report["periodic_events"] = json::array();
  for (const auto& e : descriptor_.periodic_events) {
    auto it = state_file_->state().events.find(e.name);
    events.push_back({{"name", e.name},
                      {"module", e.module},
                      {"entry", e.entry.ToString()},
                      {"period_ms", e.frequency_ms},
                      {"registered", it != state_file_->state().events.end() &&
                                         it->second.registered}});
  }
  return report;
}

std::string Deployer::GraphDot(const std::vector<std::string>& module_lines) const {
  // Names are validated to [A-Za-z0-9_.-]; "\n" in a label is DOT's line break.
  auto q = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  std::ostringstream o;
  o << "digraph " << q(descriptor_.source_name) << " {\n"
    << "  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef5ff\"];\n";
  bool has_direct = false;
  for (const auto& n : descriptor_.nodes) {
    o << "  subgraph " << q("cluster_" + n.name) << " {\n    label=" 
      << q(n.name + " (" + BackendName(n.type) + ", " + n.host + ":" +
           std::to_string(n.reactive_port) + ")")
      << ";\n    style=dashed;\n";
    for (const auto& m : descriptor_.modules) {
      if (m.node != n.name) continue;
      std::string label = m.name;
      if (m.device) label += "\\n[device " + *m.device + "]";
      for (const auto& line : module_lines) label += "\\n" + line;
      o << "    " << q("m_" + m.name) << " [label=" << q(label) << "];\n";
    }
    o << "  }\n";
  }
  for (const auto& c : descriptor_.connections) {
    has_direct |= c.direct;
    std::string from = c.direct ? "deployer" : "m_" + c.from_module;
    std::string label = c.name + ": " +
                        (c.direct ? std::string("direct")
                                  : (c.from_output ? c.from_output : c.from_request)->ToString()) +
                        " -> " + (c.to_input ? c.to_input : c.to_handler)->ToString() + " (" +
                        EncryptionName(c.encryption) + ")";
    o << "  " << q(from) << " -> " << q("m_" + c.to_module) << " [label=" << q(label)
      << (c.to_handler ? ", style=dashed, dir=both" : "") << "];\n";
  }
  if (has_direct) o << "  \"deployer\" [shape=ellipse, fillcolor=\"#ffeecc\"];\n";
  for (const auto& e : descriptor_.periodic_events) {
    o << "  " << q("t_" + e.name) << " [shape=note, fillcolor=\"#f0f0f0\", label="
      << q(e.name + "\\nevery " + std::to_string(e.frequency_ms) + " ms") << "];\n"
      << "  " << q("t_" + e.name) << " -> " << q("m_" + e.module) << " [style=dotted, label="
      << q(e.entry.ToString()) << "];\n";
  }
  o << "}\n";
  return o.str();
}

}  // namespace aex::deploy
