/* sink: checks the numbered stream: every number exactly once, in order.
 * Also records the longest silence between two events (the switchover pause
 * as the application sees it). */
#include <time.h>

#include "aex/module.h"

static unsigned long long received, last, gaps, dups, max_gap_us;
static long long last_at_us = -1;

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
static void put_u64(unsigned char* p, unsigned long long v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = (unsigned char)v;
}

SM_INPUT(in, data, len) {
  if (len != 8) return;
  unsigned long long seq = 0;
  for (int i = 0; i < 8; ++i) seq = (seq << 8) | data[i];
  long long t = now_us();
  if (last_at_us >= 0 && (unsigned long long)(t - last_at_us) > max_gap_us) {
    max_gap_us = (unsigned long long)(t - last_at_us);
  }
  last_at_us = t;
  ++received;
  if (seq <= last) {
    ++dups; /* duplicate or reordered */
  } else {
    if (seq != last + 1) gaps += seq - last - 1; /* numbers never seen */
    last = seq;
  }
}

/* stats: u64 received, last, missing, duplicated/reordered, max gap (us). */
SM_ENTRY(stats, data, len, resp, cap) {
  (void)data, (void)len;
  if (cap < 40) return 0;
  put_u64(resp, received);
  put_u64(resp + 8, last);
  put_u64(resp + 16, gaps);
  put_u64(resp + 24, dups);
  put_u64(resp + 32, max_gap_us);
  return 40;
}

/* reset_gap: forget the longest silence so far. */
SM_ENTRY(reset_gap, data, len, resp, cap) {
  (void)data, (void)len, (void)resp, (void)cap;
  max_gap_us = 0;
  return 0;
}
