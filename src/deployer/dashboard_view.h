// DashboardView: turns successive `aex status --json` reports
// (Deployer::StatusReport) into the snapshots `aex dashboard` sends to the
// page: per module its state, an attestation label, counters and event
// rates; per node reachability; per connection whether it is keyed; and a
// list of recent errors, found by comparing each report with the previous
// one (a node going unreachable, a module leaving `running`, a rejection,
// loss or undeliverable counter that grew).
//
// What reaches the page is chosen field by field here (an allowlist): a
// report may grow new fields, and none of them reaches a browser unless it
// is added below. Nothing in a report is a key or a payload today (the state
// file holds none, docs/architecture.md); the allowlist keeps it so.
//
// Not thread-safe: one caller (the dashboard's poll loop).

#ifndef AEX_DEPLOYER_DASHBOARD_VIEW_H_
#define AEX_DEPLOYER_DASHBOARD_VIEW_H_

#include <cstddef>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>

namespace aex::deploy {

class DashboardView {
 public:
  static constexpr size_t kMaxErrors = 50;

  // Takes one report made at `now_s` (seconds, any monotonic origin) and
  // returns the snapshot: {"seq", "descriptor", "nodes", "modules",
  // "connections", "errors"} (docs/observability.md#dashboard). Rates are
  // events per second since the previous report (0 on the first).
  nlohmann::json Update(const nlohmann::json& report, double now_s, const std::string& clock);

  // The attestation label shown on the page for one module of a report.
  static std::string AttestationLabel(const nlohmann::json& module);

 private:
  nlohmann::json Node(const nlohmann::json& n);
  nlohmann::json Module(const nlohmann::json& m, double dt);
  // Errors that the change from the previous report of this module shows.
  void CompareModule(const nlohmann::json& before, const nlohmann::json& now);
  void CompareNode(const nlohmann::json& before, const nlohmann::json& now);
  void AddError(std::string text);

  uint64_t seq_ = 0;
  double last_s_ = 0;
  std::string clock_;  // wall-clock time of the report being processed, for errors
  nlohmann::json previous_;  // the previous report, or null
  std::deque<nlohmann::json> errors_;  // newest first
};

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_DASHBOARD_VIEW_H_
