// Zero-loss module update (`aex update`, docs/update.md): a running module is
// replaced by a new instance built from its current sources, on its node or
// on another one, with its state and connections carried over inside sealed
// blobs and no event lost, duplicated or reordered. Deployer::Update
// (update.cc) runs the protocol; this header holds what it reports and the
// bookkeeping for moved modules.

#ifndef AEX_DEPLOYER_UPDATE_H_
#define AEX_DEPLOYER_UPDATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "deployer/descriptor.h"
#include "deployer/state.h"

namespace aex::deploy {

struct UpdateReport {
  std::string module;
  std::string from_node, to_node;
  uint32_t old_id = 0, new_id = 0;
  size_t routes_paused = 0;        // routes into the module held during the switch
  size_t fences = 0;               // fences awaited (frames in flight flushed)
  size_t state_bytes = 0;          // size of the sealed state blob
  size_t connections_rekeyed = 0;  // connections touching the module
  // Seconds: preparation (build, load, attest, new routes; nothing paused),
  // the switchover pause (first route paused -> last route resumed),
  // re-keying afterwards, and the whole command.
  double prepare_s = 0, pause_s = 0, rekey_s = 0, total_s = 0;
  std::vector<std::string> warnings;
};

// Modules moved by `aex update --node` run on another node than the
// descriptor file names. While the file still names the node a module was
// moved from (ModuleState::moved_from), the state's node is the module's
// node; editing the file to another node ends the override.
void ApplyMoves(Descriptor* d, const DeploymentState& state);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_UPDATE_H_
