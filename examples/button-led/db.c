/* db: keeps the number of presses; answers get_presses with 4 big-endian
 * bytes. */
#include "aex/module.h"

static unsigned presses;

SM_INPUT(increment_presses, data, len) {
  (void)data, (void)len;
  presses++;
}

SM_HANDLER(get_presses, data, len, resp, cap) {
  (void)data, (void)len;
  if (cap < 4) return 0;
  resp[0] = (unsigned char)(presses >> 24);
  resp[1] = (unsigned char)(presses >> 16);
  resp[2] = (unsigned char)(presses >> 8);
  resp[3] = (unsigned char)presses;
  return 4;
}
