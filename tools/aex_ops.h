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

// The --json form of a failure (docs/operations.md#json-output):
// {"ok": false, "code", "errors": [{"file", "entry", "name", "field",
// "message"}]}, one error per line of s's message. source_name is the
// descriptor as named in messages ("" when there is none).
nlohmann::json FailureJson(const Status& s, const std::string& source_name);
// Errors or warnings (one a line) as FailureJson lists them.
nlohmann::json ErrorListJson(const std::string& lines, const std::string& source_name);

// Prints the logs of the descriptor's local nodes and of their modules.
// With json and no follow: one {"ok", "lines"} document; with follow, one
// {"source", "line"} object a line.
Status RunLogs(const deploy::Descriptor& d, const LogsOptions& o);

// Prints each node's local process state and whether it answers. Fails
// (kUnavailable) when a node is not reachable, after printing (with json:
// after printing {"ok", "nodes", "errors"?}).
Status RunNodesStatus(const deploy::Descriptor& d, bool json);

// `aex nodes start|stop|restart` with json: what was done (`actions`, the
// progress lines) and then the nodes as RunNodesStatus shows them.
// Prints one object on stdout; returns the status of the action.
Status PrintNodesAction(const deploy::Descriptor& d, const std::string& action,
                        const std::vector<std::string>& actions, const Status& done);

// Prints rows as a table: each column as wide as its widest cell, two
// spaces apart (the first row is the header).
void PrintTable(const std::vector<std::vector<std::string>>& rows);

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
