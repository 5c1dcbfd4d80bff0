// PeerLink: this node's one persistent, multiplexed TCP connection to another
// node. Every event and request for that node travels on it; it is never a
// connection per event.
//
// While the peer is unreachable, frames wait in a bounded backlog and the link
// reconnects with exponential backoff; once back, the backlog goes out in
// order. A frame beyond the bound is refused at the source and counted: the
// sender learns it, nothing is dropped silently.
//
// Events sent but not yet acknowledged by the peer (kAck carries a cumulative
// count per connection) are kept; if the connection drops they go out again
// first on the next one. A resent event the module already accepted is
// rejected there as a replay, so the application sees each event exactly once.
//
// With TLS (the node has a certificate), the link is TLS 1.3 with this node's
// certificate, and the peer must present a node certificate from the same CA
// naming the host the link was asked for; otherwise the link does not come up
// and retries with backoff like for an unreachable peer.

#ifndef AEX_NODE_PEER_LINK_H_
#define AEX_NODE_PEER_LINK_H_

#include <asio.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "node/frame_stream.h"
#include "node/module_process.h"
#include "tls/tls.h"

namespace aex::node {

struct PeerStats {
  uint64_t sent = 0;      // frames handed to the socket
  uint64_t refused = 0;   // frames refused because the backlog was full
  uint64_t connects = 0;  // successful (re)connections
  uint64_t resent = 0;    // events sent again after a connection was lost
};

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  // `tls`: this node's TLS context (node.cc), or null for plain TCP.
  PeerLink(asio::io_context& io, std::string host, uint16_t port, size_t max_backlog,
           std::chrono::milliseconds call_timeout,
           std::shared_ptr<asio::ssl::context> tls = nullptr);

  // Queues a one-way message. Returns false (and counts it) when refused.
  bool Post(wire::MsgType type, const wire::ModuleOp& op);
  // Sends a message expecting a Result; `done` runs exactly once.
  void Call(wire::MsgType type, const wire::ModuleOp& op, ReplyCallback done);
  void Stop();

  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  bool connected() const { return stream_ && stream_->is_open() && !connecting_; }
  size_t backlog() const { return backlog_.size(); }
  size_t unacked() const { return unacked_.size(); }
  const PeerStats& stats() const { return stats_; }

 private:
  void Connect();
  void OnConnected(asio::ip::tcp::socket socket);
  // Runs the client handshake, then StartStream; a failure counts as a lost
  // connection.
  void Handshake(asio::ip::tcp::socket socket);
  void StartStream(std::shared_ptr<FrameLink> stream);
  void OnClosed();
  void ScheduleReconnect();
  bool Enqueue(wire::MsgType type, uint32_t request_id, const wire::ModuleOp& op);
  void OnFrame(const wire::Frame& frame);

  asio::io_context& io_;
  std::string host_;
  uint16_t port_;
  size_t max_backlog_;
  std::chrono::milliseconds call_timeout_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer retry_timer_;
  std::chrono::milliseconds backoff_{50};
  std::shared_ptr<asio::ssl::context> tls_;
  asio::steady_timer handshake_timer_;
  std::shared_ptr<FrameLink> stream_;
  bool connecting_ = false;
  bool stopped_ = false;
  // Sends one encoded frame on the open stream; an event is moved into the
  // retransmission buffer. On failure `frame` is left untouched.
  bool SendEncoded(Bytes& frame);
  void DrainBacklog();

  std::deque<Bytes> backlog_;  // encoded frames awaiting a connection
  std::deque<Bytes> unacked_;  // events sent on this connection, not yet acked
  uint64_t events_sent_ = 0;   // events sent on this connection
  uint64_t events_acked_ = 0;  // cumulative ack received on this connection
  struct Pending {
    ReplyCallback done;
    std::unique_ptr<asio::steady_timer> timer;
  };
  std::map<uint32_t, Pending> pending_;
  uint32_t next_id_ = 0;
  PeerStats stats_;
};

}  // namespace aex::node

#endif  // AEX_NODE_PEER_LINK_H_
