#include "node/module_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <vector>

extern char** environ;

namespace aex::node {

// The module's channel to its node is always this descriptor number.
constexpr int kModuleChannelFd = 3;
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

Result<std::shared_ptr<ModuleProcess>> ModuleProcess::Spawn(
    asio::io_context& io, const ModuleSpawn& spec, std::chrono::milliseconds call_timeout,
    FrameHandler on_frame) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return Status(Code::kIo, "socketpair failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 onto a fixed number also clears close-on-exec for the child only.
  posix_spawn_file_actions_adddup2(&actions, fds[1], kModuleChannelFd);
  // The device (if any) goes to this module only; the node's copy is
  // close-on-exec, so no other module ever inherits it.
  if (spec.device_fd >= 0) posix_spawn_file_actions_adddup2(&actions, spec.device_fd, 4);
  std::string fd_arg = std::to_string(kModuleChannelFd), id_arg = std::to_string(spec.id);
  std::vector<char*> argv = {const_cast<char*>(spec.binary_path.c_str()),
                             const_cast<char*>("--aex-fd"), fd_arg.data(),
                             const_cast<char*>("--aex-module-id"), id_arg.data()};
  if (spec.device_fd >= 0) {
    argv.push_back(const_cast<char*>("--aex-device-fd"));
    argv.push_back(const_cast<char*>("4"));
  }
  if (!spec.platform_key_path.empty()) {
    argv.push_back(const_cast<char*>("--aex-platform-key"));
    argv.push_back(const_cast<char*>(spec.platform_key_path.c_str()));
  }
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, spec.binary_path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return Status(Code::kIo, "cannot start module: " + std::string(strerror(rc)));
  }
  auto proc = std::make_shared<ModuleProcess>(io, spec, pid, call_timeout);
  proc->on_frame_ = std::move(on_frame);
  asio::local::stream_protocol::socket sock(io);
  sock.assign(asio::local::stream_protocol(), fds[0]);
  proc->stream_ = std::make_shared<UnixStream>(std::move(sock), kMaxModuleQueue);
  std::weak_ptr<ModuleProcess> weak = proc;
  proc->stream_->Start(
      [weak](const wire::Frame& f) {
        if (auto p = weak.lock()) p->OnFrame(f);
      },
      [weak](const Status&) {
        if (auto p = weak.lock()) p->OnClosed();
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
    return done({Status(Code::kResourceExhausted, "module queue full"), {}});
  }
  Pending p{std::move(done), std::make_unique<asio::steady_timer>(io_, timeout_)};
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
  return stream_->SendOp(type, 0, wire::ModuleOp{spec_.id, aux, data});
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

void ModuleProcess::OnClosed() {
  if (state_ == ModuleState::kRunning) {
    state_ = ModuleState::kExited;
    closed_first_ = true;
    if (exit_reason_.empty()) exit_reason_ = "module closed its channel";
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
