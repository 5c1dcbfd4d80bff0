#include "deployer/node_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include <spdlog/spdlog.h>

#include "tls/pki.h"
#include "tls/tls.h"

namespace aex::deploy {

using wire::MsgType;

Result<std::unique_ptr<NodeClient>> NodeClient::Connect(const std::string& host, uint16_t port,
                                                        std::chrono::milliseconds timeout,
                                                        SSL_CTX* tls) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_str = std::to_string(port);
  if (getaddrinfo(host.c_str(), port_str.c_str(), &hints, &res) != 0 || !res) {
    return Unavailable("cannot resolve " + host);
  }
  int fd = -1;
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    // Bounds connect() too (Linux honours SO_SNDTIMEO there): a port whose
    // listener never accepts would otherwise hold it for minutes of SYN
    // retries while its backlog is full.
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      last_error = errno == EINPROGRESS ? "connect timed out" : strerror(errno);
      close(fd);
      fd = -1;
      continue;
    }
    timeval unbounded{};  // then unbounded again: a large LOAD may wait on a slow node
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &unbounded, sizeof unbounded);
  }
  freeaddrinfo(res);
  if (fd < 0) {
    return Unavailable("cannot connect to " + host + ":" + port_str + ": " + last_error);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::unique_ptr<NodeClient> client(new NodeClient(fd, timeout));
  client->peer_ = host + ":" + port_str;
  if (tls) AEX_RETURN_IF_ERROR(client->StartTls(tls, host));
  spdlog::debug("{} connected ({})", client->peer_, tls ? "TLS" : "plain TCP");
  wire::Hello hello;
  AEX_RETURN_IF_ERROR(client->SendRaw(wire::EncodeFrame(MsgType::kHello, 1, hello.Encode())));
  AEX_ASSIGN_OR_RETURN(Bytes body, client->ReadFrameBody());
  AEX_ASSIGN_OR_RETURN(wire::Frame f, wire::ParseFrameBody(body));
  if (f.type != MsgType::kHelloAck) {
    auto r = wire::ResultMsg::Parse(f.payload);
    return r.ok() ? r->ToStatus() : Status(Code::kProtocol, "node refused HELLO");
  }
  AEX_ASSIGN_OR_RETURN(client->hello_ack_, wire::HelloAck::Parse(f.payload));
  return client;
}

NodeClient::~NodeClient() {
  SSL_free(ssl_);  // no close_notify: the node treats a cut like a goodbye
  if (fd_ >= 0) close(fd_);
}

Status NodeClient::StartTls(SSL_CTX* ctx, const std::string& host) {
  static std::once_flag sigpipe_once;
  std::call_once(sigpipe_once, [] {
    struct sigaction old{};
    if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
      signal(SIGPIPE, SIG_IGN);
    }
  });
  // Non-blocking, so that every wait goes through poll with our timeout and
  // a node that stalls mid-record cannot block us forever.
  int flags = fcntl(fd_, F_GETFL);
  if (flags < 0 || fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Status(Code::kIo, "cannot make the socket non-blocking");
  }
  ssl_ = SSL_new(ctx);
  if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) return Internal("SSL_new: " + tls::LastError());
  AEX_RETURN_IF_ERROR(tls::ExpectPeerHost(ssl_, host));
  auto done = TlsIo([&] { return SSL_connect(ssl_); });
  if (!done.ok()) {
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      // Something answers, but with a certificate our CA did not issue:
      // most often a node of another deployment on the same port. Waiting
      // longer will not change that.
      return Status(Code::kPermissionDenied,
                    "TLS handshake with " + host + " failed: " +
                        X509_verify_cert_error_string(verify) +
                        " (what answers has no certificate of this deployment's CA for " +
                        host + ": a node of another deployment?)");
    }
    return Unavailable("TLS handshake with " + host + " failed: " + done.status().message());
  }
  auto role = tls::PeerRole(ssl_);
  if (!role.ok() || *role != tls::Role::kNode) {
    return Status(Code::kPermissionDenied, host + " did not present a node certificate");
  }
  peer_cert_name_ = pki::SubjectCommonName(SSL_get0_peer_certificate(ssl_));
  return Status::Ok();
}

template <typename Op>
Result<int> NodeClient::TlsIo(Op op) {
  for (;;) {
    ERR_clear_error();
    int n = op();
    if (n > 0) return n;
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_WANT_READ: AEX_RETURN_IF_ERROR(Wait(POLLIN)); continue;
      case SSL_ERROR_WANT_WRITE: AEX_RETURN_IF_ERROR(Wait(POLLOUT)); continue;
      case SSL_ERROR_ZERO_RETURN: return Unavailable("node closed the connection");
      case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) return Unavailable("connection to node lost");
        [[fallthrough]];
      default: return Unavailable("TLS: " + tls::LastError());
    }
  }
}

Status NodeClient::SendRaw(ByteSpan bytes) {
  if (ssl_) {
    for (size_t done = 0; done < bytes.size();) {
      int chunk = static_cast<int>(std::min<size_t>(bytes.size() - done, 1 << 30));
      AEX_ASSIGN_OR_RETURN(int n, TlsIo([&] { return SSL_write(ssl_, bytes.data() + done, chunk); }));
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("connection to node lost");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status NodeClient::Wait(short events) {
  pollfd p{fd_, events, 0};
  int rc;
  do {
    rc = poll(&p, 1, static_cast<int>(timeout_.count()));
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return Status(Code::kTimeout, "node did not answer in time");
  if (rc < 0) return Unavailable("poll failed");
  return Status::Ok();
}

Result<Bytes> NodeClient::ReadFrameBody() {
  for (;;) {
    if (in_.size() >= wire::kFrameHeaderSize) {
      uint32_t len;
      AEX_RETURN_IF_ERROR(
          wire::ParseFrameLength(ByteSpan(in_.data(), wire::kFrameHeaderSize), &len));
      if (in_.size() >= wire::kFrameHeaderSize + len) {
        Bytes body(in_.begin() + wire::kFrameHeaderSize,
                   in_.begin() + wire::kFrameHeaderSize + len);
        in_.erase(in_.begin(), in_.begin() + wire::kFrameHeaderSize + len);
        return body;
      }
    }
    uint8_t buf[65536];
    AEX_ASSIGN_OR_RETURN(size_t n, ReadSome(buf, sizeof buf));
    in_.insert(in_.end(), buf, buf + n);
  }
}

Result<size_t> NodeClient::ReadSome(uint8_t* buf, size_t cap) {
  if (ssl_) {
    AEX_ASSIGN_OR_RETURN(int n, TlsIo([&] { return SSL_read(ssl_, buf, static_cast<int>(cap)); }));
    return static_cast<size_t>(n);
  }
  for (;;) {
    AEX_RETURN_IF_ERROR(Wait(POLLIN));
    ssize_t n = recv(fd_, buf, cap, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("node closed the connection");
    return static_cast<size_t>(n);
  }
}

Result<Bytes> NodeClient::Call(MsgType type, ByteSpan payload) {
  uint32_t id = ++next_id_;
  if (id == 0) id = ++next_id_;
  // Debug lines name the frame and its size, never its payload (keys,
  // grants and sealed events travel in payloads).
  spdlog::debug("{} -> {} id {} ({} bytes)", peer_, wire::TypeName(type), id, payload.size());
  AEX_RETURN_IF_ERROR(SendRaw(wire::EncodeFrame(type, id, payload)));
  for (;;) {
    AEX_ASSIGN_OR_RETURN(Bytes body, ReadFrameBody());
    AEX_ASSIGN_OR_RETURN(wire::Frame f, wire::ParseFrameBody(body));
    if (f.type != MsgType::kResult || f.request_id != id) continue;  // stale answer
    AEX_ASSIGN_OR_RETURN(wire::ResultMsg r, wire::ResultMsg::Parse(f.payload));
    spdlog::debug("{} <- {} id {} {} ({} bytes)", peer_, wire::TypeName(f.type), id,
                  CodeName(r.code), r.payload.size());
    if (r.code != Code::kOk) return r.ToStatus();
    return Bytes(r.payload.begin(), r.payload.end());
  }
}

static Result<uint32_t> ParseId(const Result<Bytes>& r) {
  if (!r.ok()) return r.status();
  ByteReader reader(*r);
  uint32_t id;
  if (!reader.ReadU32(&id) || !reader.empty()) return Status(Code::kProtocol, "bad id reply");
  return id;
}

static Status IgnorePayload(const Result<Bytes>& r) { return r.status(); }

Result<uint32_t> NodeClient::LoadModule(const std::string& name, uint8_t backend,
                                        const std::string& device, ByteSpan binary,
                                        const std::string& tag, ByteSpan sigstruct) {
  wire::LoadModule m{name, backend, device, binary, tag, sigstruct};
  return ParseId(Call(MsgType::kLoadModule, m.Encode()));
}

Result<wire::ModuleList> NodeClient::ListModules(const std::string& tag) {
  AEX_ASSIGN_OR_RETURN(Bytes reply, Call(MsgType::kListModules, wire::ListModules{tag}.Encode()));
  return wire::ModuleList::Parse(reply);
}

Status NodeClient::Unload(uint32_t module_id) {
  return IgnorePayload(Call(MsgType::kUnloadModule, wire::ModuleOp{module_id, 0, {}}.Encode()));
}

Result<Bytes> NodeClient::Attest(uint32_t module_id, ByteSpan challenge) {
  return Call(MsgType::kAttest, wire::ModuleOp{module_id, 0, challenge}.Encode());
}

Status NodeClient::SetKey(uint32_t module_id, ByteSpan grant) {
  return IgnorePayload(Call(MsgType::kSetKey, wire::ModuleOp{module_id, 0, grant}.Encode()));
}

Result<Bytes> NodeClient::CallEntry(uint32_t module_id, uint32_t entry, ByteSpan arg) {
  return Call(MsgType::kCallEntry, wire::ModuleOp{module_id, entry, arg}.Encode());
}

Status NodeClient::AddRoute(const wire::Connect& route) {
  return IgnorePayload(Call(MsgType::kConnect, route.Encode()));
}

Result<uint32_t> NodeClient::RegisterPeriodic(uint32_t module_id, uint32_t entry,
                                              uint32_t period_ms) {
  wire::RegisterPeriodic r{module_id, entry, period_ms};
  return ParseId(Call(MsgType::kRegisterPeriodic, r.Encode()));
}

Status NodeClient::Disable(uint32_t module_id, ByteSpan sealed_nonce) {
  return IgnorePayload(
      Call(MsgType::kDisable, wire::ModuleOp{module_id, 0, sealed_nonce}.Encode()));
}

Result<std::string> NodeClient::NodeStatus() {
  AEX_ASSIGN_OR_RETURN(Bytes json, Call(MsgType::kStatus, {}));
  return std::string(json.begin(), json.end());
}

Status NodeClient::Reset() { return IgnorePayload(Call(MsgType::kReset, {})); }

Status NodeClient::SendEvent(uint32_t module_id, uint32_t conn_id, ByteSpan sealed) {
  // With a request id the node confirms that it handed the event to a
  // running module (whether the module accepts it is the module's business).
  return IgnorePayload(
      Call(MsgType::kEvent, wire::ModuleOp{module_id, conn_id, sealed}.Encode()));
}

Result<Bytes> NodeClient::Request(uint32_t module_id, uint32_t conn_id, ByteSpan sealed) {
  return Call(MsgType::kRequest, wire::ModuleOp{module_id, conn_id, sealed}.Encode());
}

}  // namespace aex::deploy
