// The shared-memory channel between a node and one of its modules
// (docs/protocol.md, "module channel"): one memfd the node creates and the
// module maps at --aex-ring, holding a header page and two single-producer
// single-consumer byte rings carrying the same framed byte stream
// (wire/frame.h) a socket would: `up` (module -> node) and `down`
// (node -> module). The socketpair at --aex-fd carries no data: a byte on it
// is a doorbell, its end tells that the other side is gone.
//
// Header: u64 words, each on a cache line of its own. A ring's `head` is
// written only by its producer, its `tail` only by its consumer; both run
// freely (position mod kSize is the offset in the data area), so
// head - tail is the number of bytes in the ring, 0..kSize. A side about to
// sleep sets its `waiting` word, then a seq_cst fence, then looks again; a
// side that made progress (published bytes, freed space) fences, and only if
// the other side's word is set clears it and rings the doorbell. Each side
// treats every word the other writes as hostile: read once, checked.

#ifndef AEX_WIRE_RING_H_
#define AEX_WIRE_RING_H_

#include <atomic>
#include <cstdint>
#include <cstring>

namespace aex::wire::ring {

constexpr size_t kSize = 256 * 1024;  // each ring's data area: a power of two
// Word indices (u64) in the header page.
enum Word : size_t { kUpHead = 0, kUpTail = 8, kDownHead = 16, kDownTail = 24,
                     kNodeWaiting = 32, kModuleWaiting = 40 };
constexpr size_t kUp = 4096, kDown = kUp + kSize, kBytes = kDown + kSize;  // byte offsets

inline std::atomic_ref<uint64_t> At(uint8_t* shared, Word w) {
  return std::atomic_ref<uint64_t>(reinterpret_cast<uint64_t*>(shared)[w]);
}

// Copies n bytes between `p` and the ring whose data area starts at `ring`,
// from the free-running position `pos` on (in two pieces where it wraps).
inline void Copy(uint8_t* ring, uint64_t pos, uint8_t* p, size_t n, bool into_ring) {
  for (size_t k, at; n > 0; n -= k, p += k, pos += k) {
    at = pos & (kSize - 1), k = n < kSize - at ? n : kSize - at;
    into_ring ? memcpy(ring + at, p, k) : memcpy(p, ring + at, k);
  }
}

}  // namespace aex::wire::ring

#endif  // AEX_WIRE_RING_H_
