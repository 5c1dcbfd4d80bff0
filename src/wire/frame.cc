#include "wire/frame.h"

namespace aex::wire {

bool IsKnownType(uint8_t t) {
  return (t >= 0x01 && t <= 0x03) || (t >= 0x10 && t <= 0x1F) || (t >= 0x20 && t <= 0x25) ||
         t == 0x30 || t == 0x40;
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

Status ParseFrameLength(ByteSpan header, uint32_t* body_len) {
  ByteReader r(header);
  uint32_t len;
  if (!r.ReadU32(&len) || !r.empty()) return InvalidArgument("malformed frame header");
  if (len < kBodyHeaderSize) return Status(Code::kProtocol, "frame body too short");
  if (len > kMaxFrameBody) return Status(Code::kResourceExhausted, "frame exceeds maximum size");
  *body_len = len;
  return Status::Ok();
}

Result<Frame> ParseFrameBody(ByteSpan body) {
  ByteReader r(body);
  uint8_t type;
  uint32_t id;
  if (!r.ReadU8(&type) || !r.ReadU32(&id)) return InvalidArgument("malformed frame body");
  if (!IsKnownType(type)) return Status(Code::kProtocol, "unknown message type");
  return Frame{static_cast<MsgType>(type), id, r.rest()};
}

}  // namespace aex::wire
