// A hostile node for tests: starts module processes the way aex-node does
// and speaks the node-module channel (src/node/module_process.cc,
// docs/protocol.md) itself, so a test can record every frame it carries and
// replay any of them later, to the same instance or to a restarted one.
//
// Threading: one test thread. Every read is bounded by a deadline; nothing
// sleeps to synchronise (a module handles its frames in order, so a reply
// to a later call means every earlier one-way frame was handled).

#ifndef AEX_TESTS_ADVERSARY_FAKE_NODE_H_
#define AEX_TESTS_ADVERSARY_FAKE_NODE_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "aex/bytes.h"
#include "aex/status.h"
#include "wire/frame.h"
#include "wire/module_messages.h"
#include "../ring_node.h"

namespace aex::adversary {

// A running module process and the node's end of its channel.
struct ModuleProcess {
  pid_t pid = -1;
  std::unique_ptr<testing_ring::RingNode> channel;  // the node's end
};

// THE one place that knows how a module is started and how it obtains its
// platform keys (the platform service's socket on its command line, as
// aex-node passes it). A change of that mechanism is a change here only.
// sgx_sigstruct: what aex-node passes from LOAD_MODULE (none: empty).
Result<ModuleProcess> StartModule(const std::string& binary, uint32_t module_id,
                                  const std::string& platform_socket,
                                  ByteSpan sgx_sigstruct = {});
// SIGKILL and reap; closes the channel.
void StopModule(ModuleProcess* m);

// One frame the node sent to a module, kept to replay it.
struct RecordedFrame {
  wire::MsgType type;
  uint32_t aux;
  Bytes data;
};

class FakeNode {
 public:
  FakeNode(std::string binary, uint32_t module_id, std::string platform_socket,
           Bytes sgx_sigstruct = {})
      : binary_(std::move(binary)),
        id_(module_id),
        socket_(std::move(platform_socket)),
        sigstruct_(std::move(sgx_sigstruct)) {}
  ~FakeNode() { StopModule(&proc_); }
  FakeNode(const FakeNode&) = delete;
  FakeNode& operator=(const FakeNode&) = delete;

  // (Re)starts the module with the same id and platform key: a restart the
  // deployer did not ask for.
  Status Restart();
  // A call that expects a result (recorded); the result's payload.
  Result<Bytes> Call(wire::MsgType type, uint32_t aux, ByteSpan data);
  // A one-way frame (events; recorded).
  Status Post(wire::MsgType type, uint32_t aux, ByteSpan data);
  // Sends a recorded frame again, exactly; the result for calls (events: Ok).
  Result<Bytes> Replay(const RecordedFrame& f);
  Result<wire::ModuleStats> Stats();

  // Lower level, for tests that hold a module mid-call: a frame sent without
  // waiting (its request id), the next frame the module sends, and a result
  // frame answering the module's own request.
  Result<uint32_t> SendOnly(wire::MsgType type, uint32_t aux, ByteSpan data);
  Status NextFrame(wire::MsgType* type, uint32_t* request_id, Bytes* payload);
  Status Answer(uint32_t request_id, ByteSpan payload);
  Result<Bytes> AwaitResultOf(uint32_t request_id) { return AwaitResult(request_id); }

  const std::vector<RecordedFrame>& recorded() const { return recorded_; }
  uint32_t module_id() const { return id_; }

 private:
  Status Send(wire::MsgType type, uint32_t request_id, uint32_t aux, ByteSpan data);
  Result<Bytes> AwaitResult(uint32_t request_id);
  Status ReadFrameBody(Bytes* body, std::chrono::steady_clock::time_point deadline);

  std::string binary_;
  uint32_t id_;
  std::string socket_;
  Bytes sigstruct_;
  ModuleProcess proc_;
  Bytes in_;
  uint32_t next_request_ = 0;
  std::vector<RecordedFrame> recorded_;
};

}  // namespace aex::adversary

#endif  // AEX_TESTS_ADVERSARY_FAKE_NODE_H_
