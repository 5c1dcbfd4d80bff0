// DashboardServer on loopback, in process: the token (403 without it), the
// routes, and the event stream receiving what is published.

#include "deployer/dashboard_server.h"

#include <gtest/gtest.h>

#include <thread>

#include "deployer/dashboard.h"

namespace aex::deploy {
namespace {

TEST(QueryHasTokenTest, ExactParameterOnly) {
  EXPECT_TRUE(QueryHasToken("token=abc", "abc"));
  EXPECT_TRUE(QueryHasToken("x=1&token=abc&y", "abc"));
  EXPECT_FALSE(QueryHasToken("", "abc"));
  EXPECT_FALSE(QueryHasToken("token=", "abc"));
  EXPECT_FALSE(QueryHasToken("token=ab", "abc"));
  EXPECT_FALSE(QueryHasToken("token=abcd", "abc"));
  EXPECT_FALSE(QueryHasToken("token=abd", "abc"));
  EXPECT_FALSE(QueryHasToken("xtoken=abc", "abc"));
  EXPECT_FALSE(QueryHasToken("token%3Dabc", "abc"));
}

TEST(RouteRequestTest, RequestLineDecides) {
  const std::string t = "t0ken";
  EXPECT_EQ(RouteRequest("GET /?token=t0ken HTTP/1.1\r\nHost: x\r\n\r\n", t),
            DashboardRoute::kPage);
  EXPECT_EQ(RouteRequest("GET /events?token=t0ken HTTP/1.0\r\n\r\n", t), DashboardRoute::kEvents);
  EXPECT_EQ(RouteRequest("GET /snapshot?x&token=t0ken HTTP/1.1\r\n\r\n", t),
            DashboardRoute::kSnapshot);
  EXPECT_EQ(RouteRequest("GET /x?token=t0ken HTTP/1.1\r\n\r\n", t), DashboardRoute::kNotFound);
  EXPECT_EQ(RouteRequest("GET /events HTTP/1.1\r\n\r\n", t), DashboardRoute::kForbidden);
  EXPECT_EQ(RouteRequest("HEAD /?token=t0ken HTTP/1.1\r\n\r\n", t), DashboardRoute::kNotGet);
  // The token must be in the request line, not in a header.
  EXPECT_EQ(RouteRequest("GET / HTTP/1.1\r\nX: /?token=t0ken\r\n\r\n", t),
            DashboardRoute::kForbidden);
  for (const char* bad : {"", "GET", "GET /", "GET / HTTP/2\r\n\r\n", "GET x HTTP/1.1\r\n\r\n",
                          "\r\nGET /?token=t0ken HTTP/1.1\r\n\r\n"}) {
    EXPECT_EQ(RouteRequest(bad, t), DashboardRoute::kBadRequest) << bad;
  }
}

TEST(DashboardListenTest, LoopbackOnlyUnlessAllowed) {
  auto ok = ParseDashboardListen("127.0.0.1:8080", false);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->port(), 8080);
  EXPECT_TRUE(ParseDashboardListen("[::1]:0", false).ok());
  EXPECT_EQ(ParseDashboardListen("0.0.0.0:1", false).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(ParseDashboardListen("0.0.0.0:1", true).ok());
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                          "localhost:1", "127.0.0.1:1x", "127.0.0.1:999999999999"}) {
    EXPECT_FALSE(ParseDashboardListen(bad, true).ok()) << bad;
  }
}

TEST(DashboardPageTest, SnapshotCannotCloseTheScript) {
  std::string page = RenderDashboardPage("<svg id=\"g\"></svg>",
                                         R"({"text":"</script><script>alert(1)</script>"})");
  EXPECT_NE(page.find("<svg id=\"g\"></svg>"), std::string::npos);
  EXPECT_EQ(page.find("</script><script>alert"), std::string::npos);
  EXPECT_NE(page.find("\\u003c/script>"), std::string::npos);
  EXPECT_EQ(page.find("AEX_SNAPSHOT"), std::string::npos);
  EXPECT_EQ(page.find("AEX_GRAPH"), std::string::npos);
}

class DashboardServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_shared<DashboardServer>(
        io_, "t0ken", [](const std::string& snap) { return "page:" + snap; });
    ASSERT_TRUE(server_->Listen({asio::ip::make_address("127.0.0.1"), 0}).ok());
    server_->Publish("{\"seq\":1}");
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] {
      server_->Stop();
      io_.stop();
    });
    thread_.join();
  }
  // Sends `request`, reads until `until` appears or the server closes.
  std::string Exchange(const std::string& request, const std::string& until = "") {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    asio::write(s, asio::buffer(request));
    std::string got;
    char buf[4096];
    asio::error_code ec;
    while (!ec && (until.empty() || got.find(until) == std::string::npos)) {
      size_t n = s.read_some(asio::buffer(buf), ec);
      got.append(buf, n);
    }
    return got;
  }
  std::string Get(const std::string& target) {
    return Exchange("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  asio::io_context io_;
  std::shared_ptr<DashboardServer> server_;
  std::thread thread_;
};

TEST_F(DashboardServerTest, TokenGuardsEveryPath) {
  for (const char* t : {"/", "/events", "/snapshot", "/nope", "/?token=t0ke", "/?tok=t0ken"}) {
    EXPECT_EQ(Get(t).rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u) << t;
  }
  std::string page = Get("/?token=t0ken");
  EXPECT_EQ(page.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(page.find("Content-Type: text/html"), std::string::npos);
  EXPECT_NE(page.find("Referrer-Policy: no-referrer"), std::string::npos);
  EXPECT_NE(page.find("\r\n\r\npage:{\"seq\":1}"), std::string::npos);
  EXPECT_NE(Get("/snapshot?token=t0ken").find("\r\n\r\n{\"seq\":1}\n"), std::string::npos);
  EXPECT_EQ(Get("/nope?token=t0ken").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(Exchange("POST /?token=t0ken HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(Exchange("GET nope HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(Exchange("GET /?token=t0ken HTTP/1.1\r\nX: " +
                     std::string(DashboardServer::kMaxRequestHead, 'a') + "\r\n\r\n")
                .rfind("HTTP/1.1 400", 0),
            0u);
}

TEST_F(DashboardServerTest, StreamSendsLatestThenPublished) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  asio::write(s, asio::buffer(std::string("GET /events?token=t0ken HTTP/1.1\r\n\r\n")));
  std::string got;
  char buf[4096];
  auto read_until = [&](const std::string& what) {
    while (got.find(what) == std::string::npos) {
      asio::error_code ec;
      size_t n = s.read_some(asio::buffer(buf), ec);
      ASSERT_FALSE(ec) << ec.message() << " before " << what << " in " << got;
      got.append(buf, n);
    }
  };
  read_until("data: {\"seq\":1}\n\n");
  EXPECT_NE(got.find("Content-Type: text/event-stream\r\n"), std::string::npos);
  asio::post(io_, [this] { server_->Publish("{\"seq\":2}"); });
  read_until("data: {\"seq\":2}\n\n");
}

}  // namespace
}  // namespace aex::deploy
