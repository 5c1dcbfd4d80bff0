// LatencyHistogram: a fixed-bucket histogram of durations for the node-side
// hops /metrics exposes as Prometheus histograms (prometheus.h): how long a
// module takes to answer a call into its code (ModuleProcess), how long a
// peer takes to acknowledge an event (PeerLink), how long the node takes to
// route an event and how long a peer's event took to arrive (Node).
//
// Buckets are the same for every histogram (kBounds, in seconds, from
// 10 us to 10 s, plus +Inf), so that series aggregate across nodes. In the
// status document (ToJson) a histogram is
//   {"le": [0.0001, ...], "buckets": [cumulative counts, one per bound],
//    "count": N, "sum": seconds}
// with the +Inf bucket being "count".
//
// Threading: not thread-safe; the node's single io_context thread.

#ifndef AEX_NODE_LATENCY_HISTOGRAM_H_
#define AEX_NODE_LATENCY_HISTOGRAM_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>

namespace aex::node {

class LatencyHistogram {
 public:
  static constexpr std::array<double, 18> kBounds = {
      0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
      0.01,    0.025,    0.05,    0.1,    0.25,    0.5,    1,     2.5,    10};

  // A negative duration (a clock that cannot go back, but a caller's bug)
  // counts as 0.
  void Observe(std::chrono::steady_clock::duration d);
  // The time between two WallClockNanos() stamps, possibly of two machines
  // (a peer's clock behind ours counts as 0).
  void ObserveBetween(uint64_t from_ns, uint64_t to_ns) {
    Observe(std::chrono::nanoseconds(to_ns > from_ns ? to_ns - from_ns : 0));
  }
  uint64_t count() const { return count_; }
  double sum_seconds() const { return sum_; }
  nlohmann::json ToJson() const;

 private:
  std::array<uint64_t, kBounds.size()> in_bucket_{};  // not cumulative; above the last: +Inf only
  uint64_t count_ = 0;
  double sum_ = 0;
};

// The system clock in nanoseconds since the epoch: the stamps `aex trace`
// compares across processes and nodes (the module runtime's own are the same
// clock). Not monotonic; a trace, not a measure the node acts on.
uint64_t WallClockNanos();

}  // namespace aex::node

#endif  // AEX_NODE_LATENCY_HISTOGRAM_H_
