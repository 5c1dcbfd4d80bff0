// The platform service's side of the module <-> aex-platform wire format
// (format: platform/service_link.h). Kept out of the module's TCB.

#ifndef AEX_PLATFORM_SERVICE_SERVICE_WIRE_H_
#define AEX_PLATFORM_SERVICE_SERVICE_WIRE_H_

#include "platform/service_link.h"

namespace aex::tee {

// Untrusted bytes from any local process: every bound checked, no trailing
// bytes, canonical (re-encoding yields the same bytes).
Result<ServiceRequest> ParseServiceRequest(ByteSpan msg);
Bytes EncodeServiceResponse(const Status& status, ByteSpan payload);

}  // namespace aex::tee

#endif  // AEX_PLATFORM_SERVICE_SERVICE_WIRE_H_
