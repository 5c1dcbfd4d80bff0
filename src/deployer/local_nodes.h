// Local nodes: starts and stops an aex-platform (the node's platform service,
// first) and an aex-node for every node of a descriptor
// whose host is this machine (loopback), for development, demos and tests.
// Logs go to <descriptor dir>/.aex/logs/<node>.log, and each module's
// output to <descriptor dir>/.aex/logs/<node>/<module>.log.

#ifndef AEX_DEPLOYER_LOCAL_NODES_H_
#define AEX_DEPLOYER_LOCAL_NODES_H_

#include <filesystem>
#include <functional>
#include <string>

#include "deployer/descriptor.h"

namespace aex::deploy {

// REQUIRES: node_exe is the aex-node executable.
Status StartLocalNodes(const Descriptor& d, const std::filesystem::path& node_exe,
                       const std::function<void(const std::string&)>& progress);
Status StopLocalNodes(const Descriptor& d,
                      const std::function<void(const std::string&)>& progress);
// Stops, then starts the local nodes (their modules are lost: `aex up`
// loads them again).
Status RestartLocalNodes(const Descriptor& d, const std::filesystem::path& node_exe,
                         const std::function<void(const std::string&)>& progress);

// The deployment's simulated SGX provisioning directory: before starting
// the platform service of a local sgx node, `nodes start` runs
// `aex-platform --provision` on it (platform/setup.h), so that every sgx
// node of the deployment has a PCK of its own under one root,
// <dir>/sgx_root_ca.pem, whose collateral is <dir>/sgx_collateral.json.
std::filesystem::path SgxProvisioningDir(const Descriptor& d);

// Where `nodes start` sends node n's output, and its modules' output.
std::filesystem::path NodeLogFile(const Descriptor& d, const Node& n);
std::filesystem::path ModuleLogFile(const Descriptor& d, const Node& n, const std::string& module);

// One node of the descriptor as `aex nodes status` shows it. `local` nodes
// are those `nodes start` runs (loopback hosts); for the others only
// `reachable` means anything.
struct LocalNodeStatus {
  std::string name;
  std::string address;  // host:port
  bool local = false;
  bool running = false;  // its pid file names a live process
  int pid = 0;
  bool reachable = false;  // answered HELLO (over TLS when it uses TLS)
  std::string error;       // why not reachable
  std::filesystem::path log;
};
Result<std::vector<LocalNodeStatus>> LocalNodesStatus(const Descriptor& d);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_LOCAL_NODES_H_
