// Simulated provisioning hierarchy and Quoting Enclave (contract in sim.h).

#include "attest/dcap/sim.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <nlohmann/json.hpp>

#include "crypto/crypto.h"

namespace aex::dcap::sim {
namespace {

using nlohmann::json;

// The QE's ATTRIBUTES and the identity's mask, as Intel's QE identity has them.
constexpr std::array<uint8_t, 16> kQeAttributes = {0x11};
constexpr std::array<uint8_t, 16> kQeAttributesMask = {0xfb, 0xff, 0xff, 0xff,
                                                        0xff, 0xff, 0xff, 0xff};

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  bool ok = ext && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool AddSgxExtension(X509* cert, const SgxExtension& sgx) {
  auto der = EncodeSgxExtension(sgx);
  if (!der.ok()) return false;
  ASN1_OBJECT* oid = OBJ_txt2obj(kSgxExtensionOid, 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  bool ok = oid && data && ASN1_OCTET_STRING_set(data, der->data(), static_cast<int>(der->size()));
  X509_EXTENSION* ext = ok ? X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, data) : nullptr;
  ok = ext && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(oid);
  return ok;
}

bool SetName(X509* cert, X509* issuer, const std::string& cn) {
  X509_NAME* name = X509_NAME_new();
  bool ok = name &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                       -1, 0) == 1 &&
            X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>("aex simulated SGX"),
                                       -1, -1, 0) == 1 &&
            X509_set_subject_name(cert, name) == 1 &&
            X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) == 1;
  X509_NAME_free(name);
  return ok;
}

json TcbLevelJson(const TcbLevel& l) {
  json comps = json::array();
  for (uint8_t svn : l.sgx_components) comps.push_back({{"svn", svn}});
  return {{"tcb", {{"sgxtcbcomponents", comps}, {"pcesvn", l.pce_svn}}},
          {"tcbDate", l.tcb_date},
          {"tcbStatus", TcbStatusName(l.status)},
          {"advisoryIDs", l.advisory_ids}};
}

std::string UpperHex(ByteSpan b) {
  std::string s = HexEncode(b);
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<EvpPkeyPtr> NewP256Key() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  ERR_clear_error();
  if (!key) return Internal("cannot generate a P-256 key");
  return key;
}

Result<X509Ptr> MakeCertificate(EVP_PKEY* key, const CertSpec& spec, X509* issuer,
                                EVP_PKEY* signer) {
  X509Ptr cert(X509_new());
  X509* iss = issuer ? issuer : cert.get();
  bool ok = cert && X509_set_version(cert.get(), 2) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), spec.serial) == 1 &&
            SetName(cert.get(), issuer, spec.common_name) &&
            ASN1_TIME_set(X509_getm_notBefore(cert.get()), spec.not_before) != nullptr &&
            ASN1_TIME_set(X509_getm_notAfter(cert.get()), spec.not_after) != nullptr &&
            X509_set_pubkey(cert.get(), key) == 1 &&
            AddExtension(cert.get(), iss, NID_basic_constraints,
                         spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
            AddExtension(cert.get(), iss, NID_key_usage,
                         spec.ca ? "critical,keyCertSign,cRLSign"
                                 : "critical,digitalSignature,nonRepudiation") &&
            AddExtension(cert.get(), iss, NID_subject_key_identifier, "hash") &&
            (!issuer || AddExtension(cert.get(), iss, NID_authority_key_identifier,
                                     "keyid:always")) &&
            (!spec.sgx || AddSgxExtension(cert.get(), *spec.sgx)) &&
            X509_sign(cert.get(), signer, EVP_sha256()) > 0;
  ERR_clear_error();
  if (!ok) return Internal("cannot make certificate " + spec.common_name);
  return cert;
}

Result<Bytes> MakeCrl(X509* issuer, EVP_PKEY* signer, const std::vector<long>& revoked,
                      time_t this_update, time_t next_update) {
  X509_CRL* crl = X509_CRL_new();
  ASN1_TIME* t = ASN1_TIME_new();
  bool ok = crl && t && X509_CRL_set_version(crl, 1) == 1 &&
            X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) == 1 &&
            ASN1_TIME_set(t, this_update) && X509_CRL_set1_lastUpdate(crl, t) == 1 &&
            ASN1_TIME_set(t, next_update) && X509_CRL_set1_nextUpdate(crl, t) == 1;
  for (size_t i = 0; ok && i < revoked.size(); i++) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* serial = ASN1_INTEGER_new();
    ok = r && serial && ASN1_INTEGER_set(serial, revoked[i]) == 1 &&
         X509_REVOKED_set_serialNumber(r, serial) == 1 && ASN1_TIME_set(t, this_update) &&
         X509_REVOKED_set_revocationDate(r, t) == 1 && X509_CRL_add0_revoked(crl, r) == 1;
    if (!ok) X509_REVOKED_free(r);
    ASN1_INTEGER_free(serial);
  }
  ok = ok && X509_CRL_sort(crl) == 1 && X509_CRL_sign(crl, signer, EVP_sha256()) > 0;
  unsigned char* der = nullptr;
  int n = ok ? i2d_X509_CRL(crl, &der) : -1;
  ASN1_TIME_free(t);
  X509_CRL_free(crl);
  ERR_clear_error();
  if (n <= 0) return Internal("cannot make a CRL");
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

Result<Hierarchy> Hierarchy::Create(const Options& o) {
  HierarchyKeys k;
  AEX_ASSIGN_OR_RETURN(k.root_key, NewP256Key());
  AEX_ASSIGN_OR_RETURN(k.ca_key, NewP256Key());
  AEX_ASSIGN_OR_RETURN(k.tcb_key, NewP256Key());
  CertSpec spec{"aex Simulated SGX Root CA", 1, true, o.not_before, o.not_after, nullptr};
  AEX_ASSIGN_OR_RETURN(k.root, MakeCertificate(k.root_key.get(), spec, nullptr, k.root_key.get()));
  spec = {"aex Simulated SGX PCK Processor CA", 2, true, o.not_before, o.not_after, nullptr};
  AEX_ASSIGN_OR_RETURN(k.ca, MakeCertificate(k.ca_key.get(), spec, k.root.get(),
                                             k.root_key.get()));
  spec = {"aex Simulated SGX TCB Signing", 3, false, o.not_before, o.not_after, nullptr};
  AEX_ASSIGN_OR_RETURN(k.tcb_signer, MakeCertificate(k.tcb_key.get(), spec, k.root.get(),
                                                     k.root_key.get()));
  return Restore(o, std::move(k));
}

Result<Hierarchy> Hierarchy::Restore(const Options& o, HierarchyKeys keys) {
  if (!keys.root_key || !keys.ca_key || !keys.tcb_key || !keys.root || !keys.ca ||
      !keys.tcb_signer) {
    return InvalidArgument("simulated hierarchy: missing keys or certificates");
  }
  if (X509_check_private_key(keys.root.get(), keys.root_key.get()) != 1 ||
      X509_check_private_key(keys.ca.get(), keys.ca_key.get()) != 1 ||
      X509_check_private_key(keys.tcb_signer.get(), keys.tcb_key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgument("simulated hierarchy: a key is not its certificate's");
  }
  Hierarchy h;
  h.options_ = o;
  h.keys_ = std::move(keys);
  if (h.options_.tcb_levels.empty()) {
    TcbLevel level;
    level.sgx_components.fill(2);
    level.pce_svn = 11;
    level.status = TcbStatus::kUpToDate;
    level.tcb_date = FormatRfc3339(o.issue_date);
    h.options_.tcb_levels.push_back(level);
  }
  if (h.options_.qe_levels.empty()) h.options_.qe_levels.push_back({8, TcbStatus::kUpToDate, {}});
  return h;
}

Result<Pck> Hierarchy::IssuePck(SgxExtension platform) {
  platform.fmspc = options_.fmspc;
  platform.pce_id = options_.pce_id;
  Pck pck;
  pck.serial = keys_.next_serial++;
  AEX_ASSIGN_OR_RETURN(pck.key, NewP256Key());
  CertSpec spec{"aex Simulated SGX PCK Certificate", pck.serial, false, options_.not_before,
                options_.not_after, &platform};
  AEX_ASSIGN_OR_RETURN(pck.cert, MakeCertificate(pck.key.get(), spec, keys_.ca.get(),
                                                     keys_.ca_key.get()));
  return pck;
}

std::string Hierarchy::PckChainPem(const Pck& pck) const {
  return CertPem(pck.cert.get()) + CertPem(keys_.ca.get()) + CertPem(keys_.root.get());
}

Result<std::string> Hierarchy::TcbInfoJson() const {
  json levels = json::array();
  for (const TcbLevel& l : options_.tcb_levels) levels.push_back(TcbLevelJson(l));
  json j = {{"id", "SGX"},
            {"version", 3},
            {"issueDate", FormatRfc3339(options_.issue_date)},
            {"nextUpdate", FormatRfc3339(options_.next_update)},
            {"fmspc", UpperHex(options_.fmspc)},
            {"pceId", UpperHex(options_.pce_id)},
            {"tcbType", 0},
            {"tcbEvaluationDataNumber", 17},
            {"tcbLevels", levels}};
  return j.dump();
}

std::string Hierarchy::QeIdentityJson() const {
  json levels = json::array();
  for (const QeTcbLevel& l : options_.qe_levels) {
    levels.push_back({{"tcb", {{"isvsvn", l.isv_svn}}},
                      {"tcbDate", FormatRfc3339(options_.issue_date)},
                      {"tcbStatus", TcbStatusName(l.status)},
                      {"advisoryIDs", l.advisory_ids}});
  }
  json j = {{"id", "QE"},
            {"version", 2},
            {"issueDate", FormatRfc3339(options_.issue_date)},
            {"nextUpdate", FormatRfc3339(options_.next_update)},
            {"tcbEvaluationDataNumber", 17},
            {"miscselect", "00000000"},
            {"miscselectMask", "FFFFFFFF"},
            {"attributes", UpperHex(kQeAttributes)},
            {"attributesMask", UpperHex(kQeAttributesMask)},
            {"mrsigner", UpperHex(options_.qe_mrsigner)},
            {"isvprodid", options_.qe_isv_prod_id},
            {"tcbLevels", levels}};
  return j.dump();
}

Result<Collateral> Hierarchy::MakeCollateral() const {
  Collateral c;
  time_t crl_until = options_.crl_next_update ? options_.crl_next_update : options_.next_update;
  const HierarchyKeys& k = keys_;
  std::string root_pem = CertPem(k.root.get());
  c.pck_crl_issuer_chain = CertPem(k.ca.get()) + root_pem;
  AEX_ASSIGN_OR_RETURN(c.root_ca_crl,
                       MakeCrl(k.root.get(), k.root_key.get(), {}, options_.issue_date, crl_until));
  AEX_ASSIGN_OR_RETURN(c.pck_crl, MakeCrl(k.ca.get(), k.ca_key.get(), k.revoked,
                                          options_.issue_date, crl_until));
  c.tcb_info_issuer_chain = CertPem(k.tcb_signer.get()) + root_pem;
  AEX_ASSIGN_OR_RETURN(c.tcb_info, TcbInfoJson());
  AEX_ASSIGN_OR_RETURN(c.tcb_info_signature, SignRawEcdsa(k.tcb_key.get(), AsBytes(c.tcb_info)));
  c.qe_identity_issuer_chain = c.tcb_info_issuer_chain;
  c.qe_identity = QeIdentityJson();
  AEX_ASSIGN_OR_RETURN(c.qe_identity_signature,
                       SignRawEcdsa(k.tcb_key.get(), AsBytes(c.qe_identity)));
  return c;
}

Result<QuotingEnclave> QuotingEnclave::Create(const Hierarchy& hierarchy, Pck pck,
                                              uint16_t qe_isv_svn, const Options& o) {
  return Create(pck.key.get(), hierarchy.PckChainPem(pck), qe_isv_svn, o);
}

Result<QuotingEnclave> QuotingEnclave::Create(EVP_PKEY* pck_key, const std::string& pck_chain_pem,
                                              uint16_t qe_isv_svn, const Options& o) {
  AEX_ASSIGN_OR_RETURN(std::vector<X509Ptr> chain, ParsePemChain(pck_chain_pem));
  if (chain.empty()) return Internal("simulated QE: empty PCK chain");
  QuotingEnclave qe;
  AEX_ASSIGN_OR_RETURN(qe.attestation_key_, NewP256Key());
  Bytes ak = RawP256PublicKey(qe.attestation_key_.get());
  auto ext = SgxExtensionOf(chain.front().get());
  if (ak.size() != 64 || !ext.ok()) return Internal("simulated QE: bad keys");
  if (X509_check_private_key(chain.front().get(), pck_key) != 1) {
    return Internal("simulated QE: the PCK key is not the PCK certificate's");
  }
  Quote& q = qe.template_;
  q.header.qe_svn = qe_isv_svn;
  q.header.pce_svn = ext->pce_svn;
  q.header.qe_vendor_id = kIntelQeVendorId;
  std::copy(ak.begin(), ak.end(), q.attestation_key.begin());
  for (uint8_t i = 0; i < 32; i++) q.qe_auth_data.push_back(i);
  ReportBody& r = q.qe_report;
  r.cpu_svn = ext->cpu_svn;
  r.attributes = kQeAttributes;
  r.mr_signer = o.qe_mrsigner;
  r.isv_prod_id = o.qe_isv_prod_id;
  r.isv_svn = qe_isv_svn;
  Bytes hashed = ak;
  hashed.insert(hashed.end(), q.qe_auth_data.begin(), q.qe_auth_data.end());
  crypto::Digest d = crypto::Sha256(hashed);
  std::copy(d.begin(), d.end(), r.report_data.begin());
  ByteWriter w(kReportBodySize);
  EncodeReportBody(r, &w);
  AEX_ASSIGN_OR_RETURN(Bytes sig, SignRawEcdsa(pck_key, w.bytes()));
  std::copy(sig.begin(), sig.end(), q.qe_report_signature.begin());
  q.cert_data.assign(pck_chain_pem.begin(), pck_chain_pem.end());
  return qe;
}

Result<Bytes> QuotingEnclave::MakeQuote(const ReportBody& enclave) const {
  Quote q = template_;
  q.report = enclave;
  AEX_ASSIGN_OR_RETURN(Bytes sig, SignRawEcdsa(attestation_key_.get(), SignedPart(q)));
  std::copy(sig.begin(), sig.end(), q.signature.begin());
  return EncodeQuote(q);
}

}  // namespace aex::dcap::sim
