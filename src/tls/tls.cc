#include "tls/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/pki.h"

namespace aex::tls {

// Certificates a peer may send in its handshake (ours are about 600 bytes).
constexpr long kMaxCertList = 16 * 1024;

const char* RoleName(Role role) { return role == Role::kDeployer ? "deployer" : "node"; }

std::optional<Role> ParseRole(const std::string& unit) {
  if (unit == "deployer") return Role::kDeployer;
  if (unit == "node") return Role::kNode;
  return std::nullopt;
}

std::string LastError() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "unknown TLS error" : out;
}

void SslCtxFree::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

Status ConfigureContext(SSL_CTX* ctx, const Files& files) {
  AEX_ASSIGN_OR_RETURN(pki::X509Ptr cert, pki::LoadCertificate(files.cert));
  AEX_ASSIGN_OR_RETURN(pki::Pkey key, pki::LoadPrivateKey(files.key));
  AEX_ASSIGN_OR_RETURN(pki::X509Ptr ca, pki::LoadCertificate(files.ca));
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_use_certificate(ctx, cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
    return InvalidArgument("TLS certificate " + files.cert + " or key " + files.key +
                           " unusable: " + LastError());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return InvalidArgument("TLS key " + files.key + " does not match certificate " + files.cert);
  }
  if (X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca.get()) != 1) {
    return InvalidArgument("TLS CA " + files.ca + " unusable: " + LastError());
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_verify_depth(ctx, 1);
  SSL_CTX_set_max_cert_list(ctx, kMaxCertList);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  return Status::Ok();
}

Result<SslCtxPtr> NewContext(const Files& files) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
  if (!ctx) return Internal("SSL_CTX_new failed: " + LastError());
  AEX_RETURN_IF_ERROR(ConfigureContext(ctx.get(), files));
  return ctx;
}

Status ExpectPeerHost(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  in6_addr probe;
  bool is_ip = inet_pton(AF_INET, host.c_str(), &probe) == 1 ||
               inet_pton(AF_INET6, host.c_str(), &probe) == 1;
  int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                 : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  return ok == 1 ? Status::Ok() : InvalidArgument("cannot expect TLS peer host " + host);
}

Result<Role> PeerRole(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) {
    return Status(Code::kPermissionDenied, "no verified peer certificate");
  }
  std::optional<Role> role = ParseRole(pki::SubjectUnit(cert));
  if (!role) return Status(Code::kPermissionDenied, "peer certificate has no aex role");
  return *role;
}

}  // namespace aex::tls
