// A module that abuses its shared-memory channel (wire/ring.h) hurts only
// itself, on a real aex-node process: a corrupt ring or a frame over every
// limit gets it killed with the reason in the node's status; one that stops
// reading has its backlog bounded and further events refused and counted;
// one killed half-way through writing a frame is reported as exited. In each
// case a healthy module on the same node keeps taking events and answering
// calls. (The misbehaving module: tests/integration/modules/ringbad.cc.)

#include <signal.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "harness.h"
#include "test_modules.h"

namespace aex::itest {
namespace {

using channel::Role;

class ModuleChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(node_.Start());
    ASSERT_OK_AND_ASSIGN(bad_, d_.Load(node_, ringbad::kBin, "ringbad"));
    ASSERT_OK_AND_ASSIGN(sink_, d_.Load(node_, sink::kBin, "sink"));
    ASSERT_OK_AND_ASSIGN(to_sink_, d_.ConnectDirect(*sink_, Role::kInput, sink::kIn));
    ASSERT_OK_AND_ASSIGN(Bytes ok, d_.CallEntry(*bad_, ringbad::kOk));
    EXPECT_EQ(std::string(ok.begin(), ok.end()), "ok");
    ExpectSinkServes();
  }

  // Sends `what` to the ringbad input and returns its pid.
  pid_t Trigger(ringbad::Input input) {
    auto c = d_.ConnectDirect(*bad_, Role::kInput, input);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return -1;
    to_bad_ = *c;
    auto entry = d_.ModuleStatus(*bad_);
    const pid_t pid = entry.ok() ? entry->value("pid", -1) : -1;
    EXPECT_OK(d_.SendEvent(to_bad_, AsBytes("go")));
    return pid;
  }

  // The healthy module takes one more event and answers calls (asked
  // directly: a node status would wait for a stalled module's answer).
  void ExpectSinkServes() {
    ASSERT_TRUE(node_.Alive()) << "aex-node died";
    ASSERT_OK(d_.SendEvent(to_sink_, AsBytes("still here")));
    ++sink_events_;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto stats = d_.CallEntry(*sink_, sink::kStats);
          return stats.ok() && GetU64(*stats, 0) == static_cast<uint64_t>(sink_events_);
        },
        10s));
  }

  // Waits until the node reports ringbad exited; returns its reason.
  std::string ExitReason(pid_t pid) {
    EXPECT_TRUE(WaitFor([&] { return d_.State(*bad_) == "exited"; }, 15s))
        << "state: " << d_.State(*bad_);
    auto entry = d_.ModuleStatus(*bad_);
    EXPECT_TRUE(entry.ok());
    // Reaped: no process left behind.
    EXPECT_TRUE(WaitFor([&] { return pid > 0 && kill(pid, 0) != 0; }, 15s)) << pid;
    return entry.ok() ? entry->value("reason", std::string()) : "";
  }

  // Triggers `input`; ringbad must be killed with `why` in its reason, and
  // the healthy module keep serving.
  void ExpectKilledBecause(ringbad::Input input, const std::string& why) {
    const std::string reason = ExitReason(Trigger(input));
    EXPECT_NE(reason.find(why), std::string::npos) << reason;
    EXPECT_NE(reason.find("killed"), std::string::npos) << reason;
    ExpectSinkServes();
  }

  TempDir dir_;
  // Short: a status query asks every module for its counters, and waits for
  // a stalled one until its call timeout kills it as hung.
  NodeProcess node_{dir_.Sub("node"), {.name = "rings", .call_timeout_ms = 2000}};
  TestDeployer d_;
  TestModule* bad_ = nullptr;
  TestModule* sink_ = nullptr;
  TestConnection to_sink_, to_bad_;
  int64_t sink_events_ = 0;
};

TEST_F(ModuleChannelTest, CorruptIndexGetsTheModuleKilledAndReported) {
  ExpectKilledBecause(ringbad::kCorrupt, "module ring corrupt: up head");
  EXPECT_EQ(d_.CallEntry(*bad_, ringbad::kOk).status().code(), Code::kUnavailable);
}

TEST_F(ModuleChannelTest, GarbageFrameLengthGetsTheModuleKilledAndReported) {
  ExpectKilledBecause(ringbad::kLength, "frame of 4294967280 bytes");
}

// It never reads `down` again: the ring fills, the node queues up to its
// bound, then refuses (the deployer's event fails) and counts it; the node's
// memory stays bounded. The module is left alone until a call it cannot
// answer (here a status query's) times out: then it is killed as hung, as
// before, and its refusals stay in its status.
TEST_F(ModuleChannelTest, StalledModuleIsRefusedAndCountedNotBuffered) {
  const pid_t pid = Trigger(ringbad::kStall);
  ASSERT_GT(pid, 0);
  const Bytes big = Pattern(7, 1000000);  // under AEX_MAX_PAYLOAD
  int accepted = 0;
  Status refused;
  while (refused.ok() && accepted < 200) {
    refused = d_.SendEvent(to_bad_, big);
    if (refused.ok()) ++accepted;
  }
  EXPECT_EQ(refused.code(), Code::kResourceExhausted)
      << "accepted " << accepted << " MB for a module that reads nothing: " << refused.ToString();
  EXPECT_GE(accepted, 60);  // the ring and the 64 MiB queue first
  EXPECT_LT(accepted, 200);
  EXPECT_EQ(d_.SendEvent(to_bad_, big).code(), Code::kResourceExhausted);  // again
  // The node holds the bound, not what was offered (its RSS, from /proc).
  std::ifstream statm("/proc/" + std::to_string(node_.pid()) + "/statm");
  uint64_t pages = 0, resident = 0;
  ASSERT_TRUE(statm >> pages >> resident);
#ifdef AEX_SANITIZER_BUILD
  const uint64_t bound = uint64_t{640} << 20;  // ASan's quarantine and shadow on top
#else
  const uint64_t bound = uint64_t{160} << 20;
#endif
  EXPECT_LT(resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)), bound);
  ExpectSinkServes();
  // Counted: in the module's status (asking makes the node wait for it).
  ASSERT_OK_AND_ASSIGN(auto entry, d_.ModuleStatus(*bad_));
  EXPECT_GE(entry.value("refused", 0), 2) << entry.dump();
  ASSERT_OK_AND_ASSIGN(auto status, d_.NodeStatus(node_));
  EXPECT_GE(status["counters"].value("events_undeliverable", 0), 2) << status.dump();
  ExpectSinkServes();
}

TEST_F(ModuleChannelTest, KilledHalfWayThroughAFrameIsReportedExited) {
  const pid_t pid = Trigger(ringbad::kHalf);
  const std::string reason = ExitReason(pid);
  EXPECT_NE(reason.find("killed by signal 9"), std::string::npos) << reason;
  ExpectSinkServes();
}

}  // namespace
}  // namespace aex::itest
