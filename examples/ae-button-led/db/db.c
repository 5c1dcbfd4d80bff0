/* The database: counts presses and answers how many (the original's db is
 * a Rust SGX module; this one is C). */
#include "aex/module.h"

static uint32_t count;

SM_INPUT(increment_presses, data, len) {
  (void)data;
  (void)len;
  ++count;
}

/* The count, 4 bytes big-endian. */
SM_HANDLER(get_presses, data, len, resp, cap) {
  (void)data;
  (void)len;
  if (cap < 4) return cap + 1;
  resp[0] = (unsigned char)(count >> 24);
  resp[1] = (unsigned char)(count >> 16);
  resp[2] = (unsigned char)(count >> 8);
  resp[3] = (unsigned char)count;
  return 4;
}
