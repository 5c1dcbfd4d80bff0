/* bench echo: the far end of the latency and throughput benchmarks.
 *
 * Interface (indexes in source order; results in host order):
 *   outputs:  0 pong_out
 *   inputs:   0 ping_in   stamps the one-way time and the send time, echoes
 *             1 sink_in   counts events (throughput)
 *   handlers: 0 echo      returns the request unchanged
 *   entries:  0 sink_stats() u64 events | u64 bytes | u64 t_first | u64 t_last
 *             1 sink_reset() */
#define _POSIX_C_SOURCE 199309L
#include "aex/module.h"
#include "bench_common.h"

SM_OUTPUT(pong_out);

static unsigned char out[1u << 16];
static uint64_t sink_events, sink_bytes, sink_first, sink_last;

SM_INPUT(ping_in, data, len) {
  uint64_t now = bench_now_ns();
  if (len < BENCH_PING_SIZE || len > sizeof out) return;
  memcpy(out, data, len);
  bench_put_u64(out + 16, now - bench_get_u64(data + 8));
  bench_put_u64(out + 24, bench_now_ns());
  pong_out(out, len);
}

SM_INPUT(sink_in, data, len) {
  (void)data;
  uint64_t now = bench_now_ns();
  if (sink_events == 0) sink_first = now;
  sink_last = now;
  ++sink_events;
  sink_bytes += len;
}

SM_HANDLER(echo, data, len, resp, cap) {
  if (len > cap) return cap + 1;
  if (len > 0) memcpy(resp, data, len);
  return len;
}

SM_ENTRY(sink_stats, data, len, resp, cap) {
  (void)data, (void)len;
  if (cap < 32) return 0;
  bench_put_u64(resp, sink_events);
  bench_put_u64(resp + 8, sink_bytes);
  bench_put_u64(resp + 16, sink_first);
  bench_put_u64(resp + 24, sink_last);
  return 32;
}

SM_ENTRY(sink_reset, data, len, resp, cap) {
  (void)data, (void)len, (void)resp, (void)cap;
  sink_events = sink_bytes = sink_first = sink_last = 0;
  return 0;
}
