// libFuzzer target for what a module's trusted runtime accepts from its
// (untrusted) node: the module message envelope (ModuleOp), results,
// statistics, and the sealed blobs inside them (key grants, disable commands,
// events and responses), opened under a fixed module key and a fixed
// connection key.
//
// The input is used three ways:
//   1. as a frame body the runtime dispatches (src/runtime/runtime.cc):
//      ModuleOp -> UnwrapGrant / OpenDisable / OpenEvent by message type;
//   2. as a bare ModuleOp, ModuleStats and ResultMsg payload;
//   3. as a bare grant, disable and sealed-event blob (AES only, for speed).
// A fuzzer cannot forge a tag, so every blob it mutates must be refused; the
// checked-in corpus holds valid blobs under the same fixed keys, so the
// accepting paths run too. Whatever is accepted must re-seal to exactly the
// accepted bytes (the formats are deterministic and canonical).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "attest/issue.h"
#include "runtime/channel.h"
#include "wire/frame.h"
#include "wire/module_messages.h"

namespace {

using aex::Bytes;
using aex::ByteSpan;
namespace channel = aex::channel;
namespace crypto = aex::crypto;
namespace wire = aex::wire;

// The fixed keys and module id; fuzz/corpus/module_message_fuzz was generated
// with the same values.
constexpr uint32_t kModuleId = 7;
constexpr crypto::Key kModuleKey = {0x6d, 0x6f, 0x64, 0x75, 0x6c, 0x65, 0x2d, 0x6b,
                                    0x65, 0x79, 0x2d, 0x30, 0x30, 0x30, 0x30, 0x31};
constexpr crypto::Key kConnKey = {0x63, 0x6f, 0x6e, 0x6e, 0x2d, 0x6b, 0x65, 0x79,
                                  0x2d, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x31};
// SpongeWrap absorbs 16 bits per permutation call (about 10 ms per KiB under
// the sanitizers): it sees only short inputs, and only through the dispatch
// path (the bare-blob paths run the same parsing code as for AES), so that each
// run stays fast.
constexpr size_t kMaxSpongentInput = 512;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

bool Same(const Bytes& a, ByteSpan b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

struct Keys {
  std::unique_ptr<crypto::Aead> module;
  std::unique_ptr<crypto::Aead> conn;
};

Keys& KeysFor(channel::Cipher c) {
  static Keys aes{channel::NewCipher(channel::Cipher::kAes, kModuleKey),
                  channel::NewCipher(channel::Cipher::kAes, kConnKey)};
  static Keys spongent{channel::NewCipher(channel::Cipher::kSpongent, kModuleKey),
                       channel::NewCipher(channel::Cipher::kSpongent, kConnKey)};
  return c == channel::Cipher::kAes ? aes : spongent;
}

void TryGrant(crypto::Aead& aead, uint32_t module_id, ByteSpan blob) {
  auto g = channel::UnwrapGrant(aead, module_id, blob);
  if (!g.ok()) return;
  Check(blob.size() == channel::kGrantSize);
  Check(static_cast<uint8_t>(g->role) <= 3 && static_cast<uint8_t>(g->cipher) <= 1);
  Check(Same(channel::WrapGrant(aead, module_id, *g), blob));
}

void TryDisable(crypto::Aead& aead, uint32_t module_id, ByteSpan blob) {
  auto n = channel::OpenDisable(aead, module_id, blob);
  if (!n.ok()) return;
  Check(Same(channel::SealDisable(aead, module_id, *n), blob));
}

void TryEvent(crypto::Aead& aead, uint32_t conn_id, channel::Direction dir, ByteSpan sealed) {
  uint64_t counter = 0;
  Bytes plain;
  aex::Status s = channel::OpenEvent(aead, conn_id, dir, sealed, &counter, &plain);
  if (!s.ok()) return;
  Check(counter != 0 && counter <= channel::kMaxCounter);
  Check(plain.size() + channel::kEventOverhead == sealed.size());
  Bytes again;
  Check(channel::SealEvent(aead, conn_id, dir, counter, plain, &again).ok());
  Check(Same(again, sealed));
}

// What Runtime::Dispatch does with a frame body, minus the application.
void Dispatch(Keys& keys, ByteSpan body) {
  auto frame = wire::ParseFrameBody(body);
  if (!frame.ok()) return;
  if (frame->type == wire::MsgType::kResult) {
    // The answer to one of the module's own requests: a sealed response.
    auto result = wire::ResultMsg::Parse(frame->payload);
    if (result.ok()) {
      TryEvent(*keys.conn, frame->request_id, channel::Direction::kBackward, result->payload);
    }
    return;
  }
  auto op = wire::ModuleOp::Parse(frame->payload);
  if (!op.ok()) return;
  Check(Same(op->Encode(), frame->payload));
  switch (frame->type) {
    case wire::MsgType::kSetKey:
      TryGrant(*keys.module, op->module_id, op->data);
      break;
    case wire::MsgType::kDisable:
      TryDisable(*keys.module, op->module_id, op->data);
      break;
    case wire::MsgType::kEvent:
    case wire::MsgType::kRequest:
      TryEvent(*keys.conn, op->aux, channel::Direction::kForward, op->data);
      break;
    // aex update: a state-transfer grant; for an import, followed by the state
    // sealed as an event (conn 0, forward, counter 1) under the grant's key.
    case wire::MsgType::kExportState:
      TryGrant(*keys.module, op->module_id, op->data);
      break;
    case wire::MsgType::kImportState:
      if (op->data.size() >= channel::kGrantSize) {
        TryGrant(*keys.module, op->module_id, op->data.first(channel::kGrantSize));
        TryEvent(*keys.conn, 0, channel::Direction::kForward,
                 op->data.subspan(channel::kGrantSize));
      }
      break;
    default:
      break;
  }
}

void RunWith(channel::Cipher cipher, ByteSpan in) {
  Keys& keys = KeysFor(cipher);
  if (!keys.module || !keys.conn) return;  // cipher not built in
  Dispatch(keys, in);
  if (cipher != channel::Cipher::kAes) return;  // bare blobs: AES only (speed)
  TryGrant(*keys.module, kModuleId, in);
  TryDisable(*keys.module, kModuleId, in);
  // The connection id a sealed event names is not in the blob: use the one
  // the corpus was sealed for and a neighbour.
  for (uint32_t conn : {1u, 2u}) {
    TryEvent(*keys.conn, conn, channel::Direction::kForward, in);
    TryEvent(*keys.conn, conn, channel::Direction::kBackward, in);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(data, size);

  if (auto op = wire::ModuleOp::Parse(in); op.ok()) Check(Same(op->Encode(), in));
  if (size > 0) {
    if (auto op = wire::ModuleOp::Parse(in.subspan(1), data[0]); op.ok()) {
      Check(op->data.size() <= data[0]);
    }
  }
  (void)wire::ModuleStats::Parse(in);
  if (auto r = wire::ResultMsg::Parse(in); r.ok()) {
    (void)r->ToStatus().ToString();
  }

  RunWith(channel::Cipher::kAes, in);
  if (size <= kMaxSpongentInput) RunWith(channel::Cipher::kSpongent, in);
  return 0;
}
