// LatencyHistogram: bucket placement (Prometheus "le": a value on a bound
// counts in that bound's bucket), cumulative JSON, +Inf as the count.

#include "node/latency_histogram.h"

#include <gtest/gtest.h>

namespace aex::node {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(LatencyHistogramTest, EmptyHasZeroBucketsAndSum) {
  nlohmann::json j = LatencyHistogram().ToJson();
  ASSERT_EQ(j["le"].size(), LatencyHistogram::kBounds.size());
  ASSERT_EQ(j["buckets"].size(), LatencyHistogram::kBounds.size());
  for (const auto& b : j["buckets"]) EXPECT_EQ(b, 0);
  EXPECT_EQ(j["count"], 0);
  EXPECT_EQ(j["sum"], 0.0);
}

TEST(LatencyHistogramTest, BucketsAreCumulativeAndInclusive) {
  LatencyHistogram h;
  h.Observe(microseconds(100));   // exactly the first bound: in it
  h.Observe(microseconds(101));   // just above: the next
  h.Observe(milliseconds(1));     // exactly 0.001
  h.Observe(milliseconds(20000)); // above every bound: +Inf only
  h.Observe(-milliseconds(5));    // a negative duration counts as 0
  nlohmann::json j = h.ToJson();
  EXPECT_EQ(j["le"][0], 0.00001);
  EXPECT_EQ(j["buckets"][0], 1);  // the 0
  EXPECT_EQ(j["le"][3], 0.0001);
  EXPECT_EQ(j["buckets"][3], 2);  // 100 us and the 0
  EXPECT_EQ(j["buckets"][4], 3);  // <= 250 us
  EXPECT_EQ(j["buckets"][6], 4);  // <= 1 ms
  EXPECT_EQ(j["buckets"].back(), 4);  // <= 10 s: not the 20 s
  EXPECT_EQ(j["count"], 5);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_NEAR(h.sum_seconds(), 0.0001 + 0.000101 + 0.001 + 20, 1e-9);
}

TEST(LatencyHistogramTest, BoundsAreIncreasing) {
  for (size_t i = 1; i < LatencyHistogram::kBounds.size(); ++i) {
    EXPECT_LT(LatencyHistogram::kBounds[i - 1], LatencyHistogram::kBounds[i]);
  }
}

}  // namespace
}  // namespace aex::node
