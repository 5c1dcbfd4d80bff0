#include "node/node.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "crypto/crypto.h"
#include "platform/platform.h"
#include "node/devices.h"
#include "node/prometheus.h"

namespace aex::node {

using wire::MsgType;
namespace fs = std::filesystem;

// Per-session bound on bytes queued towards a deployer or peer.
constexpr size_t kMaxSessionQueue = 64u << 20;

struct Node::Session {
  uint64_t id = 0;
  asio::ip::address source;
  std::chrono::steady_clock::time_point accepted = std::chrono::steady_clock::now();
  // TLS: the accepted socket until the client's first bytes (then stream).
  std::unique_ptr<asio::ip::tcp::socket> waiting;
  std::shared_ptr<FrameLink> stream;
  size_t unanswered = 0;  // requests not answered yet: not idle meanwhile
  std::unique_ptr<asio::steady_timer> hello_timer;  // closes silent connections
  bool greeted = false;
  wire::PeerRole role = wire::PeerRole::kClient;
  // With TLS, the role in the client's verified certificate: what it may do.
  std::optional<tls::Role> cert_role;
  // LINK_EVENTs from a peer node: taken in order, acknowledged in batches
  // (ACK, cumulative); events that reached no module, per (module,
  // connection), reported back with the next ACK (UNDELIVERED).
  ReceiveWindow link;
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> undelivered;
  std::unique_ptr<asio::steady_timer> ack_timer;
};

// Acks go out at most this long after the first unacknowledged event: often
// enough to keep the sender's retransmission buffer small, rarely enough not
// to double the frame rate under load.
constexpr std::chrono::milliseconds kAckDelay(2);

// Distinct (module, connection) pairs a peer session remembers for its next
// UNDELIVERED notices; beyond, events are still counted here but not reported.
constexpr size_t kMaxUndeliveredKeys = 4096;

// <dir>/<name>.log for a module whose name is a plain file name (the name
// comes from the deployer, which the node does not trust); <dir>/m<id>.log
// otherwise.
static std::string ModuleLogPath(const std::string& dir, uint32_t id, const std::string& name) {
  const bool plain = !name.empty() && name.size() <= 128 && name[0] != '.' &&
                     std::all_of(name.begin(), name.end(), [](unsigned char c) {
                       return std::isalnum(c) || c == '-' || c == '_' || c == '.';
                     });
  // Appended piecewise: GCC 12 at -O3 flags `"m" + std::to_string(id)`
  // with a false -Wrestrict.
  std::string path = dir + "/";
  if (plain) {
    path += name;
  } else {
    path += 'm';
    path += std::to_string(id);
  }
  return path + ".log";
}

void Node::ScheduleAck(const std::shared_ptr<Session>& s) {
  if (s->ack_timer) return;  // one is already pending
  s->ack_timer = std::make_unique<asio::steady_timer>(io_, kAckDelay);
  std::weak_ptr<Session> weak = s;
  s->ack_timer->async_wait([this, weak](const asio::error_code& ec) {
    auto sp = weak.lock();
    if (ec || !sp) return;
    sp->ack_timer.reset();
    SendLinkAck(*sp, false);
  });
}

void Node::SendLinkAck(Session& s, bool gap) {
  WriteBatch batch;  // the notices and the ACK in one write
  // Undelivered notices first: the sender learns of them before it drops
  // the events from its retransmission buffer.
  for (const auto& [key, n] : s.undelivered) {
    s.stream->Send(MsgType::kUndelivered, 0, wire::Undelivered{key.first, key.second, n}.Encode());
  }
  s.undelivered.clear();
  s.stream->Send(MsgType::kAck, 0, wire::LinkAck{s.link.through(), gap}.Encode());
}

void Node::OnLinkEvent(const std::shared_ptr<Session>& s, ByteSpan payload) {
  const uint64_t received_at = WallClockNanos();
  auto ev = wire::LinkEvent::Parse(payload);
  if (!ev.ok()) {
    // Without a sequence number the stream cannot be resynchronised in
    // place: the sender resends on its next connection.
    ++counters_.frames_rejected;
    return s->stream->Close(ev.status());
  }
  switch (s->link.Receive(ev->seq)) {
    case ReceiveWindow::Verdict::kDuplicate:
      ++counters_.link_duplicates;
      return ScheduleAck(s);  // the sender may have missed our ACK
    case ReceiveWindow::Verdict::kGap:
      ++counters_.link_gaps;
      spdlog::info("session {}: event {} missing on a peer link; asking for a resend",
                   s->id, s->link.through() + 1);
      return SendLinkAck(*s, true);
    case ReceiveWindow::Verdict::kDiscard: return;
    case ReceiveWindow::Verdict::kDeliver: break;
  }
  // Stamped before the write: the module may run before Post returns.
  const uint64_t delivered_at = WallClockNanos();
  if (DeliverEvent(ev->op.module_id, ev->op.aux, ev->op.data)) {
    link_transit_.ObserveBetween(ev->sent_at, received_at);
    NoteArrival(ev->op.module_id, ev->op.aux, {ev->sent_at, received_at, delivered_at});
  } else {
    ++counters_.events_undeliverable;
    auto key = std::make_pair(ev->op.module_id, ev->op.aux);
    auto it = s->undelivered.find(key);
    if (it != s->undelivered.end()) {
      if (it->second < UINT32_MAX) ++it->second;
    } else if (s->undelivered.size() < kMaxUndeliveredKeys) {
      s->undelivered.emplace(key, 1);
    }
  }
  ScheduleAck(s);
}

void Node::NoteArrival(uint32_t module_id, uint32_t conn_id, Arrival a) {
  // Bounded: a peer may name any connection id of a module here.
  auto key = std::make_pair(module_id, conn_id);
  if (arrivals_.size() >= kMaxUndeliveredKeys && !arrivals_.count(key)) return;
  arrivals_[key] = a;
}

void Node::OnPeerUndelivered(const PeerLink* peer, const wire::Undelivered& u) {
  counters_.peer_undelivered += u.count;
  for (auto& [key, route] : routes_) {
    if (route.peer.get() != peer || route.dst_module != u.module_id || key.second != u.conn_id) {
      continue;
    }
    route.undelivered += u.count;
    // The sending module learns it too (outputs_undelivered).
    ByteWriter w;
    w.PutU32(u.count);
    if (auto m = FindModule(key.first)) m->Post(MsgType::kEventRefused, u.conn_id, w.bytes());
  }
}

Status CheckTransportSecurity(const NodeOptions& options) {
  const tls::Files& f = options.tls;
  const int given = !f.cert.empty() + !f.key.empty() + !f.ca.empty();
  if (given != 0 && given != 3) {
    return InvalidArgument("TLS needs all of --tls-cert, --tls-key and --tls-ca");
  }
  asio::error_code ec;
  auto address = asio::ip::make_address(options.listen_host, ec);
  if (ec) return InvalidArgument("bad listen address " + options.listen_host);
  if (given == 0 && !options.insecure_no_tls) {
    // Loopback included: any local user or process could manage the node.
    return FailedPrecondition(
        "refusing to listen on " + options.listen_host +
        " without TLS: anyone who can reach it" +
        (address.is_loopback() ? " (any local user or process)" : "") +
        " could load, unload or reset modules. Give --tls-cert, --tls-key and --tls-ca (`aex "
        "tls init` creates them), or --insecure-no-tls to accept that risk");
  }
  return Status::Ok();
}

// The most descriptors a process may open, or 0 if unknown.
size_t DescriptorLimit() {
  rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) != 0 || nofile.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<size_t>(nofile.rlim_cur);
}

Node::Node(asio::io_context& io, NodeOptions options)
    : io_(io), options_(std::move(options)), acceptor_(io), child_signals_(io, SIGCHLD) {}

Node::~Node() { Stop(); }

Status Node::Start() {
  AEX_RETURN_IF_ERROR(CheckTransportSecurity(options_));
  if (!options_.tls.cert.empty()) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls);
    AEX_RETURN_IF_ERROR(tls::ConfigureContext(ctx->native_handle(), options_.tls));
    tls_ = std::move(ctx);
  }
  // Before the port: a node refused for its metrics never listens at all.
  if (!options_.metrics_listen.empty()) AEX_RETURN_IF_ERROR(StartMetrics());
  std::error_code fec;
  fs::create_directories(options_.work_dir, fec);
  if (fec) return Status(Code::kIo, "cannot create work dir " + options_.work_dir);
  if (!options_.module_log_dir.empty()) {
    fs::create_directories(options_.module_log_dir, fec);
    if (fec) return Status(Code::kIo, "cannot create " + options_.module_log_dir);
  }
  asio::error_code ec;
  auto address = asio::ip::make_address(options_.listen_host, ec);
  asio::ip::tcp::endpoint ep(address, options_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status(Code::kIo, "cannot listen on " + options_.listen_host + ":" +
                                       std::to_string(options_.port) + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  budget_ = std::make_shared<BufferBudget>(options_.buffer_budget);
  // Descriptors kept for the listener, modules, peers and logs: a session
  // flood must not take the last ones (accepting past the limit would fail
  // anyway; Accept then evicts an idle session).
  constexpr size_t kReservedDescriptors = 128;
  session_cap_ = options_.max_sessions;
  if (size_t limit = DescriptorLimit(); limit > 2 * kReservedDescriptors) {
    session_cap_ = std::min(session_cap_, limit - kReservedDescriptors);
  }
  fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
  WatchChildren();
  Accept();
  TrimWhenIdle();
  SweepSessions();
  return Status::Ok();
}

Status Node::StartMetrics() {
  const std::string& spec = options_.metrics_listen;
  const size_t colon = spec.rfind(':');
  std::string host = colon == std::string::npos ? "" : spec.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = colon == std::string::npos ? "" : spec.substr(colon + 1);
  asio::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  char* end = nullptr;
  const unsigned long port = std::strtoul(port_text.c_str(), &end, 10);
  if (ec || port_text.empty() || *end != '\0' || port > 65535) {
    return InvalidArgument("--metrics-listen wants HOST:PORT with a numeric address, got '" +
                           spec + "'");
  }
  if (!address.is_loopback() && !tls_) {
    // Counters say what runs where and how busy it is: not for anyone who
    // can reach the address.
    return FailedPrecondition("--metrics-listen off loopback (" + host +
                              ") needs the node's TLS material (--tls-cert, --tls-key, --tls-ca)");
  }
  metrics_ = std::make_shared<MetricsServer>(
      io_,
      [this](std::function<void(std::string)> done) {
        if (stopped_) return done("");
        CollectStatusDoc(
            [done](const nlohmann::json& doc) { done(PrometheusText(doc)); });
      },
      tls_);
  AEX_RETURN_IF_ERROR(metrics_->Listen({address, static_cast<uint16_t>(port)}));
  spdlog::info("metrics on {}://{}:{}/metrics", tls_ ? "https" : "http", host, metrics_->port());
  return Status::Ok();
}

void Node::TrimWhenIdle() {
  trim_timer_.expires_after(std::chrono::seconds(1));
  trim_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopped_) return;
    // Events count when they are routed, but the queues towards modules and
    // peers drain after that and free memory as they do: their sizes count
    // too, so the quiet second starts once they stop moving (drained, or
    // stuck behind a module or peer that takes nothing: no reason to wait).
    uint64_t traffic = counters_.events_routed + counters_.requests_routed +
                       counters_.sessions_accepted + counters_.frames_rejected;
    for (const auto& [id, m] : modules_) traffic += m->queued_bytes();
    for (const auto& [name, p] : peers_) traffic += p->pending();
    if (traffic == trim_seen_ && traffic != trim_done_at_) {
      malloc_trim(0);  // a quiet second after activity
      for (auto& [id, m] : modules_) m->ReleaseRingPages();
      trim_done_at_ = traffic;
      ++counters_.idle_trims;
    }
    trim_seen_ = traffic;
    TrimWhenIdle();
  });
}

// Polls every 2 ms (the peer's cumulative ACK period) while a module waits:
// a relieved link is seen within one ACK.
constexpr auto kFlowPoll = std::chrono::milliseconds(2);
// Long enough for a peer stalled by a loaded machine; short against the call
// timeout (10 s), so a held module's calls are late, not timed out.
constexpr auto kMaxFlowStall = std::chrono::seconds(1);
// However the link progresses: a hostile peer acknowledging one event now
// and then must not hold a module (and its events to everyone else) for
// longer, nor get its calls timed out and the module killed as hung.
std::chrono::milliseconds MaxFlowHold(std::chrono::milliseconds call_timeout) {
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(5), call_timeout / 2);
}

void Node::HoldSenderOf(uint32_t src_module, const std::shared_ptr<PeerLink>& link) {
  if (link->relieved()) return link->set_flow_suspended(false);
  if (link->congested() && !link->flow_suspended()) PauseForFlow(FindModule(src_module), link);
}

void Node::PauseForFlow(const std::shared_ptr<ModuleProcess>& module,
                        const std::shared_ptr<PeerLink>& link) {
  if (!module || flow_paused_.count(module->id())) return;
  module->set_paused(true);
  ++counters_.flow_holds;
  const auto now = std::chrono::steady_clock::now();
  flow_paused_[module->id()] = {module, link, link->pending(), now, now};
  if (flow_paused_.size() > 1) return;  // the timer runs already
  flow_timer_.expires_after(kFlowPoll);
  flow_timer_.async_wait([this](const asio::error_code& ec) {
    if (!ec) ResumeFlow();
  });
}

void Node::ResumeFlow() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = flow_paused_.begin(); it != flow_paused_.end();) {
    FlowPause& pause = it->second;
    auto link = pause.link.lock();
    if (link && link->pending() < pause.pending) {
      pause.pending = link->pending();
      pause.progress = now;
    }
    if (link && !link->relieved() && now - pause.progress < kMaxFlowStall &&
        now - pause.since < MaxFlowHold(options_.call_timeout)) {
      ++it;
      continue;
    }
    if (link && !link->relieved()) link->set_flow_suspended(true);  // stalled, or held long
    // Erased first: resuming delivers frames, whose routing may pause again.
    auto module = it->second.module.lock();
    it = flow_paused_.erase(it);
    if (module) module->set_paused(false);
  }
  if (flow_paused_.empty() || stopped_) return;
  flow_timer_.expires_after(kFlowPoll);
  flow_timer_.async_wait([this](const asio::error_code& ec) {
    if (!ec) ResumeFlow();
  });
}

void Node::Stop() {
  if (stopped_) return;
  stopped_ = true;
  asio::error_code ec;
  acceptor_.close(ec);
  if (metrics_) metrics_->Stop();
  trim_timer_.cancel();
  flow_timer_.cancel();
  sweep_timer_.cancel();
  child_signals_.cancel(ec);
  for (auto& [id, p] : periodic_) p.timer->cancel();
  attest_deadlines_.clear();
  for (auto& [key, peer] : peers_) peer->Stop();
  auto sessions = sessions_;
  for (auto& [id, s] : sessions) DropSession(s, Status::Ok());
  for (auto& [id, m] : modules_) m->Kill(ModuleState::kUnloaded);
  // Reap what we killed so no module outlives its node.
  for (auto& [id, m] : modules_) {
    if (m->pid() > 0) waitpid(m->pid(), nullptr, 0);
  }
  modules_.clear();
}

void Node::WatchChildren() {
  child_signals_.async_wait([this](const asio::error_code& ec, int) {
    if (ec || stopped_) return;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      for (auto& [id, m] : modules_) {
        if (m->pid() != pid) continue;
        bool was_unloaded = m->state() == ModuleState::kUnloaded;
        m->OnExit(status);
        if (!was_unloaded) {
          spdlog::warn("module {} ({}) {}", id, m->spec().name, m->exit_reason());
        }
      }
    }
    WatchChildren();
  });
}

// Before HELLO a connection may send only a small frame, and must send it soon.
constexpr size_t kMaxHelloFrame = 64;
constexpr std::chrono::seconds kHelloTimeout(5);
// What a peer node may send after HELLO: events and requests.
constexpr size_t kMaxPeerFrame = (1u << 20) + 4096;
// How often deadlines are checked (one pass over the sessions, no timer each).
constexpr std::chrono::milliseconds kSweepInterval(250);

void Node::Accept() {
  acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
    if (stopped_) return;
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
      // Out of descriptors: close the quietest session to make room, so a
      // flood of connections cannot lock the deployer out.
      if (EvictIdleSession()) return Accept();
    }
    if (ec && ec != asio::error::operation_aborted) {
      // Nothing to evict (or another failure): pause instead of spinning.
      spdlog::warn("accept failed: {}; retrying shortly", ec.message());
      auto retry = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
      retry->async_wait([this, retry](const asio::error_code& e) {
        if (!e && !stopped_) Accept();
      });
      return;
    }
    if (!ec) {
      // Close-on-exec (modules also close every inherited descriptor).
      fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
      if (sessions_.size() >= session_cap_ && !EvictIdleSession()) {
        ++counters_.sessions_refused;
        asio::error_code ignored;
        socket.close(ignored);  // bounded: a flood cannot exhaust descriptors
      } else {
        OpenSession(std::move(socket));
      }
    }
    Accept();
  });
}

void Node::OpenSession(asio::ip::tcp::socket socket) {
  asio::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  auto s = std::make_shared<Session>();
  s->id = ++next_session_;
  s->source = socket.remote_endpoint(ignored).address();
  // One deadline for the first bytes, the TLS handshake and HELLO together:
  // a slow client holds a session slot no longer than a silent one.
  s->hello_timer = std::make_unique<asio::steady_timer>(io_, kHelloTimeout);
  s->hello_timer->async_wait([this, weak = std::weak_ptr<Session>(s)](const asio::error_code& e) {
    auto sp = weak.lock();
    if (e || !sp || sp->greeted) return;
    // Silent or still handshaking: a TLS client that did not make it in time.
    if (sp->waiting || handshakes_.count(sp->id)) ++counters_.handshakes_rejected;
    DropSession(sp, Status(Code::kTimeout, "no HELLO in time"));
  });
  sessions_[s->id] = s;
  ++counters_.sessions_accepted;
  if (tls_) {
    s->waiting = std::make_unique<asio::ip::tcp::socket>(std::move(socket));
    return AwaitClientHello(s);
  }
  s->stream = std::make_shared<TcpStream>(std::move(socket), kMaxSessionQueue);
  StartSession(s);
}

void Node::StartSession(const std::shared_ptr<Session>& s) {
  s->stream->set_max_frame(kMaxHelloFrame);
  // The deployer is trusted (its certificate proves it): its module binaries
  // are not held back because strangers fill the budget.
  if (s->cert_role != tls::Role::kDeployer) s->stream->set_budget(budget_);
  std::weak_ptr<Session> weak = s;
  s->stream->Start(
      [this, weak](const wire::Frame& f) {
        if (auto p = weak.lock()) OnSessionFrame(p, f);
      },
      [this, id = s->id](const Status& why) { OnSessionClosed(id, why); });
}

void Node::AwaitClientHello(const std::shared_ptr<Session>& s) {
  s->waiting->async_wait(asio::socket_base::wait_read,
                         [this, weak = std::weak_ptr<Session>(s)](const asio::error_code& ec) {
                           auto sp = weak.lock();
                           if (stopped_ || !sp || !sp->waiting) return;
                           if (ec) return DropSession(sp, Status::Ok());
                           StartHandshake(sp);
                         });
}

void Node::StartHandshake(const std::shared_ptr<Session>& s) {
  MakeHandshakeRoom(s->source);
  auto stream = std::make_shared<TlsStream>(kMaxSessionQueue, std::in_place,
                                            std::move(*s->waiting), *tls_);
  s->waiting.reset();
  s->stream = stream;
  handshakes_[s->id] = {s->source, std::chrono::steady_clock::now()};
  ++handshakes_per_source_[s->source];
  // The handler owns the stream: the handshake in flight uses its buffers
  // even when the session is dropped meanwhile (deadline, eviction).
  stream->socket().async_handshake(
      asio::ssl::stream_base::server,
      [this, weak = std::weak_ptr<Session>(s), stream](const asio::error_code& ec) {
        if (auto sp = weak.lock(); sp && !stopped_) OnHandshake(sp, ec);
      });
}

void Node::OnHandshake(const std::shared_ptr<Session>& s, const asio::error_code& ec) {
  EndHandshake(s->id);
  // Dropped meanwhile (deadline, room for a newer one, node stopping).
  if (!s->stream->is_open() || !sessions_.count(s->id)) return;
  auto* stream = static_cast<TlsStream*>(s->stream.get());
  Result<tls::Role> role =
      ec ? Result<tls::Role>(Status(Code::kPermissionDenied, ec.message()))
         : tls::PeerRole(stream->socket().native_handle());
  if (!role.ok()) {
    // Plain TCP, no certificate, another CA, too slow: refused before a
    // single frame is read.
    ++counters_.handshakes_rejected;
    ++counters_.frames_rejected;
    spdlog::debug("session {}: TLS handshake refused: {}", s->id, role.status().ToString());
    return DropSession(s, Status::Ok());
  }
  s->cert_role = *role;
  StartSession(s);
}

void Node::EndHandshake(uint64_t id) {
  auto it = handshakes_.find(id);
  if (it == handshakes_.end()) return;
  auto src = handshakes_per_source_.find(it->second.source);
  if (src != handshakes_per_source_.end() && --src->second == 0) {
    handshakes_per_source_.erase(src);
  }
  handshakes_.erase(it);
}

void Node::MakeHandshakeRoom(const asio::ip::address& source) {
  // Each handshake holds TLS state (tens of KiB): bound what unauthenticated
  // clients make the node hold, and let the newest in, so an attacker's
  // stalled handshakes cannot keep a deployer's fresh one out.
  std::optional<uint64_t> victim;
  auto src = handshakes_per_source_.find(source);
  if (src != handshakes_per_source_.end() && src->second >= options_.max_handshakes_per_source) {
    for (auto& [id, h] : handshakes_) {
      if (h.source == source) {
        victim = id;
        break;
      }
    }
  } else if (handshakes_.size() >= options_.max_handshakes && !handshakes_.empty()) {
    victim = handshakes_.begin()->first;
  }
  if (!victim) return;
  ++counters_.handshakes_evicted;
  EndHandshake(*victim);
  if (auto it = sessions_.find(*victim); it != sessions_.end()) {
    DropSession(it->second, Status::Ok());
  }
}

void Node::DropSession(std::shared_ptr<Session> s, const Status& why) {
  EndHandshake(s->id);
  if (s->waiting) {
    asio::error_code ignored;
    s->waiting->close(ignored);
    s->waiting.reset();
  }
  // A started stream reports to OnSessionClosed, which erases the session.
  if (s->stream) s->stream->Close(why);
  sessions_.erase(s->id);
}

bool Node::EvictIdleSession() {
  auto last_active = [](const Session& s) {
    return s.stream ? std::max(s.accepted, s.stream->last_read()) : s.accepted;
  };
  std::shared_ptr<Session> victim;
  bool victim_deployer = true;
  for (auto& [id, s] : sessions_) {
    if (s->unanswered > 0) continue;
    const bool deployer = s->cert_role == tls::Role::kDeployer;
    if (!victim || (victim_deployer && !deployer) ||
        (victim_deployer == deployer && last_active(*s) < last_active(*victim))) {
      victim = s;
      victim_deployer = deployer;
    }
  }
  if (!victim) return false;
  ++counters_.sessions_evicted;
  spdlog::debug("session {} evicted to admit a new connection", victim->id);
  DropSession(victim, Status::Ok());
  return true;
}

void Node::SweepSessions() {
  sweep_timer_.expires_after(kSweepInterval);
  sweep_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopped_) return;
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::pair<std::shared_ptr<Session>, uint64_t*>> expired;
    for (auto& [id, s] : sessions_) {
      auto hs = handshakes_.find(id);
      auto partial = s->stream ? s->stream->partial_since() : std::nullopt;
      if (hs != handshakes_.end()) {
        if (now - hs->second.started > options_.handshake_timeout) {
          expired.emplace_back(s, &counters_.handshakes_rejected);
        }
      } else if (partial && now - *partial > options_.frame_timeout) {
        expired.emplace_back(s, &counters_.frames_timed_out);
      } else if (s->greeted && s->unanswered == 0 &&
                 now - s->stream->last_read() > options_.session_idle_timeout) {
        expired.emplace_back(s, &counters_.sessions_idle_closed);
      }
    }
    for (auto& [s, counter] : expired) {
      ++*counter;
      spdlog::debug("session {} closed: past its deadline", s->id);
      DropSession(s, Status::Ok());
    }
    SweepSessions();
  });
}

void Node::OnSessionClosed(uint64_t id, const Status& why) {
  // A connection closed for a protocol violation (bad frame, oversized
  // frame, no HELLO in time, over the buffer budget) counts as a rejection.
  if (!why.ok() && why.code() != Code::kIo) ++counters_.frames_rejected;
  auto s = sessions_.find(id);
  if (!why.ok() && why.code() != Code::kIo && s != sessions_.end() && s->second->greeted &&
      s->second->role == wire::PeerRole::kClient) {
    // A deployer's session ended by the node (e.g. a module binary over
    // LOAD_MODULE's limit): worth a line in the log, with the reason.
    spdlog::warn("session {} of a deployer at {} closed: {}", id, s->second->source.to_string(),
                 why.ToString());
  } else if (!why.ok()) {
    spdlog::debug("session {} closed: {}", id, why.ToString());
  }
  sessions_.erase(id);
}

void Node::ReplyTo(const std::weak_ptr<Session>& weak, uint32_t id, const Status& st,
                   ByteSpan payload) {
  auto s = weak.lock();
  if (!s || id == 0) return;
  if (s->unanswered > 0) --s->unanswered;
  if (!s->stream->Send(MsgType::kResult, id, wire::EncodeResult(st, payload))) {
    // Queue or buffer budget full: a client that does not read its answers
    // gets no more of them.
    s->stream->Close(Status(Code::kResourceExhausted, "client does not read its replies"));
  }
}

void Node::OnSessionFrame(const std::shared_ptr<Session>& s, const wire::Frame& f) {
  if (!s->greeted) {
    auto hello = f.type == MsgType::kHello ? wire::Hello::Parse(f.payload)
                                           : Result<wire::Hello>(Status(
                                                 Code::kProtocol, "expected HELLO first"));
    if (!hello.ok() || hello->min_version > wire::kProtocolVersion ||
        hello->max_version < wire::kProtocolVersion) {
      ++counters_.frames_rejected;
      Status why = hello.ok() ? Status(Code::kProtocol, "no common protocol version")
                              : hello.status();
      s->stream->Send(MsgType::kResult, f.request_id, wire::EncodeResult(why));
      s->stream->Close(why);
      return;
    }
    if (s->cert_role == tls::Role::kNode && hello->role != wire::PeerRole::kNode) {
      // A node's certificate opens peer sessions only: management belongs
      // to the deployer's certificate.
      ++counters_.frames_rejected;
      Status why(Code::kPermissionDenied, "a node certificate may only open a peer session");
      s->stream->Send(MsgType::kResult, f.request_id, wire::EncodeResult(why));
      s->stream->Close(why);
      return;
    }
    s->greeted = true;
    s->role = hello->role;
    s->hello_timer.reset();  // cancels it
    s->stream->set_max_frame(s->role == wire::PeerRole::kNode ? kMaxPeerFrame
                                                             : wire::kMaxFrameBody);
    wire::HelloAck ack;
    ack.node_name = options_.name;
    ack.deployment = options_.deployment;
    ack.pid = static_cast<uint32_t>(getpid());
    s->stream->Send(MsgType::kHelloAck, f.request_id, ack.Encode());
    return;
  }
  if (f.type == MsgType::kFence) return OnFence(f.payload);
  if (f.type == MsgType::kEvent) {
    auto op = wire::ModuleOp::Parse(f.payload);
    bool delivered = op.ok() && DeliverEvent(op->module_id, op->aux, op->data);
    if (!delivered) ++counters_.events_undeliverable;
    if (f.request_id != 0) {  // the deployer asks for a delivery confirmation
      ++s->unanswered;
      auto m = op.ok() ? FindModule(op->module_id) : nullptr;
      const bool running = m && m->state() == ModuleState::kRunning;
      ReplyTo(s, f.request_id,
              delivered ? Status::Ok()
              : !op.ok() ? op.status()
              : running  ? Status(Code::kResourceExhausted,
                                  "module " + std::to_string(op->module_id) +
                                      " refused the event: its queue is full")
                         : Unavailable("module " + std::to_string(op->module_id) +
                                       " is not running on this node"));
    }
    return;
  }
  if (f.type == MsgType::kLinkEvent && s->role == wire::PeerRole::kNode) {
    return OnLinkEvent(s, f.payload);
  }
  if (s->role == wire::PeerRole::kNode && f.type != MsgType::kRequest) {
    // A peer node may only forward events and requests; management belongs
    // to the deployer.
    ++counters_.frames_rejected;
    return ReplyTo(s, f.request_id,
                   Status(Code::kPermissionDenied, "management messages are not accepted from a "
                                                   "peer node connection"));
  }
  HandleManagement(s, f);
}

void Node::HandleManagement(const std::shared_ptr<Session>& s, const wire::Frame& f) {
  std::weak_ptr<Session> weak = s;
  const uint32_t id = f.request_id;
  if (id != 0) ++s->unanswered;  // every case below answers (ReplyTo)
  auto forward = [this, weak, id](const ModuleReply& r) {
    ReplyTo(weak, id, r.status, r.payload);
  };
  switch (f.type) {
    case MsgType::kLoadModule: {
      auto r = LoadModule(f.payload);
      return ReplyTo(weak, id, r.status(), r.ok() ? ByteSpan(*r) : ByteSpan());
    }
    case MsgType::kConnect: return ReplyTo(weak, id, AddRoute(f.payload));
    case MsgType::kRegisterPeriodic: {
      auto r = RegisterPeriodic(f.payload);
      return ReplyTo(weak, id, r.status(), r.ok() ? ByteSpan(*r) : ByteSpan());
    }
    case MsgType::kStatus:
    case MsgType::kReset:
      if (!f.payload.empty()) {
        ++counters_.frames_rejected;
        return ReplyTo(weak, id, InvalidArgument(std::string(wire::TypeName(f.type)) +
                                                 " takes no payload"));
      }
      if (f.type == MsgType::kReset) {
        Reset();
        return ReplyTo(weak, id, Status::Ok());
      }
      return CollectStatus([this, weak, id](std::string json) {
        ReplyTo(weak, id, Status::Ok(), AsBytes(json));
      });
    case MsgType::kPauseRoutes: {
      auto r = PauseRoutes(f.payload);
      return ReplyTo(weak, id, r.status(), r.ok() ? ByteSpan(*r) : ByteSpan());
    }
    case MsgType::kResumeRoutes: return ReplyTo(weak, id, ResumeRoutes(f.payload));
    case MsgType::kAwaitFence:
      return AwaitFence(f.payload, [this, weak, id](Status st) { ReplyTo(weak, id, st); });
    case MsgType::kListModules: {
      auto r = ListModules(f.payload);
      if (!r.ok()) ++counters_.frames_rejected;
      return ReplyTo(weak, id, r.status(), r.ok() ? ByteSpan(*r) : ByteSpan());
    }
    case MsgType::kUnloadModule:
    case MsgType::kAttest:
    case MsgType::kSetKey:
    case MsgType::kCallEntry:
    case MsgType::kDisable:
    case MsgType::kRequest:
    case MsgType::kExportState:
    case MsgType::kImportState:
    case MsgType::kModuleStats: {
      auto op = wire::ModuleOp::Parse(f.payload);
      if (!op.ok()) {
        ++counters_.frames_rejected;
        return ReplyTo(weak, id, op.status());
      }
      if (f.type == MsgType::kUnloadModule) return ReplyTo(weak, id, Unload(op->module_id));
      if (f.type == MsgType::kRequest) {
        ++counters_.requests_routed;
        return DeliverRequest(op->module_id, op->aux, op->data, forward);
      }
      auto m = FindModule(op->module_id);
      if (!m) return ReplyTo(weak, id, NotFound("no module " + std::to_string(op->module_id)));
      if (f.type == MsgType::kAttest) {
        std::weak_ptr<ModuleProcess> weak_m = m;
        return m->Call(f.type, op->aux, op->data, [weak_m, forward](const ModuleReply& r) {
          if (auto attested = weak_m.lock(); attested && r.status.ok()) attested->MarkAttested();
          forward(r);
        });
      }
      return m->Call(f.type, op->aux, op->data, forward);
    }
    default:
      ++counters_.frames_rejected;
      return ReplyTo(weak, id,
                     Status(Code::kProtocol, std::string("unexpected ") + wire::TypeName(f.type)));
  }
}

std::shared_ptr<ModuleProcess> Node::FindModule(uint32_t id) {
  auto it = modules_.find(id);
  return it == modules_.end() ? nullptr : it->second;
}

Result<Bytes> Node::LoadModule(ByteSpan payload) {
  AEX_ASSIGN_OR_RETURN(wire::LoadModule req, wire::LoadModule::Parse(payload));
  AEX_ASSIGN_OR_RETURN(uint32_t id, Load(req, /*preinstalled=*/false));
  ByteWriter w;
  w.PutU32(id);
  return w.Take();
}

Status Node::LoadPreinstalled() {
  for (const auto& [name, path] : options_.preinstall) {
    std::ifstream in(path, std::ios::binary);
    std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return Status(Code::kIo, "cannot read " + path);
    if (image.empty()) return Status(Code::kIo, "pre-installed module '" + name + "': " + path +
                                                    " is missing or empty");
    wire::LoadModule req;
    req.name = name;
    req.backend = options_.preinstall_backend;
    req.binary = AsBytes(image);
    AEX_ASSIGN_OR_RETURN(uint32_t id, Load(req, /*preinstalled=*/true));
    spdlog::info("pre-installed module {} '{}' from {}", id, name, path);
  }
  return Status::Ok();
}

Result<uint32_t> Node::Load(const wire::LoadModule& req, bool preinstalled) {
  for (char c : req.name) {
    // Same rule as the descriptor and aex-gen; the stored file name is
    // prefixed ("m<id>-"), so a leading '.' cannot escape the work dir.
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return InvalidArgument("module name must be [A-Za-z0-9_.-]");
    }
  }
  if (modules_.size() >= options_.max_modules) {
    return Status(Code::kResourceExhausted, "too many modules on this node");
  }
  if (!req.device.empty()) {
    auto it = devices_.find(req.device);
    if (it != devices_.end() && FindModule(it->second) &&
        FindModule(it->second)->state() == ModuleState::kRunning) {
      return Status(Code::kPermissionDenied, "device " + req.device +
                                                 " is already assigned to module " +
                                                 std::to_string(it->second));
    }
  }
  // The claimed device, connected now and handed to this module alone
  // (devices.h). A node without attached devices records the claim only.
  UniqueFd device_fd;
  if (!req.device.empty() && !options_.devices.empty()) {
    auto dev = options_.devices.find(req.device);
    if (dev == options_.devices.end()) {
      return NotFound("node has no device " + req.device);
    }
    AEX_ASSIGN_OR_RETURN(device_fd, ConnectDevice(req.device, dev->second));
  }
  CountRestart(req.name);
  uint32_t id = ++next_module_id_;
  std::string path = options_.work_dir + "/m" + std::to_string(id) + "-" + req.name;
  {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
    if (fd < 0) return Status(Code::kIo, "cannot store module binary");
    size_t done = 0;
    while (done < req.binary.size()) {
      ssize_t n = write(fd, req.binary.data() + done, req.binary.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(fd);
    if (done != req.binary.size()) return Status(Code::kIo, "cannot store module binary");
  }
  // Modules get the platform service's socket, never a secret: the
  // service measures each module and gives it its own keys only.
  ModuleSpawn spec{id, req.name, req.backend, req.device, path, options_.platform_socket};
  spec.sgx_debug = options_.sgx_debug;
  spec.sgx_sigstruct.assign(req.sigstruct.begin(), req.sigstruct.end());
  spec.device_fd = device_fd.get();
  spec.load_tag = req.tag;
  UniqueFd log_fd;
  if (!options_.module_log_dir.empty()) {
    log_fd = UniqueFd(open(ModuleLogPath(options_.module_log_dir, id, req.name).c_str(),
                           O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (log_fd.get() < 0) return Status(Code::kIo, "cannot open the module's log file");
    spec.log_fd = log_fd.get();
  }
  auto proc = ModuleProcess::Spawn(io_, spec, options_.call_timeout,
                                   [this](ModuleProcess& m, const wire::Frame& f) {
                                     OnModuleFrame(m, f);
                                   });
  if (!proc.ok()) return proc.status();
  modules_[id] = *proc;
  if (!req.device.empty()) devices_[req.device] = id;
  if (!preinstalled) ArmAttestDeadline(*proc);
  spdlog::info("loaded module {} '{}' (pid {})", id, req.name, (*proc)->pid());
  return id;
}

void Node::ArmAttestDeadline(const std::shared_ptr<ModuleProcess>& m) {
  if (options_.attest_deadline.count() <= 0) return;
  auto& timer = attest_deadlines_[m->id()];
  timer = std::make_unique<asio::steady_timer>(io_, options_.attest_deadline);
  std::weak_ptr<ModuleProcess> weak = m;
  timer->async_wait([this, weak](const asio::error_code& ec) {
    auto module = weak.lock();
    if (ec || !module) return;  // cancelled (unloaded, reset, stopped)
    const uint32_t id = module->id();
    attest_deadlines_.erase(id);
    if (module->attested() || FindModule(id) != module) return;
    ++counters_.modules_unattested_unloaded;
    spdlog::warn("module {} '{}' was not attested within {} ms of its load: unloading it", id,
                 module->spec().name, options_.attest_deadline.count());
    (void)Unload(id);
  });
}

Result<Bytes> Node::ListModules(ByteSpan payload) {
  AEX_ASSIGN_OR_RETURN(wire::ListModules req, wire::ListModules::Parse(payload));
  wire::ModuleList list;
  for (const auto& [id, m] : modules_) {
    if (!req.tag.empty() && m->spec().load_tag != req.tag) continue;
    list.modules.push_back(wire::ListedModule{id, m->spec().name, m->spec().load_tag,
                                              m->state() == ModuleState::kRunning,
                                              m->attested()});
  }
  return list.Encode();
}

void Node::CountRestart(const std::string& name) {
  bool died = died_.erase(name) > 0;
  for (const auto& [id, m] : modules_) {
    died |= m->spec().name == name &&
            (m->state() == ModuleState::kExited || m->state() == ModuleState::kHung);
  }
  if (died) ++restarts_[name];
}

Status Node::Unload(uint32_t module_id) {
  auto m = FindModule(module_id);
  if (!m) return NotFound("no module " + std::to_string(module_id));
  // Remembered for the next load of that name (aex up reloads a dead module).
  if (m->state() == ModuleState::kExited || m->state() == ModuleState::kHung) {
    died_.insert(m->spec().name);
  }
  std::erase_if(arrivals_, [&](const auto& kv) { return kv.first.first == module_id; });
  attest_deadlines_.erase(module_id);  // destroying the timer cancels it
  m->Kill(ModuleState::kUnloaded);
  std::erase_if(routes_, [&](const auto& kv) {
    return kv.first.first == module_id || (!kv.second.peer && kv.second.dst_module == module_id);
  });
  std::erase_if(periodic_, [&](auto& kv) {
    if (kv.second.module_id != module_id) return false;
    kv.second.timer->cancel();
    return true;
  });
  std::erase_if(devices_, [&](const auto& kv) { return kv.second == module_id; });
  modules_.erase(module_id);
  std::error_code ec;
  fs::remove(m->spec().binary_path, ec);
  spdlog::info("unloaded module {}", module_id);
  return Status::Ok();
}

std::shared_ptr<PeerLink> Node::PeerFor(const std::string& host, uint16_t port) {
  std::string key = host + ":" + std::to_string(port);
  auto& peer = peers_[key];
  if (!peer) {
    peer = std::make_shared<PeerLink>(io_, host, port, options_.peer_backlog,
                                      options_.call_timeout, tls_);
    peer->set_on_undelivered([this, raw = peer.get()](const wire::Undelivered& u) {
      OnPeerUndelivered(raw, u);
    });
  }
  return peer;
}

Status Node::AddRoute(ByteSpan payload) {
  AEX_ASSIGN_OR_RETURN(wire::Connect c, wire::Connect::Parse(payload));
  if (!FindModule(c.src_module)) return NotFound("no source module " +
                                                 std::to_string(c.src_module));
  Route route{c.dst_module, nullptr};
  if (c.dst_host.empty()) {
    if (!FindModule(c.dst_module)) {
      return NotFound("no destination module " + std::to_string(c.dst_module));
    }
  } else {
    route.peer = PeerFor(c.dst_host, c.dst_port);
  }
  routes_[{c.src_module, c.conn_id}] = route;
  return Status::Ok();
}

Result<Bytes> Node::RegisterPeriodic(ByteSpan payload) {
  AEX_ASSIGN_OR_RETURN(wire::RegisterPeriodic r, wire::RegisterPeriodic::Parse(payload));
  if (!FindModule(r.module_id)) return NotFound("no module " + std::to_string(r.module_id));
  uint32_t id = ++next_periodic_;
  Periodic& p = periodic_[id];
  p.module_id = r.module_id;
  p.entry = r.entry;
  p.period_ms = r.period_ms;
  p.timer = std::make_unique<asio::steady_timer>(io_);
  // Each tick re-arms from the previous deadline, so the period does not drift.
  auto tick = std::make_shared<std::function<void()>>();
  *tick = [this, id, weak_tick = std::weak_ptr<std::function<void()>>(tick)]() {
    auto it = periodic_.find(id);
    if (it == periodic_.end()) return;
    Periodic& per = it->second;
    per.timer->expires_at(per.timer->expiry() + std::chrono::milliseconds(per.period_ms));
    auto keep = weak_tick.lock();
    per.timer->async_wait([this, id, keep](const asio::error_code& ec) {
      if (ec || stopped_) return;
      auto it2 = periodic_.find(id);
      if (it2 == periodic_.end()) return;
      auto m = FindModule(it2->second.module_id);
      ++it2->second.fired;
      if (m) {
        m->Call(MsgType::kCallEntry, it2->second.entry, {}, [this, id](ModuleReply r) {
          if (!r.status.ok() && periodic_.count(id)) ++periodic_[id].failed;
        });
      }
      (*keep)();
    });
  };
  p.timer->expires_at(std::chrono::steady_clock::now());
  (*tick)();
  ByteWriter w;
  w.PutU32(id);
  return w.Take();
}

void Node::Reset() {
  std::vector<uint32_t> ids;
  for (auto& [id, m] : modules_) ids.push_back(id);
  for (uint32_t id : ids) (void)Unload(id);
  routes_.clear();
  for (auto& [id, p] : periodic_) p.timer->cancel();
  periodic_.clear();
  devices_.clear();
}

void Node::OnModuleFrame(ModuleProcess& from, const wire::Frame& f) {
  auto op = wire::ModuleOp::Parse(f.payload);
  if (!op.ok() || op->module_id != from.id() ||
      (f.type != MsgType::kEvent && f.type != MsgType::kRequest)) {
    ++counters_.frames_rejected;
    if (f.request_id != 0) from.Reply(f.request_id, InvalidArgument("bad module message"), {});
    return;
  }
  RouteFromModule(from.id(), f.type, op->aux, op->data, f.request_id);
}

void Node::RouteFromModule(uint32_t src_module, MsgType type, uint32_t conn_id, ByteSpan sealed,
                           uint32_t request_id) {
  auto it = routes_.find({src_module, conn_id});
  if (it != routes_.end() && it->second.paused) {  // aex update in progress
    if (Hold(it->second, type, sealed, request_id)) return;
    ++counters_.events_undeliverable;
    auto m = FindModule(src_module);
    if (!m) return;
    // Refused at the source, as below: the sending module counts it.
    if (type == MsgType::kEvent) return (void)m->Post(MsgType::kEventRefused, conn_id, {});
    m->Reply(request_id, Status(Code::kResourceExhausted, "paused route is full"), {});
    return;
  }
  if (type == MsgType::kEvent) {
    const uint64_t received_at = WallClockNanos();
    bool ok = false;
    uint64_t routed_at = 0;  // before the hand-over: the receiver may run before it returns
    if (it != routes_.end()) {
      routed_at = WallClockNanos();
      ok = it->second.peer
               ? it->second.peer->Post(MsgType::kEvent,
                                       wire::ModuleOp{it->second.dst_module, conn_id, sealed})
               : DeliverEvent(it->second.dst_module, conn_id, sealed);
    }
    if (ok) {
      ++counters_.events_routed;
      Route& r = it->second;
      if (r.peer) HoldSenderOf(src_module, r.peer);
      r.received_at = received_at;
      r.routed_at = routed_at;
      route_latency_.ObserveBetween(r.received_at, r.routed_at);
      if (!r.peer) NoteArrival(r.dst_module, conn_id, {0, r.received_at, r.routed_at});
    } else {
      // Refused at the source, never dropped silently: the sender's runtime
      // counts it (outputs_refused) and so does this node.
      ++counters_.events_undeliverable;
      if (auto m = FindModule(src_module)) m->Post(MsgType::kEventRefused, conn_id, {});
    }
    return;
  }
  ++counters_.requests_routed;
  auto reply = [this, src_module, request_id](const ModuleReply& r) {
    if (auto m = FindModule(src_module)) m->Reply(request_id, r.status, r.payload);
  };
  if (it == routes_.end()) return reply({NotFound("no route for this connection"), {}});
  if (it->second.peer) {
    return it->second.peer->Call(MsgType::kRequest,
                                 wire::ModuleOp{it->second.dst_module, conn_id, sealed}, reply);
  }
  DeliverRequest(it->second.dst_module, conn_id, sealed, reply);
}

bool Node::DeliverEvent(uint32_t dst_module, uint32_t conn_id, ByteSpan sealed) {
  auto m = FindModule(dst_module);
  return m && m->Post(MsgType::kEvent, conn_id, sealed);
}

void Node::DeliverRequest(uint32_t dst_module, uint32_t conn_id, ByteSpan sealed,
                          ReplyCallback done) {
  auto m = FindModule(dst_module);
  if (!m) return done({NotFound("no module " + std::to_string(dst_module)), {}});
  m->Call(MsgType::kRequest, conn_id, sealed, std::move(done));
}

// The resident set size of this process, from /proc/self/statm; 0 if it
// cannot be read.
static uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

void Node::CollectStatus(std::function<void(std::string)> done) {
  CollectStatusDoc([done](const nlohmann::json& doc) { done(doc.dump()); });
}

void Node::CollectStatusDoc(std::function<void(const nlohmann::json&)> done) {
  auto doc = std::make_shared<nlohmann::json>();
  (*doc)["node"] = options_.name;
  (*doc)["rss_bytes"] = ResidentBytes();
  if (metrics_) (*doc)["metrics_port"] = metrics_->port();
  (*doc)["port"] = port_;
  (*doc)["counters"] = {{"events_routed", counters_.events_routed},
                        {"events_undeliverable", counters_.events_undeliverable},
                        {"events_held", counters_.events_held},
                        {"flow_holds", counters_.flow_holds},
                        {"idle_trims", counters_.idle_trims},
                        {"requests_routed", counters_.requests_routed},
                        {"frames_rejected", counters_.frames_rejected},
                        {"sessions_accepted", counters_.sessions_accepted},
                        {"handshakes_rejected", counters_.handshakes_rejected},
                        {"peer_undelivered", counters_.peer_undelivered},
                        {"link_duplicates", counters_.link_duplicates},
                        {"link_gaps", counters_.link_gaps},
                        {"modules_unattested_unloaded", counters_.modules_unattested_unloaded},
                        {"handshakes_evicted", counters_.handshakes_evicted},
                        {"sessions_evicted", counters_.sessions_evicted},
                        {"sessions_idle_closed", counters_.sessions_idle_closed},
                        {"sessions_refused", counters_.sessions_refused},
                        {"frames_timed_out", counters_.frames_timed_out},
                        {"buffer_budget_refused", budget_ ? budget_->refused() : 0}};
  (*doc)["sessions"] = {{"open", sessions_.size()},
                        {"handshaking", handshakes_.size()},
                        {"buffered_bytes", budget_ ? budget_->used() : 0},
                        {"buffer_budget", options_.buffer_budget}};
  (*doc)["tls"] = tls_ != nullptr;
  auto& peers = (*doc)["peers"] = nlohmann::json::array();
  for (auto& [key, p] : peers_) {
    peers.push_back({{"peer", key},
                     {"connected", p->connected()},
                     {"backlog", p->backlog()},
                     {"sent", p->stats().sent},
                     {"refused", p->stats().refused},
                     {"connects", p->stats().connects},
                     {"unacked", p->unacked()},
                     {"resent", p->stats().resent},
                     {"seq_sent", p->window().sent()},
                     {"seq_acked", p->window().acked()},
                     {"gaps", p->stats().gaps},
                     {"ack_timeouts", p->stats().timeouts},
                     {"protocol_errors", p->stats().protocol_errors},
                     {"undelivered", p->stats().undelivered},
                     {"ack_seconds", p->ack_latency().ToJson()}});
  }
  auto& routes = (*doc)["routes"] = nlohmann::json::array();
  for (auto& [key, r] : routes_) {
    routes.push_back({{"module", key.first},
                      {"connection", key.second},
                      {"to_module", r.dst_module},
                      {"to", r.peer ? r.peer->host() + ":" + std::to_string(r.peer->port())
                                    : std::string("local")},
                      {"undelivered", r.undelivered},
                      {"received_at_ns", r.received_at},
                      {"routed_at_ns", r.routed_at}});
    if (r.paused) routes.back()["held"] = r.held.size();
  }
  auto& arrivals = (*doc)["arrivals"] = nlohmann::json::array();
  for (const auto& [key, a] : arrivals_) {
    arrivals.push_back({{"module", key.first},
                        {"connection", key.second},
                        {"sent_at_ns", a.sent_at},
                        {"received_at_ns", a.received_at},
                        {"delivered_at_ns", a.delivered_at}});
  }
  (*doc)["route_seconds"] = route_latency_.ToJson();
  (*doc)["link_seconds"] = link_transit_.ToJson();
  auto& periodic = (*doc)["periodic"] = nlohmann::json::array();
  for (auto& [id, p] : periodic_) {
    periodic.push_back({{"id", id},
                        {"module", p.module_id},
                        {"entry", p.entry},
                        {"period_ms", p.period_ms},
                        {"fired", p.fired},
                        {"failed", p.failed}});
  }
  (*doc)["modules"] = nlohmann::json::array();
  // Ask every running module for its counters; answer when all replied.
  auto remaining = std::make_shared<size_t>(modules_.size() + 1);
  auto finish = [doc, remaining, done]() {
    if (--*remaining == 0) done(*doc);
  };
  for (auto& [id, m] : modules_) {
    nlohmann::json entry = {{"id", id},
                            {"name", m->spec().name},
                            {"backend", m->spec().backend},
                            {"backend_name",
                             tee::BackendName(static_cast<tee::Backend>(m->spec().backend))},
                            {"state", ModuleStateName(m->state())},
                            {"pid", m->pid()},
                            {"attested", m->attested()},
                            {"refused", m->refused()},
                            {"call_seconds", m->call_latency().ToJson()}};
    auto restarts = restarts_.find(m->spec().name);
    entry["restarts"] = restarts != restarts_.end() ? restarts->second : 0;
    if (!m->spec().device.empty()) entry["device"] = m->spec().device;
    if (!m->exit_reason().empty()) entry["reason"] = m->exit_reason();
    if (m->pending_calls() > 0) {
      // Busy in app code (maybe hung): asking would make status wait for the
      // call timeout. Report it without counters instead.
      entry["busy"] = true;
      (*doc)["modules"].push_back(entry);
      finish();
      continue;
    }
    m->Call(MsgType::kModuleStats, 0, {}, [doc, entry, finish](ModuleReply r) mutable {
      if (r.status.ok()) {
        if (auto stats = wire::ModuleStats::Parse(r.payload); stats.ok()) {
          for (int i = 0; i < wire::ModuleStats::kFieldCount; ++i) {
            entry["stats"][wire::ModuleStats::FieldName(i)] = stats->values[i];
          }
        }
      }
      (*doc)["modules"].push_back(entry);
      finish();
    });
  }
  finish();
}

}  // namespace aex::node
