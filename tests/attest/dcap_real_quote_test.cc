// The DCAP parser and verifier on a real SGX quote and Intel's collateral for
// it (tests/attest/testdata/dcap/README.md): it verifies with the TCB status
// the collateral gives, and every alteration is refused with its reason.

#include <gtest/gtest.h>

#include "attest/dcap/pck_extension.h"
#include "attest/dcap/quote.h"
#include "attest/dcap/verifier.h"
#include "attest/dcap/x509.h"
#include "dcap_test_util.h"

namespace aex::dcap {
namespace {

using testing::At;
using testing::RealCollateral;
using testing::RealQuote;
using testing::ReasonOf;

constexpr char kInWindow[] = "2025-06-20T00:00:00Z";
// Offsets in the quote (layout in src/attest/dcap/quote.h).
constexpr size_t kReportAt = 48, kSigAt = 436, kAkAt = 500, kQeReportAt = 564, kQeSigAt = 948;

Result<Verdict> Verify(const Bytes& quote, const char* at = kInWindow, EVP_PKEY* root = nullptr) {
  Collateral c = RealCollateral();
  return VerifyQuote(quote, &c, {root, At(at)});
}

// The same at kInWindow under Intel's root, with the collateral verified once
// (the loops below verify hundreds of quotes).
Result<Verdict> VerifyInWindow(const Bytes& quote) {
  static const VerifiedCollateral* collateral = [] {
    auto c = VerifiedCollateral::Verify(RealCollateral(), {nullptr, At(kInWindow)});
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? new VerifiedCollateral(std::move(*c)) : nullptr;
  }();
  if (!collateral) return Internal("the real collateral does not verify");
  return VerifyQuote(quote, *collateral);
}

TEST(DcapRealQuote, ParsesEveryField) {
  Bytes bytes = RealQuote();
  auto q = ParseQuote(bytes);
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->header.version, 3);
  EXPECT_EQ(q->header.attestation_key_type, 2);
  EXPECT_EQ(q->header.qe_svn, 10);
  EXPECT_EQ(q->header.pce_svn, 15);
  EXPECT_EQ(q->header.qe_vendor_id, kIntelQeVendorId);
  EXPECT_FALSE(q->report.debug());
  EXPECT_EQ(q->report.isv_prod_id, 0);
  EXPECT_EQ(q->qe_report.isv_prod_id, 1);
  EXPECT_EQ(q->qe_report.isv_svn, 10);
  EXPECT_EQ(q->qe_auth_data.size(), 32u);
  EXPECT_EQ(q->cert_data_type, kCertDataPckChain);
  EXPECT_EQ(EncodeQuote(*q), bytes);  // byte-exact round trip
}

TEST(DcapRealQuote, PckExtensionParsesAndReencodes) {
  auto q = ParseQuote(RealQuote());
  ASSERT_TRUE(q.ok());
  std::vector<X509Ptr> chain = testing::PckChainOf(*q);
  ASSERT_EQ(chain.size(), 3u);
  auto ext = SgxExtensionOf(chain.front().get());
  ASSERT_TRUE(ext.ok()) << ext.status().message();
  EXPECT_EQ(HexEncode(ext->fmspc), "00a067110000");
  EXPECT_EQ(HexEncode(ext->pce_id), "0000");
  EXPECT_EQ(HexEncode(ext->tcb_components), "0b0b0202ff0100000000000000000000");
  EXPECT_EQ(HexEncode(ext->cpu_svn), "0b0b0202ff0100000000000000000000");
  EXPECT_EQ(ext->pce_svn, 13);
  EXPECT_EQ(ext->sgx_type, 0);
  auto der = EncodeSgxExtension(*ext);
  ASSERT_TRUE(der.ok());
  auto again = ParseSgxExtension(*der);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->tcb_components, ext->tcb_components);
  EXPECT_EQ(again->ppid, ext->ppid);
}

TEST(DcapRealQuote, VerifiesWithTheCollateralsTcbStatus) {
  auto v = Verify(RealQuote());
  ASSERT_TRUE(v.ok()) << v.status().message();
  // The PCK certificate's TCB (11,11,2,2,255,1,0,... PCESVN 13) matches the
  // second level of the TCB info; the QE (ISVSVN 10) is UpToDate.
  EXPECT_EQ(v->tcb_status, TcbStatus::kConfigurationAndSwHardeningNeeded);
  EXPECT_EQ(v->platform_tcb_status, TcbStatus::kConfigurationAndSwHardeningNeeded);
  EXPECT_EQ(v->qe_tcb_status, TcbStatus::kUpToDate);
  EXPECT_TRUE(v->collateral_checked);
  EXPECT_EQ(v->advisory_ids, (std::vector<std::string>{"INTEL-SA-00289", "INTEL-SA-00615"}));

  Policy strict;  // UpToDate only
  EXPECT_EQ(ReasonOf(CheckPolicy(*v, strict)), "policy-tcb-status");
  Policy lenient;
  lenient.accepted_tcb_statuses.push_back(TcbStatus::kConfigurationAndSwHardeningNeeded);
  EXPECT_TRUE(CheckPolicy(*v, lenient).ok());
  lenient.mr_enclave = v->report.mr_enclave;
  lenient.mr_signer = v->report.mr_signer;
  lenient.isv_prod_id = 0;
  EXPECT_TRUE(CheckPolicy(*v, lenient).ok());
  lenient.min_isv_svn = 1;
  EXPECT_EQ(ReasonOf(CheckPolicy(*v, lenient)), "policy-isv-svn");
  lenient.min_isv_svn = 0;
  lenient.mr_enclave->at(0) ^= 1;
  EXPECT_EQ(ReasonOf(CheckPolicy(*v, lenient)), "policy-mrenclave");
}

TEST(DcapRealQuote, WithoutCollateralTheStatusIsUnknown) {
  auto v = VerifyQuote(RealQuote(), nullptr, {nullptr, At(kInWindow)});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->tcb_status, TcbStatus::kUnknown);
  EXPECT_FALSE(v->collateral_checked);
  Policy p;
  EXPECT_EQ(ReasonOf(CheckPolicy(*v, p)), "policy-tcb-status");
  p.allow_unknown_tcb = true;
  EXPECT_TRUE(CheckPolicy(*v, p).ok());
}

struct Flip {
  const char* what;
  size_t begin, size;
  const char* reason;
};

TEST(DcapRealQuote, AnyFlippedBitIsRefusedWithItsReason) {
  const Flip flips[] = {
      {"report body", kReportAt, kReportBodySize, "quote-signature"},
      {"quote signature", kSigAt, 64, "quote-signature"},
      {"attestation key", kAkAt, 64, "qe-report-data"},
      {"QE report", kQeReportAt, kReportBodySize, "qe-report-signature"},
      {"QE report signature", kQeSigAt, 64, "qe-report-signature"},
  };
  const Bytes good = RealQuote();
  for (const Flip& f : flips) {
    // First, last and spread positions, a different bit each time.
    for (size_t k = 0; k < 9; k++) {
      size_t at = f.begin + (k == 8 ? f.size - 1 : k * f.size / 8);
      Bytes bad = good;
      bad[at] ^= static_cast<uint8_t>(1u << (k % 8));
      auto v = VerifyInWindow(bad);
      ASSERT_FALSE(v.ok()) << f.what << " byte " << at;
      EXPECT_EQ(ReasonOf(v.status()), f.reason) << f.what << " byte " << at << ": "
                                                << v.status().message();
    }
  }
}

TEST(DcapRealQuote, AlteredPckCertificateIsRefused) {
  auto q = ParseQuote(RealQuote());
  ASSERT_TRUE(q.ok());
  std::vector<X509Ptr> chain = testing::PckChainOf(*q);
  ASSERT_EQ(chain.size(), 3u);
  Bytes der = CertDer(chain.front().get());
  // A byte of the serial number (TBSCertificate starts at 4, serial at 15).
  der[20] ^= 0x01;
  auto altered = ParseCertDer(der);
  ASSERT_TRUE(altered.ok());
  std::string pem = CertPem(altered->get());
  for (size_t i = 1; i < chain.size(); i++) pem += CertPem(chain[i].get());
  q->cert_data.assign(pem.begin(), pem.end());
  auto v = Verify(EncodeQuote(*q));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "pck-chain") << v.status().message();
}

TEST(DcapRealQuote, TruncatedOrTrailingBytesAreRefused) {
  const Bytes good = RealQuote();
  for (size_t n = 0; n < good.size(); n += (n < 1100 ? 1 : 97)) {
    Bytes cut(good.begin(), good.begin() + static_cast<long>(n));
    auto v = VerifyInWindow(cut);
    ASSERT_FALSE(v.ok()) << n;
    EXPECT_EQ(ReasonOf(v.status()), "quote-format") << n;
  }
  Bytes longer = good;
  longer.push_back(0);
  auto v = Verify(longer);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "quote-format");
  EXPECT_NE(v.status().message().find("trailing"), std::string::npos) << v.status().message();
}

TEST(DcapRealQuote, UnknownVersionKeyTypeOrCertTypeIsRefused) {
  auto expect = [](Bytes b, const char* words) {
    auto q = ParseQuote(b);
    ASSERT_FALSE(q.ok());
    EXPECT_NE(q.status().message().find(words), std::string::npos) << q.status().message();
  };
  Bytes b = RealQuote();
  b[0] = 4;
  expect(b, "unsupported version");
  b = RealQuote();
  b[2] = 3;
  expect(b, "attestation key type");
  b = RealQuote();
  b[kQeSigAt + 64 + 2 + 32] = 6;  // certification data type, after 32 bytes of QE auth data
  expect(b, "certification data type");
}

TEST(DcapRealQuote, TimeOutsideTheCollateralWindowIsRefused) {
  // The PCK CRL is valid 2025-06-19T10:23:18Z .. 2025-07-19T10:23:18Z.
  for (const char* at : {"2025-06-01T00:00:00Z", "2025-08-01T00:00:00Z", "2027-01-01T00:00:00Z"}) {
    auto v = Verify(RealQuote(), at);
    ASSERT_FALSE(v.ok()) << at;
    EXPECT_EQ(ReasonOf(v.status()), "crl-window") << at << ": " << v.status().message();
  }
}

TEST(DcapRealQuote, AnotherPinnedRootIsRefused) {
  auto q = ParseQuote(RealQuote());
  ASSERT_TRUE(q.ok());
  // The PCK key is a valid P-256 key that is not Intel's root.
  std::vector<X509Ptr> chain = testing::PckChainOf(*q);
  ASSERT_EQ(chain.size(), 3u);
  EVP_PKEY* other = X509_get0_pubkey(chain.front().get());
  // With collateral the first thing signed by the root is the root CA CRL.
  auto v = Verify(RealQuote(), kInWindow, other);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "crl-signature") << v.status().message();
  auto without = VerifyQuote(RealQuote(), nullptr, {other, At(kInWindow)});
  ASSERT_FALSE(without.ok());
  EXPECT_EQ(ReasonOf(without.status()), "pck-chain");
  EXPECT_NE(without.status().message().find("pinned"), std::string::npos)
      << without.status().message();
}

TEST(DcapRealQuote, CollateralDocumentsAreChecked) {
  Collateral c = RealCollateral();
  c.tcb_info_signature[10] ^= 1;
  auto v = VerifyQuote(RealQuote(), &c, {nullptr, At(kInWindow)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "tcb-info-signature");
  c = RealCollateral();
  c.qe_identity[c.qe_identity.find("\"isvprodid\":1") + 12] = '2';
  v = VerifyQuote(RealQuote(), &c, {nullptr, At(kInWindow)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "qe-identity-signature");
  c = RealCollateral();
  c.pck_crl[c.pck_crl.size() - 3] ^= 1;  // inside the CRL's signature
  v = VerifyQuote(RealQuote(), &c, {nullptr, At(kInWindow)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "crl-signature") << v.status().message();
}

TEST(DcapRealQuote, CollateralParserRefusesBadFields) {
  EXPECT_FALSE(ParseCollateral("[]").ok());
  EXPECT_FALSE(ParseCollateral("{").ok());
  auto c = ParseCollateral(R"({"pck_crl_issuer_chain": 5})");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("pck_crl_issuer_chain: wrong type"), std::string::npos);
  auto info = ParseTcbInfo(RealCollateral().tcb_info);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->levels.size(), 11u);
  EXPECT_EQ(FormatRfc3339(info->issue_date), "2025-06-19T10:56:11Z");
  auto qe = ParseQeIdentity(RealCollateral().qe_identity);
  ASSERT_TRUE(qe.ok()) << qe.status().message();
  EXPECT_EQ(qe->isv_prod_id, 1);
  EXPECT_FALSE(ParseRfc3339("2025-06-20 00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("2025-06-20T00:00:00+01:00").ok());
  EXPECT_FALSE(ParseRfc3339("+025-06-20T00:00:00Z").ok());
}

}  // namespace
}  // namespace aex::dcap
