// Robustness of a real aex-node process (DESIGN.md section 8): hostile bytes
// on its port and misbehaving modules must never bring it down. After each
// attack the node must still accept a new client and serve a module.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "harness.h"
#include "test_modules.h"
#include "wire/messages.h"

namespace aex::itest {
namespace {

using channel::Role;
using wire::MsgType;

// A plain TCP connection to a node, for bytes no well-behaved client sends.
class RawConn {
 public:
  static Result<std::unique_ptr<RawConn>> Open(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status(Code::kIo, "socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return Status(Code::kUnavailable, std::string("connect failed: ") + strerror(errno));
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return std::unique_ptr<RawConn>(new RawConn(fd));
  }
  ~RawConn() {
    if (fd_ >= 0) close(fd_);
  }

  // Errors are ignored: the node may already have closed the connection.
  void Send(ByteSpan bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }
  void SendFrame(MsgType type, uint32_t id, ByteSpan payload) {
    Send(wire::EncodeFrame(type, id, payload));
  }
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }

  // Sends HELLO and expects HELLO_ACK.
  Status Greet() {
    SendFrame(MsgType::kHello, 1, wire::Hello().Encode());
    auto ev = Next(5s);
    if (ev.kind != Event::kFrame) return Status(Code::kProtocol, "no HELLO_ACK");
    auto f = wire::ParseFrameBody(ev.body);
    if (!f.ok() || f->type != MsgType::kHelloAck) return Status(Code::kProtocol, "not HELLO_ACK");
    return Status::Ok();
  }

  struct Event {
    enum Kind { kFrame, kClosed, kTimeout } kind;
    Bytes body;
  };
  // The next frame body, or the end of the connection, within `timeout`.
  Event Next(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (in_.size() >= 4) {
        uint32_t len = LoadU32(in_.data());
        if (len > wire::kMaxFrameBody) return {Event::kClosed, {}};  // garbage from the node
        if (in_.size() >= 4 + len) {
          Bytes body(in_.begin() + 4, in_.begin() + 4 + len);
          in_.erase(in_.begin(), in_.begin() + 4 + len);
          return {Event::kFrame, std::move(body)};
        }
      }
      if (closed_) return {Event::kClosed, {}};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {Event::kTimeout, {}};
      pollfd p{fd_, POLLIN, 0};
      int rc = poll(&p, 1, static_cast<int>(left.count()));
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) continue;
      uint8_t buf[65536];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        closed_ = true;  // EOF or reset
        continue;
      }
      in_.insert(in_.end(), buf, buf + n);
    }
  }

  // Outcome of a request: the Result for `id`, or the connection ending.
  struct Outcome {
    bool closed = false;
    bool timed_out = false;
    std::optional<wire::ResultMsg> result;  // payload points into `body`
    Bytes body;
    std::string ToString() const {
      if (closed) return "closed";
      if (timed_out) return "timeout";
      return std::string("result ") + CodeName(result->code) + " " + result->message;
    }
  };
  Outcome AwaitResult(uint32_t id, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      Event ev = Next(std::max(left, std::chrono::milliseconds(0)));
      Outcome o;
      if (ev.kind == Event::kClosed) {
        o.closed = true;
        return o;
      }
      if (ev.kind == Event::kTimeout) {
        o.timed_out = true;
        return o;
      }
      o.body = std::move(ev.body);
      auto f = wire::ParseFrameBody(o.body);
      if (!f.ok() || f->type != MsgType::kResult || f->request_id != id) continue;
      auto r = wire::ResultMsg::Parse(f->payload);
      if (!r.ok()) continue;
      o.result = *r;
      return o;
    }
  }

 private:
  explicit RawConn(int fd) : fd_(fd) {}
  int fd_;
  bool closed_ = false;
  Bytes in_;
};

Bytes RandomBytes(std::mt19937& rng, size_t n) {
  Bytes out(n);
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  return out;
}

Bytes FrameHeader(uint32_t body_len) {
  Bytes h(4);
  StoreU32(h.data(), body_len);
  return h;
}

class RobustnessTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(node_.Start()); }

  std::unique_ptr<RawConn> Raw() {
    auto c = RawConn::Open(node_.port());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // The node process is alive, a brand-new client is served, and a module
  // loaded now accepts an event and answers an entry.
  void ExpectNodeServes() {
    ASSERT_TRUE(node_.Alive()) << "aex-node died";
    ASSERT_OK_AND_ASSIGN(auto client, node_.Connect());
    ASSERT_OK(client->NodeStatus());
    TestDeployer d;
    ASSERT_OK_AND_ASSIGN(TestModule * sink, d.Load(node_, sink::kBin, "after"));
    ASSERT_OK_AND_ASSIGN(TestConnection c, d.ConnectDirect(*sink, Role::kInput, sink::kIn));
    ASSERT_OK(d.SendEvent(c, AsBytes("still serving")));
    EXPECT_EQ(d.Stat(*sink, "events_accepted"), 1);
    ASSERT_OK_AND_ASSIGN(Bytes stats, d.CallEntry(*sink, sink::kStats));
    EXPECT_EQ(GetU64(stats, 0), 1u);
    ASSERT_TRUE(node_.Alive());
  }

  // Expects the node to end the connection within the timeout.
  void ExpectClosed(RawConn& c, const std::string& what) {
    RawConn::Event ev{RawConn::Event::kTimeout, {}};
    do {
      ev = c.Next(5s);
    } while (ev.kind == RawConn::Event::kFrame);  // an error Result may precede the close
    EXPECT_EQ(ev.kind, RawConn::Event::kClosed) << what << ": the node kept the connection open";
  }

  TempDir dir_;
  NodeProcess node_{dir_.Sub("node"), {.name = "robust", .call_timeout_ms = 1000}};
};

// ----------------------------------------------------------- hostile frames

TEST_F(RobustnessTest, TruncatedFrameThenClose) {
  {
    auto c = Raw();
    ASSERT_TRUE(c);
    c->Send(Bytes{0x00, 0x00});  // half a length header
  }
  {
    auto c = Raw();
    ASSERT_TRUE(c);
    ASSERT_OK(c->Greet());
    Bytes frame = wire::EncodeFrame(MsgType::kStatus, 7, {});
    c->Send(ByteSpan(frame).first(frame.size() - 2));  // body cut short
  }
  {
    auto c = Raw();
    ASSERT_TRUE(c);
    ASSERT_OK(c->Greet());
    Bytes header = FrameHeader(1000);
    c->Send(header);
    c->Send(Bytes(10, 0x13));  // 10 of 1000 announced bytes, then half-close
    c->ShutdownWrite();
    ExpectClosed(*c, "truncated frame then EOF");
  }
  ExpectNodeServes();
}

TEST_F(RobustnessTest, OversizedOrUndersizedLengthHeader) {
  const std::vector<uint32_t> lengths = {static_cast<uint32_t>(wire::kMaxFrameBody + 1),
                                         0xffffffffu, 0x80000000u, 0, 1,
                                         static_cast<uint32_t>(wire::kBodyHeaderSize - 1)};
  for (bool greeted : {false, true}) {
    for (uint32_t len : lengths) {
      SCOPED_TRACE("length " + std::to_string(len) + (greeted ? " after HELLO" : " first"));
      auto c = Raw();
      ASSERT_TRUE(c);
      if (greeted) ASSERT_OK(c->Greet());
      c->Send(FrameHeader(len));
      c->Send(Bytes(16, 0xab));
      ExpectClosed(*c, "bad length header");
    }
  }
  ExpectNodeServes();
}

TEST_F(RobustnessTest, UnknownMessageType) {
  // Every type byte the protocol does not define, after HELLO; a sample of
  // them as the first frame.
  int tried = 0;
  for (int t = 0; t < 256; ++t) {
    const uint8_t type = static_cast<uint8_t>(t);
    if (wire::IsKnownType(type)) continue;
    for (bool greeted : {true, false}) {
      if (!greeted && t % 16 != 0 && t != 0xff) continue;
      SCOPED_TRACE("type " + std::to_string(t) + (greeted ? " after HELLO" : " first"));
      auto c = Raw();
      ASSERT_TRUE(c);
      if (greeted) ASSERT_OK(c->Greet());
      Bytes frame = wire::EncodeFrame(MsgType::kStatus, 9, {});
      frame[4] = type;
      c->Send(frame);
      RawConn::Outcome o = c->AwaitResult(9);
      EXPECT_TRUE(o.closed || (o.result && o.result->code != Code::kOk)) << o.ToString();
      ++tried;
    }
  }
  EXPECT_GT(tried, 200);
  ExpectNodeServes();
}

TEST_F(RobustnessTest, GarbageBytes) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 24; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto c = Raw();
    ASSERT_TRUE(c);
    if (round % 2) ASSERT_OK(c->Greet());
    size_t n = 1 + rng() % (round < 12 ? 64 : 8192);
    c->Send(RandomBytes(rng, n));
    c->ShutdownWrite();  // whatever was announced, nothing more comes
    ExpectClosed(*c, "garbage");
  }
  // Garbage that announces a huge frame, without a half-close.
  {
    auto c = Raw();
    ASSERT_TRUE(c);
    c->Send(Bytes{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8});
    ExpectClosed(*c, "0xdeadbeef length");
  }
  ExpectNodeServes();
}

TEST_F(RobustnessTest, NoHelloFirst) {
  // A management request before HELLO: an error Result, then the close.
  {
    auto c = Raw();
    ASSERT_TRUE(c);
    c->SendFrame(MsgType::kStatus, 3, {});
    RawConn::Outcome o = c->AwaitResult(3);
    // The node explains before it hangs up.
    ASSERT_TRUE(o.result) << o.ToString();
    EXPECT_EQ(o.result->code, Code::kProtocol) << o.ToString();
    ExpectClosed(*c, "request before HELLO");
  }
  // An event before HELLO.
  {
    auto c = Raw();
    ASSERT_TRUE(c);
    c->SendFrame(MsgType::kEvent, 0, wire::ModuleOp{1, 1, AsBytes("x")}.Encode());
    ExpectClosed(*c, "event before HELLO");
  }
  // Bad HELLOs: wrong magic, no common version, bad role, trailing bytes.
  std::vector<std::pair<std::string, Bytes>> hellos;
  {
    Bytes h = wire::Hello().Encode();
    h[0] ^= 0xff;
    hellos.push_back({"magic", h});
    wire::Hello future;
    future.min_version = 7;
    future.max_version = 9;
    hellos.push_back({"version", future.Encode()});
    h = wire::Hello().Encode();
    h.back() = 9;
    hellos.push_back({"role", h});
    h = wire::Hello().Encode();
    h.push_back(0);
    hellos.push_back({"trailing", h});
    hellos.push_back({"empty", {}});
  }
  for (const auto& [what, payload] : hellos) {
    SCOPED_TRACE(what);
    auto c = Raw();
    ASSERT_TRUE(c);
    c->SendFrame(MsgType::kHello, 4, payload);
    RawConn::Outcome o = c->AwaitResult(4);
    ASSERT_TRUE(o.result) << o.ToString();
    EXPECT_NE(o.result->code, Code::kOk) << o.ToString();
    ExpectClosed(*c, "bad HELLO");
  }
  ExpectNodeServes();
}

// Sent only with request id 0 below: FENCE is a one-way node-to-node message
// and the node does not answer it even with a request id (see the report).
// EVENT and ACK with an id are answered (EVENT: a delivery confirmation).
bool SentOneWayOnly(MsgType t) { return t == MsgType::kFence; }

TEST_F(RobustnessTest, EveryKnownTypeWithGarbagePayload) {
  std::vector<MsgType> types;
  for (int t = 0; t < 256; ++t) {
    if (wire::IsKnownType(static_cast<uint8_t>(t))) types.push_back(static_cast<MsgType>(t));
  }
  ASSERT_GE(types.size(), 16u);
  std::mt19937 rng(777);
  std::vector<Bytes> payloads = {{},
                                 {0x01},
                                 RandomBytes(rng, 11),
                                 // A well-formed ModuleOp for a module that does not exist.
                                 wire::ModuleOp{0xdeadbeef, 3, AsBytes("junk")}.Encode(),
                                 RandomBytes(rng, 64),
                                 RandomBytes(rng, 5000)};
  auto c = Raw();
  ASSERT_TRUE(c);
  ASSERT_OK(c->Greet());
  uint32_t id = 100;
  int results = 0, closes = 0;
  for (MsgType type : types) {
    for (const Bytes& payload : payloads) {
      SCOPED_TRACE(std::string(wire::TypeName(type)) + " with " +
                   std::to_string(payload.size()) + " garbage bytes");
      // A request id asks for exactly one Result (docs/protocol.md, section 2).
      const uint32_t frame_id = SentOneWayOnly(type) ? 0 : ++id;
      c->SendFrame(type, frame_id, payload);
      // One-way or not, a status request right after tells whether the
      // session survived.
      const uint32_t probe_id = ++id;
      c->SendFrame(MsgType::kStatus, probe_id, {});
      std::map<uint32_t, Code> seen;
      bool closed = false;
      auto pump = [&](uint32_t want) {
        while (!closed && !seen.count(want)) {
          RawConn::Event ev = c->Next(5s);
          if (ev.kind == RawConn::Event::kClosed) closed = true;
          if (ev.kind != RawConn::Event::kFrame) return;
          auto f = wire::ParseFrameBody(ev.body);
          if (!f.ok() || f->type != MsgType::kResult) continue;
          auto r = wire::ResultMsg::Parse(f->payload);
          seen[f->request_id] = r.ok() ? r->code : Code::kInternal;
        }
      };
      pump(probe_id);
      if (frame_id != 0) pump(frame_id);
      if (closed) {
        ++closes;
        c = Raw();
        ASSERT_TRUE(c);
        ASSERT_OK(c->Greet());
        continue;
      }
      ASSERT_TRUE(seen.count(probe_id)) << "the session neither answered nor closed";
      EXPECT_EQ(seen[probe_id], Code::kOk);
      if (frame_id == 0) {
        EXPECT_FALSE(seen.count(0)) << "a one-way message was answered";
        continue;
      }
      ASSERT_TRUE(seen.count(frame_id)) << "no Result for the garbage frame";
      ++results;
      // kStatus and kReset carry no payload; the node ignores a garbage one
      // instead of refusing it (see the report). Every other type refuses.
      if (type != MsgType::kStatus && type != MsgType::kReset) {
        EXPECT_NE(seen[frame_id], Code::kOk);
      }
    }
  }
  // The same garbage as one-way frames (id 0): never answered, never fatal.
  for (MsgType type : types) {
    SCOPED_TRACE(std::string(wire::TypeName(type)) + " with id 0");
    for (const Bytes& payload : payloads) c->SendFrame(type, 0, payload);
    const uint32_t probe_id = ++id;
    c->SendFrame(MsgType::kStatus, probe_id, {});
    for (;;) {
      RawConn::Event ev = c->Next(5s);
      if (ev.kind == RawConn::Event::kClosed) {
        ++closes;
        c = Raw();
        ASSERT_TRUE(c);
        ASSERT_OK(c->Greet());
        break;
      }
      ASSERT_EQ(ev.kind, RawConn::Event::kFrame) << "the session neither answered nor closed";
      auto f = wire::ParseFrameBody(ev.body);
      ASSERT_TRUE(f.ok());
      if (f->type != MsgType::kResult) continue;
      EXPECT_NE(f->request_id, 0u) << "a one-way frame was answered";
      if (f->request_id == probe_id) break;
    }
  }
  RecordProperty("error_results", results);
  RecordProperty("closed_sessions", closes);
  EXPECT_GT(results, 0);
  ExpectNodeServes();
}

TEST_F(RobustnessTest, PeerNodeSessionCannotManage) {
  // A connection that greets as a peer node may forward events and requests,
  // nothing else.
  TestDeployer d;
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d.Load(node_, sink::kBin, "victim"));
  ASSERT_OK_AND_ASSIGN(TestConnection in, d.ConnectDirect(*sink, Role::kInput, sink::kIn));
  auto c = Raw();
  ASSERT_TRUE(c);
  wire::Hello hello;
  hello.role = wire::PeerRole::kNode;
  c->SendFrame(MsgType::kHello, 1, hello.Encode());
  RawConn::Event ev = c->Next(5s);
  ASSERT_EQ(ev.kind, RawConn::Event::kFrame);
  uint32_t id = 10;
  std::vector<std::pair<MsgType, Bytes>> management = {
      {MsgType::kUnloadModule, wire::ModuleOp{sink->id, 0, {}}.Encode()},
      {MsgType::kCallEntry, wire::ModuleOp{sink->id, sink::kStats, {}}.Encode()},
      {MsgType::kStatus, {}},
      {MsgType::kReset, {}},
      {MsgType::kConnect, wire::Connect{sink->id, 77, sink->id, "", 0}.Encode()}};
  for (const auto& [type, payload] : management) {
    SCOPED_TRACE(wire::TypeName(type));
    const uint32_t frame_id = ++id;
    c->SendFrame(type, frame_id, payload);
    RawConn::Outcome o = c->AwaitResult(frame_id);
    EXPECT_TRUE(o.closed || (o.result && o.result->code == Code::kPermissionDenied))
        << o.ToString();
    if (o.closed) {
      c = Raw();
      ASSERT_TRUE(c);
      c->SendFrame(MsgType::kHello, 1, hello.Encode());
      ASSERT_EQ(c->Next(5s).kind, RawConn::Event::kFrame);
    }
  }
  // The module is still loaded and keyed; an event forwarded by the "peer"
  // is delivered (and authenticated by the module, not the node).
  Bytes sealed = d.Seal(in, AsBytes("via a peer"));
  c->SendFrame(MsgType::kEvent, 0, wire::ModuleOp{sink->id, in.conn_id, sealed}.Encode());
  EXPECT_TRUE(WaitFor([&] { return d.Stat(*sink, "events_accepted") == 1; }, 60s));
  EXPECT_EQ(d.State(*sink), "running");
  ExpectNodeServes();
}

TEST_F(RobustnessTest, GarbageForALoadedModule) {
  TestDeployer d;
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d.Load(node_, sink::kBin, "victim"));
  ASSERT_OK_AND_ASSIGN(TestConnection in, d.ConnectDirect(*sink, Role::kInput, sink::kIn));
  auto c = Raw();
  ASSERT_TRUE(c);
  ASSERT_OK(c->Greet());
  std::mt19937 rng(4242);
  uint32_t id = 10;
  for (MsgType type : {MsgType::kAttest, MsgType::kSetKey, MsgType::kCallEntry,
                       MsgType::kDisable, MsgType::kRequest}) {
    for (size_t n : {size_t{0}, size_t{3}, size_t{48}, size_t{70000}}) {
      SCOPED_TRACE(std::string(wire::TypeName(type)) + " " + std::to_string(n));
      const uint32_t frame_id = ++id;
      c->SendFrame(type, frame_id,
                   wire::ModuleOp{sink->id, 1000 + static_cast<uint32_t>(n), RandomBytes(rng, n)}
                       .Encode());
      RawConn::Outcome o = c->AwaitResult(frame_id);
      ASSERT_TRUE(o.result) << o.ToString();
      if (type == MsgType::kAttest && n == 48) {
        // A well-sized random challenge is just a challenge: evidence comes back.
        EXPECT_EQ(o.result->code, Code::kOk) << o.ToString();
      } else {
        EXPECT_NE(o.result->code, Code::kOk) << o.ToString();
      }
    }
  }
  // Garbage events: dropped by the runtime, counted, no reply.
  for (size_t n : {size_t{0}, size_t{10}, size_t{100}}) {
    c->SendFrame(MsgType::kEvent, 0, wire::ModuleOp{sink->id, in.conn_id, RandomBytes(rng, n)}
                                         .Encode());
  }
  // (Sent on another connection than d's: poll until they are through.)
  EXPECT_TRUE(WaitFor([&] { return d.Stat(*sink, "rejected_auth") >= 3; }, 60s));
  EXPECT_EQ(d.Stat(*sink, "rejected_auth"), 3);
  EXPECT_EQ(d.Stat(*sink, "events_accepted"), 0);
  // The module is unharmed.
  ASSERT_OK(d.SendEvent(in, AsBytes("valid")));
  EXPECT_EQ(d.Stat(*sink, "events_accepted"), 1);
  EXPECT_EQ(d.State(*sink), "running");
  ExpectNodeServes();
}

TEST_F(RobustnessTest, SlowAndIdleConnections) {
  // Many idle (half-open from the node's view) connections...
  std::vector<std::unique_ptr<RawConn>> idle;
  for (int i = 0; i < 64; ++i) {
    idle.push_back(Raw());
    ASSERT_TRUE(idle.back());
  }
  // ...and one that dribbles its HELLO a byte at a time, interleaved with a
  // normal client being served.
  auto slow = Raw();
  ASSERT_TRUE(slow);
  Bytes hello = wire::EncodeFrame(MsgType::kHello, 1, wire::Hello().Encode());
  ASSERT_OK_AND_ASSIGN(auto client, node_.Connect());
  for (uint8_t byte : hello) {
    slow->Send(ByteSpan(&byte, 1));
    ASSERT_OK(client->NodeStatus());
  }
  RawConn::Event ev = slow->Next(5s);
  ASSERT_EQ(ev.kind, RawConn::Event::kFrame);
  auto f = wire::ParseFrameBody(ev.body);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->type, MsgType::kHelloAck);
  ExpectNodeServes();
  idle.clear();
  ExpectNodeServes();
}

// ------------------------------------------------------- misbehaving modules

TEST_F(RobustnessTest, CrashingModuleIsIsolatedAndReported) {
  TestDeployer d;
  ASSERT_OK_AND_ASSIGN(TestModule * crash, d.Load(node_, crash::kBin, "crash"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d.Load(node_, sink::kBin, "sink"));
  ASSERT_OK_AND_ASSIGN(TestConnection to_crash_dummy,
                       d.ConnectDirect(*sink, Role::kInput, sink::kIn));
  ASSERT_OK_AND_ASSIGN(Bytes ok, d.CallEntry(*crash, crash::kOk));
  EXPECT_EQ(std::string(ok.begin(), ok.end()), "ok");

  auto r = d.CallEntry(*crash, crash::kAbort);
  EXPECT_FALSE(r.ok()) << "an aborting entry cannot answer";
  EXPECT_TRUE(WaitFor([&] { return d.State(*crash) == "exited"; }, 5s))
      << "state: " << d.State(*crash);
  ASSERT_TRUE(node_.Alive());
  ASSERT_OK_AND_ASSIGN(auto entry, d.ModuleStatus(*crash));
  EXPECT_FALSE(entry.value("reason", std::string()).empty()) << entry.dump();

  // Calls to the dead module fail promptly; so does a confirmed event.
  auto again = d.CallEntry(*crash, crash::kOk);
  EXPECT_EQ(again.status().code(), Code::kUnavailable) << again.status().ToString();
  TestConnection to_dead = d.NewConnection();
  to_dead.module = crash;
  Status dead = d.SendEvent(to_dead, AsBytes("into the void"));
  EXPECT_EQ(dead.code(), Code::kUnavailable) << dead.ToString();

  // The other module keeps working.
  ASSERT_OK(d.SendEvent(to_crash_dummy, AsBytes("hello")));
  EXPECT_EQ(d.Stat(*sink, "events_accepted"), 1);
  EXPECT_EQ(d.State(*sink), "running");
  // The dead module can be unloaded, and new modules load.
  ASSERT_OK_AND_ASSIGN(deploy::NodeClient * client, d.Client(node_));
  EXPECT_OK(client->Unload(crash->id));
  ExpectNodeServes();
}

TEST_F(RobustnessTest, HungHandlerIsKilledAfterCallTimeout) {
  TestDeployer d;
  ASSERT_OK_AND_ASSIGN(TestModule * hang, d.Load(node_, hang::kBin, "hang"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d.Load(node_, sink::kBin, "sink"));
  ASSERT_OK_AND_ASSIGN(TestConnection to_hang,
                       d.ConnectDirect(*hang, Role::kHandler, hang::kHandle));
  ASSERT_OK_AND_ASSIGN(TestConnection to_sink, d.ConnectDirect(*sink, Role::kInput, sink::kIn));
  ASSERT_OK_AND_ASSIGN(auto before, d.ModuleStatus(*hang));
  const pid_t hang_pid = before.value("pid", -1);
  ASSERT_GT(hang_pid, 0);

  // The hanging request runs on its own client and thread.
  ASSERT_OK_AND_ASSIGN(auto hang_client, node_.Connect(10s));
  Bytes sealed = d.SealWithCounter(to_hang, ++to_hang.counter, AsBytes("never answered"));
  std::atomic<bool> sent{false}, done{false};
  Status hang_status;
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration hang_elapsed{};
  std::thread t([&] {
    wire::ModuleOp op{hang->id, to_hang.conn_id, sealed};
    Status s = hang_client->SendRaw(wire::EncodeFrame(MsgType::kRequest, 42, op.Encode()));
    sent = true;
    while (s.ok()) {
      auto body = hang_client->ReadFrameBody();
      if (!body.ok()) {
        s = body.status();
        break;
      }
      auto f = wire::ParseFrameBody(*body);
      if (!f.ok() || f->type != MsgType::kResult || f->request_id != 42) continue;
      auto res = wire::ResultMsg::Parse(f->payload);
      s = res.ok() ? res->ToStatus() : res.status();
      if (s.ok()) s = Status(Code::kInternal, "the hung handler answered");
      break;
    }
    hang_status = s;
    hang_elapsed = std::chrono::steady_clock::now() - start;
    done = true;
  });
  ASSERT_TRUE(WaitFor([&] { return sent.load(); }, 60s));
  // While the handler spins, the node serves the other module.
  for (int i = 0; i < 3; ++i) {
    EXPECT_OK(d.SendEvent(to_sink, AsBytes("meanwhile")));
    EXPECT_OK(d.CallEntry(*sink, sink::kStats));
  }
  EXPECT_FALSE(done.load()) << "the hung request returned before the call timeout";
  t.join();

  EXPECT_FALSE(hang_status.ok());
  EXPECT_NE(hang_status.code(), Code::kTimeout) << "the node, not the client, must give up";
  EXPECT_GE(hang_elapsed, 900ms);
  EXPECT_LT(hang_elapsed, 8s);
  EXPECT_TRUE(WaitFor([&] { return d.State(*hang) == "hung"; }, 5s)) << d.State(*hang);
  // The process is gone (killed and reaped by the node).
  EXPECT_TRUE(WaitFor([&] { return kill(hang_pid, 0) != 0 && errno == ESRCH; }, 60s));
  auto again = d.CallEntry(*hang, hang::kOk);
  EXPECT_FALSE(again.ok());

  ASSERT_TRUE(node_.Alive());
  EXPECT_EQ(d.Stat(*sink, "events_accepted"), 3);
  ExpectNodeServes();
}

}  // namespace
}  // namespace aex::itest
