// The aex wire format (docs/protocol.md): frames and the messages they carry,
// spoken between deployer and node, node and node, and node and module.
//
//   frame   = u32 body_length | body            (body_length <= kMaxFrameBody)
//   body    = u8 type | u32 request_id | payload
//
// A request_id of 0 marks a one-way message (events); any other id expects
// exactly one kResult frame with the same id in the opposite direction.
// Every Parse* function takes untrusted bytes, checks every bound, and fails
// on trailing garbage.

#ifndef AEX_WIRE_MESSAGES_H_
#define AEX_WIRE_MESSAGES_H_

#include <cstdint>
#include <string>

#include "aex/bytes.h"
#include "aex/status.h"

namespace aex::wire {

constexpr uint16_t kProtocolVersion = 1;
constexpr uint32_t kMagic = 0x41455831;  // "AEX1"
constexpr size_t kFrameHeaderSize = 4;
constexpr size_t kBodyHeaderSize = 5;
// A module binary of up to 16 MiB plus its message header.
constexpr size_t kMaxModuleBinary = 16u << 20;
constexpr size_t kMaxFrameBody = kMaxModuleBinary + 4096;

enum class MsgType : uint8_t {
  kHello = 0x01,
  kHelloAck = 0x02,
  kResult = 0x03,
  kLoadModule = 0x10,
  kUnloadModule = 0x11,
  kAttest = 0x12,
  kSetKey = 0x13,
  kCallEntry = 0x14,
  kConnect = 0x15,
  kRegisterPeriodic = 0x16,
  kDisable = 0x17,
  kStatus = 0x18,
  kReset = 0x19,
  kEvent = 0x20,
  kRequest = 0x21,
  kModuleStats = 0x30,
};
bool IsKnownType(uint8_t type);
const char* TypeName(MsgType type);

struct Frame {
  MsgType type;
  uint32_t request_id;
  ByteSpan payload;  // points into the buffer the frame was parsed from
};

// Appends a complete frame (header included) to `out`.
void AppendFrame(MsgType type, uint32_t request_id, ByteSpan payload, Bytes* out);
Bytes EncodeFrame(MsgType type, uint32_t request_id, ByteSpan payload);
// Reads the 4-byte length header. Fails if the body is too short or too large.
Status ParseFrameLength(ByteSpan header, uint32_t* body_len);
// Parses a frame body (type, request id, payload). Fails on an unknown type.
Result<Frame> ParseFrameBody(ByteSpan body);

// Who opens a connection: the deployer (client) or a peer node.
enum class PeerRole : uint8_t { kClient = 0, kNode = 1 };

struct Hello {
  uint16_t min_version = kProtocolVersion;
  uint16_t max_version = kProtocolVersion;
  PeerRole role = PeerRole::kClient;
  Bytes Encode() const;
  static Result<Hello> Parse(ByteSpan p);
};

// Generic reply. code is an aex::Code; payload is message-specific.
struct ResultMsg {
  Code code = Code::kOk;
  std::string message;
  ByteSpan payload;
  Bytes Encode() const;
  static Result<ResultMsg> Parse(ByteSpan p);
  Status ToStatus() const { return Status(code, message); }
};
Bytes EncodeResult(const Status& status, ByteSpan payload = {});

struct LoadModule {
  std::string name;
  uint8_t backend = 0;  // aex::deploy::Backend as u8
  std::string device;   // exclusive device claim, "" for none
  ByteSpan binary;
  Bytes Encode() const;
  static Result<LoadModule> Parse(ByteSpan p);
};

// The common shape of every message addressed to one module:
// kUnloadModule, kAttest (data = challenge), kSetKey (data = wrapped grant),
// kCallEntry (aux = entry index, data = argument), kDisable (data = sealed
// nonce), kEvent and kRequest (aux = connection id, data = sealed event),
// kModuleStats. From a module to its node, module_id names the sender.
struct ModuleOp {
  uint32_t module_id = 0;
  uint32_t aux = 0;
  ByteSpan data;
  Bytes Encode() const;
  void AppendTo(Bytes* out) const;
  static Result<ModuleOp> Parse(ByteSpan p, size_t max_data = kMaxFrameBody);
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

// Counters a module's runtime keeps and reports on kModuleStats. The node
// cannot forge them into a module, but it relays them, so they are
// diagnostics, not evidence.
struct ModuleStats {
  enum Field {
    kEventsAccepted, kRequestsHandled, kOutputsSent, kRequestsSent, kRejectedAuth,
    kRejectedReplay, kRejectedRouting, kRejectedMalformed, kGrantsAccepted, kGrantsRejected,
    kDisabled, kFieldCount
  };
  static const char* FieldName(int field);
  uint64_t values[kFieldCount] = {};
  Bytes Encode() const;
  static Result<ModuleStats> Parse(ByteSpan p);
};

}  // namespace aex::wire

#endif  // AEX_WIRE_MESSAGES_H_
