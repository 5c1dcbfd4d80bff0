// PeerLink: this node's one persistent, multiplexed TCP connection to another
// node. Every event and request for that node travels on it; it is never a
// connection per event.
//
// While the peer is unreachable, frames wait in a bounded backlog and the link
// reconnects with exponential backoff; once back, the backlog goes out in
// order. A frame beyond the bound is refused at the source and counted: the
// sender learns it, nothing is dropped silently.
//
// Events travel as LINK_EVENTs numbered per connection (link_window.h). Those
// not yet acknowledged by the peer (ACK: "all up to N arrived") are kept; when
// the peer reports a gap, or acknowledges nothing for a while although all
// was handed to the socket, they are sent again in order (go-back-N); if the
// connection drops they go out again first on the next one. An ACK for a
// number never sent is a protocol error: logged, counted, and the connection
// reset (the unacknowledged events are resent on the next). A resent event
// the module already accepted is rejected there as a replay, so the
// application sees each event at most once. UNDELIVERED notices from the peer
// (its module is gone) are counted and passed to the node.
//
// Threading: every member runs on the node's single io_context thread.
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
#include "node/latency_histogram.h"
#include "node/link_window.h"
#include "node/module_process.h"
#include "tls/tls.h"

namespace aex::node {

struct PeerStats {
  uint64_t sent = 0;      // frames handed to the socket
  uint64_t refused = 0;   // frames refused because the backlog was full
  uint64_t connects = 0;  // successful (re)connections
  uint64_t resent = 0;    // events sent again (lost connection, gap, no ACK)
  uint64_t gaps = 0;      // gaps the peer reported (an event missing in transit)
  uint64_t timeouts = 0;  // go-back-N resends because no ACK came
  // Impossible ACKs (for events never sent) or malformed link frames from
  // the peer; each reset the connection.
  uint64_t protocol_errors = 0;
  // Events the peer received but could not deliver to their module.
  uint64_t undelivered = 0;
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
  // Runs for each UNDELIVERED notice from the peer.
  void set_on_undelivered(std::function<void(const wire::Undelivered&)> f) {
    on_undelivered_ = std::move(f);
  }

  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  bool connected() const { return stream_ && stream_->is_open() && !connecting_; }
  size_t backlog() const { return backlog_.size(); }
  // Flow control (Node::RouteFromModule): above half its bound the modules
  // that feed this link wait; below a quarter they go on. The gap between
  // the two keeps a busy link from pausing its senders at every event.
  bool congested() const { return pending() >= max_backlog_ / 2; }
  bool relieved() const { return pending() <= max_backlog_ / 4; }
  // Events waiting to be sent or acknowledged: falls as the peer acknowledges.
  size_t pending() const { return backlog_.size() + unacked_.size(); }
  // Set when a sender waited while the link made no progress for long (the
  // peer is away, or never acknowledges): senders then go on, and the link
  // refuses past its bound, until it is relieved again.
  bool flow_suspended() const { return flow_suspended_; }
  void set_flow_suspended(bool suspended) { flow_suspended_ = suspended; }
  size_t unacked() const { return unacked_.size(); }
  // The link's sequence window on the current connection (tests, status).
  const SendWindow& window() const { return window_; }
  const PeerStats& stats() const { return stats_; }
  // Time from handing an event to the socket (its last send, if resent) to
  // the ACK that covers it: the peer's receive, its routing and the network
  // both ways (aex_peer_ack_seconds).
  const LatencyHistogram& ack_latency() const { return ack_latency_; }

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
  void OnAck(ByteSpan payload);
  void OnUndelivered(ByteSpan payload);
  // Logs and counts a protocol violation by the peer and resets the
  // connection; OnClosed then resynchronises on the next one.
  void ProtocolError(const Status& why);
  void ResetConnection(const Status& why);
  // Sends every unacknowledged event again, in order, on this connection.
  void ResendUnacked();
  // (Re)arms the wait for an ACK while events are unacknowledged.
  void ArmAckTimer();
  void OnAckTimeout();

  asio::io_context& io_;
  std::string host_;
  uint16_t port_;
  size_t max_backlog_;
  bool flow_suspended_ = false;
  std::chrono::milliseconds call_timeout_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer retry_timer_;
  std::chrono::milliseconds backoff_{50};
  std::shared_ptr<asio::ssl::context> tls_;
  asio::steady_timer handshake_timer_;
  std::shared_ptr<FrameLink> stream_;
  bool connecting_ = false;
  bool reconnect_pending_ = false;  // retry_timer_ is waiting to Connect()
  bool stopped_ = false;
  // A message for the peer. An event's payload is a LinkEvent: it starts
  // with an 8-byte slot for its sequence number and ends with one for its
  // send time, both filled in when it is sent.
  struct Outgoing {
    wire::MsgType type;
    uint32_t request_id;
    Bytes payload;
    std::chrono::steady_clock::time_point sent{};  // events: when last handed to the socket
  };
  // Sends one message on the open stream; an event gets the next sequence
  // number and moves into the retransmission buffer. On failure `out` is left
  // untouched.
  bool SendOne(Outgoing& out);
  // REQUIRES: `out` is an event (its payload ends in LinkEvent's trailer).
  void StampSendTime(Outgoing& out);
  void DrainBacklog();

  std::deque<Outgoing> backlog_;  // awaiting a connection
  std::deque<Outgoing> unacked_;  // events sent on this connection, not yet acked
  SendWindow window_;             // their numbers: acked() + 1 is unacked_.front()
  asio::steady_timer ack_timer_;
  std::chrono::milliseconds ack_timeout_;
  std::function<void(const wire::Undelivered&)> on_undelivered_;
  struct Pending {
    ReplyCallback done;
    std::unique_ptr<asio::steady_timer> timer;
  };
  std::map<uint32_t, Pending> pending_;
  uint32_t next_id_ = 0;
  PeerStats stats_;
  LatencyHistogram ack_latency_;
};

}  // namespace aex::node

#endif  // AEX_NODE_PEER_LINK_H_
