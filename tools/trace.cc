#include "trace.h"

#include <iostream>

namespace aex::cli {

Status RunTraceCommand(deploy::Deployer& d, const deploy::TraceOptions& o, bool json) {
  AEX_ASSIGN_OR_RETURN(deploy::TraceReport report, deploy::RunTrace(d, o));
  if (json) {
    nlohmann::json j = report.ToJson();
    j["ok"] = true;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << report.ToTable();
  }
  return Status::Ok();
}

}  // namespace aex::cli
