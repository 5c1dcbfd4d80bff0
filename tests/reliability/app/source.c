/* source: emits numbered events on demand, for the reliability tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aex/module.h"

SM_OUTPUT(out);

static unsigned sent;

/* emit("COUNT" or "COUNT/MICROS"): sends COUNT events carrying 1, 2, 3, ...,
 * optionally MICROS microseconds apart. */
SM_ENTRY(emit, data, len, resp, cap) {
  char text[32] = {0};
  if (len == 0 || len >= sizeof text) return 0;
  memcpy(text, data, len);
  char* rest = NULL;
  unsigned n = (unsigned)strtoul(text, &rest, 10);
  unsigned pause = *rest == '/' ? (unsigned)strtoul(rest + 1, NULL, 10) : 0;
  for (unsigned i = 0; i < n; ++i) {
    if (pause) usleep(pause);
    unsigned seq = ++sent;
    unsigned char msg[4] = {(unsigned char)(seq >> 24), (unsigned char)(seq >> 16),
                            (unsigned char)(seq >> 8), (unsigned char)seq};
    out(msg, sizeof msg);
  }
  int w = snprintf((char*)resp, cap, "%u", sent);
  return w > 0 ? (size_t)w : 0;
}
