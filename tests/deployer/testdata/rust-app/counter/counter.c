/* Test fixture: the C module beside the Rust module `rusty`.
 *   start (entry, u16 LE): emits it on `tick`
 *   double_it (handler): u16 LE -> twice it, u32 LE
 *   on_report (input): remembers the last report; last_report (entry) returns it
 *   query_total (entry): requests rusty's get_total and returns the answer */
#include <string.h>

#include "aex/module.h"

SM_OUTPUT(tick);
SM_REQUEST(ask_total);

static unsigned char last[4];
static size_t last_len;

SM_ENTRY(start, data, len, resp, cap) {
  (void)resp;
  (void)cap;
  return tick(data, len) < 0 ? cap + 1 : 0;
}

SM_HANDLER(double_it, data, len, resp, cap) {
  if (len != 2 || cap < 4) return cap + 1;
  unsigned v = 2u * (unsigned)(data[0] | (data[1] << 8));
  for (int i = 0; i < 4; ++i) resp[i] = (unsigned char)(v >> (8 * i));
  return 4;
}

SM_INPUT(on_report, data, len) {
  if (len > sizeof last) return;
  memcpy(last, data, len);
  last_len = len;
  aex_log("report of %zu bytes", len);
}

SM_ENTRY(last_report, data, len, resp, cap) {
  (void)data;
  (void)len;
  if (cap < last_len) return cap + 1;
  memcpy(resp, last, last_len);
  return last_len;
}

SM_ENTRY(query_total, data, len, resp, cap) {
  (void)data;
  (void)len;
  size_t n = 0;
  if (ask_total(NULL, 0, resp, cap, &n) != AEX_OK) return cap + 1;
  return n;
}
