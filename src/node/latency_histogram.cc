#include "node/latency_histogram.h"

#include <algorithm>

namespace aex::node {

void LatencyHistogram::Observe(std::chrono::steady_clock::duration d) {
  const double s = std::max(0.0, std::chrono::duration<double>(d).count());
  // The first bound at or above s: Prometheus buckets are "le" (<=).
  auto it = std::lower_bound(kBounds.begin(), kBounds.end(), s);
  if (it != kBounds.end()) ++in_bucket_[static_cast<size_t>(it - kBounds.begin())];
  ++count_;
  sum_ += s;
}

uint64_t WallClockNanos() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

nlohmann::json LatencyHistogram::ToJson() const {
  nlohmann::json buckets = nlohmann::json::array();
  uint64_t cumulative = 0;
  for (uint64_t n : in_bucket_) buckets.push_back(cumulative += n);
  return {{"le", kBounds}, {"buckets", buckets}, {"count", count_}, {"sum", sum_}};
}

}  // namespace aex::node
