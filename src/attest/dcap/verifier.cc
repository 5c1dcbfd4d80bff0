// DCAP quote verification and enclave policy (contract in verifier.h).

#include "attest/dcap/verifier.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "attest/dcap/tcb.h"
#include "crypto/crypto.h"

namespace aex::dcap {
namespace {

constexpr uint8_t kIntelRootKey[64] = {
    0x0b, 0xa9, 0xc4, 0xc0, 0xc0, 0xc8, 0x61, 0x93, 0xa3, 0xfe, 0x23, 0xd6,
    0xb0, 0x2c, 0xda, 0x10, 0xa8, 0xbb, 0xd4, 0xe8, 0x8e, 0x48, 0xb4, 0x45,
    0x85, 0x61, 0xa3, 0x6e, 0x70, 0x55, 0x25, 0xf5, 0x67, 0x91, 0x8e, 0x2e,
    0xdc, 0x88, 0xe4, 0x0d, 0x86, 0x0b, 0xd0, 0xcc, 0x4e, 0xe2, 0x6a, 0xac,
    0xc9, 0x88, 0xe5, 0x05, 0xa9, 0x53, 0x55, 0x8c, 0x45, 0x3f, 0x6b, 0x09,
    0x04, 0xae, 0x73, 0x94,
};

Status Fail(const char* reason, const std::string& detail, Code code = Code::kAuthFailed) {
  return Status(code, std::string("dcap: ") + reason + ": " + detail);
}
// A failure whose message already starts with its reason (tcb.cc).
Status Prefixed(const Status& s) { return s.ok() ? s : Status(s.code(), "dcap: " + s.message()); }

// A chain failure's reason: revocation and CRL windows have their own.
Status ChainFailure(const char* why, const Status& s, int err) {
  if (err == X509_V_ERR_CERT_REVOKED) return Fail(reason::kPckRevoked, s.message());
  if (err == X509_V_ERR_CRL_HAS_EXPIRED || err == X509_V_ERR_CRL_NOT_YET_VALID) {
    return Fail(reason::kCrlWindow, s.message());
  }
  return Fail(why, s.message());
}

// A PEM chain from the collateral, validated to the pinned root with the root
// CA CRL. signer_under_root: the chain must be [end-entity signer, root], as
// for TCB info and QE identity: every PCK certificate chains to the same
// root, and a platform's PCK key must not be able to vouch for TCB levels.
Result<std::vector<X509Ptr>> VerifyIssuerChain(const char* why, const std::string& pem,
                                               X509_CRL* root_crl, const VerifyOptions& o,
                                               bool signer_under_root = false) {
  auto chain = ParsePemChain(pem);
  if (!chain.ok()) return Fail(why, chain.status().message());
  if (signer_under_root && (chain->size() != 2 || X509_check_ca(chain->front().get()) != 0)) {
    return Fail(why, "the signer is not an end-entity certificate issued by the root");
  }
  int err = X509_V_OK;
  Status s = VerifyChain(*chain, {o.root, {root_crl}, true, o.at}, &err);
  if (!s.ok()) return ChainFailure(why, s, err);
  return std::move(*chain);
}

// One CRL of the collateral: DER, valid at o.at, signed by `issuer_key`.
Result<X509CrlPtr> CheckCrl(const char* field, ByteSpan der, EVP_PKEY* issuer_key,
                            const VerifyOptions& o) {
  auto crl = ParseCrlDer(der);
  if (!crl.ok()) return Fail(reason::kCollateral, std::string(field) + ": " + crl.status().message());
  time_t at = o.at;
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl->get());
  if (X509_cmp_time(X509_CRL_get0_lastUpdate(crl->get()), &at) > 0 || !next ||
      X509_cmp_time(next, &at) <= 0) {
    return Fail(reason::kCrlWindow, std::string(field) + " is not valid at " + FormatRfc3339(at));
  }
  if (X509_CRL_verify(crl->get(), issuer_key) != 1) {
    ERR_clear_error();
    return Fail(reason::kCrlSignature, std::string(field) + " is not signed by its issuer");
  }
  return std::move(*crl);
}

// The PCK chain of the quote; with collateral also revocation.
Result<std::vector<X509Ptr>> VerifyPckChain(const Quote& q, const VerifiedCollateral* c,
                                            const VerifyOptions& o) {
  std::string_view pem(reinterpret_cast<const char*>(q.cert_data.data()), q.cert_data.size());
  auto chain = ParsePemChain(pem);
  if (!chain.ok()) return Fail(reason::kPckChain, chain.status().message());
  ChainCheck check{o.root, {}, false, o.at};
  if (c) check = {o.root, {c->root_ca_crl(), c->pck_crl()}, true, o.at};
  int err = X509_V_OK;
  Status s = VerifyChain(*chain, check, &err);
  if (!s.ok()) return ChainFailure(reason::kPckChain, s, err);
  return std::move(*chain);
}

// Steps 4-6: QE report signature, QE report data, quote signature.
Status VerifySignatures(const Quote& q, X509* pck) {
  Bytes qe_report;
  {
    ByteWriter w(kReportBodySize);
    EncodeReportBody(q.qe_report, &w);
    qe_report = w.Take();
  }
  if (!VerifyRawEcdsa(X509_get0_pubkey(pck), qe_report, q.qe_report_signature).ok()) {
    return Fail(reason::kQeReportSignature, "the QE report is not signed by the PCK key");
  }
  Bytes hashed(q.attestation_key.begin(), q.attestation_key.end());
  hashed.insert(hashed.end(), q.qe_auth_data.begin(), q.qe_auth_data.end());
  crypto::Digest digest = crypto::Sha256(hashed);
  std::array<uint8_t, 64> expected{};
  std::copy(digest.begin(), digest.end(), expected.begin());
  if (!crypto::Equal(expected, q.qe_report.report_data)) {
    return Fail(reason::kQeReportData,
                "QE report data is not SHA-256(attestation key || QE auth data) || zeros");
  }
  auto ak = P256KeyFromRaw(q.attestation_key);
  if (!ak.ok()) return Fail(reason::kAttestationKey, ak.status().message());
  if (!VerifyRawEcdsa(ak->get(), SignedPart(q), q.signature).ok()) {
    return Fail(reason::kQuoteSignature, "header and report body are not signed by the "
                                         "attestation key");
  }
  return Status::Ok();
}

// A signed JSON document of the collateral: chain, signature, window.
Status VerifyDocument(const char* chain_reason, const char* sig_reason, const char* window_reason,
                      const std::string& issuer_chain, const std::string& body, ByteSpan sig,
                      time_t issue, time_t next_update, X509_CRL* root_crl,
                      const VerifyOptions& o) {
  AEX_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain,
                       VerifyIssuerChain(chain_reason, issuer_chain, root_crl, o,
                                         /*signer_under_root=*/true));
  if (!VerifyRawEcdsa(X509_get0_pubkey(chain.front().get()), AsBytes(body), sig).ok()) {
    return Fail(sig_reason, "the signature does not verify with the signing certificate");
  }
  if (o.at < issue || o.at > next_update) {
    return Fail(window_reason, "verification time " + FormatRfc3339(o.at) + " is outside [" +
                                   FormatRfc3339(issue) + ", " + FormatRfc3339(next_update) + "]");
  }
  return Status::Ok();
}

Result<TcbInfo> CheckTcbInfo(const Collateral& c, X509_CRL* root_crl, const VerifyOptions& o) {
  auto info = ParseTcbInfo(c.tcb_info);
  if (!info.ok()) return Fail(reason::kCollateral, info.status().message());
  AEX_RETURN_IF_ERROR(VerifyDocument(reason::kTcbInfoChain, reason::kTcbInfoSignature,
                                     reason::kTcbInfoWindow, c.tcb_info_issuer_chain, c.tcb_info,
                                     c.tcb_info_signature, info->issue_date, info->next_update,
                                     root_crl, o));
  return std::move(*info);
}

Result<QeIdentity> CheckQeIdentityDoc(const Collateral& c, X509_CRL* root_crl,
                                      const VerifyOptions& o) {
  auto id = ParseQeIdentity(c.qe_identity);
  if (!id.ok()) return Fail(reason::kCollateral, id.status().message());
  AEX_RETURN_IF_ERROR(VerifyDocument(reason::kQeIdentityChain, reason::kQeIdentitySignature,
                                     reason::kQeIdentityWindow, c.qe_identity_issuer_chain,
                                     c.qe_identity, c.qe_identity_signature, id->issue_date,
                                     id->next_update, root_crl, o));
  if (id->id != "QE") {
    return Fail(reason::kCollateral, "qe_identity: id \"" + id->id + "\" is not QE");
  }
  return std::move(*id);
}

// Step 8.
Status EvaluateTcb(const Quote& q, const VerifiedCollateral& c, Verdict* v) {
  const TcbInfo& info = c.tcb_info();
  if (info.fmspc != v->pck.fmspc || info.pce_id != v->pck.pce_id) {
    return Fail(reason::kTcbInfoMismatch, "the TCB info is for FMSPC " + HexEncode(info.fmspc) +
                                              ", PCE-ID " + HexEncode(info.pce_id) +
                                              "; the PCK certificate's are " +
                                              HexEncode(v->pck.fmspc) + ", " +
                                              HexEncode(v->pck.pce_id));
  }
  AEX_RETURN_IF_ERROR(Prefixed(CheckQeIdentity(c.qe_identity(), q.qe_report)));
  auto qe_level = MatchQeTcbLevel(c.qe_identity(), q.qe_report.isv_svn);
  if (!qe_level.ok()) return Prefixed(qe_level.status());
  auto level = MatchTcbLevel(info, v->pck);
  if (!level.ok()) return Prefixed(level.status());
  v->platform_tcb_status = (*level)->status;
  v->qe_tcb_status = (*qe_level)->status;
  v->tcb_status = ConvergeTcbStatus(v->platform_tcb_status, v->qe_tcb_status);
  v->advisory_ids = (*level)->advisory_ids;
  for (const std::string& a : (*qe_level)->advisory_ids) {
    if (std::find(v->advisory_ids.begin(), v->advisory_ids.end(), a) == v->advisory_ids.end()) {
      v->advisory_ids.push_back(a);
    }
  }
  v->collateral_checked = true;
  return Status::Ok();
}

// Steps 1-6, and 8 with collateral. REQUIRES: o.root non-null.
Result<Verdict> VerifyWith(ByteSpan quote_bytes, const VerifiedCollateral* c,
                           const VerifyOptions& o) {
  auto parsed = ParseQuote(quote_bytes);
  if (!parsed.ok()) {
    return Fail(reason::kQuoteFormat, parsed.status().message(), Code::kInvalidArgument);
  }
  const Quote& q = *parsed;
  if (q.header.qe_vendor_id != kIntelQeVendorId) {
    return Fail(reason::kQeVendor, "the QE vendor id is not Intel's");
  }
  AEX_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain, VerifyPckChain(q, c, o));
  Verdict v;
  auto ext = SgxExtensionOf(chain.front().get());
  if (!ext.ok()) return Fail(reason::kPckExtension, ext.status().message());
  v.pck = *ext;
  AEX_RETURN_IF_ERROR(VerifySignatures(q, chain.front().get()));
  v.header = q.header;
  v.report = q.report;
  if (c) AEX_RETURN_IF_ERROR(EvaluateTcb(q, *c, &v));
  return v;
}

}  // namespace

std::string FailureReason(const Status& s) {
  const std::string& m = s.message();
  if (s.ok()) return "";
  if (m.rfind("dcap: ", 0) != 0) return m;
  return m.substr(6, m.find(':', 6) - 6);
}

EvpPkeyPtr IntelSgxRootKey() {
  auto key = P256KeyFromRaw(ByteSpan(kIntelRootKey, sizeof kIntelRootKey));
  return key.ok() ? std::move(*key) : nullptr;
}

Result<VerifiedCollateral> VerifiedCollateral::Verify(const Collateral& c,
                                                       const VerifyOptions& options) {
  VerifiedCollateral v;
  v.at_ = options.at;
  if (options.root) {
    EVP_PKEY_up_ref(options.root);
    v.root_.reset(options.root);
  } else {
    v.root_ = IntelSgxRootKey();
  }
  VerifyOptions o{v.root_.get(), v.at_};
  AEX_ASSIGN_OR_RETURN(v.root_ca_crl_, CheckCrl("root_ca_crl", c.root_ca_crl, o.root, o));
  AEX_ASSIGN_OR_RETURN(std::vector<X509Ptr> pck_issuer,
                       VerifyIssuerChain(reason::kPckCrlIssuer, c.pck_crl_issuer_chain,
                                         v.root_ca_crl_.get(), o));
  AEX_ASSIGN_OR_RETURN(v.pck_crl_, CheckCrl("pck_crl", c.pck_crl,
                                            X509_get0_pubkey(pck_issuer.front().get()), o));
  AEX_ASSIGN_OR_RETURN(v.tcb_info_, CheckTcbInfo(c, v.root_ca_crl_.get(), o));
  AEX_ASSIGN_OR_RETURN(v.qe_identity_, CheckQeIdentityDoc(c, v.root_ca_crl_.get(), o));
  return v;
}

Result<Verdict> VerifyQuote(ByteSpan quote, const Collateral* collateral,
                            const VerifyOptions& options) {
  if (collateral) {
    AEX_ASSIGN_OR_RETURN(VerifiedCollateral c, VerifiedCollateral::Verify(*collateral, options));
    return VerifyQuote(quote, c);
  }
  EvpPkeyPtr intel;
  VerifyOptions o = options;
  if (!o.root) {
    intel = IntelSgxRootKey();
    o.root = intel.get();
  }
  return VerifyWith(quote, nullptr, o);
}

Result<Verdict> VerifyQuote(ByteSpan quote, const VerifiedCollateral& collateral) {
  return VerifyWith(quote, &collateral, {collateral.root(), collateral.at()});
}

Status CheckPolicy(const Verdict& v, const Policy& p) {
  auto deny = [](const char* what, const std::string& detail) {
    return Status(Code::kPermissionDenied, std::string("dcap: policy-") + what + ": " + detail);
  };
  const auto& accepted = p.accepted_tcb_statuses;
  bool listed = std::find(accepted.begin(), accepted.end(), v.tcb_status) != accepted.end();
  // Revoked is a verdict, not a level of risk: no policy accepts it.
  bool tcb_ok = v.tcb_status == TcbStatus::kUnknown ? p.allow_unknown_tcb
                                                    : listed && v.tcb_status != TcbStatus::kRevoked;
  if (!tcb_ok) {
    return deny("tcb-status", std::string("TCB status ") + TcbStatusName(v.tcb_status) +
                                  " is not accepted");
  }
  if (v.report.debug() && !p.allow_debug) return deny("debug", "the enclave is a debug enclave");
  if (p.isv_prod_id && v.report.isv_prod_id != *p.isv_prod_id) {
    return deny("isv-prod-id", "ISVPRODID " + std::to_string(v.report.isv_prod_id) + " is not " +
                                   std::to_string(*p.isv_prod_id));
  }
  if (v.report.isv_svn < p.min_isv_svn) {
    return deny("isv-svn", "ISVSVN " + std::to_string(v.report.isv_svn) + " is below " +
                               std::to_string(p.min_isv_svn));
  }
  if (p.mr_signer && v.report.mr_signer != *p.mr_signer) {
    return deny("mrsigner", "MRSIGNER " + HexEncode(v.report.mr_signer) + " is not expected");
  }
  if (p.mr_enclave && v.report.mr_enclave != *p.mr_enclave) {
    return deny("mrenclave", "MRENCLAVE " + HexEncode(v.report.mr_enclave) + " is not expected");
  }
  return Status::Ok();
}

}  // namespace aex::dcap
