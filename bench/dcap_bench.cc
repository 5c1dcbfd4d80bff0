// dcap_bench: the cost of verifying one Intel SGX DCAP quote v3
// (src/attest/dcap/), on the real quote and Intel collateral of
// tests/attest/testdata/dcap/ and on a quote of the simulated QE:
//   - full verification with collateral (PCK chain with both CRLs, PCK CRL
//     issuer chain, TCB info and QE identity chains and signatures, TCB level);
//   - the same with the collateral verified once before (VerifiedCollateral),
//     what a verifier of many enclaves pays per quote;
//   - without collateral (quote, QE report, PCK chain to the pinned root);
//   - the simulated QE making one quote (one ECDSA signature).
// Each figure is the median of --iterations runs after a warm-up. Prints one
// machine-readable line per figure, consumed by bench/run:
//   RESULT dcap.verify_full_us <median microseconds>
//   RESULT dcap.verify_prepared_us <...>
//   RESULT dcap.verify_no_collateral_us <...>
//   RESULT dcap.sim_quote_us <...>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "attest/dcap/sim.h"
#include "attest/dcap/verifier.h"

namespace {

using namespace aex::dcap;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Median microseconds of `n` runs of `f`; -1 if any run fails.
double MedianUs(int n, const std::function<bool()>& f) {
  if (!f()) return -1;  // warm-up, and a check that it works at all
  std::vector<double> us;
  for (int i = 0; i < n; i++) {
    auto t0 = std::chrono::steady_clock::now();
    if (!f()) return -1;
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                     .count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int n = 200;
  for (int i = 1; i + 1 < argc; i++) {
    if (std::strcmp(argv[i], "--iterations") == 0) n = std::max(1, std::atoi(argv[i + 1]));
  }
  std::string dir = AEX_DCAP_TESTDATA;
  std::string quote_text = Read(dir + "/sgx_quote.bin");
  aex::Bytes quote(quote_text.begin(), quote_text.end());
  auto collateral = ParseCollateral(Read(dir + "/sgx_quote_collateral.json"));
  auto at = ParseRfc3339("2025-06-20T00:00:00Z");
  if (!collateral.ok() || !at.ok()) {
    std::fprintf(stderr, "dcap_bench: cannot read the test data in %s\n", dir.c_str());
    return 1;
  }
  double full = MedianUs(n, [&] { return VerifyQuote(quote, &*collateral, {nullptr, *at}).ok(); });
  auto prepared = VerifiedCollateral::Verify(*collateral, {nullptr, *at});
  double reuse = prepared.ok() ? MedianUs(n, [&] { return VerifyQuote(quote, *prepared).ok(); })
                               : -1;
  double bare = MedianUs(n, [&] { return VerifyQuote(quote, nullptr, {nullptr, *at}).ok(); });

  sim::Options o;
  o.not_before = *at - 86400;
  o.not_after = *at + 86400;
  o.issue_date = *at - 3600;
  o.next_update = *at + 3600;
  auto h = sim::Hierarchy::Create(o);
  SgxExtension platform;
  platform.tcb_components.fill(2);
  platform.pce_svn = 11;
  auto pck = h.ok() ? h->IssuePck(platform) : aex::Result<sim::Pck>(h.status());
  auto qe = pck.ok() ? sim::QuotingEnclave::Create(*h, std::move(*pck), 8, o)
                     : aex::Result<sim::QuotingEnclave>(pck.status());
  ReportBody enclave;
  double make = qe.ok() ? MedianUs(n, [&] { return qe->MakeQuote(enclave).ok(); }) : -1;

  std::printf("DCAP quote v3 verification, median of %d runs\n", n);
  std::printf("  full, with collateral      %8.0f us\n", full);
  std::printf("  collateral verified before %8.0f us\n", reuse);
  std::printf("  without collateral         %8.0f us\n", bare);
  std::printf("  simulated QE, one quote    %8.0f us\n", make);
  std::printf("RESULT dcap.verify_full_us %.1f\n", full);
  std::printf("RESULT dcap.verify_prepared_us %.1f\n", reuse);
  std::printf("RESULT dcap.verify_no_collateral_us %.1f\n", bare);
  std::printf("RESULT dcap.sim_quote_us %.1f\n", make);
  return full < 0 || reuse < 0 || bare < 0 || make < 0 ? 1 : 0;
}
