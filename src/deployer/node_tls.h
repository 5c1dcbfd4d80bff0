// TLS between the deployer and its nodes (docs/protocol.md section 1,
// docs/reliability.md): the deployment's certificates and the deployer's way
// of dialing a node with or without TLS, as the descriptor says (UsesTls).
//
// Material, created by the deployer in <descriptor dir>/.aex/tls/ (0700):
//   ca.pem, ca.key            the deployment CA (P-256, self-signed); its key
//                             (0600) never leaves the operator's machine
//   deployer.pem, .key        the deployer's client certificate, OU "deployer"
//   nodes/<node>.pem, .key    one per TLS node: OU "node", CN the node's name,
//                             subjectAltName its host; copied to the node's
//                             machine (with ca.pem) for a remote node
// Private keys are 0600 and every file is written atomically.

#ifndef AEX_DEPLOYER_NODE_TLS_H_
#define AEX_DEPLOYER_NODE_TLS_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "deployer/descriptor.h"
#include "deployer/node_client.h"
#include "tls/tls.h"

namespace aex::deploy {

std::filesystem::path TlsDir(const Descriptor& d);
tls::Files DeployerTlsFiles(const Descriptor& d);
tls::Files NodeTlsFiles(const Descriptor& d, const Node& node);
bool AnyNodeUsesTls(const Descriptor& d);

// Creates what is missing for the CA, the deployer and every node that uses
// TLS; reuses what exists (idempotent, and safe against a concurrent run: the
// first file published wins and both runs then use it). A node certificate
// that no longer matches its node (another host or name, another CA) is
// issued again. Returns one line per file it created.
Result<std::vector<std::string>> EnsureTlsMaterial(const Descriptor& d);

// The id of the deployment `d` describes, as `aex nodes start` passes it to
// its nodes (aex-node --deployment) and they return it in HELLO_ACK: 16 hex
// digits of SHA-256 over the absolute path of <descriptor dir>/.aex, so that
// the deployments of two folders never share it. It tells mistakes apart (a
// port served by another deployment's node); against an adversary, TLS and
// the deployment CA decide.
std::string DeploymentId(const Descriptor& d);

// Opens management connections to the nodes of one deployment: TLS with the
// deployer's certificate to a node that uses TLS (checking that the node's
// certificate names its host and has the node role), plain TCP otherwise.
// Every connection is checked to reach the node the descriptor means
// (CheckNodeIdentity). Thread-safe once made.
class NodeDialer {
 public:
  // Ensures the material (EnsureTlsMaterial) if any node uses TLS.
  static Result<NodeDialer> ForDeployment(const Descriptor& d);
  // Fails with kPermissionDenied when another node answers on the port.
  Result<std::unique_ptr<NodeClient>> Connect(
      const Node& node, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) const;
  // The node behind `client` is `node` of this deployment: with TLS its
  // certificate (issued by the deployment CA, checked at the handshake) was
  // issued for node.name; a node that reports a deployment id reports ours
  // and node.name. A node started by hand without --deployment and without
  // TLS cannot be told apart and is accepted.
  Status CheckNodeIdentity(const Node& node, const NodeClient& client) const;
  const std::string& deployment_id() const { return deployment_id_; }

 private:
  std::shared_ptr<SSL_CTX> tls_;  // null: no node of the deployment uses TLS
  std::string deployment_id_;
};

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_NODE_TLS_H_
