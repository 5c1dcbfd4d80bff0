// Full DCAP verification of an SGX ECDSA quote v3, the way Intel's Quote
// Verification Library does it, with OpenSSL for all cryptography.
//
// VerifyQuote checks, in this order, and stops at the first failure:
//   0. with collateral, the collateral itself (VerifiedCollateral::Verify):
//      the root CA CRL and PCK CRL valid at `at` and signed by their issuers,
//      the PCK CRL's issuer chain to the pinned root, then step 7;
//   1. the quote's layout (quote.h) and Intel's QE vendor id;
//   2. the PCK certificate chain in the quote up to the PINNED root public
//      key (not whatever root the quote carries), at `at`; with collateral
//      also revocation of every certificate by the root CA CRL and PCK CRL;
//   3. the SGX extension of the PCK certificate (pck_extension.h);
//   4. the QE report signature by the PCK key;
//   5. QE report data == SHA-256(attestation key || QE auth data) || 32 zeros;
//   6. the quote signature by the attestation key over header || report body;
//   and, with collateral:
//   7. TCB info and QE identity: issuer chains to the pinned root (with the
//      root CA CRL), signatures by their signing certificate, issueDate <=
//      at <= nextUpdate, QE identity id "QE" (done in step 0);
//   8. FMSPC and PCE-ID of the TCB info equal to the PCK certificate's, the
//      QE identity match and both TCB levels (tcb.h), combined.
// Without collateral steps 0, 7 and 8 are skipped and the status is kUnknown.
//
// CheckPolicy then decides whether the verified enclave is acceptable.
//
// Every failure is a non-OK Status whose message starts with "dcap: " and a
// reason name from the list below, then details. Pure functions, any thread.

#ifndef AEX_ATTEST_DCAP_VERIFIER_H_
#define AEX_ATTEST_DCAP_VERIFIER_H_

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "attest/dcap/collateral.h"
#include "attest/dcap/pck_extension.h"
#include "attest/dcap/quote.h"
#include "attest/dcap/x509.h"

namespace aex::dcap {

// Reason names, the first word of every failure message after "dcap: ".
namespace reason {
constexpr char kQuoteFormat[] = "quote-format";
constexpr char kQeVendor[] = "qe-vendor";
constexpr char kPckChain[] = "pck-chain";
constexpr char kPckRevoked[] = "pck-revoked";
constexpr char kPckCrlIssuer[] = "pck-crl-issuer";
constexpr char kCrlWindow[] = "crl-window";  // a CRL expired or not yet valid at `at`
constexpr char kCrlSignature[] = "crl-signature";  // a CRL not signed by its issuer
constexpr char kPckExtension[] = "pck-extension";
constexpr char kQeReportSignature[] = "qe-report-signature";
constexpr char kQeReportData[] = "qe-report-data";
constexpr char kAttestationKey[] = "attestation-key";
constexpr char kQuoteSignature[] = "quote-signature";
constexpr char kCollateral[] = "collateral";
constexpr char kTcbInfoChain[] = "tcb-info-chain";
constexpr char kTcbInfoSignature[] = "tcb-info-signature";
constexpr char kTcbInfoWindow[] = "tcb-info-window";
constexpr char kTcbInfoMismatch[] = "tcb-info-mismatch";
constexpr char kQeIdentityChain[] = "qe-identity-chain";
constexpr char kQeIdentitySignature[] = "qe-identity-signature";
constexpr char kQeIdentityWindow[] = "qe-identity-window";
// tcb.cc's: "qe-identity-mismatch", "qe-tcb-level-unsupported",
// "tcb-level-unsupported". CheckPolicy's: the "policy-*" names.
}  // namespace reason

// The reason name of a failure from this component ("pck-revoked", ...);
// "" for OK, the whole message for a failure of another component.
std::string FailureReason(const Status& s);

// Intel SGX Root CA's public key (P-256), built in.
EvpPkeyPtr IntelSgxRootKey();

struct VerifyOptions {
  EVP_PKEY* root = nullptr;  // the pinned root; nullptr = Intel SGX Root CA
  time_t at = 0;             // verification time
};

struct Verdict {
  TcbStatus tcb_status = TcbStatus::kUnknown;           // combined
  TcbStatus platform_tcb_status = TcbStatus::kUnknown;  // from TCB info
  TcbStatus qe_tcb_status = TcbStatus::kUnknown;        // from QE identity
  std::vector<std::string> advisory_ids;                // platform and QE levels
  QuoteHeader header;
  ReportBody report;  // the ISV enclave's
  SgxExtension pck;
  bool collateral_checked = false;
};

// Collateral checked once, at one time under one root: both CRLs within their
// windows and signed (the root CA CRL by the pinned root, the PCK CRL by the
// leaf of its issuer chain, which chains to the pinned root), then TCB info
// and QE identity (step 7). The checks that depend on a quote (revocation of
// its PCK chain, FMSPC/PCE-ID, step 8) are VerifyQuote's. One verified
// collateral serves every quote of the platforms it covers at that time, so
// a verifier of many enclaves pays for it once. Immutable; any thread.
class VerifiedCollateral {
 public:
  static Result<VerifiedCollateral> Verify(const Collateral& collateral,
                                           const VerifyOptions& options);

  time_t at() const { return at_; }
  EVP_PKEY* root() const { return root_.get(); }
  X509_CRL* root_ca_crl() const { return root_ca_crl_.get(); }
  X509_CRL* pck_crl() const { return pck_crl_.get(); }
  const TcbInfo& tcb_info() const { return tcb_info_; }
  const QeIdentity& qe_identity() const { return qe_identity_; }

 private:
  VerifiedCollateral() = default;
  time_t at_ = 0;
  EvpPkeyPtr root_;
  X509CrlPtr root_ca_crl_, pck_crl_;
  TcbInfo tcb_info_;
  QeIdentity qe_identity_;
};

// Verifies with `collateral` (VerifiedCollateral::Verify first), or without
// collateral when it is null (steps 1-6 only, no CRLs, status kUnknown).
Result<Verdict> VerifyQuote(ByteSpan quote, const Collateral* collateral,
                            const VerifyOptions& options);
// Steps 1-6 and 8 against collateral verified before, at its time and root.
Result<Verdict> VerifyQuote(ByteSpan quote, const VerifiedCollateral& collateral);

struct Policy {
  // kRevoked is refused even when listed.
  std::vector<TcbStatus> accepted_tcb_statuses = {TcbStatus::kUpToDate};
  // Accept kUnknown (verified without collateral). Off by default.
  bool allow_unknown_tcb = false;
  uint16_t min_isv_svn = 0;
  std::optional<uint16_t> isv_prod_id;
  std::optional<Hash256> mr_signer;
  std::optional<Hash256> mr_enclave;
  bool allow_debug = false;
};

// kPermissionDenied "dcap: policy-<what>: detail" when the verdict is not
// acceptable: policy-tcb-status, policy-debug, policy-isv-prod-id,
// policy-isv-svn, policy-mrsigner, policy-mrenclave.
Status CheckPolicy(const Verdict& verdict, const Policy& policy);

}  // namespace aex::dcap

#endif  // AEX_ATTEST_DCAP_VERIFIER_H_
