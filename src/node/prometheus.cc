#include "node/prometheus.h"

#include <map>
#include <utility>
#include <vector>

namespace aex::node {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Label values are escaped as the format requires: \\, \" and \n.
std::string Escape(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// Collects samples by family: the format wants each family's samples
// together, after its HELP and TYPE lines.
class Exposition {
 public:
  void Add(const std::string& name, const char* type, const std::string& help,
           const Labels& labels, const nlohmann::json& value) {
    if (!value.is_number() && !value.is_boolean()) return;
    std::string text = value.is_boolean() ? (value.get<bool>() ? "1" : "0") : value.dump();
    Family(name, type, help).push_back(name + LabelText(labels) + " " + text);
  }
  // A LatencyHistogram's JSON (latency_histogram.h) as NAME_bucket{le=...}
  // (cumulative, then +Inf), NAME_sum and NAME_count; left out unless it has
  // exactly that shape.
  void AddHistogram(const std::string& name, const std::string& help, const Labels& labels,
                    const nlohmann::json& h) {
    if (!h.is_object()) return;
    auto le = h.find("le"), buckets = h.find("buckets"), count = h.find("count"),
         sum = h.find("sum");
    if (le == h.end() || buckets == h.end() || count == h.end() || sum == h.end() ||
        !le->is_array() || !buckets->is_array() || le->size() != buckets->size() ||
        !count->is_number_unsigned() || !sum->is_number()) {
      return;
    }
    for (size_t i = 0; i < le->size(); ++i) {
      if (!(*le)[i].is_number() || !(*buckets)[i].is_number_unsigned()) return;
    }
    auto& samples = Family(name, "histogram", help);
    auto bucket = [&](const std::string& bound, const nlohmann::json& n) {
      Labels with_le = labels;
      with_le.emplace_back("le", bound);
      samples.push_back(name + "_bucket" + LabelText(with_le) + " " + n.dump());
    };
    for (size_t i = 0; i < le->size(); ++i) bucket((*le)[i].dump(), (*buckets)[i]);
    bucket("+Inf", *count);
    samples.push_back(name + "_sum" + LabelText(labels) + " " + sum->dump());
    samples.push_back(name + "_count" + LabelText(labels) + " " + count->dump());
  }
  std::string Render() const {
    std::string out;
    for (const FamilyLines& f : families_) {
      out += "# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
      for (const std::string& s : f.samples) out += s + "\n";
    }
    return out;
  }

 private:
  struct FamilyLines {
    std::string name;
    const char* type;
    std::string help;
    std::vector<std::string> samples;
  };
  // The sample lines of family `name`, made on first use.
  std::vector<std::string>& Family(const std::string& name, const char* type,
                                   const std::string& help) {
    auto [it, fresh] = index_.try_emplace(name, families_.size());
    if (fresh) families_.push_back({name, type, help, {}});
    return families_[it->second].samples;
  }
  static std::string LabelText(const Labels& labels) {
    std::string text = "{";
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) text += ",";
      text += labels[i].first + "=\"" + Escape(labels[i].second) + "\"";
    }
    return text + "}";
  }
  std::vector<FamilyLines> families_;
  std::map<std::string, size_t> index_;
};

std::string Str(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// What each node counter counts (docs/reliability.md has the details).
const std::map<std::string, std::string>& NodeCounterHelp() {
  static const auto* help = new std::map<std::string, std::string>{
      {"events_routed", "Events routed to a local module or a peer node."},
      {"events_undeliverable", "Events that reached no module (no route, module gone, queue full)."},
      {"events_held", "Events held by paused routes during an update."},
      {"flow_holds", "Times a module was held because a peer link it feeds was congested."},
      {"idle_trims", "Times the node gave memory back after a quiet second."},
      {"requests_routed", "Requests routed."},
      {"frames_rejected", "Frames rejected as malformed or not allowed."},
      {"sessions_accepted", "Connections accepted."},
      {"handshakes_rejected", "TLS clients refused (no or wrong certificate, silent, too slow)."},
      {"peer_undelivered", "Events sent to peers that reported them undeliverable."},
      {"link_duplicates", "Duplicated link events dropped."},
      {"link_gaps", "Gaps noticed on incoming peer links (a resend was asked for)."},
      {"modules_unattested_unloaded", "Modules unloaded for not being attested in time."},
      {"handshakes_evicted", "TLS handshakes dropped for newer ones."},
      {"sessions_evicted", "Idle sessions closed to make room."},
      {"sessions_idle_closed", "Sessions closed after the idle timeout."},
      {"sessions_refused", "Connections refused at the session limit."},
      {"frames_timed_out", "Sessions closed because a frame did not arrive whole in time."},
      {"buffer_budget_refused", "Buffer requests refused by the node's buffer budget."}};
  return *help;
}

void AddNode(const nlohmann::json& doc, const Labels& node, Exposition* out) {
  if (auto c = doc.find("counters"); c != doc.end() && c->is_object()) {
    for (const auto& [key, value] : c->items()) {
      auto help = NodeCounterHelp().find(key);
      out->Add("aex_node_" + key + "_total", "counter",
               help != NodeCounterHelp().end() ? help->second : "Node counter " + key + ".",
               node, value);
    }
  }
  if (auto s = doc.find("sessions"); s != doc.end() && s->is_object()) {
    out->Add("aex_node_sessions", "gauge", "Open sessions.", node, s->value("open", nlohmann::json()));
    out->Add("aex_node_handshakes", "gauge", "TLS handshakes in progress.", node,
             s->value("handshaking", nlohmann::json()));
    out->Add("aex_node_buffered_bytes", "gauge", "Bytes buffered for sessions.", node,
             s->value("buffered_bytes", nlohmann::json()));
  }
  out->Add("aex_node_resident_bytes", "gauge", "Resident set size of aex-node.", node,
           doc.value("rss_bytes", nlohmann::json()));
  out->Add("aex_node_tls", "gauge", "1 if the node's port and links use TLS.", node,
           doc.value("tls", nlohmann::json()));
  out->AddHistogram("aex_node_route_seconds",
                    "Time from a module's event frame read by the node to its hand-over to the "
                    "peer link or the destination module's channel.",
                    node, doc.value("route_seconds", nlohmann::json()));
  out->AddHistogram("aex_node_link_transit_seconds",
                    "Time from a peer node's send stamp on an event to its arrival here (the "
                    "two nodes' system clocks).",
                    node, doc.value("link_seconds", nlohmann::json()));
}

void AddPeers(const nlohmann::json& doc, const Labels& node, Exposition* out) {
  auto peers = doc.find("peers");
  if (peers == doc.end() || !peers->is_array()) return;
  static const std::pair<const char*, const char*> kGauges[] = {
      {"connected", "1 while the link to the peer is up."},
      {"backlog", "Events and requests waiting for a connection to the peer."},
      {"unacked", "Events sent to the peer and not acknowledged yet."}};
  static const std::pair<const char*, const char*> kCounters[] = {
      {"sent", "Frames handed to the peer link's socket."},
      {"refused", "Frames refused because the peer backlog was full."},
      {"connects", "Successful (re)connections to the peer."},
      {"resent", "Events sent again (lost connection, gap, no ACK)."},
      {"gaps", "Gaps the peer reported."},
      {"ack_timeouts", "Resends because no ACK came."},
      {"protocol_errors", "Impossible ACKs or malformed link frames; each reset the link."},
      {"undelivered", "Events the peer received but could not deliver."}};
  for (const auto& p : *peers) {
    Labels labels = node;
    labels.emplace_back("peer", Str(p, "peer"));
    for (const auto& [key, help] : kGauges) {
      out->Add(std::string("aex_peer_") + key, "gauge", help, labels, p.value(key, nlohmann::json()));
    }
    for (const auto& [key, help] : kCounters) {
      out->Add(std::string("aex_peer_") + key + "_total", "counter", help, labels,
               p.value(key, nlohmann::json()));
    }
    out->AddHistogram("aex_peer_ack_seconds",
                      "Time from sending an event to the peer's ACK covering it.", labels,
                      p.value("ack_seconds", nlohmann::json()));
  }
}

// The name of the module an entry's "module" id names (the id if unknown).
std::string ModuleName(const std::map<std::string, std::string>& names,
                       const nlohmann::json& entry) {
  auto it = names.find(Str(entry, "module"));
  return it != names.end() ? it->second : Str(entry, "module");
}

void AddModules(const nlohmann::json& doc, const Labels& node,
                const std::map<std::string, std::string>& names, Exposition* out) {
  if (auto routes = doc.find("routes"); routes != doc.end() && routes->is_array()) {
    for (const auto& r : *routes) {
      Labels labels = node;
      labels.emplace_back("module", ModuleName(names, r));
      labels.emplace_back("connection", Str(r, "connection"));
      labels.emplace_back("to", Str(r, "to"));
      out->Add("aex_route_undelivered_total", "counter",
               "Events on this route the receiving node could not deliver.", labels,
               r.value("undelivered", nlohmann::json()));
    }
  }
  std::map<std::string, nlohmann::json> restarts;  // by module name
  if (auto modules = doc.find("modules"); modules != doc.end() && modules->is_array()) {
    for (const auto& m : *modules) {
      Labels labels = node;
      labels.emplace_back("module", Str(m, "name"));
      labels.emplace_back("backend", Str(m, "backend_name"));
      Labels with_state = labels;
      with_state.emplace_back("state", Str(m, "state"));
      out->Add("aex_module_info", "gauge", "1 per module this node runs, with its state.",
               with_state, 1);
      out->Add("aex_module_attested", "gauge", "1 once the deployer attested the module.", labels,
               m.value("attested", nlohmann::json()));
      out->Add("aex_module_refused_total", "counter",
               "Events and calls refused because the module's queue was full (it does not take "
               "what its node sends).",
               labels, m.value("refused", nlohmann::json()));
      out->AddHistogram("aex_module_call_seconds",
                        "Time the module took to answer an entry call or a request.", labels,
                        m.value("call_seconds", nlohmann::json()));
      // Per name, not per instance: a dead instance may still be listed
      // beside the one that replaced it.
      restarts[Str(m, "name")] = m.value("restarts", nlohmann::json());
      auto stats = m.find("stats");
      if (stats == m.end() || !stats->is_object()) continue;
      for (const auto& [key, value] : stats->items()) {
        // Not counters: an identity and a flag.
        if (key == "instance_id") continue;
        // Timestamps for aex trace, not counters.
        if (key.ends_with("_at_ns")) continue;
        // Cumulative nanoseconds, exposed in the base unit.
        if (key.ends_with("_ns") && value.is_number_unsigned()) {
          const std::string step = key.substr(0, key.size() - 3);
          out->Add("aex_module_" + step + "_seconds_total", "counter",
                   "Time the module's runtime spent in " + step +
                       " (events: sealing outputs, opening inputs, input handlers).",
                   labels, value.get<uint64_t>() / 1e9);
          continue;
        }
        if (key == "disabled") {
          out->Add("aex_module_disabled", "gauge", "1 if the module disabled itself.", labels,
                   value);
          continue;
        }
        out->Add("aex_module_" + key + "_total", "counter",
                 "Module counter " + key + " (reported by the module's runtime).", labels, value);
      }
    }
  }
  for (const auto& [name, count] : restarts) {
    Labels labels = node;
    labels.emplace_back("module", name);
    out->Add("aex_module_restarts_total", "counter",
             "Loads of this module name after an earlier instance of it died on this node.",
             labels, count);
  }
  if (auto periodic = doc.find("periodic"); periodic != doc.end() && periodic->is_array()) {
    for (const auto& p : *periodic) {
      Labels labels = node;
      labels.emplace_back("module", ModuleName(names, p));
      labels.emplace_back("entry", Str(p, "entry"));
      out->Add("aex_periodic_fired_total", "counter", "Periodic calls made.", labels,
               p.value("fired", nlohmann::json()));
      out->Add("aex_periodic_failed_total", "counter", "Periodic calls that failed.", labels,
               p.value("failed", nlohmann::json()));
    }
  }
}

}  // namespace

std::string PrometheusText(const nlohmann::json& status) {
  if (!status.is_object()) return "";
  const Labels node = {{"node", Str(status, "node")}};
  // Module ids -> names, for the routes and periodic events.
  std::map<std::string, std::string> names;
  if (auto modules = status.find("modules"); modules != status.end() && modules->is_array()) {
    for (const auto& m : *modules) names[Str(m, "id")] = Str(m, "name");
  }
  Exposition out;
  AddNode(status, node, &out);
  AddPeers(status, node, &out);
  AddModules(status, node, names, &out);
  return out.Render();
}

}  // namespace aex::node
