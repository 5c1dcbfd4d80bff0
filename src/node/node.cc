#include "node/node.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "crypto/crypto.h"
#include "platform/platform.h"
#include "node/devices.h"

namespace aex::node {

using wire::MsgType;
namespace fs = std::filesystem;

// Per-session bound on bytes queued towards a deployer or peer.
constexpr size_t kMaxSessionQueue = 64u << 20;

struct Node::Session {
  uint64_t id = 0;
  std::shared_ptr<FrameLink> stream;
  std::unique_ptr<asio::steady_timer> hello_timer;  // closes silent connections
  bool greeted = false;
  wire::PeerRole role = wire::PeerRole::kClient;
  // With TLS, the role in the client's verified certificate: what it may do.
  std::optional<tls::Role> cert_role;
  // Events from a peer node are acknowledged in batches (kAck, cumulative).
  uint64_t events_received = 0;
  std::unique_ptr<asio::steady_timer> ack_timer;
};

// Acks go out at most this long after the first unacknowledged event: often
// enough to keep the sender's retransmission buffer small, rarely enough not
// to double the frame rate under load.
constexpr std::chrono::milliseconds kAckDelay(2);

void Node::ScheduleAck(const std::shared_ptr<Session>& s) {
  if (s->ack_timer) return;  // one is already pending
  s->ack_timer = std::make_unique<asio::steady_timer>(io_, kAckDelay);
  std::weak_ptr<Session> weak = s;
  s->ack_timer->async_wait([weak](const asio::error_code& ec) {
    auto sp = weak.lock();
    if (ec || !sp) return;
    sp->ack_timer.reset();
    ByteWriter w;
    w.PutU64(sp->events_received);
    sp->stream->Send(MsgType::kAck, 0, w.bytes());
  });
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
  if (given == 0 && !address.is_loopback() && !options.insecure_no_tls) {
    return FailedPrecondition(
        "refusing to listen on " + options.listen_host +
        " without TLS: anyone who can reach it could load, unload or reset modules. Give "
        "--tls-cert, --tls-key and --tls-ca (`aex tls init` creates them), or "
        "--insecure-no-tls to accept that risk");
  }
  return Status::Ok();
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
  std::error_code fec;
  fs::create_directories(options_.work_dir, fec);
  if (fec) return Status(Code::kIo, "cannot create work dir " + options_.work_dir);
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
  fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
  WatchChildren();
  Accept();
  TrimWhenIdle();
  return Status::Ok();
}

void Node::TrimWhenIdle() {
  trim_timer_.expires_after(std::chrono::seconds(1));
  trim_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopped_) return;
    const uint64_t traffic = counters_.events_routed + counters_.requests_routed +
                             counters_.sessions_accepted + counters_.frames_rejected;
    if (traffic == trim_seen_ && traffic != trim_done_at_) {
      malloc_trim(0);  // a quiet second after activity
      trim_done_at_ = traffic;
    }
    trim_seen_ = traffic;
    TrimWhenIdle();
  });
}

void Node::Stop() {
  if (stopped_) return;
  stopped_ = true;
  asio::error_code ec;
  acceptor_.close(ec);
  trim_timer_.cancel();
  child_signals_.cancel(ec);
  for (auto& [id, p] : periodic_) p.timer->cancel();
  for (auto& [key, peer] : peers_) peer->Stop();
  auto sessions = sessions_;
  for (auto& [id, s] : sessions) s->stream->Close();
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
// TLS handshakes in progress at most (connections beyond are closed).
constexpr size_t kMaxHandshakes = 512;
// What a peer node may send after HELLO: events and requests.
constexpr size_t kMaxPeerFrame = (1u << 20) + 4096;

void Node::Accept() {
  acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
    if (stopped_) return;
    if (ec && ec != asio::error::operation_aborted) {
      // Out of descriptors (or similar): pause instead of spinning on accept.
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
      if (sessions_.size() >= options_.max_sessions) {
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
  std::shared_ptr<TlsStream> tls_stream;
  if (tls_ && handshaking_ >= kMaxHandshakes) {
    // Each handshake in progress holds TLS buffers (tens of KiB): bound
    // what unauthenticated clients can make the node hold.
    ++counters_.handshakes_rejected;
    ++counters_.frames_rejected;
    socket.close(ignored);
    return;
  }
  if (tls_) {
    tls_stream = std::make_shared<TlsStream>(kMaxSessionQueue, std::in_place, std::move(socket),
                                             *tls_);
    s->stream = tls_stream;
  } else {
    s->stream = std::make_shared<TcpStream>(std::move(socket), kMaxSessionQueue);
  }
  s->stream->set_max_frame(kMaxHelloFrame);
  // One deadline for the TLS handshake and HELLO together: a slow handshake
  // holds a session slot (and the engine's buffers) no longer than a silent
  // plain connection.
  s->hello_timer = std::make_unique<asio::steady_timer>(io_, kHelloTimeout);
  s->hello_timer->async_wait([stream = std::weak_ptr<FrameLink>(s->stream)](
                                 const asio::error_code& e) {
    auto st = stream.lock();
    if (!e && st) st->Close(Status(Code::kTimeout, "no HELLO in time"));
  });
  sessions_[s->id] = s;
  ++counters_.sessions_accepted;
  std::weak_ptr<Session> weak = s;
  auto start = [this, weak, id = s->id]() {
    auto sp = weak.lock();
    if (!sp) return;
    sp->stream->Start(
        [this, weak](const wire::Frame& f) {
          if (auto p = weak.lock()) OnSessionFrame(p, f);
        },
        [this, id](const Status& why) { OnSessionClosed(id, why); });
  };
  if (!tls_stream) return start();
  ++handshaking_;
  tls_stream->socket().async_handshake(
      asio::ssl::stream_base::server,
      [this, weak, start, id = s->id,
       raw = std::weak_ptr<TlsStream>(tls_stream)](const asio::error_code& ec) {
        --handshaking_;
        auto sp = weak.lock();
        auto stream = raw.lock();
        if (stopped_ || !sp || !stream) return;
        Result<tls::Role> role = ec ? Result<tls::Role>(Status(Code::kPermissionDenied,
                                                               ec.message()))
                                    : tls::PeerRole(stream->socket().native_handle());
        if (!role.ok()) {
          // Plain TCP, no certificate, another CA, too slow (the deadline
          // closed it): refused before a single frame is read.
          ++counters_.handshakes_rejected;
          ++counters_.frames_rejected;
          spdlog::debug("session {}: TLS handshake refused: {}", id, role.status().ToString());
          stream->Close();
          sessions_.erase(id);
          return;
        }
        sp->cert_role = *role;
        start();
      });
}

void Node::OnSessionClosed(uint64_t id, const Status& why) {
  // A connection closed for a protocol violation (bad frame, oversized
  // frame, no HELLO in time) counts as a rejection.
  if (!why.ok() && why.code() != Code::kIo) ++counters_.frames_rejected;
  if (!why.ok()) spdlog::debug("session {} closed: {}", id, why.ToString());
  sessions_.erase(id);
}

void Node::ReplyTo(const std::weak_ptr<Session>& weak, uint32_t id, const Status& st,
                   ByteSpan payload) {
  auto s = weak.lock();
  if (!s || id == 0) return;
  s->stream->Send(MsgType::kResult, id, wire::EncodeResult(st, payload));
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
    ByteWriter w;
    w.PutU16(wire::kProtocolVersion);
    s->stream->Send(MsgType::kHelloAck, f.request_id, w.bytes());
    return;
  }
  if (f.type == MsgType::kFence) return OnFence(f.payload);
  if (f.type == MsgType::kEvent) {
    auto op = wire::ModuleOp::Parse(f.payload);
    bool delivered = op.ok() && DeliverEvent(op->module_id, op->aux, op->data);
    if (!delivered) ++counters_.events_undeliverable;
    if (f.request_id != 0) {  // the deployer asks for a delivery confirmation
      ReplyTo(s, f.request_id,
              delivered ? Status::Ok()
                        : (op.ok() ? Unavailable("module " + std::to_string(op->module_id) +
                                                 " is not running on this node")
                                   : op.status()));
    }
    if (s->role == wire::PeerRole::kNode) {
      ++s->events_received;
      ScheduleAck(s);
    }
    return;
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
  spec.device_fd = device_fd.get();
  auto proc = ModuleProcess::Spawn(io_, spec, options_.call_timeout,
                                   [this](ModuleProcess& m, const wire::Frame& f) {
                                     OnModuleFrame(m, f);
                                   });
  if (!proc.ok()) return proc.status();
  modules_[id] = *proc;
  if (!req.device.empty()) devices_[req.device] = id;
  spdlog::info("loaded module {} '{}' (pid {})", id, req.name, (*proc)->pid());
  ByteWriter w;
  w.PutU32(id);
  return w.Take();
}

Status Node::Unload(uint32_t module_id) {
  auto m = FindModule(module_id);
  if (!m) return NotFound("no module " + std::to_string(module_id));
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
    if (type == MsgType::kEvent) return;
    if (auto m = FindModule(src_module)) {
      m->Reply(request_id, Status(Code::kResourceExhausted, "paused route is full"), {});
    }
    return;
  }
  if (type == MsgType::kEvent) {
    bool ok = false;
    if (it != routes_.end()) {
      ok = it->second.peer
               ? it->second.peer->Post(MsgType::kEvent,
                                       wire::ModuleOp{it->second.dst_module, conn_id, sealed})
               : DeliverEvent(it->second.dst_module, conn_id, sealed);
    }
    if (ok) {
      ++counters_.events_routed;
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

void Node::CollectStatus(std::function<void(std::string)> done) {
  auto doc = std::make_shared<nlohmann::json>();
  (*doc)["node"] = options_.name;
  (*doc)["port"] = port_;
  (*doc)["counters"] = {{"events_routed", counters_.events_routed},
                        {"events_undeliverable", counters_.events_undeliverable},
                        {"events_held", counters_.events_held},
                        {"requests_routed", counters_.requests_routed},
                        {"frames_rejected", counters_.frames_rejected},
                        {"sessions_accepted", counters_.sessions_accepted},
                        {"handshakes_rejected", counters_.handshakes_rejected}};
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
                     {"resent", p->stats().resent}});
  }
  auto& routes = (*doc)["routes"] = nlohmann::json::array();
  for (auto& [key, r] : routes_) {
    routes.push_back({{"module", key.first},
                      {"connection", key.second},
                      {"to_module", r.dst_module},
                      {"to", r.peer ? r.peer->host() + ":" + std::to_string(r.peer->port())
                                    : std::string("local")}});
    if (r.paused) routes.back()["held"] = r.held.size();
  }
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
    if (--*remaining == 0) done(doc->dump());
  };
  for (auto& [id, m] : modules_) {
    nlohmann::json entry = {{"id", id},
                            {"name", m->spec().name},
                            {"backend", m->spec().backend},
                            {"state", ModuleStateName(m->state())},
                            {"pid", m->pid()}};
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
