#include "node/peer_link.h"

#include <fcntl.h>

#include <spdlog/spdlog.h>

namespace aex::node {

constexpr size_t kMaxPeerQueueBytes = 256u << 20;

// A peer that accepts the TCP connection but stalls the TLS handshake is
// given up on after this long (then retried with backoff).
constexpr std::chrono::seconds kHandshakeTimeout(5);

// With events unacknowledged and nothing left in the write queue, the link
// waits this long for an ACK before it resends them (doubling up to the max).
// The receiver acknowledges within milliseconds, so this only fires after a
// loss the receiver cannot notice: the last events of a burst.
constexpr std::chrono::milliseconds kAckTimeout(1000);
constexpr std::chrono::milliseconds kMaxAckTimeout(8000);

PeerLink::PeerLink(asio::io_context& io, std::string host, uint16_t port, size_t max_backlog,
                   std::chrono::milliseconds call_timeout,
                   std::shared_ptr<asio::ssl::context> tls)
    : io_(io),
      host_(std::move(host)),
      port_(port),
      max_backlog_(max_backlog),
      call_timeout_(call_timeout),
      resolver_(io),
      retry_timer_(io),
      tls_(std::move(tls)),
      handshake_timer_(io),
      ack_timer_(io),
      ack_timeout_(kAckTimeout) {}

bool PeerLink::Enqueue(wire::MsgType type, uint32_t request_id, const wire::ModuleOp& op) {
  if (stopped_) return false;
  // The bound covers everything this link holds for the peer: waiting for a
  // connection and sent but unacknowledged.
  if (backlog_.size() + unacked_.size() >= max_backlog_) {
    ++stats_.refused;
    return false;
  }
  Outgoing out{type, request_id, {}};
  const bool event = type == wire::MsgType::kEvent;
  out.payload.reserve((event ? 8 + wire::LinkEvent::kTrailerSize : 0) + 12 + op.data.size());
  if (event) out.payload.resize(8);  // the sequence number's slot
  op.AppendTo(&out.payload);
  // The send time's slot (LinkEvent::sent_at), stamped at every send.
  if (event) out.payload.resize(out.payload.size() + wire::LinkEvent::kTrailerSize);
  DrainBacklog();
  if (connected() && backlog_.empty() && SendOne(out)) return true;
  backlog_.push_back(std::move(out));
  // While a reconnect waits out its backoff, the timer connects: connecting
  // here as well would open a second connection beside the first.
  if (!stream_ && !connecting_ && !reconnect_pending_) Connect();
  return true;
}

void PeerLink::DrainBacklog() {
  // Sends from the front, in order, for as long as the stream takes frames;
  // what it refuses (its write queue is full) waits for the next call.
  while (!backlog_.empty() && connected()) {
    if (!SendOne(backlog_.front())) break;
    backlog_.pop_front();
  }
}

void PeerLink::StampSendTime(Outgoing& out) {
  StoreU64(out.payload.data() + out.payload.size() - wire::LinkEvent::kTrailerSize,
           WallClockNanos());
}

bool PeerLink::SendOne(Outgoing& out) {
  // A FENCE promises that every event before it has arrived (docs/update.md):
  // it waits until they are acknowledged, so that no resend can follow it.
  if (out.type == wire::MsgType::kFence && !unacked_.empty()) return false;
  if (out.type != wire::MsgType::kEvent) {
    if (!stream_->Send(out.type, out.request_id, out.payload)) return false;
    ++stats_.sent;
    return true;
  }
  StoreU64(out.payload.data(), window_.sent() + 1);
  StampSendTime(out);
  if (!stream_->Send(wire::MsgType::kLinkEvent, 0, out.payload)) return false;
  window_.Next();
  ++stats_.sent;
  out.sent = std::chrono::steady_clock::now();
  unacked_.push_back(std::move(out));
  if (unacked_.size() == 1) ArmAckTimer();
  return true;
}

bool PeerLink::Post(wire::MsgType type, const wire::ModuleOp& op) {
  return Enqueue(type, 0, op);
}

void PeerLink::Call(wire::MsgType type, const wire::ModuleOp& op, ReplyCallback done) {
  uint32_t id = ++next_id_;
  if (id == 0) id = ++next_id_;
  if (!Enqueue(type, id, op)) {
    return done({Status(Code::kResourceExhausted, "peer backlog full"), {}});
  }
  Pending p{std::move(done), std::make_unique<asio::steady_timer>(io_, call_timeout_)};
  std::weak_ptr<PeerLink> weak = shared_from_this();
  p.timer->async_wait([weak, id](const asio::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    auto it = self->pending_.find(id);
    if (it == self->pending_.end()) return;
    auto cb = std::move(it->second.done);
    self->pending_.erase(it);
    cb({Status(Code::kTimeout, "no answer from peer " + self->host_), {}});
  });
  pending_.emplace(id, std::move(p));
}

void PeerLink::Connect() {
  // One connection at a time: its window and retransmission buffer are the
  // link's; frames from a second one would be taken for the first's.
  if (stopped_ || connecting_ || stream_) return;
  connecting_ = true;
  auto self = shared_from_this();
  resolver_.async_resolve(
      host_, std::to_string(port_),
      [self](const asio::error_code& ec, asio::ip::tcp::resolver::results_type results) {
        if (ec || self->stopped_) {
          self->connecting_ = false;
          return self->ScheduleReconnect();
        }
        auto socket = std::make_shared<asio::ip::tcp::socket>(self->io_);
        asio::async_connect(*socket, results,
                            [self, socket](const asio::error_code& ec2, const auto&) {
                              if (ec2 || self->stopped_) {
                                self->connecting_ = false;
                                return self->ScheduleReconnect();
                              }
                              self->OnConnected(std::move(*socket));
                            });
      });
}

void PeerLink::OnConnected(asio::ip::tcp::socket socket) {
  // Close-on-exec (modules also close every inherited descriptor).
  fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
  asio::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (tls_) return Handshake(std::move(socket));
  StartStream(std::make_shared<TcpStream>(std::move(socket), kMaxPeerQueueBytes));
}

void PeerLink::Handshake(asio::ip::tcp::socket socket) {
  auto stream =
      std::make_shared<TlsStream>(kMaxPeerQueueBytes, std::in_place, std::move(socket), *tls_);
  auto self = shared_from_this();
  auto fail = [self, stream](const std::string& why) {
    spdlog::warn("peer {}:{}: TLS refused: {}", self->host_, self->port_, why);
    stream->Close();
    self->connecting_ = false;
    self->ScheduleReconnect();
  };
  Status expected = tls::ExpectPeerHost(stream->socket().native_handle(), host_);
  if (!expected.ok()) return fail(expected.message());
  handshake_timer_.expires_after(kHandshakeTimeout);
  handshake_timer_.async_wait([stream](const asio::error_code& ec) {
    if (!ec) stream->Close(Status(Code::kTimeout, "TLS handshake too slow"));
  });
  stream->socket().async_handshake(
      asio::ssl::stream_base::client, [self, stream, fail](const asio::error_code& ec) {
        self->handshake_timer_.cancel();
        if (self->stopped_) return;
        if (ec) return fail(ec.message());
        auto role = tls::PeerRole(stream->socket().native_handle());
        if (!role.ok() || *role != tls::Role::kNode) return fail("not a node certificate");
        self->StartStream(stream);
      });
}

void PeerLink::StartStream(std::shared_ptr<FrameLink> stream) {
  connecting_ = false;
  stream_ = std::move(stream);
  std::weak_ptr<PeerLink> weak = shared_from_this();
  // A frame or close of an earlier connection (still draining) must not
  // touch the current one's window.
  const FrameLink* current = stream_.get();
  stream_->Start(
      [weak, current](const wire::Frame& f) {
        if (auto s = weak.lock(); s && s->stream_.get() == current) s->OnFrame(f);
      },
      [weak, current](const Status&) {
        if (auto s = weak.lock(); s && s->stream_.get() == current) s->OnClosed();
      });
  backoff_ = std::chrono::milliseconds(50);
  ++stats_.connects;
  WriteBatch batch;  // HELLO and the backlog in one write
  wire::Hello hello;
  hello.role = wire::PeerRole::kNode;
  stream_->Send(wire::MsgType::kHello, 0, hello.Encode());
  // Unacknowledged events of the previous connection come first.
  DrainBacklog();
  spdlog::info("peer {}:{} connected", host_, port_);
}

void PeerLink::OnFrame(const wire::Frame& frame) {
  if (frame.type == wire::MsgType::kAck) return OnAck(frame.payload);
  if (frame.type == wire::MsgType::kUndelivered) return OnUndelivered(frame.payload);
  if (frame.type != wire::MsgType::kResult) return;  // HELLO_ACK and strays
  auto it = pending_.find(frame.request_id);
  if (it == pending_.end()) return;
  auto done = std::move(it->second.done);
  pending_.erase(it);
  auto result = wire::ResultMsg::Parse(frame.payload);
  if (!result.ok()) return done({Status(Code::kProtocol, "peer sent a malformed result"), {}});
  done({result->ToStatus(), Bytes(result->payload.begin(), result->payload.end())});
}

void PeerLink::OnAck(ByteSpan payload) {
  auto ack = wire::LinkAck::Parse(payload);
  if (!ack.ok()) return ProtocolError(ack.status());
  auto acked = window_.Ack(ack->through);
  if (!acked.ok()) return ProtocolError(acked.status());
  const auto now = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < *acked && !unacked_.empty(); ++i) {
    ack_latency_.Observe(now - unacked_.front().sent);
    unacked_.pop_front();
  }
  if (*acked > 0) {
    ack_timeout_ = kAckTimeout;
    ArmAckTimer();
  }
  if (ack->gap) {
    // An event went missing in transit and the peer dropped what followed
    // it: everything after `through` again, in order.
    ++stats_.gaps;
    ResendUnacked();
  }
  DrainBacklog();
}

void PeerLink::OnUndelivered(ByteSpan payload) {
  auto notice = wire::Undelivered::Parse(payload);
  if (!notice.ok()) return ProtocolError(notice.status());
  stats_.undelivered += notice->count;
  if (on_undelivered_) on_undelivered_(*notice);
}

void PeerLink::ProtocolError(const Status& why) {
  ++stats_.protocol_errors;
  spdlog::warn("peer {}:{}: protocol error on the link: {}", host_, port_, why.ToString());
  ResetConnection(why);
}

void PeerLink::ResetConnection(const Status& why) {
  spdlog::warn("peer {}:{}: resetting the connection ({}); unacknowledged events go first on "
               "the next one", host_, port_, why.message());
  if (stream_) stream_->Close(why);
}

void PeerLink::ResendUnacked() {
  if (!connected()) return;
  WriteBatch batch;  // from a timer, too: one write, not one per event
  uint64_t seq = window_.acked();
  for (Outgoing& out : unacked_) {
    StoreU64(out.payload.data(), ++seq);
    StampSendTime(out);
    if (!stream_->Send(wire::MsgType::kLinkEvent, 0, out.payload)) {
      // The write queue is full: the connection cannot catch up in place.
      return ResetConnection(Status(Code::kResourceExhausted, "no room to resend"));
    }
    out.sent = std::chrono::steady_clock::now();
    ++stats_.resent;
  }
  ArmAckTimer();
}

void PeerLink::ArmAckTimer() {
  ack_timer_.expires_after(ack_timeout_);
  std::weak_ptr<PeerLink> weak = shared_from_this();
  ack_timer_.async_wait([weak](const asio::error_code& ec) {
    if (auto s = weak.lock(); s && !ec) s->OnAckTimeout();
  });
}

void PeerLink::OnAckTimeout() {
  if (unacked_.empty() || !connected()) return;
  // Only when all we sent has left this process: a busy socket or a slow
  // peer is not a loss. Then the last events were lost in transit (a gap the
  // peer cannot see): resend, waiting longer each time.
  if (stream_->queued_bytes() == 0) {
    ++stats_.timeouts;
    ResendUnacked();
    ack_timeout_ = std::min(ack_timeout_ * 2, kMaxAckTimeout);
  }
  ArmAckTimer();
}

void PeerLink::OnClosed() {
  stream_.reset();
  // Whatever the peer did not acknowledge may be lost with the connection:
  // send it again, first and in order, on the next one.
  stats_.resent += unacked_.size();
  while (!unacked_.empty()) {
    backlog_.push_front(std::move(unacked_.back()));
    unacked_.pop_back();
  }
  window_.Reset();
  ack_timer_.cancel();
  ack_timeout_ = kAckTimeout;
  // Requests in flight on the lost connection cannot be answered any more.
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) {
    p.done({Status(Code::kUnavailable, "connection to peer " + host_ + " lost"), {}});
  }
  if (!stopped_) {
    spdlog::warn("peer {}:{} disconnected; will reconnect", host_, port_);
    ScheduleReconnect();
  }
}

void PeerLink::ScheduleReconnect() {
  // Lazily, when there is work; and once: a second wait would connect twice.
  if (stopped_ || backlog_.empty() || reconnect_pending_) return;
  reconnect_pending_ = true;
  retry_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(2000));
  std::weak_ptr<PeerLink> weak = shared_from_this();
  retry_timer_.async_wait([weak](const asio::error_code& ec) {
    auto s = weak.lock();
    if (!s) return;
    s->reconnect_pending_ = false;
    if (!ec) s->Connect();
  });
}

void PeerLink::Stop() {
  stopped_ = true;
  retry_timer_.cancel();
  handshake_timer_.cancel();
  ack_timer_.cancel();
  resolver_.cancel();
  if (stream_) stream_->Close();
}

}  // namespace aex::node
