// The operator commands of `aex` (issue 16): logs, status --watch,
// up --plan, nodes status, down --force. Each prints its result (text, or
// JSON on stdout with --json) and returns a Status that aex.cc turns into
// the exit code; none of them holds state of its own beyond one call.
//
// Runs on the main thread. RunLogs (with follow) and RunWatch return when
// SIGINT or SIGTERM arrives (they install handlers for both), with Ok.

#ifndef AEX_TOOLS_AEX_OPS_H_
#define AEX_TOOLS_AEX_OPS_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "deployer/deployer.h"

namespace aex::cli {

struct LogsOptions {
  std::string module;  // only this module's output
  std::string node;    // only this node (its own log, or with module: where it runs)
  bool follow = false;
  bool json = false;   // one {"source", "line"} object per line
};

// Prints the logs of the descriptor's local nodes and of their modules.
Status RunLogs(const deploy::Descriptor& d, const LogsOptions& o);

// Prints each node's local process state and whether it answers. Fails
// (kUnavailable) when a node is not reachable, after printing.
Status RunNodesStatus(const deploy::Descriptor& d, bool json);

// Refreshes `aex status` every interval_s seconds until SIGINT/SIGTERM,
// with event rates computed between two refreshes. With json, one object
// per refresh (JSON lines); otherwise print_table draws the status.
// REQUIRES: interval_s > 0.
Status RunWatch(deploy::Deployer& d, double interval_s, bool json,
                const std::function<void(const nlohmann::json&)>& print_table);

// Prints the steps of `up --plan`.
void PrintPlan(const std::vector<deploy::PlanStep>& steps, bool json);

// Prints what `down --force` left behind.
void PrintLeftBehind(const std::vector<deploy::LeftBehind>& left, bool json);

}  // namespace aex::cli

#endif  // AEX_TOOLS_AEX_OPS_H_
