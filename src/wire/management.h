// Management and peering messages between deployer, nodes and peers. Modules
// never parse these, so they stay out of the trusted computing base.

#ifndef AEX_WIRE_MANAGEMENT_H_
#define AEX_WIRE_MANAGEMENT_H_

#include <string>
#include <vector>

#include "wire/frame.h"
#include "wire/module_messages.h"

namespace aex::wire {

constexpr uint16_t kProtocolVersion = 1;
constexpr uint32_t kMagic = 0x41455831;  // "AEX1"

// Node and deployer only (wire_node.cc): a message type's name, and a whole
// frame as a new buffer.
const char* TypeName(MsgType type);
Bytes EncodeFrame(MsgType type, uint32_t request_id, ByteSpan payload);

// Who opens a connection: the deployer (client) or a peer node.
enum class PeerRole : uint8_t { kClient = 0, kNode = 1 };

struct Hello {
  uint16_t min_version = kProtocolVersion;
  uint16_t max_version = kProtocolVersion;
  PeerRole role = PeerRole::kClient;
  Bytes Encode() const;
  static Result<Hello> Parse(ByteSpan p);
};

// Longest node name and deployment id a HELLO_ACK carries.
constexpr size_t kMaxNodeIdentity = 64;

// The node's answer to HELLO: the chosen version, then who answers (so that
// the deployer can tell its node from another one on the same port,
// docs/protocol.md section 3). A version-only answer (2 bytes, older nodes)
// parses with an empty identity and pid 0.
struct HelloAck {
  uint16_t version = kProtocolVersion;
  std::string node_name;   // aex-node --name
  std::string deployment;  // aex-node --deployment, "" when not given
  uint32_t pid = 0;        // the node's process id on its machine
  Bytes Encode() const;    // REQUIRES: names at most kMaxNodeIdentity bytes
  static Result<HelloAck> Parse(ByteSpan p);
};

// Longest load tag (LoadModule::tag, ListModules).
constexpr size_t kMaxLoadTag = 32;
// Longest SIGSTRUCT in LOAD_MODULE (= tee::sgx::kMaxSigstruct).
constexpr size_t kMaxSigstruct = 1024;

struct LoadModule {
  std::string name;
  uint8_t backend = 0;  // aex::deploy::Backend as u8
  std::string device;   // exclusive device claim, "" for none
  ByteSpan binary;
  // The deployment that loads it (opaque, 1..kMaxLoadTag bytes, or none):
  // encoded as a trailing u8 length + bytes only when not empty, so that a
  // LOAD without a tag is unchanged. LIST_MODULES filters by it.
  std::string tag{};
  // sgx: the SIGSTRUCT the deployer (the enclave's vendor) made for this
  // binary (platform/sgx/sgx_keys.h), up to kMaxSigstruct bytes, or none:
  // when present it follows the tag (then encoded even when empty) as
  // u32 length + bytes. The node passes it to the module unchecked; the
  // module's EINIT checks it.
  ByteSpan sigstruct{};
  Bytes Encode() const;
  static Result<LoadModule> Parse(ByteSpan p);
};

// LIST_MODULES: the modules this node runs whose load tag is `tag` (every
// module when empty). Payload: u8 length + tag. RESULT payload: ModuleList.
struct ListModules {
  std::string tag;
  Bytes Encode() const;
  static Result<ListModules> Parse(ByteSpan p);
};

struct ListedModule {
  uint32_t id = 0;
  std::string name;
  std::string tag;
  bool running = false;   // not exited, hung or unloaded
  bool attested = false;  // answered an ATTEST successfully (as the node saw it)
};

// u32 count, then per module: u32 id | u16 length + name | u8 length + tag |
// u8 flags (bit 0 running, bit 1 attested; other bits zero).
struct ModuleList {
  std::vector<ListedModule> modules;
  Bytes Encode() const;
  static Result<ModuleList> Parse(ByteSpan p);
};

// Route (src_module, conn_id) -> dst_module, on this node when dst_host is
// empty, else on the node listening at dst_host:dst_port.
struct Connect {
  uint32_t src_module = 0;
  uint32_t conn_id = 0;
  uint32_t dst_module = 0;
  std::string dst_host;
  uint16_t dst_port = 0;
  Bytes Encode() const;
  static Result<Connect> Parse(ByteSpan p);
};

struct RegisterPeriodic {
  uint32_t module_id = 0;
  uint32_t entry = 0;
  uint32_t period_ms = 0;
  Bytes Encode() const;
  static Result<RegisterPeriodic> Parse(ByteSpan p);
};

// Zero-loss update (docs/update.md). A route is named by its source.
struct RouteKey {
  uint32_t src_module = 0;
  uint32_t conn_id = 0;
};

// PAUSE_ROUTES: the node stops forwarding on these routes and holds what
// their sources emit (bounded, in order) until RESUME_ROUTES. Then it sends
// FENCE(token) on every peer link one of them uses, behind the frames
// already forwarded. RESULT payload: u32 number of fences sent.
struct PauseRoutes {
  uint64_t token = 0;
  std::vector<RouteKey> routes;
  Bytes Encode() const;
  static Result<PauseRoutes> Parse(ByteSpan p);
};

// RESUME_ROUTES: re-points each route (as CONNECT does, creating it if
// needed) and releases what it holds, in order, to the new destination.
struct ResumeRoutes {
  std::vector<Connect> routes;
  Bytes Encode() const;
  static Result<ResumeRoutes> Parse(ByteSpan p);
};

// AWAIT_FENCE: answered once `count` FENCE frames carrying `token` have
// reached this node (at once if they already have), else kTimeout after
// timeout_ms. FENCE itself (node -> node, one-way) is ModuleOp(0, 0, u64 token).
struct AwaitFence {
  uint64_t token = 0;
  uint32_t count = 0;
  uint32_t timeout_ms = 0;
  Bytes Encode() const;
  static Result<AwaitFence> Parse(ByteSpan p);
};

// Peer-link framing (docs/protocol.md, "Peer links"). Sequence numbers count
// the LINK_EVENTs of one TCP connection from 1; both ends start again at 1 on
// a new connection.

// LINK_EVENT: u64 seq || ModuleOp(dst module, conn id, sealed event) ||
// u64 sent_at. sent_at is the sending node's system clock (ns since the
// epoch) when it handed the frame to the socket: trace metadata outside the
// sealed event, which a lying node can only make a trace wrong with
// (docs/observability.md). Parse also takes the older layout without it
// (sent_at = 0); Encode always writes it. REQUIRES (Parse): seq >= 1.
struct LinkEvent {
  static constexpr size_t kTrailerSize = 8;  // sent_at, the frame's last bytes
  uint64_t seq = 0;
  ModuleOp op;
  uint64_t sent_at = 0;
  Bytes Encode() const;
  static Result<LinkEvent> Parse(ByteSpan p);
};

// ACK: u64 through || u8 flags. Every LINK_EVENT with seq <= through has
// arrived; kGap: the receiver dropped a later one that came out of order,
// so the sender must resend everything after `through`.
struct LinkAck {
  static constexpr uint8_t kGap = 0x01;
  uint64_t through = 0;
  bool gap = false;
  Bytes Encode() const;
  static Result<LinkAck> Parse(ByteSpan p);
};

// UNDELIVERED: u32 module_id || u32 conn_id || u32 count, count >= 1: that
// many LINK_EVENTs for (module_id, conn_id) on this connection reached the
// receiving node but not their module (dead, unloaded, unknown, queue full).
struct Undelivered {
  uint32_t module_id = 0;
  uint32_t conn_id = 0;
  uint32_t count = 0;
  Bytes Encode() const;
  static Result<Undelivered> Parse(ByteSpan p);
};

}  // namespace aex::wire

#endif  // AEX_WIRE_MANAGEMENT_H_
