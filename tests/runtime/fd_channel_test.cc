// Tests of FdChannel (src/runtime/fd_channel.h), the module's blocking frame
// I/O over the shared-memory rings (wire/ring.h), against a fake node that
// works the rings by hand: framing, wrap-around, frames larger than a ring,
// a full `up` ring, the doorbell protocol with two threads, hostile indices
// and a node that goes away.

#include "runtime/fd_channel.h"
#include "wire/management.h"
#include "../ring_node.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>
#include <vector>

namespace aex::runtime {
namespace {

using namespace wire::ring;
using wire::MsgType;

// The node's side: tests/ring_node.h, plus direct access to the words.
class FdChannelTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(node_.Create().ok()); }
  uint8_t* shared() { return node_.shared(); }
  int module_fd() const { return node_.ModuleFds().first; }
  std::atomic_ref<uint64_t> Word(wire::ring::Word w) { return At(shared(), w); }
  void CloseNode() { node_.CloseNodeEnd(); }
  static testing_ring::RingNode::Clock::time_point Deadline() {
    return testing_ring::RingNode::Clock::now() + std::chrono::seconds(30);
  }
  void NodeWrite(ByteSpan b) { ASSERT_TRUE(node_.Write(b, Deadline()).ok()); }
  // Exactly n bytes out of `up`, waiting for them.
  Bytes NodeRead(size_t n) {
    while (got_.size() < n) {
      Status s = node_.Read(&got_, Deadline());
      if (!s.ok()) break;
    }
    Bytes out(got_.begin(), got_.begin() + static_cast<std::ptrdiff_t>(std::min(n, got_.size())));
    got_.erase(got_.begin(), got_.begin() + static_cast<std::ptrdiff_t>(out.size()));
    return out;
  }
  uint64_t NodeConsumed() { return Word(kUpTail).load(); }

  testing_ring::RingNode node_;
  Bytes got_;
};

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

TEST_F(FdChannelTest, WriteProducesAFrame) {
  FdChannel ch(module_fd(), shared());
  const Bytes payload = {1, 2, 3};
  ASSERT_TRUE(ch.Write(MsgType::kResult, 9, payload).ok());
  EXPECT_EQ(NodeRead(12), wire::EncodeFrame(MsgType::kResult, 9, payload));
}

TEST_F(FdChannelTest, WriteOpEqualsWriteOfEncodedOp) {
  FdChannel ch(module_fd(), shared());
  const Bytes data = Pattern(100, 1);
  wire::ModuleOp op{7, 0x01020304, data};
  ASSERT_TRUE(ch.WriteOp(MsgType::kEvent, 0, op).ok());
  Bytes expected = wire::EncodeFrame(MsgType::kEvent, 0, op.Encode());
  EXPECT_EQ(NodeRead(expected.size()), expected);
  ASSERT_TRUE(ch.WriteOp(MsgType::kRequest, 5, op).ok());
  expected = wire::EncodeFrame(MsgType::kRequest, 5, op.Encode());
  EXPECT_EQ(NodeRead(expected.size()), expected);
}

TEST_F(FdChannelTest, ReadsSeveralFramesFromOneWrite) {
  Bytes stream;
  for (uint32_t i = 1; i <= 50; ++i) {
    wire::AppendFrame(MsgType::kEvent, i, Pattern(i * 3, static_cast<uint8_t>(i)), &stream);
  }
  NodeWrite(stream);
  FdChannel ch(module_fd(), shared());
  for (uint32_t i = 1; i <= 50; ++i) {
    Bytes body;
    ASSERT_TRUE(ch.ReadBody(&body).ok()) << i;
    auto f = wire::ParseFrameBody(body);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->request_id, i);
    EXPECT_EQ(Bytes(f->payload.begin(), f->payload.end()), Pattern(i * 3, static_cast<uint8_t>(i)));
  }
  CloseNode();
  Bytes body;
  EXPECT_EQ(ch.ReadBody(&body).code(), Code::kUnavailable);
}

// Frames larger than a ring, both ways, with both sides sleeping on the
// doorbell in turn: every byte arrives in order across many wrap-arounds.
TEST_F(FdChannelTest, FramesLargerThanTheRingBothWays) {
  std::vector<Bytes> payloads;
  for (size_t n : {size_t{1} << 20, size_t{5}, kSize - 9, kSize, size_t{3} << 20, size_t{0},
                   size_t{65536}}) {
    payloads.push_back(Pattern(n, static_cast<uint8_t>(n)));
  }
  FdChannel ch(module_fd(), shared());
  std::thread node([&] {
    for (size_t i = 0; i < payloads.size(); ++i) {
      NodeWrite(wire::EncodeFrame(MsgType::kEvent, static_cast<uint32_t>(i + 1), payloads[i]));
    }
    for (size_t i = 0; i < payloads.size(); ++i) {
      const Bytes expected =
          wire::EncodeFrame(MsgType::kResult, static_cast<uint32_t>(i + 1), payloads[i]);
      EXPECT_EQ(NodeRead(expected.size()), expected) << i;
    }
  });
  for (size_t i = 0; i < payloads.size(); ++i) {
    Bytes body;
    ASSERT_TRUE(ch.ReadBody(&body).ok()) << i;
    auto f = wire::ParseFrameBody(body);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->request_id, i + 1);
    ASSERT_EQ(f->payload.size(), payloads[i].size()) << i;
    EXPECT_TRUE(std::equal(f->payload.begin(), f->payload.end(), payloads[i].begin())) << i;
  }
  for (size_t i = 0; i < payloads.size(); ++i) {
    ASSERT_TRUE(ch.Write(MsgType::kResult, static_cast<uint32_t>(i + 1), payloads[i]).ok());
  }
  node.join();
  EXPECT_EQ(Word(kUpHead).load(), NodeConsumed());
  EXPECT_GT(NodeConsumed(), 4 * kSize);  // wrapped many times
}

// A full `up` ring: the module sleeps (kModuleWaiting set) until the node
// frees room and rings; nothing is lost or duplicated.
TEST_F(FdChannelTest, FullUpRingWaitsForRoom) {
  FdChannel ch(module_fd(), shared());
  const Bytes payload = Pattern(kSize / 2, 3);
  std::atomic<int> written{0};
  std::thread module([&] {
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(ch.Write(MsgType::kEvent, static_cast<uint32_t>(i), payload).ok());
      ++written;
    }
  });
  // The second frame does not fit until the node reads: the module sleeps.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((Word(kModuleWaiting).load() == 0 || Word(kUpHead).load() - NodeConsumed() != kSize) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(Word(kModuleWaiting).load(), 1u);
  EXPECT_EQ(Word(kUpHead).load() - NodeConsumed(), kSize);  // full
  EXPECT_EQ(written, 1);
  for (int i = 0; i < 4; ++i) {
    const Bytes expected = wire::EncodeFrame(MsgType::kEvent, static_cast<uint32_t>(i), payload);
    EXPECT_EQ(NodeRead(expected.size()), expected) << i;
  }
  module.join();
  EXPECT_EQ(written, 4);
}

// HasFrame tells the runtime's poll loop whether ReadBody would block, and
// arms the doorbell when it would.
TEST_F(FdChannelTest, HasFrameReportsWholeFramesAndArms) {
  FdChannel ch(module_fd(), shared());
  EXPECT_FALSE(ch.HasFrame());
  EXPECT_EQ(Word(kModuleWaiting).load(), 1u);
  EXPECT_EQ(ch.fd(), module_fd());
  Bytes stream;
  for (uint32_t i = 1; i <= 2; ++i) wire::AppendFrame(MsgType::kEvent, i, Pattern(10, 1), &stream);
  Bytes third = wire::EncodeFrame(MsgType::kEvent, 3, Pattern(10, 1));
  stream.insert(stream.end(), third.begin(), third.begin() + 8);
  NodeWrite(stream);  // rings: the module was armed
  pollfd p{module_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 1);
  Bytes body;
  EXPECT_TRUE(ch.HasFrame());  // and drains the doorbell
  EXPECT_EQ(poll(&p, 1, 0), 0);
  ASSERT_TRUE(ch.ReadBody(&body).ok());
  EXPECT_TRUE(ch.HasFrame());
  ASSERT_TRUE(ch.ReadBody(&body).ok());
  EXPECT_FALSE(ch.HasFrame());  // only part of frame 3
  NodeWrite(ByteSpan(third).subspan(8));
  EXPECT_TRUE(ch.HasFrame());
  ASSERT_TRUE(ch.ReadBody(&body).ok());
  EXPECT_EQ(LoadU32(body.data() + 1), 3u);
  CloseNode();
  EXPECT_TRUE(ch.HasFrame());  // the end: ReadBody reports it
  EXPECT_EQ(ch.ReadBody(&body).code(), Code::kUnavailable);
}

TEST_F(FdChannelTest, OversizedLengthHeaderRejected) {
  uint8_t h[4];
  StoreU32(h, static_cast<uint32_t>(wire::kMaxFrameBody + 1));
  NodeWrite(ByteSpan(h, 4));
  FdChannel ch(module_fd(), shared());
  Bytes body;
  EXPECT_EQ(ch.ReadBody(&body).code(), Code::kResourceExhausted);
}

TEST_F(FdChannelTest, ShortBodyLengthRejected) {
  NodeWrite(Bytes{0, 0, 0, 4, 1, 0, 0, 0});
  FdChannel ch(module_fd(), shared());
  Bytes body;
  EXPECT_EQ(ch.ReadBody(&body).code(), Code::kProtocol);
}

TEST_F(FdChannelTest, NodeGoneMidFrame) {
  Bytes f = wire::EncodeFrame(MsgType::kEvent, 0, Pattern(100, 3));
  f.resize(f.size() - 10);
  NodeWrite(f);
  CloseNode();
  FdChannel ch(module_fd(), shared());
  Bytes body;
  EXPECT_EQ(ch.ReadBody(&body).code(), Code::kUnavailable);
}

// The node is the attacker: a `down` head beyond tail + kSize, a head that
// moves backwards, an `up` tail outside [last tail, head]: each ends the
// channel like the node's exit, without reading outside the ring.
TEST_F(FdChannelTest, HostileNodeIndicesEndTheChannel) {
  {
    FdChannel ch(module_fd(), shared());
    Word(kDownHead).store(kSize + 1);
    Bytes body;
    EXPECT_EQ(ch.ReadBody(&body).code(), Code::kUnavailable);
    EXPECT_TRUE(ch.HasFrame());  // "do not wait": ReadBody reports it
  }
  {
    ASSERT_TRUE(node_.Create().ok());
    FdChannel ch(module_fd(), shared());
    NodeWrite(wire::EncodeFrame(MsgType::kEvent, 1, Pattern(10, 1)));
    Bytes body;
    ASSERT_TRUE(ch.ReadBody(&body).ok());
    Word(kDownHead).store(3);  // backwards, behind the module's tail
    EXPECT_EQ(ch.ReadBody(&body).code(), Code::kUnavailable);
  }
  for (uint64_t tail : {uint64_t{1000}, ~uint64_t{0}}) {
    ASSERT_TRUE(node_.Create().ok());
    FdChannel ch(module_fd(), shared());
    ASSERT_TRUE(ch.Write(MsgType::kResult, 1, Pattern(100, 2)).ok());  // head 109
    Word(kUpTail).store(tail);  // "consumed" more than was written
    EXPECT_EQ(ch.Write(MsgType::kResult, 2, {}).code(), Code::kUnavailable) << tail;
  }
}

TEST_F(FdChannelTest, WriteToFullRingOfAGoneNodeFails) {
  signal(SIGPIPE, SIG_IGN);
  FdChannel ch(module_fd(), shared());
  const Bytes payload = Pattern(kSize, 1);
  CloseNode();
  EXPECT_EQ(ch.Write(MsgType::kResult, 1, payload).code(), Code::kUnavailable);
}

}  // namespace
}  // namespace aex::runtime
