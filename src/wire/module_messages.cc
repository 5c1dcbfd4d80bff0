#include "wire/module_messages.h"

namespace aex::wire {

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
    return InvalidArgument("malformed RESULT");
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

void ModuleOp::AppendTo(Bytes* out) const {
  size_t at = out->size();
  out->resize(at + 12 + data.size());
  uint8_t* p = out->data() + at;
  StoreU32(p, module_id);
  StoreU32(p + 4, aux);
  StoreU32(p + 8, static_cast<uint32_t>(data.size()));
  if (!data.empty()) std::copy(data.begin(), data.end(), p + 12);
}

Result<ModuleOp> ModuleOp::Parse(ByteSpan p, size_t max_data) {
  ByteReader r(p);
  ModuleOp m;
  if (!r.ReadU32(&m.module_id) || !r.ReadU32(&m.aux) || !r.ReadLengthPrefixed(&m.data, max_data) ||
      !r.empty()) {
    return InvalidArgument("malformed module message");
  }
  return m;
}

Bytes ModuleStats::Encode() const {
  ByteWriter w(2 + 8 * kFieldCount);
  w.PutU16(kFieldCount);
  for (uint64_t v : values) w.PutU64(v);
  return w.Take();
}

}  // namespace aex::wire
