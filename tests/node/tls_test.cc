// Mutual TLS on a real aex-node process (docs/reliability.md): the deployer's
// certificate manages the node; a plain TCP client, a client without a
// certificate, a client with a certificate from another CA and a node
// certificate asking for management are all refused, counted, and the node
// keeps serving the deployer. Also the check that keeps a node off the
// network without TLS.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../command_run.h"
#include "attack_util.h"
#include "deployer/node_tls.h"
#include "harness.h"
#include "node/node.h"
#include "test_modules.h"
#include "wire/messages.h"

namespace aex::itest {
namespace {

using wire::MsgType;

// A blocking TLS connection with a chosen certificate that speaks frames
// without NodeClient's rules (e.g. HELLO with the node role, then management).
class TlsConn {
 public:
  static Result<std::unique_ptr<TlsConn>> Open(uint16_t port, SSL_CTX* ctx) {
    int fd = ConnectTcp(port);
    if (fd < 0) return Unavailable("connect failed");
    std::unique_ptr<TlsConn> c(new TlsConn(fd, SSL_new(ctx)));
    SSL_set_fd(c->ssl_, fd);
    if (SSL_connect(c->ssl_) != 1) return Unavailable("handshake failed: " + tls::LastError());
    return c;
  }
  ~TlsConn() {
    SSL_free(ssl_);
    close(fd_);
  }
  void SendFrame(MsgType type, uint32_t id, ByteSpan payload) {
    Bytes f = wire::EncodeFrame(type, id, payload);
    SSL_write(ssl_, f.data(), static_cast<int>(f.size()));
  }
  // The next frame, or an error once the node closed the connection.
  Result<wire::Frame> Next() {
    while (in_.size() < 4 || in_.size() < 4 + LoadU32(in_.data())) {
      uint8_t buf[4096];
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) return Unavailable("closed");
      in_.insert(in_.end(), buf, buf + n);
    }
    body_.assign(in_.begin() + 4, in_.begin() + 4 + LoadU32(in_.data()));
    in_.erase(in_.begin(), in_.begin() + 4 + static_cast<std::ptrdiff_t>(body_.size()));
    return wire::ParseFrameBody(body_);
  }
  // Sends a request and returns the code of its Result.
  Result<Code> Ask(MsgType type, uint32_t id, ByteSpan payload) {
    SendFrame(type, id, payload);
    AEX_ASSIGN_OR_RETURN(wire::Frame f, Next());
    if (f.type != MsgType::kResult) return Status(Code::kProtocol, "not a RESULT");
    AEX_ASSIGN_OR_RETURN(wire::ResultMsg r, wire::ResultMsg::Parse(f.payload));
    return r.code;
  }

 private:
  TlsConn(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  int fd_;
  SSL* ssl_;
  Bytes in_, body_;
};

tls::SslCtxPtr Context(const tls::Files& files) {
  auto ctx = tls::NewContext(files);
  EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
  return ctx.ok() ? std::move(*ctx) : nullptr;
}

class TlsNodeTest : public ::testing::Test {
 protected:
  TlsNodeTest()
      : d_(Deployment(dir_.Sub("deployment"))),
        node_(dir_.Sub("node"), NodeConfig{.name = "n1", .extra_args = NodeTlsArgs(d_)}) {}
  void SetUp() override {
    ASSERT_OK(node_.Start());
    deployer_ctx_ = Context(deploy::DeployerTlsFiles(d_));
  }
  Result<std::unique_ptr<deploy::NodeClient>> Deployer() {
    return deploy::NodeClient::Connect("127.0.0.1", node_.port(), 5000ms, deployer_ctx_.get());
  }
  nlohmann::json Counters() {
    auto c = Deployer();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return {};
    auto st = (*c)->NodeStatus();
    EXPECT_TRUE(st.ok());
    return st.ok() ? nlohmann::json::parse(*st)["counters"] : nlohmann::json{};
  }
  // The node still serves its deployer: load a module, then reset.
  void ExpectDeployerStillServed() {
    ASSERT_OK_AND_ASSIGN(auto c, Deployer());
    ASSERT_OK_AND_ASSIGN(Bytes bin, ReadFile(AEX_IT_SINK_BIN));
    ASSERT_OK(c->LoadModule("sink", 0, "", bin));
    ASSERT_OK(c->Reset());
  }

  TempDir dir_;
  deploy::Descriptor d_;
  NodeProcess node_;
  tls::SslCtxPtr deployer_ctx_;
};

TEST_F(TlsNodeTest, DeployerManagesTheNodeOverTls) {
  ExpectDeployerStillServed();
  ASSERT_OK_AND_ASSIGN(auto c, Deployer());
  ASSERT_OK_AND_ASSIGN(std::string status, c->NodeStatus());
  auto doc = nlohmann::json::parse(status);
  EXPECT_TRUE(doc["tls"].get<bool>());
  EXPECT_EQ(doc["counters"]["handshakes_rejected"], 0);
}

TEST_F(TlsNodeTest, PlainTcpClientIsDroppedAtTheHandshake) {
  int fd = ConnectTcp(node_.port());
  ASSERT_GE(fd, 0);
  // HELLO then LOAD_MODULE and RESET in the clear: the node reads them as a
  // TLS ClientHello, fails the handshake and closes.
  Bytes bytes = wire::EncodeFrame(MsgType::kHello, 1, wire::Hello().Encode());
  Bytes reset = wire::EncodeFrame(MsgType::kReset, 2, {});
  bytes.insert(bytes.end(), reset.begin(), reset.end());
  ASSERT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  uint8_t buf[4096];
  ssize_t total = 0, n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) total += n;
  EXPECT_EQ(n, 0) << "the node closes the connection (no read timeout)";
  EXPECT_LT(total, 64) << "at most a TLS alert, never a HELLO_ACK";
  close(fd);
  EXPECT_GE(Counters()["handshakes_rejected"].get<int>(), 1);
  ExpectDeployerStillServed();
}

TEST_F(TlsNodeTest, ClientWithoutCertificateIsRefused) {
  // Trusts the right CA, so only the missing client certificate fails.
  tls::SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx.get(), deploy::DeployerTlsFiles(d_).ca.c_str(),
                                          nullptr),
            1);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  auto c = deploy::NodeClient::Connect("127.0.0.1", node_.port(), 5000ms, ctx.get());
  EXPECT_FALSE(c.ok());
  EXPECT_GE(Counters()["handshakes_rejected"].get<int>(), 1);
  ExpectDeployerStillServed();
}

TEST_F(TlsNodeTest, CertificateFromAnotherCaIsRefused) {
  // A deployer certificate made by another deployment's CA (self-made, with
  // the right role in it), presented by a client that trusts our CA.
  deploy::Descriptor other = Deployment(dir_.Sub("other"));
  tls::Files forged = deploy::DeployerTlsFiles(other);
  forged.ca = deploy::DeployerTlsFiles(d_).ca;
  tls::SslCtxPtr ctx = Context(forged);
  auto c = deploy::NodeClient::Connect("127.0.0.1", node_.port(), 5000ms, ctx.get());
  EXPECT_FALSE(c.ok());
  EXPECT_GE(Counters()["handshakes_rejected"].get<int>(), 1);
  ExpectDeployerStillServed();
}

TEST_F(TlsNodeTest, NodeCertificateCannotManage) {
  tls::SslCtxPtr ctx = Context(deploy::NodeTlsFiles(d_, d_.nodes[0]));
  // As a management client: refused at HELLO.
  auto c = deploy::NodeClient::Connect("127.0.0.1", node_.port(), 5000ms, ctx.get());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kPermissionDenied) << c.status().ToString();
  // As a peer session: events and requests only; LOAD_MODULE and RESET are
  // refused.
  ASSERT_OK_AND_ASSIGN(auto peer, TlsConn::Open(node_.port(), ctx.get()));
  wire::Hello hello;
  hello.role = wire::PeerRole::kNode;
  peer->SendFrame(MsgType::kHello, 0, hello.Encode());
  ASSERT_OK_AND_ASSIGN(wire::Frame ack, peer->Next());
  EXPECT_EQ(ack.type, MsgType::kHelloAck);
  // (A small binary: a peer session's frames are capped far below a module's
  // size, which would only close the connection.)
  const Bytes bin = {0x7f, 'E', 'L', 'F'};
  wire::LoadModule load{"sink", 0, "", bin};
  ASSERT_OK_AND_ASSIGN(Code load_code, peer->Ask(MsgType::kLoadModule, 1, load.Encode()));
  EXPECT_EQ(load_code, Code::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(Code reset_code, peer->Ask(MsgType::kReset, 2, {}));
  EXPECT_EQ(reset_code, Code::kPermissionDenied);
  EXPECT_GE(Counters()["frames_rejected"].get<int>(), 3);
  ExpectDeployerStillServed();
}

// Issue 11: on loopback too, only the deployer's certificate manages a node.
// A local client without one tries LOAD_MODULE, UNLOAD_MODULE and RESET, in
// plain TCP and in TLS without a certificate: nothing happens to the module
// the deployer loaded.
TEST_F(TlsNodeTest, UnauthenticatedLoopbackClientCannotLoadUnloadOrReset) {
  ASSERT_OK_AND_ASSIGN(auto deployer, Deployer());
  ASSERT_OK_AND_ASSIGN(Bytes bin, ReadFile(AEX_IT_SINK_BIN));
  ASSERT_OK_AND_ASSIGN(uint32_t id, deployer->LoadModule("sink", 0, "", bin));
  const Bytes unload = wire::ModuleOp{id, 0, {}}.Encode();
  const Bytes tiny = {0x7f, 'E', 'L', 'F'};
  const Bytes load = wire::LoadModule{"intruder", 0, "", tiny}.Encode();
  Bytes attack = wire::EncodeFrame(MsgType::kHello, 1, wire::Hello().Encode());
  for (const Bytes& f : {wire::EncodeFrame(MsgType::kLoadModule, 2, load),
                         wire::EncodeFrame(MsgType::kUnloadModule, 3, unload),
                         wire::EncodeFrame(MsgType::kReset, 4, {})}) {
    attack.insert(attack.end(), f.begin(), f.end());
  }
  // Plain TCP: read as a TLS ClientHello, refused, closed.
  int fd = ConnectTcp(node_.port());
  ASSERT_GE(fd, 0);
  send(fd, attack.data(), attack.size(), MSG_NOSIGNAL);
  uint8_t buf[4096];
  ssize_t total = 0, n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) total += n;
  EXPECT_EQ(n, 0) << "the node closes the connection";
  EXPECT_LT(total, 64) << "at most a TLS alert, never a HELLO_ACK or a RESULT";
  close(fd);
  // TLS trusting the right CA but without a client certificate: in TLS 1.3
  // the client may finish its side first, so it gets to send the frames;
  // the node refuses the handshake and answers none of them.
  tls::SslCtxPtr anonymous(SSL_CTX_new(TLS_method()));
  SSL_CTX_set_min_proto_version(anonymous.get(), TLS1_3_VERSION);
  ASSERT_EQ(SSL_CTX_load_verify_locations(anonymous.get(),
                                          deploy::DeployerTlsFiles(d_).ca.c_str(), nullptr),
            1);
  auto conn = TlsConn::Open(node_.port(), anonymous.get());
  if (conn.ok()) {
    (*conn)->SendFrame(MsgType::kHello, 1, wire::Hello().Encode());
    (*conn)->SendFrame(MsgType::kLoadModule, 2, load);
    (*conn)->SendFrame(MsgType::kUnloadModule, 3, unload);
    (*conn)->SendFrame(MsgType::kReset, 4, {});
    EXPECT_FALSE((*conn)->Next().ok()) << "no frame answers a client without a certificate";
  }
  // The deployer's module is still there, alone, and both attempts counted.
  ASSERT_OK_AND_ASSIGN(std::string status, deployer->NodeStatus());
  auto doc = nlohmann::json::parse(status);
  ASSERT_EQ(doc["modules"].size(), 1u) << status;
  EXPECT_EQ(doc["modules"][0]["id"].get<uint32_t>(), id);
  EXPECT_EQ(doc["modules"][0]["state"], "running") << status;
  EXPECT_GE(doc["counters"]["handshakes_rejected"].get<int>(), 2) << status;
  ASSERT_OK(deployer->Reset());
}

TEST_F(TlsNodeTest, DeployerChecksTheNodeCertificate) {
  // A node that is not the one the deployer named (the SAN says 127.0.0.1;
  // the deployer asks for "localhost") is refused by the deployer.
  auto c = deploy::NodeClient::Connect("localhost", node_.port(), 5000ms, deployer_ctx_.get());
  EXPECT_FALSE(c.ok());
}

// The buffer budget holds strangers back (HostileClientsTest), never the
// deployer: with a 1 MiB budget, its 2.6 MiB module binary still loads.
TEST(TlsBudgetTest, AuthenticatedDeployerIsNotHeldByTheBufferBudget) {
  TempDir dir;
  deploy::Descriptor d = Deployment(dir.Sub("deployment"));
  std::vector<std::string> args = NodeTlsArgs(d);
  args.insert(args.end(), {"--buffer-budget-mib", "1"});
  NodeProcess node(dir.Sub("node"), NodeConfig{.name = "n1", .extra_args = args});
  ASSERT_OK(node.Start());
  tls::SslCtxPtr ctx = Context(deploy::DeployerTlsFiles(d));
  ASSERT_OK_AND_ASSIGN(auto deployer,
                       deploy::NodeClient::Connect("127.0.0.1", node.port(), 5000ms, ctx.get()));
  ASSERT_OK_AND_ASSIGN(Bytes bin, ReadFile(AEX_IT_SINK_BIN));
  ASSERT_GT(bin.size(), 1u << 20) << "the test needs a binary larger than the budget";
  ASSERT_OK(deployer->LoadModule("sink", 0, "", bin).status());
  ASSERT_OK_AND_ASSIGN(std::string status, deployer->NodeStatus());
  EXPECT_EQ(nlohmann::json::parse(status)["counters"]["buffer_budget_refused"], 0) << status;
  ASSERT_OK(deployer->Reset());
}

// ---------------------------------------------------------------- no TLS

TEST(TransportSecurityTest, PlainTcpOnlyWhenInsecureIsExplicit) {
  node::NodeOptions o;
  // Loopback included: every local user or process could manage the node.
  for (const char* host : {"127.0.0.1", "::1", "10.1.2.3", "0.0.0.0", "::", "192.168.1.1"}) {
    o.listen_host = host;
    o.insecure_no_tls = false;
    Status s = node::CheckTransportSecurity(o);
    EXPECT_EQ(s.code(), Code::kFailedPrecondition) << host;
    EXPECT_NE(s.message().find("--insecure-no-tls"), std::string::npos) << s.message();
    o.insecure_no_tls = true;
    EXPECT_OK(node::CheckTransportSecurity(o));
  }
  o.insecure_no_tls = false;
  o.tls = {"cert.pem", "key.pem", "ca.pem"};
  EXPECT_OK(node::CheckTransportSecurity(o));
  o.tls.ca.clear();
  EXPECT_EQ(node::CheckTransportSecurity(o).code(), Code::kInvalidArgument);
}

TEST(TransportSecurityTest, NodeProcessRefusesToListenOffLoopbackWithoutTls) {
  TempDir dir;
  // Refused before binding, so no such address is needed on this machine.
  std::string cmd = std::string(AEX_NODE_BIN) + " --port 0 --host 10.255.255.1 --platform-socket " +
                    dir.path() + "/p.sock --work-dir " + dir.path() + "/w 2>&1";
  testutil::CommandRun r = testutil::RunCommand(cmd);
  const std::string& out = r.output;
  EXPECT_EQ(r.exit_code, 2) << out;
  EXPECT_NE(out.find("refusing to listen on 10.255.255.1 without TLS"), std::string::npos) << out;
}

TEST(TransportSecurityTest, NodeProcessRefusesPlainTcpOnLoopbackWithoutInsecure) {
  TempDir dir;
  std::string cmd = std::string(AEX_NODE_BIN) + " --port 0 --host 127.0.0.1 --platform-socket " +
                    dir.path() + "/p.sock --work-dir " + dir.path() + "/w 2>&1";
  testutil::CommandRun r = testutil::RunCommand(cmd);
  const std::string& out = r.output;
  EXPECT_EQ(r.exit_code, 2) << out;
  EXPECT_NE(out.find("refusing to listen on 127.0.0.1 without TLS"), std::string::npos) << out;
  EXPECT_NE(out.find("any local user or process"), std::string::npos) << out;
}

// GET /metrics over TLS with `ctx` (null: plain TCP); the whole answer, or
// an error if the connection or the handshake failed.
Result<std::string> MetricsGet(uint16_t port, SSL_CTX* ctx) {
  int fd = ConnectTcp(port);
  if (fd < 0) return Unavailable("connect failed");
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
  std::string answer;
  char buf[4096];
  if (ctx == nullptr) {
    send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, size_t(n));
    close(fd);
    return answer;
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  Status st = Status::Ok();
  if (SSL_connect(ssl) != 1) {
    st = Unavailable("handshake failed: " + tls::LastError());
  } else {
    SSL_write(ssl, request.data(), static_cast<int>(request.size()));
    for (int n; (n = SSL_read(ssl, buf, sizeof buf)) > 0;) answer.append(buf, size_t(n));
    // TLS 1.3 reports a refused client certificate only at the first read.
    if (answer.empty()) st = Unavailable("refused: " + tls::LastError());
  }
  SSL_free(ssl);
  close(fd);
  if (!st.ok()) return st;
  return answer;
}

// /metrics on a TLS node: HTTPS with the node's certificate, and only for
// clients with a certificate from the deployment CA.
class TlsMetricsTest : public TlsNodeTest {
 protected:
  static std::vector<std::string> Args(const deploy::Descriptor& d) {
    std::vector<std::string> args = NodeTlsArgs(d);
    args.insert(args.end(), {"--metrics-listen", "127.0.0.1:0"});
    return args;
  }
  void SetUp() override {
    metrics_node_ = std::make_unique<NodeProcess>(
        dir_.Sub("metrics-node"), NodeConfig{.name = "m1", .extra_args = Args(d_)});
    ASSERT_OK(metrics_node_->Start());
    deployer_ctx_ = Context(deploy::DeployerTlsFiles(d_));
    ASSERT_OK_AND_ASSIGN(auto c, deploy::NodeClient::Connect(
                                     "127.0.0.1", metrics_node_->port(), 5000ms,
                                     deployer_ctx_.get()));
    ASSERT_OK_AND_ASSIGN(std::string status, c->NodeStatus());
    metrics_port_ = nlohmann::json::parse(status).value("metrics_port", 0);
    ASSERT_NE(metrics_port_, 0);
  }
  std::unique_ptr<NodeProcess> metrics_node_;
  uint16_t metrics_port_ = 0;
};

TEST_F(TlsMetricsTest, ServedOverTlsToACertificateOfTheDeployment) {
  ASSERT_OK_AND_ASSIGN(std::string answer, MetricsGet(metrics_port_, deployer_ctx_.get()));
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(answer.find("\naex_node_tls{node=\"m1\"} 1\n"), std::string::npos) << answer;
}

TEST_F(TlsMetricsTest, PlainHttpAndStrangersGetNothing) {
  ASSERT_OK_AND_ASSIGN(std::string plain, MetricsGet(metrics_port_, nullptr));
  EXPECT_EQ(plain.find("aex_"), std::string::npos) << plain;
  // Trusts the right CA but has no certificate of its own.
  tls::SslCtxPtr anonymous(SSL_CTX_new(TLS_method()));
  SSL_CTX_set_min_proto_version(anonymous.get(), TLS1_3_VERSION);
  ASSERT_EQ(SSL_CTX_load_verify_locations(anonymous.get(),
                                          deploy::DeployerTlsFiles(d_).ca.c_str(), nullptr),
            1);
  EXPECT_FALSE(MetricsGet(metrics_port_, anonymous.get()).ok());
  // Another deployment's certificate.
  deploy::Descriptor other = Deployment(dir_.Sub("other"));
  tls::Files forged = deploy::DeployerTlsFiles(other);
  forged.ca = deploy::DeployerTlsFiles(d_).ca;
  tls::SslCtxPtr forged_ctx = Context(forged);
  EXPECT_FALSE(MetricsGet(metrics_port_, forged_ctx.get()).ok());
  // And the scrape still works.
  ASSERT_OK_AND_ASSIGN(std::string answer, MetricsGet(metrics_port_, deployer_ctx_.get()));
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK", 0), 0u);
}

}  // namespace
}  // namespace aex::itest
