// A simulated Intel provisioning hierarchy and Quoting Enclave that produce
// exactly what real SGX hardware and Intel's PCS produce, with keys of our own:
//
//   root CA (self-signed) ─┬─ processor CA ── PCK certificate (SGX extension)
//                          └─ TCB signing certificate
//   root CA CRL (by the root), PCK CRL (by the processor CA),
//   TCB info v3 and QE identity v2 JSON signed by the TCB signing key,
//   quotes v3 with certification data type 5, signed by a fresh attestation key
//   whose hash the QE report (signed by the PCK key) carries.
//
// verifier.h accepts its quotes when its root key is pinned; nothing here is
// trusted by the verifier otherwise. For tests and the simulated sgx platform
// (platform/setup.cc creates a node's hierarchy, aex-platform quotes with its
// QuotingEnclave). A Hierarchy is not thread-safe; a QuotingEnclave's
// MakeQuote may be called from several threads.

#ifndef AEX_ATTEST_DCAP_SIM_H_
#define AEX_ATTEST_DCAP_SIM_H_

#include <ctime>
#include <string>
#include <vector>

#include "attest/dcap/collateral.h"
#include "attest/dcap/pck_extension.h"
#include "attest/dcap/quote.h"
#include "attest/dcap/x509.h"

namespace aex::dcap::sim {

// A P-256 key pair.
Result<EvpPkeyPtr> NewP256Key();

struct CertSpec {
  std::string common_name;
  long serial = 1;
  bool ca = false;
  time_t not_before = 0;
  time_t not_after = 0;
  const SgxExtension* sgx = nullptr;  // added as the SGX extension when set
};
// A certificate for `key` signed by `signer` under `issuer`'s name; self-signed
// when issuer is null.
Result<X509Ptr> MakeCertificate(EVP_PKEY* key, const CertSpec& spec, X509* issuer,
                                EVP_PKEY* signer);
// A v2 CRL by `issuer`, valid [this_update, next_update], listing `revoked`.
Result<Bytes> MakeCrl(X509* issuer, EVP_PKEY* signer, const std::vector<long>& revoked,
                      time_t this_update, time_t next_update);

struct Options {
  time_t not_before = 0, not_after = 0;    // certificates
  time_t issue_date = 0, next_update = 0;  // CRLs, TCB info, QE identity
  time_t crl_next_update = 0;              // 0: next_update
  std::array<uint8_t, 6> fmspc = {0x00, 0xa0, 0x65, 0x51, 0x00, 0x00};
  std::array<uint8_t, 2> pce_id = {0, 0};
  std::vector<TcbLevel> tcb_levels;  // newest first; empty: one UpToDate level at 2,2,..,PCESVN 11
  // The simulated QE: its identity (ATTRIBUTES 0x11.. under a 0xfb.. mask,
  // MISCSELECT 0) and its TCB levels (empty: ISVSVN 8 UpToDate).
  Hash256 qe_mrsigner{};
  uint16_t qe_isv_prod_id = 1;
  std::vector<QeTcbLevel> qe_levels;
};

// A PCK key pair and certificate.
struct Pck {
  EvpPkeyPtr key;
  X509Ptr cert;
  long serial = 0;
};

// A hierarchy's own keys and state: what a provisioning service keeps
// between runs to issue more PCK certificates and sign new CRLs
// (platform/setup.cc stores them, 0600, for one deployment).
struct HierarchyKeys {
  EvpPkeyPtr root_key, ca_key, tcb_key;
  X509Ptr root, ca, tcb_signer;
  long next_serial = 100;
  std::vector<long> revoked;  // PCK serials on the PCK CRL
};

class Hierarchy {
 public:
  static Result<Hierarchy> Create(const Options& options);
  // A hierarchy from keys kept before. REQUIRES: keys from keys() of a
  // hierarchy made with the same options.
  static Result<Hierarchy> Restore(const Options& options, HierarchyKeys keys);

  // A PCK certificate for a platform with this TCB (ppid, components,
  // PCESVN, CPUSVN; FMSPC and PCE-ID are the hierarchy's).
  Result<Pck> IssuePck(SgxExtension platform);
  // Lists the PCK on the PCK CRL from now on.
  void Revoke(const Pck& pck) { Revoke(pck.serial); }
  void Revoke(long pck_serial) { keys_.revoked.push_back(pck_serial); }

  // The collateral Intel's PCS would serve, freshly signed.
  Result<Collateral> MakeCollateral() const;
  EVP_PKEY* root_key() const { return keys_.root_key.get(); }
  X509* root() const { return keys_.root.get(); }
  const HierarchyKeys& keys() const { return keys_; }
  // PCK, processor CA and root certificates, PEM, as a QE carries them.
  std::string PckChainPem(const Pck& pck) const;

 private:
  Hierarchy() = default;
  Result<std::string> TcbInfoJson() const;
  std::string QeIdentityJson() const;

  Options options_;
  HierarchyKeys keys_;
};

// The simulated Quoting Enclave of one platform: a fresh attestation key,
// its QE report signed by the PCK key, and quotes v3 signed by that key.
class QuotingEnclave {
 public:
  // REQUIRES: pck from hierarchy.IssuePck.
  static Result<QuotingEnclave> Create(const Hierarchy& hierarchy, Pck pck, uint16_t qe_isv_svn,
                                       const Options& options);
  // The same from a stored PCK: its private key and its chain (PCK,
  // processor CA, root; PEM, as PckChainPem), e.g. a platform's files once
  // the hierarchy's own keys are gone.
  static Result<QuotingEnclave> Create(EVP_PKEY* pck_key, const std::string& pck_chain_pem,
                                       uint16_t qe_isv_svn, const Options& options);
  // A quote over `enclave` (the ISV enclave's report body, as EREPORT makes it).
  Result<Bytes> MakeQuote(const ReportBody& enclave) const;

 private:
  QuotingEnclave() = default;
  Quote template_;  // everything but the report body and its signature
  EvpPkeyPtr attestation_key_;
};

}  // namespace aex::dcap::sim

#endif  // AEX_ATTEST_DCAP_SIM_H_
