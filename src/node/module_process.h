// ModuleProcess: one loaded module, running as its own process (the enclave
// boundary) and reached only through its channel (module_ring.h: rings in
// shared memory, a socketpair for doorbell and liveness).
//
// The node sends it management messages and events and matches the module's
// replies to pending calls; a call that gets no reply within the timeout
// marks the module hung and kills it, so one bad module cannot stall others.

#ifndef AEX_NODE_MODULE_PROCESS_H_
#define AEX_NODE_MODULE_PROCESS_H_

#include <sys/types.h>

#include <asio.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "node/frame_stream.h"
#include "node/module_ring.h"
#include "node/latency_histogram.h"
#include "wire/messages.h"

namespace aex::node {

using ModuleStream = FrameStream<ModuleRing>;
// The node's sends to a module are written into its ring in the caller, not
// through a posted completion (one loop pass less per event).
static_assert(internal::kWritesDirectly<ModuleRing>);

// A module's answer: a Result frame's code, message and payload (owned).
struct ModuleReply {
  Status status;
  Bytes payload;
};
using ReplyCallback = std::function<void(ModuleReply)>;

enum class ModuleState { kRunning, kExited, kHung, kUnloaded };
const char* ModuleStateName(ModuleState s);

struct ModuleSpawn {
  uint32_t id = 0;
  std::string name;
  uint8_t backend = 0;
  std::string device;
  std::string binary_path;
  std::string platform_socket;  // aex-platform's socket (not a secret)
  bool sgx_debug = false;
  Bytes sgx_sigstruct{};  // wire::LoadModule::sigstruct, passed on unchecked
  int device_fd = -1;  // the claimed device, placed at fd 4 in the module (devices.h)
  std::string load_tag{};  // the deployment that loaded it (wire::LoadModule::tag)
  int log_fd = -1;  // the module's stdout and stderr; -1: the node's own
};

class ModuleProcess : public std::enable_shared_from_this<ModuleProcess> {
 public:
  // Frames the module sends on its own (events, requests) go to on_frame.
  using FrameHandler = std::function<void(ModuleProcess&, const wire::Frame&)>;

  static Result<std::shared_ptr<ModuleProcess>> Spawn(asio::io_context& io,
                                                       const ModuleSpawn& spec,
                                                       std::chrono::milliseconds call_timeout,
                                                       FrameHandler on_frame);

  // Sends a message that expects a Result; `done` runs exactly once.
  void Call(wire::MsgType type, uint32_t aux, ByteSpan data, ReplyCallback done);
  // Sends a one-way message. Returns false if the module cannot take it.
  bool Post(wire::MsgType type, uint32_t aux, ByteSpan data);
  // Answers a request the module issued.
  void Reply(uint32_t request_id, const Status& status, ByteSpan payload);

  void Kill(ModuleState why);
  // Called by the node's SIGCHLD reaper.
  void OnExit(int wait_status);

  const ModuleSpawn& spec() const { return spec_; }
  uint32_t id() const { return spec_.id; }
  pid_t pid() const { return pid_; }
  ModuleState state() const { return state_; }
  std::string exit_reason() const { return exit_reason_; }
  size_t pending_calls() const { return pending_.size(); }
  // Set when the module answered an ATTEST successfully (the node relays the
  // evidence and cannot check it: this only tells a module that was never
  // attested, which the node unloads after its attestation deadline).
  bool attested() const { return attested_; }
  void MarkAttested() { attested_ = true; }
  // Time from sending a call into the module's code (an entry call, periodic
  // or not, or a request for a handler) to its Result: the module's own
  // time, its channel and its runtime's open/seal (aex_module_call_seconds).
  const LatencyHistogram& call_latency() const { return call_latency_; }
  // Posts and calls refused because the module's queue was full (it does
  // not take what the node sends).
  uint64_t refused() const { return refused_; }
  // Bytes the node holds for the module, not yet in its ring.
  size_t queued_bytes() const { return stream_->queued_bytes(); }
  // Flow control: while paused the node takes nothing from the module (its
  // writes wait on its full ring); frames already read wait too.
  void set_paused(bool paused) { stream_->set_paused(paused); }
  // Drops the node's page-table entries of the module's rings (idle trim).
  void ReleaseRingPages();

  ModuleProcess(asio::io_context& io, ModuleSpawn spec, pid_t pid,
                std::chrono::milliseconds timeout);

 private:
  struct Pending {
    ReplyCallback done;
    std::unique_ptr<asio::steady_timer> timer;
    std::chrono::steady_clock::time_point sent;
    bool timed = false;  // counts in call_latency_
  };
  void OnFrame(const wire::Frame& frame);
  // The channel ended; a failure (`why`) means the module broke it.
  void OnClosed(const Status& why);
  void FailAll(const Status& why);

  asio::io_context& io_;
  ModuleSpawn spec_;
  pid_t pid_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<ModuleStream> stream_;
  FrameHandler on_frame_;
  std::map<uint32_t, Pending> pending_;
  uint32_t next_id_ = 0;
  ModuleState state_ = ModuleState::kRunning;
  bool closed_first_ = false;  // channel closed before the exit was reaped
  bool attested_ = false;
  std::string exit_reason_;
  LatencyHistogram call_latency_;
  uint64_t refused_ = 0;
};

}  // namespace aex::node

#endif  // AEX_NODE_MODULE_PROCESS_H_
