/* A sample module that uses every annotation. tests/gen runs aex-gen on it,
 * compiles the glue with -Wall -Wextra -Werror and drives it through
 * aex_module against a fake runtime (glue_writer_test.cc).
 *
 * Interface (indexes in source order):
 *   outputs:  0 reading, 1 alert
 *   requests: 0 lookup
 *   inputs:   0 sensor, 1 reset
 *   handlers: 0 get_last
 *   entries:  0 init
 * Mentions such as SM_OUTPUT(in_comment) here are not annotations. */

#include <string.h>

#include "aex/module.h"

#define SAMPLE_LABEL "SM_OUTPUT(in_string)" /* directives are skipped, too */

SM_OUTPUT(reading);
SM_OUTPUT(alert);
SM_REQUEST(lookup);

static unsigned char last[16];
static size_t last_len;

/* Stores the reading, forwards it, and raises an alert above a threshold. */
SM_INPUT(sensor, data, len) {
  last_len = len < sizeof last ? len : sizeof last;
  memcpy(last, data, last_len);
  reading(data, len);
  if (len > 0 && data[0] > 200) alert(data, 1);
}

SM_INPUT(reset, data, len) {
  (void)data;
  (void)len;
  last_len = 0;
}

/* Returns the last reading. */
SM_HANDLER(get_last, data, len, resp, cap) {
  (void)data;
  (void)len;
  if (cap < last_len) return cap + 1; /* > cap: the runtime reports an error */
  memcpy(resp, last, last_len);
  return last_len;
}

/* Bootstrap entry: asks the peer behind `lookup` for a value and returns it
 * prefixed with the module id's low byte. */
SM_ENTRY(init, data, len, resp, cap) {
  unsigned char value[8];
  size_t value_len = 0;
  if (cap < 1 + sizeof value) return cap + 1;
  if (lookup(data, len, value, sizeof value, &value_len) != AEX_OK) return 0;
  aex_log("init: lookup returned %u bytes", (unsigned)value_len);
  resp[0] = (unsigned char)(aex_module_id() & 0xff);
  memcpy(resp + 1, value, value_len);
  return 1 + value_len;
}
