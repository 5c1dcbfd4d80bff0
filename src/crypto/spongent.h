// SPONGENT (Bogdanov et al., CHES 2011) and the SpongeWrap authenticated
// encryption, MAC and key derivation that Sancus builds on it, following the
// Sancus toolchain (sancus-compiler's libsancus-crypto) and hardware
// (sancus-core) built with SECURITY=128. See docs/spongent.md for the
// parameters, the sources they come from and what has and has not been
// verified (no public SpongeWrap test vector exists).
//
// Small, allocation-free and exception-free: this is part of the trusted
// runtime.

#ifndef AEX_CRYPTO_SPONGENT_H_
#define AEX_CRYPTO_SPONGENT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "crypto/crypto.h"

namespace aex::crypto {

inline constexpr size_t kSpongeWrapKeySize = 16;
inline constexpr size_t kSpongeWrapTagSize = 16;

// The SPONGENT-128/128/8 hash (b = 136, r = 8, c = 128, 70 rounds), as in the
// designers' reference implementation. This is the standard hash; Sancus'
// SpongeWrap uses a wider SPONGENT permutation (see below), not this one.
std::array<uint8_t, 16> Spongent128Hash(std::span<const uint8_t> msg);

// SpongeWrap exactly as Sancus (SECURITY=128) defines it: the 336-bit SPONGENT
// permutation (that of SPONGENT-224/224/112, 170 rounds), 16 data bits per
// duplex call plus a frame bit and a pad bit, a 128-bit key and a 128-bit tag.
//
// SpongeWrap takes NO nonce argument. It is deterministic: the same key, AD and
// plaintext always give the same ciphertext, so reusing (key, AD) for two
// different plaintexts reveals their XOR. As in Sancus (whose output stubs put
// a 16-bit message counter in the AD), the caller MUST put a value that is
// never repeated under the same key (a counter or random nonce) in `ad`,
// typically as its first bytes; it is authenticated but not encrypted.
//
// `ciphertext_out` has room for plaintext.size() bytes and may equal
// plaintext.data() (in place); it may be null if the plaintext is empty.
void SpongeWrapSeal(std::span<const uint8_t, 16> key,
                    std::span<const uint8_t> ad,
                    std::span<const uint8_t> plaintext,
                    uint8_t* ciphertext_out, uint8_t tag_out[16]);

// Decrypts and checks the tag in constant time. Returns false, with
// ciphertext.size() zero bytes in `plaintext_out`, if the tag does not match.
// `plaintext_out` may equal ciphertext.data().
[[nodiscard]] bool SpongeWrapOpen(std::span<const uint8_t, 16> key,
                                  std::span<const uint8_t> ad,
                                  std::span<const uint8_t> ciphertext,
                                  const uint8_t tag[16],
                                  uint8_t* plaintext_out);

// Sancus' MAC (sancus_tag, sancus-crypto --tag): the SpongeWrap tag with
// `data` as associated data and an empty plaintext.
std::array<uint8_t, 16> SancusMac(std::span<const uint8_t, 16> key,
                                  std::span<const uint8_t> data);

// Sancus' key derivation, which is the MAC above: vendor key
// K_N,SP = SancusKdf(K_N, LE16(vendor_id)); module key
// K_N,SP,SM = SancusKdf(K_N,SP, text || LE16(public_start) || LE16(public_end)
//                       || LE16(secret_start) || LE16(secret_end)).
std::array<uint8_t, 16> SancusKdf(std::span<const uint8_t, 16> key,
                                  std::span<const uint8_t> data);

namespace spongent_internal {

// Implementations of the 336-bit permutation; each keeps the state in its
// own layout (see spongent.cc). The active one is chosen once per process:
// the fastest the CPU supports, or kPortable if the environment variable
// AEX_SPONGENT_PORTABLE is "1".
enum class Impl336 : uint8_t { kPortable, kBmi2, kAvx512 };

// A SpongeWrap duplex state (336 bits) in the layout of `impl`, and the 2
// bytes the last duplex call output. Zero `w` is the zero state in every
// layout.
struct DuplexState {
  alignas(64) uint64_t w[8] = {};
  Impl336 impl = Impl336::kPortable;
  uint8_t out[2] = {};
};

}  // namespace spongent_internal

// The SpongeWrap above behind the crypto::Aead interface, for aex channels:
// the 12-byte nonce is absorbed as the first 12 bytes of the associated data
// (AD' = nonce || ad), which is how Sancus passes its nonce. Not thread-safe.
class SpongeWrapAead final : public Aead {
 public:
  explicit SpongeWrapAead(const Key& key);
  ~SpongeWrapAead() override;
  SpongeWrapAead(const SpongeWrapAead&) = delete;
  SpongeWrapAead& operator=(const SpongeWrapAead&) = delete;

  Status Seal(const Nonce& nonce, ByteSpan ad, ByteSpan plaintext,
              uint8_t* out) override;
  Status Open(const Nonce& nonce, ByteSpan ad, ByteSpan sealed,
              uint8_t* out) override;

 private:
  // The duplex state after the key blocks: every message starts from a copy
  // (the key itself is not kept).
  spongent_internal::DuplexState keyed_;
#ifdef AEX_NONCE_AUDIT
  Key audit_key_;
#endif
};

// Internals of SpongeWrap's permutation, exposed for the tests that check
// every implementation against the published vectors and a reference
// permutation (tests/crypto/spongent_test.cc). Not for other use.
namespace spongent_internal {

// Whether this CPU can run `impl`; the one SpongeWrap uses.
bool Supported(Impl336 impl);
Impl336 ActiveImpl336();

// The 336-bit permutation (b = 336, 170 rounds, counter 0x52) on a state in
// the reference order (state bit i is bit i % 8 of byte i / 8), through
// `impl`. REQUIRES: Supported(impl).
void Permute336(Impl336 impl, uint8_t state[42]);

// One SpongeWrap duplex call: XOR n <= 2 data bytes and then `tail` into
// state bytes 0..n, permute, and set s.out to state bytes 0 and 1.
void DuplexCall(DuplexState& s, const uint8_t* data, size_t n, unsigned tail);

}  // namespace spongent_internal
}  // namespace aex::crypto

#endif  // AEX_CRYPTO_SPONGENT_H_
