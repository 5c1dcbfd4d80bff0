// All aex wire messages (docs/protocol.md). Code inside a module includes only
// wire/frame.h and wire/module_messages.h.

#ifndef AEX_WIRE_MESSAGES_H_
#define AEX_WIRE_MESSAGES_H_

#include "wire/frame.h"
#include "wire/management.h"
#include "wire/module_messages.h"

#endif  // AEX_WIRE_MESSAGES_H_
