// libFuzzer target for the wire format (src/wire/messages.h): the frame
// length header, the frame body, and every message parser, all of which take
// bytes from untrusted peers (deployers, peer nodes, modules).
//
// The input is read three ways:
//   1. as a byte stream of frames, exactly as FrameStream/FdChannel consume
//      it: u32 length, bounds check, body, then the payload parsed as the
//      message its type names;
//   2. as one frame body;
//   3. as the payload of every message type.
// Besides "no crash, no out-of-bounds access, no UB" (ASan/UBSan), it checks
// that every accepted message re-encodes to exactly the accepted bytes
// (canonical encodings), so no two byte strings mean the same message.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wire/messages.h"

namespace {

using aex::Bytes;
using aex::ByteSpan;
namespace wire = aex::wire;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

bool Same(const Bytes& a, ByteSpan b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// Parses `p` with every message parser (ModuleList is the RESULT payload of
// LIST_MODULES, parsed by the deployer); checks the canonical round trip of
// whatever is accepted.
void ParseAll(ByteSpan p) {
  if (auto m = wire::Hello::Parse(p); m.ok()) {
    Check(m->role == wire::PeerRole::kClient || m->role == wire::PeerRole::kNode);
    Check(Same(m->Encode(), p));
  }
  if (auto m = wire::HelloAck::Parse(p); m.ok()) {
    // The version-only form of older nodes parses but encodes in full.
    Check(m->node_name.size() <= wire::kMaxNodeIdentity &&
          m->deployment.size() <= wire::kMaxNodeIdentity);
    if (p.size() > 2) Check(Same(m->Encode(), p));
  }
  if (auto m = wire::ResultMsg::Parse(p); m.ok()) {
    Check(static_cast<uint16_t>(m->code) <= static_cast<uint16_t>(aex::Code::kDisabled));
    Check(m->payload.data() >= p.data() &&
          m->payload.data() + m->payload.size() <= p.data() + p.size());
    // Unknown codes are mapped to kInternal; all others round-trip.
    uint16_t raw = static_cast<uint16_t>(p[0] << 8 | p[1]);
    if (raw <= static_cast<uint16_t>(aex::Code::kDisabled)) Check(Same(m->Encode(), p));
  }
  if (auto m = wire::LoadModule::Parse(p); m.ok()) {
    Check(!m->name.empty() && m->name.size() <= 128);
    Check(m->binary.size() <= wire::kMaxModuleBinary);
    Check(m->tag.size() <= wire::kMaxLoadTag);
    Check(m->sigstruct.size() <= wire::kMaxSigstruct);
    Check(Same(m->Encode(), p));
  }
  if (auto m = wire::ModuleOp::Parse(p); m.ok()) {
    Check(Same(m->Encode(), p));
    Bytes appended = {0x5a};
    m->AppendTo(&appended);
    Check(appended.size() == p.size() + 1 && Same(Bytes(appended.begin() + 1, appended.end()), p));
  }
  // A data bound taken from the input itself.
  if (p.size() >= 12) {
    size_t max = p[p.size() - 1];
    if (auto m = wire::ModuleOp::Parse(p, max); m.ok()) Check(m->data.size() <= max);
  }
  if (auto m = wire::ListModules::Parse(p); m.ok()) {
    Check(m->tag.size() <= wire::kMaxLoadTag);
    Check(Same(m->Encode(), p));
  }
  if (auto m = wire::ModuleList::Parse(p); m.ok()) {
    // Every entry takes at least 8 bytes after the 4-byte count.
    Check(p.size() >= 4 + m->modules.size() * 8);
    for (const wire::ListedModule& e : m->modules) Check(e.tag.size() <= wire::kMaxLoadTag);
    Check(Same(m->Encode(), p));
  }
  if (auto m = wire::Connect::Parse(p); m.ok()) {
    Check(m->dst_host.size() <= 255);
    Check(m->dst_host.empty() || m->dst_port != 0);
    Check(Same(m->Encode(), p));
  }
  if (auto m = wire::RegisterPeriodic::Parse(p); m.ok()) {
    Check(m->period_ms != 0);
    Check(Same(m->Encode(), p));
  }
  if (auto m = wire::PauseRoutes::Parse(p); m.ok()) {
    Check(p.size() == 10 + m->routes.size() * 8);
    Check(Same(m->Encode(), p));
  }
  if (auto m = wire::ResumeRoutes::Parse(p); m.ok()) {
    for (const wire::Connect& c : m->routes) Check(c.dst_host.empty() || c.dst_port != 0);
    Check(Same(m->Encode(), p));
  }
  if (auto m = wire::AwaitFence::Parse(p); m.ok()) {
    Check(Same(m->Encode(), p));
  }
  if (auto m = wire::LinkEvent::Parse(p); m.ok()) {
    Check(m->seq != 0);
    // Encode always writes the send stamp; an input without one (the older
    // layout) is the encoding less its last 8 bytes.
    Bytes enc = m->Encode();
    const bool stamped = p.size() == enc.size();
    Check(stamped || (m->sent_at == 0 && p.size() + wire::LinkEvent::kTrailerSize == enc.size()));
    if (!stamped) enc.resize(p.size());
    Check(Same(enc, p));
  }
  if (auto m = wire::LinkAck::Parse(p); m.ok()) {
    Check(p.size() == 9);
    Check(Same(m->Encode(), p));
  }
  if (auto m = wire::Undelivered::Parse(p); m.ok()) {
    Check(m->count != 0);
    Check(Same(m->Encode(), p));
  }
  if (auto m = wire::ModuleStats::Parse(p); m.ok()) {
    uint16_t n = static_cast<uint16_t>(p[0] << 8 | p[1]);
    Check(p.size() == 2 + size_t{n} * 8);
    if (n == wire::ModuleStats::kFieldCount) Check(Same(m->Encode(), p));
    for (int i = 0; i < wire::ModuleStats::kFieldCount; ++i) {
      (void)wire::ModuleStats::FieldName(i);
    }
  }
}

// The payload parser the node or a module applies to a frame of this type.
void ParseTyped(const wire::Frame& f) {
  switch (f.type) {
    case wire::MsgType::kHello:
      (void)wire::Hello::Parse(f.payload);
      break;
    case wire::MsgType::kHelloAck:
      (void)wire::HelloAck::Parse(f.payload);
      break;
    case wire::MsgType::kResult:
      (void)wire::ResultMsg::Parse(f.payload);
      break;
    case wire::MsgType::kLoadModule:
      (void)wire::LoadModule::Parse(f.payload);
      break;
    case wire::MsgType::kConnect:
      (void)wire::Connect::Parse(f.payload);
      break;
    case wire::MsgType::kRegisterPeriodic:
      (void)wire::RegisterPeriodic::Parse(f.payload);
      break;
    case wire::MsgType::kPauseRoutes:
      (void)wire::PauseRoutes::Parse(f.payload);
      break;
    case wire::MsgType::kResumeRoutes:
      (void)wire::ResumeRoutes::Parse(f.payload);
      break;
    case wire::MsgType::kAwaitFence:
      (void)wire::AwaitFence::Parse(f.payload);
      break;
    case wire::MsgType::kLinkEvent:
      (void)wire::LinkEvent::Parse(f.payload);
      break;
    case wire::MsgType::kAck:
      (void)wire::LinkAck::Parse(f.payload);
      break;
    case wire::MsgType::kUndelivered:
      (void)wire::Undelivered::Parse(f.payload);
      break;
    case wire::MsgType::kListModules:
      (void)wire::ListModules::Parse(f.payload);
      break;
    case wire::MsgType::kStatus:
    case wire::MsgType::kReset:
      break;
    case wire::MsgType::kModuleStats:
      (void)wire::ModuleStats::Parse(f.payload);
      [[fallthrough]];
    default:
      (void)wire::ModuleOp::Parse(f.payload);
      break;
  }
  Check(wire::IsKnownType(static_cast<uint8_t>(f.type)));
  Check(std::strcmp(wire::TypeName(f.type), "UNKNOWN") != 0);
}

// Consumes `data` as a stream of frames, as FrameStream::ParseFrames does.
void ParseStream(ByteSpan data) {
  size_t pos = 0;
  while (data.size() - pos >= wire::kFrameHeaderSize) {
    uint32_t len = 0;
    aex::Status s = wire::ParseFrameLength(data.subspan(pos, wire::kFrameHeaderSize), &len);
    if (!s.ok()) return;
    Check(len >= wire::kBodyHeaderSize && len <= wire::kMaxFrameBody);
    if (data.size() - pos - wire::kFrameHeaderSize < len) return;  // incomplete
    ByteSpan body = data.subspan(pos + wire::kFrameHeaderSize, len);
    auto frame = wire::ParseFrameBody(body);
    if (!frame.ok()) return;
    Check(frame->payload.size() == len - wire::kBodyHeaderSize);
    Check(frame->payload.data() == body.data() + wire::kBodyHeaderSize);
    // The frame re-encodes to the bytes it came from.
    Bytes again = wire::EncodeFrame(frame->type, frame->request_id, frame->payload);
    Check(Same(again, data.subspan(pos, wire::kFrameHeaderSize + len)));
    ParseTyped(*frame);
    pos += wire::kFrameHeaderSize + len;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);
  ParseStream(in);
  if (auto f = wire::ParseFrameBody(in); f.ok()) {
    ParseTyped(*f);
    ParseAll(f->payload);
  }
  ParseAll(in);
  // Any 4 bytes as a length header.
  uint32_t len = 0;
  (void)wire::ParseFrameLength(in, &len);
  return 0;
}
