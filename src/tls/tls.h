// Mutual TLS between aex (deployer) and aex-node, and between nodes
// (docs/protocol.md section 1). One deployment CA, kept on the operator's
// machine, certifies every party; the certificate's subject OU says its role:
//
//   "deployer"  may manage a node (LOAD_MODULE, RESET, ...)
//   "node"      may only open a peer session (events and requests)
//
// The CA is the only trust anchor: nothing else (system roots included) is
// trusted, so a certificate from another CA fails the handshake. TLS protects
// who may talk to a node (availability); events are sealed end to end by the
// modules whether or not TLS is used.

#ifndef AEX_TLS_TLS_H_
#define AEX_TLS_TLS_H_

#include <memory>
#include <optional>
#include <string>

#include "aex/status.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace aex::tls {

enum class Role { kDeployer, kNode };
// "deployer" / "node": the subject OU of a certificate with that role.
const char* RoleName(Role role);
std::optional<Role> ParseRole(const std::string& unit);

// The PEM files one party uses: its certificate, its private key and the
// deployment CA's certificate.
struct Files {
  std::string cert, key, ca;
};

// Configures `ctx` for aex TLS, client or server alike: TLS 1.3 only; our
// certificate and key (checked to match); the CA as the only trust anchor;
// the peer must present a certificate issued directly by it (verify depth 1,
// at most 16 KiB of certificates, so a hostile handshake costs bounded
// memory); no session tickets or cache (connections are long-lived).
Status ConfigureContext(SSL_CTX* ctx, const Files& files);

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const;
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
// A new context configured as above. Safe to share between threads once made.
Result<SslCtxPtr> NewContext(const Files& files);

// Makes the next handshake on `ssl` fail unless the peer's certificate names
// `host` in its subjectAltName (an IP literal is matched against IP entries,
// anything else against DNS entries).
Status ExpectPeerHost(SSL* ssl, const std::string& host);

// The role in the peer certificate verified by the handshake on `ssl`;
// PERMISSION_DENIED if there is none or its OU is not a role.
Result<Role> PeerRole(SSL* ssl);

// The OpenSSL error queue as text (and cleared), for error messages.
std::string LastError();

}  // namespace aex::tls

#endif  // AEX_TLS_TLS_H_
