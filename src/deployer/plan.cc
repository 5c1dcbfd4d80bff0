// Deployer::Plan (`aex up --plan`): the steps Up would take, derived with
// the same tests Deploy, Attest, Connect and Register use to skip work, from
// the build cache, the state file and the nodes' STATUS replies. It sends no
// other message to a node, builds nothing and saves nothing.

#include "deployer/deployer.h"
#include "deployer/node_client.h"

namespace aex::deploy {
namespace {

using nlohmann::json;

// A node's live modules by id: state and instance (0 when unreported).
struct LiveModule {
  std::string state;
  uint64_t instance = 0;
};
using LiveModules = std::map<uint32_t, LiveModule>;

LiveModules ParseLive(const std::string& status) {
  LiveModules out;
  json j = json::parse(status, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& m : j.value("modules", json::array())) {
    LiveModule live{m.value("state", ""), 0};
    if (m.contains("stats")) live.instance = m["stats"].value("instance_id", uint64_t{0});
    out[m.value("id", 0u)] = live;
  }
  return out;
}

// Why module `m` must be loaded again, or "" when its instance is kept.
// live is null for a node that did not answer (Up would wait for it).
std::string LoadReason(const Module& m, const ModuleState* ms, const BuiltModule& built,
                       const LiveModules* live) {
  if (!ms || ms->id == 0) return "not loaded";
  if (ms->node != m.node) return "moves from " + ms->node + " to " + m.node;
  if (!built.cached) return "its build changed";
  if (ms->measurement != HexEncode(built.measurement)) return "its binary changed";
  if (!live) return "";
  auto it = live->find(ms->id);
  if (it == live->end() || it->second.state != "running") {
    return "instance " + std::to_string(ms->id) + " is not running on " + m.node;
  }
  return "";
}

// Connections to key and periodic events to register, given the modules
// that get a new instance (fresh) and those whose connections get new keys.
void PlanLinks(const Descriptor& d, const DeploymentState& state,
               const std::set<std::string>& fresh, const std::set<std::string>& rekeyed,
               std::vector<PlanStep>* steps) {
  for (const Connection& c : d.connections) {
    auto it = state.connections.find(c.name);
    if (it == state.connections.end() || !it->second.established) {
      steps->push_back({"connect", c.name, "not established"});
    } else if (rekeyed.count(c.to_module) || (!c.direct && rekeyed.count(c.from_module))) {
      steps->push_back({"connect", c.name, "an end gets a new instance"});
    }
  }
  for (const PeriodicEvent& e : d.periodic_events) {
    auto it = state.events.find(e.name);
    if (it == state.events.end() || !it->second.registered) {
      steps->push_back({"register", e.name, "not registered"});
    } else if (fresh.count(e.module)) {
      steps->push_back({"register", e.name, "its module gets a new instance"});
    }
  }
}

}  // namespace

std::vector<PlanStep> Deployer::Plan() {
  std::vector<PlanStep> steps;
  std::map<std::string, LiveModules> live;
  for (const Node& n : descriptor_.nodes) {
    auto client = ClientFor(n);
    auto st = client.ok() ? (*client)->NodeStatus() : Result<std::string>(client.status());
    if (st.ok()) live[n.name] = ParseLive(*st);
    else steps.push_back({"wait", n.name, st.status().message()});
  }
  const DeploymentState& state = state_file_->state();
  std::set<std::string> fresh;   // modules that get a new instance
  std::set<std::string> rekeyed;  // and those whose connections get new keys
  for (const Module& m : descriptor_.modules) {
    auto built = FindBuiltModule(descriptor_, m, sdk_, options_.cache_dir);
    if (!built.ok()) {
      steps.push_back({"build", m.name, "fails: " + built.status().message()});
      continue;
    }
    auto it = state.modules.find(m.name);
    const ModuleState* ms = it == state.modules.end() ? nullptr : &it->second;
    if (!built->cached) {
      steps.push_back({"build", m.name, ms ? "sources, flags or SDK changed" : "not built yet"});
    }
    auto node_live = live.find(m.node);
    std::string why = LoadReason(m, ms, *built,
                                 node_live == live.end() ? nullptr : &node_live->second);
    if (!why.empty()) {
      steps.push_back({"load", m.name, why});
      steps.push_back({"attest", m.name, "new instance"});
      fresh.insert(m.name);
      rekeyed.insert(m.name);
      continue;
    }
    uint64_t instance = 0;
    if (node_live != live.end() && node_live->second.count(ms->id)) {
      instance = node_live->second.at(ms->id).instance;
    }
    if (!ms->attested()) {
      steps.push_back({"attest", m.name, "not attested"});
    } else if (instance != 0 && instance != ms->instance) {
      steps.push_back({"attest", m.name, "restarted behind the deployer"});
      rekeyed.insert(m.name);
    }
  }
  PlanLinks(descriptor_, state, fresh, rekeyed, &steps);
  return steps;
}

}  // namespace aex::deploy
