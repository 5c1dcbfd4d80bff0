/* bench driver: the measuring end of the latency and throughput benchmarks.
 *
 * Interface (indexes in source order; arguments and results in host order):
 *   outputs:  0 ping_out, 1 blast_out
 *   inputs:   0 pong_in
 *   requests: 0 rt_request
 *   entries:  0 lat_start(u32 n, u32 size)  starts n event round trips, one at
 *                                           a time, and returns at once
 *             1 lat_samples([u32 any])      u32 done | u32 n, and with an
 *                                           argument also done x (u32 rtt_ns,
 *                                           u32 fwd_ns, u32 back_ns)
 *             2 req_loop(u32 n, u32 size)   n request round trips, then
 *                                           u32 n | n x u32 rtt_ns
 *             3 blast(u32 n, u32 size)      emits n events on blast_out as fast
 *                                           as it can; u64 t_start | u64 t_end |
 *                                           u32 sent
 *
 * A round trip: ping_out -> (nodes) -> echo.ping_in -> echo.pong_out ->
 * (nodes) -> pong_in, timed with CLOCK_MONOTONIC on both ends. */
#define _POSIX_C_SOURCE 199309L
#include "aex/module.h"
#include "bench_common.h"

SM_OUTPUT(ping_out);
SM_OUTPUT(blast_out);
SM_REQUEST(rt_request);

static uint32_t lat_n, lat_done, lat_size;
static uint32_t rtt[BENCH_MAX_SAMPLES], fwd[BENCH_MAX_SAMPLES], back[BENCH_MAX_SAMPLES];
static unsigned char buf[1u << 16];

static void send_ping(uint32_t seq) {
  memset(buf, 0, lat_size);
  bench_put_u32(buf, seq);
  bench_put_u64(buf + 8, bench_now_ns());
  ping_out(buf, lat_size);
}

static uint32_t arg_u32(const unsigned char* data, size_t len, size_t at, uint32_t dflt) {
  return len >= at + 4 ? bench_get_u32(data + at) : dflt;
}

SM_ENTRY(lat_start, data, len, resp, cap) {
  (void)resp, (void)cap;
  lat_n = arg_u32(data, len, 0, 1000);
  if (lat_n > BENCH_MAX_SAMPLES) lat_n = BENCH_MAX_SAMPLES;
  lat_size = arg_u32(data, len, 4, BENCH_PING_SIZE);
  if (lat_size < BENCH_PING_SIZE) lat_size = BENCH_PING_SIZE;
  if (lat_size > sizeof buf) lat_size = sizeof buf;
  lat_done = 0;
  if (lat_n > 0) send_ping(0);
  return 0;
}

SM_INPUT(pong_in, data, len) {
  uint64_t now = bench_now_ns();
  if (len < BENCH_PING_SIZE || lat_done >= lat_n) return;
  uint32_t seq = bench_get_u32(data);
  if (seq != lat_done) return;
  rtt[seq] = (uint32_t)(now - bench_get_u64(data + 8));
  fwd[seq] = (uint32_t)bench_get_u64(data + 16);
  back[seq] = (uint32_t)(now - bench_get_u64(data + 24));
  if (++lat_done < lat_n) send_ping(lat_done);
}

SM_ENTRY(lat_samples, data, len, resp, cap) {
  (void)data;
  size_t need = 8 + (len > 0 ? (size_t)lat_done * 12 : 0);
  if (need > cap) return 0;
  bench_put_u32(resp, lat_done);
  bench_put_u32(resp + 4, lat_n);
  if (len == 0) return 8;
  for (uint32_t i = 0; i < lat_done; ++i) {
    bench_put_u32(resp + 8 + 12 * i, rtt[i]);
    bench_put_u32(resp + 12 + 12 * i, fwd[i]);
    bench_put_u32(resp + 16 + 12 * i, back[i]);
  }
  return need;
}

SM_ENTRY(req_loop, data, len, resp, cap) {
  uint32_t n = arg_u32(data, len, 0, 1000);
  uint32_t size = arg_u32(data, len, 4, BENCH_PING_SIZE);
  if (n > BENCH_MAX_SAMPLES) n = BENCH_MAX_SAMPLES;
  if (size > sizeof buf) size = sizeof buf;
  if (4 + (size_t)n * 4 > cap) return 0;
  static unsigned char answer[1u << 16];
  uint32_t done = 0;
  memset(buf, 0x5a, size);
  for (uint32_t i = 0; i < n; ++i) {
    size_t got = 0;
    uint64_t t0 = bench_now_ns();
    if (rt_request(buf, size, answer, sizeof answer, &got) != AEX_OK || got != size) break;
    bench_put_u32(resp + 4 + 4 * i, (uint32_t)(bench_now_ns() - t0));
    ++done;
  }
  bench_put_u32(resp, done);
  return 4 + (size_t)done * 4;
}

SM_ENTRY(blast, data, len, resp, cap) {
  uint32_t n = arg_u32(data, len, 0, 1000);
  uint32_t size = arg_u32(data, len, 4, 64);
  if (size < 8) size = 8;
  if (size > sizeof buf) size = sizeof buf;
  if (cap < 20) return 0;
  memset(buf, 0xa5, size);
  uint32_t sent = 0;
  uint64_t t0 = bench_now_ns();
  for (uint32_t i = 0; i < n; ++i) {
    bench_put_u32(buf, i);
    if (blast_out(buf, size) > 0) ++sent;
  }
  uint64_t t1 = bench_now_ns();
  bench_put_u64(resp, t0);
  bench_put_u64(resp + 8, t1);
  bench_put_u32(resp + 16, sent);
  return 20;
}
