// `aex trace D --connection C [--entry E] [--count N] [--json]`: prints where
// an event's time goes on a connection (src/deployer/trace.h).

#ifndef AEX_TOOLS_TRACE_H_
#define AEX_TOOLS_TRACE_H_

#include "deployer/deployer.h"
#include "deployer/trace.h"

namespace aex::cli {

// Runs the trace and prints its table (or, with json, one JSON object with
// "ok": true) on stdout. Progress goes nowhere: the command is quiet until
// it has every sample.
Status RunTraceCommand(deploy::Deployer& d, const deploy::TraceOptions& o, bool json);

}  // namespace aex::cli

#endif  // AEX_TOOLS_TRACE_H_
