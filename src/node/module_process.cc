#include "node/module_process.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include <vector>

extern char** environ;

namespace aex::node {

// The module's doorbell and liveness socket to its node is always this
// descriptor number, and its ring memfd (module_ring.h) this one.
constexpr int kModuleChannelFd = 3;
constexpr int kModuleRingFd = 6;
// A claimed device, when the module has one (devices.h).
constexpr int kModuleDeviceFd = 4;
// Where the binary sits between fork and exec (execveat).
constexpr int kModuleExeFd = 5;
// Bound on bytes queued towards one module before sends are refused.
constexpr size_t kMaxModuleQueue = 64u << 20;

const char* ModuleStateName(ModuleState s) {
  switch (s) {
    case ModuleState::kRunning: return "running";
    case ModuleState::kExited: return "exited";
    case ModuleState::kHung: return "hung";
    case ModuleState::kUnloaded: return "unloaded";
  }
  return "unknown";
}

ModuleProcess::ModuleProcess(asio::io_context& io, ModuleSpawn spec, pid_t pid,
                             std::chrono::milliseconds timeout)
    : io_(io), spec_(std::move(spec)), pid_(pid), timeout_(timeout) {}

namespace {

// Modules run under uids of their own when the node runs as root: base +
// the module's pid, unique among running processes even with several nodes
// on one machine. No passwd entry is needed; the uid owns only its binary.
constexpr uid_t kModuleUidBase = 0x60000000;

// The fixed environment of every module: nothing of the node's (no LD_*,
// no paths to node material). Sanitizer builds pass their runtime options.
std::vector<std::string> ModuleEnvironment() {
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
#ifdef AEX_SANITIZER_BUILD
  for (char** e = environ; *e; ++e) {
    std::string_view v(*e);
    if (v.starts_with("ASAN_OPTIONS=") || v.starts_with("UBSAN_OPTIONS=") ||
        v.starts_with("LSAN_OPTIONS=")) {
      env.emplace_back(v);
    }
  }
#endif
  return env;
}

// The module's command line (runtime/runtime.h): no secret, only where its
// channel, device and platform service are.
std::vector<std::string> ModuleArguments(const ModuleSpawn& spec) {
  std::vector<std::string> args = {spec.binary_path,
                                   "--aex-fd",        std::to_string(kModuleChannelFd),
                                   "--aex-ring",      std::to_string(kModuleRingFd),
                                   "--aex-module-id", std::to_string(spec.id)};
  if (spec.device_fd >= 0) {
    args.insert(args.end(), {"--aex-device-fd", std::to_string(kModuleDeviceFd)});
  }
  if (!spec.platform_socket.empty()) {
    args.insert(args.end(), {"--aex-platform-socket", spec.platform_socket});
  }
  if (spec.sgx_debug) args.insert(args.end(), {"--aex-sgx-debug", "1"});
  if (!spec.sgx_sigstruct.empty()) {
    args.insert(args.end(), {"--aex-sgx-sigstruct", HexEncode(spec.sgx_sigstruct)});
  }
  return args;
}

// A null-terminated argv/envp over `strings` (which must outlive it).
std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The child between fork and exec: only async-signal-safe calls. Points
// stdout and stderr at the module's log (when it has one), places the
// channel at fd 3, its ring at fd 6 (and the device at fd 4), closes every other descriptor
// above stderr, sets no_new_privs, drops to the module's own uid/gid when the
// node is root (handing it its binary), and executes the binary through a
// descriptor the node opened (so the module uid needs no access to the node's
// directories).
[[noreturn]] void ExecModule(int channel, int ring, int device, int exe_fd, int log_fd,
                             bool own_uid, char** argv, char** envp) {
  if (log_fd >= 0 && (dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)) _exit(126);
  int ch = fcntl(channel, F_DUPFD, 10);
  int rg = fcntl(ring, F_DUPFD, 10);
  int dev = device >= 0 ? fcntl(device, F_DUPFD, 10) : -1;
  int exe = fcntl(exe_fd, F_DUPFD_CLOEXEC, 10);
  if (ch < 0 || rg < 0 || exe < 0 || (device >= 0 && dev < 0)) _exit(126);
  if (dup2(ch, kModuleChannelFd) < 0 || dup2(rg, kModuleRingFd) < 0 ||
      (dev >= 0 && dup2(dev, kModuleDeviceFd) < 0)) {
    _exit(126);
  }
  if (dup2(exe, kModuleExeFd) < 0) _exit(126);
  if (fcntl(kModuleExeFd, F_SETFD, FD_CLOEXEC) < 0) _exit(126);
  if (dev < 0) close(kModuleDeviceFd);
  if (syscall(SYS_close_range, kModuleRingFd + 1, ~0u, 0) != 0) _exit(126);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(126);
  if (chdir("/") != 0) _exit(126);
  if (own_uid) {
    const uid_t uid = kModuleUidBase + static_cast<uid_t>(getpid());
    const gid_t gid = static_cast<gid_t>(uid);
    if (fchown(kModuleExeFd, uid, gid) != 0 || fchmod(kModuleExeFd, 0500) != 0 ||
        setgroups(0, nullptr) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) {
      _exit(126);
    }
  }
  syscall(SYS_execveat, kModuleExeFd, "", argv, envp, AT_EMPTY_PATH);
  _exit(127);
}

}  // namespace

Result<std::shared_ptr<ModuleProcess>> ModuleProcess::Spawn(
    asio::io_context& io, const ModuleSpawn& spec, std::chrono::milliseconds call_timeout,
    FrameHandler on_frame) {
  const bool own_uid = geteuid() == 0;
  int exe_fd = open(spec.binary_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (exe_fd < 0) return Status(Code::kIo, "cannot open module binary " + spec.binary_path);
  auto ring = CreateRingMemory();
  int fds[2];
  if (!ring.ok() || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    close(exe_fd);
    if (ring.ok()) {
      close(ring->fd);
      munmap(ring->shared, wire::ring::kBytes);
    }
    return ring.ok() ? Status(Code::kIo, "socketpair failed") : ring.status();
  }
  // Built before fork: the child may only make async-signal-safe calls.
  std::vector<std::string> args = ModuleArguments(spec), env = ModuleEnvironment();
  std::vector<char*> argv = Pointers(args), envp = Pointers(env);
  pid_t pid = fork();
  if (pid == 0) {
    ExecModule(fds[1], ring->fd, spec.device_fd, exe_fd, spec.log_fd, own_uid, argv.data(),
               envp.data());
  }
  const int fork_errno = errno;
  close(fds[1]);
  close(exe_fd);
  close(ring->fd);  // the module has it; the node keeps its mapping
  if (pid < 0) {
    close(fds[0]);
    munmap(ring->shared, wire::ring::kBytes);
    return Status(Code::kIo, "cannot start module: " + std::string(strerror(fork_errno)));
  }
  auto proc = std::make_shared<ModuleProcess>(io, spec, pid, call_timeout);
  proc->on_frame_ = std::move(on_frame);
  asio::local::stream_protocol::socket sock(io);
  sock.assign(asio::local::stream_protocol(), fds[0]);
  proc->stream_ = std::make_shared<ModuleStream>(
      kMaxModuleQueue, std::in_place, std::move(sock), ring->shared);
  std::weak_ptr<ModuleProcess> weak = proc;
  proc->stream_->Start(
      [weak](const wire::Frame& f) {
        if (auto p = weak.lock()) p->OnFrame(f);
      },
      [weak](const Status& why) {
        if (auto p = weak.lock()) p->OnClosed(why);
      });
  return proc;
}

void ModuleProcess::Call(wire::MsgType type, uint32_t aux, ByteSpan data, ReplyCallback done) {
  if (state_ != ModuleState::kRunning || !stream_->is_open()) {
    return done({Status(Code::kUnavailable, "module is " + std::string(ModuleStateName(state_)) +
                                                (exit_reason_.empty() ? "" : ": " + exit_reason_)),
                 {}});
  }
  uint32_t id = ++next_id_;
  if (id == 0) id = ++next_id_;
  if (!stream_->SendOp(type, id, wire::ModuleOp{spec_.id, aux, data})) {
    ++refused_;
    return done({Status(Code::kResourceExhausted, "module queue full"), {}});
  }
  Pending p{std::move(done), std::make_unique<asio::steady_timer>(io_, timeout_),
            std::chrono::steady_clock::now(),
            type == wire::MsgType::kCallEntry || type == wire::MsgType::kRequest};
  std::weak_ptr<ModuleProcess> weak = shared_from_this();
  p.timer->async_wait([weak, id](const asio::error_code& ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self || !self->pending_.count(id)) return;
    // No answer in time: the module is stuck in app code. Isolate it.
    self->Kill(ModuleState::kHung);
  });
  pending_.emplace(id, std::move(p));
}

bool ModuleProcess::Post(wire::MsgType type, uint32_t aux, ByteSpan data) {
  if (state_ != ModuleState::kRunning) return false;
  if (stream_->SendOp(type, 0, wire::ModuleOp{spec_.id, aux, data})) return true;
  if (stream_->is_open()) ++refused_;  // its queue is full
  return false;
}

void ModuleProcess::Reply(uint32_t request_id, const Status& status, ByteSpan payload) {
  if (state_ != ModuleState::kRunning) return;
  stream_->Send(wire::MsgType::kResult, request_id, wire::EncodeResult(status, payload));
}

void ModuleProcess::OnFrame(const wire::Frame& frame) {
  if (frame.type != wire::MsgType::kResult) return on_frame_(*this, frame);
  auto it = pending_.find(frame.request_id);
  if (it == pending_.end()) return;  // late or bogus reply: ignore
  ReplyCallback done = std::move(it->second.done);
  if (it->second.timed) call_latency_.Observe(std::chrono::steady_clock::now() - it->second.sent);
  pending_.erase(it);
  auto result = wire::ResultMsg::Parse(frame.payload);
  if (!result.ok()) return done({Status(Code::kProtocol, "module sent a malformed result"), {}});
  done({result->ToStatus(), Bytes(result->payload.begin(), result->payload.end())});
}

void ModuleProcess::FailAll(const Status& why) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) p.done({why, {}});
}

void ModuleProcess::OnClosed(const Status& why) {
  if (state_ == ModuleState::kRunning) {
    state_ = ModuleState::kExited;
    const std::string& corrupt = stream_->socket().corruption();
    if (!why.ok() && (!corrupt.empty() || !stream_->socket().module_gone())) {
      // It broke its channel (a corrupt ring, a frame over the limit): kill
      // it, and this reason stays (the wait status would only say SIGKILL).
      exit_reason_ = (corrupt.empty() ? why.message() : corrupt) + "; killed";
      if (pid_ > 0) kill(pid_, SIGKILL);
    } else {
      closed_first_ = true;
      if (exit_reason_.empty()) exit_reason_ = "module closed its channel";
    }
  }
  FailAll(Status(Code::kUnavailable, "module " + spec_.name + " is " +
                                         ModuleStateName(state_)));
}

void ModuleProcess::Kill(ModuleState why) {
  if (state_ == ModuleState::kRunning) {
    state_ = why;
    if (why == ModuleState::kHung) exit_reason_ = "no reply within the call timeout; killed";
  }
  if (pid_ > 0) kill(pid_, SIGKILL);
  stream_->Close();
}

void ModuleProcess::ReleaseRingPages() { stream_->socket().ReleasePages(); }

void ModuleProcess::OnExit(int wait_status) {
  pid_ = -1;
  // The channel usually closes before the exit is reaped: the wait status
  // is the better reason then.
  if (state_ == ModuleState::kRunning ||
      (state_ == ModuleState::kExited && closed_first_)) {
    state_ = ModuleState::kExited;
    if (WIFSIGNALED(wait_status)) {
      exit_reason_ = "killed by signal " + std::to_string(WTERMSIG(wait_status));
    } else {
      exit_reason_ = "exited with status " + std::to_string(WEXITSTATUS(wait_status));
    }
  }
  stream_->Close();
}

}  // namespace aex::node
