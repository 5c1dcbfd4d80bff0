// X.509 helpers over OpenSSL 3: creating ECDSA P-256 certificates and
// encoding keys and certificates. Shared by the simulated platforms' setup
// (platform/setup.cc) and the deployment's TLS material
// (deployer/tls_material.cc). Untrusted tooling: never linked into a module.

#ifndef AEX_TLS_PKI_H_
#define AEX_TLS_PKI_H_

#include <memory>
#include <string>

#include "aex/status.h"
#include "platform/sgx/sgx_keys.h"

typedef struct x509_st X509;
typedef struct bio_st BIO;

namespace aex::pki {

struct X509Free {
  void operator()(X509* x) const;
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using Pkey = tee::sgx::Pkey;

// What a certificate says. Extension values use OpenSSL's configuration
// syntax (x509v3_config(5)).
struct CertSpec {
  std::string organization = "aex (simulated)";
  std::string unit;         // OU; empty: none (aex TLS puts the role here)
  std::string common_name;  // CN
  bool ca = false;          // a CA (pathlen 0) or an end entity
  std::string subject_alt_name;    // e.g. "IP:127.0.0.1"; empty: none
  std::string extended_key_usage;  // e.g. "serverAuth,clientAuth"; empty: none
  long validity_days = 3650;
};

// A fresh ECDSA P-256 key, or null.
Pkey NewP256Key();
// A certificate for `key` described by `spec`, issued by `issuer` (null:
// self-signed) and signed with `signer`; random 127-bit serial, valid from an
// hour ago (clock skew) for spec.validity_days. Null on any failure.
X509Ptr MakeCertificate(EVP_PKEY* key, const CertSpec& spec, X509* issuer, EVP_PKEY* signer);

// PEM and DER encodings; empty on failure. The private key encodings are
// secrets: callers wipe them (crypto::Wipe) once written.
std::string CertificatePem(X509* cert);
std::string CertificateDer(X509* cert);
std::string PrivateKeyPem(EVP_PKEY* key);
std::string PrivateKeyDer(EVP_PKEY* key);
// Parses PEM text; null if it holds no certificate / private key.
X509Ptr ParseCertificatePem(const std::string& pem);
Pkey ParsePrivateKeyPem(const std::string& pem);
// Reads a PEM file of at most 64 KiB.
Result<X509Ptr> LoadCertificate(const std::string& path);
Result<Pkey> LoadPrivateKey(const std::string& path);

// The subject's first OU (empty if none) and CN.
std::string SubjectUnit(X509* cert);
std::string SubjectCommonName(X509* cert);

}  // namespace aex::pki

#endif  // AEX_TLS_PKI_H_
