// MetricsServer: a minimal HTTP/1.1 server for Prometheus scrapes
// (`aex-node --metrics-listen HOST:PORT`): GET /metrics answers the node's
// status in the text exposition format (prometheus.h); anything else gets
// 404, 405 or 400. One request per connection (Connection: close).
//
// What reaches it is hostile like everything else: a request head is read
// up to 8 KiB within 5 s, at most 16 connections are served at once (more
// are closed at accept), and nothing a client sends changes the node. With
// a TLS context (the node's, node.cc) it is HTTPS with the node's
// certificate, and the client must present one from the deployment CA, as
// on the management port.
//
// Threading: on the node's single io_context thread.

#ifndef AEX_NODE_METRICS_SERVER_H_
#define AEX_NODE_METRICS_SERVER_H_

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <functional>
#include <memory>
#include <string>

#include "aex/status.h"

namespace aex::node {

class MetricsServer : public std::enable_shared_from_this<MetricsServer> {
 public:
  // Produces the exposition text; calls `done` exactly once, maybe later.
  using Collect = std::function<void(std::function<void(std::string)> done)>;

  // `tls`: null for plain HTTP.
  MetricsServer(asio::io_context& io, Collect collect, std::shared_ptr<asio::ssl::context> tls);

  Status Listen(const asio::ip::tcp::endpoint& endpoint);
  uint16_t port() const { return port_; }
  void Stop();

  static constexpr size_t kMaxRequestHead = 8 * 1024;
  static constexpr size_t kMaxConnections = 16;

 private:
  template <typename Stream>
  class Exchange;

  void Accept();

  asio::io_context& io_;
  Collect collect_;
  std::shared_ptr<asio::ssl::context> tls_;
  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  size_t active_ = 0;
};

}  // namespace aex::node

#endif  // AEX_NODE_METRICS_SERVER_H_
