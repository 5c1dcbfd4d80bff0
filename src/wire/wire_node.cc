// Wire functions that only the node and the deployer use. They live apart
// from frame.cc and module_messages.cc so that a module executable, which
// links only the objects it references from libaex_wire.a, does not carry
// them: they are not part of the module TCB (scripts/tcb-size).

#include "wire/frame.h"
#include "wire/management.h"
#include "wire/module_messages.h"

namespace aex::wire {

const char* TypeName(MsgType type) {
  switch (type) {
    case MsgType::kHello: return "HELLO";
    case MsgType::kHelloAck: return "HELLO_ACK";
    case MsgType::kResult: return "RESULT";
    case MsgType::kLoadModule: return "LOAD_MODULE";
    case MsgType::kUnloadModule: return "UNLOAD_MODULE";
    case MsgType::kAttest: return "ATTEST";
    case MsgType::kSetKey: return "SET_KEY";
    case MsgType::kCallEntry: return "CALL_ENTRY";
    case MsgType::kConnect: return "CONNECT";
    case MsgType::kRegisterPeriodic: return "REGISTER_PERIODIC";
    case MsgType::kDisable: return "DISABLE";
    case MsgType::kStatus: return "STATUS";
    case MsgType::kReset: return "RESET";
    case MsgType::kEvent: return "EVENT";
    case MsgType::kRequest: return "REQUEST";
    case MsgType::kAck: return "ACK";
    case MsgType::kEventRefused: return "EVENT_REFUSED";
    case MsgType::kLinkEvent: return "LINK_EVENT";
    case MsgType::kUndelivered: return "UNDELIVERED";
    case MsgType::kPauseRoutes: return "PAUSE_ROUTES";
    case MsgType::kResumeRoutes: return "RESUME_ROUTES";
    case MsgType::kAwaitFence: return "AWAIT_FENCE";
    case MsgType::kFence: return "FENCE";
    case MsgType::kExportState: return "EXPORT_STATE";
    case MsgType::kImportState: return "IMPORT_STATE";
    case MsgType::kModuleStats: return "MODULE_STATS";
    case MsgType::kListModules: return "LIST_MODULES";
  }
  return "UNKNOWN";
}

Bytes EncodeFrame(MsgType type, uint32_t request_id, ByteSpan payload) {
  Bytes out;
  AppendFrame(type, request_id, payload, &out);
  return out;
}

Bytes ResultMsg::Encode() const { return EncodeResult(ToStatus(), payload); }

Bytes ModuleOp::Encode() const {
  Bytes out;
  AppendTo(&out);
  return out;
}

const char* ModuleStats::FieldName(int field) {
  static const char* const kNames[kFieldCount] = {
      "events_accepted", "requests_handled", "outputs_sent",       "requests_sent",
      "rejected_auth",   "rejected_replay",  "rejected_routing",   "rejected_malformed",
      "grants_accepted", "grants_rejected",  "disabled",           "outputs_refused",
      "outputs_undelivered", "lost",        "instance_id",        "deferred_dropped",
      "seal_ns",         "open_ns",          "handler_ns",         "output_sealed_at_ns",
      "event_received_at_ns", "event_opened_at_ns"};
  return field >= 0 && field < kFieldCount ? kNames[field] : "unknown";
}

Result<ModuleStats> ModuleStats::Parse(ByteSpan p) {
  ByteReader r(p);
  uint16_t n;
  ModuleStats s;
  if (!r.ReadU16(&n) || r.remaining() != size_t{n} * 8) return Status(Code::kInvalidArgument, "malformed MODULE_STATS");
  // Newer modules may report more fields; older ones fewer.
  for (uint16_t i = 0; i < n; ++i) {
    uint64_t v;
    r.ReadU64(&v);
    if (i < kFieldCount) s.values[i] = v;
  }
  return s;
}

}  // namespace aex::wire
