// The sgx backend's trust decisions through real aex-platform + aex-node
// processes: one simulated provisioning hierarchy per deployment
// (platform/setup.h), a node provisioned by another deployment or with a
// revoked PCK refused, and each sgx policy field of the descriptor
// (AttestationTarget) refusing a module that violates it and accepting it
// otherwise. The attestation manager gets the same target
// (tests/manager: PROVISION_NODE carries the policy).

#include <gtest/gtest.h>

#include "attest/dcap/sim.h"
#include "deployer/attestation.h"
#include "platform/setup.h"
#include "platform/sgx/sgx_sign.h"
#include "platform_test_util.h"

namespace aex::ptest {
namespace {

namespace fs = std::filesystem;
using deploy::AttestationTarget;

class SgxProvisioningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = deploy::LoadOrCreateSgxSigner(dir_ / "signer.pem");
    PT_ASSERT_OK(signer);
    signer_ = *signer;
  }

  std::string Deployment(const std::string& name) { return dir_ / ("deployment-" + name); }

  // A node whose platform directory `deployment` provisioned.
  std::unique_ptr<Node> ProvisionedNode(const std::string& name, const std::string& deployment) {
    bool issued = false;
    Status s = tee::ProvisionSimulatedPlatform(deployment, dir_ / (name + ".platform"), &issued);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(issued);
    return StartedNode(name);
  }

  std::unique_ptr<Node> StartedNode(const std::string& name) {
    auto node = std::make_unique<Node>(dir_ / name, std::vector<std::string>{},
                                       dir_ / (name + ".platform"));
    Status s = node->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return node;
  }

  // Loads pong on `node` and returns what the deployer of `deployment`
  // knows about it: that deployment's root pinned, its collateral.
  AttestationTarget Loaded(Node& node, const std::string& deployment) {
    AttestationTarget t;
    t.backend = tee::Backend::kSgx;
    t.measurement = crypto::Sha256(ReadBytes(AEX_PT_PONG_SGX));
    t.module_name = "pong";
    t.root_ca_pem = ReadText(deployment + "/" + tee::sgx::kRootCaFile);
    t.root_ca_name = deployment + "/" + tee::sgx::kRootCaFile;
    t.collateral_json = ReadText(deployment + "/" + tee::sgx::kCollateralFile);
    t.signer_pem = signer_;
    auto client = node.Connect();
    auto sigstruct = attest::SignSigstruct(signer_, t.measurement);
    EXPECT_TRUE(client.ok() && sigstruct.ok());
    if (!client.ok() || !sigstruct.ok()) return t;
    auto id = (*client)->LoadModule("pong", static_cast<uint8_t>(tee::Backend::kSgx), "",
                                    ReadBytes(AEX_PT_PONG_SGX), "", *sigstruct);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (id.ok()) t.module_id = *id;
    return t;
  }

  Result<attest::Session> Attest(Node& node, const AttestationTarget& t) {
    AEX_ASSIGN_OR_RETURN(auto client, node.Connect());
    return deploy::AttestModule(*client, t);
  }

  TempDir dir_;
  std::string signer_;
};

std::string PckOf(const std::string& platform_dir) {
  std::string chain = ReadText(platform_dir + "/" + tee::sgx::kPckChainFile);
  return chain.substr(0, chain.find("-----END CERTIFICATE-----"));
}

TEST_F(SgxProvisioningTest, EveryNodeOfADeploymentHasItsOwnPckUnderOneRoot) {
  const std::string a = Deployment("a");
  auto n1 = ProvisionedNode("n1", a);
  auto n2 = ProvisionedNode("n2", a);
  const std::string root = ReadText(a + "/" + tee::sgx::kRootCaFile);
  EXPECT_EQ(ReadText(n1->platform_dir() + "/" + tee::sgx::kRootCaFile), root);
  EXPECT_EQ(ReadText(n2->platform_dir() + "/" + tee::sgx::kRootCaFile), root);
  EXPECT_NE(PckOf(n1->platform_dir()), PckOf(n2->platform_dir()));
  // The hierarchy's private keys stay in one place, 0600.
  EXPECT_EQ(fs::status(a + "/sgx_provisioning.json").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  for (Node* n : {n1.get(), n2.get()}) {
    AttestationTarget t = Loaded(*n, a);
    PT_ASSERT_OK(Attest(*n, t));
    t.collateral_json.clear();  // the collateral the node carries: the same root's
    PT_ASSERT_OK(Attest(*n, t));
  }
  // Provisioning again keeps the node's PCK.
  bool issued = true;
  PT_ASSERT_OK(tee::ProvisionSimulatedPlatform(a, n1->platform_dir(), &issued));
  EXPECT_FALSE(issued);
}

TEST_F(SgxProvisioningTest, PerNodePlatformIsMigratedToTheDeploymentRoot) {
  const std::string platform = dir_ / "old.platform";
  PT_ASSERT_OK(tee::EnsureSimulatedPlatform(platform));
  const std::string own_root = ReadText(platform + "/" + tee::sgx::kRootCaFile);
  bool issued = false;
  PT_ASSERT_OK(tee::ProvisionSimulatedPlatform(Deployment("a"), platform, &issued));
  EXPECT_TRUE(issued);
  EXPECT_NE(ReadText(platform + "/" + tee::sgx::kRootCaFile), own_root);
  auto node = StartedNode("old");
  PT_ASSERT_OK(Attest(*node, Loaded(*node, Deployment("a"))));
}

TEST_F(SgxProvisioningTest, NodeOfAnotherDeploymentIsRefused) {
  auto foreign = ProvisionedNode("foreign", Deployment("b"));
  // Deployment a's collateral is valid; the node's PCK chains to b's root.
  std::string a_root_dir = Deployment("a");
  bool issued = false;
  PT_ASSERT_OK(tee::ProvisionSimulatedPlatform(a_root_dir, dir_ / "unused.platform", &issued));
  AttestationTarget t = Loaded(*foreign, a_root_dir);
  ExpectRejected(Attest(*foreign, t), Code::kAuthFailed, "pck-chain");
  // With the collateral the node carries (b's), the collateral itself fails.
  t.collateral_json.clear();
  ExpectRejected(Attest(*foreign, t), Code::kAuthFailed, "does not chain to the trust anchor");
}

TEST_F(SgxProvisioningTest, RevokedPckIsRefused) {
  const std::string a = Deployment("a");
  auto good = ProvisionedNode("good", a);
  auto revoked = ProvisionedNode("revoked", a);
  const std::string before = ReadText(a + "/" + tee::sgx::kCollateralFile);
  PT_ASSERT_OK(tee::RevokeSimulatedPlatform(a, revoked->platform_dir()));
  EXPECT_NE(ReadText(a + "/" + tee::sgx::kCollateralFile), before);
  ExpectRejected(Attest(*revoked, Loaded(*revoked, a)), Code::kAuthFailed, "pck-revoked");
  PT_ASSERT_OK(Attest(*good, Loaded(*good, a)));
  // Another deployment's platform cannot be revoked here.
  auto other = ProvisionedNode("other", Deployment("b"));
  EXPECT_FALSE(tee::RevokeSimulatedPlatform(a, other->platform_dir()).ok());
}

TEST_F(SgxProvisioningTest, EachPolicyFieldRefusesAViolationAndAcceptsOtherwise) {
  const std::string a = Deployment("a");
  auto node = ProvisionedNode("n", a);
  const AttestationTarget base = Loaded(*node, a);
  // The simulated loader's SIGSTRUCT has ISVPRODID 0 and ISVSVN 0.
  AttestationTarget t = base;
  t.min_isv_svn = 1;
  ExpectRejected(Attest(*node, t), Code::kPermissionDenied, "policy-isv-svn");
  t.min_isv_svn = 0;
  PT_ASSERT_OK(Attest(*node, t));
  t.isv_prod_id = 7;
  ExpectRejected(Attest(*node, t), Code::kPermissionDenied, "policy-isv-prod-id");
  t.isv_prod_id = 0;
  PT_ASSERT_OK(Attest(*node, t));
  t = base;
  t.mrsigner.assign(32, 0xab);
  ExpectRejected(Attest(*node, t), Code::kPermissionDenied, "policy-mrsigner");
  auto spki = attest::SignerSpki(signer_);
  PT_ASSERT_OK(spki);
  crypto::Digest mrsigner = crypto::Sha256(*spki);
  t.mrsigner.assign(mrsigner.begin(), mrsigner.end());
  PT_ASSERT_OK(Attest(*node, t));
  // UpToDate is accepted by default and only when listed.
  t = base;
  t.tcb_statuses = {"OutOfDate"};
  ExpectRejected(Attest(*node, t), Code::kPermissionDenied, "policy-tcb-status");
  t.tcb_statuses = {"OutOfDate", "UpToDate"};
  PT_ASSERT_OK(Attest(*node, t));
}

// A platform whose TCB info puts its TCB (components 2, PCESVN 11) at
// OutOfDate: refused by default, accepted once OutOfDate is listed.
TEST_F(SgxProvisioningTest, OutOfDateTcbRefusedUnlessAccepted) {
  const time_t now = time(nullptr);
  dcap::sim::Options o;
  o.not_before = o.issue_date = now - 3600;
  o.not_after = o.next_update = now + 24 * 3600;
  o.qe_mrsigner = tee::sgx::kSimulatedQeMrsigner;
  dcap::TcbLevel newer, older;
  newer.sgx_components.fill(3);
  newer.pce_svn = 11;
  newer.status = dcap::TcbStatus::kUpToDate;
  newer.tcb_date = dcap::FormatRfc3339(now);
  older = newer;
  older.sgx_components.fill(2);
  older.status = dcap::TcbStatus::kOutOfDate;
  older.advisory_ids = {"INTEL-SA-00001"};
  o.tcb_levels = {newer, older};
  auto h = dcap::sim::Hierarchy::Create(o);
  PT_ASSERT_OK(h);
  auto c = h->MakeCollateral();
  PT_ASSERT_OK(c);
  const std::string collateral = dcap::EncodeCollateral(*c);
  PT_ASSERT_OK(tee::WriteSimulatedPlatform(*h, collateral, dir_ / "stale.platform"));
  auto node = StartedNode("stale");
  AttestationTarget t = Loaded(*node, dir_ / "stale.platform");
  EXPECT_EQ(t.collateral_json, collateral);
  ExpectRejected(Attest(*node, t), Code::kPermissionDenied, "policy-tcb-status");
  t.tcb_statuses = {"OutOfDate"};
  PT_ASSERT_OK(Attest(*node, t));
}

}  // namespace
}  // namespace aex::ptest
