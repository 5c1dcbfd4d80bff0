/* sink: counts events and checks their order. */
#include <stdio.h>

#include "aex/module.h"

static unsigned received, last, reordered, duplicated;

SM_INPUT(in, data, len) {
  if (len != 4) return;
  unsigned seq = ((unsigned)data[0] << 24) | ((unsigned)data[1] << 16) |
                 ((unsigned)data[2] << 8) | data[3];
  if (seq == last) duplicated++;
  else if (seq < last) reordered++;
  last = seq;
  received++;
}

/* stats: "received last reordered duplicated" */
SM_ENTRY(stats, data, len, resp, cap) {
  (void)data, (void)len;
  int w = snprintf((char*)resp, cap, "%u %u %u %u", received, last, reordered, duplicated);
  return w > 0 ? (size_t)w : 0;
}
