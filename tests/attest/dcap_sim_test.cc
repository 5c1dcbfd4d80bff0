// The simulated provisioning hierarchy and QE (src/attest/dcap/sim.h) against
// the verifier: its quotes verify under its pinned root, with the TCB status
// its TCB info and QE identity give; revocation through its own CRL; the
// collateral windows; the TCB level and QE identity decisions of tcb.h.

#include <gtest/gtest.h>

#include "attest/dcap/sim.h"
#include "attest/dcap/verifier.h"
#include "dcap_test_util.h"

namespace aex::dcap {
namespace {

using testing::At;
using testing::ReasonOf;

constexpr char kAt[] = "2025-06-10T00:00:00Z";

TcbLevel Level(uint8_t svn, uint16_t pce_svn, TcbStatus status) {
  TcbLevel l;
  l.sgx_components.fill(svn);
  l.pce_svn = pce_svn;
  l.status = status;
  l.tcb_date = "2025-01-01T00:00:00Z";
  l.advisory_ids = {"INTEL-SA-00000"};
  return l;
}

ReportBody Enclave() {
  ReportBody r;
  r.mr_enclave.fill(0xe1);
  r.mr_signer.fill(0x51);
  r.isv_prod_id = 7;
  r.isv_svn = 3;
  r.attributes[0] = 0x05;  // INIT | MODE64BIT, not DEBUG
  r.report_data.fill(0xda);
  return r;
}

using testing::SimPlatform;
using Platform = SimPlatform;

// qe_options: the QE's identity when it is not the hierarchy's (o).
Platform MakePlatform(const sim::Options& o, uint8_t platform_svn, uint16_t pce_svn,
                      uint16_t qe_svn, const ReportBody& enclave = Enclave(),
                      bool revoke = false, const sim::Options* qe_options = nullptr) {
  return testing::MakeSimPlatform(o, platform_svn, pce_svn, qe_svn, enclave, revoke, qe_options);
}

Result<Verdict> Verify(const Platform& p, const char* at = kAt) {
  return VerifyQuote(p.quote, &p.collateral, {p.hierarchy.root_key(), At(at)});
}

TEST(DcapSim, SimulatedQuoteVerifiesUnderItsRoot) {
  Platform p = MakePlatform(testing::SimOptions(), 2, 11, 8);
  auto v = Verify(p);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->tcb_status, TcbStatus::kUpToDate);
  EXPECT_EQ(v->report.mr_enclave, Enclave().mr_enclave);
  EXPECT_EQ(v->report.isv_prod_id, 7);
  EXPECT_EQ(v->pck.pce_svn, 11);
  EXPECT_TRUE(CheckPolicy(*v, Policy{}).ok());
  // The collateral survives its file encoding.
  auto reread = ParseCollateral(EncodeCollateral(p.collateral));
  ASSERT_TRUE(reread.ok());
  EXPECT_TRUE(VerifyQuote(p.quote, &*reread, {p.hierarchy.root_key(), At(kAt)}).ok());

  // Under the built-in Intel root, a simulated quote is refused.
  auto intel = VerifyQuote(p.quote, &p.collateral, {nullptr, At(kAt)});
  ASSERT_FALSE(intel.ok());
  EXPECT_EQ(ReasonOf(intel.status()), "crl-signature");
  intel = VerifyQuote(p.quote, nullptr, {nullptr, At(kAt)});
  ASSERT_FALSE(intel.ok());
  EXPECT_EQ(ReasonOf(intel.status()), "pck-chain");
}

TEST(DcapSim, RevokedPckIsRefused) {
  Platform p = MakePlatform(testing::SimOptions(), 2, 11, 8, Enclave(), /*revoke=*/true);
  auto v = Verify(p);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "pck-revoked") << v.status().message();
}

TEST(DcapSim, TcbInfoSignedByAPckKeyIsRefused) {
  sim::Options o = testing::SimOptions();
  auto h = sim::Hierarchy::Create(o);
  ASSERT_TRUE(h.ok());
  SgxExtension ext = testing::SimPckTcb(2, 11);
  auto pck = h->IssuePck(ext);
  ASSERT_TRUE(pck.ok());
  std::string chain = h->PckChainPem(*pck);
  auto qe_pck = h->IssuePck(ext);
  ASSERT_TRUE(qe_pck.ok());
  auto qe = sim::QuotingEnclave::Create(*h, std::move(*qe_pck), 8, o);
  ASSERT_TRUE(qe.ok());
  auto quote = qe->MakeQuote(Enclave());
  auto c = h->MakeCollateral();
  ASSERT_TRUE(quote.ok() && c.ok());
  ASSERT_TRUE(VerifyQuote(*quote, &*c, {h->root_key(), At(kAt)}).ok());
  // A platform's PCK key chains to the same root, but may not sign TCB info
  // (here: a TCB info claiming a level the platform does not have).
  c->tcb_info_issuer_chain = chain;
  auto sig = SignRawEcdsa(pck->key.get(), AsBytes(c->tcb_info));
  ASSERT_TRUE(sig.ok());
  c->tcb_info_signature = *sig;
  auto v = VerifyQuote(*quote, &*c, {h->root_key(), At(kAt)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "tcb-info-chain") << v.status().message();
  // Refused for what the signer is, not only for the CRL the path lacks.
  EXPECT_NE(v.status().message().find("not an end-entity certificate issued by the root"),
            std::string::npos)
      << v.status().message();
}

TEST(DcapSim, CollateralWindows) {
  sim::Options o = testing::SimOptions();
  o.crl_next_update = At("2026-01-01T00:00:00Z");
  Platform p = MakePlatform(o, 2, 11, 8);
  auto v = Verify(p, "2025-08-01T00:00:00Z");  // CRLs still valid, TCB info expired
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "tcb-info-window") << v.status().message();
  v = Verify(p, "2026-02-01T00:00:00Z");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "crl-window") << v.status().message();
  o.not_after = At("2025-06-05T00:00:00Z");  // certificates expired at kAt, CRLs valid
  Platform expired = MakePlatform(o, 2, 11, 8);
  v = Verify(expired);  // the first certificate checked: the PCK CRL's issuer
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "pck-crl-issuer") << v.status().message();
  EXPECT_NE(v.status().message().find("expired"), std::string::npos);
  v = VerifyQuote(expired.quote, nullptr, {expired.hierarchy.root_key(), At(kAt)});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "pck-chain") << v.status().message();
  EXPECT_NE(v.status().message().find("expired"), std::string::npos);
}

TEST(DcapSim, TcbLevelsAndQeStatusCombineAsIntelsQvl) {
  sim::Options o = testing::SimOptions();
  o.tcb_levels = {Level(5, 13, TcbStatus::kUpToDate), Level(3, 12, TcbStatus::kSwHardeningNeeded),
                  Level(3, 11, TcbStatus::kConfigurationNeeded),
                  Level(1, 10, TcbStatus::kOutOfDate)};
  o.qe_levels = {{8, TcbStatus::kUpToDate, {}}, {5, TcbStatus::kOutOfDate, {"INTEL-SA-00001"}},
                 {3, TcbStatus::kRevoked, {}}};
  struct Case {
    uint8_t svn;
    uint16_t pce_svn, qe_svn;
    TcbStatus expected;
  } cases[] = {
      {5, 13, 9, TcbStatus::kUpToDate},
      {6, 14, 8, TcbStatus::kUpToDate},
      {4, 13, 8, TcbStatus::kSwHardeningNeeded},   // components below level 1
      {5, 12, 8, TcbStatus::kSwHardeningNeeded},   // PCESVN below level 1
      {3, 11, 8, TcbStatus::kConfigurationNeeded},
      {2, 12, 8, TcbStatus::kOutOfDate},
      {5, 13, 6, TcbStatus::kOutOfDate},           // QE out of date
      {3, 12, 5, TcbStatus::kOutOfDate},
      {3, 11, 5, TcbStatus::kOutOfDateConfigurationNeeded},
      {5, 13, 3, TcbStatus::kRevoked},             // QE revoked
  };
  Policy any;  // every status listed
  any.accepted_tcb_statuses = {TcbStatus::kUpToDate, TcbStatus::kSwHardeningNeeded,
                               TcbStatus::kConfigurationNeeded, TcbStatus::kOutOfDate,
                               TcbStatus::kOutOfDateConfigurationNeeded, TcbStatus::kRevoked};
  for (const Case& c : cases) {
    Platform p = MakePlatform(o, c.svn, c.pce_svn, c.qe_svn);
    auto v = Verify(p);
    ASSERT_TRUE(v.ok()) << v.status().message();
    EXPECT_EQ(v->tcb_status, c.expected)
        << "svn " << int(c.svn) << " pcesvn " << c.pce_svn << " qe " << c.qe_svn << ": "
        << TcbStatusName(v->tcb_status);
    // Revoked is refused even when the policy lists it.
    EXPECT_EQ(CheckPolicy(*v, any).ok(), c.expected != TcbStatus::kRevoked);
  }
  auto v = Verify(MakePlatform(o, 0, 13, 8));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "tcb-level-unsupported");
  v = Verify(MakePlatform(o, 5, 13, 2));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "qe-tcb-level-unsupported");
}

TEST(DcapSim, QeIdentityMismatchAndPolicy) {
  sim::Options o = testing::SimOptions();
  // A QE whose MRSIGNER, then ISVPRODID, is not the QE identity's.
  sim::Options other = o;
  other.qe_mrsigner.fill(0x01);
  auto v = Verify(MakePlatform(o, 2, 11, 8, Enclave(), false, &other));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "qe-identity-mismatch") << v.status().message();
  other = o;
  other.qe_isv_prod_id = 2;
  v = Verify(MakePlatform(o, 2, 11, 8, Enclave(), false, &other));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(ReasonOf(v.status()), "qe-identity-mismatch") << v.status().message();

  ReportBody debug = Enclave();
  debug.attributes[0] |= 0x02;
  Platform d = MakePlatform(o, 2, 11, 8, debug);
  v = Verify(d);
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_TRUE(v->report.debug());
  Policy policy;
  EXPECT_EQ(ReasonOf(CheckPolicy(*v, policy)), "policy-debug");
  policy.allow_debug = true;
  EXPECT_TRUE(CheckPolicy(*v, policy).ok());
  policy.isv_prod_id = 8;
  EXPECT_EQ(ReasonOf(CheckPolicy(*v, policy)), "policy-isv-prod-id");
  policy.isv_prod_id = 7;
  policy.min_isv_svn = 4;
  EXPECT_EQ(ReasonOf(CheckPolicy(*v, policy)), "policy-isv-svn");
  policy.min_isv_svn = 3;
  policy.mr_signer = Hash256{};
  EXPECT_EQ(ReasonOf(CheckPolicy(*v, policy)), "policy-mrsigner");
}

}  // namespace
}  // namespace aex::dcap
