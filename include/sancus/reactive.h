/* Sancus's <sancus/reactive.h> for aex: the two-argument SM_OUTPUT and
 * SM_INPUT, SM_ENTRY(module), SM_DATA and SM_FUNC, and printf/puts to the
 * module log. Everything is in aex/ae_forms.h. */

#ifndef AEX_SANCUS_REACTIVE_H_
#define AEX_SANCUS_REACTIVE_H_

#include "aex/ae_forms.h"

#endif /* AEX_SANCUS_REACTIVE_H_ */
