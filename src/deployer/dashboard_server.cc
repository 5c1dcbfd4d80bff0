#include "deployer/dashboard_server.h"

#include <cassert>
#include <chrono>
#include <deque>
#include <sstream>

#include "util/listen.h"

namespace aex::deploy {

namespace {

constexpr std::chrono::seconds kRequestDeadline(5);

// Headers of every answer: nothing cached, the token never sent on as a
// referrer, and the page may talk to this server only (no external asset).
constexpr char kCommonHeaders[] =
    "Cache-Control: no-store\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; connect-src 'self'; img-src data:\r\n";

}  // namespace

bool QueryHasToken(const std::string& query, const std::string& token) {
  assert(!token.empty());
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string param = query.substr(start, end - start);
    if (param.rfind("token=", 0) == 0 && param.size() == 6 + token.size()) {
      unsigned char diff = 0;
      for (size_t i = 0; i < token.size(); ++i) {
        diff |= static_cast<unsigned char>(param[6 + i] ^ token[i]);
      }
      if (diff == 0) return true;
    }
    start = end + 1;
  }
  return false;
}

DashboardRoute RouteRequest(std::string_view head, const std::string& token) {
  const std::string line(head.substr(0, head.find("\r\n")));
  std::istringstream in(line);
  std::string method, target, version;
  in >> method >> target >> version;
  if (version.rfind("HTTP/1.", 0) != 0 || target.empty() || target[0] != '/') {
    return DashboardRoute::kBadRequest;
  }
  if (method != "GET") return DashboardRoute::kNotGet;
  const size_t q = target.find('?');
  if (q == std::string::npos || !QueryHasToken(target.substr(q + 1), token)) {
    return DashboardRoute::kForbidden;
  }
  const std::string path = target.substr(0, q);
  if (path == "/") return DashboardRoute::kPage;
  if (path == "/events") return DashboardRoute::kEvents;
  if (path == "/snapshot") return DashboardRoute::kSnapshot;
  return DashboardRoute::kNotFound;
}

// One connection: request head, then one answer and close, or an event
// stream kept open until the client goes or falls behind.
class DashboardServer::Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<DashboardServer> server, asio::ip::tcp::socket socket)
      : server_(std::move(server)),
        socket_(std::move(socket)),
        head_(kMaxRequestHead),
        deadline_(server_->io_) {}
  ~Exchange() { --server_->active_; }

  void Start() {
    auto self = shared_from_this();
    deadline_.expires_after(kRequestDeadline);
    deadline_.async_wait([self](const asio::error_code& ec) {
      if (!ec) self->Close();
    });
    asio::async_read_until(socket_, head_, "\r\n\r\n", [self](const asio::error_code& ec, size_t) {
      // Too long (the streambuf's limit) or cut off.
      if (ec) return self->Answer("400 Bad Request", "bad request\n");
      self->OnHead();
    });
  }

  // Queues one event; closes a stream that falls too far behind.
  void Send(std::shared_ptr<const std::string> event) {
    if (queue_.size() >= kMaxQueuedEvents) return Close();
    queue_.push_back(std::move(event));
    if (queue_.size() == 1) WriteNext();
  }

  void Close() {
    deadline_.cancel();
    server_->streams_.erase(shared_from_this());
    asio::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  void OnHead() {
    const auto* data = static_cast<const char*>(head_.data().data());
    switch (RouteRequest(std::string_view(data, head_.size()), server_->token_)) {
      case DashboardRoute::kBadRequest: return Answer("400 Bad Request", "bad request\n");
      case DashboardRoute::kNotGet: return Answer("405 Method Not Allowed", "only GET\n");
      case DashboardRoute::kForbidden:
        return Answer("403 Forbidden", "the URL aex dashboard printed carries the token\n");
      case DashboardRoute::kPage:
        return Answer("200 OK", server_->page_(server_->latest_), "text/html; charset=utf-8");
      case DashboardRoute::kSnapshot:
        return Answer("200 OK", server_->latest_ + "\n", "application/json");
      case DashboardRoute::kEvents: return StartStream();
      case DashboardRoute::kNotFound: return Answer("404 Not Found", "not found\n");
    }
  }

  void Answer(const std::string& status, const std::string& body,
              const char* type = "text/plain; charset=utf-8") {
    auto reply = std::make_shared<const std::string>(
        "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\n" + kCommonHeaders +
        "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(*reply),
                      [self, reply](const asio::error_code&, size_t) { self->Close(); });
  }

  void StartStream() {
    deadline_.cancel();
    auto self = shared_from_this();
    server_->streams_.insert(self);
    Send(std::make_shared<const std::string>(
        std::string("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n") + kCommonHeaders +
        "Connection: close\r\n\r\nretry: 2000\n\n"));
    Send(std::make_shared<const std::string>("data: " + server_->latest_ + "\n\n"));
    // The client sends nothing more; a read ends when it goes away.
    socket_.async_read_some(asio::buffer(probe_), [self](const asio::error_code&, size_t) {
      self->Close();
    });
  }

  void WriteNext() {
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(*queue_.front()),
                      [self](const asio::error_code& ec, size_t) {
                        if (ec) return self->Close();
                        self->queue_.pop_front();
                        if (!self->queue_.empty()) self->WriteNext();
                      });
  }

  std::shared_ptr<DashboardServer> server_;
  asio::ip::tcp::socket socket_;
  asio::streambuf head_;
  asio::steady_timer deadline_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  char probe_[64];
};

DashboardServer::DashboardServer(asio::io_context& io, std::string token, RenderPage page)
    : io_(io), token_(std::move(token)), page_(std::move(page)), acceptor_(io) {
  assert(!token_.empty());
}

Status DashboardServer::Listen(const asio::ip::tcp::endpoint& endpoint) {
  AEX_RETURN_IF_ERROR(ListenTcp(acceptor_, endpoint, "the dashboard"));
  port_ = acceptor_.local_endpoint().port();
  Accept();
  return Status::Ok();
}

void DashboardServer::Accept() {
  auto self = shared_from_this();
  AcceptEach(acceptor_, [self](asio::ip::tcp::socket socket) {
    if (self->active_ >= kMaxConnections) {
      asio::error_code ignored;
      socket.close(ignored);
      return;
    }
    ++self->active_;
    std::make_shared<Exchange>(self, std::move(socket))->Start();
  });
}

void DashboardServer::Publish(std::string snapshot) {
  latest_ = std::move(snapshot);
  auto event = std::make_shared<const std::string>("data: " + latest_ + "\n\n");
  // Send may close (and so erase) a stream: iterate over a copy.
  auto streams = streams_;
  for (const auto& s : streams) s->Send(event);
}

void DashboardServer::Stop() {
  asio::error_code ignored;
  acceptor_.close(ignored);
  auto streams = streams_;
  for (const auto& s : streams) s->Close();
}

}  // namespace aex::deploy
