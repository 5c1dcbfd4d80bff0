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
  auto channel = std::make_unique<testing_ring::RingNode>();
  AEX_RETURN_IF_ERROR(channel->Create());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The module channel, as aex-node places it.
  posix_spawn_file_actions_adddup2(&actions, channel->ModuleFds().first, 3);
  posix_spawn_file_actions_adddup2(&actions, channel->ModuleFds().second, 6);
  std::vector<std::string> args = {binary};
  for (const std::string& a : testing_ring::RingNode::ModuleArgs()) args.push_back(a);
  args.insert(args.end(), {"--aex-module-id", std::to_string(module_id), "--aex-platform-socket",
                           platform_socket});
  if (!sgx_sigstruct.empty()) {
    args.insert(args.end(), {"--aex-sgx-sigstruct", HexEncode(sgx_sigstruct)});
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  channel->CloseModuleEnds();
  if (rc != 0) return Status(Code::kIo, "cannot start " + binary + ": " + strerror(rc));
  return ModuleProcess{pid, std::move(channel)};
}

void StopModule(ModuleProcess* m) {
  m->channel.reset();
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
  return proc_.channel->Write(frame, Clock::now() + kReplyTimeout);
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
    AEX_RETURN_IF_ERROR(proc_.channel->Read(&in_, deadline));
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
  return proc_.channel->Write(frame, Clock::now() + kReplyTimeout);
}

Result<wire::ModuleStats> FakeNode::Stats() {
  uint32_t id = ++next_request_;
  AEX_RETURN_IF_ERROR(Send(wire::MsgType::kModuleStats, id, 0, {}));
  AEX_ASSIGN_OR_RETURN(Bytes payload, AwaitResult(id));
  return wire::ModuleStats::Parse(payload);
}

}  // namespace aex::adversary
