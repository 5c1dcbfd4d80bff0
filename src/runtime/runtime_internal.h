// The Runtime class behind the module C API (aex/module.h), shared by the
// runtime's objects. runtime.cc holds what every module links: the loop,
// attestation, key grants, disable, state transfer, events and outputs.
// Features a module may not use sit in objects of their own, which the linker
// pulls out of the aex_runtime archive only when the module references their
// C entry point: request.cc (aex_issue_request, generated for SM_REQUEST),
// watch.cc (aex_watch_fd; SM_DEVICE_EVENT references it too) and log.cc
// (aex_log). Single-threaded: everything runs on the module's one thread,
// inside Runtime::Run.

#ifndef AEX_RUNTIME_RUNTIME_INTERNAL_H_
#define AEX_RUNTIME_RUNTIME_INTERNAL_H_

#include <chrono>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "platform/platform.h"
#include "runtime/channel.h"
#include "runtime/fd_channel.h"
#include "runtime/runtime.h"

namespace aex::runtime {

struct Connection {
  channel::Role role;
  uint16_t io_index;
  channel::Cipher cipher;
  crypto::SecretKey key, prev_key{};  // kept for a state export (aex update)
  std::unique_ptr<crypto::Aead> aead;
  std::unique_ptr<crypto::Aead> prev{};  // key before a re-key, until the new one is seen
  uint64_t sent = 0;           // last counter sealed by this end
  uint64_t last_accepted = 0;  // last counter accepted by this end
};

class Runtime {
 public:
  Runtime(const aex_module_desc* desc, std::unique_ptr<tee::Platform> platform, int fd,
          uint8_t* shared, uint32_t module_id)
      : desc_(desc),
        platform_(std::move(platform)),
        channel_(fd, shared),
        module_id_(module_id),
        output_conns_(desc->n_outputs),
        request_conn_(desc->n_requests, 0) {}

  int Run();
  int EmitOutput(uint16_t index, ByteSpan data);
  // request.cc
  int IssueRequest(uint16_t index, ByteSpan data, uint8_t* resp, size_t cap, size_t* resp_len);
  // watch.cc
  int WatchFd(int fd, aex_fd_callback cb, void* ctx);
  void UnwatchFd(int fd);
  uint32_t module_id() const { return module_id_; }
  const char* name() const { return desc_->name; }

 private:
  void Dispatch(const Bytes& body);
  // The next frame: one deferred while awaiting a response (take_deferred_),
  // else one from the node channel, serving watched fds meanwhile
  // (serve_watches_). Returns false when the node closed the channel.
  bool NextFrame(Bytes* body);
  bool TakeDeferred(Bytes* body);  // request.cc
  void ServeWatches();             // watch.cc
  void Reply(uint32_t request_id, const Status& status, ByteSpan payload = {});
  Status Attest(ByteSpan challenge, Bytes* evidence);
  Result<std::unique_ptr<crypto::Aead>> ManagementAead();
  // Consumes the nonce of an opened management message if it is fresh;
  // counts every rejection (`opened` failed or the nonce is stale).
  Status ConsumeNonce(const Status& opened, uint64_t nonce);
  Result<channel::KeyGrant> OpenGrant(ByteSpan blob);
  Status SetKey(ByteSpan blob);
  Status Disable(ByteSpan blob);
  void DropAll();
  Result<channel::KeyGrant> TransferGrant(ByteSpan blob, uint16_t purpose);
  Status ExportState(ByteSpan blob, Bytes* sealed);
  Status ImportState(ByteSpan blob);
  Status ImportConnections(ByteSpan plain);
  uint16_t Limit(channel::Role role) const;
  // Installs `c` under `conn_id`; a key grant names no such end or a cipher
  // this module lacks: refused.
  Status Bind(uint32_t conn_id, Connection c);
  const char* IoName(channel::Role role, uint16_t index) const;
  Status CallEntry(uint32_t index, ByteSpan arg, size_t* out_len);
  void HandleEvent(uint32_t conn_id, ByteSpan sealed);
  Status HandleRequest(uint32_t conn_id, ByteSpan sealed, Bytes* sealed_response);
  // Authenticates an incoming event on `conn_id` expected in `role` and
  // enforces strictly increasing counters. Counts every rejection.
  Status Accept(uint32_t conn_id, channel::Role role, ByteSpan sealed, Connection** conn,
                uint64_t* counter);
  // Seals `data` under the next forward counter of `conn` (conn.sent after
  // the call, spent even on failure) and hands it to the node as a `type`
  // frame. kUnavailable: the node is gone.
  Status SealAndSend(uint32_t conn_id, Connection& conn, wire::MsgType type, uint32_t request_id,
                     ByteSpan data);
  uint8_t* Scratch();
  void Count(int field) { ++stats_.values[field]; }
  // The system clock in ns; with `start` != 0, also records a step that began
  // then: stats_[at] = start, stats_[total] += its duration (aex trace).
  uint64_t Lap(int total, int at, uint64_t start) {
    uint64_t t = std::chrono::system_clock::now().time_since_epoch() / std::chrono::nanoseconds(1);
    return start == 0 ? t : (stats_.values[total] += t - (stats_.values[at] = start), t);
  }

  const aex_module_desc* desc_;
  std::unique_ptr<tee::Platform> platform_;
  FdChannel channel_;
  uint32_t module_id_;
  std::unordered_map<uint32_t, Connection> conns_;
  std::vector<std::vector<uint32_t>> output_conns_;  // per output index
  std::vector<uint32_t> request_conn_;               // per request index, 0 = none
  std::deque<Bytes> deferred_;  // frames that arrived while awaiting a response
  uint64_t last_mgmt_nonce_ = 0;
  uint32_t next_request_id_ = 0;
  bool disabled_ = false;
  bool accepted_prev_ = false;  // the last Accept opened with the previous key
  wire::ModuleStats stats_;
  Bytes plain_, sealed_;
  std::unique_ptr<uint8_t[]> scratch_;  // AEX_MAX_PAYLOAD bytes for app responses
  struct Watch {
    int fd;
    aex_fd_callback cb;
    void* ctx;
  };
  std::vector<Watch> watches_;
  // Set by the first IssueRequest and WatchFd, so that only a module that
  // issues requests or watches fds links that code.
  bool (Runtime::*take_deferred_)(Bytes*) = nullptr;
  void (Runtime::*serve_watches_)() = nullptr;
};

// The module's one Runtime (ModuleMain), for the C API.
extern Runtime* g_runtime;

}  // namespace aex::runtime

#endif  // AEX_RUNTIME_RUNTIME_INTERNAL_H_
