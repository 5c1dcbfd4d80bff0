#include "wire/module_messages.h"

namespace aex::wire {

Bytes EncodeResult(const Status& status, ByteSpan payload) {
  ByteWriter w(8 + status.message().size() + payload.size());
  w.PutU16(static_cast<uint16_t>(status.code()));
  w.PutString16(status.message());  // cut at 65535 bytes
  w.PutLengthPrefixed(payload);
  return w.Take();
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
