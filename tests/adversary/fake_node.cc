#include "fake_node.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "wire/management.h"

extern char** environ;

namespace aex::adversary {

using Clock = std::chrono::steady_clock;
constexpr auto kReplyTimeout = std::chrono::seconds(30);

Result<ModuleProcess> StartModule(const std::string& binary, uint32_t module_id,
                                  const std::string& platform_socket, ByteSpan sgx_sigstruct) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return Status(Code::kIo, "socketpair failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 3);  // the module channel, as aex-node
  std::string id = std::to_string(module_id);
  std::vector<char*> argv = {const_cast<char*>(binary.c_str()), const_cast<char*>("--aex-fd"),
                             const_cast<char*>("3"), const_cast<char*>("--aex-module-id"),
                             id.data(), const_cast<char*>("--aex-platform-socket"),
                             const_cast<char*>(platform_socket.c_str())};
  std::string flag = "--aex-sgx-sigstruct", hex = HexEncode(sgx_sigstruct);
  if (!sgx_sigstruct.empty()) argv.insert(argv.end(), {flag.data(), hex.data()});
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return Status(Code::kIo, "cannot start " + binary + ": " + strerror(rc));
  }
  return ModuleProcess{pid, fds[0]};
}

void StopModule(ModuleProcess* m) {
  if (m->fd >= 0) close(m->fd);
  if (m->pid > 0) {
    kill(m->pid, SIGKILL);
    waitpid(m->pid, nullptr, 0);
  }
  *m = ModuleProcess{};
}

Status FakeNode::Restart() {
  StopModule(&proc_);
  in_.clear();
  AEX_ASSIGN_OR_RETURN(proc_, StartModule(binary_, id_, socket_, sigstruct_));
  return Status::Ok();
}

Status FakeNode::Send(wire::MsgType type, uint32_t request_id, uint32_t aux, ByteSpan data) {
  Bytes frame = wire::EncodeFrame(type, request_id, wire::ModuleOp{id_, aux, data}.Encode());
  size_t off = 0;
  while (off < frame.size()) {
    ssize_t n = write(proc_.fd, frame.data() + off, frame.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(Code::kIo, "module channel closed");
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status FakeNode::ReadFrameBody(Bytes* body, Clock::time_point deadline) {
  for (;;) {
    uint32_t len = 0;
    if (in_.size() >= wire::kFrameHeaderSize &&
        wire::ParseFrameLength(ByteSpan(in_).first(4), &len).ok() &&
        in_.size() >= wire::kFrameHeaderSize + len) {
      body->assign(in_.begin() + 4, in_.begin() + 4 + len);
      in_.erase(in_.begin(), in_.begin() + 4 + len);
      return Status::Ok();
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Status(Code::kTimeout, "no frame from the module");
    pollfd p{proc_.fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    uint8_t buf[65536];
    ssize_t n = read(proc_.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(Code::kUnavailable, "module closed its channel");
    in_.insert(in_.end(), buf, buf + n);
  }
}

Result<Bytes> FakeNode::AwaitResult(uint32_t request_id) {
  const auto deadline = Clock::now() + kReplyTimeout;
  Bytes body;
  for (;;) {
    AEX_RETURN_IF_ERROR(ReadFrameBody(&body, deadline));
    auto frame = wire::ParseFrameBody(body);
    // Anything else (an event the module emits) is not for this test.
    if (!frame.ok() || frame->type != wire::MsgType::kResult ||
        frame->request_id != request_id) {
      continue;
    }
    AEX_ASSIGN_OR_RETURN(wire::ResultMsg r, wire::ResultMsg::Parse(frame->payload));
    if (r.code != Code::kOk) return r.ToStatus();
    return Bytes(r.payload.begin(), r.payload.end());
  }
}

Result<Bytes> FakeNode::Call(wire::MsgType type, uint32_t aux, ByteSpan data) {
  recorded_.push_back({type, aux, Bytes(data.begin(), data.end())});
  return Replay(recorded_.back());
}

Status FakeNode::Post(wire::MsgType type, uint32_t aux, ByteSpan data) {
  recorded_.push_back({type, aux, Bytes(data.begin(), data.end())});
  return Replay(recorded_.back()).status();
}

Result<Bytes> FakeNode::Replay(const RecordedFrame& f) {
  if (f.type == wire::MsgType::kEvent) {
    AEX_RETURN_IF_ERROR(Send(f.type, 0, f.aux, f.data));
    return Bytes();
  }
  uint32_t id = ++next_request_;
  AEX_RETURN_IF_ERROR(Send(f.type, id, f.aux, f.data));
  return AwaitResult(id);
}

Result<uint32_t> FakeNode::SendOnly(wire::MsgType type, uint32_t aux, ByteSpan data) {
  uint32_t id = ++next_request_;
  AEX_RETURN_IF_ERROR(Send(type, id, aux, data));
  return id;
}

Status FakeNode::NextFrame(wire::MsgType* type, uint32_t* request_id, Bytes* payload) {
  Bytes body;
  AEX_RETURN_IF_ERROR(ReadFrameBody(&body, Clock::now() + kReplyTimeout));
  AEX_ASSIGN_OR_RETURN(wire::Frame f, wire::ParseFrameBody(body));
  *type = f.type;
  *request_id = f.request_id;
  payload->assign(f.payload.begin(), f.payload.end());
  return Status::Ok();
}

Status FakeNode::Answer(uint32_t request_id, ByteSpan payload) {
  Bytes frame = wire::EncodeFrame(wire::MsgType::kResult, request_id,
                                  wire::EncodeResult(Status::Ok(), payload));
  if (write(proc_.fd, frame.data(), frame.size()) != static_cast<ssize_t>(frame.size())) {
    return Status(Code::kIo, "module channel closed");
  }
  return Status::Ok();
}

Result<wire::ModuleStats> FakeNode::Stats() {
  uint32_t id = ++next_request_;
  AEX_RETURN_IF_ERROR(Send(wire::MsgType::kModuleStats, id, 0, {}));
  AEX_ASSIGN_OR_RETURN(Bytes payload, AwaitResult(id));
  return wire::ModuleStats::Parse(payload);
}

}  // namespace aex::adversary
