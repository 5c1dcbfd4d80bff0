// PCK revocation: Intel signs the real PCK CRL, so this test builds a
// throwaway hierarchy (root, processor CA, PCK certificate carrying the real
// certificate's SGX extension) and its CRLs, puts that chain into the real
// quote and pins the throwaway root. With the PCK on the CRL the quote is
// refused as revoked; with the same CRL minus that entry, the chain passes and
// the quote fails only later, at the QE report signature (the real QE signed
// with Intel's PCK key), which shows that the CRL entry is the cause.

#include <gtest/gtest.h>

#include "attest/dcap/pck_extension.h"
#include "attest/dcap/quote.h"
#include "attest/dcap/sim.h"
#include "attest/dcap/verifier.h"
#include "attest/dcap/x509.h"
#include "dcap_test_util.h"

namespace aex::dcap {
namespace {

using testing::At;
using testing::ReasonOf;

constexpr char kAt[] = "2025-06-20T00:00:00Z";

const time_t kFrom = At("2020-01-01T00:00:00Z"), kUntil = At("2040-01-01T00:00:00Z");
const time_t kCrlFrom = At("2025-06-01T00:00:00Z"), kCrlUntil = At("2025-07-01T00:00:00Z");

EvpPkeyPtr NewKey() {
  auto key = sim::NewP256Key();
  EXPECT_TRUE(key.ok());
  return key.ok() ? std::move(*key) : nullptr;
}

X509Ptr Cert(const char* cn, long serial, EVP_PKEY* key, X509* issuer, EVP_PKEY* signer, bool ca,
             const SgxExtension* sgx = nullptr) {
  auto cert = sim::MakeCertificate(key, {cn, serial, ca, kFrom, kUntil, sgx}, issuer, signer);
  EXPECT_TRUE(cert.ok()) << cert.status().message();
  return cert.ok() ? std::move(*cert) : nullptr;
}

Bytes Crl(X509* issuer, EVP_PKEY* key, const std::vector<long>& revoked) {
  auto crl = sim::MakeCrl(issuer, key, revoked, kCrlFrom, kCrlUntil);
  EXPECT_TRUE(crl.ok());
  return crl.ok() ? *crl : Bytes{};
}

TEST(DcapRevocation, PckOnTheCrlIsRefused) {
  auto quote = ParseQuote(testing::RealQuote());
  ASSERT_TRUE(quote.ok());
  std::vector<X509Ptr> real_chain = testing::PckChainOf(*quote);
  ASSERT_FALSE(real_chain.empty());
  auto real_ext = SgxExtensionOf(real_chain.front().get());
  ASSERT_TRUE(real_ext.ok());

  EvpPkeyPtr root_key = NewKey(), ca_key = NewKey(), pck_key = NewKey();
  constexpr long kPckSerial = 0x5ca1ab1e;
  X509Ptr root = Cert("Throwaway SGX Root CA", 1, root_key.get(), nullptr, root_key.get(), true);
  X509Ptr ca = Cert("Throwaway PCK Processor CA", 2, ca_key.get(), root.get(), root_key.get(),
                        true);
  X509Ptr pck = Cert("Throwaway PCK Certificate", kPckSerial, pck_key.get(), ca.get(),
                         ca_key.get(), false, &*real_ext);
  std::string pem = CertPem(pck.get()) + CertPem(ca.get()) + CertPem(root.get());
  quote->cert_data.assign(pem.begin(), pem.end());
  Bytes bytes = EncodeQuote(*quote);

  // Intel's TCB info and QE identity bodies, signed again under the throwaway root.
  EvpPkeyPtr tcb_key = NewKey();
  X509Ptr tcb = Cert("Throwaway TCB Signing", 3, tcb_key.get(), root.get(), root_key.get(), false);
  Collateral c = testing::RealCollateral();
  c.tcb_info_issuer_chain = c.qe_identity_issuer_chain = CertPem(tcb.get()) + CertPem(root.get());
  auto sig = SignRawEcdsa(tcb_key.get(), AsBytes(c.tcb_info));
  ASSERT_TRUE(sig.ok());
  c.tcb_info_signature = *sig;
  sig = SignRawEcdsa(tcb_key.get(), AsBytes(c.qe_identity));
  ASSERT_TRUE(sig.ok());
  c.qe_identity_signature = *sig;
  c.pck_crl_issuer_chain = CertPem(ca.get()) + CertPem(root.get());
  c.root_ca_crl = Crl(root.get(), root_key.get(), {});
  c.pck_crl = Crl(ca.get(), ca_key.get(), {7, kPckSerial, 9});
  auto v = VerifyQuote(bytes, &c, {root_key.get(), At(kAt)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "pck-revoked") << v.status().message();

  c.pck_crl = Crl(ca.get(), ca_key.get(), {7, 9});
  v = VerifyQuote(bytes, &c, {root_key.get(), At(kAt)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "qe-report-signature") << v.status().message();

  // A revoked processor CA (on the root CA CRL) is refused as well.
  c.root_ca_crl = Crl(root.get(), root_key.get(), {2});
  v = VerifyQuote(bytes, &c, {root_key.get(), At(kAt)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "pck-revoked") << v.status().message();

  // The throwaway hierarchy is refused under the built-in Intel root.
  v = VerifyQuote(bytes, &c, {nullptr, At(kAt)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "crl-signature") << v.status().message();
  v = VerifyQuote(bytes, nullptr, {nullptr, At(kAt)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "pck-chain") << v.status().message();
}

}  // namespace
}  // namespace aex::dcap
