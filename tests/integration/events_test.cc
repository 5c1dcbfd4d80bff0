// End-to-end event delivery between real aex-node processes and real module
// processes: output->input and request->handler, on one node and across two,
// between C (ping, sink) and C++ (pong) modules, with payloads from 0 bytes to
// AEX_MAX_PAYLOAD, ordering, fan-out and periodic events.

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "aex/module.h"
#include "harness.h"
#include "test_modules.h"

namespace aex::itest {
namespace {

using channel::Role;

const std::vector<size_t> kSizes = {0, 1, 64, 4096, 65536, AEX_MAX_PAYLOAD};
constexpr auto kDeliveryTimeout = 15s;

struct InputStats {
  uint64_t events = 0, bytes = 0, hash = kHashInit;
};

struct PongStats {
  InputStats in;
  uint64_t handled = 0, forwarded = 0, forward_errors = 0;
};

std::vector<Bytes> SizedPayloads(uint32_t seed_base = 0) {
  std::vector<Bytes> out;
  for (size_t size : kSizes) out.push_back(Pattern(seed_base + static_cast<uint32_t>(size), size));
  return out;
}

uint64_t TotalBytes(const std::vector<Bytes>& events) {
  uint64_t n = 0;
  for (const Bytes& e : events) n += e.size();
  return n;
}

Bytes Complement(ByteSpan b) {
  Bytes out(b.begin(), b.end());
  for (auto& x : out) x = static_cast<uint8_t>(~x);
  return out;
}

class EventsTest : public ::testing::Test {
 protected:
  EventsTest() = default;
  // Node a started with these aex-node arguments on top of the harness's.
  explicit EventsTest(std::vector<std::string> a_args)
      : a_{dir_.Sub("a"), {.name = "a", .extra_args = std::move(a_args)}} {}

  void SetUp() override {
    ASSERT_OK(a_.Start());
    ASSERT_OK(b_.Start());
  }

  // ping_emit: returns the output stub's result.
  int32_t Emit(TestModule& ping, ByteSpan payload) {
    auto r = d_.CallEntry(ping, ping::kEmit, payload);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->size() != 4) return INT32_MIN;
    return static_cast<int32_t>(GetU32(*r, 0));
  }

  int32_t EmitPattern(TestModule& ping, uint32_t count, uint32_t size, uint32_t seed) {
    auto r = d_.CallEntry(ping, ping::kEmitPattern, U32s({count, size, seed}));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->size() != 4) return INT32_MIN;
    return static_cast<int32_t>(GetU32(*r, 0));
  }

  struct CallResult {
    int32_t rc = INT32_MIN;
    uint32_t len = 0;
    uint64_t hash = 0;
    Bytes inline_response;  // present when len <= 4096
  };
  CallResult ParseCall(const Result<Bytes>& r) {
    CallResult c;
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->size() < 16) return c;
    c.rc = static_cast<int32_t>(GetU32(*r, 0));
    c.len = GetU32(*r, 4);
    c.hash = GetU64(*r, 8);
    c.inline_response.assign(r->begin() + 16, r->end());
    return c;
  }
  CallResult Call(TestModule& ping, ByteSpan payload) {
    return ParseCall(d_.CallEntry(ping, ping::kCall, payload));
  }

  InputStats SinkStats(TestModule& sink, int input) {
    InputStats s;
    auto r = d_.CallEntry(sink, sink::kStats);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->size() != 56) return s;
    s.events = GetU64(*r, 24 * input);
    s.bytes = GetU64(*r, 24 * input + 8);
    s.hash = GetU64(*r, 24 * input + 16);
    return s;
  }
  uint64_t SinkEchoed(TestModule& sink) {
    auto r = d_.CallEntry(sink, sink::kStats);
    return r.ok() ? GetU64(*r, 48) : 0;
  }

  PongStats GetPongStats(TestModule& pong) {
    PongStats s;
    auto r = d_.CallEntry(pong, pong::kStats);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->size() != 48) return s;
    s.in = {GetU64(*r, 0), GetU64(*r, 8), GetU64(*r, 16)};
    s.handled = GetU64(*r, 24);
    s.forwarded = GetU64(*r, 32);
    s.forward_errors = GetU64(*r, 40);
    return s;
  }

  // ping_stats: ticks, events, bytes, hash.
  std::pair<uint64_t, InputStats> PingStats(TestModule& ping) {
    auto r = d_.CallEntry(ping, ping::kStats);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->size() != 32) return {0, {}};
    return {GetU64(*r, 0), {GetU64(*r, 8), GetU64(*r, 16), GetU64(*r, 24)}};
  }

  // Waits until `sink` input `input` has seen `events` events, then checks it
  // saw exactly `expected`, in order.
  void ExpectSinkReceived(TestModule& sink, int input, const std::vector<Bytes>& expected) {
    InputStats s;
    EXPECT_TRUE(WaitFor(
        [&] {
          s = SinkStats(sink, input);
          return s.events >= expected.size();
        },
        kDeliveryTimeout))
        << "sink " << sink.id << " input " << input << " got " << s.events << " of "
        << expected.size() << " events";
    EXPECT_EQ(s.events, expected.size());
    EXPECT_EQ(s.bytes, TotalBytes(expected));
    EXPECT_EQ(s.hash, HashChain(expected)) << "content or order differs";
  }

  TempDir dir_;
  NodeProcess a_{dir_.Sub("a"), {.name = "a"}};
  NodeProcess b_{dir_.Sub("b"), {.name = "b"}};
  TestDeployer d_;
};

// ------------------------------------------------------------ output->input

TEST_F(EventsTest, LocalOutputToInputCToCpp) {
  ASSERT_OK_AND_ASSIGN(TestModule * ping, d_.Load(a_, ping::kBin, "ping"));
  ASSERT_OK_AND_ASSIGN(TestModule * pong, d_.Load(a_, pong::kBin, "pong"));
  ASSERT_OK(d_.Connect(*ping, ping::kOut, *pong, pong::kIn));

  const auto payloads = SizedPayloads();
  for (const Bytes& p : payloads) {
    EXPECT_EQ(Emit(*ping, p), 1) << "size " << p.size();
  }
  PongStats s;
  EXPECT_TRUE(WaitFor(
      [&] {
        s = GetPongStats(*pong);
        return s.in.events >= payloads.size();
      },
      kDeliveryTimeout));
  EXPECT_EQ(s.in.events, payloads.size());
  EXPECT_EQ(s.in.bytes, TotalBytes(payloads));
  EXPECT_EQ(s.in.hash, HashChain(payloads));
  // pong's own output is not connected: forwarding reaches no connection.
  EXPECT_EQ(s.forwarded, 0u);
  EXPECT_EQ(s.forward_errors, 0u);

  // The runtimes' counters agree.
  EXPECT_EQ(d_.Stat(*ping, "outputs_sent"), static_cast<int64_t>(payloads.size()));
  EXPECT_EQ(d_.Stat(*pong, "events_accepted"), static_cast<int64_t>(payloads.size()));
  EXPECT_EQ(d_.Stat(*pong, "rejected_auth"), 0);
  EXPECT_EQ(d_.Stat(*pong, "rejected_replay"), 0);
  EXPECT_EQ(d_.Stat(*pong, "rejected_routing"), 0);
}

TEST_F(EventsTest, CrossNodeChainCToCppToC) {
  // ping(a) -> pong(b) -> sink(a): C to C++ and C++ to C, both across nodes.
  ASSERT_OK_AND_ASSIGN(TestModule * ping, d_.Load(a_, ping::kBin, "ping"));
  ASSERT_OK_AND_ASSIGN(TestModule * pong, d_.Load(b_, pong::kBin, "pong"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d_.Load(a_, sink::kBin, "sink"));
  ASSERT_OK(d_.Connect(*ping, ping::kOut, *pong, pong::kIn));
  ASSERT_OK(d_.Connect(*pong, pong::kOut, *sink, sink::kIn));

  const auto payloads = SizedPayloads(7);
  for (const Bytes& p : payloads) EXPECT_EQ(Emit(*ping, p), 1) << "size " << p.size();
  ExpectSinkReceived(*sink, 0, payloads);

  PongStats s = GetPongStats(*pong);
  EXPECT_EQ(s.in.events, payloads.size());
  EXPECT_EQ(s.in.hash, HashChain(payloads));
  EXPECT_EQ(s.forwarded, payloads.size());
  EXPECT_EQ(s.forward_errors, 0u);

  // The peer link is visible in a's status.
  ASSERT_OK_AND_ASSIGN(auto status, d_.NodeStatus(a_));
  ASSERT_TRUE(status.contains("peers"));
  bool found = false;
  for (const auto& p : status["peers"]) {
    if (p.value("peer", "") == "127.0.0.1:" + std::to_string(b_.port())) found = true;
  }
  EXPECT_TRUE(found) << status.dump();
}

TEST_F(EventsTest, DirectEventsFromDeployerToCAndCppInputs) {
  ASSERT_OK_AND_ASSIGN(TestModule * pong, d_.Load(a_, pong::kBin, "pong"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d_.Load(b_, sink::kBin, "sink"));
  ASSERT_OK_AND_ASSIGN(TestConnection to_pong, d_.ConnectDirect(*pong, Role::kInput, pong::kIn));
  ASSERT_OK_AND_ASSIGN(TestConnection to_sink, d_.ConnectDirect(*sink, Role::kInput, sink::kIn2));

  const auto payloads = SizedPayloads(11);
  for (const Bytes& p : payloads) {
    ASSERT_OK(d_.SendEvent(to_pong, p));
    ASSERT_OK(d_.SendEvent(to_sink, p));
  }
  ExpectSinkReceived(*sink, 1, payloads);
  EXPECT_EQ(SinkStats(*sink, 0).events, 0u);
  PongStats s;
  EXPECT_TRUE(WaitFor(
      [&] {
        s = GetPongStats(*pong);
        return s.in.events >= payloads.size();
      },
      kDeliveryTimeout));
  EXPECT_EQ(s.in.events, payloads.size());
  EXPECT_EQ(s.in.bytes, TotalBytes(payloads));
  EXPECT_EQ(s.in.hash, HashChain(payloads));
}

// ---------------------------------------------------------- request->handler

TEST_F(EventsTest, LocalRequestToCppHandler) {
  ASSERT_OK_AND_ASSIGN(TestModule * ping, d_.Load(a_, ping::kBin, "ping"));
  ASSERT_OK_AND_ASSIGN(TestModule * pong, d_.Load(a_, pong::kBin, "pong"));
  ASSERT_OK(d_.ConnectRequest(*ping, ping::kReq, *pong, pong::kHandle));

  for (const Bytes& p : SizedPayloads(3)) {
    SCOPED_TRACE("size " + std::to_string(p.size()));
    CallResult r = Call(*ping, p);
    EXPECT_EQ(r.rc, AEX_OK);
    EXPECT_EQ(r.len, p.size());
    Bytes expected = Complement(p);
    EXPECT_EQ(r.hash, HashEvent(kHashInit, expected));
    if (p.size() <= 4096) {
      EXPECT_EQ(r.inline_response, expected);
    }
  }
  EXPECT_EQ(GetPongStats(*pong).handled, kSizes.size());
  EXPECT_EQ(d_.Stat(*pong, "requests_handled"), static_cast<int64_t>(kSizes.size()));
  EXPECT_EQ(d_.Stat(*ping, "requests_sent"), static_cast<int64_t>(kSizes.size()));
}

TEST_F(EventsTest, CrossNodeRequestsBothWays) {
  // ping1(a) -> pong(b) (C to C++), ping2(b) -> sink(a) (C to C).
  ASSERT_OK_AND_ASSIGN(TestModule * ping1, d_.Load(a_, ping::kBin, "ping1"));
  ASSERT_OK_AND_ASSIGN(TestModule * ping2, d_.Load(b_, ping::kBin, "ping2"));
  ASSERT_OK_AND_ASSIGN(TestModule * pong, d_.Load(b_, pong::kBin, "pong"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d_.Load(a_, sink::kBin, "sink"));
  ASSERT_OK(d_.ConnectRequest(*ping1, ping::kReq, *pong, pong::kHandle));
  ASSERT_OK(d_.ConnectRequest(*ping2, ping::kReq, *sink, sink::kEcho));

  for (size_t size : kSizes) {
    SCOPED_TRACE("size " + std::to_string(size));
    const uint32_t seed = 1000 + static_cast<uint32_t>(size);
    Bytes p = Pattern(seed, size);
    CallResult r1 = ParseCall(
        d_.CallEntry(*ping1, ping::kCallPattern, U32s({static_cast<uint32_t>(size), seed})));
    EXPECT_EQ(r1.rc, AEX_OK);
    EXPECT_EQ(r1.len, size);
    EXPECT_EQ(r1.hash, HashEvent(kHashInit, Complement(p)));
    CallResult r2 = Call(*ping2, p);
    EXPECT_EQ(r2.rc, AEX_OK);
    EXPECT_EQ(r2.len, size);
    EXPECT_EQ(r2.hash, HashEvent(kHashInit, p));
    if (size <= 4096) {
      EXPECT_EQ(r2.inline_response, p);
    }
  }
  EXPECT_EQ(GetPongStats(*pong).handled, kSizes.size());
  EXPECT_EQ(SinkEchoed(*sink), kSizes.size());
}

TEST_F(EventsTest, DirectRequestsFromDeployerToCAndCppHandlers) {
  ASSERT_OK_AND_ASSIGN(TestModule * pong, d_.Load(a_, pong::kBin, "pong"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d_.Load(b_, sink::kBin, "sink"));
  ASSERT_OK_AND_ASSIGN(TestConnection to_pong,
                       d_.ConnectDirect(*pong, Role::kHandler, pong::kHandle));
  ASSERT_OK_AND_ASSIGN(TestConnection to_sink,
                       d_.ConnectDirect(*sink, Role::kHandler, sink::kEcho));
  for (const Bytes& p : SizedPayloads(5)) {
    SCOPED_TRACE("size " + std::to_string(p.size()));
    ASSERT_OK_AND_ASSIGN(Bytes r1, d_.Request(to_pong, p));
    EXPECT_TRUE(r1 == Complement(p));
    ASSERT_OK_AND_ASSIGN(Bytes r2, d_.Request(to_sink, p));
    EXPECT_TRUE(r2 == p);
  }
}

// ------------------------------------------------- ordering, fan-out, limits

TEST_F(EventsTest, ManyEventsArriveInOrderLocallyAndAcrossNodes) {
  ASSERT_OK_AND_ASSIGN(TestModule * ping_local, d_.Load(a_, ping::kBin, "ping_local"));
  ASSERT_OK_AND_ASSIGN(TestModule * ping_remote, d_.Load(b_, ping::kBin, "ping_remote"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d_.Load(a_, sink::kBin, "sink"));
  ASSERT_OK(d_.Connect(*ping_local, ping::kOut, *sink, sink::kIn));
  ASSERT_OK(d_.Connect(*ping_remote, ping::kOut, *sink, sink::kIn2));

  // Batches of different sizes, so that a reordering changes the chain.
  struct Batch {
    uint32_t count, size, seed;
  };
  const std::vector<Batch> batches = {{1500, 16, 1}, {10, 65536, 5000}, {500, 0, 9000},
                                      {500, 200, 20000}};
  std::vector<Bytes> expected;
  for (const Batch& b : batches) {
    EXPECT_EQ(EmitPattern(*ping_local, b.count, b.size, b.seed), static_cast<int32_t>(b.count));
    EXPECT_EQ(EmitPattern(*ping_remote, b.count, b.size, b.seed),
              static_cast<int32_t>(b.count));
    for (uint32_t k = 0; k < b.count; ++k) expected.push_back(Pattern(b.seed + k, b.size));
  }
  ExpectSinkReceived(*sink, 0, expected);
  ExpectSinkReceived(*sink, 1, expected);
  EXPECT_EQ(d_.Stat(*sink, "rejected_replay"), 0);
  EXPECT_EQ(d_.Stat(*sink, "events_accepted"), static_cast<int64_t>(2 * expected.size()));
}

// A sender faster than its peer link: node a's link holds at most 64 frames
// waiting or unacknowledged (the peer acknowledges every 2 ms), and ping
// emits thousands of events in one call. Without flow control the link
// refuses most of them (EVENT_REFUSED to the sender); with it node a stops
// taking ping's events while the link is congested, ping waits on its full
// ring, and every event arrives, in order.
class FlowControlTest : public EventsTest {
 protected:
  FlowControlTest() : EventsTest({"--peer-backlog", "64"}) {}
};

TEST_F(FlowControlTest, ABurstBeyondThePeerLinkBoundArrivesWhole) {
  ASSERT_OK_AND_ASSIGN(TestModule * ping, d_.Load(a_, ping::kBin, "ping"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d_.Load(b_, sink::kBin, "sink"));
  ASSERT_OK(d_.Connect(*ping, ping::kOut, *sink, sink::kIn));
  constexpr uint32_t kCount = 5000;
  EXPECT_EQ(EmitPattern(*ping, kCount, 16, 1), static_cast<int32_t>(kCount));
  std::vector<Bytes> expected;
  for (uint32_t k = 0; k < kCount; ++k) expected.push_back(Pattern(1 + k, 16));
  ExpectSinkReceived(*sink, 0, expected);
  EXPECT_EQ(d_.Stat(*ping, "outputs_refused"), 0);
  ASSERT_OK_AND_ASSIGN(auto status, d_.NodeStatus(a_));
  EXPECT_EQ(status["counters"].value("events_undeliverable", -1), 0) << status.dump();
  EXPECT_GT(status["counters"].value("flow_holds", 0), 0) << status.dump();
}

TEST_F(EventsTest, FanOutOneOutputOnTwoConnections) {
  ASSERT_OK_AND_ASSIGN(TestModule * ping, d_.Load(a_, ping::kBin, "ping"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink_a, d_.Load(a_, sink::kBin, "sink_a"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink_b, d_.Load(b_, sink::kBin, "sink_b"));
  ASSERT_OK_AND_ASSIGN(TestModule * pong, d_.Load(b_, pong::kBin, "pong"));
  ASSERT_OK(d_.Connect(*ping, ping::kOut, *sink_a, sink::kIn));
  ASSERT_OK(d_.Connect(*ping, ping::kOut, *sink_b, sink::kIn2));

  const auto payloads = SizedPayloads(21);
  for (const Bytes& p : payloads) EXPECT_EQ(Emit(*ping, p), 2) << "size " << p.size();
  ExpectSinkReceived(*sink_a, 0, payloads);
  ExpectSinkReceived(*sink_b, 1, payloads);

  // A third connection on the same output, added later, gets only what is
  // emitted after it exists.
  ASSERT_OK(d_.Connect(*ping, ping::kOut, *pong, pong::kIn));
  Bytes last = Pattern(99, 300);
  EXPECT_EQ(Emit(*ping, last), 3);
  auto with_last = payloads;
  with_last.push_back(last);
  ExpectSinkReceived(*sink_a, 0, with_last);
  ExpectSinkReceived(*sink_b, 1, with_last);
  PongStats s;
  EXPECT_TRUE(WaitFor(
      [&] {
        s = GetPongStats(*pong);
        return s.in.events >= 1;
      },
      kDeliveryTimeout));
  EXPECT_EQ(s.in.events, 1u);
  EXPECT_EQ(s.in.hash, HashChain({last}));
}

TEST_F(EventsTest, OutputAndRequestLimits) {
  ASSERT_OK_AND_ASSIGN(TestModule * ping, d_.Load(a_, ping::kBin, "ping"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d_.Load(a_, sink::kBin, "sink"));
  // Nothing keyed yet: an output reaches no connection, a request fails.
  EXPECT_EQ(Emit(*ping, AsBytes("nobody")), 0);
  EXPECT_EQ(Call(*ping, AsBytes("anyone?")).rc, AEX_ERR_NOT_CONNECTED);

  ASSERT_OK(d_.Connect(*ping, ping::kOut, *sink, sink::kIn));
  ASSERT_OK(d_.ConnectRequest(*ping, ping::kReq, *sink, sink::kEcho));
  // One byte over the maximum is refused by the sender's runtime; exactly the
  // maximum goes through.
  EXPECT_EQ(EmitPattern(*ping, 1, AEX_MAX_PAYLOAD + 1, 1), AEX_ERR_TOO_LARGE);
  EXPECT_EQ(ParseCall(d_.CallEntry(*ping, ping::kCallPattern, U32s({AEX_MAX_PAYLOAD + 1, 1})))
                .rc,
            AEX_ERR_TOO_LARGE);
  EXPECT_EQ(EmitPattern(*ping, 1, AEX_MAX_PAYLOAD, 2), 1);
  ExpectSinkReceived(*sink, 0, {Pattern(2, AEX_MAX_PAYLOAD)});
  // An entry argument above the maximum is refused by the module.
  EXPECT_FALSE(d_.CallEntry(*ping, ping::kEmit, Bytes(AEX_MAX_PAYLOAD + 1, 0x11)).ok());
  EXPECT_EQ(Emit(*ping, AsBytes("still fine")), 1);
}

// ----------------------------------------------------------------- periodic

TEST_F(EventsTest, PeriodicEventsCallTheEntry) {
  ASSERT_OK_AND_ASSIGN(TestModule * ping, d_.Load(a_, ping::kBin, "ping"));
  ASSERT_OK_AND_ASSIGN(deploy::NodeClient * client, d_.Client(a_));
  ASSERT_OK_AND_ASSIGN(uint32_t periodic_id, client->RegisterPeriodic(ping->id, ping::kTick, 20));
  EXPECT_NE(periodic_id, 0u);

  uint64_t ticks = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        ticks = PingStats(*ping).first;
        return ticks >= 5;
      },
      60s))
      << "only " << ticks << " ticks";
  // The counter keeps rising.
  const uint64_t seen = ticks;
  EXPECT_TRUE(WaitFor([&] { return PingStats(*ping).first > seen; }, 60s));

  ASSERT_OK_AND_ASSIGN(auto status, d_.NodeStatus(a_));
  ASSERT_TRUE(status.contains("periodic"));
  ASSERT_EQ(status["periodic"].size(), 1u) << status.dump();
  EXPECT_EQ(status["periodic"][0].value("module", 0u), ping->id);
  EXPECT_EQ(status["periodic"][0].value("period_ms", 0u), 20u);
  EXPECT_GE(status["periodic"][0].value("fired", uint64_t{0}), 5u);
  EXPECT_EQ(status["periodic"][0].value("failed", uint64_t{1}), 0u);

  // A period of 0 and an unknown module are refused.
  EXPECT_FALSE(client->RegisterPeriodic(ping->id, ping::kTick, 0).ok());
  EXPECT_FALSE(client->RegisterPeriodic(ping->id + 1000, ping::kTick, 20).ok());
}

}  // namespace
}  // namespace aex::itest
