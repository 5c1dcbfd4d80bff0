#include "wire/messages.h"

namespace aex::wire {
namespace {

Status Malformed(const char* what) {
  return Status(Code::kInvalidArgument, std::string("malformed ") + what);
}

}  // namespace

bool IsKnownType(uint8_t t) {
  return (t >= 0x01 && t <= 0x03) || (t >= 0x10 && t <= 0x19) || t == 0x20 || t == 0x21 ||
         t == 0x30;
}

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
    case MsgType::kModuleStats: return "MODULE_STATS";
  }
  return "UNKNOWN";
}

void AppendFrame(MsgType type, uint32_t request_id, ByteSpan payload, Bytes* out) {
  size_t at = out->size();
  out->resize(at + kFrameHeaderSize + kBodyHeaderSize + payload.size());
  uint8_t* p = out->data() + at;
  StoreU32(p, static_cast<uint32_t>(kBodyHeaderSize + payload.size()));
  p[4] = static_cast<uint8_t>(type);
  StoreU32(p + 5, request_id);
  if (!payload.empty()) std::copy(payload.begin(), payload.end(), p + 9);
}

Bytes EncodeFrame(MsgType type, uint32_t request_id, ByteSpan payload) {
  Bytes out;
  AppendFrame(type, request_id, payload, &out);
  return out;
}

Status ParseFrameLength(ByteSpan header, uint32_t* body_len) {
  ByteReader r(header);
  uint32_t len;
  if (!r.ReadU32(&len) || !r.empty()) return Malformed("frame header");
  if (len < kBodyHeaderSize) return Status(Code::kProtocol, "frame body too short");
  if (len > kMaxFrameBody) return Status(Code::kResourceExhausted, "frame exceeds maximum size");
  *body_len = len;
  return Status::Ok();
}

Result<Frame> ParseFrameBody(ByteSpan body) {
  ByteReader r(body);
  uint8_t type;
  uint32_t id;
  if (!r.ReadU8(&type) || !r.ReadU32(&id)) return Malformed("frame body");
  if (!IsKnownType(type)) return Status(Code::kProtocol, "unknown message type");
  return Frame{static_cast<MsgType>(type), id, r.rest()};
}

Bytes Hello::Encode() const {
  ByteWriter w;
  w.PutU32(kMagic);
  w.PutU16(min_version);
  w.PutU16(max_version);
  w.PutU8(static_cast<uint8_t>(role));
  return w.Take();
}

Result<Hello> Hello::Parse(ByteSpan p) {
  ByteReader r(p);
  uint32_t magic;
  uint8_t role;
  Hello h;
  if (!r.ReadU32(&magic) || !r.ReadU16(&h.min_version) || !r.ReadU16(&h.max_version) ||
      !r.ReadU8(&role) || !r.empty() || role > 1) {
    return Malformed("HELLO");
  }
  if (magic != kMagic) return Status(Code::kProtocol, "bad protocol magic");
  h.role = static_cast<PeerRole>(role);
  return h;
}

Bytes ResultMsg::Encode() const {
  ByteWriter w(8 + message.size() + payload.size());
  w.PutU16(static_cast<uint16_t>(code));
  w.PutString16(message.substr(0, 65535));
  w.PutLengthPrefixed(payload);
  return w.Take();
}

Result<ResultMsg> ResultMsg::Parse(ByteSpan p) {
  ByteReader r(p);
  ResultMsg m;
  uint16_t code;
  if (!r.ReadU16(&code) || !r.ReadString16(&m.message) || !r.ReadLengthPrefixed(&m.payload) ||
      !r.empty()) {
    return Malformed("RESULT");
  }
  m.code = code <= static_cast<uint16_t>(Code::kDisabled) ? static_cast<Code>(code)
                                                           : Code::kInternal;
  return m;
}

Bytes EncodeResult(const Status& status, ByteSpan payload) {
  ResultMsg m;
  m.code = status.code();
  m.message = status.message();
  m.payload = payload;
  return m.Encode();
}

Bytes LoadModule::Encode() const {
  ByteWriter w(binary.size() + 64);
  w.PutString16(name);
  w.PutU8(backend);
  w.PutString16(device);
  w.PutLengthPrefixed(binary);
  return w.Take();
}

Result<LoadModule> LoadModule::Parse(ByteSpan p) {
  ByteReader r(p);
  LoadModule m;
  if (!r.ReadString16(&m.name) || !r.ReadU8(&m.backend) || !r.ReadString16(&m.device) ||
      !r.ReadLengthPrefixed(&m.binary, kMaxModuleBinary) || !r.empty()) {
    return Malformed("LOAD_MODULE");
  }
  if (m.name.empty() || m.name.size() > 128) return InvalidArgument("bad module name length");
  return m;
}

void ModuleOp::AppendTo(Bytes* out) const {
  size_t at = out->size();
  out->resize(at + 12 + data.size());
  uint8_t* p = out->data() + at;
  StoreU32(p, module_id);
  StoreU32(p + 4, aux);
  StoreU32(p + 8, static_cast<uint32_t>(data.size()));
  if (!data.empty()) std::copy(data.begin(), data.end(), p + 12);
}

Bytes ModuleOp::Encode() const {
  Bytes out;
  AppendTo(&out);
  return out;
}

Result<ModuleOp> ModuleOp::Parse(ByteSpan p, size_t max_data) {
  ByteReader r(p);
  ModuleOp m;
  if (!r.ReadU32(&m.module_id) || !r.ReadU32(&m.aux) || !r.ReadLengthPrefixed(&m.data, max_data) ||
      !r.empty()) {
    return Malformed("module message");
  }
  return m;
}

Bytes Connect::Encode() const {
  ByteWriter w;
  w.PutU32(src_module);
  w.PutU32(conn_id);
  w.PutU32(dst_module);
  w.PutString16(dst_host);
  w.PutU16(dst_port);
  return w.Take();
}

Result<Connect> Connect::Parse(ByteSpan p) {
  ByteReader r(p);
  Connect c;
  if (!r.ReadU32(&c.src_module) || !r.ReadU32(&c.conn_id) || !r.ReadU32(&c.dst_module) ||
      !r.ReadString16(&c.dst_host) || !r.ReadU16(&c.dst_port) || !r.empty()) {
    return Malformed("CONNECT");
  }
  if (c.dst_host.size() > 255) return InvalidArgument("host name too long");
  if (!c.dst_host.empty() && c.dst_port == 0) return InvalidArgument("remote route needs a port");
  return c;
}

Bytes RegisterPeriodic::Encode() const {
  ByteWriter w;
  w.PutU32(module_id);
  w.PutU32(entry);
  w.PutU32(period_ms);
  return w.Take();
}

Result<RegisterPeriodic> RegisterPeriodic::Parse(ByteSpan p) {
  ByteReader r(p);
  RegisterPeriodic m;
  if (!r.ReadU32(&m.module_id) || !r.ReadU32(&m.entry) || !r.ReadU32(&m.period_ms) ||
      !r.empty()) {
    return Malformed("REGISTER_PERIODIC");
  }
  if (m.period_ms == 0) return InvalidArgument("period must be at least 1 ms");
  return m;
}

const char* ModuleStats::FieldName(int field) {
  static const char* const kNames[kFieldCount] = {
      "events_accepted", "requests_handled", "outputs_sent",       "requests_sent",
      "rejected_auth",   "rejected_replay",  "rejected_routing",   "rejected_malformed",
      "grants_accepted", "grants_rejected",  "disabled"};
  return field >= 0 && field < kFieldCount ? kNames[field] : "unknown";
}

Bytes ModuleStats::Encode() const {
  ByteWriter w(2 + 8 * kFieldCount);
  w.PutU16(kFieldCount);
  for (uint64_t v : values) w.PutU64(v);
  return w.Take();
}

Result<ModuleStats> ModuleStats::Parse(ByteSpan p) {
  ByteReader r(p);
  uint16_t n;
  ModuleStats s;
  if (!r.ReadU16(&n) || r.remaining() != size_t{n} * 8) return Malformed("MODULE_STATS");
  // Newer modules may report more fields; older ones fewer.
  for (uint16_t i = 0; i < n; ++i) {
    uint64_t v;
    r.ReadU64(&v);
    if (i < kFieldCount) s.values[i] = v;
  }
  return s;
}

}  // namespace aex::wire
