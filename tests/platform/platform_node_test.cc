// Attestation through real aex-node processes, per backend: the example's
// pong module (one source, built for every backend) is loaded, attested and
// then answers a sealed request over a connection keyed with the K_m the
// deployer obtained. Every attack fails with its reason and yields no key.

#include <gtest/gtest.h>

#include "deployer/attestation.h"
#include "platform/key_files.h"
#include "platform/platform.h"
#include "platform_test_util.h"
#include "attest/issue.h"
#include "runtime/channel.h"

namespace aex::ptest {
namespace {

using deploy::AttestationTarget;
using tee::Backend;

struct BackendCase {
  Backend backend;
  const char* pong;  // the example's pong, built for this backend
  const char* ping;
};

void PrintTo(const BackendCase& c, std::ostream* os) { *os << tee::BackendName(c.backend); }

std::string CaseName(const ::testing::TestParamInfo<BackendCase>& info) {
  return tee::BackendName(info.param.backend);
}

class NodeAttestTest : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    a_ = std::make_unique<Node>(dir_ / "a");
    b_ = std::make_unique<Node>(dir_ / "b");
    PT_ASSERT_OK(a_->Start());
    PT_ASSERT_OK(b_->Start());
    auto signer = deploy::LoadOrCreateSgxSigner(dir_ / "signer.pem");
    PT_ASSERT_OK(signer);
    signer_ = *signer;
  }

  Backend backend() const { return GetParam().backend; }
  bool spongent() const { return backend() == Backend::kSancus; }

  // What the deployer knows about `node` and the binary it built.
  AttestationTarget Target(const Node& node, uint32_t id, const char* binary) {
    AttestationTarget t;
    t.backend = backend();
    t.module_id = id;
    t.measurement = crypto::Sha256(ReadBytes(binary));
    t.module_name = "pong";
    t.vendor_id = 0x1234;
    if (backend() == Backend::kSgx) {
      t.root_ca_pem = ReadText(node.platform_dir() + "/sgx_root_ca.pem");
      t.root_ca_name = node.platform_dir() + "/sgx_root_ca.pem";
      t.signer_pem = signer_;
    } else if (backend() == Backend::kTrustZone) {
      auto huk = tee::ReadSecretFile(node.key_file());
      EXPECT_TRUE(huk.ok());
      if (huk.ok()) t.huk = *huk;
    } else {
      auto k = tee::ReadKeyFile(node.key_file());
      EXPECT_TRUE(k.ok());
      if (k.ok()) t.node_key = *k;
    }
    return t;
  }

  // sgx: with the SIGSTRUCT the deployer makes for `signed_for` (default:
  // `binary` itself) under `signer` (default: the deployment's key).
  Result<uint32_t> Load(Node& node, const char* binary, const char* signed_for = nullptr,
                        const std::string& signer = "") {
    AEX_ASSIGN_OR_RETURN(auto client, node.Connect());
    Bytes sigstruct;
    if (backend() == Backend::kSgx) {
      AEX_ASSIGN_OR_RETURN(sigstruct, Sigstruct(signed_for ? signed_for : binary,
                                                signer.empty() ? signer_ : signer));
    }
    return client->LoadModule("pong", static_cast<uint8_t>(backend()), "", ReadBytes(binary), "",
                              sigstruct);
  }
  Result<Bytes> Sigstruct(const char* binary, const std::string& signer) {
    return attest::SignSigstruct(signer, crypto::Sha256(ReadBytes(binary)));
  }
  Result<uint32_t> LoadWithSigstruct(Node& node, const char* binary, ByteSpan sigstruct) {
    AEX_ASSIGN_OR_RETURN(auto client, node.Connect());
    return client->LoadModule("pong", static_cast<uint8_t>(backend()), "", ReadBytes(binary), "",
                              sigstruct);
  }

  // The session key of a new attestation.
  Result<crypto::Key> Attest(Node& node, const AttestationTarget& t) {
    AEX_ASSIGN_OR_RETURN(auto client, node.Connect());
    AEX_ASSIGN_OR_RETURN(attest::Session s, deploy::AttestModule(*client, t));
    return s.key;
  }

  // Keys a direct connection to pong's `reverse` handler (index 1) under
  // `module_key` and sends one request through it.
  Result<std::string> Reverse(Node& node, uint32_t id, const crypto::Key& module_key,
                              const std::string& text) {
    AEX_ASSIGN_OR_RETURN(auto client, node.Connect());
    const auto cipher = spongent() ? channel::Cipher::kSpongent : channel::Cipher::kAes;
    channel::KeyGrant g;
    g.conn_id = 42;
    g.io_index = 1;
    g.role = channel::Role::kHandler;
    g.cipher = cipher;
    g.nonce = ++grant_nonce_;
    AEX_RETURN_IF_ERROR(crypto::RandomBytes(g.key));
    auto mgmt = channel::NewCipher(cipher, module_key);
    AEX_RETURN_IF_ERROR(client->SetKey(id, channel::WrapGrant(*mgmt, id, g)));
    auto conn = channel::NewCipher(cipher, g.key);
    Bytes sealed, plain;
    AEX_RETURN_IF_ERROR(
        channel::SealEvent(*conn, 42, channel::Direction::kForward, 1, AsBytes(text), &sealed));
    AEX_ASSIGN_OR_RETURN(Bytes response, client->Request(id, 42, sealed));
    uint64_t counter = 0;
    AEX_RETURN_IF_ERROR(channel::OpenEvent(*conn, 42, channel::Direction::kBackward, response,
                                           &counter, &plain));
    return std::string(plain.begin(), plain.end());
  }

  // The reason a symmetric backend gives for evidence that does not verify.
  std::string MacReason() const {
    return backend() == Backend::kNative ? "native attestation failed" : "MAC does not verify";
  }

  TempDir dir_;
  std::unique_ptr<Node> a_, b_;
  std::string signer_;
  uint64_t grant_nonce_ = 0;
};

TEST_P(NodeAttestTest, CorrectAttestationKeysTheModule) {
  auto id = Load(*a_, GetParam().pong);
  PT_ASSERT_OK(id);
  auto key = Attest(*a_, Target(*a_, *id, GetParam().pong));
  PT_ASSERT_OK(key);
  auto reversed = Reverse(*a_, *id, *key, "hello, " + std::string(tee::BackendName(backend())));
  PT_ASSERT_OK(reversed);
  std::string expected = "hello, " + std::string(tee::BackendName(backend()));
  std::reverse(expected.begin(), expected.end());
  EXPECT_EQ(*reversed, expected);
}

TEST_P(NodeAttestTest, NoKeyBeforeAttestation) {
  if (backend() == Backend::kNative) GTEST_SKIP() << "native derives K_m at start";
  auto id = Load(*a_, GetParam().pong);
  PT_ASSERT_OK(id);
  crypto::Key guess{};
  auto r = Reverse(*a_, *id, guess, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition) << r.status().ToString();
}

TEST_P(NodeAttestTest, WrongMeasurementFails) {
  // The node runs pong; the deployer built (expects, and for sgx signed) ping.
  auto id = Load(*a_, GetParam().pong, GetParam().ping);
  PT_ASSERT_OK(id);
  auto r = Attest(*a_, Target(*a_, *id, GetParam().ping));
  ExpectRejected(r, Code::kAuthFailed, backend() == Backend::kSgx ? "EINIT" : MacReason());
  // The module still takes no grant made with a key the deployer never got.
  EXPECT_FALSE(Reverse(*a_, *id, crypto::Key{}, "x").ok());
}

TEST_P(NodeAttestTest, ModuleOnAnotherNodeFails) {
  // Loaded on b, but attested as if on a (a's node key or root CA).
  auto id = Load(*b_, GetParam().pong);
  PT_ASSERT_OK(id);
  auto r = Attest(*b_, Target(*a_, *id, GetParam().pong));
  ExpectRejected(r, Code::kAuthFailed,
                 backend() == Backend::kSgx ? "does not chain to the trust anchor" : MacReason());
}

TEST_P(NodeAttestTest, StaleOrReplayedEvidenceFails) {
  auto id = Load(*a_, GetParam().pong);
  PT_ASSERT_OK(id);
  AttestationTarget t = Target(*a_, *id, GetParam().pong);
  auto client = a_->Connect();
  PT_ASSERT_OK(client);
  auto first = deploy::NewChallenge(t);
  PT_ASSERT_OK(first);
  auto old_evidence = (*client)->Attest(*id, first->request);
  PT_ASSERT_OK(old_evidence);
  // The node answers a new challenge with the old evidence.
  auto second = deploy::NewChallenge(t);
  PT_ASSERT_OK(second);
  ExpectRejected(deploy::VerifyEvidence(t, *second, *old_evidence), Code::kAuthFailed,
                 backend() == Backend::kSgx ? "stale or replayed" : MacReason());
}

TEST_P(NodeAttestTest, WrongModuleIdFails) {
  // Two instances; the node routes the challenge meant for the second to the
  // first.
  auto first = Load(*a_, GetParam().pong);
  auto second = Load(*a_, GetParam().pong);
  PT_ASSERT_OK(first);
  PT_ASSERT_OK(second);
  AttestationTarget t = Target(*a_, *second, GetParam().pong);
  auto client = a_->Connect();
  PT_ASSERT_OK(client);
  auto c = deploy::NewChallenge(t);
  PT_ASSERT_OK(c);
  auto evidence = (*client)->Attest(*first, c->request);
  if (backend() == Backend::kSgx) {
    // The signed request names the other module: the enclave refuses.
    ASSERT_FALSE(evidence.ok());
    EXPECT_EQ(evidence.status().code(), Code::kAuthFailed);
    return;
  }
  PT_ASSERT_OK(evidence);
  ExpectRejected(deploy::VerifyEvidence(t, *c, *evidence), Code::kAuthFailed, MacReason());
}

TEST_P(NodeAttestTest, SimulatedPlatformRefusedWhenPolicyForbidsIt) {
  if (backend() == Backend::kNative) GTEST_SKIP() << "native is no TEE, not a simulated one";
  auto id = Load(*a_, GetParam().pong);
  PT_ASSERT_OK(id);
  AttestationTarget t = Target(*a_, *id, GetParam().pong);
  t.allow_simulated = false;
  ExpectRejected(Attest(*a_, t), Code::kPermissionDenied, "allow_simulated: false");
}

TEST_P(NodeAttestTest, DebugEnclaveRefusedWhenPolicyForbidsIt) {
  if (backend() != Backend::kSgx) GTEST_SKIP() << "debug enclaves are an sgx notion";
  Node debug_node(dir_ / "c", {"--sgx-debug"});
  PT_ASSERT_OK(debug_node.Start());
  auto id = Load(debug_node, GetParam().pong);
  PT_ASSERT_OK(id);
  AttestationTarget t = Target(debug_node, *id, GetParam().pong);
  t.allow_debug = false;
  ExpectRejected(Attest(debug_node, t), Code::kPermissionDenied, "debug enclave");
  t.allow_debug = true;
  PT_ASSERT_OK(Attest(debug_node, t));
}

TEST_P(NodeAttestTest, SgxPlatformDirectoryCanBeNamed) {
  if (backend() != Backend::kSgx) GTEST_SKIP();
  Node named(dir_ / "d", {}, dir_ / "elsewhere");
  PT_ASSERT_OK(named.Start());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "elsewhere/sgx_root_ca.pem"));
  auto id = Load(named, GetParam().pong);
  PT_ASSERT_OK(id);
  AttestationTarget t = Target(named, *id, GetParam().pong);
  t.root_ca_pem = ReadText(dir_ / "elsewhere/sgx_root_ca.pem");
  PT_ASSERT_OK(Attest(named, t));
}

// MRSIGNER is what EINIT saw: a node that loads the enclave with another
// signer's SIGSTRUCT gets quotes naming that signer, which the deployer
// refuses; the enclave answers only its own signer's requests.
TEST_P(NodeAttestTest, SgxOtherSignersSigstructIsRefused) {
  if (backend() != Backend::kSgx) GTEST_SKIP();
  auto rogue = deploy::LoadOrCreateSgxSigner(dir_ / "rogue.pem");
  PT_ASSERT_OK(rogue);
  auto id = Load(*a_, GetParam().pong, nullptr, *rogue);
  PT_ASSERT_OK(id);
  AttestationTarget honest = Target(*a_, *id, GetParam().pong);
  ExpectRejected(Attest(*a_, honest), Code::kAuthFailed, "not signed by the enclave's signer");
  // The node, holding the rogue key, gets a quote and passes it off as the
  // answer to the deployer's challenge.
  AttestationTarget by_rogue = honest;
  by_rogue.signer_pem = *rogue;
  auto client = a_->Connect();
  PT_ASSERT_OK(client);
  auto rc = deploy::NewChallenge(by_rogue);
  auto hc = deploy::NewChallenge(honest);
  PT_ASSERT_OK(rc);
  PT_ASSERT_OK(hc);
  auto quote = (*client)->Attest(*id, rc->request);
  PT_ASSERT_OK(quote);
  ExpectRejected(deploy::VerifyEvidence(honest, *hc, *quote), Code::kAuthFailed, "MRSIGNER");
}

TEST_P(NodeAttestTest, SgxMissingOrCorruptSigstructFailsEinit) {
  if (backend() != Backend::kSgx) GTEST_SKIP();
  auto none = LoadWithSigstruct(*a_, GetParam().pong, {});
  PT_ASSERT_OK(none);
  ExpectRejected(Attest(*a_, Target(*a_, *none, GetParam().pong)), Code::kFailedPrecondition,
                 "EINIT failed");
  auto good = Sigstruct(GetParam().pong, signer_);
  PT_ASSERT_OK(good);
  for (size_t at : {size_t{2}, good->size() / 2, good->size() - 3}) {
    Bytes bad = *good;
    bad[at] ^= 0x10;
    auto id = LoadWithSigstruct(*a_, GetParam().pong, bad);
    PT_ASSERT_OK(id);
    auto r = Attest(*a_, Target(*a_, *id, GetParam().pong));
    ASSERT_FALSE(r.ok()) << "byte " << at;
    EXPECT_NE(r.status().message().find("EINIT failed"), std::string::npos)
        << r.status().ToString();
  }
}

// The old attack: a stranger attests first with its own signer, hoping to
// become the enclave's signer. MRSIGNER was fixed at load: it is refused and
// the deployer attests as usual.
TEST_P(NodeAttestTest, SgxFirstAttesterCannotFixMrsigner) {
  if (backend() != Backend::kSgx) GTEST_SKIP();
  auto id = Load(*a_, GetParam().pong);
  PT_ASSERT_OK(id);
  AttestationTarget t = Target(*a_, *id, GetParam().pong);
  auto rogue = deploy::LoadOrCreateSgxSigner(dir_ / "rogue.pem");
  PT_ASSERT_OK(rogue);
  AttestationTarget stranger = t;
  stranger.signer_pem = *rogue;
  ExpectRejected(Attest(*a_, stranger), Code::kAuthFailed, "not signed by the enclave's signer");
  auto key = Attest(*a_, t);
  PT_ASSERT_OK(key);
  auto reversed = Reverse(*a_, *id, *key, "abc");
  PT_ASSERT_OK(reversed);
  EXPECT_EQ(*reversed, "cba");
}

INSTANTIATE_TEST_SUITE_P(
    Backends, NodeAttestTest,
    ::testing::Values(BackendCase{Backend::kNative, AEX_PT_PONG_NATIVE, AEX_PT_PING_NATIVE},
                      BackendCase{Backend::kSgx, AEX_PT_PONG_SGX, AEX_PT_PING_SGX},
                      BackendCase{Backend::kTrustZone, AEX_PT_PONG_TRUSTZONE,
                                  AEX_PT_PING_TRUSTZONE},
                      BackendCase{Backend::kSancus, AEX_PT_PONG_SANCUS, AEX_PT_PING_SANCUS}),
    CaseName);

}  // namespace
}  // namespace aex::ptest
