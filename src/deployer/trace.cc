#include "deployer/trace.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

#include "deployer/deployer.h"

namespace aex::deploy {
using nlohmann::json;

const char* TraceHopName(int hop) {
  static const char* const kNames[kHopCount] = {
      "module seal",    "module -> node", "node routing", "peer link",
      "node -> module", "module open",    "handler"};
  return hop >= 0 && hop < kHopCount ? kNames[hop] : "unknown";
}

namespace {

// j[key] as a count or stamp; 0 if absent, negative or not an integer.
uint64_t U64(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return 0;
  return it->is_number_unsigned() ? it->get<uint64_t>()
                                  : static_cast<uint64_t>(std::max<int64_t>(0, it->get<int64_t>()));
}

// j[key] if it is an array, else an empty one (by reference: the results
// below point into the report).
const json& Array(const json& j, const char* key) {
  static const json* const kEmpty = new json(json::array());
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : *kEmpty;
}

// The status document of the node named `name` in a report, or null.
const json* NodeStatus(const json& report, const std::string& name) {
  for (const auto& n : Array(report, "nodes")) {
    if (n.value("name", "") == name && n.contains("status") && n["status"].is_object()) {
      return &n["status"];
    }
  }
  return nullptr;
}

// The runtime counters of module `name` in a report, or null.
const json* ModuleStats(const json& report, const std::string& name) {
  for (const auto& m : Array(report, "modules")) {
    if (m.value("name", "") == name && m.contains("stats") && m["stats"].is_object()) {
      return &m["stats"];
    }
  }
  return nullptr;
}

// The entry of `list` (an array of objects) with module == m and
// connection == c, or null.
const json* Find(const json& status, const char* list, uint32_t m, uint32_t c) {
  for (const auto& e : Array(status, list)) {
    if (U64(e, "module") == m && U64(e, "connection") == c) return &e;
  }
  return nullptr;
}

}  // namespace

Result<TracePoint> ReadTracePoint(const json& report, const TracePath& path) {
  const json* src_node = NodeStatus(report, path.src_node);
  const json* dst_node = NodeStatus(report, path.dst_node);
  if (!src_node || !dst_node) return Status(Code::kUnavailable, "a node did not answer");
  const json* src = ModuleStats(report, path.src_module);
  const json* dst = ModuleStats(report, path.dst_module);
  if (!src || !dst) return Status(Code::kUnavailable, "a module reported no counters");
  TracePoint p;
  p.outputs = U64(*src, "outputs_sent");
  p.seal_ns = U64(*src, "seal_ns");
  p.sealed_at = U64(*src, "output_sealed_at_ns");
  if (const json* r = Find(*src_node, "routes", path.src_id, path.conn_id)) {
    p.route_received_at = U64(*r, "received_at_ns");
    p.route_routed_at = U64(*r, "routed_at_ns");
  }
  if (const json* a = Find(*dst_node, "arrivals", path.dst_id, path.conn_id)) {
    p.link_sent_at = U64(*a, "sent_at_ns");
    p.link_received_at = U64(*a, "received_at_ns");
    p.delivered_at = U64(*a, "delivered_at_ns");
  }
  p.inputs = U64(*dst, "events_accepted");
  p.open_ns = U64(*dst, "open_ns");
  p.handler_ns = U64(*dst, "handler_ns");
  p.received_at = U64(*dst, "event_received_at_ns");
  p.opened_at = U64(*dst, "event_opened_at_ns");
  return p;
}

std::optional<TraceSample> SampleBetween(const TracePoint& b, const TracePoint& a,
                                         bool cross_node) {
  if (a.outputs != b.outputs + 1 || a.inputs != b.inputs + 1) return std::nullopt;
  // This event's stamps, all of them new.
  if (a.sealed_at == b.sealed_at || a.route_routed_at == b.route_routed_at ||
      a.delivered_at == b.delivered_at || a.received_at == b.received_at ||
      (cross_node && a.link_sent_at == b.link_sent_at)) {
    return std::nullopt;
  }
  auto d = [](uint64_t later, uint64_t earlier) {
    return static_cast<int64_t>(later) - static_cast<int64_t>(earlier);
  };
  TraceSample s;
  s.hop_ns[kHopSeal] = d(a.seal_ns, b.seal_ns);
  s.hop_ns[kHopModuleToNode] = d(a.route_received_at, a.sealed_at + s.hop_ns[kHopSeal]);
  if (cross_node) {
    // Both nodes' own work: the source's up to its send stamp, the
    // destination's from the frame's arrival to the module's channel.
    s.hop_ns[kHopRouting] =
        d(a.link_sent_at, a.route_received_at) + d(a.delivered_at, a.link_received_at);
    s.hop_ns[kHopPeerLink] = d(a.link_received_at, a.link_sent_at);
  } else {
    s.hop_ns[kHopRouting] = d(a.route_routed_at, a.route_received_at);
  }
  s.hop_ns[kHopNodeToModule] = d(a.received_at, a.delivered_at);
  s.hop_ns[kHopOpen] = d(a.open_ns, b.open_ns);
  s.hop_ns[kHopHandler] = d(a.handler_ns, b.handler_ns);
  s.end_to_end_ns = d(a.opened_at, a.sealed_at) + s.hop_ns[kHopHandler];
  return s;
}

int64_t Percentile(std::vector<int64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

namespace {

double Us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::vector<int64_t> Column(const std::vector<TraceSample>& samples, int hop) {
  std::vector<int64_t> out;
  out.reserve(samples.size());
  for (const auto& s : samples) out.push_back(hop < 0 ? s.end_to_end_ns : s.hop_ns[hop]);
  return out;
}

// In microseconds; 0 for no values.
double Mean(const std::vector<int64_t>& values) {
  if (values.empty()) return 0;
  double total = 0;
  for (int64_t v : values) total += static_cast<double>(v);
  return total / static_cast<double>(values.size()) / 1000.0;
}

// Whether `hop` has samples on this path.
bool Measured(const TracePath& path, int hop) { return hop != kHopPeerLink || path.cross_node(); }

}  // namespace

json TraceReport::ToJson() const {
  json hops = json::array();
  double sum = 0, sum_of_means = 0;
  for (int h = 0; h < kHopCount; ++h) {
    if (!Measured(path, h)) continue;
    auto col = Column(samples, h);
    double median = Us(Percentile(col, 50));
    double mean = Mean(col);
    sum += median;
    sum_of_means += mean;
    hops.push_back({{"hop", TraceHopName(h)},
                    {"median_us", median},
                    {"mean_us", mean},
                    {"p99_us", Us(Percentile(col, 99))}});
  }
  auto e2e = Column(samples, -1);
  return {{"connection", path.cross_node() ? path.src_node + " -> " + path.dst_node : path.src_node},
          {"from", path.src_module},
          {"to", path.dst_module},
          {"entry", entry},
          {"events", samples.size()},
          {"discarded", discarded},
          {"hops", hops},
          {"sum_of_medians_us", sum},
          // Means add up where medians need not (a skewed hop under load):
          // their sum is the check that the hops cover the whole path.
          {"sum_of_means_us", sum_of_means},
          {"end_to_end",
           {{"median_us", Us(Percentile(e2e, 50))},
            {"mean_us", Mean(e2e)},
            {"p99_us", Us(Percentile(e2e, 99))}}}};
}

std::string TraceReport::ToTable() const {
  const json j = ToJson();
  std::string out;
  char line[160];
  snprintf(line, sizeof line, "%s (%s on %s -> %s on %s): %zu events, %d discarded\n",
           j["connection"].get<std::string>().c_str(), path.src_module.c_str(),
           path.src_node.c_str(), path.dst_module.c_str(), path.dst_node.c_str(), samples.size(),
           discarded);
  out += line;
  snprintf(line, sizeof line, "%-24s %12s %12s\n", "hop", "median", "p99");
  out += line;
  for (const auto& h : j["hops"]) {
    snprintf(line, sizeof line, "%-24s %9.1f us %9.1f us\n", h["hop"].get<std::string>().c_str(),
             h["median_us"].get<double>(), h["p99_us"].get<double>());
    out += line;
  }
  snprintf(line, sizeof line, "%-24s %9.1f us\n", "sum of the medians",
           j["sum_of_medians_us"].get<double>());
  out += line;
  snprintf(line, sizeof line, "%-24s %9.1f us %9.1f us\n", "end to end (measured)",
           j["end_to_end"]["median_us"].get<double>(), j["end_to_end"]["p99_us"].get<double>());
  out += line;
  return out;
}

namespace {

Result<TracePath> PathOf(Deployer& d, const Connection& c, const json& report) {
  TracePath p;
  p.src_module = c.from_module;
  p.dst_module = c.to_module;
  p.src_node = d.descriptor().FindModule(c.from_module)->node;
  p.dst_node = d.descriptor().FindModule(c.to_module)->node;
  for (const auto& m : Array(report, "modules")) {
    const std::string name = m.value("name", "");
    if (name == p.src_module) p.src_id = m.value("id", 0u);
    if (name == p.dst_module) p.dst_id = m.value("id", 0u);
  }
  for (const auto& e : Array(report, "connections")) {
    if (e.value("name", "") == c.name && e.value("established", false)) {
      p.conn_id = e.value("id", 0u);
    }
  }
  if (p.src_id == 0 || p.dst_id == 0 || p.conn_id == 0) {
    return FailedPrecondition("connection '" + c.name + "' is not established (aex up first)");
  }
  return p;
}

}  // namespace

Result<TraceReport> RunTrace(Deployer& d, const TraceOptions& o) {
  const Connection* c = d.descriptor().FindConnection(o.connection);
  if (!c) return NotFound("no connection named '" + o.connection + "'");
  if (c->direct || !c->from_output || !c->to_input) {
    return InvalidArgument("'" + o.connection +
                           "' is not a connection from a module's output to an input");
  }
  if (o.count < 1) return InvalidArgument("--count must be at least 1");
  TraceReport report;
  report.entry = o.entry;
  if (report.entry.empty()) {
    for (const auto& e : d.descriptor().periodic_events) {
      if (e.module == c->from_module) report.entry = e.entry.name;
    }
    if (report.entry.empty()) {
      return InvalidArgument("module '" + c->from_module +
                             "' has no periodic event: give --entry, an entry that outputs on '" +
                             o.connection + "'");
    }
  }
  json status = d.StatusReport();
  AEX_ASSIGN_OR_RETURN(report.path, PathOf(d, *c, status));
  const TracePath& path = report.path;
  using Clock = std::chrono::steady_clock;
  // Each reading opens a session to every node (a TLS handshake each):
  // reading while the event is in flight would load the very nodes being
  // measured. So the event gets kSettle first, and readings are kPoll apart.
  constexpr auto kSettle = std::chrono::milliseconds(5), kPoll = std::chrono::milliseconds(5);
  auto read = [&](Clock::time_point deadline) -> Result<TracePoint> {
    for (;;) {
      auto p = ReadTracePoint(d.StatusReport(), path);
      if (p.ok() || Clock::now() > deadline) return p;
      std::this_thread::sleep_for(kPoll);  // a module busy in a call
    }
  };
  const auto timeout = std::chrono::seconds(o.timeout_s);
  AEX_ASSIGN_OR_RETURN(TracePoint before, read(Clock::now() + timeout));
  // Bounded: a deployment with constant other traffic on these modules
  // gives up rather than loop for ever.
  const int max_events = o.count * 4 + 20;
  for (int sent = 0; static_cast<int>(report.samples.size()) < o.count; ++sent) {
    if (sent == max_events) {
      return Status(Code::kTimeout, "only " + std::to_string(report.samples.size()) + " of " +
                                        std::to_string(sent) +
                                        " events were alone on their path; other traffic?");
    }
    AEX_RETURN_IF_ERROR(d.Call(path.src_module, report.entry, {}).status());
    const auto deadline = Clock::now() + timeout;
    TracePoint after;
    std::this_thread::sleep_for(kSettle);
    for (;;) {  // until the event was handled at the destination
      AEX_ASSIGN_OR_RETURN(after, read(deadline));
      if (after.outputs > before.outputs && after.inputs > before.inputs &&
          after.received_at != before.received_at) {
        break;
      }
      std::this_thread::sleep_for(kPoll);
      if (Clock::now() > deadline) {
        return Status(Code::kTimeout, "event " + std::to_string(sent + 1) + " did not reach '" +
                                          path.dst_module + "' within " +
                                          std::to_string(o.timeout_s) + " s");
      }
    }
    if (auto s = SampleBetween(before, after, path.cross_node())) {
      report.samples.push_back(*s);
    } else {
      ++report.discarded;
    }
    before = after;
  }
  return report;
}

}  // namespace aex::deploy
