// Renders a node's status document (Node::CollectStatus, the same one
// `aex status --json` shows) in the Prometheus text exposition format,
// version 0.0.4, so that /metrics and `aex status` can never disagree.
//
// Names and labels are stable (docs/observability.md): aex_node_* per node,
// aex_peer_* per peer link, aex_route_* per route, aex_module_* per module,
// aex_periodic_* per periodic event; every sample carries node="NAME".
// Counters end in _total.

#ifndef AEX_NODE_PROMETHEUS_H_
#define AEX_NODE_PROMETHEUS_H_

#include <nlohmann/json.hpp>
#include <string>

namespace aex::node {

// REQUIRES: `status` has the shape Node::CollectStatus produces; fields
// that are missing or not numbers are left out, never guessed.
std::string PrometheusText(const nlohmann::json& status);

}  // namespace aex::node

#endif  // AEX_NODE_PROMETHEUS_H_
