// FrameStream (src/node/frame_stream.h) over a socketpair, through a Socket
// type that offers only async_read_some, async_write_some, lowest_layer and
// get_executor (what FrameStream may rely on for every transport) and counts
// the writes: frames sent while a WriteBatch is open, and the frames a burst
// that arrives in one read makes a stream send, leave in one write (one
// system call); a frame sent just before Close still goes out. A plain
// socket (UnixStream) is written directly first, the rest asynchronously.

#include "node/frame_stream.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

namespace aex::node {
namespace {

using namespace std::chrono_literals;
using wire::MsgType;
using UnixSocket = asio::local::stream_protocol::socket;

struct Counts {
  int writes = 0;  // async_write_some calls (each one send() at most)
  int reads = 0;   // reads that delivered bytes
};

class CountingSocket {
 public:
  using executor_type = UnixSocket::executor_type;
  CountingSocket(UnixSocket inner, Counts* counts) : inner_(std::move(inner)), counts_(counts) {}

  executor_type get_executor() { return inner_.get_executor(); }
  UnixSocket& lowest_layer() { return inner_; }
  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    inner_.async_read_some(buffers, [counts = counts_, h = std::forward<Handler>(handler)](
                                        const asio::error_code& ec, size_t n) mutable {
      if (!ec && n > 0) ++counts->reads;
      h(ec, n);
    });
  }
  template <typename Buffers, typename Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    ++counts_->writes;
    inner_.async_write_some(buffers, std::forward<Handler>(handler));
  }

 private:
  UnixSocket inner_;
  Counts* counts_;
};

using CountingStream = FrameStream<CountingSocket>;

// One end of a socketpair as a counting FrameStream, the other as a plain
// UnixStream that records what arrives.
struct Pair {
  Pair(asio::io_context& io, Counts* counts) {
    UnixSocket a(io), b(io);
    asio::local::connect_pair(a, b);
    counting = std::make_shared<CountingStream>(CountingSocket(std::move(a), counts), 1u << 20);
    plain = std::make_shared<UnixStream>(std::move(b), 1u << 20);
    plain->Start([this](const wire::Frame& f) { received.push_back(f.request_id); },
                 [this](const Status&) { plain_closed = true; });
  }
  std::shared_ptr<CountingStream> counting;
  std::shared_ptr<UnixStream> plain;
  std::vector<uint32_t> received;  // request ids, in order
  bool plain_closed = false;
};

// Runs `io` until `done` or a generous deadline (a loaded machine).
template <typename Pred>
bool RunUntil(asio::io_context& io, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(10ms);
    io.restart();
  }
  return done();
}

const Bytes kPayload(64, 0xab);

// A started counting stream and the plain end that records what arrives.
class BatchedWriteTest : public testing::Test {
 protected:
  BatchedWriteTest() { p.counting->Start([](const wire::Frame&) {}, [](const Status&) {}); }
  asio::io_context io;
  Counts counts;
  Pair p{io, &counts};
};

TEST_F(BatchedWriteTest, FramesSentInOneBatchLeaveInOneWrite) {
  {
    WriteBatch batch;
    for (uint32_t i = 1; i <= 100; ++i) {
      ASSERT_TRUE(p.counting->Send(MsgType::kEvent, i, kPayload));
    }
    EXPECT_EQ(counts.writes, 0);  // queued until the batch closes
  }
  EXPECT_EQ(counts.writes, 1);
  ASSERT_TRUE(RunUntil(io, [&] { return p.received.size() == 100; }));
  EXPECT_EQ(counts.writes, 1);
  for (uint32_t i = 0; i < 100; ++i) EXPECT_EQ(p.received[i], i + 1);
}

TEST_F(BatchedWriteTest, WithoutABatchAFrameLeavesAtOnce) {
  ASSERT_TRUE(p.counting->Send(MsgType::kEvent, 1, kPayload));
  EXPECT_EQ(counts.writes, 1);  // an idle stream does not wait
  ASSERT_TRUE(RunUntil(io, [&] { return p.received.size() == 1; }));
}

TEST(FrameStreamTest, ABurstReadAtOnceIsAnsweredInOneWrite) {
  asio::io_context io;
  Counts in_counts, out_counts;
  Pair in(io, &in_counts);    // the burst arrives on in.counting
  Pair out(io, &out_counts);  // each of its frames is forwarded on out.counting
  in.counting->Start(
      [&](const wire::Frame& f) { out.counting->Send(MsgType::kEvent, f.request_id, f.payload); },
      [](const Status&) {});
  out.counting->Start([](const wire::Frame&) {}, [](const Status&) {});
  // 40 frames of about 80 bytes in one write: usually one read.
  for (uint32_t i = 1; i <= 40; ++i) in.plain->Send(MsgType::kEvent, i, kPayload);
  ASSERT_TRUE(RunUntil(io, [&] { return out.received.size() == 40; }));
  ASSERT_GE(in_counts.reads, 1);
  // One write per read that brought frames (not one for the first frame of
  // each read and one for the rest).
  EXPECT_LE(out_counts.writes, in_counts.reads);
  for (uint32_t i = 0; i < 40; ++i) EXPECT_EQ(out.received[i], i + 1);
}

TEST_F(BatchedWriteTest, AFrameSentBeforeCloseInABatchStillGoesOut) {
  {
    WriteBatch batch;
    ASSERT_TRUE(p.counting->Send(MsgType::kResult, 7, kPayload));  // e.g. a refusal's reason
    p.counting->Close(Status(Code::kProtocol, "refused"));
    EXPECT_FALSE(p.counting->Send(MsgType::kResult, 8, kPayload));
  }
  ASSERT_TRUE(RunUntil(io, [&] { return p.plain_closed; }));
  ASSERT_EQ(p.received.size(), 1u);
  EXPECT_EQ(p.received[0], 7u);
}

TEST_F(BatchedWriteTest, BatchesNest) {
  {
    WriteBatch outer;
    p.counting->Send(MsgType::kEvent, 1, kPayload);
    {
      WriteBatch inner;
      p.counting->Send(MsgType::kEvent, 2, kPayload);
    }
    EXPECT_EQ(counts.writes, 0);  // only the outermost batch writes
  }
  EXPECT_EQ(counts.writes, 1);
  ASSERT_TRUE(RunUntil(io, [&] { return p.received.size() == 2; }));
}

// Paused from inside on_frame: the frames already read wait, nothing more
// is read; resumed, they are delivered in order and reading goes on.
TEST(FrameStreamTest, PausedStreamDeliversNothingUntilResumed) {
  asio::io_context io;
  Counts counts;
  Pair p(io, &counts);
  std::vector<uint32_t> got;
  p.counting->Start(
      [&](const wire::Frame& f) {
        got.push_back(f.request_id);
        if (got.size() == 3) p.counting->set_paused(true);
      },
      [](const Status&) {});
  {
    WriteBatch batch;  // the ten in one write: usually one read
    for (uint32_t i = 1; i <= 10; ++i) ASSERT_TRUE(p.plain->Send(MsgType::kEvent, i, kPayload));
  }
  ASSERT_TRUE(RunUntil(io, [&] { return got.size() >= 3 && p.plain->queued_bytes() == 0; }));
  io.poll();
  io.restart();
  EXPECT_EQ(got.size(), 3u);  // what followed in the same read waits
  ASSERT_TRUE(p.plain->Send(MsgType::kEvent, 11, kPayload));
  ASSERT_TRUE(RunUntil(io, [&] { return p.plain->queued_bytes() == 0; }));
  io.poll();
  io.restart();
  EXPECT_EQ(got.size(), 3u);  // and what arrives later
  p.counting->set_paused(false);
  ASSERT_TRUE(RunUntil(io, [&] { return got.size() == 11; }));
  for (uint32_t i = 0; i < 11; ++i) EXPECT_EQ(got[i], i + 1);
}

// A plain socket is written directly first; what it does not take at once
// (more than its buffer) follows asynchronously, in order.
TEST(FrameStreamTest, APlainSocketTakesWhatFitsAndTheRestFollows) {
  static_assert(internal::kWritesDirectly<UnixSocket>);
  static_assert(!internal::kWritesDirectly<CountingSocket>);
  static_assert(!internal::kWritesDirectly<TlsSocket>);
  asio::io_context io;
  UnixSocket a(io), b(io);
  asio::local::connect_pair(a, b);
  auto sender = std::make_shared<UnixStream>(std::move(a), 8u << 20);
  auto receiver = std::make_shared<UnixStream>(std::move(b), 8u << 20);
  std::vector<std::pair<uint32_t, size_t>> got;
  sender->Start([](const wire::Frame&) {}, [](const Status&) {});
  receiver->Start([&](const wire::Frame& f) { got.emplace_back(f.request_id, f.payload.size()); },
                  [](const Status&) {});
  const Bytes big(60000, 0x5a);
  {
    WriteBatch batch;
    for (uint32_t i = 1; i <= 64; ++i) ASSERT_TRUE(sender->Send(MsgType::kEvent, i, big));
  }
  EXPECT_GT(sender->queued_bytes(), 0u);  // 3.8 MB: more than a socket buffer
  ASSERT_TRUE(sender->Send(MsgType::kEvent, 65, kPayload));
  ASSERT_TRUE(RunUntil(io, [&] { return got.size() == 65; }));
  for (uint32_t i = 0; i < 64; ++i) EXPECT_EQ(got[i], std::make_pair(i + 1, big.size()));
  EXPECT_EQ(got[64], std::make_pair(65u, kPayload.size()));
  EXPECT_EQ(sender->queued_bytes(), 0u);
}

TEST(FrameStreamTest, ADirectWriteToAClosedPeerClosesTheStreamLater) {
  asio::io_context io;
  UnixSocket a(io), b(io);
  asio::local::connect_pair(a, b);
  auto sender = std::make_shared<UnixStream>(std::move(a), 1u << 20);
  std::optional<Status> closed;
  sender->Start([](const wire::Frame&) {}, [&](const Status& why) { closed = why; });
  b.close();
  // The failed write is reported by the stream's handlers, not inside Send.
  EXPECT_TRUE(sender->Send(MsgType::kEvent, 1, kPayload));
  EXPECT_FALSE(closed.has_value());
  ASSERT_TRUE(RunUntil(io, [&] { return closed.has_value(); }));
  EXPECT_FALSE(sender->is_open());
}

}  // namespace
}  // namespace aex::node
