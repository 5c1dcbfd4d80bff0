#include "platform_service/service_wire.h"

namespace aex::tee {

static bool ReadDigest(ByteReader& r, crypto::Digest* out) {
  ByteSpan s;
  if (!r.ReadBytes(out->size(), &s)) return false;
  std::copy(s.begin(), s.end(), out->begin());
  return true;
}

Result<ServiceRequest> ParseServiceRequest(ByteSpan msg) {
  ByteReader r(msg);
  ServiceRequest q;
  uint8_t version = 0, op = 0, uuid_len = 0;
  if (!r.ReadU8(&version) || !r.ReadU8(&op) || !r.ReadU8(&q.backend) ||
      !r.ReadU32(&q.module_id)) {
    return InvalidArgument("truncated platform request");
  }
  if (version != kServiceVersion) return InvalidArgument("unknown platform request version");
  q.op = static_cast<ServiceOp>(op);
  bool ok = true;
  ByteSpan uuid;
  switch (q.op) {
    case ServiceOp::kMeasure: break;
    case ServiceOp::kKey:
      ok = r.ReadU16(&q.vendor_id) && r.ReadU8(&uuid_len) && (uuid_len == 0 || uuid_len == 16) &&
           r.ReadBytes(uuid_len, &uuid);
      q.uuid.assign(uuid.begin(), uuid.end());
      break;
    case ServiceOp::kQuote:
      ok = r.ReadU8(&q.flags) && r.ReadU64(&q.instance_id) && ReadDigest(r, &q.report_data) &&
           ReadDigest(r, &q.module_pub);
      break;
    case ServiceOp::kEinit: {  // bounded by kMaxServiceMessage; EINIT parses it
      ByteSpan hex = r.rest();
      ok = r.Skip(hex.size());
      q.sigstruct_hex.assign(hex.begin(), hex.end());
      break;
    }
    default: return InvalidArgument("unknown platform request op " + std::to_string(op));
  }
  if (!ok || !r.empty()) return InvalidArgument("malformed platform request");
  return q;
}

Bytes EncodeServiceResponse(const Status& status, ByteSpan payload) {
  ByteWriter w(payload.size() + 64);
  w.PutU8(static_cast<uint8_t>(status.code()));
  if (status.ok()) {
    w.PutBytes(payload);
  } else {
    std::string m = status.message().substr(0, 1024);
    w.PutString16(m);
  }
  return w.Take();
}

}  // namespace aex::tee
