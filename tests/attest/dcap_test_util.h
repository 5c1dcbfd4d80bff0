// Test helpers for the DCAP tests: the checked-in real quote and collateral
// (tests/attest/testdata/dcap/, see its README) and reason matching.

#ifndef AEX_TESTS_ATTEST_DCAP_TEST_UTIL_H_
#define AEX_TESTS_ATTEST_DCAP_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "attest/dcap/collateral.h"
#include "attest/dcap/sim.h"
#include "attest/dcap/verifier.h"

namespace aex::dcap::testing {

inline std::string ReadTestFile(const std::string& name) {
  std::ifstream in(std::string(AEX_DCAP_TESTDATA) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline Bytes RealQuote() {
  std::string s = ReadTestFile("sgx_quote.bin");
  return Bytes(s.begin(), s.end());
}

inline Collateral RealCollateral() {
  auto c = ParseCollateral(ReadTestFile("sgx_quote_collateral.json"));
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : Collateral{};
}

inline time_t At(const char* rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : 0;
}

// The certificates a quote carries.
inline std::vector<X509Ptr> PckChainOf(const Quote& q) {
  auto chain = ParsePemChain(
      std::string_view(reinterpret_cast<const char*>(q.cert_data.data()), q.cert_data.size()));
  EXPECT_TRUE(chain.ok()) << chain.status().message();
  return chain.ok() ? std::move(*chain) : std::vector<X509Ptr>{};
}

// A simulated hierarchy's validity: certificates 2020..2040, CRLs, TCB info
// and QE identity 2025-06-01..2025-07-01.
inline sim::Options SimOptions() {
  sim::Options o;
  o.not_before = At("2020-01-01T00:00:00Z");
  o.not_after = At("2040-01-01T00:00:00Z");
  o.issue_date = At("2025-06-01T00:00:00Z");
  o.next_update = At("2025-07-01T00:00:00Z");
  o.qe_mrsigner.fill(0x8c);
  return o;
}

inline std::string ReasonOf(const Status& s) { return FailureReason(s); }

// A platform's PCK certificate extension at TCB level (svn, pce_svn).
inline SgxExtension SimPckTcb(uint8_t svn, uint16_t pce_svn) {
  SgxExtension ext;
  ext.ppid.fill(0x99);
  ext.tcb_components.fill(svn);
  ext.cpu_svn.fill(svn);
  ext.pce_svn = pce_svn;
  return ext;
}

// One platform of a fresh simulated hierarchy: a quote of `enclave` by its
// QE (of svn qe_svn; qe_options: the QE's identity when it is not the
// hierarchy's), and the collateral. revoke: the PCK is on the CRL.
struct SimPlatform {
  sim::Hierarchy hierarchy;
  Bytes quote;
  Collateral collateral;
};

inline SimPlatform MakeSimPlatform(const sim::Options& o, uint8_t platform_svn, uint16_t pce_svn,
                                   uint16_t qe_svn, const ReportBody& enclave,
                                   bool revoke = false, const sim::Options* qe_options = nullptr) {
  auto h = sim::Hierarchy::Create(o);
  EXPECT_TRUE(h.ok()) << h.status().message();
  auto pck = h->IssuePck(SimPckTcb(platform_svn, pce_svn));
  EXPECT_TRUE(pck.ok()) << pck.status().message();
  if (revoke) h->Revoke(*pck);
  auto qe = sim::QuotingEnclave::Create(*h, std::move(*pck), qe_svn, qe_options ? *qe_options : o);
  EXPECT_TRUE(qe.ok()) << qe.status().message();
  auto quote = qe->MakeQuote(enclave);
  EXPECT_TRUE(quote.ok());
  auto c = h->MakeCollateral();
  EXPECT_TRUE(c.ok()) << c.status().message();
  return {std::move(*h), *quote, *c};
}

}  // namespace aex::dcap::testing

#endif  // AEX_TESTS_ATTEST_DCAP_TEST_UTIL_H_
