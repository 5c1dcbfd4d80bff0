// OpenSSL 3 plumbing for DCAP verification: owning pointers, PEM chains, DER
// CRLs, raw P-256 keys and r||s signatures, and certificate path validation
// to a pinned root public key.
//
// DCAP carries ECDSA signatures as 64 raw bytes (r||s, big-endian) and public
// keys as 64 raw bytes (x||y); OpenSSL wants DER signatures and EVP_PKEYs.
// These functions convert, and never hand-roll any cryptography.
// Pure functions over their arguments; any thread.

#ifndef AEX_ATTEST_DCAP_X509_H_
#define AEX_ATTEST_DCAP_X509_H_

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <string_view>
#include <vector>

#include "aex/bytes.h"
#include "aex/status.h"

namespace aex::dcap {

struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
struct X509CrlDeleter {
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
};
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using X509CrlPtr = std::unique_ptr<X509_CRL, X509CrlDeleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// Every certificate of a PEM bundle, in order; trailing NULs and whitespace
// are allowed, anything else that is not a certificate is an error.
Result<std::vector<X509Ptr>> ParsePemChain(std::string_view pem);
Result<X509CrlPtr> ParseCrlDer(ByteSpan der);
Result<X509Ptr> ParseCertDer(ByteSpan der);
Bytes CertDer(X509* cert);
std::string CertPem(X509* cert);

// A P-256 public key from x||y (64 bytes); refuses points not on the curve.
Result<EvpPkeyPtr> P256KeyFromRaw(ByteSpan xy);
// A public key from PEM (SubjectPublicKeyInfo).
Result<EvpPkeyPtr> PublicKeyFromPem(std::string_view pem);
// The PEM SubjectPublicKeyInfo of `key` (what PublicKeyFromPem reads); ""
// on failure.
std::string PublicKeyPem(EVP_PKEY* key);
// x||y of a P-256 key (64 bytes); empty for another kind of key.
Bytes RawP256PublicKey(EVP_PKEY* key);

// ECDSA-SHA256 verification of a raw r||s signature. kAuthFailed when the
// signature does not verify or is not 64 bytes.
Status VerifyRawEcdsa(EVP_PKEY* key, ByteSpan message, ByteSpan signature);
// ECDSA-SHA256 signature as r||s (64 bytes). REQUIRES: a P-256 private key.
Result<Bytes> SignRawEcdsa(EVP_PKEY* key, ByteSpan message);

// What a chain is checked against.
struct ChainCheck {
  EVP_PKEY* pinned_root = nullptr;  // REQUIRES: non-null
  std::vector<X509_CRL*> crls;      // all must be checked when check_crls
  bool check_crls = false;
  time_t at = 0;                    // validity windows are checked at this time
};

// Validates `chain` (leaf first, then intermediates, ending with a
// self-signed root) with OpenSSL's path validation at `check.at`. The root
// the chain carries is used only if its public key equals the pinned one.
// With check_crls every certificate below the root must be covered by a CRL
// in `crls` that is itself valid at `at`. kAuthFailed with OpenSSL's reason;
// *x509_error (if given) receives OpenSSL's X509_V_ERR_* code (X509_V_OK on
// success).
Status VerifyChain(const std::vector<X509Ptr>& chain, const ChainCheck& check,
                   int* x509_error = nullptr);

}  // namespace aex::dcap

#endif  // AEX_ATTEST_DCAP_X509_H_
