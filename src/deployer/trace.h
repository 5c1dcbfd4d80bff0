// `aex trace D --connection C`: where an event's time goes, hop by hop
// (docs/observability.md, "Where time goes").
//
// The deployer makes the connection's source module emit one event at a time
// (it calls an entry of that module that outputs on the connection, as `aex
// call` does) and, after each, reads the status of the nodes until the event
// has been handled at the destination. Every figure comes from stamps and
// counters the nodes and the modules' runtimes keep anyway, never from a
// payload:
//   - the source module's runtime: cumulative seal time, when the last seal
//     began (stats seal_ns, output_sealed_at_ns);
//   - the source node, per route: when the module's frame was read and when
//     it was handed on (routes[].received_at_ns, routed_at_ns);
//   - the destination node, per (module, connection): the sending node's
//     stamp carried in the LINK_EVENT's trailer, when it arrived and when it
//     was written to the module (arrivals[]);
//   - the destination module's runtime: when the event reached it, its
//     cumulative open and handler times (event_received_at_ns, open_ns,
//     handler_ns, event_opened_at_ns).
// An event is a sample only if exactly one output of the source and one
// input of the destination happened between two readings (other traffic, a
// periodic call in between: the event is discarded and another one sent).
//
// All stamps are the system clock; across machines the peer-link hop is only
// as good as the two clocks' agreement.

#ifndef AEX_DEPLOYER_TRACE_H_
#define AEX_DEPLOYER_TRACE_H_

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aex/status.h"

namespace aex::deploy {

class Deployer;

// The hops of an event, in order. kPeerLink is absent (0 samples) when both
// modules share a node.
enum TraceHop {
  kHopSeal, kHopModuleToNode, kHopRouting, kHopPeerLink, kHopNodeToModule, kHopOpen, kHopHandler,
  kHopCount
};
const char* TraceHopName(int hop);

// What identifies the traced event's path in a status report.
struct TracePath {
  std::string src_module, dst_module;  // names
  uint32_t src_id = 0, dst_id = 0, conn_id = 0;
  std::string src_node, dst_node;  // names
  bool cross_node() const { return src_node != dst_node; }
};

// The readings one status report gives for a path.
struct TracePoint {
  uint64_t outputs = 0, seal_ns = 0, sealed_at = 0;          // source module
  uint64_t route_received_at = 0, route_routed_at = 0;       // source node
  uint64_t link_sent_at = 0, link_received_at = 0, delivered_at = 0;  // destination node
  uint64_t inputs = 0, open_ns = 0, handler_ns = 0, received_at = 0, opened_at = 0;  // dst module
};

// Reads `path` out of a Deployer::StatusReport(). kUnavailable when a node
// did not answer or a module reported no counters (busy in a call).
Result<TracePoint> ReadTracePoint(const nlohmann::json& report, const TracePath& path);

// One event's hops (ns) and its end-to-end time (the source's seal start to
// the end of the destination's handler), or nullopt if `after` is not
// exactly one event of this path later than `before` (or a stamp is missing
// or goes back).
struct TraceSample {
  std::array<int64_t, kHopCount> hop_ns{};
  int64_t end_to_end_ns = 0;
};
std::optional<TraceSample> SampleBetween(const TracePoint& before, const TracePoint& after,
                                         bool cross_node);

struct TraceOptions {
  std::string connection;
  std::string entry;  // of the source module; default: its periodic event's entry
  int count = 100;    // samples wanted
  int timeout_s = 60;  // for each event to arrive
};

struct TraceReport {
  TracePath path;
  std::string entry;
  std::vector<TraceSample> samples;
  int discarded = 0;  // events that overlapped other traffic
  nlohmann::json ToJson() const;  // medians, p99s (us), sums
  std::string ToTable() const;
};

// Nearest-rank percentile (0 < p <= 100) of `values`; 0 if empty.
int64_t Percentile(std::vector<int64_t> values, double p);

Result<TraceReport> RunTrace(Deployer& d, const TraceOptions& o);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_TRACE_H_
