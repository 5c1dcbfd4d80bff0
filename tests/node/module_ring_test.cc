// Tests of ModuleRing (src/node/module_ring.h), the node's end of a module's
// channel, under FrameStream as the node uses it, against the module's real
// FdChannel in another thread on a second mapping of the memfd: frames larger
// than a ring both ways, a module that goes away, and a hostile module
// writing impossible indices.

#include "node/module_ring.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "node/frame_stream.h"
#include "runtime/fd_channel.h"

namespace aex::node {
namespace {

using namespace wire::ring;
using wire::MsgType;

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 13);
  return b;
}

class ModuleRingTest : public testing::Test {
 protected:
  void SetUp() override { Make(64u << 20); }
  // The stream of a module, with at most max_queued bytes queued towards it.
  void Make(size_t max_queued) {
    TearDown();
    auto mem = CreateRingMemory();
    ASSERT_TRUE(mem.ok()) << mem.status().ToString();
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    module_fd_ = fds[1];
    // The module's own mapping of the memfd, as after exec.
    void* p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, mem->fd, 0);
    ASSERT_NE(p, MAP_FAILED);
    module_shared_ = static_cast<uint8_t*>(p);
    close(mem->fd);
    asio::local::stream_protocol::socket sock(io_);
    sock.assign(asio::local::stream_protocol(), fds[0]);
    stream_ = std::make_shared<FrameStream<ModuleRing>>(max_queued, std::in_place,
                                                       std::move(sock), mem->shared);
  }
  void TearDown() override {
    if (module_fd_ >= 0) close(module_fd_);
    if (module_shared_ != nullptr) munmap(module_shared_, kBytes);
    module_fd_ = -1;
    module_shared_ = nullptr;
  }
  std::atomic_ref<uint64_t> ModuleWord(Word w) { return At(module_shared_, w); }
  // Runs the node's loop until `done` or a generous deadline.
  bool RunUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(std::chrono::milliseconds(50));
      io_.restart();
    }
    return done();
  }
  void CloseModule() {
    close(module_fd_);
    module_fd_ = -1;
  }

  asio::io_context io_;
  std::shared_ptr<FrameStream<ModuleRing>> stream_;
  int module_fd_ = -1;
  uint8_t* module_shared_ = nullptr;
  std::vector<std::pair<uint32_t, Bytes>> got_;
  std::optional<Status> closed_;
};

// The module echoes every frame back as a result; frames up to 3 MiB cross
// the 256 KiB rings in pieces, both sides sleeping on the doorbell in turn.
TEST_F(ModuleRingTest, EchoesFramesLargerThanTheRing) {
  std::vector<Bytes> payloads;
  for (size_t n : {size_t{0}, size_t{1}, kSize - 9, kSize, size_t{3} << 20, size_t{100},
                   size_t{1} << 20}) {
    payloads.push_back(Pattern(n, static_cast<uint8_t>(n + 1)));
  }
  std::thread module([&] {
    runtime::FdChannel ch(module_fd_, module_shared_);
    for (size_t i = 0; i < payloads.size(); ++i) {
      Bytes body;
      ASSERT_TRUE(ch.ReadBody(&body).ok()) << i;
      auto f = wire::ParseFrameBody(body);
      ASSERT_TRUE(f.ok());
      ASSERT_TRUE(ch.Write(MsgType::kResult, f->request_id, f->payload).ok());
    }
  });
  stream_->Start(
      [&](const wire::Frame& f) {
        got_.emplace_back(f.request_id, Bytes(f.payload.begin(), f.payload.end()));
      },
      [&](const Status& s) { closed_ = s; });
  for (size_t i = 0; i < payloads.size(); ++i) {
    ASSERT_TRUE(stream_->Send(MsgType::kEvent, static_cast<uint32_t>(i + 1), payloads[i]));
  }
  EXPECT_TRUE(RunUntil([&] { return got_.size() == payloads.size() || closed_; }));
  module.join();
  ASSERT_EQ(got_.size(), payloads.size()) << (closed_ ? closed_->ToString() : "");
  for (size_t i = 0; i < payloads.size(); ++i) {
    EXPECT_EQ(got_[i].first, i + 1);
    EXPECT_TRUE(got_[i].second == payloads[i]) << i;
  }
  EXPECT_GT(ModuleWord(kDownHead).load(), 4 * kSize);  // wrapped
  // The module goes: the stream ends as a goodbye, after what it sent.
  CloseModule();
  EXPECT_TRUE(RunUntil([&] { return closed_.has_value(); }));
  EXPECT_TRUE(closed_->ok()) << closed_->ToString();
  EXPECT_TRUE(stream_->socket().corruption().empty());
}

// Both rings full at once, many times over: the node's write waits for room
// in `down` while its read waits for data in `up`, on the one doorbell. One
// bell must wake both (a drained bell is handed on), else the stream stalls
// with the module asleep and frames queued. (That lost wake-up showed in the
// throughput bench as an echo module killed as hung; this test exercises the
// path but does not force the interleaving that loses the bell.)
TEST_F(ModuleRingTest, ReadAndWriteWaitingTogetherBothWake) {
  constexpr size_t kFrames = 3000;
  const Bytes payload = Pattern(8 * 1024, 7);
  std::thread module([&] {
    runtime::FdChannel ch(module_fd_, module_shared_);
    for (size_t i = 0; i < kFrames; ++i) {
      Bytes body;
      ASSERT_TRUE(ch.ReadBody(&body).ok()) << i;
      auto f = wire::ParseFrameBody(body);
      ASSERT_TRUE(f.ok());
      ASSERT_TRUE(ch.Write(MsgType::kResult, f->request_id, f->payload).ok());
    }
  });
  size_t got = 0;
  bool in_order = true;
  stream_->Start(
      [&](const wire::Frame& f) {
        in_order = in_order && f.request_id == got + 1 && f.payload.size() == payload.size();
        ++got;
      },
      [&](const Status& s) { closed_ = s; });
  for (size_t i = 0; i < kFrames; ++i) {
    ASSERT_TRUE(stream_->Send(MsgType::kEvent, static_cast<uint32_t>(i + 1), payload));
  }
  EXPECT_TRUE(RunUntil([&] { return got == kFrames || closed_; }));
  if (got != kFrames) CloseModule();  // lets the module thread end
  module.join();
  EXPECT_EQ(got, kFrames) << (closed_ ? closed_->ToString() : "stalled");
  EXPECT_TRUE(in_order);
}

// What a module wrote before it died is still delivered, then the end.
TEST_F(ModuleRingTest, DeliversWhatADeadModuleLeftThenEnds) {
  {
    runtime::FdChannel ch(module_fd_, module_shared_);
    for (uint32_t i = 1; i <= 3; ++i) {
      ASSERT_TRUE(ch.Write(MsgType::kEvent, i, Pattern(50, 1)).ok());
    }
  }
  CloseModule();
  stream_->Start([&](const wire::Frame& f) { got_.emplace_back(f.request_id, Bytes()); },
                 [&](const Status& s) { closed_ = s; });
  EXPECT_TRUE(RunUntil([&] { return closed_.has_value(); }));
  EXPECT_EQ(got_.size(), 3u);
  EXPECT_TRUE(closed_->ok()) << closed_->ToString();
}

// A module that stops reading: `down` fills, the rest waits in the stream's
// bounded queue, and a send beyond the bound is refused (not buffered).
TEST_F(ModuleRingTest, StuckModuleFillsRingThenQueueRefuses) {
  Make(2u << 20);
  stream_->Start([](const wire::Frame&) {}, [&](const Status& s) { closed_ = s; });
  const Bytes payload = Pattern(60000, 2);
  size_t accepted = 0;
  while (stream_->Send(MsgType::kEvent, 0, payload)) {
    ++accepted;
    io_.poll();
    ASSERT_LT(accepted, 100u) << "the queue has no bound";
  }
  EXPECT_GT(accepted, 30u);
  EXPECT_EQ(ModuleWord(kDownHead).load(), kSize);  // the ring is full
  EXPECT_LE(stream_->queued_bytes(), 2u << 20);
  EXPECT_TRUE(stream_->is_open());
  EXPECT_FALSE(closed_.has_value());
}

void ExpectCorrupt(const std::optional<Status>& closed, const std::string& corruption,
                   const char* which) {
  ASSERT_TRUE(closed.has_value());
  EXPECT_NE(closed->message().find("module ring corrupt"), std::string::npos)
      << closed->ToString();
  EXPECT_NE(corruption.find(which), std::string::npos) << corruption;
}

// The module is the attacker: an `up` head more than a ring ahead of the
// node's tail (the node would read past the ring) fails the stream.
TEST_F(ModuleRingTest, HostileUpHeadClosesTheStream) {
  stream_->Start([&](const wire::Frame& f) { got_.emplace_back(f.request_id, Bytes()); },
                 [&](const Status& s) { closed_ = s; });
  io_.poll();  // the node sleeps on the doorbell
  ModuleWord(kUpHead).store(kSize + 1);
  ASSERT_EQ(send(module_fd_, "", 1, 0), 1);  // ring
  EXPECT_TRUE(RunUntil([&] { return closed_.has_value(); }));
  ExpectCorrupt(closed_, stream_->socket().corruption(), "up head");
  EXPECT_TRUE(got_.empty());
}

// A `down` tail beyond the node's head (or behind its last value) would let
// the node overwrite bytes the module has not read: refused.
TEST_F(ModuleRingTest, HostileDownTailClosesTheStream) {
  stream_->Start([](const wire::Frame&) {}, [&](const Status& s) { closed_ = s; });
  ASSERT_TRUE(stream_->Send(MsgType::kEvent, 0, Pattern(100, 1)));
  EXPECT_TRUE(RunUntil([&] { return ModuleWord(kDownHead).load() == 109; }));
  ModuleWord(kDownTail).store(5000);  // "read" more than was written
  ASSERT_TRUE(stream_->Send(MsgType::kEvent, 0, Pattern(100, 1)));
  EXPECT_TRUE(RunUntil([&] { return closed_.has_value(); }));
  ExpectCorrupt(closed_, stream_->socket().corruption(), "down tail");
}

// A pass copies at most what the caller's buffer holds and at most a ring,
// whatever the module claims: no loop on its values.
TEST_F(ModuleRingTest, CopySomeIsBounded) {
  ModuleRing& ring = stream_->socket();
  ModuleWord(kUpHead).store(kSize);
  uint8_t buf[1000];
  auto r = ring.CopySome(false, buf, sizeof buf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, sizeof buf);
  EXPECT_EQ(ModuleWord(kUpTail).load(), sizeof buf);
  Bytes big(2 * kSize);
  r = ring.CopySome(false, big.data(), big.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, kSize - sizeof buf);
  r = ring.CopySome(true, big.data(), big.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, kSize);  // down: one ring, then full
  r = ring.CopySome(true, big.data(), big.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
  ModuleWord(kUpHead).store(~uint64_t{0});  // far behind the tail
  EXPECT_FALSE(ring.CopySome(false, buf, sizeof buf).ok());
  EXPECT_FALSE(ring.CopySome(true, buf, sizeof buf).ok());  // corrupt stays corrupt
}

}  // namespace
}  // namespace aex::node
