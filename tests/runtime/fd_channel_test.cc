// Tests of FdChannel (src/runtime/fd_channel.h), the module's blocking frame
// I/O on its socketpair to the node: framing, buffering of several frames per
// read, large frames, bad length headers and a closed peer.

#include "runtime/fd_channel.h"
#include "wire/management.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>
#include <vector>

namespace aex::runtime {
namespace {

using wire::MsgType;

class FdChannelTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0); }
  void TearDown() override {
    for (int& fd : fds_) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
  }
  void CloseNode() {
    close(fds_[1]);
    fds_[1] = -1;
  }
  // Writes raw bytes on the node's end.
  void NodeWrite(ByteSpan b) {
    size_t done = 0;
    while (done < b.size()) {
      ssize_t n = write(fds_[1], b.data() + done, b.size() - done);
      ASSERT_GT(n, 0);
      done += static_cast<size_t>(n);
    }
  }
  // Reads exactly n raw bytes on the node's end.
  Bytes NodeRead(size_t n) {
    Bytes b(n);
    size_t done = 0;
    while (done < n) {
      ssize_t r = read(fds_[1], b.data() + done, n - done);
      if (r <= 0) break;
      done += static_cast<size_t>(r);
    }
    b.resize(done);
    return b;
  }

  int fds_[2] = {-1, -1};
};

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7);
  return b;
}

TEST_F(FdChannelTest, WriteProducesAFrame) {
  FdChannel ch(fds_[0]);
  const Bytes payload = {1, 2, 3};
  ASSERT_TRUE(ch.Write(MsgType::kResult, 9, payload).ok());
  EXPECT_EQ(NodeRead(12), wire::EncodeFrame(MsgType::kResult, 9, payload));
}

TEST_F(FdChannelTest, WriteOpEqualsWriteOfEncodedOp) {
  FdChannel ch(fds_[0]);
  const Bytes data = Pattern(100, 1);
  wire::ModuleOp op{7, 0x01020304, data};
  ASSERT_TRUE(ch.WriteOp(MsgType::kEvent, 0, op).ok());
  Bytes expected = wire::EncodeFrame(MsgType::kEvent, 0, op.Encode());
  EXPECT_EQ(NodeRead(expected.size()), expected);
  // Twice in a row: no state left over from the first.
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
  FdChannel ch(fds_[0]);
  for (uint32_t i = 1; i <= 50; ++i) {
    Bytes body;
    ASSERT_TRUE(ch.ReadBody(&body).ok()) << i;
    auto f = wire::ParseFrameBody(body);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->type, MsgType::kEvent);
    EXPECT_EQ(f->request_id, i);
    EXPECT_EQ(Bytes(f->payload.begin(), f->payload.end()), Pattern(i * 3, static_cast<uint8_t>(i)));
  }
  CloseNode();
  Bytes body;
  EXPECT_EQ(ch.ReadBody(&body).code(), Code::kUnavailable);
}

TEST_F(FdChannelTest, ReadsFramesSplitAcrossWrites) {
  Bytes stream = wire::EncodeFrame(MsgType::kSetKey, 3, Pattern(70, 2));
  FdChannel ch(fds_[0]);
  std::thread writer([&] {
    for (uint8_t b : stream) {
      ASSERT_EQ(write(fds_[1], &b, 1), 1);
    }
  });
  Bytes body;
  ASSERT_TRUE(ch.ReadBody(&body).ok());
  writer.join();
  EXPECT_EQ(body, Bytes(stream.begin() + 4, stream.end()));
}

// Frames larger than the socket buffer and, in total, larger than the 1 MiB
// compaction threshold of the read buffer.
TEST_F(FdChannelTest, LargeFramesAndBufferCompaction) {
  std::vector<Bytes> payloads;
  for (size_t n : {size_t{1} << 20, size_t{5}, size_t{300000}, size_t{1} << 20, size_t{0},
                   size_t{2} << 20, size_t{65536}}) {
    payloads.push_back(Pattern(n, static_cast<uint8_t>(n)));
  }
  std::thread writer([&] {
    FdChannel node_side(fds_[1]);
    for (size_t i = 0; i < payloads.size(); ++i) {
      ASSERT_TRUE(node_side.Write(MsgType::kEvent, static_cast<uint32_t>(i + 1), payloads[i]).ok());
    }
  });
  FdChannel ch(fds_[0]);
  for (size_t i = 0; i < payloads.size(); ++i) {
    Bytes body;
    ASSERT_TRUE(ch.ReadBody(&body).ok()) << i;
    auto f = wire::ParseFrameBody(body);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->request_id, i + 1);
    ASSERT_EQ(f->payload.size(), payloads[i].size()) << i;
    EXPECT_TRUE(std::equal(f->payload.begin(), f->payload.end(), payloads[i].begin())) << i;
  }
  writer.join();
}

// HasFrame tells the runtime's poll loop whether ReadBody would block.
TEST_F(FdChannelTest, HasFrameReportsBufferedWholeFrames) {
  FdChannel ch(fds_[0]);
  EXPECT_FALSE(ch.HasFrame());
  EXPECT_EQ(ch.fd(), fds_[0]);
  Bytes stream;
  for (uint32_t i = 1; i <= 3; ++i) wire::AppendFrame(MsgType::kEvent, i, Pattern(10, 1), &stream);
  // Half of a fourth frame.
  Bytes fourth = wire::EncodeFrame(MsgType::kEvent, 4, Pattern(10, 1));
  stream.insert(stream.end(), fourth.begin(), fourth.begin() + 8);
  NodeWrite(stream);
  Bytes body;
  ASSERT_TRUE(ch.ReadBody(&body).ok());  // buffers everything written so far
  EXPECT_TRUE(ch.HasFrame());
  ASSERT_TRUE(ch.ReadBody(&body).ok());
  EXPECT_TRUE(ch.HasFrame());
  ASSERT_TRUE(ch.ReadBody(&body).ok());
  EXPECT_FALSE(ch.HasFrame());  // only part of frame 4 is buffered
  NodeWrite(ByteSpan(fourth).subspan(8));
  ASSERT_TRUE(ch.ReadBody(&body).ok());
  EXPECT_EQ(LoadU32(body.data() + 1), 4u);
  EXPECT_FALSE(ch.HasFrame());
}

TEST_F(FdChannelTest, OversizedLengthHeaderRejected) {
  uint8_t h[4];
  StoreU32(h, static_cast<uint32_t>(wire::kMaxFrameBody + 1));
  NodeWrite(ByteSpan(h, 4));
  FdChannel ch(fds_[0]);
  Bytes body;
  EXPECT_EQ(ch.ReadBody(&body).code(), Code::kResourceExhausted);
}

TEST_F(FdChannelTest, ShortBodyLengthRejected) {
  const Bytes h = {0, 0, 0, 4, 1, 0, 0, 0};
  NodeWrite(h);
  FdChannel ch(fds_[0]);
  Bytes body;
  EXPECT_EQ(ch.ReadBody(&body).code(), Code::kProtocol);
}

TEST_F(FdChannelTest, PeerClosedMidFrame) {
  Bytes f = wire::EncodeFrame(MsgType::kEvent, 0, Pattern(100, 3));
  f.resize(f.size() - 10);
  NodeWrite(f);
  CloseNode();
  FdChannel ch(fds_[0]);
  Bytes body;
  EXPECT_EQ(ch.ReadBody(&body).code(), Code::kUnavailable);
}

TEST_F(FdChannelTest, PeerClosedMidHeader) {
  const Bytes h = {0, 0};
  NodeWrite(h);
  CloseNode();
  FdChannel ch(fds_[0]);
  Bytes body;
  EXPECT_EQ(ch.ReadBody(&body).code(), Code::kUnavailable);
}

TEST_F(FdChannelTest, WriteToClosedPeerFails) {
  signal(SIGPIPE, SIG_IGN);
  CloseNode();
  FdChannel ch(fds_[0]);
  EXPECT_EQ(ch.Write(MsgType::kResult, 1, {}).code(), Code::kUnavailable);
}

}  // namespace
}  // namespace aex::runtime
