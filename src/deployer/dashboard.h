// `aex dashboard D`: a live page of the running application for a browser
// (docs/observability.md#dashboard). It polls what `aex status --json`
// shows (the state file, read without its lock, and each node's status over
// the management connection), turns it into snapshots (dashboard_view.h) and
// serves them with the page (dashboard_server.h) on loopback, behind a
// random per-run token. It changes nothing: a deployer opened read-only.
//
// Threading: RunDashboard polls on the calling thread and serves HTTP on a
// thread of its own; they share only the snapshots it posts to the server.

#ifndef AEX_DEPLOYER_DASHBOARD_H_
#define AEX_DEPLOYER_DASHBOARD_H_

#include <asio.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "aex/status.h"
#include "deployer/deployer.h"

namespace aex::deploy {

struct DashboardOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT; port 0: any free port
  bool allow_remote = false;           // serve on an address other than loopback
  std::chrono::milliseconds interval{1000};
  // Called once the server listens, with the URL (token included).
  std::function<void(const std::string& url)> ready;
};

// Parses HOST:PORT (an IP address, [v6] in brackets); refuses an address
// that is not loopback unless `allow_remote`.
Result<asio::ip::tcp::endpoint> ParseDashboardListen(const std::string& listen,
                                                     bool allow_remote);

// The page around the graph (SVG markup, or a note) and one snapshot (JSON).
std::string RenderDashboardPage(const std::string& graph, const std::string& snapshot);

// Serves until SIGINT or SIGTERM, then returns Ok.
// REQUIRES: `d` opened with DeployerOptions::read_only.
Status RunDashboard(Deployer& d, const DashboardOptions& options);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_DASHBOARD_H_
