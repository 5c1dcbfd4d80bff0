/* crash: a C test module with an entry that aborts the module process.
 *
 * Interface (indexes in source order):
 *   entries: 0 crash_ok     -> "ok"
 *            1 crash_abort  abort()s (core dumps disabled first) */

#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "aex/module.h"

SM_ENTRY(crash_ok, data, len, resp, cap) {
  (void)data;
  (void)len;
  (void)cap;
  memcpy(resp, "ok", 2);
  return 2;
}

SM_ENTRY(crash_abort, data, len, resp, cap) {
  (void)data;
  (void)len;
  (void)resp;
  (void)cap;
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none); /* no core file in the test's directory */
  abort();
}
