/* dashboard (native node): polls the aggregator's summary over an
 * authenticated request/response and counts the alerts it pushes. */
#include <string.h>

#include "aex/module.h"
#include "common.h"

SM_REQUEST(get_summary);

static uint32_t polls = 0, alerts = 0;
static unsigned char last[20];

SM_ENTRY(poll, data, len, resp, cap) {
  (void)data, (void)len, (void)resp, (void)cap;
  unsigned char summary[20];
  size_t n = 0;
  if (get_summary(NULL, 0, summary, sizeof summary, &n) == AEX_OK && n == sizeof summary) {
    ++polls;
    memcpy(last, summary, sizeof last);
    aex_log("readings %u, mean %u.%u C, max %u.%u C, alerts %u (threshold %u.%u C)",
            (unsigned)get_u32(summary), (unsigned)get_u32(summary + 4) / 10,
            (unsigned)get_u32(summary + 4) % 10, (unsigned)get_u32(summary + 8) / 10,
            (unsigned)get_u32(summary + 8) % 10, (unsigned)get_u32(summary + 12),
            (unsigned)get_u32(summary + 16) / 10, (unsigned)get_u32(summary + 16) % 10);
  }
  return 0;
}

SM_INPUT(alert, data, len) {
  if (len != 8) return;
  ++alerts;
  aex_log("ALERT: reading #%u is %u.%u C", (unsigned)get_u32(data),
          (unsigned)get_u32(data + 4) / 10, (unsigned)get_u32(data + 4) % 10);
}

/* -> u32 successful polls | u32 alerts received | the last summary (20 bytes) */
SM_ENTRY(report, data, len, resp, cap) {
  (void)data, (void)len;
  if (cap < 28) return 0;
  put_u32(resp, polls);
  put_u32(resp + 4, alerts);
  memcpy(resp + 8, last, sizeof last);
  return 28;
}
