// Deployer: the operations of the `aex` command over one descriptor and its
// state file. Every step is idempotent (it does only what the state says is
// not done yet), runs concurrently across modules and nodes, and saves the
// state after its successes before it reports a failure, so the next run
// resumes where this one stopped.

#ifndef AEX_DEPLOYER_DEPLOYER_H_
#define AEX_DEPLOYER_DEPLOYER_H_

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <nlohmann/json.hpp>
#include <string>

#include "attest/verifier.h"
#include "deployer/builder.h"
#include "deployer/descriptor.h"
#include "deployer/node_tls.h"
#include "deployer/state.h"
#include "deployer/update.h"
#include "runtime/channel.h"

namespace aex::deploy {

// One thing `up` would do (Deployer::Plan): step is build, load, attest,
// connect, register or wait; target names the module, connection, periodic
// event or node.
struct PlanStep {
  std::string step;
  std::string target;
  std::string reason;
};

// A module `down --force` forgot without unloading it (its node did not
// answer): it may still run there until that node is reset or restarted.
struct LeftBehind {
  std::string module;  // empty: the stray check of `node` could not run
  std::string node;
  uint32_t id = 0;
  std::string error;
};

struct DeployerOptions {
  std::filesystem::path descriptor;
  std::filesystem::path state_file;  // default: <descriptor dir>/.aex/<stem>.state.json
  std::filesystem::path cache_dir;   // default: <descriptor dir>/.aex/build
  unsigned jobs = 0;                 // 0: number of cores (builds), 4x that (network)
  std::chrono::milliseconds node_wait{10000};  // how long `up` waits for nodes
  // Receives one line per finished unit of work (progress); may be empty.
  std::function<void(const std::string&)> progress;
  // `aex reset`: a corrupt state file is moved aside (StateFile, kMoveAside)
  // instead of refused, since resetting the nodes needs only the descriptor.
  bool recover_state = false;
  // Read-only commands (status, graph, plan, watch, dashboard): the state file
  // is read without its lock, so they work while another run (an `up`) holds
  // it, and every step that would save it fails. REQUIRES: !recover_state.
  bool read_only = false;
};

class Deployer {
 public:
  // Loads and validates the descriptor (including against every module's
  // interface) and opens and locks the state file.
  static Result<std::unique_ptr<Deployer>> Open(DeployerOptions options);
  // Loads and validates only (no state, no lock).
  static Status Validate(const std::filesystem::path& descriptor);

  Status Build(const std::string& only_module = "");
  Status Deploy(const std::string& only_module = "");
  Status Attest(const std::string& only_module = "");
  // Attests `module` again with a fresh challenge, by the deployer itself
  // (not through the attestation manager, whose evidence the deployer never
  // sees), keeping the new session; *evidence receives what the module
  // answered, also when it does not verify (then the error is returned).
  Status AttestForEvidence(const std::string& module, Bytes* evidence);
  Status Connect(const std::string& only_connection = "");
  Status Register(const std::string& only_event = "");
  // Build, deploy, attest, connect and register, waiting for nodes first.
  Status Up();
  // Unloads every module of the deployment and forgets the state. With
  // `left` (down --force), a node that cannot be reached does not stop it:
  // what was on it is forgotten and listed in *left.
  Status Down(std::vector<LeftBehind>* left = nullptr);
  // What Up would do, doing none of it (`aex up --plan`): reads only the
  // build cache, the state and the nodes' status; builds, loads and saves
  // nothing. Empty when the deployment is up to date.
  std::vector<PlanStep> Plan();
  // Resets every node of the descriptor (unloads everything) and forgets the state.
  Status Reset();

  Result<Bytes> Call(const std::string& module, const std::string& entry, ByteSpan arg);
  Status Output(const std::string& connection, ByteSpan arg);
  Result<Bytes> Request(const std::string& connection, ByteSpan arg);
  Status Disable(const std::string& module);
  // Replaces a deployed module by a new instance built from its current
  // sources, on its node or on `to_node`, carrying its state and connections
  // over without losing, duplicating or reordering events; then re-keys every
  // connection that touches it (update.cc, docs/update.md).
  Result<UpdateReport> Update(const std::string& module, const std::string& to_node = "");

  // Status of nodes, modules and connections as JSON.
  nlohmann::json StatusReport();
  // Re-reads the state file that other runs may have changed.
  // REQUIRES: opened with DeployerOptions::read_only.
  Status ReloadState();
  // The application as a Graphviz DOT graph. `module_lines` are added under
  // every module's name (the dashboard's slots for live values).
  std::string GraphDot(const std::vector<std::string>& module_lines = {}) const;
  const Descriptor& descriptor() const { return descriptor_; }
  // Where modules are built from (aex -v prints it).
  const Sdk& sdk() const { return sdk_; }
  // What this run built (Build, Up), by module name.
  const std::map<std::string, BuiltModule>& built() const { return built_; }
  // What the state file records (after a step, or as opened): modules
  // (name, node, id, attested, disabled), connections, periodic events.
  nlohmann::json StateSummary() const;
  // Timings of the last Up(), in seconds per phase.
  const std::map<std::string, double>& timings() const { return timings_; }

 private:
  Deployer(DeployerOptions options, Descriptor d, std::map<std::string, gen::ModuleManifest> m,
           std::unique_ptr<StateFile> state, NodeDialer dialer);

  // "aex [--state F] <command> <descriptor>": for hints in messages.
  std::string CommandLine(const std::string& command) const;
  Status WaitForNodes();
  // Unloads, on every node of the descriptor, the modules that carry the
  // deployment's tag but that the state does not account for.
  Status UnloadStrays();
  // Before Deploy's loads: makes the deployment tag, saves the load intents
  // of the modules in scope that `running` does not show kept, and unloads
  // strays. REQUIRES: Build done for those modules.
  Status PrepareLoads(const std::string& only,
                      const std::function<bool(const std::string&, uint32_t)>& running);
  Result<std::unique_ptr<class NodeClient>> ClientFor(const Node& node);
  // Runs fn over items with at most `jobs` in flight; returns all failures joined.
  Status ForEach(size_t count, unsigned jobs, const std::function<Status(size_t)>& fn);
  Status SaveAfter(Status step);
  void Progress(const std::string& line);
  uint16_t IndexOf(const Module& m, gen::IoKind kind, const IoRef& ref) const;
  Status EstablishConnection(const Connection& c);
  std::mutex* GrantLock(const std::string& module);
  // Attests `m` unless the state says it is attested and `again` is false.
  // Keeps the session key for this run; a new instance id marks every
  // connection touching the module for re-establishment.
  // With `evidence`, attests directly and stores the module's answer there.
  Status AttestOne(const Module& m, bool again = false, Bytes* evidence = nullptr);
  // REQUIRES: mu_ held.
  void ForgetLinksOf(const std::string& module);
  Status AdoptPreinstalled(const Module& m, const BuiltModule& b,
                           const nlohmann::json& node_status);
  // The next grant/disable nonce under this run's session with `m` (which it
  // attests first if this run has none yet); *key receives K_s.
  // REQUIRES: the caller holds GrantLock(m.name) and not mu_.
  Result<uint64_t> NextGrant(const Module& m, crypto::Key* key);
  // The attestation manager on a native node or a simulated platform only
  // with `manager: allow_unprotected: true` (kPermissionDenied otherwise).
  Status CheckManagerProtection(const Module& m, const attest::Session& session) const;
  // A fresh connection key: random, or derived from the descriptor's fixed
  // `key` with a fresh random salt (with a warning).
  Status NewConnectionKey(const Connection& c, uint32_t conn_id, crypto::Key* key);
  // The module was restarted or replaced: its connections need new keys.
  void MarkInstanceChanged(const std::string& module);  // REQUIRES: mu_ held
  // Establishes direct connection `c` in this run (attestation, fresh K_c,
  // counters from 1) unless this run already did.
  Status EnsureDirect(const Connection& c);
  // Seals the next event of this run on direct connection `c`.
  Result<std::pair<uint64_t, Bytes>> SealDirect(const Connection& c, ByteSpan arg);

  // The attestation manager (manager.cc, docs/tee.md). A module is managed
  // when the descriptor has a manager and the module is not the manager.
  bool IsManaged(const std::string& module) const;
  // Attests the manager itself, keys the deployer's control connection to
  // it and provisions it with the trust anchors of the nodes in `nodes`.
  Status PrepareManager(const std::set<std::string>& nodes);
  // One command on the control connection, answered by the manager.
  Result<Bytes> ManagerCall(const Bytes& command);
  Status AttestViaManager(const Module& m, uint32_t id, const crypto::Digest& measurement);
  // Key grants for both ends of `c` (only the receiving end when direct),
  // from the manager; *conn_key is set for a direct connection.
  Result<std::vector<Bytes>> GrantsFromManager(const Connection& c, uint32_t conn_id,
                                               crypto::Key* conn_key);
  // Unloaded or replaced manager: forget what it attested (Deploy).
  void ForgetManagedModules();

  DeployerOptions options_;
  Descriptor descriptor_;
  std::map<std::string, gen::ModuleManifest> manifests_;
  std::unique_ptr<StateFile> state_file_;
  NodeDialer dialer_;  // TLS or plain per node, as the descriptor says
  std::map<std::string, BuiltModule> built_;
  std::map<std::string, double> timings_;
  std::mutex mu_;  // guards state_file_->state() and built_ during parallel steps
  std::map<std::string, std::unique_ptr<std::mutex>> grant_locks_;
  // This run's session keys (K_s) and the grant nonces used under them, and
  // the deployer's end of direct connections. In memory only, never saved.
  struct RunSession {
    crypto::Key key{};
    uint64_t nonce = 0;
    ~RunSession() { crypto::Wipe(key); }
  };
  struct DirectKey {
    crypto::Key key{};
    channel::Cipher cipher = channel::Cipher::kAes;
    uint64_t counter = 0;
    ~DirectKey() { crypto::Wipe(key); }
  };
  std::map<std::string, RunSession> sessions_;  // under mu_
  std::map<std::string, DirectKey> direct_;     // under mu_
  std::mutex manager_mu_;  // one manager command at a time, in counter order
  Sdk sdk_;
  bool custom_state_ = false;  // --state given: hints repeat it
};

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_DEPLOYER_H_
