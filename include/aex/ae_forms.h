/* The module forms of the original Authentic Execution framework (AE), on top
 * of aex/module.h, so that its C modules build unchanged (docs/modules.md,
 * "Modules of the original framework"; docs/porting-from-ae.md).
 *
 * `aex build` includes this header in the C sources of trustzone modules (AE's
 * TrustZone modules include nothing: its code generator added the headers);
 * Sancus modules get it through <sancus/reactive.h>. aex's own forms keep
 * working: each macro picks its form by the number of its arguments, exactly
 * as aex-gen does.
 *
 *   SM_OUTPUT(name);                       aex, TrustZone
 *   SM_OUTPUT(module, name);               Sancus; call name(data, len)
 *   SM_INPUT(name, data, len) { ... }      aex, TrustZone
 *   SM_INPUT(module, name, data, len) { ... }   Sancus
 *   SM_ENTRY(name, data, len, resp, cap) { ...; return n; }   aex
 *   SM_ENTRY(name, data, len) { ... }      TrustZone: no response
 *   SM_ENTRY(module) void name(uint8_t* data, size_t len) { ... }
 *   SM_ENTRY(module) void name(void) { ... }   Sancus: no response
 *   OUTPUT(name, data, len)                TrustZone's older call of an output
 *   SM_DATA(module), SM_FUNC(module)       Sancus placement attributes: nothing
 *                                          to place in a process, so empty
 *   DMSG, IMSG, EMSG, FMSG                 OP-TEE's trace macros (format string
 *                                          literal first), to the module log
 *   printf, puts                           to the module log, as on Sancus and
 *                                          in an OP-TEE TA (not in C++: the
 *                                          macros would break std::printf)
 */

#ifndef AEX_AE_FORMS_H_
#define AEX_AE_FORMS_H_

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aex/module.h"

#undef SM_OUTPUT
#undef SM_INPUT
#undef SM_ENTRY

/* The 6th argument: the macro for the number of arguments given. */
#define AEX_PICK_FORM_(a1, a2, a3, a4, a5, form, ...) form

#define SM_OUTPUT(...)                                                                       \
  AEX_PICK_FORM_(__VA_ARGS__, AEX_BAD_ARITY_, AEX_BAD_ARITY_, AEX_BAD_ARITY_, AEX_OUTPUT_2_, \
                 AEX_OUTPUT_1_, )                                                            \
  (__VA_ARGS__)
#define AEX_OUTPUT_1_(name) AEX_EXTERN_C int name(const unsigned char* data, size_t len)
#define AEX_OUTPUT_2_(module, name) AEX_EXTERN_C int name(const void* data, size_t len)

#define SM_INPUT(...)                                                                       \
  AEX_PICK_FORM_(__VA_ARGS__, AEX_BAD_ARITY_, AEX_INPUT_4_, AEX_INPUT_3_, AEX_BAD_ARITY_, \
                 AEX_BAD_ARITY_, )                                                          \
  (__VA_ARGS__)
#define AEX_INPUT_3_(name, data, len) \
  AEX_EXTERN_C void name(const unsigned char* data, size_t len)
#define AEX_INPUT_4_(module, name, data, len) \
  AEX_EXTERN_C void name(const uint8_t* data, size_t len)

#define SM_ENTRY(...)                                                                     \
  AEX_PICK_FORM_(__VA_ARGS__, AEX_ENTRY_5_, AEX_BAD_ARITY_, AEX_ENTRY_3_, AEX_BAD_ARITY_, \
                 AEX_ENTRY_1_, )                                                          \
  (__VA_ARGS__)
#define AEX_ENTRY_5_(name, data, len, resp, cap) SM_HANDLER(name, data, len, resp, cap)
#define AEX_ENTRY_3_(name, data, len) AEX_EXTERN_C void name(unsigned char* data, size_t len)
#define AEX_ENTRY_1_(module) AEX_EXTERN_C

#define OUTPUT(name, data, len) name(data, len)

#define SM_DATA(module)
#define SM_FUNC(module)

#define DMSG(...) aex_log("D/TA: " __VA_ARGS__)
#define IMSG(...) aex_log("I/TA: " __VA_ARGS__)
#define EMSG(...) aex_log("E/TA: " __VA_ARGS__)
#define FMSG(...) aex_log("F/TA: " __VA_ARGS__)

#ifndef __cplusplus
#include <stdarg.h>

__attribute__((format(printf, 1, 2))) static inline int aex_ae_printf(const char* fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  aex_log("%s", line);
  return n;
}

static inline int aex_ae_puts(const char* s) {
  aex_log("%s", s);
  return 0;
}

#define printf aex_ae_printf
#define puts aex_ae_puts
#endif

#endif /* AEX_AE_FORMS_H_ */
