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

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace aex::deploy {

class NodeClient {
 public:
  // Connects, sends HELLO and checks the version. Fails after `timeout`.
  // With `tls` (a context made by tls::NewContext), the connection is TLS
  // 1.3: the node's certificate must chain to the context's CA, name `host`
  // and carry the node role, and we present the context's certificate. A
  // node that refuses our certificate closes the connection (in TLS 1.3 the
  // client learns it only on its first read: HELLO then fails).
  // SIGPIPE is ignored process-wide the first time TLS is used, as OpenSSL
  // writes to the socket with write(2).
  static Result<std::unique_ptr<NodeClient>> Connect(
      const std::string& host, uint16_t port,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000),
      SSL_CTX* tls = nullptr);
  ~NodeClient();
  NodeClient(const NodeClient&) = delete;
  NodeClient& operator=(const NodeClient&) = delete;

  // tag: the deployment's load tag (wire::LoadModule::tag), "" for none;
  // sigstruct: sgx, the enclave's SIGSTRUCT (attest::SignSigstruct).
  Result<uint32_t> LoadModule(const std::string& name, uint8_t backend, const std::string& device,
                              ByteSpan binary, const std::string& tag = "",
                              ByteSpan sigstruct = {});
  // The modules the node runs with this load tag (every module for "").
  Result<wire::ModuleList> ListModules(const std::string& tag);
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
  // Writes raw bytes (tests use it to send hostile input), through TLS if
  // the connection uses it.
  Status SendRaw(ByteSpan bytes);
  // Reads one frame body within the timeout (tests).
  Result<Bytes> ReadFrameBody();
  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }
  // Who answered HELLO (name, deployment id, pid; empty for an older node).
  const wire::HelloAck& hello_ack() const { return hello_ack_; }
  // With TLS, the common name of the node's verified certificate (the node
  // name it was issued for); "" without TLS.
  const std::string& peer_cert_name() const { return peer_cert_name_; }

 private:
  NodeClient(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
  // Waits (bounded by timeout_) until the socket has `events` (POLLIN/POLLOUT).
  Status Wait(short events);
  Status StartTls(SSL_CTX* ctx, const std::string& host);
  // Runs one OpenSSL operation on the non-blocking socket, waiting while it
  // wants to read or write; returns its positive result.
  template <typename Op>
  Result<int> TlsIo(Op op);
  // Reads what is available (at most `cap` bytes); never 0 bytes on success.
  Result<size_t> ReadSome(uint8_t* buf, size_t cap);

  int fd_;
  SSL* ssl_ = nullptr;  // null: plain TCP
  std::chrono::milliseconds timeout_;
  uint32_t next_id_ = 0;
  Bytes in_;
  std::string peer_;  // host:port, for debug logging (`aex --debug`)
  wire::HelloAck hello_ack_;
  std::string peer_cert_name_;
};

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_NODE_CLIENT_H_
