// Messages a module parses and produces on its channel (part of the TCB):
// results, the module-addressed operation, and the module's counters.

#ifndef AEX_WIRE_MODULE_MESSAGES_H_
#define AEX_WIRE_MODULE_MESSAGES_H_

#include <string>

#include "wire/frame.h"

namespace aex::wire {

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

// Counters a module's runtime keeps and reports on kModuleStats. The node
// cannot forge them into a module, but it relays them, so they are
// diagnostics, not evidence. kOutputsRefused: events refused at this
// module's node; kOutputsUndelivered: events the destination node reported it
// could not deliver; kLost: counter values skipped between two accepted
// events of a connection (sent by the peer module, never accepted here).
// Timing, for `aex trace` (docs/observability.md), never in a payload:
// kSealNs, kOpenNs, kHandlerNs are the cumulative wall-clock nanoseconds
// spent sealing outputs, opening accepted events and in their input
// handlers; kSealedAt is when the last output's seal began, kReceivedAt when
// the last accepted event reached the runtime and kOpenedAt when its handler
// began (system clock, ns since the epoch).
struct ModuleStats {
  enum Field {
    kEventsAccepted, kRequestsHandled, kOutputsSent, kRequestsSent, kRejectedAuth,
    kRejectedReplay, kRejectedRouting, kRejectedMalformed, kGrantsAccepted, kGrantsRejected,
    kDisabled, kOutputsRefused, kOutputsUndelivered, kLost, kInstanceId, kDeferredDropped,
    kSealNs, kOpenNs, kHandlerNs, kSealedAt, kReceivedAt, kOpenedAt, kFieldCount
  };
  static const char* FieldName(int field);
  uint64_t values[kFieldCount] = {};
  Bytes Encode() const;
  static Result<ModuleStats> Parse(ByteSpan p);
};

}  // namespace aex::wire

#endif  // AEX_WIRE_MODULE_MESSAGES_H_
