// PeerLink (src/node/peer_link.h) against a scripted peer on loopback TCP: the
// test plays the receiving node, frame by frame, and sends the ACKs a faulty
// network or a confused peer would (issue 12): an ACK for a number never sent,
// a gap report, an UNDELIVERED notice; and checks that a FENCE waits for the
// events before it.

#include "node/peer_link.h"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

namespace aex::node {
namespace {

using namespace std::chrono_literals;
using wire::MsgType;

struct Received {
  int conn;  // which accepted connection (0, 1, ...)
  MsgType type;
  Bytes payload;
};

// Accepts PeerLink's connections and records every frame it sends.
class ScriptedPeer {
 public:
  explicit ScriptedPeer(asio::io_context& io)
      : io_(io), acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    Accept();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return static_cast<int>(streams_.size()); }
  void Send(MsgType type, const Bytes& payload) {
    streams_.back()->Send(type, 0, payload);
  }
  // The LINK_EVENTs of connection `conn`, as (seq, conn id) pairs.
  std::vector<std::pair<uint64_t, uint32_t>> Events(int conn) const {
    std::vector<std::pair<uint64_t, uint32_t>> out;
    for (const Received& r : frames_) {
      if (r.conn != conn || r.type != MsgType::kLinkEvent) continue;
      auto ev = wire::LinkEvent::Parse(r.payload);
      EXPECT_TRUE(ev.ok());
      if (ev.ok()) out.emplace_back(ev->seq, ev->op.aux);
    }
    return out;
  }
  const std::vector<Received>& frames() const { return frames_; }

 private:
  void Accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      const int conn = connections();
      auto stream = std::make_shared<TcpStream>(std::move(socket), 1u << 20);
      streams_.push_back(stream);
      stream->Start(
          [this, conn](const wire::Frame& f) {
            frames_.push_back({conn, f.type, Bytes(f.payload.begin(), f.payload.end())});
          },
          [](const Status&) {});
      Accept();
    });
  }

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<TcpStream>> streams_;
  std::vector<Received> frames_;
};

class PeerLinkTest : public ::testing::Test {
 protected:
  PeerLinkTest()
      : peer_(io_),
        link_(std::make_shared<PeerLink>(io_, "127.0.0.1", peer_.port(), 100, 10s)) {}
  ~PeerLinkTest() override {
    link_->Stop();
    io_.run_for(50ms);
  }
  // Runs the io_context until `pred` holds (60 s at most).
  bool RunUntil(const std::function<bool()>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io_.run_one_for(10ms);
    }
    return true;
  }
  void PostEvents(uint32_t first_conn, int n) {
    Bytes sealed(40, 0xab);
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(link_->Post(MsgType::kEvent, wire::ModuleOp{1, first_conn + i, sealed}));
    }
  }
  void Ack(uint64_t through, bool gap = false) {
    peer_.Send(MsgType::kAck, wire::LinkAck{through, gap}.Encode());
  }
  using Events = std::vector<std::pair<uint64_t, uint32_t>>;

  asio::io_context io_;
  ScriptedPeer peer_;
  std::shared_ptr<PeerLink> link_;
};

TEST_F(PeerLinkTest, EventsAreNumberedFromOneAfterHello) {
  PostEvents(10, 3);
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(0).size() == 3; }));
  EXPECT_EQ(peer_.frames().front().type, MsgType::kHello);
  EXPECT_EQ(peer_.Events(0), (Events{{1, 10}, {2, 11}, {3, 12}}));
  Ack(3);
  ASSERT_TRUE(RunUntil([&] { return link_->unacked() == 0; }));
  EXPECT_EQ(link_->window().acked(), 3u);
  EXPECT_EQ(link_->stats().protocol_errors, 0u);
}

TEST_F(PeerLinkTest, ImpossibleAckResetsTheConnectionAndResendsTheUnacked) {
  PostEvents(10, 3);
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(0).size() == 3; }));
  Ack(1);
  ASSERT_TRUE(RunUntil([&] { return link_->unacked() == 2; }));
  Ack(99);  // never sent: before the fix this ACK was ignored, and so were all later ones
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(1).size() == 2; }));
  EXPECT_EQ(link_->stats().protocol_errors, 1u);
  EXPECT_EQ(peer_.connections(), 2);
  // The unacknowledged events, first and in order, renumbered from 1.
  EXPECT_EQ(peer_.Events(1), (Events{{1, 11}, {2, 12}}));
  // The new connection flows: a new event follows, acknowledged normally.
  PostEvents(20, 1);
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(1).size() == 3; }));
  EXPECT_EQ(peer_.Events(1).back(), (std::pair<uint64_t, uint32_t>{3, 20}));
  Ack(3);
  ASSERT_TRUE(RunUntil([&] { return link_->unacked() == 0; }));
}

TEST_F(PeerLinkTest, EventsPostedDuringTheReconnectBackoffUseOneNewConnection) {
  // The link_faults failure: events posted while the reconnect waited out its
  // backoff connected at once, and the timer then opened a second
  // connection; the two connections' ACKs mixed in one window and the
  // events after the reset never arrived.
  PostEvents(10, 2);
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(0).size() == 2; }));
  Ack(99);
  ASSERT_TRUE(RunUntil([&] { return link_->stats().protocol_errors == 1; }));
  PostEvents(20, 3);  // within the backoff (50 ms) on any but a stalled machine
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(1).size() == 5; }));
  EXPECT_EQ(peer_.Events(1), (Events{{1, 10}, {2, 11}, {3, 20}, {4, 21}, {5, 22}}));
  Ack(5);
  ASSERT_TRUE(RunUntil([&] { return link_->unacked() == 0; }));
  // Well past the backoff: still the one new connection, and it still flows.
  io_.run_for(300ms);
  EXPECT_EQ(peer_.connections(), 2);
  EXPECT_EQ(link_->stats().connects, 2u);
  PostEvents(30, 1);
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(1).size() == 6; }));
  Ack(6);
  ASSERT_TRUE(RunUntil([&] { return link_->unacked() == 0; }));
}

TEST_F(PeerLinkTest, GapReportResendsFromTheFirstUnackedOnTheSameConnection) {
  PostEvents(10, 4);
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(0).size() == 4; }));
  Ack(1, /*gap=*/true);  // 2 went missing; the peer dropped 3 and 4
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(0).size() == 7; }));
  EXPECT_EQ(peer_.connections(), 1);
  EXPECT_EQ(link_->stats().gaps, 1u);
  const Events all = peer_.Events(0);
  const Events resent(all.begin() + 4, all.end());
  EXPECT_EQ(resent, (Events{{2, 11}, {3, 12}, {4, 13}}));
  Ack(4);
  ASSERT_TRUE(RunUntil([&] { return link_->unacked() == 0; }));
  EXPECT_EQ(link_->stats().protocol_errors, 0u);
}

TEST_F(PeerLinkTest, MissingAckResendsTheTailAfterTheTimeout) {
  // The last events of a burst lost in transit: no later frame reveals the
  // gap to the peer, so the sender resends when no ACK comes (after 1 s).
  PostEvents(10, 2);
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(0).size() == 2; }));
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(0).size() == 4; }));
  EXPECT_EQ(link_->stats().timeouts, 1u);
  EXPECT_EQ(peer_.connections(), 1);
  const Events all = peer_.Events(0);
  EXPECT_EQ(Events(all.begin() + 2, all.end()), (Events{{1, 10}, {2, 11}}));
  Ack(2);
  ASSERT_TRUE(RunUntil([&] { return link_->unacked() == 0; }));
}

TEST_F(PeerLinkTest, FenceWaitsUntilTheEventsBeforeItAreAcked) {
  PostEvents(10, 2);
  ASSERT_TRUE(link_->Post(MsgType::kFence, wire::ModuleOp{0, 0, Bytes(8, 1)}));
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(0).size() == 2; }));
  io_.run_for(20ms);
  auto fences = [&] {
    int n = 0;
    for (const Received& r : peer_.frames()) n += r.type == MsgType::kFence;
    return n;
  };
  EXPECT_EQ(fences(), 0);
  Ack(2);
  ASSERT_TRUE(RunUntil([&] { return fences() == 1; }));
}

TEST_F(PeerLinkTest, UndeliveredNoticeIsCountedAndPassedOn) {
  std::vector<wire::Undelivered> seen;
  link_->set_on_undelivered([&](const wire::Undelivered& u) { seen.push_back(u); });
  PostEvents(10, 1);
  ASSERT_TRUE(RunUntil([&] { return peer_.Events(0).size() == 1; }));
  peer_.Send(MsgType::kUndelivered, wire::Undelivered{1, 10, 5}.Encode());
  ASSERT_TRUE(RunUntil([&] { return seen.size() == 1; }));
  EXPECT_EQ(seen[0].module_id, 1u);
  EXPECT_EQ(seen[0].conn_id, 10u);
  EXPECT_EQ(seen[0].count, 5u);
  EXPECT_EQ(link_->stats().undelivered, 5u);
  // A malformed notice is a protocol error like an impossible ACK.
  peer_.Send(MsgType::kUndelivered, Bytes{1, 2, 3});
  ASSERT_TRUE(RunUntil([&] { return link_->stats().protocol_errors == 1; }));
}

}  // namespace
}  // namespace aex::node
