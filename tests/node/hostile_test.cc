// A node keeps serving its deployer under hostile clients (issue 12 items 4
// and 5, docs/reliability.md): real aex-node processes on loopback, each
// attack performed, then the deployer's STATUS (and LOAD) must get through,
// the node's memory stays under 64 MiB, and the defence is counted.
//
//   - 600 silent TCP connections to a TLS node, plus stalled TLS handshakes
//     from another source address, all reopened as soon as the node closes
//     them;
//   - 4,095 greeted idle sessions on a node whose session table they fill;
//   - 40 connections each announcing a 16 MiB frame and sending all of it
//     but its last byte;
//   - a frame that never completes, closed by the per-frame deadline.
//
// The figures (RSS, descriptors, time to serve the deployer) are printed for
// docs/reliability.md; none is asserted but the 64 MiB bound.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "attack_util.h"
#include "deployer/node_client.h"
#include "deployer/node_tls.h"
#include "harness.h"
#include "test_modules.h"
#include "wire/messages.h"

namespace aex::itest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using wire::MsgType;

constexpr double kRssBoundMiB = 64;

// Under AddressSanitizer shadow memory and the quarantine dominate (an idle
// node is at about 60 MiB): the memory bound is the release build's, and a
// sanitized run only reports the figures.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

void ExpectRssBound(pid_t node) {
  if (!kSanitized) {
    EXPECT_LT(RssMiB(node), kRssBoundMiB) << "node RSS, MiB";
  }
}

// Keeps `count` connections from `source` open until stopped, reopening at
// once any the node closes (a persistent attacker); each sends `prefix` when
// it opens (empty: silent).
class Flood {
 public:
  Flood(uint16_t port, const char* source, size_t count, Bytes prefix)
      : port_(port), source_(source), fds_(count, -1), prefix_(std::move(prefix)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Flood() {
    stop_ = true;
    thread_.join();
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  // True once every connection has been opened at least once (bounded wait).
  bool WaitEstablished(std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    while (!established_ && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
    return established_;
  }
  uint64_t reopened() const { return reopened_; }

 private:
  void Run() {
    std::vector<pollfd> polled(fds_.size());
    while (!stop_) {
      for (int& fd : fds_) {
        if (fd >= 0 || stop_) continue;
        fd = ConnectTcp(port_, source_);
        if (fd >= 0 && !prefix_.empty()) send(fd, prefix_.data(), prefix_.size(), MSG_NOSIGNAL);
      }
      established_ = true;
      for (size_t i = 0; i < fds_.size(); ++i) polled[i] = {fds_[i], POLLIN | POLLRDHUP, 0};
      poll(polled.data(), polled.size(), 20);
      for (size_t i = 0; i < fds_.size(); ++i) {
        if (fds_[i] < 0 || polled[i].revents == 0) continue;
        uint8_t buf[512];
        if (recv(fds_[i], buf, sizeof buf, MSG_DONTWAIT) > 0) continue;  // an alert
        close(fds_[i]);
        fds_[i] = -1;
        ++reopened_;
      }
    }
  }

  uint16_t port_;
  const char* source_;
  std::vector<int> fds_;
  Bytes prefix_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> established_{false};
  std::atomic<uint64_t> reopened_{0};
};

// A number in the node's status JSON (0 if absent, so that a node without
// the counter fails the expectation instead of the test crashing).
uint64_t Field(const nlohmann::json& doc, const char* group, const char* name) {
  if (!doc.contains(group) || !doc[group].contains(name) || !doc[group][name].is_number()) {
    return 0;
  }
  return doc[group][name].get<uint64_t>();
}

// The deployer asks for the node's status; returns it and how long it took.
struct Served {
  nlohmann::json status;
  double ms = 0;
};
Result<Served> AskStatus(uint16_t port, SSL_CTX* tls) {
  const auto start = Clock::now();
  AEX_ASSIGN_OR_RETURN(auto client, deploy::NodeClient::Connect("127.0.0.1", port, 5000ms, tls));
  AEX_ASSIGN_OR_RETURN(std::string text, client->NodeStatus());
  Served s;
  s.status = nlohmann::json::parse(text);
  s.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return s;
}

// Sends HELLO on a raw connection and reads the HELLO_ACK.
bool Greet(int fd) {
  Bytes hello = wire::EncodeFrame(MsgType::kHello, 1, wire::Hello().Encode());
  return send(fd, hello.data(), hello.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(hello.size());
}
// Reads one whole frame (HELLO_ACK carries the node's identity after the
// version, so its length varies) and checks its type.
bool ReadHelloAck(int fd) {
  auto read_all = [fd](uint8_t* buf, size_t len) {
    for (size_t got = 0; got < len;) {
      ssize_t n = recv(fd, buf + got, len - got, 0);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return true;
  };
  uint8_t header[wire::kFrameHeaderSize];
  uint32_t len = 0;
  if (!read_all(header, sizeof header) ||
      !wire::ParseFrameLength(ByteSpan(header, sizeof header), &len).ok()) {
    return false;
  }
  Bytes body(len);
  return read_all(body.data(), len) && body[0] == static_cast<uint8_t>(MsgType::kHelloAck);
}

// True once the node has closed `fd` (EOF or reset); does not block.
bool ClosedByNode(int fd) {
  uint8_t buf[64];
  ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

void Report(const char* attack, pid_t node, double rss_before, double served_ms) {
  printf("[figures] %s: node RSS %.1f MiB (idle %.1f), %zu descriptors, deployer served in "
         "%.0f ms (slowest)\n",
         attack, RssMiB(node), rss_before, OpenDescriptors(node), served_ms);
}

TEST(HostileClientsTest, SilentAndStalledTlsConnectionsLeaveRoomForTheDeployer) {
  RaiseDescriptorLimit();
  TempDir dir;
  deploy::Descriptor d = Deployment(dir.Sub("deployment"));
  NodeProcess node(dir.Sub("node"), NodeConfig{.name = "n1", .extra_args = NodeTlsArgs(d)});
  ASSERT_OK(node.Start());
  ASSERT_OK_AND_ASSIGN(tls::SslCtxPtr ctx, tls::NewContext(deploy::DeployerTlsFiles(d)));
  const double rss_before = RssMiB(node.pid());
  // 600 silent connections from the deployer's own address, and 300 from
  // another that open a TLS record announcing a ClientHello that never comes.
  Flood silent(node.port(), "127.0.0.1", 600, {});
  Flood stalled(node.port(), "127.0.0.2", 300, {0x16, 0x03, 0x01, 0x02, 0x00});
  ASSERT_TRUE(silent.WaitEstablished(30s));
  ASSERT_TRUE(stalled.WaitEstablished(30s));
  double slowest = 0;
  nlohmann::json status;
  // At least ten times, and for longer than the node's 5 s pre-HELLO
  // deadline, so that the silent flood is closed and reopened meanwhile.
  const auto start = Clock::now();
  for (int i = 0; i < 10 || Clock::now() - start < 7s; ++i) {
    std::this_thread::sleep_for(200ms);  // pacing, not synchronisation
    auto served = AskStatus(node.port(), ctx.get());
    ASSERT_TRUE(served.ok()) << "attempt " << i << ": " << served.status().ToString();
    slowest = std::max(slowest, served->ms);
    status = served->status;
    EXPECT_LE(Field(status, "sessions", "handshaking"), 128u) << status.dump();
    ExpectRssBound(node.pid());
  }
  // Managing works too, not just STATUS.
  ASSERT_OK_AND_ASSIGN(auto deployer,
                       deploy::NodeClient::Connect("127.0.0.1", node.port(), 5000ms, ctx.get()));
  ASSERT_OK_AND_ASSIGN(Bytes bin, ReadFile(AEX_IT_SINK_BIN));
  ASSERT_OK(deployer->LoadModule("sink", 0, "", bin).status());
  ASSERT_OK(deployer->Reset());
  Report("600 silent TLS connections + 300 stalled handshakes", node.pid(), rss_before, slowest);
  ExpectRssBound(node.pid());
  // The stalled handshakes of one source were dropped for newer ones or by
  // the handshake deadline.
  EXPECT_GT(Field(status, "counters", "handshakes_evicted") +
                Field(status, "counters", "handshakes_rejected"),
            0u)
      << status.dump();
  EXPECT_GT(silent.reopened() + stalled.reopened(), 0u) << "the node closed attackers";
}

TEST(HostileClientsTest, GreetedIdleSessionsDoNotLockTheDeployerOut) {
  const size_t limit = RaiseDescriptorLimit();
  // Our descriptors and the node's: scale the attack to the limit if needed.
  const size_t count = std::min<size_t>(4095, limit > 256 ? limit - 256 : 0);
  if (count < 4095) printf("[figures] descriptor limit %zu: %zu sessions\n", limit, count);
  ASSERT_GT(count, 100u);
  TempDir dir;
  NodeProcess node(dir.Sub("node"),
                   NodeConfig{.name = "n1",
                              .extra_args = {"--max-sessions", std::to_string(count),
                                             "--session-idle-timeout-ms", "10000"}});
  ASSERT_OK(node.Start());
  const double rss_before = RssMiB(node.pid());
  std::vector<int> fds;
  for (size_t i = 0; i < count; ++i) {
    int fd = ConnectTcp(node.port());
    ASSERT_GE(fd, 0) << "connection " << i;
    fds.push_back(fd);
    ASSERT_TRUE(Greet(fd));
  }
  for (size_t i = 0; i < count; ++i) ASSERT_TRUE(ReadHelloAck(fds[i])) << "session " << i;
  // The session table is full of greeted, idle sessions: the deployer gets
  // in (the quietest session makes room).
  auto served = AskStatus(node.port(), nullptr);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  Report("4,095 greeted idle sessions", node.pid(), rss_before, served->ms);
  ExpectRssBound(node.pid());
  EXPECT_GE(Field(served->status, "counters", "sessions_evicted") +
                Field(served->status, "counters", "sessions_idle_closed"),
            1u)
      << served->status.dump();
  // Then the idle deadline closes every one of them.
  const auto deadline = Clock::now() + 60s;
  size_t open = count;
  while (open > 0 && Clock::now() < deadline) {
    open = 0;
    for (int& fd : fds) {
      if (fd >= 0 && ClosedByNode(fd)) {
        close(fd);
        fd = -1;
      }
      open += fd >= 0;
    }
    if (open > 0) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(open, 0u) << "idle sessions still open after the idle deadline";
  for (int fd : fds) {
    if (fd >= 0) close(fd);
  }
  auto after = AskStatus(node.port(), nullptr);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_GE(Field(after->status, "counters", "sessions_idle_closed"), count / 2)
      << after->status.dump();
}

TEST(HostileClientsTest, PartialHugeFramesStayWithinTheBufferBudget) {
  TempDir dir;
  NodeProcess node(dir.Sub("node"), NodeConfig{.name = "n1"});
  ASSERT_OK(node.Start());
  const double rss_before = RssMiB(node.pid());
  constexpr uint32_t kAnnounced = 16u << 20;
  const Bytes chunk(1u << 20, 0);
  std::vector<int> fds;
  for (int i = 0; i < 40; ++i) {
    int fd = ConnectTcp(node.port());
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
    ASSERT_TRUE(Greet(fd) && ReadHelloAck(fd)) << "connection " << i;
    uint8_t header[4];
    StoreU32(header, kAnnounced);
    send(fd, header, sizeof header, MSG_NOSIGNAL);
    // All but the last byte; a connection the node closes fails its sends.
    for (size_t left = kAnnounced - 1; left > 0;) {
      ssize_t n = send(fd, chunk.data(), std::min(left, chunk.size()), MSG_NOSIGNAL);
      if (n <= 0) break;
      left -= static_cast<size_t>(n);
    }
  }
  auto served = AskStatus(node.port(), nullptr);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  Report("40 x 16 MiB frames, last byte missing", node.pid(), rss_before, served->ms);
  ExpectRssBound(node.pid());
  const auto& st = served->status;
  EXPECT_GE(Field(st, "counters", "buffer_budget_refused"), 1u) << st.dump();
  EXPECT_GT(Field(st, "sessions", "buffer_budget"), 0u) << st.dump();
  EXPECT_LE(Field(st, "sessions", "buffered_bytes"), Field(st, "sessions", "buffer_budget"));
  for (int fd : fds) close(fd);
}

TEST(HostileClientsTest, FrameNotCompletedInTimeClosesTheSession) {
  TempDir dir;
  NodeProcess node(dir.Sub("node"),
                   NodeConfig{.name = "n1", .extra_args = {"--frame-timeout-ms", "1000"}});
  ASSERT_OK(node.Start());
  int fd = ConnectTcp(node.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(Greet(fd) && ReadHelloAck(fd));
  // A frame announcing 1,000 bytes of which 10 arrive; the session keeps
  // sending nothing else, so only the frame deadline can close it (the idle
  // deadline is 300 s).
  uint8_t partial[14] = {};
  StoreU32(partial, 1000);
  ASSERT_EQ(send(fd, partial, sizeof partial, MSG_NOSIGNAL), 14);
  const auto deadline = Clock::now() + 30s;
  bool closed = false;
  while (!(closed = ClosedByNode(fd)) && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  close(fd);
  EXPECT_TRUE(closed) << "the node kept a frame open past its deadline";
  auto served = AskStatus(node.port(), nullptr);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(Field(served->status, "counters", "frames_timed_out"), 1u);
}

}  // namespace
}  // namespace aex::itest
