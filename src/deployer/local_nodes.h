// Local nodes: starts and stops an aex-platform (the node's platform service,
// first) and an aex-node for every node of a descriptor
// whose host is this machine (loopback), for development, demos and tests.
// Logs go to <descriptor dir>/.aex/logs/<node>.log.

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

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_LOCAL_NODES_H_
