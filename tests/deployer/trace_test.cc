// aex trace's arithmetic: reading a path out of a status report, the hops of
// one event between two readings, and refusing readings that are not exactly
// one event apart.

#include "deployer/trace.h"

#include <gtest/gtest.h>

namespace aex::deploy {
namespace {

using nlohmann::json;

// ping (id 1 on node a) -> pong (id 1 on node b: ids are per node) on
// connection 7. Built whole: GCC 12 at -O3 flags assigning the short names
// one by one with a false -Wrestrict.
TracePath CrossPath() { return TracePath{"ping", "pong", 1, 1, 7, "a", "b"}; }

// A status report as Deployer::StatusReport() makes it, with the trace's
// readings at time base + offsets (ns).
json Report(uint64_t outputs, uint64_t inputs, uint64_t base) {
  json src_node = {{"routes", json::array({{{"module", 1}, {"connection", 7},
                                            {"received_at_ns", base + 3000},
                                            {"routed_at_ns", base + 5000}},
                                           {{"module", 1}, {"connection", 8},
                                            {"received_at_ns", 1}, {"routed_at_ns", 2}}})}};
  json dst_node = {{"arrivals", json::array({{{"module", 1}, {"connection", 7},
                                              {"sent_at_ns", base + 4000},
                                              {"received_at_ns", base + 24000},
                                              {"delivered_at_ns", base + 26000}}})}};
  json ping = {{"outputs_sent", outputs}, {"seal_ns", outputs * 1000},
               {"output_sealed_at_ns", base}, {"events_accepted", 99}};
  json pong = {{"events_accepted", inputs}, {"open_ns", inputs * 2000},
               {"handler_ns", inputs * 5000}, {"event_received_at_ns", base + 30000},
               {"event_opened_at_ns", base + 32000}, {"outputs_sent", 50}};
  return {{"nodes", json::array({{{"name", "a"}, {"status", src_node}},
                                 {{"name", "b"}, {"status", dst_node}}})},
          {"modules", json::array({{{"name", "ping"}, {"stats", ping}},
                                   {{"name", "pong"}, {"stats", pong}}})}};
}

TEST(TraceTest, ReadsThePathsOwnEntries) {
  auto p = ReadTracePoint(Report(4, 6, 1000000), CrossPath());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->outputs, 4u);
  EXPECT_EQ(p->inputs, 6u);  // pong's, not ping's 99
  EXPECT_EQ(p->route_received_at, 1003000u);  // connection 7's route, not 8's
  EXPECT_EQ(p->link_sent_at, 1004000u);
  EXPECT_EQ(p->opened_at, 1032000u);
}

TEST(TraceTest, UnreachableNodeOrBusyModuleIsNoReading) {
  json r = Report(1, 1, 1000);
  r["nodes"][1].erase("status");
  EXPECT_EQ(ReadTracePoint(r, CrossPath()).status().code(), Code::kUnavailable);
  r = Report(1, 1, 1000);
  r["modules"][0].erase("stats");  // busy in a call: listed without counters
  EXPECT_EQ(ReadTracePoint(r, CrossPath()).status().code(), Code::kUnavailable);
}

TEST(TraceTest, HopsOfOneEventAddUpToItsEndToEnd) {
  auto before = ReadTracePoint(Report(4, 6, 1000000), CrossPath());
  auto after = ReadTracePoint(Report(5, 7, 2000000), CrossPath());
  ASSERT_TRUE(before.ok() && after.ok());
  auto s = SampleBetween(*before, *after, true);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->hop_ns[kHopSeal], 1000);            // seal_ns grew by 1000
  EXPECT_EQ(s->hop_ns[kHopModuleToNode], 2000);    // read at +3000, seal ended at +1000
  EXPECT_EQ(s->hop_ns[kHopRouting], 1000 + 2000);  // a: +3000..+4000, b: +24000..+26000
  EXPECT_EQ(s->hop_ns[kHopPeerLink], 20000);       // sent +4000, arrived +24000
  EXPECT_EQ(s->hop_ns[kHopNodeToModule], 4000);    // delivered +26000, reached +30000
  EXPECT_EQ(s->hop_ns[kHopOpen], 2000);
  EXPECT_EQ(s->hop_ns[kHopHandler], 5000);
  EXPECT_EQ(s->end_to_end_ns, 32000 + 5000);
  int64_t sum = 0;
  for (int64_t h : s->hop_ns) sum += h;
  EXPECT_EQ(sum, s->end_to_end_ns);
}

TEST(TraceTest, OnOneNodeThereIsNoPeerLink) {
  const TracePath path{"ping", "pong", 1, 1, 7, "a", "a"};
  // Node a delivers to the local module as it routes: one stamp for both.
  auto local = [](uint64_t outputs, uint64_t inputs, uint64_t base) {
    json r = Report(outputs, inputs, base);
    r["nodes"][0]["status"]["arrivals"] = json::array(
        {{{"module", 1}, {"connection", 7}, {"sent_at_ns", 0},
          {"received_at_ns", base + 3000}, {"delivered_at_ns", base + 5000}}});
    return r;
  };
  auto before = ReadTracePoint(local(4, 6, 1000000), path);
  auto after = ReadTracePoint(local(5, 7, 2000000), path);
  ASSERT_TRUE(before.ok() && after.ok());
  auto s = SampleBetween(*before, *after, false);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->hop_ns[kHopPeerLink], 0);
  EXPECT_EQ(s->hop_ns[kHopRouting], 2000);  // +3000..+5000 on the one node
  EXPECT_EQ(s->hop_ns[kHopNodeToModule], 25000);
  int64_t sum = 0;
  for (int64_t h : s->hop_ns) sum += h;
  EXPECT_EQ(sum, s->end_to_end_ns);
}

TEST(TraceTest, ReadingsNotExactlyOneEventApartAreDiscarded) {
  auto at = [](uint64_t outputs, uint64_t inputs, uint64_t base) {
    return *ReadTracePoint(Report(outputs, inputs, base), CrossPath());
  };
  EXPECT_FALSE(SampleBetween(at(4, 6, 1000), at(6, 8, 2000), true)) << "two events";
  EXPECT_FALSE(SampleBetween(at(4, 6, 1000), at(5, 8, 2000), true)) << "other input";
  EXPECT_FALSE(SampleBetween(at(4, 6, 1000), at(5, 6, 2000), true)) << "not arrived yet";
  EXPECT_FALSE(SampleBetween(at(4, 6, 1000), at(5, 7, 1000), true)) << "stale stamps";
  EXPECT_TRUE(SampleBetween(at(4, 6, 1000), at(5, 7, 2000), true));
}

TEST(TraceTest, PercentileIsNearestRank) {
  std::vector<int64_t> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  EXPECT_EQ(Percentile(v, 50), 50);
  EXPECT_EQ(Percentile(v, 99), 99);
  EXPECT_EQ(Percentile({7}, 99), 7);
  EXPECT_EQ(Percentile({}, 50), 0);
}

}  // namespace
}  // namespace aex::deploy
