// PCK revocation: Intel signs the real PCK CRL, so this test builds a
// throwaway hierarchy (root, processor CA, PCK certificate carrying the real
// certificate's SGX extension) and its CRLs, puts that chain into the real
// quote and pins the throwaway root. With the PCK on the CRL the quote is
// refused as revoked; with the same CRL minus that entry, the chain passes and
// the quote fails only later, at the QE report signature (the real QE signed
// with Intel's PCK key), which shows that the CRL entry is the cause.

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "attest/dcap/pck_extension.h"
#include "attest/dcap/quote.h"
#include "attest/dcap/verifier.h"
#include "attest/dcap/x509.h"
#include "dcap_test_util.h"

namespace aex::dcap {
namespace {

using testing::At;
using testing::ReasonOf;

constexpr char kAt[] = "2025-06-20T00:00:00Z";

EvpPkeyPtr NewKey() { return EvpPkeyPtr(EVP_EC_gen("P-256")); }

X509_NAME* Name(const char* cn) {
  X509_NAME* n = X509_NAME_new();
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  return n;
}

void AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate valid 2020..2040; self-signed when issuer is null.
X509Ptr MakeCert(const char* cn, long serial, EVP_PKEY* key, X509* issuer, EVP_PKEY* signer,
                 bool ca, const Bytes* sgx_ext = nullptr) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_NAME* name = Name(cn);
  X509_set_subject_name(cert.get(), name);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_NAME_free(name);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), At("2020-01-01T00:00:00Z"));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), At("2040-01-01T00:00:00Z"));
  X509_set_pubkey(cert.get(), key);
  X509* iss = issuer ? issuer : cert.get();
  AddExt(cert.get(), iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  AddExt(cert.get(), iss, NID_key_usage,
         ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  AddExt(cert.get(), iss, NID_subject_key_identifier, "hash");
  if (issuer) AddExt(cert.get(), iss, NID_authority_key_identifier, "keyid:always");
  if (sgx_ext) {
    ASN1_OBJECT* oid = OBJ_txt2obj(kSgxExtensionOid, 1);
    ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(data, sgx_ext->data(), static_cast<int>(sgx_ext->size()));
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, data);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(data);
    ASN1_OBJECT_free(oid);
  }
  EXPECT_GT(X509_sign(cert.get(), signer, EVP_sha256()), 0);
  return cert;
}

// A v2 CRL by `issuer`, valid 2025-06-01..2025-07-01, listing `revoked`.
Bytes MakeCrl(X509* issuer, EVP_PKEY* key, const std::vector<long>& revoked) {
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
  ASN1_TIME* t = ASN1_TIME_new();
  ASN1_TIME_set(t, At("2025-06-01T00:00:00Z"));
  X509_CRL_set1_lastUpdate(crl, t);
  ASN1_TIME_set(t, At("2025-07-01T00:00:00Z"));
  X509_CRL_set1_nextUpdate(crl, t);
  for (long serial : revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* s = ASN1_INTEGER_new();
    ASN1_INTEGER_set(s, serial);
    X509_REVOKED_set_serialNumber(r, s);
    X509_REVOKED_set_revocationDate(r, t);
    X509_CRL_add0_revoked(crl, r);
    ASN1_INTEGER_free(s);
  }
  ASN1_TIME_free(t);
  X509_CRL_sort(crl);
  EXPECT_GT(X509_CRL_sign(crl, key, EVP_sha256()), 0);
  unsigned char* der = nullptr;
  int n = i2d_X509_CRL(crl, &der);
  Bytes out(der, der + n);
  OPENSSL_free(der);
  X509_CRL_free(crl);
  return out;
}

TEST(DcapRevocation, PckOnTheCrlIsRefused) {
  auto quote = ParseQuote(testing::RealQuote());
  ASSERT_TRUE(quote.ok());
  std::vector<X509Ptr> real_chain = testing::PckChainOf(*quote);
  ASSERT_FALSE(real_chain.empty());
  auto real_ext = SgxExtensionOf(real_chain.front().get());
  ASSERT_TRUE(real_ext.ok());
  auto ext_der = EncodeSgxExtension(*real_ext);
  ASSERT_TRUE(ext_der.ok());

  EvpPkeyPtr root_key = NewKey(), ca_key = NewKey(), pck_key = NewKey();
  constexpr long kPckSerial = 0x5ca1ab1e;
  X509Ptr root = MakeCert("Throwaway SGX Root CA", 1, root_key.get(), nullptr, root_key.get(), true);
  X509Ptr ca = MakeCert("Throwaway PCK Processor CA", 2, ca_key.get(), root.get(), root_key.get(),
                        true);
  X509Ptr pck = MakeCert("Throwaway PCK Certificate", kPckSerial, pck_key.get(), ca.get(),
                         ca_key.get(), false, &*ext_der);
  std::string pem = CertPem(pck.get()) + CertPem(ca.get()) + CertPem(root.get());
  quote->cert_data.assign(pem.begin(), pem.end());
  Bytes bytes = EncodeQuote(*quote);

  Collateral c = testing::RealCollateral();
  c.pck_crl_issuer_chain = CertPem(ca.get()) + CertPem(root.get());
  c.root_ca_crl = MakeCrl(root.get(), root_key.get(), {});
  c.pck_crl = MakeCrl(ca.get(), ca_key.get(), {7, kPckSerial, 9});
  auto v = VerifyQuote(bytes, &c, {root_key.get(), At(kAt)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "pck-revoked") << v.status().message();

  c.pck_crl = MakeCrl(ca.get(), ca_key.get(), {7, 9});
  v = VerifyQuote(bytes, &c, {root_key.get(), At(kAt)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "qe-report-signature") << v.status().message();

  // A revoked processor CA (on the root CA CRL) is refused as well.
  c.root_ca_crl = MakeCrl(root.get(), root_key.get(), {2});
  v = VerifyQuote(bytes, &c, {root_key.get(), At(kAt)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "pck-revoked") << v.status().message();

  // The throwaway chain is refused under the built-in Intel root.
  v = VerifyQuote(bytes, &c, {nullptr, At(kAt)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "pck-chain") << v.status().message();
}

}  // namespace
}  // namespace aex::dcap
