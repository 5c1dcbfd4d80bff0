// SPONGENT and Sancus' SpongeWrap, written from the specification; see
// docs/spongent.md for the parameters and their sources.

#include "crypto/spongent.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace aex::crypto {
namespace spongent_internal {
namespace {

void Scrub(void* p, size_t n) {
  volatile uint8_t* v = static_cast<volatile uint8_t*>(p);
  while (n--) *v++ = 0;
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

// The S-box S = {E,D,B,0,2,1,4,F,7,A,8,5,9,C,3,6} bitsliced: x_r holds bit r
// of many nibbles; from its algebraic normal form. No table, so no
// secret-dependent memory access.
inline void SboxPlanes(uint64_t& x0, uint64_t& x1, uint64_t& x2, uint64_t& x3) {
  const uint64_t x12 = x1 & x2, x03 = x0 & x3, x13 = x1 & x3, x23 = x2 & x3;
  const uint64_t x123 = x12 & x3;
  const uint64_t y0 = x0 ^ x1 ^ x12 ^ x3;
  const uint64_t y1 = ~(x0 ^ x12 ^ x03 ^ x13 ^ x23 ^ x123);
  const uint64_t y2 = ~(x1 ^ x2 ^ x03 ^ x123);
  const uint64_t y3 = ~((x0 & x1) ^ x2 ^ x3 ^ x03 ^ x13 ^ (x03 & x1) ^ (x0 & x23));
  x0 = y0, x1 = y1, x2 = y2, x3 = y3;
}

// The round-counter values of a permutation: the LFSR shifts left, its new
// low bit the parity of ctr & taps; it is bit_width(taps) bits wide. Taps
// 0x60 encode x^7+x^6+1 (b = 136), 0x8E x^8+x^4+x^3+x^2+1 (b = 336).
template <size_t N>
constexpr std::array<uint16_t, N> Counters(unsigned ctr, unsigned taps) {
  std::array<uint16_t, N> c{};
  for (size_t i = 0; i < N; ++i) {
    c[i] = static_cast<uint16_t>(ctr);
    ctr = ((ctr << 1) | (std::popcount(ctr & taps) & 1)) & ((1u << std::bit_width(taps)) - 1);
  }
  return c;
}

// Plane form of the round constants of a b-bit permutation: counter bit k
// goes into state bits k and b-1-k, so into nibbles 0, 1, b/4-2 and b/4-1;
// bits 0..3 of nibble r of entry i are plane r's bits at those four nibbles.
template <size_t N>
constexpr std::array<uint16_t, N> PlaneConstants(unsigned b, const std::array<uint16_t, N>& ctr) {
  std::array<uint16_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    for (unsigned k = 0; k < 16; ++k) {
      if (!((ctr[i] >> k) & 1)) continue;
      for (unsigned bit : {k, b - 1 - k}) {
        const unsigned q = bit / 4, slot = q < 2 ? q : q + 4 - b / 4;
        out[i] ^= static_cast<uint16_t>(1u << (4 * (bit % 4) + slot));
      }
    }
  }
  return out;
}

constexpr std::array<uint16_t, 70> kPlaneRc136 = PlaneConstants(136, Counters<70>(0x7A, 0x60));

// The 136-bit permutation of SPONGENT-128/128/8 (70 rounds, 7-bit counter
// x^7+x^6+1 from 0x7A) on four bit planes: x[r] bit q = state bit 4q + r
// (bits 34..63 junk). The pLayer sends state bit 4q + r to 34r + q, whose
// plane is (2r + q) % 4: new plane c takes from old plane r the bits
// q = f, f+4, ... with f = (c - 2r) % 4, placed from bit (34r + f) / 4 on.
void Permute136(uint64_t x[4]) {
  for (unsigned round = 0; round < 70; ++round) {
    for (unsigned r = 0; r < 4; ++r) {
      const unsigned rc = kPlaneRc136[round] >> (4 * r);
      x[r] ^= (rc & 3) | (uint64_t{(rc >> 2) & 3} << 32);
    }
    SboxPlanes(x[0], x[1], x[2], x[3]);
    uint64_t t[4], y[4] = {};
    for (unsigned r = 0; r < 4; ++r) t[r] = Transpose(x[r]);
#pragma GCC unroll 4
    for (unsigned c = 0; c < 4; ++c) {
#pragma GCC unroll 4
      for (unsigned r = 0; r < 4; ++r) {
        const unsigned f = (c + 8 - 2 * r) % 4;
        y[c] |= ((t[r] >> (16 * f)) & (f < 2 ? 0x1FF : 0xFF)) << ((34 * r + f) / 4);
      }
    }
    for (unsigned c = 0; c < 4; ++c) x[c] = y[c];
  }
}

// XORs byte v into state byte 0 (nibbles 0 and 1) of the planes.
void XorByte0(uint64_t x[4], unsigned v) {
  for (unsigned r = 0; r < 4; ++r) x[r] ^= ((v >> r) & 1) | (((v >> (4 + r)) & 1) << 1);
}

}  // namespace

// ---------------------------------------------------------------------------
// The 336-bit permutation of SpongeWrap, fast. Two representations of the
// state, each kept across all rounds and all duplex calls (only the first
// three bytes are ever absorbed and the first two squeezed):
//
// Planes (portable and BMI2): plane r = bit r of each of the 84 nibbles,
// nibble q at bit q of lo[r] (q < 64) or of hi[r] (q >= 64). The S-box is a
// boolean circuit on the planes. The pLayer sends nibble q's bit r to state
// bit 84r + q, i.e. nibble 21r + q/4, bit q%4: new plane c is, for r = 0..3,
// the bits q = c, c+4, ..., c+80 of old plane r placed at 21r.
//
// Bytes (AVX-512 VBMI + GFNI): the 84 nibbles packed two per byte of a
// 512-bit register (Avx512Pos below). Per round: S-box by byte shuffles of
// a 16-entry register table; then, for each group of four nibbles 4a..4a+3,
// a 4x4 bit transpose, whose row r is exactly new nibble 21r + a. The
// transpose is GF2P8AFFINEQB with the data as the 8x8 matrix (8 rows = the
// S-boxed nibbles of two groups, gathered by VPERMT2B), so a round is two
// shuffles, two permutes, two affine ops and an XOR.
//
// Both are constant time: no branch and no memory index depends on the
// state (the shuffles and permutes index registers, not memory).

namespace {

constexpr unsigned kRounds336 = 170;

constexpr std::array<uint16_t, kRounds336> kCtr336 = Counters<kRounds336>(0x52, 0x8E);
constexpr std::array<uint16_t, kRounds336> kPlaneRc = PlaneConstants(336, kCtr336);

// Bits c, c+4, ..., c+80 of the plane (lo, hi), as 21 bits: portable, from
// the per-word transposes t_lo = Transpose(lo), t_hi = Transpose(hi).
struct GatherPortable {
  uint64_t t_lo, t_hi;
  GatherPortable(uint64_t lo, uint64_t hi) : t_lo(Transpose(lo)), t_hi(Transpose(hi)) {}
  uint64_t operator()(unsigned c) const {
    return ((t_lo >> (16 * c)) & 0xFFFF) | (((t_hi >> (16 * c)) & 0x1F) << 16);
  }
};

template <typename Gather>
__attribute__((always_inline)) inline void PermutePlanes(DuplexState& s) {
  uint64_t lo[4], hi[4];
  for (unsigned r = 0; r < 4; ++r) lo[r] = s.w[r], hi[r] = s.w[4 + r];
  for (unsigned i = 0; i < kRounds336; ++i) {
    for (unsigned r = 0; r < 4; ++r) {
      const unsigned rc = kPlaneRc[i] >> (4 * r);
      lo[r] ^= rc & 3;
      hi[r] ^= uint64_t{(rc >> 2) & 3} << 18;
    }
    SboxPlanes(lo[0], lo[1], lo[2], lo[3]);
    SboxPlanes(hi[0], hi[1], hi[2], hi[3]);  // bits 20..63 of hi are junk
    const Gather g[4] = {{lo[0], hi[0]}, {lo[1], hi[1]}, {lo[2], hi[2]}, {lo[3], hi[3]}};
#pragma GCC unroll 4
    for (unsigned c = 0; c < 4; ++c) {
      const uint64_t g3 = g[3](c);
      lo[c] = g[0](c) | (g[1](c) << 21) | (g[2](c) << 42) | (g3 << 63);
      hi[c] = g3 >> 1;
    }
  }
  for (unsigned r = 0; r < 4; ++r) s.w[r] = lo[r], s.w[4 + r] = hi[r];
}

void PermutePortable(DuplexState& s) { PermutePlanes<GatherPortable>(s); }

#if defined(__x86_64__)
#define AEX_SPONGENT_X86 1

struct GatherBmi2 {
  uint64_t lo, hi;
  __attribute__((target("bmi2"))) uint64_t operator()(unsigned c) const {
    return _pext_u64(lo, 0x1111111111111111ull << c) | (_pext_u64(hi, 0x11111ull << c) << 16);
  }
};

__attribute__((target("bmi2"))) void PermuteBmi2(DuplexState& s) {
  PermutePlanes<GatherBmi2>(s);
}

// Byte form: where nibble n (0..83) lives. With n = 21r + a: groups a (of
// the 4x4 transposes) are paired two per 64-bit lane, a even in the low
// nibbles, a odd in the high ones; groups 0..15 fill bytes 0..3 of lanes
// 0..7 (byte 8*(a/2) + r), groups 16..20 bytes 4..7 of lanes 0..2.
struct NibblePos {
  unsigned byte, high;
};
constexpr NibblePos Avx512Pos(unsigned n) {
  const unsigned r = n / 21, a = n % 21;
  return {a < 16 ? 8 * (a / 2) + r : 8 * ((a - 16) / 2) + 4 + r, a & 1};
}

// VPERMT2B indices gathering the transpose rows: lane L of the first
// (second) register transposes groups x = 2L, y = 2L + 1 (x = 16 + 2L,
// y = 17 + 2L); rows 7..4 are nibbles 4x + 0..3 and rows 3..0 nibbles
// 4y + 0..3, taken from the low-nibble table output (index < 64) or the
// high-nibble one (index + 64). Row j of a lane becomes bit 7 - j of every
// output byte, so byte r of the lane is [new nibble 21r+x | 21r+y].
constexpr std::array<uint8_t, 64> RowIndex(unsigned first_group) {
  std::array<uint8_t, 64> idx{};
  for (unsigned b = 0; b < 64; ++b) {
    const unsigned lane = b / 8, row = b % 8;
    const unsigned group = first_group + 2 * lane + (row < 4), nib = row < 4 ? 3 - row : 7 - row;
    if (group > 20) continue;  // padding rows; their output is never read
    const NibblePos p = Avx512Pos(4 * group + nib);
    idx[b] = static_cast<uint8_t>(p.byte | (p.high << 6));
  }
  return idx;
}
alignas(64) constexpr std::array<uint8_t, 64> kRows1 = RowIndex(0), kRows2 = RowIndex(16);

// GF2P8AFFINEQB operands selecting, for output byte j, column (bit) j of the
// lane's 8x8 matrix: bytes 0..3 of lanes 0..7 for the first register,
// bytes 4..7 of lanes 0..2 for the second.
constexpr std::array<uint8_t, 64> Columns(bool second) {
  std::array<uint8_t, 64> sel{};
  for (unsigned b = 0; b < 64; ++b) {
    const unsigned lane = b / 8, j = b % 8;
    if (!second && j < 4) sel[b] = static_cast<uint8_t>(1u << j);
    if (second && lane < 3 && j >= 4) sel[b] = static_cast<uint8_t>(1u << (j - 4));
  }
  return sel;
}
alignas(64) constexpr std::array<uint8_t, 64> kCols1 = Columns(false), kCols2 = Columns(true);

// Byte form of round constant i: the constant touches nibbles 0, 1, 82 and
// 83, i.e. bytes 0, 15 and 23; packed as those three bytes.
constexpr std::array<uint32_t, kRounds336 + 1> ByteConstants() {
  std::array<uint32_t, kRounds336 + 1> out{};  // out[170] = 0: no round 170
  for (unsigned i = 0; i < kRounds336; ++i) {
    for (unsigned k = 0; k < 8; ++k) {
      if (!((kCtr336[i] >> k) & 1)) continue;
      for (unsigned bit : {k, 335 - k}) {
        const NibblePos p = Avx512Pos(bit / 4);
        const unsigned slot = p.byte == 0 ? 0 : p.byte == 15 ? 1 : 2;
        out[i] ^= 1u << (8 * slot + 4 * p.high + bit % 4);
      }
    }
  }
  return out;
}
constexpr std::array<uint32_t, kRounds336 + 1> kByteRc = ByteConstants();

// VPSHUFB table (per 128-bit lane): S(v) in both nibbles of byte v.
constexpr std::array<uint8_t, 64> SboxBoth() {
  constexpr uint8_t kS[16] = {14, 13, 11, 0, 2, 1, 4, 15, 7, 10, 8, 5, 9, 12, 3, 6};
  std::array<uint8_t, 64> t{};
  for (unsigned i = 0; i < 64; ++i) t[i] = static_cast<uint8_t>(0x11 * kS[i % 16]);
  return t;
}
alignas(64) constexpr std::array<uint8_t, 64> kSboxBoth = SboxBoth();

#define AEX_AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi,gfni")))

AEX_AVX512_TARGET inline __m512i ByteConstant(unsigned i) {
  // Packed bytes 0, 1, 2 to bytes 0, 15, 23.
  const __m512i spread =
      _mm512_set_epi64(0, 0, 0, 0, 0, 0x0200000000000000ull, 0x0100000000000000ull, 0);
  return _mm512_maskz_permutexvar_epi8((1ull << 0) | (1ull << 15) | (1ull << 23), spread,
                                       _mm512_zextsi128_si512(_mm_cvtsi32_si128(
                                           static_cast<int>(kByteRc[i]))));
}

AEX_AVX512_TARGET void PermuteAvx512(DuplexState& s) {
  const __m512i table = _mm512_load_si512(kSboxBoth.data());
  const __m512i low = _mm512_set1_epi8(0x0F);
  const __m512i rows1 = _mm512_load_si512(kRows1.data()), rows2 = _mm512_load_si512(kRows2.data());
  const __m512i cols1 = _mm512_load_si512(kCols1.data()), cols2 = _mm512_load_si512(kCols2.data());
  __m512i x = _mm512_xor_si512(_mm512_loadu_si512(s.w), ByteConstant(0));
  for (unsigned i = 0; i < kRounds336; ++i) {
    // S-box of every low and every high nibble, each result in both halves.
    const __m512i sl = _mm512_shuffle_epi8(table, _mm512_and_si512(x, low));
    const __m512i sh = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(x, 4), low));
    // Gather the rows, transpose; t1 and t2 fill disjoint bytes.
    const __m512i r1 = _mm512_permutex2var_epi8(sl, rows1, sh);
    const __m512i r2 = _mm512_permutex2var_epi8(sl, rows2, sh);
    const __m512i t1 = _mm512_gf2p8affine_epi64_epi8(cols1, r1, 0);
    const __m512i t2 = _mm512_gf2p8affine_epi64_epi8(cols2, r2, 0);
    x = _mm512_ternarylogic_epi64(t1, t2, ByteConstant(i + 1), 0x96);  // t1 ^ t2 ^ rc
  }
  _mm512_storeu_si512(s.w, x);
}
#endif  // __x86_64__

}  // namespace

namespace {

Impl336 DetectImpl() {
  const char* portable = std::getenv("AEX_SPONGENT_PORTABLE");
  if (portable != nullptr && std::strcmp(portable, "1") == 0) return Impl336::kPortable;
  if (Supported(Impl336::kAvx512)) return Impl336::kAvx512;
  if (Supported(Impl336::kBmi2)) return Impl336::kBmi2;
  return Impl336::kPortable;
}

void Permute(DuplexState& s) {
  switch (s.impl) {
#ifdef AEX_SPONGENT_X86
    case Impl336::kAvx512: return PermuteAvx512(s);
    case Impl336::kBmi2: return PermuteBmi2(s);
#endif
    default: return PermutePortable(s);
  }
}

uint8_t* StateBytes(DuplexState& s) { return reinterpret_cast<uint8_t*>(s.w); }

// Nibble n of the natural-order state (bits 4n..4n+3), in either layout.
unsigned GetNibble(DuplexState& s, unsigned n) {
#ifdef AEX_SPONGENT_X86
  if (s.impl == Impl336::kAvx512) {
    const NibblePos p = Avx512Pos(n);
    return (StateBytes(s)[p.byte] >> (4 * p.high)) & 15;
  }
#endif
  unsigned v = 0;
  for (unsigned r = 0; r < 4; ++r) v |= ((s.w[4 * (n / 64) + r] >> (n % 64)) & 1) << r;
  return v;
}

// XORs `v` (4 bits) into nibble n.
void XorNibble(DuplexState& s, unsigned n, unsigned v) {
#ifdef AEX_SPONGENT_X86
  if (s.impl == Impl336::kAvx512) {
    const NibblePos p = Avx512Pos(n);
    StateBytes(s)[p.byte] ^= static_cast<uint8_t>(v << (4 * p.high));
    return;
  }
#endif
  for (unsigned r = 0; r < 4; ++r) s.w[4 * (n / 64) + r] ^= uint64_t{(v >> r) & 1} << (n % 64);
}

}  // namespace

bool Supported(Impl336 impl) {
#ifdef AEX_SPONGENT_X86
  __builtin_cpu_init();
  if (impl == Impl336::kAvx512) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("gfni");
  }
  if (impl == Impl336::kBmi2) {
    // AMD before Zen 3 runs PEXT in microcode (hundreds of cycles): slower
    // than the portable gather there.
    const bool slow_pext = __builtin_cpu_is("znver1") || __builtin_cpu_is("znver2");
    return __builtin_cpu_supports("bmi2") && !slow_pext;
  }
#endif
  return impl == Impl336::kPortable;
}

Impl336 ActiveImpl336() {
  static const Impl336 impl = DetectImpl();
  return impl;
}

void Permute336(Impl336 impl, uint8_t state[42]) {
  DuplexState s;
  s.impl = impl;
  for (unsigned n = 0; n < 84; ++n) XorNibble(s, n, (state[n / 2] >> (4 * (n % 2))) & 15);
  Permute(s);
  for (unsigned n = 0; n < 84; ++n) {
    const unsigned v = GetNibble(s, n);
    state[n / 2] = static_cast<uint8_t>(n % 2 ? (state[n / 2] & 0x0F) | (v << 4) : v);
  }
  Scrub(&s, sizeof(s));
}

void DuplexCall(DuplexState& s, const uint8_t* data, size_t n, unsigned tail) {
  uint8_t in[3] = {};
  for (size_t i = 0; i < n; ++i) in[i] = data[i];
  in[n] = static_cast<uint8_t>(tail);
  for (unsigned k = 0; k < 6; ++k) XorNibble(s, k, (in[k / 2] >> (4 * (k % 2))) & 15);
  Permute(s);
  for (unsigned k = 0; k < 4; ++k) {
    const unsigned v = GetNibble(s, k);
    s.out[k / 2] = static_cast<uint8_t>(k % 2 ? s.out[k / 2] | (v << 4) : v);
  }
  Scrub(in, sizeof(in));
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
// permutation of SPONGENT-224/224/112 (spongent_internal::DuplexCall).
class Duplex {
 public:
  explicit Duplex(const spongent_internal::DuplexState& from) : s_(from) {}
  ~Duplex() { Scrub(&s_, sizeof(s_)); }
  Duplex(const Duplex&) = delete;
  Duplex& operator=(const Duplex&) = delete;
  void Duplexing(const uint8_t* data, size_t n, unsigned tail) {
    spongent_internal::DuplexCall(s_, data, n, tail);
  }
  const uint8_t* out() const { return s_.out; }
  const spongent_internal::DuplexState& state() const { return s_; }

 private:
  spongent_internal::DuplexState s_;
};

// A fresh duplex object with the key absorbed: key blocks have frame bit 1
// except the last.
spongent_internal::DuplexState Keyed(std::span<const uint8_t, 16> key) {
  spongent_internal::DuplexState fresh;
  fresh.impl = spongent_internal::ActiveImpl336();
  Duplex d(fresh);
  for (size_t i = 0; i < 16; i += 2) d.Duplexing(key.data() + i, 2, 2 | (i < 14));
  return d.state();  // the caller scrubs it
}

// SpongeWrap of `in` into `out` (either way) with AD ad0 || ad1, from the keyed
// state `d`; writes the tag. Frame bits: AD blocks 0 except the last; body
// blocks 1 except the last. The last AD and body blocks are always there and may
// be empty. The body block absorbed is the plaintext (the output when opening).
void WrapKeyed(Duplex& d, std::span<const uint8_t> ad0, std::span<const uint8_t> ad1,
               std::span<const uint8_t> in, uint8_t* out, bool opening, uint8_t tag[16]) {
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

void Wrap(std::span<const uint8_t, 16> key, std::span<const uint8_t> ad0,
          std::span<const uint8_t> ad1, std::span<const uint8_t> in,
          uint8_t* out, bool opening, uint8_t tag[16]) {
  spongent_internal::DuplexState keyed = Keyed(key);
  Duplex d(keyed);
  Scrub(&keyed, sizeof(keyed));
  WrapKeyed(d, ad0, ad1, in, out, opening, tag);
}

// Constant-time tag check; scrubs `expected`.
bool TagsEqual(uint8_t expected[16], const uint8_t* tag) {
  unsigned diff = 0;
  for (size_t i = 0; i < kSpongeWrapTagSize; ++i) diff |= expected[i] ^ tag[i];
  Scrub(expected, kSpongeWrapTagSize);
  return ((diff + 0xFF) >> 8) == 0;  // no branch on individual bytes
}

}  // namespace

// Sponge with a rate of one byte (state byte 0); padding as in the designers'
// reference code (so their test vectors): a last block 0x80. Squeezes one
// byte per permutation, not permuting after the last.
std::array<uint8_t, 16> Spongent128Hash(std::span<const uint8_t> msg) {
  uint64_t x[4] = {};
  for (uint8_t m : msg) {
    spongent_internal::XorByte0(x, m);
    spongent_internal::Permute136(x);
  }
  spongent_internal::XorByte0(x, 0x80);
  spongent_internal::Permute136(x);
  std::array<uint8_t, 16> out;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i != 0) spongent_internal::Permute136(x);
    unsigned v = 0;
    for (unsigned r = 0; r < 4; ++r) v |= ((x[r] & 1) << r) | (((x[r] >> 1) & 1) << (4 + r));
    out[i] = static_cast<uint8_t>(v);
  }
  spongent_internal::Scrub(x, sizeof(x));
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

SpongeWrapAead::SpongeWrapAead(const Key& key) : keyed_(Keyed(key)) {
#ifdef AEX_NONCE_AUDIT
  audit_key_ = key;
#endif
}

SpongeWrapAead::~SpongeWrapAead() {
#ifdef AEX_NONCE_AUDIT
  Scrub(audit_key_.data(), audit_key_.size());
#endif
  Scrub(&keyed_, sizeof(keyed_));
}

Status SpongeWrapAead::Seal(const Nonce& nonce, ByteSpan ad, ByteSpan plaintext,
                            uint8_t* out) {
#ifdef AEX_NONCE_AUDIT
  AuditSeal(audit_key_, nonce);
#endif
  Duplex d(keyed_);
  WrapKeyed(d, nonce, ad, plaintext, out, /*opening=*/false, out + plaintext.size());
  return Status::Ok();
}

Status SpongeWrapAead::Open(const Nonce& nonce, ByteSpan ad, ByteSpan sealed,
                            uint8_t* out) {
  if (sealed.size() < kSpongeWrapTagSize) return AuthFailed("sealed data too short");
  const size_t n = sealed.size() - kSpongeWrapTagSize;
  uint8_t expected[kSpongeWrapTagSize];
  Duplex d(keyed_);
  WrapKeyed(d, nonce, ad, sealed.first(n), out, /*opening=*/true, expected);
  if (TagsEqual(expected, sealed.data() + n)) return Status::Ok();
  if (n != 0) Scrub(out, n);
  return AuthFailed("SpongeWrap tag mismatch");
}

}  // namespace aex::crypto
