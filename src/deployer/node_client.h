// NodeClient: the deployer's blocking connection to one aex-node, speaking
// docs/protocol.md. One outstanding call at a time per client; the deployer
// opens one client per concurrent task.

#ifndef AEX_DEPLOYER_NODE_CLIENT_H_
#define AEX_DEPLOYER_NODE_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>

#include "aex/bytes.h"
#include "aex/status.h"
#include "wire/messages.h"

namespace aex::deploy {

class NodeClient {
 public:
  // Connects, sends HELLO and checks the version. Fails after `timeout`.
  static Result<std::unique_ptr<NodeClient>> Connect(
      const std::string& host, uint16_t port,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  ~NodeClient();
  NodeClient(const NodeClient&) = delete;
  NodeClient& operator=(const NodeClient&) = delete;

  Result<uint32_t> LoadModule(const std::string& name, uint8_t backend, const std::string& device,
                              ByteSpan binary);
  Status Unload(uint32_t module_id);
  Result<Bytes> Attest(uint32_t module_id, ByteSpan challenge);
  Status SetKey(uint32_t module_id, ByteSpan grant);
  Result<Bytes> CallEntry(uint32_t module_id, uint32_t entry, ByteSpan arg);
  Status AddRoute(const wire::Connect& route);
  Result<uint32_t> RegisterPeriodic(uint32_t module_id, uint32_t entry, uint32_t period_ms);
  Status Disable(uint32_t module_id, ByteSpan sealed_nonce);
  Result<std::string> NodeStatus();
  Status Reset();
  // A sealed event for a module's input (direct connection). Fails if the
  // node could not hand it to a running module.
  Status SendEvent(uint32_t module_id, uint32_t conn_id, ByteSpan sealed);
  // A sealed request for a module's handler; returns the sealed response.
  Result<Bytes> Request(uint32_t module_id, uint32_t conn_id, ByteSpan sealed);

  // Sends one frame and waits for its Result. Payload of the Result is returned.
  Result<Bytes> Call(wire::MsgType type, ByteSpan payload);
  // Writes raw bytes (tests use it to send hostile input).
  Status SendRaw(ByteSpan bytes);
  // Reads one frame body within the timeout (tests).
  Result<Bytes> ReadFrameBody();
  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }

 private:
  NodeClient(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
  Status WaitReadable();

  int fd_;
  std::chrono::milliseconds timeout_;
  uint32_t next_id_ = 0;
  Bytes in_;
};

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_NODE_CLIENT_H_
