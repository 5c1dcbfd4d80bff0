// aex_log (aex/module.h) in an object of its own: a module that never logs
// does not link it.

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/runtime_internal.h"

using aex::runtime::g_runtime;

extern "C" void aex_log(const char* fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  // printf-style callers (AE's modules, aex/ae_forms.h) end lines with '\n'.
  for (size_t n = strlen(line); n > 0 && line[n - 1] == '\n'; --n) line[n - 1] = '\0';
  fprintf(stderr, "[%s#%u] %s\n", g_runtime ? g_runtime->name() : "module",
          g_runtime ? g_runtime->module_id() : 0, line);
}
