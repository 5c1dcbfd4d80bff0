/* hang: a C test module whose request handler never returns.
 *
 * Interface (indexes in source order):
 *   handlers: 0 hang_handle  spins forever
 *   entries:  0 hang_ok      -> "ok" */

#include <string.h>

#include "aex/module.h"

static volatile unsigned long spins;

SM_HANDLER(hang_handle, data, len, resp, cap) {
  (void)data;
  (void)len;
  (void)resp;
  (void)cap;
  for (;;) ++spins; /* the node must kill us after its call timeout */
  return 0;
}

SM_ENTRY(hang_ok, data, len, resp, cap) {
  (void)data;
  (void)len;
  (void)cap;
  memcpy(resp, "ok", 2);
  return 2;
}
