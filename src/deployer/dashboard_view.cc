#include "deployer/dashboard_view.h"

#include <algorithm>

namespace aex::deploy {

using nlohmann::json;

namespace {

// The counters whose growth is an error worth showing, per module and node.
constexpr const char* kModuleErrorCounters[] = {
    "rejected_auth",  "rejected_replay",     "rejected_routing", "rejected_malformed",
    "lost",           "outputs_undelivered", "outputs_refused",  "grants_rejected",
    "deferred_dropped"};
constexpr const char* kNodeErrorCounters[] = {"frames_rejected", "handshakes_rejected",
                                              "events_undeliverable", "peer_undelivered"};

uint64_t Counter(const json& object, const char* section, const char* field) {
  if (!object.is_object() || !object.contains(section)) return 0;
  const json& s = object[section];
  auto it = s.find(field);
  return it != s.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

// The entry named `name` of array `key` in `report`, or an empty object.
const json& Named(const json& report, const char* key, const std::string& name) {
  static const json kNone = json::object();
  if (!report.is_object() || !report.contains(key)) return kNone;
  for (const auto& e : report[key]) {
    if (e.value("name", "") == name) return e;
  }
  return kNone;
}

double Rate(uint64_t now, uint64_t before, double dt) {
  return dt > 0 && now >= before ? static_cast<double>(now - before) / dt : 0.0;
}

}  // namespace

std::string DashboardView::AttestationLabel(const json& m) {
  if (!m.value("deployed", false)) return "not deployed";
  if (m.value("disabled", false)) return "disabled";
  if (m.value("needs_attestation", false)) return "needs attestation";
  if (!m.value("attested", false)) return "not attested";
  return m.value("attested_by", "deployer") == "manager" ? "attested (manager)" : "attested";
}

json DashboardView::Update(const json& report, double now_s, const std::string& clock) {
  const double dt = previous_.is_null() ? 0 : now_s - last_s_;
  clock_ = clock;
  json snap = {{"seq", ++seq_},
               {"time", clock},
               {"descriptor", report.value("descriptor", "")},
               {"nodes", json::array()},
               {"modules", json::array()},
               {"connections", json::array()}};
  for (const auto& n : report.value("nodes", json::array())) {
    CompareNode(Named(previous_, "nodes", n.value("name", "")), n);
    snap["nodes"].push_back(Node(n));
  }
  for (const auto& m : report.value("modules", json::array())) {
    CompareModule(Named(previous_, "modules", m.value("name", "")), m);
    snap["modules"].push_back(Module(m, dt));
  }
  for (const auto& c : report.value("connections", json::array())) {
    snap["connections"].push_back({{"name", c.value("name", "")},
                                   {"from", c.value("from", "")},
                                   {"to", c.value("to", "")},
                                   {"kind", c.value("kind", "")},
                                   {"encryption", c.value("encryption", "")},
                                   {"established", c.value("established", false)}});
  }
  snap["errors"] = json::array();
  for (const auto& e : errors_) snap["errors"].push_back(e);
  previous_ = report;
  last_s_ = now_s;
  return snap;
}

json DashboardView::Node(const json& n) {
  json out = {{"name", n.value("name", "")},
              {"type", n.value("type", "")},
              {"address", n.value("address", "")},
              {"tls", n.value("tls", false)},
              {"reachable", n.value("reachable", false)}};
  if (n.contains("error")) out["error"] = n.value("error", "");
  out["events_routed"] = Counter(n.value("status", json::object()), "counters", "events_routed");
  size_t up = 0, peers = 0;
  if (n.contains("status")) {
    for (const auto& p : n["status"].value("peers", json::array())) {
      ++peers;
      up += p.value("connected", false) ? 1 : 0;
    }
  }
  out["peer_links"] = std::to_string(up) + "/" + std::to_string(peers);
  return out;
}

json DashboardView::Module(const json& m, double dt) {
  const json& before = Named(previous_, "modules", m.value("name", ""));
  auto stat = [&](const char* field) { return Counter(m, "stats", field); };
  uint64_t rejected = 0;
  for (const char* f : {"rejected_auth", "rejected_replay", "rejected_routing",
                        "rejected_malformed"}) {
    rejected += stat(f);
  }
  const std::string label = AttestationLabel(m);
  return {{"name", m.value("name", "")},
          {"node", m.value("node", "")},
          {"type", m.value("type", "")},
          {"state", m.value("state", m.value("deployed", false) ? "unknown" : "not deployed")},
          {"attestation", label},
          {"attested", label.rfind("attested", 0) == 0},
          {"has_stats", m.contains("stats")},
          {"events_in", stat("events_accepted")},
          {"events_out", stat("outputs_sent")},
          {"requests", stat("requests_handled")},
          {"lost", stat("lost")},
          {"rejected", rejected},
          {"undelivered", stat("outputs_refused") + stat("outputs_undelivered")},
          {"rate_in", Rate(stat("events_accepted"), Counter(before, "stats", "events_accepted"), dt)},
          {"rate_out", Rate(stat("outputs_sent"), Counter(before, "stats", "outputs_sent"), dt)}};
}

void DashboardView::CompareModule(const json& before, const json& now) {
  const std::string name = now.value("name", "");
  const std::string state = now.value("state", "");
  if (!state.empty() && state != "running" && state != before.value("state", "")) {
    std::string text = "module " + name + ": " + state;
    if (now.contains("reason")) text += " (" + now.value("reason", "") + ")";
    AddError(std::move(text));
  }
  // A new instance starts its counters from 0: compare within one instance.
  if (Counter(before, "stats", "instance_id") != Counter(now, "stats", "instance_id")) return;
  for (const char* f : kModuleErrorCounters) {
    uint64_t a = Counter(before, "stats", f), b = Counter(now, "stats", f);
    if (b > a) AddError("module " + name + ": " + std::to_string(b - a) + " more " + f);
  }
}

void DashboardView::CompareNode(const json& before, const json& now) {
  const std::string name = now.value("name", "");
  const bool was_reachable = before.value("reachable", true);
  if (!now.value("reachable", false)) {
    if (was_reachable) AddError("node " + name + " unreachable: " + now.value("error", ""));
    return;
  }
  if (!before.value("reachable", false)) return;  // new or back: counters may have restarted
  const json empty = json::object();
  const json& a = before.contains("status") ? before["status"] : empty;
  const json& b = now.contains("status") ? now["status"] : empty;
  for (const char* f : kNodeErrorCounters) {
    uint64_t x = Counter(a, "counters", f), y = Counter(b, "counters", f);
    if (y > x) AddError("node " + name + ": " + std::to_string(y - x) + " more " + f);
  }
}

void DashboardView::AddError(std::string text) {
  errors_.push_front({{"time", clock_}, {"text", std::move(text)}});
  while (errors_.size() > kMaxErrors) errors_.pop_back();
}

}  // namespace aex::deploy
