// DashboardServer: the HTTP/1.1 side of `aex dashboard`. Every request must
// carry the run's token as `?token=T` (compared in constant time), else 403.
// Routes, all GET:
//   /             the page (text/html), rendered by `page` from the latest snapshot
//   /events       server-sent events (text/event-stream): the latest snapshot at
//                 once, then each one Publish()ed, as `data: <json>` lines
//   /snapshot     the latest snapshot (application/json), for scripts
// Anything else: 400 (malformed), 405 (not GET), 404.
//
// Hostile input is bounded as in node/metrics_server.h: a request head is
// read up to 8 KiB within 5 s, at most 16 connections at once (more are
// closed at accept), and nothing a client sends changes anything but what
// it is answered. An event stream that falls behind by more than
// kMaxQueuedEvents snapshots is closed (the browser reconnects).
//
// Threading: every method, and every handler, on the thread that runs `io`.

#ifndef AEX_DEPLOYER_DASHBOARD_SERVER_H_
#define AEX_DEPLOYER_DASHBOARD_SERVER_H_

#include <asio.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "aex/status.h"

namespace aex::deploy {

class DashboardServer : public std::enable_shared_from_this<DashboardServer> {
 public:
  // Renders the page around one snapshot (JSON text).
  using RenderPage = std::function<std::string(const std::string& snapshot)>;

  // REQUIRES: token is non-empty.
  DashboardServer(asio::io_context& io, std::string token, RenderPage page);

  Status Listen(const asio::ip::tcp::endpoint& endpoint);
  uint16_t port() const { return port_; }
  // Makes `snapshot` (one line of JSON) the latest and sends it to every stream.
  void Publish(std::string snapshot);
  void Stop();

  static constexpr size_t kMaxRequestHead = 8 * 1024;
  static constexpr size_t kMaxConnections = 16;
  static constexpr size_t kMaxQueuedEvents = 8;

 private:
  class Exchange;
  friend class Exchange;

  void Accept();

  asio::io_context& io_;
  const std::string token_;
  RenderPage page_;
  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  size_t active_ = 0;
  std::string latest_ = "null";
  std::set<std::shared_ptr<Exchange>> streams_;
};

// What a request head asks for. Pure (no I/O), so that tests and the fuzz
// target (fuzz/dashboard_request_fuzz.cc) see exactly what the server does.
enum class DashboardRoute {
  kBadRequest,  // 400: no "METHOD /TARGET HTTP/1.x" request line
  kNotGet,      // 405
  kForbidden,   // 403: no token=<token> in the query
  kPage,        // GET /
  kEvents,      // GET /events
  kSnapshot,    // GET /snapshot
  kNotFound,    // 404: any other path, with the token
};
// `head`: the request head as received (its first line is what counts).
// REQUIRES: token is non-empty.
DashboardRoute RouteRequest(std::string_view head, const std::string& token);

// True if `query` (the part of a request target after '?') holds
// `token=<token>` as one of its &-separated parameters; constant time in the
// candidate's bytes. REQUIRES: token is non-empty.
bool QueryHasToken(const std::string& query, const std::string& token);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_DASHBOARD_SERVER_H_
