/* Helpers shared by the integration-test modules (C and C++) and the tests
 * themselves, so that both sides compute exactly the same payloads and
 * checksums.
 *
 *   it_pattern(seed, i)      byte i of the deterministic payload for `seed`
 *   it_hash_event(h, d, n)   folds one event into a running FNV-1a 64 chain:
 *                            h' = fnv(fnv(h, u32be(n)), d[0..n))
 *                            so the chain checks content, lengths and order.
 *   it_put_u32/u64, it_get_u32  big-endian helpers for entry arguments/results
 */

#ifndef AEX_TESTS_INTEGRATION_MODULES_IT_COMMON_H_
#define AEX_TESTS_INTEGRATION_MODULES_IT_COMMON_H_

#include <stddef.h>
#include <stdint.h>

#define IT_HASH_INIT 0xcbf29ce484222325ull

static inline uint64_t it_fnv(uint64_t h, const unsigned char* d, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= d[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

static inline uint64_t it_hash_event(uint64_t h, const unsigned char* d, size_t n) {
  unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
  h = it_fnv(h, len, 4);
  return it_fnv(h, d, n);
}

static inline unsigned char it_pattern(uint32_t seed, size_t i) {
  uint32_t x = seed * 2654435761u + (uint32_t)i * 40503u + (uint32_t)(i >> 8) * 97u;
  x ^= x >> 13;
  x *= 0x5bd1e995u;
  x ^= x >> 15;
  return (unsigned char)x;
}

static inline void it_put_u32(unsigned char* p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static inline void it_put_u64(unsigned char* p, uint64_t v) {
  it_put_u32(p, (uint32_t)(v >> 32));
  it_put_u32(p + 4, (uint32_t)v);
}

static inline uint32_t it_get_u32(const unsigned char* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

#endif /* AEX_TESTS_INTEGRATION_MODULES_IT_COMMON_H_ */
