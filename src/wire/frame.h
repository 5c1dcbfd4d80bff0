// The aex wire format (docs/protocol.md): frames, spoken between deployer and
// node, node and node, and node and module.
//
//   frame   = u32 body_length | body            (body_length <= kMaxFrameBody)
//   body    = u8 type | u32 request_id | payload
//
// A request_id of 0 marks a one-way message (events); any other id expects
// exactly one kResult frame with the same id in the opposite direction.
// Every Parse* function takes untrusted bytes, checks every bound, and fails
// on trailing garbage.

#ifndef AEX_WIRE_FRAME_H_
#define AEX_WIRE_FRAME_H_

#include <cstdint>
#include <string>

#include "aex/bytes.h"
#include "aex/status.h"

namespace aex::wire {

constexpr size_t kFrameHeaderSize = 4;
constexpr size_t kBodyHeaderSize = 5;
// The largest module binary: what a node accepts in LOAD_MODULE, and what
// the deployer builds and sends (one limit for both). 32 MiB: the largest
// module aex ships, the attestation manager (it links the DCAP
// verifier), is 5.9 MiB in release (static) and 19.7 MiB in the sanitizer
// build (instrumented, shared libcrypto).
constexpr size_t kMaxModuleBinary = 32u << 20;
// A module binary plus its message header.
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
  // Zero-loss update (docs/update.md).
  kPauseRoutes = 0x1A,
  kResumeRoutes = 0x1B,
  kAwaitFence = 0x1C,
  kFence = 0x1D,
  kExportState = 0x1E,
  kImportState = 0x1F,
  kEvent = 0x20,
  kRequest = 0x21,
  // Node to node (LinkAck): every LINK_EVENT up to a sequence number has
  // arrived on this connection, so the sender can drop them from its
  // retransmission buffer; optionally "a gap follows: resend after it".
  kAck = 0x22,
  // Node to module: events of this module's output were refused at its node
  // (an unreachable peer's backlog was full) or could not be delivered by
  // the destination node (module dead, unloaded or unknown).
  kEventRefused = 0x23,
  // Node to node (LinkEvent): an EVENT with the link's sequence number.
  kLinkEvent = 0x24,
  // Node to node (Undelivered): LINK_EVENTs of one connection that arrived
  // but could not be delivered to their module.
  kUndelivered = 0x25,
  kModuleStats = 0x30,
  kListModules = 0x40,  // deployer -> node: the modules of a load tag (management.h)
};
bool IsKnownType(uint8_t type);

struct Frame {
  MsgType type;
  uint32_t request_id;
  ByteSpan payload;  // points into the buffer the frame was parsed from
};

// Appends a complete frame (header included) to `out`.
void AppendFrame(MsgType type, uint32_t request_id, ByteSpan payload, Bytes* out);
// Reads the 4-byte length header. Fails if the body is too short or too large.
Status ParseFrameLength(ByteSpan header, uint32_t* body_len);
// Parses a frame body (type, request id, payload). Fails on an unknown type.
Result<Frame> ParseFrameBody(ByteSpan body);

}  // namespace aex::wire

#endif  // AEX_WIRE_FRAME_H_
