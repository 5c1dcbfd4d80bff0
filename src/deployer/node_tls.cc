#include "deployer/node_tls.h"

#include <arpa/inet.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <functional>

#include "crypto/crypto.h"
#include "tls/pki.h"
#include "util/files.h"

namespace aex::deploy {
namespace fs = std::filesystem;

namespace {

bool IsIpLiteral(const std::string& host) {
  in6_addr probe;
  return inet_pton(AF_INET, host.c_str(), &probe) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &probe) == 1;
}

void WipeString(std::string& s) {
  crypto::Wipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size()));
}

// The private key at `path`, created (0600) if missing.
Result<pki::Pkey> EnsureKey(const fs::path& path, std::vector<std::string>* created) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    pki::Pkey key = pki::NewP256Key();
    std::string pem = key ? pki::PrivateKeyPem(key.get()) : "";
    if (pem.empty()) return Internal("cannot generate a P-256 key");
    Status s = WriteFileAtomically(path, pem, 0600, IfExists::kKeep);
    WipeString(pem);
    AEX_RETURN_IF_ERROR(s);
    created->push_back(path.string());
  }
  // A key left readable by others (copied around, restored from a backup)
  // is tightened rather than trusted as is.
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
  // Whatever won a concurrent creation is the key from now on.
  return pki::LoadPrivateKey(path.string());
}

// The certificate at `cert_path` for `key`, issued by `issuer` (null:
// self-signed); (re)issued unless the existing one is for this key, verifies
// under the issuer and passes `fits`.
Result<pki::X509Ptr> EnsureCert(const fs::path& cert_path, EVP_PKEY* key,
                                const pki::CertSpec& spec, X509* issuer, EVP_PKEY* issuer_key,
                                const std::function<bool(X509*)>& fits,
                                std::vector<std::string>* created) {
  std::error_code ec;
  bool exists = fs::exists(cert_path, ec);
  if (exists) {
    auto cert = pki::LoadCertificate(cert_path.string());
    if (cert.ok() && X509_check_private_key(cert->get(), key) == 1 &&
        X509_verify(cert->get(), issuer_key) == 1 && fits(cert->get())) {
      return cert;
    }
  }
  pki::X509Ptr cert = pki::MakeCertificate(key, spec, issuer, issuer_key);
  std::string pem = cert ? pki::CertificatePem(cert.get()) : "";
  if (pem.empty()) return Internal("cannot create certificate " + cert_path.string());
  AEX_RETURN_IF_ERROR(WriteFileAtomically(cert_path, pem, 0644,
                                          exists ? IfExists::kReplace : IfExists::kKeep));
  created->push_back(cert_path.string());
  return pki::LoadCertificate(cert_path.string());
}

std::string DeploymentLabel(const Descriptor& d) {
  return "aex deployment " + d.base_dir.filename().string();
}

}  // namespace

fs::path TlsDir(const Descriptor& d) { return d.base_dir / ".aex" / "tls"; }

tls::Files DeployerTlsFiles(const Descriptor& d) {
  fs::path dir = TlsDir(d);
  return {(dir / "deployer.pem").string(), (dir / "deployer.key").string(),
          (dir / "ca.pem").string()};
}

tls::Files NodeTlsFiles(const Descriptor& d, const Node& node) {
  // Node names are [A-Za-z0-9_.-], not starting with '.' (descriptor.md).
  fs::path dir = TlsDir(d) / "nodes";
  return {(dir / (node.name + ".pem")).string(), (dir / (node.name + ".key")).string(),
          (TlsDir(d) / "ca.pem").string()};
}

bool AnyNodeUsesTls(const Descriptor& d) {
  for (const Node& n : d.nodes) {
    if (UsesTls(n)) return true;
  }
  return false;
}

Result<std::vector<std::string>> EnsureTlsMaterial(const Descriptor& d) {
  std::vector<std::string> created;
  fs::path dir = TlsDir(d);
  std::error_code ec;
  fs::create_directories(dir / "nodes", ec);
  if (ec) return Status(Code::kIo, "cannot create " + dir.string());
  fs::permissions(dir, fs::perms::owner_all, ec);
  fs::permissions(dir / "nodes", fs::perms::owner_all, ec);
  const std::string org = DeploymentLabel(d);

  tls::Files mine = DeployerTlsFiles(d);
  AEX_ASSIGN_OR_RETURN(pki::Pkey ca_key, EnsureKey(dir / "ca.key", &created));
  pki::CertSpec ca_spec;
  ca_spec.organization = org;
  ca_spec.common_name = org + " CA";
  ca_spec.ca = true;
  AEX_ASSIGN_OR_RETURN(pki::X509Ptr ca,
                       EnsureCert(mine.ca, ca_key.get(), ca_spec, nullptr, ca_key.get(),
                                  [](X509*) { return true; }, &created));

  AEX_ASSIGN_OR_RETURN(pki::Pkey deployer_key, EnsureKey(mine.key, &created));
  pki::CertSpec deployer_spec;
  deployer_spec.organization = org;
  deployer_spec.unit = tls::RoleName(tls::Role::kDeployer);
  deployer_spec.common_name = "deployer";
  deployer_spec.extended_key_usage = "clientAuth";
  AEX_RETURN_IF_ERROR(EnsureCert(mine.cert, deployer_key.get(), deployer_spec, ca.get(),
                                 ca_key.get(),
                                 [](X509* c) {
                                   return pki::SubjectUnit(c) ==
                                          tls::RoleName(tls::Role::kDeployer);
                                 },
                                 &created)
                          .status());

  for (const Node& n : d.nodes) {
    if (!UsesTls(n)) continue;
    tls::Files files = NodeTlsFiles(d, n);
    AEX_ASSIGN_OR_RETURN(pki::Pkey key, EnsureKey(files.key, &created));
    const bool ip = IsIpLiteral(n.host);
    pki::CertSpec spec;
    spec.organization = org;
    spec.unit = tls::RoleName(tls::Role::kNode);
    spec.common_name = n.name;
    spec.subject_alt_name = (ip ? "IP:" : "DNS:") + n.host;
    // A node is the server of management sessions and the client of its
    // peer links.
    spec.extended_key_usage = "serverAuth,clientAuth";
    auto fits = [&](X509* c) {
      int host_ok = ip ? X509_check_ip_asc(c, n.host.c_str(), 0)
                       : X509_check_host(c, n.host.c_str(), n.host.size(), 0, nullptr);
      return host_ok == 1 && pki::SubjectCommonName(c) == n.name &&
             pki::SubjectUnit(c) == tls::RoleName(tls::Role::kNode);
    };
    AEX_RETURN_IF_ERROR(
        EnsureCert(files.cert, key.get(), spec, ca.get(), ca_key.get(), fits, &created).status());
  }
  return created;
}

std::string DeploymentId(const Descriptor& d) {
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(fs::absolute(d.base_dir / ".aex", ec), ec);
  return HexEncode(crypto::Sha256(AsBytes("aex deployment\n" + dir.string()))).substr(0, 16);
}

Result<NodeDialer> NodeDialer::ForDeployment(const Descriptor& d) {
  NodeDialer dialer;
  dialer.deployment_id_ = DeploymentId(d);
  if (!AnyNodeUsesTls(d)) return dialer;
  AEX_RETURN_IF_ERROR(EnsureTlsMaterial(d).status());
  AEX_ASSIGN_OR_RETURN(tls::SslCtxPtr ctx, tls::NewContext(DeployerTlsFiles(d)));
  dialer.tls_ = std::shared_ptr<SSL_CTX>(ctx.release(), tls::SslCtxFree());
  return dialer;
}

Result<std::unique_ptr<NodeClient>> NodeDialer::Connect(const Node& node,
                                                        std::chrono::milliseconds timeout) const {
  uint16_t port = node.deploy_port ? node.deploy_port : node.reactive_port;
  auto client = NodeClient::Connect(node.host, port, timeout, UsesTls(node) ? tls_.get() : nullptr);
  if (!client.ok() && client.status().code() == Code::kPermissionDenied) {
    // Say which port: the descriptor may give the same host several.
    return Status(Code::kPermissionDenied, node.host + ":" + std::to_string(port) + ": " +
                                               client.status().message());
  }
  if (!client.ok()) return client.status();
  AEX_RETURN_IF_ERROR(CheckNodeIdentity(node, **client));
  return client;
}

Status NodeDialer::CheckNodeIdentity(const Node& node, const NodeClient& client) const {
  uint16_t port = node.deploy_port ? node.deploy_port : node.reactive_port;
  const std::string where = node.host + ":" + std::to_string(port);
  const wire::HelloAck& ack = client.hello_ack();
  const std::string pid = ack.pid ? ", pid " + std::to_string(ack.pid) : "";
  if (UsesTls(node) && client.peer_cert_name() != node.name) {
    return Status(Code::kPermissionDenied,
                  where + " is served by node '" + client.peer_cert_name() +
                      "' of this deployment (its certificate" + pid + "), not by node '" +
                      node.name + "': are two nodes' addresses swapped?");
  }
  if (ack.deployment.empty()) return Status::Ok();  // started by hand: nothing to compare
  if (ack.deployment != deployment_id_) {
    return Status(Code::kPermissionDenied,
                  where + " is served by node '" + ack.node_name + "' of another deployment (id " +
                      ack.deployment + pid + "), not by node '" + node.name +
                      "' of this one (id " + deployment_id_ +
                      "): stop that node or give this one another port");
  }
  if (ack.node_name != node.name) {
    return Status(Code::kPermissionDenied,
                  where + " is served by node '" + ack.node_name + "' of this deployment" + pid +
                      ", not by node '" + node.name + "': are two nodes' ports swapped?");
  }
  return Status::Ok();
}

}  // namespace aex::deploy
