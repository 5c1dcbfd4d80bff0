#include "node/peer_link.h"

#include <fcntl.h>

#include <spdlog/spdlog.h>

namespace aex::node {

constexpr size_t kMaxPeerQueueBytes = 256u << 20;

// A peer that accepts the TCP connection but stalls the TLS handshake is
// given up on after this long (then retried with backoff).
constexpr std::chrono::seconds kHandshakeTimeout(5);

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
      handshake_timer_(io) {}

bool PeerLink::Enqueue(wire::MsgType type, uint32_t request_id, const wire::ModuleOp& op) {
  if (stopped_) return false;
  // The bound covers everything this link holds for the peer: waiting for a
  // connection and sent but unacknowledged.
  if (backlog_.size() + unacked_.size() >= max_backlog_) {
    ++stats_.refused;
    return false;
  }
  Bytes frame;
  frame.reserve(wire::kFrameHeaderSize + wire::kBodyHeaderSize + 12 + op.data.size());
  wire::AppendFrame(type, request_id, op.Encode(), &frame);
  DrainBacklog();
  if (connected() && backlog_.empty() && SendEncoded(frame)) return true;
  backlog_.push_back(std::move(frame));
  if (!stream_ && !connecting_) Connect();
  return true;
}

void PeerLink::DrainBacklog() {
  // Sends from the front, in order, for as long as the stream takes frames;
  // what it refuses (its write queue is full) waits for the next call.
  while (!backlog_.empty() && connected()) {
    if (!SendEncoded(backlog_.front())) break;
    backlog_.pop_front();
  }
}

bool PeerLink::SendEncoded(Bytes& frame) {
  auto f = wire::ParseFrameBody(ByteSpan(frame).subspan(wire::kFrameHeaderSize));
  if (!f.ok() || !stream_->Send(f->type, f->request_id, f->payload)) return false;
  ++stats_.sent;
  if (f->type == wire::MsgType::kEvent) {
    ++events_sent_;
    unacked_.push_back(std::move(frame));
  }
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
  if (stopped_ || connecting_) return;
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
  stream_->Start(
      [weak](const wire::Frame& f) {
        if (auto s = weak.lock()) s->OnFrame(f);
      },
      [weak](const Status&) {
        if (auto s = weak.lock()) s->OnClosed();
      });
  backoff_ = std::chrono::milliseconds(50);
  ++stats_.connects;
  wire::Hello hello;
  hello.role = wire::PeerRole::kNode;
  stream_->Send(wire::MsgType::kHello, 0, hello.Encode());
  // Unacknowledged events of the previous connection come first.
  DrainBacklog();
  spdlog::info("peer {}:{} connected", host_, port_);
}

void PeerLink::OnFrame(const wire::Frame& frame) {
  if (frame.type == wire::MsgType::kAck) {
    ByteReader r(frame.payload);
    uint64_t count;
    if (!r.ReadU64(&count) || !r.empty() || count > events_sent_) return;
    for (; events_acked_ < count && !unacked_.empty(); ++events_acked_) unacked_.pop_front();
    DrainBacklog();
    return;
  }
  if (frame.type != wire::MsgType::kResult) return;  // HELLO_ACK and strays
  auto it = pending_.find(frame.request_id);
  if (it == pending_.end()) return;
  auto done = std::move(it->second.done);
  pending_.erase(it);
  auto result = wire::ResultMsg::Parse(frame.payload);
  if (!result.ok()) return done({Status(Code::kProtocol, "peer sent a malformed result"), {}});
  done({result->ToStatus(), Bytes(result->payload.begin(), result->payload.end())});
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
  events_sent_ = events_acked_ = 0;
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
  if (stopped_ || backlog_.empty()) return;  // reconnect lazily when there is work
  retry_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(2000));
  std::weak_ptr<PeerLink> weak = shared_from_this();
  retry_timer_.async_wait([weak](const asio::error_code& ec) {
    if (auto s = weak.lock(); s && !ec) s->Connect();
  });
}

void PeerLink::Stop() {
  stopped_ = true;
  retry_timer_.cancel();
  handshake_timer_.cancel();
  resolver_.cancel();
  if (stream_) stream_->Close();
}

}  // namespace aex::node
