// `aex verify-quote` as a user runs it: the real quote and collateral
// (testdata/dcap/), exit codes and the JSON document.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <openssl/pem.h>

#include "attest/dcap/quote.h"
#include "attest/dcap/sim.h"
#include "attest/dcap/x509.h"
#include "../command_run.h"
#include "dcap_test_util.h"

namespace aex::dcap {
namespace {

using nlohmann::json;

using testutil::CommandRun;

// stdout only.
CommandRun Aex(const std::string& args) {
  return testutil::RunCommand("'" AEX_BIN "' verify-quote " + args + " 2>/dev/null");
}

json Json(const CommandRun& r) {
  json j = json::parse(r.output, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.output;
  return j.is_discarded() ? json::object() : j;
}

const std::string kData = AEX_DCAP_TESTDATA;
const std::string kQuote = kData + "/sgx_quote.bin";
const std::string kCollateral = " --collateral " + kData + "/sgx_quote_collateral.json";
const std::string kAt = " --at 2025-06-20T00:00:00Z";

std::string WriteTemp(const std::string& name, const std::string& data) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "aex_verify_quote";
  std::filesystem::create_directories(dir);
  std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << data;
  return path;
}

// A public key as a PEM file, for --root-pubkey.
std::string WritePublicKey(const std::string& name, EVP_PKEY* key) {
  return WriteTemp(name, aex::dcap::PublicKeyPem(key));
}

TEST(VerifyQuoteCli, RealQuoteWithItsCollateral) {
  CommandRun r = Aex(kQuote + kCollateral + kAt + " --json --accept ConfigurationAndSWHardeningNeeded");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  json j = Json(r);
  EXPECT_EQ(j["valid"], true);
  EXPECT_EQ(j["tcb_status"], "ConfigurationAndSWHardeningNeeded");
  EXPECT_EQ(j["mrenclave"], "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
  EXPECT_EQ(j["mrsigner"], "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6");
  EXPECT_EQ(j["isv_prod_id"], 0);
  EXPECT_EQ(j["isv_svn"], 0);
  EXPECT_EQ(j["debug"], false);
  EXPECT_EQ(j["report_data"].get<std::string>().substr(0, 26), "48656c6c6f2c20776f726c6421");

  // Options before the quote; --accept takes one status each time.
  r = Aex("--accept UpToDate --accept ConfigurationAndSWHardeningNeeded " + kQuote + kCollateral +
          kAt + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = Aex("--accept Bogus " + kQuote + kCollateral + kAt + " --json");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(Json(r)["reason"], "usage");

  // The collateral given as a folder; the default policy (UpToDate only).
  r = Aex(kQuote + " --collateral " + kData + kAt + " --json");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(Json(r)["reason"], "policy-tcb-status");
  EXPECT_EQ(Json(r)["tcb_status"], "ConfigurationAndSWHardeningNeeded");

  r = Aex(kQuote + kCollateral + kAt + " --json --accept ConfigurationAndSWHardeningNeeded "
          "--mrenclave " + std::string(64, '0'));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(Json(r)["reason"], "policy-mrenclave");
}

TEST(VerifyQuoteCli, WithoutCollateralTheStatusIsUnknown) {
  CommandRun r = Aex(kQuote + kAt + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Json(r)["tcb_status"], "unknown");
  EXPECT_EQ(Json(r)["collateral_checked"], false);
}

TEST(VerifyQuoteCli, RefusalsNameTheirReason) {
  CommandRun r = Aex(kQuote + kCollateral + " --at 2025-08-01T00:00:00Z --json");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(Json(r)["reason"], "crl-window");

  Bytes quote = testing::RealQuote();
  quote[48 + 64] ^= 0x10;  // MRENCLAVE
  std::string flipped = WriteTemp("flipped.bin", std::string(quote.begin(), quote.end()));
  r = Aex(flipped + kCollateral + kAt + " --json");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(Json(r)["reason"], "quote-signature");

  // Pinning another root: the PCK certificate's own key.
  auto q = ParseQuote(testing::RealQuote());
  ASSERT_TRUE(q.ok());
  std::vector<X509Ptr> chain = testing::PckChainOf(*q);
  ASSERT_FALSE(chain.empty());
  std::string key = WritePublicKey("other_root.pem", X509_get0_pubkey(chain.front().get()));
  r = Aex(kQuote + kAt + " --json --root-pubkey " + key);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(Json(r)["reason"], "pck-chain");

  r = Aex(kQuote + " --at yesterday --json");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(Json(r)["reason"], "usage");
  r = Aex(kData + "/no-such-file --json");
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

// A quote of the simulated QE with its collateral, under its own root given
// with --root-pubkey.
TEST(VerifyQuoteCli, SimulatedQuoteUnderAPinnedRoot) {
  ReportBody enclave;
  enclave.mr_enclave.fill(0xab);
  enclave.isv_svn = 4;
  testing::SimPlatform p = testing::MakeSimPlatform(testing::SimOptions(), 2, 11, 8, enclave);
  std::string quote_file = WriteTemp("sim_quote.bin", std::string(p.quote.begin(), p.quote.end()));
  std::string collateral_file = WriteTemp("sim_collateral.json", EncodeCollateral(p.collateral));
  std::string root = WritePublicKey("sim_root.pem", p.hierarchy.root_key());

  const std::string args = quote_file + " --collateral " + collateral_file +
                           " --at 2025-06-10T00:00:00Z --json --root-pubkey " + root;
  CommandRun r = Aex(args + " --mrenclave " + HexEncode(enclave.mr_enclave) + " --min-isv-svn 4");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Json(r)["tcb_status"], "UpToDate");
  EXPECT_EQ(Json(r)["isv_svn"], 4);
  r = Aex(args + " --min-isv-svn 5");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(Json(r)["reason"], "policy-isv-svn");
  // Without --root-pubkey the Intel root is pinned: the simulated hierarchy is refused.
  r = Aex(quote_file + " --collateral " + collateral_file + " --at 2025-06-10T00:00:00Z --json");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(Json(r)["reason"], "crl-signature");
}

}  // namespace
}  // namespace aex::dcap
