/* relay: forwards every event of `in` to `out` and counts them. The count
 * and a running checksum are its state, carried to the new instance by
 * `aex update` (SM_SAVE_STATE / SM_RESTORE_STATE); `version` tells the
 * instances apart (the test rebuilds with -DRELAY_VERSION=n). */
#include <string.h>

#include "aex/module.h"

#ifndef RELAY_VERSION
#define RELAY_VERSION 1
#endif

SM_OUTPUT(out);

static unsigned long long forwarded, checksum, restored_from;

static void put_u64(unsigned char* p, unsigned long long v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = (unsigned char)v;
}
static unsigned long long get_u64(const unsigned char* p) {
  unsigned long long v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

SM_INPUT(in, data, len) {
  ++forwarded;
  for (size_t i = 0; i < len; ++i) checksum = checksum * 31 + data[i];
  out(data, len);
}

SM_SAVE_STATE(buf, cap) {
  if (cap < 24) return cap + 1;
  put_u64(buf, forwarded);
  put_u64(buf + 8, checksum);
  put_u64(buf + 16, RELAY_VERSION);
  return 24;
}

SM_RESTORE_STATE(data, len) {
  if (len != 24) return;
  forwarded = get_u64(data);
  checksum = get_u64(data + 8);
  restored_from = get_u64(data + 16);
}

/* count (handler, also reachable as a direct request): u64 forwarded,
 * u64 version of this instance, u64 version it was restored from. */
SM_HANDLER(count, data, len, resp, cap) {
  (void)data, (void)len;
  if (cap < 24) return 0;
  put_u64(resp, forwarded);
  put_u64(resp + 8, RELAY_VERSION);
  put_u64(resp + 16, restored_from);
  return 24;
}
