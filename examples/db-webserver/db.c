/* db: counts requests; answers get_num_requests with 4 big-endian bytes. */
#include "aex/module.h"

static unsigned requests;

SM_INPUT(increment_requests, data, len) {
  (void)data, (void)len;
  requests++;
}

SM_HANDLER(get_num_requests, data, len, resp, cap) {
  (void)data, (void)len;
  if (cap < 4) return 0;
  resp[0] = (unsigned char)(requests >> 24);
  resp[1] = (unsigned char)(requests >> 16);
  resp[2] = (unsigned char)(requests >> 8);
  resp[3] = (unsigned char)requests;
  return 4;
}
