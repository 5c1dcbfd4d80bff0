#include "runtime/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <string>

#include "runtime/runtime_internal.h"
#include "wire/module_messages.h"

// Optional application hooks for `aex update` (SM_SAVE_STATE / SM_RESTORE_STATE)
// and for device events (SM_DEVICE_EVENT); null when the app defines none.
extern "C" size_t aex_save_state(unsigned char*, size_t) __attribute__((weak));
extern "C" void aex_restore_state(const unsigned char*, size_t) __attribute__((weak));
extern "C" void aex_device_event(void) __attribute__((weak));
// Weak here, so that only a module that watches fds (watch.cc) links the
// polling code; SM_DEVICE_EVENT references it (aex/module.h).
#pragma weak aex_watch_fd

namespace aex::runtime {
int g_device_fd = -1;  // the module's device (--aex-device-fd), -1 for none
Runtime* g_runtime = nullptr;
namespace {

bool ParseU32(const char* s, uint32_t* out) {
  char* end = nullptr;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end != '\0' || v > 0xffffffffUL) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

using channel::Direction;
using channel::Role;
using wire::ModuleStats;
using wire::MsgType;

int Runtime::Run() {
  Bytes body;
  while (NextFrame(&body)) Dispatch(body);
  return 0;  // the node is gone: nothing left to serve
}

bool Runtime::NextFrame(Bytes* body) {
  if (take_deferred_ && (this->*take_deferred_)(body)) return true;
  if (serve_watches_) (this->*serve_watches_)();
  return channel_.ReadBody(body).ok();
}

void Runtime::Reply(uint32_t request_id, const Status& status, ByteSpan payload) {
  if (request_id == 0) return;
  (void)channel_.Write(MsgType::kResult, request_id, wire::EncodeResult(status, payload));
}

void Runtime::Dispatch(const Bytes& body) {
  auto frame = wire::ParseFrameBody(body);
  // Results only answer this module's own requests (IssueRequest); a stray
  // one must not be answered, or the node could match it to its own call.
  if (!frame.ok() || frame->type == MsgType::kResult) return Count(ModuleStats::kRejectedMalformed);
  const uint32_t id = frame->request_id;
  if (frame->type == MsgType::kEventRefused) {
    // Data empty: our node refused one event of ours. Data u32 n: the
    // destination node could not deliver n. Diagnostics: the node may lie.
    auto op = wire::ModuleOp::Parse(frame->payload);
    if (!op.ok() || op->data.size() != 4) return Count(ModuleStats::kOutputsRefused);
    stats_.values[ModuleStats::kOutputsUndelivered] += LoadU32(op->data.data());
    return;
  }
  if (frame->type == MsgType::kModuleStats) {
    stats_.values[ModuleStats::kDisabled] = disabled_;
    stats_.values[ModuleStats::kInstanceId] = platform_->instance_id();
    return Reply(id, Status::Ok(), stats_.Encode());
  }
  auto op = wire::ModuleOp::Parse(frame->payload);
  if (!op.ok() || op->module_id != module_id_) {
    Count(ModuleStats::kRejectedMalformed);
    return Reply(id, op.ok() ? InvalidArgument("message for another module") : op.status());
  }
  Status s;
  Bytes out;
  switch (frame->type) {
    case MsgType::kAttest: s = Attest(op->data, &out); break;
    case MsgType::kSetKey: s = SetKey(op->data); break;
    case MsgType::kDisable: s = Disable(op->data); break;
    case MsgType::kExportState: s = ExportState(op->data, &out); break;
    case MsgType::kImportState: s = ImportState(op->data); break;
    case MsgType::kCallEntry: {
      size_t n = 0;
      s = CallEntry(op->aux, op->data, &n);
      return Reply(id, s, ByteSpan(Scratch(), s.ok() ? n : 0));
    }
    case MsgType::kEvent: return HandleEvent(op->aux, op->data);
    case MsgType::kRequest: s = HandleRequest(op->aux, op->data, &out); break;
    default:
      Count(ModuleStats::kRejectedMalformed);
      s = InvalidArgument("message type not accepted by a module");
  }
  Reply(id, s, out);
}

// A new session (fresh K_s) restarts management nonces: everything sealed
// under an earlier session, or for an earlier instance, no longer opens.
Status Runtime::Attest(ByteSpan challenge, Bytes* evidence) {
  if (challenge.size() < 16 || challenge.size() > 4096) {
    return InvalidArgument("challenge must be 16..4096 bytes");
  }
  AEX_ASSIGN_OR_RETURN(*evidence, platform_->Attest(challenge));
  last_mgmt_nonce_ = 0;
  return Status::Ok();
}

Result<std::unique_ptr<crypto::Aead>> Runtime::ManagementAead() {
  const crypto::Key* key = platform_->session_key();
  if (key == nullptr) return FailedPrecondition("session key not established: attest first");
  return channel::NewCipher(
      platform_->uses_spongent() ? channel::Cipher::kSpongent : channel::Cipher::kAes, *key);
}

Status Runtime::ConsumeNonce(const Status& opened, uint64_t nonce) {
  Status s = opened;
  if (s.ok() && nonce <= last_mgmt_nonce_) s = Status(Code::kReplay, "stale management nonce");
  if (!s.ok()) {
    Count(ModuleStats::kGrantsRejected);
    return s;
  }
  last_mgmt_nonce_ = nonce;
  return Status::Ok();
}

// Opens a grant under K_s and checks its nonce is fresh (then consumes it).
Result<channel::KeyGrant> Runtime::OpenGrant(ByteSpan blob) {
  if (disabled_) return Status(Code::kDisabled, "module is disabled");
  AEX_ASSIGN_OR_RETURN(auto aead, ManagementAead());
  auto grant = channel::UnwrapGrant(*aead, module_id_, blob);
  Status s = ConsumeNonce(grant.status(), grant.ok() ? grant->nonce : 0);
  if (!s.ok()) {
    if (grant.ok()) crypto::Wipe(grant->key);
    return s;
  }
  return grant;
}

uint16_t Runtime::Limit(Role role) const {
  const uint16_t limits[] = {desc_->n_outputs, desc_->n_inputs, desc_->n_requests,
                             desc_->n_handlers};
  return limits[static_cast<int>(role)];
}

Status Runtime::SetKey(ByteSpan blob) {
  AEX_ASSIGN_OR_RETURN(auto grant, OpenGrant(blob));
  Connection c{grant.role, grant.io_index, grant.cipher, grant.key, {},
               channel::NewCipher(grant.cipher, grant.key)};
  crypto::Wipe(grant.key);
  auto it = conns_.find(grant.conn_id);
  // A re-key of an end Bind accepted before (so Bind accepts it again).
  if (c.aead && grant.rekey && it != conns_.end() && it->second.role == c.role &&
      it->second.io_index == c.io_index && it->second.cipher == c.cipher) {
    c.sent = it->second.sent;  // counters continue: no replay across the key change
    c.last_accepted = it->second.last_accepted;
    c.prev = std::move(it->second.aead);
    c.prev_key = it->second.key;
  }
  Status s = Bind(grant.conn_id, std::move(c));
  Count(s.ok() ? ModuleStats::kGrantsAccepted : ModuleStats::kGrantsRejected);
  return s;
}

const char* Runtime::IoName(Role role, uint16_t i) const {
  if (role == Role::kOutput || role == Role::kRequest) {
    return (role == Role::kOutput ? desc_->outputs : desc_->requests)[i];
  }
  return role == Role::kInput ? desc_->inputs[i].name : desc_->handlers[i].name;
}

Status Runtime::Bind(uint32_t conn_id, Connection c) {
  if (conn_id == 0 || c.io_index >= Limit(c.role)) {
    return InvalidArgument("no such connection end at this module");
  }
  if (!c.aead) return InvalidArgument("cipher not supported by this module");
  // A re-keyed connection id may move to another slot: unbind it first.
  for (auto& list : output_conns_) std::erase(list, conn_id);
  for (auto& r : request_conn_) r = r == conn_id ? 0 : r;
  if (c.role == Role::kOutput) output_conns_[c.io_index].push_back(conn_id);
  if (c.role == Role::kRequest) request_conn_[c.io_index] = conn_id;
  conns_[conn_id] = std::move(c);
  return Status::Ok();
}

Status Runtime::Disable(ByteSpan blob) {
  AEX_ASSIGN_OR_RETURN(auto aead, ManagementAead());
  auto nonce = channel::OpenDisable(*aead, module_id_, blob);
  AEX_RETURN_IF_ERROR(ConsumeNonce(nonce.status(), nonce.ok() ? *nonce : 0));
  DropAll();
  return Status::Ok();
}

void Runtime::DropAll() {
  disabled_ = true;
  conns_.clear();
  for (auto& list : output_conns_) list.clear();
  for (auto& c : request_conn_) c = 0;
}

// A state-transfer key K_t from the deployer (a grant with conn_id 0).
Result<channel::KeyGrant> Runtime::TransferGrant(ByteSpan blob, uint16_t purpose) {
  AEX_ASSIGN_OR_RETURN(auto g, OpenGrant(blob));
  if (g.conn_id != 0 || g.io_index != purpose || !channel::NewCipher(g.cipher, g.key)) {
    crypto::Wipe(g.key);
    return InvalidArgument("not a usable transfer grant");
  }
  return g;
}

// Disables this instance and returns its connections (keys, counters) and
// the app's state, sealed under K_t: only the new instance can open them.
Status Runtime::ExportState(ByteSpan blob, Bytes* sealed) {
  AEX_ASSIGN_OR_RETURN(auto g, TransferGrant(blob, 0));
  ByteWriter w;
  w.PutU16(static_cast<uint16_t>(conns_.size()));
  for (const auto& [id, c] : conns_) {
    w.PutU32(id);
    w.PutU8(static_cast<uint8_t>(c.role));
    w.PutString16(IoName(c.role, c.io_index));  // a new version may renumber its endpoints
    w.PutU8(static_cast<uint8_t>(c.cipher) | (c.prev ? 0x80 : 0));
    w.PutBytes(c.key.k);
    w.PutBytes(c.prev ? c.prev_key.k : crypto::Key{});  // a retired key never leaves
    w.PutU64(c.sent);
    w.PutU64(c.last_accepted);
  }
  size_t n = aex_save_state ? aex_save_state(Scratch(), AEX_MAX_PAYLOAD) : 0;
  Bytes plain = w.Take();
  if (n > AEX_MAX_PAYLOAD) {
    crypto::Wipe(plain);  // the connection keys are in it
    return Internal("state hook returned more than its buffer");
  }
  plain.insert(plain.end(), Scratch(), Scratch() + n);
  DropAll();
  Status s = channel::SealEvent(*channel::NewCipher(g.cipher, g.key), 0,
                                Direction::kForward, 1, plain, sealed);
  crypto::Wipe(g.key);
  crypto::Wipe(plain);
  return s;
}

Status Runtime::ImportState(ByteSpan blob) {
  if (blob.size() < channel::kGrantSize) return InvalidArgument("state blob too short");
  AEX_ASSIGN_OR_RETURN(auto g, TransferGrant(blob.first(channel::kGrantSize), 1));
  uint64_t counter = 0;
  Bytes plain;
  Status s = channel::OpenEvent(*channel::NewCipher(g.cipher, g.key), 0, Direction::kForward,
                                blob.subspan(channel::kGrantSize), &counter, &plain);
  crypto::Wipe(g.key);
  if (s.ok() && counter != 1) s = AuthFailed("state blob does not authenticate");
  if (s.ok()) s = ImportConnections(plain);
  crypto::Wipe(plain);  // keys inside, on every path
  return s;
}

Status Runtime::ImportConnections(ByteSpan plain) {
  ByteReader r(plain);
  uint16_t n = 0;
  if (!r.ReadU16(&n)) return InvalidArgument("malformed state");
  for (uint16_t i = 0; i < n; ++i) {
    uint32_t id = 0;
    uint8_t role = 0, cipher = 0;
    std::string name;
    Connection c{};
    ByteSpan key, prev;
    if (!r.ReadU32(&id) || !r.ReadU8(&role) || !r.ReadString16(&name) || !r.ReadU8(&cipher) ||
        !r.ReadBytes(crypto::kKeySize, &key) || !r.ReadBytes(crypto::kKeySize, &prev) ||
        !r.ReadU64(&c.sent) || !r.ReadU64(&c.last_accepted) || role > 3) {
      return InvalidArgument("malformed state");
    }
    c.role = static_cast<Role>(role);
    // By name: a new version may renumber its endpoints (Bind refuses a
    // name this version lacks).
    while (c.io_index < Limit(c.role) && name != IoName(c.role, c.io_index)) ++c.io_index;
    c.cipher = static_cast<channel::Cipher>(cipher & 0x7f);
    std::copy(key.begin(), key.end(), c.key.k.begin());
    std::copy(prev.begin(), prev.end(), c.prev_key.k.begin());
    c.aead = channel::NewCipher(c.cipher, c.key.k);
    if (cipher & 0x80) c.prev = channel::NewCipher(c.cipher, c.prev_key.k);
    AEX_RETURN_IF_ERROR(WithContext("endpoint '" + name + "'", Bind(id, std::move(c))));
  }
  ByteSpan app = r.rest();
  if (aex_restore_state) aex_restore_state(app.data(), app.size());
  return Status::Ok();
}

uint8_t* Runtime::Scratch() {
  if (!scratch_) scratch_.reset(new uint8_t[AEX_MAX_PAYLOAD]);
  return scratch_.get();
}

Status Runtime::CallEntry(uint32_t index, ByteSpan arg, size_t* out_len) {
  if (disabled_) return Status(Code::kDisabled, "module is disabled");
  if (index >= desc_->n_entries) return NotFound("no such entry");
  if (arg.size() > AEX_MAX_PAYLOAD) return InvalidArgument("argument too large");
  *out_len = desc_->entries[index].fn(arg.data(), arg.size(), Scratch(), AEX_MAX_PAYLOAD);
  if (*out_len > AEX_MAX_PAYLOAD) return Internal("entry returned more than its buffer");
  return Status::Ok();
}

Status Runtime::Accept(uint32_t conn_id, Role role, ByteSpan sealed, Connection** conn,
                       uint64_t* counter) {
  auto it = conns_.find(conn_id);
  if (disabled_ || it == conns_.end() || it->second.role != role) {
    Count(ModuleStats::kRejectedRouting);
    return NotFound("no such connection at this module");
  }
  Connection& c = it->second;
  Status s = channel::OpenEvent(*c.aead, conn_id, Direction::kForward, sealed, counter, &plain_);
  accepted_prev_ = !s.ok() && c.prev &&
                   channel::OpenEvent(*c.prev, conn_id, Direction::kForward, sealed, counter,
                                      &plain_).ok();
  if (accepted_prev_) s = Status::Ok();
  if (!s.ok()) {
    Count(ModuleStats::kRejectedAuth);
    return s;
  }
  if (*counter <= it->second.last_accepted) {
    Count(ModuleStats::kRejectedReplay);
    return Status(Code::kReplay, "replayed or reordered event");
  }
  // Counters the sender sealed but that never arrived: loss made visible,
  // wherever it happened (authenticated, so the node cannot fake it).
  stats_.values[ModuleStats::kLost] += *counter - c.last_accepted - 1;
  c.last_accepted = *counter;
  if (!accepted_prev_ && c.prev) {  // the sender has switched: retire the old key
    c.prev.reset();
    crypto::Wipe(c.prev_key.k);
  }
  *conn = &c;
  return Status::Ok();
}

void Runtime::HandleEvent(uint32_t conn_id, ByteSpan sealed) {
  Connection* conn;
  uint64_t counter;
  const uint64_t received = Lap(0, 0, 0);
  if (!Accept(conn_id, Role::kInput, sealed, &conn, &counter).ok()) return;
  const uint64_t opened = Lap(ModuleStats::kOpenNs, ModuleStats::kReceivedAt, received);
  Count(ModuleStats::kEventsAccepted);
  desc_->inputs[conn->io_index].fn(plain_.data(), plain_.size());
  Lap(ModuleStats::kHandlerNs, ModuleStats::kOpenedAt, opened);
}

Status Runtime::HandleRequest(uint32_t conn_id, ByteSpan sealed, Bytes* sealed_response) {
  Connection* conn;
  uint64_t counter;
  AEX_RETURN_IF_ERROR(Accept(conn_id, Role::kHandler, sealed, &conn, &counter));
  Count(ModuleStats::kRequestsHandled);
  uint16_t index = conn->io_index;
  size_t n = desc_->handlers[index].fn(plain_.data(), plain_.size(), Scratch(), AEX_MAX_PAYLOAD);
  if (n > AEX_MAX_PAYLOAD) return Internal("handler returned more than its buffer");
  // The handler may have re-keyed or disabled; look the connection up again.
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return Status(Code::kDisabled, "connection removed by the handler");
  // The response reuses the request's counter in the backward direction,
  // under the key that opened the request.
  auto& aead = accepted_prev_ && it->second.prev ? it->second.prev : it->second.aead;
  return channel::SealEvent(*aead, conn_id, Direction::kBackward, counter,
                            ByteSpan(Scratch(), n), sealed_response);
}

Status Runtime::SealAndSend(uint32_t conn_id, Connection& conn, MsgType type, uint32_t request_id,
                            ByteSpan data) {
  if (conn.sent >= channel::kMaxCounter) return Status(Code::kResourceExhausted, "counter spent");
  const uint64_t counter = ++conn.sent;  // spent even on failure: never sealed twice
  sealed_.clear();
  const uint64_t start = type == MsgType::kEvent ? Lap(0, 0, 0) : 0;
  AEX_RETURN_IF_ERROR(
      channel::SealEvent(*conn.aead, conn_id, Direction::kForward, counter, data, &sealed_));
  Lap(ModuleStats::kSealNs, ModuleStats::kSealedAt, start);
  return channel_.WriteOp(type, request_id, wire::ModuleOp{module_id_, conn_id, sealed_});
}

int Runtime::EmitOutput(uint16_t index, ByteSpan data) {
  if (disabled_) return AEX_ERR_DISABLED;
  if (index >= output_conns_.size()) return AEX_ERR_NOT_CONNECTED;
  if (data.size() > AEX_MAX_PAYLOAD) return AEX_ERR_TOO_LARGE;
  int sent = 0;
  for (uint32_t conn_id : output_conns_[index]) {
    Status s = SealAndSend(conn_id, conns_.at(conn_id), MsgType::kEvent, 0, data);
    if (s.code() == Code::kUnavailable) return AEX_ERR_TRANSPORT;  // the node is gone
    if (!s.ok()) continue;
    Count(ModuleStats::kOutputsSent);
    ++sent;
  }
  return sent;
}

int ModuleMain(int argc, char** argv, const aex_module_desc* desc) {
  uint32_t fd = ~0u, ring = ~0u;  // invalid unless given
  tee::ModuleContext ctx;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--aex-fd") {
      ParseU32(argv[i + 1], &fd);
    } else if (flag == "--aex-ring") {
      ParseU32(argv[i + 1], &ring);
    } else if (flag == "--aex-module-id") {
      ParseU32(argv[i + 1], &ctx.module_id);
    } else if (flag == "--aex-platform-socket") {
      ctx.platform_socket = argv[i + 1];
    } else if (flag == "--aex-sgx-debug") {
      ctx.sgx_debug = std::string_view(argv[i + 1]) == "1";
    } else if (flag == "--aex-sgx-sigstruct") {
      ctx.sgx_sigstruct_hex = argv[i + 1];
    } else if (flag == "--aex-device-fd") {
      uint32_t dev = 0;
      if (ParseU32(argv[i + 1], &dev)) g_device_fd = static_cast<int>(dev);
    }
  }
  void* shared = mmap(nullptr, wire::ring::kBytes, PROT_READ | PROT_WRITE, MAP_SHARED,
                      static_cast<int>(ring), 0);
  if (fd == ~0u || shared == MAP_FAILED || ctx.module_id == 0) {
    fprintf(stderr, "%s: an aex module is started by aex-node, not by hand\n", desc->name);
    return 2;
  }
  auto platform = tee::CreateModulePlatform();
  Status s = platform->Init(ctx);
  if (s.ok()) s = platform->DrawInstanceId();
  if (!s.ok()) {
    // Code number, not Status::ToString: the code names stay out of the TCB.
    fprintf(stderr, "[%s] platform init failed (code %u): %s\n", desc->name,
            static_cast<unsigned>(s.code()), s.message().c_str());
    return 1;
  }
  Runtime runtime(desc, std::move(platform), static_cast<int>(fd),
                  static_cast<uint8_t*>(shared), ctx.module_id);
  g_runtime = &runtime;
  if (g_device_fd >= 0 && aex_device_event && aex_watch_fd) {
    aex_watch_fd(g_device_fd, [](int, void*) { aex_device_event(); }, nullptr);
  }
  return runtime.Run();
}

}  // namespace aex::runtime

// The C API the generated glue and the application call.
using aex::runtime::g_runtime;

extern "C" int aex_emit_output(uint16_t index, const unsigned char* data, size_t len) {
  return g_runtime ? g_runtime->EmitOutput(index, aex::ByteSpan(data, len)) : AEX_ERR_TRANSPORT;
}

extern "C" uint32_t aex_module_id(void) { return g_runtime ? g_runtime->module_id() : 0; }

// The device the node assigned to this module alone at load (aex/device.h).
extern "C" int aex_device_fd(void) { return aex::runtime::g_device_fd; }
