// libFuzzer property test of the channel cryptography (src/runtime/channel.h)
// on AES-128-GCM, with fuzzer-chosen keys, connection ids, directions,
// counters, grant fields and payloads:
//   * SealEvent/OpenEvent, WrapGrant/UnwrapGrant, SealDisable/OpenDisable
//     round-trip exactly;
//   * opening under any other connection id, direction, module id or key, or
//     after flipping any one bit, fails;
//   * a sealed event never exposes its plaintext unchanged;
//   * out-of-range counters are refused.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "attest/issue.h"
#include "runtime/channel.h"

namespace {

using aex::Bytes;
using aex::ByteSpan;
namespace channel = aex::channel;
namespace crypto = aex::crypto;

constexpr size_t kMaxAesPayload = 1 << 14;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

crypto::Key ConsumeKey(FuzzedDataProvider& fdp) {
  crypto::Key k{};
  fdp.ConsumeData(k.data(), k.size());
  return k;
}

crypto::Key OtherKey(crypto::Key k) {
  k[0] ^= 0x01;
  return k;
}

void FlipBit(Bytes& b, size_t bit) {
  b[(bit / 8) % b.size()] ^= static_cast<uint8_t>(1u << (bit % 8));
}

void Events(FuzzedDataProvider& fdp, channel::Cipher cipher, const crypto::Key& key) {
  auto aead = channel::NewCipher(cipher, key);
  auto other = channel::NewCipher(cipher, OtherKey(key));
  const uint32_t conn = fdp.ConsumeIntegral<uint32_t>();
  const uint32_t other_conn = conn ^ fdp.ConsumeIntegralInRange<uint32_t>(1, UINT32_MAX);
  const auto dir = fdp.ConsumeBool() ? channel::Direction::kBackward : channel::Direction::kForward;
  const auto other_dir = dir == channel::Direction::kForward ? channel::Direction::kBackward
                                                             : channel::Direction::kForward;
  const uint64_t counter = fdp.ConsumeIntegralInRange<uint64_t>(1, channel::kMaxCounter);
  const uint64_t bad_counter = fdp.ConsumeBool() ? 0
                                                 : fdp.ConsumeIntegralInRange<uint64_t>(
                                                       channel::kMaxCounter + 1, UINT64_MAX);
  const size_t bit = fdp.ConsumeIntegral<uint32_t>();
  const Bytes plain =
      fdp.ConsumeBytes<uint8_t>(fdp.ConsumeIntegralInRange<size_t>(0, kMaxAesPayload));

  Bytes prefix = {0xa5};
  Bytes sealed = prefix;
  Check(channel::SealEvent(*aead, conn, dir, counter, plain, &sealed).ok());
  Check(sealed.size() == 1 + plain.size() + channel::kEventOverhead);
  Check(sealed[0] == 0xa5);
  sealed.erase(sealed.begin());
  Check(aex::LoadU64(sealed.data()) == counter);
  if (plain.size() >= 16) {
    Check(std::memcmp(sealed.data() + 8, plain.data(), plain.size()) != 0);
  }

  uint64_t got = 0;
  Bytes opened;
  Check(channel::OpenEvent(*aead, conn, dir, sealed, &got, &opened).ok());
  Check(got == counter && opened == plain);

  Check(!channel::OpenEvent(*aead, other_conn, dir, sealed, &got, &opened).ok());
  Check(!channel::OpenEvent(*aead, conn, other_dir, sealed, &got, &opened).ok());
  Check(!channel::OpenEvent(*other, conn, dir, sealed, &got, &opened).ok());
  Bytes flipped = sealed;
  FlipBit(flipped, bit);
  Check(!channel::OpenEvent(*aead, conn, dir, flipped, &got, &opened).ok());
  Check(!channel::OpenEvent(*aead, conn, dir, ByteSpan(sealed).first(sealed.size() - 1), &got,
                            &opened)
             .ok());

  Bytes refused;
  Check(!channel::SealEvent(*aead, conn, dir, bad_counter, plain, &refused).ok());
  Check(refused.empty());
  Bytes relabelled = sealed;
  aex::StoreU64(relabelled.data(), bad_counter);
  Check(!channel::OpenEvent(*aead, conn, dir, relabelled, &got, &opened).ok());

  // The same key seals identically through a fresh instance (no state kept
  // between messages other than the key schedule).
  auto fresh = channel::NewCipher(cipher, key);
  Bytes again;
  Check(channel::SealEvent(*fresh, conn, dir, counter, plain, &again).ok());
  Check(again == sealed);
}

void Grants(FuzzedDataProvider& fdp, channel::Cipher cipher, const crypto::Key& module_key) {
  auto aead = channel::NewCipher(cipher, module_key);
  auto other = channel::NewCipher(cipher, OtherKey(module_key));
  const uint32_t module_id = fdp.ConsumeIntegral<uint32_t>();
  channel::KeyGrant g;
  g.conn_id = fdp.ConsumeIntegral<uint32_t>();
  g.io_index = fdp.ConsumeIntegral<uint16_t>();
  g.role = static_cast<channel::Role>(fdp.ConsumeIntegralInRange<uint8_t>(0, 3));
  g.cipher = static_cast<channel::Cipher>(fdp.ConsumeIntegralInRange<uint8_t>(0, 1));
  g.nonce = fdp.ConsumeIntegral<uint64_t>();
  g.key = ConsumeKey(fdp);
  const size_t bit = fdp.ConsumeIntegral<uint32_t>();

  Bytes blob = channel::WrapGrant(*aead, module_id, g);
  Check(blob.size() == channel::kGrantSize);
  auto back = channel::UnwrapGrant(*aead, module_id, blob);
  Check(back.ok());
  Check(back->conn_id == g.conn_id && back->io_index == g.io_index && back->role == g.role &&
        back->cipher == g.cipher && back->nonce == g.nonce && back->key == g.key);
  Check(!channel::UnwrapGrant(*aead, module_id + 1, blob).ok());
  Check(!channel::UnwrapGrant(*other, module_id, blob).ok());
  Bytes flipped = blob;
  FlipBit(flipped, bit);
  Check(!channel::UnwrapGrant(*aead, module_id, flipped).ok());

  const uint64_t nonce = fdp.ConsumeIntegral<uint64_t>();
  Bytes dis = channel::SealDisable(*aead, module_id, nonce);
  Check(dis.size() == 8 + crypto::kTagSize);
  auto n = channel::OpenDisable(*aead, module_id, dis);
  Check(n.ok() && *n == nonce);
  Check(!channel::OpenDisable(*aead, module_id ^ 0x80000000u, dis).ok());
  Check(!channel::OpenDisable(*other, module_id, dis).ok());
  flipped = dis;
  FlipBit(flipped, bit);
  Check(!channel::OpenDisable(*aead, module_id, flipped).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  // AES-128-GCM only: SpongeWrap absorbs 16 bits per permutation call (a
  // 48-byte seal takes ~2 ms at -O2, far more under the sanitizers), which
  // would starve the fuzzer. The same properties are checked for SpongeWrap
  // by tests/runtime/channel_test.cc, and module_message_fuzz opens
  // SpongeWrap blobs.
  const channel::Cipher cipher = channel::Cipher::kAes;
  const crypto::Key key = ConsumeKey(fdp);
  if (fdp.ConsumeBool()) {
    Grants(fdp, cipher, key);
  } else {
    Events(fdp, cipher, key);
  }
  return 0;
}
