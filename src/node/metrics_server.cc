#include "node/metrics_server.h"

#include <chrono>

#include "util/listen.h"

namespace aex::node {

constexpr std::chrono::seconds kRequestDeadline(5);

// One connection: (TLS handshake,) request head, answer, close.
template <typename Stream>
class MetricsServer::Exchange : public std::enable_shared_from_this<Exchange<Stream>> {
 public:
  template <typename... Args>
  Exchange(std::shared_ptr<MetricsServer> server, Args&&... args)
      : server_(std::move(server)),
        stream_(std::forward<Args>(args)...),
        head_(kMaxRequestHead),
        deadline_(server_->io_) {}
  ~Exchange() { --server_->active_; }

  void Start() {
    auto self = this->shared_from_this();
    deadline_.expires_after(kRequestDeadline);
    deadline_.async_wait([self](const asio::error_code& ec) {
      if (!ec) self->Abort();
    });
    if constexpr (std::is_same_v<Stream, asio::ip::tcp::socket>) {
      ReadHead();
    } else {
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self](const asio::error_code& ec) {
                                if (ec) return self->Abort();
                                self->ReadHead();
                              });
    }
  }

 private:
  void ReadHead() {
    auto self = this->shared_from_this();
    asio::async_read_until(stream_, head_, "\r\n\r\n",
                           [self](const asio::error_code& ec, size_t) {
                             // Too long (the streambuf's limit) or cut off.
                             if (ec) return self->Answer("400 Bad Request", "bad request\n");
                             self->OnHead();
                           });
  }

  void OnHead() {
    std::istream in(&head_);
    std::string method, target, version;
    in >> method >> target >> version;
    if (version.rfind("HTTP/1.", 0) != 0) return Answer("400 Bad Request", "bad request\n");
    if (method != "GET") return Answer("405 Method Not Allowed", "only GET\n");
    if (target.substr(0, target.find('?')) != "/metrics") {
      return Answer("404 Not Found", "see /metrics\n");
    }
    auto self = this->shared_from_this();
    server_->collect_([self](std::string text) {
      self->Answer("200 OK", std::move(text), "text/plain; version=0.0.4; charset=utf-8");
    });
  }

  void Answer(const std::string& status, std::string body,
              const char* type = "text/plain; charset=utf-8") {
    reply_ = "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
             "\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\nConnection: close\r\n\r\n" + body;
    auto self = this->shared_from_this();
    asio::async_write(stream_, asio::buffer(reply_),
                      [self](const asio::error_code&, size_t) { self->Abort(); });
  }

  void Abort() {
    deadline_.cancel();
    asio::error_code ignored;
    stream_.lowest_layer().shutdown(asio::socket_base::shutdown_both, ignored);
    stream_.lowest_layer().close(ignored);
  }

  std::shared_ptr<MetricsServer> server_;
  Stream stream_;
  asio::streambuf head_;
  asio::steady_timer deadline_;
  std::string reply_;
};

MetricsServer::MetricsServer(asio::io_context& io, Collect collect,
                             std::shared_ptr<asio::ssl::context> tls)
    : io_(io), collect_(std::move(collect)), tls_(std::move(tls)), acceptor_(io) {}

Status MetricsServer::Listen(const asio::ip::tcp::endpoint& endpoint) {
  AEX_RETURN_IF_ERROR(ListenTcp(acceptor_, endpoint, "metrics"));
  port_ = acceptor_.local_endpoint().port();
  Accept();
  return Status::Ok();
}

void MetricsServer::Accept() {
  auto self = shared_from_this();
  AcceptEach(acceptor_, [self](asio::ip::tcp::socket socket) {
    if (self->active_ >= kMaxConnections) {
      asio::error_code ignored;
      socket.close(ignored);  // a scrape is retried; the node's own work is not
      return;
    }
    ++self->active_;
    if (self->tls_) {
      std::make_shared<Exchange<asio::ssl::stream<asio::ip::tcp::socket>>>(
          self, std::move(socket), *self->tls_)
          ->Start();
    } else {
      std::make_shared<Exchange<asio::ip::tcp::socket>>(self, std::move(socket))->Start();
    }
  });
}

void MetricsServer::Stop() {
  asio::error_code ignored;
  acceptor_.close(ignored);
}

}  // namespace aex::node
