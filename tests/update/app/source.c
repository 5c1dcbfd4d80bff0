/* source: emits a numbered stream on `out` (8-byte big-endian sequence
 * numbers from 1), `burst` events per periodic tick while started. */
#include <string.h>

#include "aex/module.h"

SM_OUTPUT(out);

static unsigned long long sent;
static unsigned burst;
static unsigned long long errors;

static void put_u64(unsigned char* p, unsigned long long v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = (unsigned char)v;
}

/* start: u32 big-endian events per tick (default 10). */
SM_ENTRY(start, data, len, resp, cap) {
  (void)resp, (void)cap;
  burst = 10;
  if (len == 4) burst = ((unsigned)data[0] << 24) | ((unsigned)data[1] << 16) |
                        ((unsigned)data[2] << 8) | data[3];
  return 0;
}

SM_ENTRY(stop, data, len, resp, cap) {
  (void)data, (void)len, (void)resp, (void)cap;
  burst = 0;
  return 0;
}

SM_ENTRY(tick, data, len, resp, cap) {
  (void)data, (void)len, (void)resp, (void)cap;
  for (unsigned i = 0; i < burst; ++i) {
    unsigned char seq[8];
    put_u64(seq, sent + 1);
    if (out(seq, sizeof seq) == 1) {
      ++sent;
    } else {
      ++errors; /* not connected yet: the number is not used */
    }
  }
  return 0;
}

/* sent: u64 events sent, u64 emit errors. */
SM_ENTRY(stats, data, len, resp, cap) {
  (void)data, (void)len;
  if (cap < 16) return 0;
  put_u64(resp, sent);
  put_u64(resp + 8, errors);
  return 16;
}
