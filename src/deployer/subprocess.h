// Runs a child program (compiler, aex-gen, dot) and waits for it.

#ifndef AEX_DEPLOYER_SUBPROCESS_H_
#define AEX_DEPLOYER_SUBPROCESS_H_

#include <string>
#include <vector>

#include "aex/status.h"

namespace aex::deploy {

// Runs argv[0] (searched in PATH) with the arguments; stdout and stderr go to
// `log_path` (truncated) when given. Returns an error naming the program and
// carrying the tail of its log if it fails.
Status RunProgram(const std::vector<std::string>& argv, const std::string& log_path = "");

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_SUBPROCESS_H_
