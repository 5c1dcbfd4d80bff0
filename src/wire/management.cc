#include "wire/management.h"

namespace aex::wire {

namespace {

Status Malformed(const char* what) {
  return Status(Code::kInvalidArgument, std::string("malformed ") + what);
}

// u8 length + bytes. REQUIRES: tag.size() <= kMaxLoadTag.
void PutTag(const std::string& tag, ByteWriter* w) {
  w->PutU8(static_cast<uint8_t>(tag.size()));
  w->PutBytes(AsBytes(tag));
}

bool ReadTag(ByteReader* r, std::string* tag) {
  uint8_t n;
  ByteSpan bytes;
  if (!r->ReadU8(&n) || n > kMaxLoadTag || !r->ReadBytes(n, &bytes)) return false;
  tag->assign(bytes.begin(), bytes.end());
  return true;
}

}  // namespace

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

Bytes HelloAck::Encode() const {
  ByteWriter w;
  w.PutU16(version);
  w.PutString16(node_name);
  w.PutString16(deployment);
  w.PutU32(pid);
  return w.Take();
}

Result<HelloAck> HelloAck::Parse(ByteSpan p) {
  ByteReader r(p);
  HelloAck a;
  if (!r.ReadU16(&a.version)) return Malformed("HELLO_ACK");
  if (r.empty()) return a;  // an older node: version only
  if (!r.ReadString16(&a.node_name) || !r.ReadString16(&a.deployment) || !r.ReadU32(&a.pid) ||
      !r.empty() || a.node_name.size() > kMaxNodeIdentity ||
      a.deployment.size() > kMaxNodeIdentity) {
    return Malformed("HELLO_ACK");
  }
  return a;
}

Bytes LoadModule::Encode() const {
  ByteWriter w(binary.size() + 64);
  w.PutString16(name);
  w.PutU8(backend);
  w.PutString16(device);
  w.PutLengthPrefixed(binary);
  if (!tag.empty() || !sigstruct.empty()) PutTag(tag, &w);
  if (!sigstruct.empty()) w.PutLengthPrefixed(sigstruct);
  return w.Take();
}

Result<LoadModule> LoadModule::Parse(ByteSpan p) {
  ByteReader r(p);
  LoadModule m;
  if (!r.ReadString16(&m.name) || !r.ReadU8(&m.backend) || !r.ReadString16(&m.device) ||
      !r.ReadLengthPrefixed(&m.binary, kMaxModuleBinary)) {
    return Malformed("LOAD_MODULE");
  }
  // An empty tag is encoded by its absence unless a SIGSTRUCT follows, and
  // an empty SIGSTRUCT by its absence (one encoding per message).
  if (!r.empty()) {
    if (!ReadTag(&r, &m.tag)) return Malformed("LOAD_MODULE");
    if (!r.empty() && (!r.ReadLengthPrefixed(&m.sigstruct, kMaxSigstruct) ||
                       m.sigstruct.empty() || !r.empty())) {
      return Malformed("LOAD_MODULE");
    }
    if (m.tag.empty() && m.sigstruct.empty()) return Malformed("LOAD_MODULE");
  }
  if (m.name.empty() || m.name.size() > 128) return InvalidArgument("bad module name length");
  return m;
}

Bytes ListModules::Encode() const {
  ByteWriter w;
  PutTag(tag, &w);
  return w.Take();
}

Result<ListModules> ListModules::Parse(ByteSpan p) {
  ByteReader r(p);
  ListModules m;
  if (!ReadTag(&r, &m.tag) || !r.empty()) return Malformed("LIST_MODULES");
  return m;
}

// Smallest encoded entry: id, empty name, empty tag, flags.
constexpr size_t kMinListedModule = 4 + 2 + 1 + 1;

Bytes ModuleList::Encode() const {
  ByteWriter w;
  w.PutU32(static_cast<uint32_t>(modules.size()));
  for (const ListedModule& m : modules) {
    w.PutU32(m.id);
    w.PutString16(m.name);
    PutTag(m.tag, &w);
    w.PutU8(static_cast<uint8_t>((m.running ? 1 : 0) | (m.attested ? 2 : 0)));
  }
  return w.Take();
}

Result<ModuleList> ModuleList::Parse(ByteSpan p) {
  ByteReader r(p);
  ModuleList list;
  uint32_t n;
  // The count is checked against the bytes present before anything is
  // reserved, so a forged count cannot make the reader allocate.
  if (!r.ReadU32(&n) || n > r.remaining() / kMinListedModule) return Malformed("MODULE_LIST");
  list.modules.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    ListedModule m;
    uint8_t flags;
    if (!r.ReadU32(&m.id) || !r.ReadString16(&m.name) || !ReadTag(&r, &m.tag) ||
        !r.ReadU8(&flags) || (flags & ~3u) != 0) {
      return Malformed("MODULE_LIST");
    }
    m.running = (flags & 1) != 0;
    m.attested = (flags & 2) != 0;
    list.modules.push_back(std::move(m));
  }
  if (!r.empty()) return Malformed("MODULE_LIST");
  return list;
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

// Largest number of routes in one PAUSE_ROUTES / RESUME_ROUTES.
constexpr uint16_t kMaxRoutesPerMessage = 4096;

Bytes PauseRoutes::Encode() const {
  ByteWriter w;
  w.PutU64(token);
  w.PutU16(static_cast<uint16_t>(routes.size()));
  for (const RouteKey& r : routes) {
    w.PutU32(r.src_module);
    w.PutU32(r.conn_id);
  }
  return w.Take();
}

Result<PauseRoutes> PauseRoutes::Parse(ByteSpan p) {
  ByteReader r(p);
  PauseRoutes m;
  uint16_t n;
  if (!r.ReadU64(&m.token) || !r.ReadU16(&n) || n > kMaxRoutesPerMessage ||
      r.remaining() != size_t{n} * 8) {
    return Malformed("PAUSE_ROUTES");
  }
  m.routes.resize(n);
  for (RouteKey& k : m.routes) {
    r.ReadU32(&k.src_module);
    r.ReadU32(&k.conn_id);
  }
  return m;
}

Bytes ResumeRoutes::Encode() const {
  ByteWriter w;
  w.PutU16(static_cast<uint16_t>(routes.size()));
  for (const Connect& c : routes) w.PutLengthPrefixed(c.Encode());
  return w.Take();
}

Result<ResumeRoutes> ResumeRoutes::Parse(ByteSpan p) {
  ByteReader r(p);
  ResumeRoutes m;
  uint16_t n;
  if (!r.ReadU16(&n) || n > kMaxRoutesPerMessage) return Malformed("RESUME_ROUTES");
  for (uint16_t i = 0; i < n; ++i) {
    ByteSpan one;
    if (!r.ReadLengthPrefixed(&one, 512)) return Malformed("RESUME_ROUTES");
    AEX_ASSIGN_OR_RETURN(Connect c, Connect::Parse(one));
    m.routes.push_back(std::move(c));
  }
  if (!r.empty()) return Malformed("RESUME_ROUTES");
  return m;
}

Bytes AwaitFence::Encode() const {
  ByteWriter w;
  w.PutU64(token);
  w.PutU32(count);
  w.PutU32(timeout_ms);
  return w.Take();
}

Result<AwaitFence> AwaitFence::Parse(ByteSpan p) {
  ByteReader r(p);
  AwaitFence m;
  if (!r.ReadU64(&m.token) || !r.ReadU32(&m.count) || !r.ReadU32(&m.timeout_ms) || !r.empty()) {
    return Malformed("AWAIT_FENCE");
  }
  if (m.timeout_ms > 600000) return InvalidArgument("fence wait longer than 10 minutes");
  return m;
}

Bytes LinkEvent::Encode() const {
  ByteWriter w(8 + 12 + op.data.size());
  w.PutU64(seq);
  Bytes out = w.Take();
  op.AppendTo(&out);
  out.resize(out.size() + kTrailerSize);
  StoreU64(out.data() + out.size() - kTrailerSize, sent_at);
  return out;
}

Result<LinkEvent> LinkEvent::Parse(ByteSpan p) {
  ByteReader r(p);
  LinkEvent m;
  if (!r.ReadU64(&m.seq) || m.seq == 0) return Malformed("LINK_EVENT");
  // The ModuleOp's own length says whether the stamp follows: a sender
  // older than the stamp sends none (sent_at stays 0).
  const ByteSpan rest = r.rest();
  ByteReader op(rest);
  uint32_t module_id, conn_id, data_len;
  if (!op.ReadU32(&module_id) || !op.ReadU32(&conn_id) || !op.ReadU32(&data_len)) {
    return Malformed("LINK_EVENT");
  }
  size_t op_size = rest.size();
  if (op.remaining() == size_t{data_len} + kTrailerSize) {
    op_size -= kTrailerSize;
    ByteReader trailer(rest.subspan(op_size));
    trailer.ReadU64(&m.sent_at);
  }
  AEX_ASSIGN_OR_RETURN(m.op, ModuleOp::Parse(rest.first(op_size)));
  return m;
}

Bytes LinkAck::Encode() const {
  ByteWriter w;
  w.PutU64(through);
  w.PutU8(gap ? kGap : 0);
  return w.Take();
}

Result<LinkAck> LinkAck::Parse(ByteSpan p) {
  ByteReader r(p);
  LinkAck m;
  uint8_t flags;
  if (!r.ReadU64(&m.through) || !r.ReadU8(&flags) || !r.empty() || (flags & ~kGap) != 0) {
    return Malformed("ACK");
  }
  m.gap = (flags & kGap) != 0;
  return m;
}

Bytes Undelivered::Encode() const {
  ByteWriter w;
  w.PutU32(module_id);
  w.PutU32(conn_id);
  w.PutU32(count);
  return w.Take();
}

Result<Undelivered> Undelivered::Parse(ByteSpan p) {
  ByteReader r(p);
  Undelivered m;
  if (!r.ReadU32(&m.module_id) || !r.ReadU32(&m.conn_id) || !r.ReadU32(&m.count) ||
      !r.empty() || m.count == 0) {
    return Malformed("UNDELIVERED");
  }
  return m;
}

}  // namespace aex::wire
