/* Shared by the benchmark modules and bench/latency.cc: the layout of the
 * ping payload and the clock. Every process on this machine reads the same
 * CLOCK_MONOTONIC, so a timestamp taken in one module and compared in another
 * gives a one-way latency. Fields are in host byte order (same machine). */

#ifndef AEX_BENCH_MODULES_BENCH_COMMON_H_
#define AEX_BENCH_MODULES_BENCH_COMMON_H_

#include <stdint.h>
#include <string.h>
#include <time.h>

/* Ping/pong payload (at least BENCH_PING_SIZE bytes):
 *   u32 seq | u32 pad | u64 t_ping (driver sends) | u64 fwd_ns (echo: t_recv - t_ping)
 *   | u64 t_pong (echo sends) */
#define BENCH_PING_SIZE 32
#define BENCH_MAX_SAMPLES 20000

static inline uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bench_get_u64(const unsigned char* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline void bench_put_u64(unsigned char* p, uint64_t v) { memcpy(p, &v, 8); }

static inline uint32_t bench_get_u32(const unsigned char* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static inline void bench_put_u32(unsigned char* p, uint32_t v) { memcpy(p, &v, 4); }

#endif /* AEX_BENCH_MODULES_BENCH_COMMON_H_ */
