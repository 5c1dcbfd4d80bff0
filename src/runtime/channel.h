// Channel cryptography: how events are sealed and how the deployer hands a
// module its connection keys. Shared, byte for byte, by the trusted runtime
// and the deployer.
//
// Event    sealed = u64 counter || ciphertext || tag
//          nonce  = u32 conn_id || u64 (direction << 63 | counter)
// Every (key, nonce) pair is used once: each connection has its own key, the
// counter strictly increases per direction, and a response reuses its
// request's counter in the other direction. The receiver accepts a counter only
// if it is greater than the last one accepted: no replay, no reordering.
//
// Grant    blob = u32 conn_id | u16 io_index | u8 role | u8 cipher | u64 nonce
//                 | sealed(K_c) under K_m, nonce = "GRNT" || u64 nonce,
//                 ad = u32 module_id || the header above
// so a grant cannot be moved to another module, slot, role or replayed.
// Bit 7 of the cipher byte marks a re-key: the receiver keeps the
// connection's counters and, for opening only, its previous key until an
// event under the new key arrives (docs/update.md). A grant with conn_id 0
// carries a state-transfer key instead (io_index 0: export, 1: import).

#ifndef AEX_RUNTIME_CHANNEL_H_
#define AEX_RUNTIME_CHANNEL_H_

#include <memory>

#include "aex/bytes.h"
#include "aex/status.h"
#include "crypto/crypto.h"

namespace aex::channel {

enum class Cipher : uint8_t { kAes = 0, kSpongent = 1 };
// The end of a connection a module holds.
enum class Role : uint8_t { kOutput = 0, kInput = 1, kRequest = 2, kHandler = 3 };
// Output and request travel forward; a response travels backward.
enum class Direction : uint8_t { kForward = 0, kBackward = 1 };

constexpr size_t kEventOverhead = 8 + crypto::kTagSize;
constexpr uint64_t kMaxCounter = (uint64_t{1} << 63) - 1;
constexpr size_t kGrantSize = 4 + 2 + 1 + 1 + 8 + crypto::kKeySize + crypto::kTagSize;

// nullptr if the cipher is not built into this binary.
std::unique_ptr<crypto::Aead> NewCipher(Cipher cipher, const crypto::Key& key);

crypto::Nonce EventNonce(uint32_t conn_id, Direction dir, uint64_t counter);
// tag (4 bytes) || u64 n: the nonce of a grant ("GRNT") or disable ("DSBL").
crypto::Nonce TaggedNonce(const char tag[4], uint64_t n);
// Appends the sealed event to `out`. REQUIRES: 0 < counter <= kMaxCounter.
Status SealEvent(crypto::Aead& aead, uint32_t conn_id, Direction dir, uint64_t counter,
                 ByteSpan plaintext, Bytes* out);
// Authenticates `sealed`; on success sets *counter and *plaintext. Does not
// check freshness: the caller compares *counter with its last accepted one.
Status OpenEvent(crypto::Aead& aead, uint32_t conn_id, Direction dir, ByteSpan sealed,
                 uint64_t* counter, Bytes* plaintext);

struct KeyGrant {
  uint32_t conn_id = 0;
  uint16_t io_index = 0;
  Role role = Role::kOutput;
  Cipher cipher = Cipher::kAes;
  uint64_t nonce = 0;  // deployer's per-module counter, strictly increasing
  crypto::Key key{};
  bool rekey = false;  // keep counters; keep the old key for opening
};

Result<KeyGrant> UnwrapGrant(crypto::Aead& module_aead, uint32_t module_id, ByteSpan blob);

// Disable command: the tag over u32 module_id under nonce "DSBL" || u64 nonce.
// Grants and disable commands are made by attest/issue.h (deployer and
// attestation manager only; a module only opens them).
Result<uint64_t> OpenDisable(crypto::Aead& module_aead, uint32_t module_id, ByteSpan blob);

}  // namespace aex::channel

#endif  // AEX_RUNTIME_CHANNEL_H_
