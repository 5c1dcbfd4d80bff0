// SPONGENT and Sancus' SpongeWrap, written from the specification; see
// docs/spongent.md for the parameters and their sources.

#include "crypto/spongent.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace aex::crypto {
namespace spongent_internal {
namespace {

constexpr size_t kMaxWords = kMaxStateBytes / 8;
constexpr uint64_t kNibbleLsb = 0x1111111111111111ull;

void Scrub(void* p, size_t n) {
  volatile uint8_t* v = static_cast<volatile uint8_t*>(p);
  while (n--) *v++ = 0;
}

// The SPONGENT S-box S = {E,D,B,0,2,1,4,F,7,A,8,5,9,C,3,6} on the 16 nibbles
// of a word at once, from its algebraic normal form (x0 is the nibble's least
// significant bit). No table, so no secret-dependent memory access.
uint64_t SboxLayer(uint64_t v) {
  const uint64_t m = kNibbleLsb;
  const uint64_t x0 = v & m, x1 = (v >> 1) & m, x2 = (v >> 2) & m, x3 = (v >> 3) & m;
  const uint64_t x12 = x1 & x2, x03 = x0 & x3, x13 = x1 & x3, x23 = x2 & x3;
  const uint64_t x123 = x12 & x3;
  const uint64_t y0 = x0 ^ x1 ^ x12 ^ x3;
  const uint64_t y1 = m ^ x0 ^ x12 ^ x03 ^ x13 ^ x23 ^ x123;
  const uint64_t y2 = m ^ x1 ^ x2 ^ x03 ^ x123;
  const uint64_t y3 = m ^ (x0 & x1) ^ x2 ^ x3 ^ x03 ^ x13 ^ (x03 & x1) ^ (x0 & x23);
  return y0 | (y1 << 1) | (y2 << 2) | (y3 << 3);
}

// Swaps bit i with bit i + delta wherever `mask` has bit i set.
uint64_t DeltaSwap(uint64_t x, uint64_t mask, unsigned delta) {
  const uint64_t t = ((x >> delta) ^ x) & mask;
  return x ^ t ^ (t << delta);
}

// Moves bit 4q + r of a word to bit 16r + q, so 16-bit lane r holds bits
// r, r+4, r+8, ...: rotating the 6 index bits by two is four index-bit swaps,
// (0,2), (1,3), (2,4) and (3,5).
uint64_t Transpose(uint64_t x) {
  x = DeltaSwap(x, 0x0A0A0A0A0A0A0A0Aull, 3);
  x = DeltaSwap(x, 0x00CC00CC00CC00CCull, 6);
  x = DeltaSwap(x, 0x0000F0F00000F0F0ull, 12);
  return DeltaSwap(x, 0x00000000FF00FF00ull, 24);
}

// Feedback taps of the round-counter LFSR (the bits XORed into the new low bit
// on a left shift), by state width; the LFSR is bit_width(taps) bits wide.
// They encode x^6+x^5+1, x^7+x^6+1, x^8+x^4+x^3+x^2+1 and x^9+x^4+1.
unsigned LfsrTaps(unsigned b) {
  return b <= 88 ? 0x030 : b <= 240 ? 0x060 : b <= 480 ? 0x08E : 0x108;
}

}  // namespace

// Internally the state is little-endian 64-bit words: state bit i is bit
// i % 64 of word i / 64, with zeros above bit b.
void Permute(const Variant& v, uint8_t* s) {
  const unsigned b = v.width_bits;
  const size_t n = b / 8, words = (n + 7) / 8, quarter = b / 4;
  const uint64_t top_mask = b % 64 ? (uint64_t{1} << (b % 64)) - 1 : ~uint64_t{0};
  const unsigned taps = LfsrTaps(b), width = std::bit_width(taps);
  uint64_t w[kMaxWords] = {}, o[kMaxWords + 1];
  for (size_t i = 0; i < n; ++i) w[i / 8] |= uint64_t{s[i]} << (8 * (i % 8));
  unsigned ctr = v.lfsr_init;
  for (unsigned round = 0; round < v.rounds; ++round) {
    // Round constant: counter bit k into state bits k and b-1-k (so the
    // bit-reversed counter sits at the top).
    w[0] ^= ctr;
    for (unsigned k = 0; k < width; ++k) {
      w[(b - 1 - k) / 64] ^= uint64_t{(ctr >> k) & 1} << ((b - 1 - k) % 64);
    }
    ctr = ((ctr << 1) | (std::popcount(ctr & taps) & 1)) & ((1u << width) - 1);
    for (size_t c = 0; c < words; ++c) w[c] = SboxLayer(w[c]);
    w[words - 1] &= top_mask;
    // pLayer: bit j goes to j*b/4 mod (b-1), bit b-1 stays. For j = 4q + r
    // that is r*b/4 + q: the new state is, for r = 0..3, the string of bits
    // r, r+4, r+8, ... of the old one, built 64 bits at a time.
    uint64_t acc[4] = {};
    std::memset(o, 0, sizeof(o));
    for (size_t c = 0; c < words; ++c) {
      const uint64_t x = Transpose(w[c]);
      for (unsigned r = 0; r < 4; ++r) acc[r] |= ((x >> (16 * r)) & 0xFFFF) << (16 * (c % 4));
      if (c % 4 != 3 && c + 1 != words) continue;
      for (unsigned r = 0; r < 4; ++r) {
        const size_t d = r * quarter + 64 * (c / 4);
        o[d / 64] |= acc[r] << (d % 64);
        if (d % 64 != 0) o[d / 64 + 1] |= acc[r] >> (64 - d % 64);
        acc[r] = 0;
      }
    }
    std::memcpy(w, o, sizeof(w));
  }
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<uint8_t>(w[i / 8] >> (8 * (i % 8)));
  Scrub(w, sizeof(w));
  Scrub(o, sizeof(o));
}

void Hash(const Variant& v, size_t rate, std::span<const uint8_t> msg,
          std::span<uint8_t> digest) {
  uint8_t s[kMaxStateBytes] = {};
  for (size_t off = 0;; off += rate) {
    const size_t len = std::min(rate, msg.size() - off);
    for (size_t i = 0; i < len; ++i) s[i] ^= msg[off + i];
    // Padding as in the designers' reference code (so their test vectors):
    // the byte after the message is 0x80, then zeros. (Sancus' SpongeWrap
    // pads from the least significant bit instead; see Duplex below.)
    if (len < rate) s[len] ^= 0x80;
    Permute(v, s);
    if (len < rate) break;
  }
  for (size_t o = 0; o < digest.size(); o += rate) {
    if (o != 0) Permute(v, s);
    std::memcpy(digest.data() + o, s, std::min(rate, digest.size() - o));
  }
}

}  // namespace spongent_internal

namespace {

using spongent_internal::Scrub;
constexpr size_t kBlock = 2;  // data bytes per duplex call

// The duplex object of SpongeWrap with Sancus' 18-bit rate. Each call absorbs
// n <= 2 data bytes followed by `tail` (then zeros): the frame bit and the pad
// bit (tail = 2 | frame) or, for an empty input, just the pad bit (tail = 1);
// then applies the permutation and outputs the first 16 state bits. At
// SECURITY=128 the capacity must be >= 2*128, so b >= 274: the 336-bit
// permutation of SPONGENT-224/224/112.
class Duplex {
 public:
  ~Duplex() { Scrub(s_, sizeof(s_)); }
  void Duplexing(const uint8_t* data, size_t n, unsigned tail) {
    for (size_t i = 0; i < n; ++i) s_[i] ^= data[i];
    s_[n] ^= static_cast<uint8_t>(tail);
    spongent_internal::Permute(kPermutation, s_);
  }
  const uint8_t* out() const { return s_; }

 private:
  static constexpr spongent_internal::Variant kPermutation{336, 170, 0x52};
  uint8_t s_[336 / 8] = {};
};

// SpongeWrap of `in` into `out` (either way) with AD ad0 || ad1; writes the tag.
// Frame bits: key blocks 1 except the last; AD blocks 0 except the last; body
// blocks 1 except the last. The last AD and body blocks are always there and may
// be empty. The body block absorbed is the plaintext (the output when opening).
void Wrap(std::span<const uint8_t, 16> key, std::span<const uint8_t> ad0,
          std::span<const uint8_t> ad1, std::span<const uint8_t> in,
          uint8_t* out, bool opening, uint8_t tag[16]) {
  Duplex d;
  for (size_t i = 0; i < 16; i += 2) d.Duplexing(key.data() + i, 2, 2 | (i < 14));
  uint8_t blk[kBlock];
  const size_t ad_size = ad0.size() + ad1.size();
  for (size_t a = 0;; a += kBlock) {
    const size_t len = std::min(kBlock, ad_size - a);  // last iff len == rest
    for (size_t j = a; j < a + len; ++j) blk[j - a] = j < ad0.size() ? ad0[j] : ad1[j - ad0.size()];
    d.Duplexing(blk, len, 2 | (len == ad_size - a));
    if (len == ad_size - a) break;
  }
  for (size_t p = 0;; p += kBlock) {
    const size_t len = std::min(kBlock, in.size() - p);
    for (size_t i = 0; i < len; ++i) {
      const uint8_t y = static_cast<uint8_t>(in[p + i] ^ d.out()[i]);
      blk[i] = opening ? y : in[p + i];
      out[p + i] = y;
    }
    d.Duplexing(blk, len, 2 | (len != in.size() - p));
    if (len == in.size() - p) break;
  }
  Scrub(blk, sizeof(blk));
  for (size_t t = 0; t < kSpongeWrapTagSize; t += kBlock) {
    if (t != 0) d.Duplexing(nullptr, 0, 1);
    std::memcpy(tag + t, d.out(), kBlock);
  }
}

// Constant-time tag check; scrubs `expected`.
bool TagsEqual(uint8_t expected[16], const uint8_t* tag) {
  unsigned diff = 0;
  for (size_t i = 0; i < kSpongeWrapTagSize; ++i) diff |= expected[i] ^ tag[i];
  Scrub(expected, kSpongeWrapTagSize);
  return ((diff + 0xFF) >> 8) == 0;  // no branch on individual bytes
}

}  // namespace

std::array<uint8_t, 16> Spongent128Hash(std::span<const uint8_t> msg) {
  std::array<uint8_t, 16> out;
  spongent_internal::Hash({136, 70, 0x7A}, 1, msg, out);
  return out;
}

void SpongeWrapSeal(std::span<const uint8_t, 16> key, std::span<const uint8_t> ad,
                    std::span<const uint8_t> plaintext, uint8_t* ciphertext_out,
                    uint8_t tag_out[16]) {
  Wrap(key, ad, {}, plaintext, ciphertext_out, /*opening=*/false, tag_out);
}

bool SpongeWrapOpen(std::span<const uint8_t, 16> key, std::span<const uint8_t> ad,
                    std::span<const uint8_t> ciphertext, const uint8_t tag[16],
                    uint8_t* plaintext_out) {
  uint8_t expected[kSpongeWrapTagSize];
  Wrap(key, ad, {}, ciphertext, plaintext_out, /*opening=*/true, expected);
  if (TagsEqual(expected, tag)) return true;
  if (!ciphertext.empty()) Scrub(plaintext_out, ciphertext.size());
  return false;
}

std::array<uint8_t, 16> SancusMac(std::span<const uint8_t, 16> key,
                                  std::span<const uint8_t> data) {
  std::array<uint8_t, 16> tag;
  Wrap(key, data, {}, {}, nullptr, /*opening=*/false, tag.data());
  return tag;
}

std::array<uint8_t, 16> SancusKdf(std::span<const uint8_t, 16> key,
                                  std::span<const uint8_t> data) {
  return SancusMac(key, data);
}

SpongeWrapAead::~SpongeWrapAead() { Scrub(key_.data(), key_.size()); }

Status SpongeWrapAead::Seal(const Nonce& nonce, ByteSpan ad, ByteSpan plaintext,
                            uint8_t* out) {
#ifdef AEX_NONCE_AUDIT
  AuditSeal(key_, nonce);
#endif
  Wrap(key_, nonce, ad, plaintext, out, /*opening=*/false, out + plaintext.size());
  return Status::Ok();
}

Status SpongeWrapAead::Open(const Nonce& nonce, ByteSpan ad, ByteSpan sealed,
                            uint8_t* out) {
  if (sealed.size() < kSpongeWrapTagSize) return AuthFailed("sealed data too short");
  const size_t n = sealed.size() - kSpongeWrapTagSize;
  uint8_t expected[kSpongeWrapTagSize];
  Wrap(key_, nonce, ad, sealed.first(n), out, /*opening=*/true, expected);
  if (TagsEqual(expected, sealed.data() + n)) return Status::Ok();
  if (n != 0) Scrub(out, n);
  return AuthFailed("SpongeWrap tag mismatch");
}

}  // namespace aex::crypto
