// The simulated platforms (module side, in this process) against the
// deployer's verifiers: a correct attestation yields the module's own K_m;
// each attack fails with its reason and yields no key. The module side
// measures this test executable, as a module process measures itself.

#include <optional>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "aex/module.h"
#include "attest/dcap/quote.h"
#include "attest/dcap/verifier.h"
#include "attest/dcap/x509.h"
#include "platform/sgx/sgx_sign.h"
#include "crypto/spongent.h"
#include "deployer/attestation.h"
#include "platform/key_files.h"
#include "platform/native/native_keys.h"
#include "platform/platform.h"
#include "platform/sancus/sancus_keys.h"
#include "platform/service_link.h"
#include "platform/session.h"
#include "platform/setup.h"
#include "platform/trustzone/trustzone_keys.h"
#include "in_process_service.h"
#include "platform_test_util.h"

// The trustzone platform takes the TA name from the module's generated glue.
extern "C" const aex_module_desc aex_module = {"tz-module", nullptr, 0, nullptr, 0, nullptr,
                                               0,           nullptr, 0, nullptr, 0};

namespace aex::ptest {
namespace {

using deploy::AttestationTarget;
using deploy::Challenge;
using tee::Backend;

crypto::Digest SelfMeasurement() {
  auto m = tee::MeasureSelf();
  EXPECT_TRUE(m.ok());
  return m.ok() ? *m : crypto::Digest{};
}

std::string KeyHex(const Bytes& raw) { return HexEncode(raw) + "\n"; }

// Attests `platform` for `target`: the deployer's challenge, the module's
// evidence, the deployer's verdict.
// The session key the deployer obtains.
Result<crypto::Key> RoundTrip(tee::Platform& platform, const AttestationTarget& target) {
  AEX_ASSIGN_OR_RETURN(Challenge c, deploy::NewChallenge(target));
  AEX_ASSIGN_OR_RETURN(Bytes evidence, platform.Attest(c.request));
  AEX_ASSIGN_OR_RETURN(attest::Session s, deploy::VerifyEvidence(target, c, evidence));
  EXPECT_EQ(s.instance_id, platform.instance_id());
  return s.key;
}

// ------------------------------------------------------------------ sancus

TEST(SancusKeys, MatchesTheSancusToolchainVendorKey) {
  // AuthenticExecution/env sancus/README.md, for the 128-bit Sancus image:
  // node key deadbeefcafebabec0defeeddefec8ed, vendor id 0x1234 ->
  // vendor key 0b7bf3ae40880a8be430d0da34fb76f0 (sancus-crypto --gen-vendor-key).
  Bytes raw;
  ASSERT_TRUE(HexDecode("deadbeefcafebabec0defeeddefec8ed", &raw));
  crypto::Key node_key;
  std::copy(raw.begin(), raw.end(), node_key.begin());
  EXPECT_EQ(HexEncode(tee::SancusVendorKey(node_key, 0x1234)),
            "0b7bf3ae40880a8be430d0da34fb76f0");
}

class SymmetricTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    Bytes k1(GetParam() == Backend::kTrustZone ? 32 : 16), k2(k1.size());
    ASSERT_TRUE(crypto::RandomBytes(k1).ok() && crypto::RandomBytes(k2).ok());
    key_ = k1;
    WriteText(dir_ / "node.key", KeyHex(k1));
    WriteText(dir_ / "other.key", KeyHex(k2));
    target_.backend = GetParam();
    target_.module_id = 5;
    target_.measurement = SelfMeasurement();
    target_.vendor_id = 0x1234;
    target_.module_name = "tz-module";
    if (GetParam() == Backend::kSancus) {
      std::copy(k1.begin(), k1.end(), target_.node_key.begin());
    } else {
      target_.huk = k1;
    }
  }

  // A module instance on the platform whose key file is `key_file` (each
  // key file gets its own in-process platform service).
  std::unique_ptr<tee::Platform> Module(uint32_t id, const std::string& key_file) {
    auto& service = services_[key_file];
    if (!service) {
      service = std::make_unique<InProcessService>(
          key_file, "", dir_ / ("s" + std::to_string(services_.size()) + ".sock"));
      Status started = service->Start();
      EXPECT_TRUE(started.ok()) << started.ToString();
    }
    auto p = GetParam() == Backend::kSancus ? tee::CreateSancusPlatform()
                                            : tee::CreateTrustZonePlatform();
    Status s = p->Init({id, service->socket()});
    if (s.ok()) s = p->DrawInstanceId();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return p;
  }

  TempDir dir_;
  std::map<std::string, std::unique_ptr<InProcessService>> services_;
  Bytes key_;
  AttestationTarget target_;
};

TEST_P(SymmetricTest, CorrectAttestationYieldsAFreshSessionKey) {
  auto m = Module(5, dir_ / "node.key");
  EXPECT_EQ(m->session_key(), nullptr);
  EXPECT_EQ(m->uses_spongent(), GetParam() == Backend::kSancus);
  auto key = RoundTrip(*m, target_);
  PT_ASSERT_OK(key);
  ASSERT_NE(m->session_key(), nullptr);
  EXPECT_EQ(*key, *m->session_key());
  // Attesting again (the same vendor) establishes another session key, and
  // a restarted instance (same id, same binary, same node) yet another.
  auto again = RoundTrip(*m, target_);
  PT_ASSERT_OK(again);
  EXPECT_NE(*again, *key);
  EXPECT_EQ(*again, *m->session_key());
  auto restarted = Module(5, dir_ / "node.key");
  EXPECT_NE(restarted->instance_id(), m->instance_id());
  auto fresh = RoundTrip(*restarted, target_);
  PT_ASSERT_OK(fresh);
  EXPECT_NE(*fresh, *key);
  EXPECT_NE(*fresh, *again);
}

// A node replaying a recorded challenge to a restarted instance gets a new
// session all the same: the instance's randomness, not the challenge alone,
// makes the key fresh.
TEST_P(SymmetricTest, ReplayedChallengeGivesANewSession) {
  auto m = Module(5, dir_ / "node.key");
  auto c = deploy::NewChallenge(target_);
  PT_ASSERT_OK(c);
  auto first = m->Attest(c->request);
  PT_ASSERT_OK(first);
  const crypto::Key k1 = *m->session_key();
  auto restarted = Module(5, dir_ / "node.key");
  auto second = restarted->Attest(c->request);
  PT_ASSERT_OK(second);
  EXPECT_NE(*first, *second);
  EXPECT_NE(*restarted->session_key(), k1);
}

TEST_P(SymmetricTest, KeyFollowsTheDocumentedHierarchy) {
  auto m = Module(5, dir_ / "node.key");
  auto c = deploy::NewChallenge(target_);
  PT_ASSERT_OK(c);
  auto evidence = m->Attest(c->request);
  PT_ASSERT_OK(evidence);
  ASSERT_GT(evidence->size(), tee::kSessionHeaderSize);
  ByteSpan header = ByteSpan(*evidence).first(tee::kSessionHeaderSize);
  EXPECT_EQ(header[0], tee::kEvidenceSimulated);
  EXPECT_EQ(LoadU64(header.data() + 1), m->instance_id());
  crypto::Key expected;
  if (GetParam() == Backend::kSancus) {
    // K_N -> K_N,SP -> K_N,SP,SM, each a SpongeWrap MAC.
    crypto::Key k_n;
    std::copy(key_.begin(), key_.end(), k_n.begin());
    const uint8_t vid[2] = {0x34, 0x12};
    auto vendor = crypto::SancusKdf(k_n, vid);
    Bytes identity(target_.measurement.begin(), target_.measurement.end());
    for (uint16_t v : {0x6000, 0x7000, 0x0400, 0x0600}) {
      identity.push_back(static_cast<uint8_t>(v));
      identity.push_back(static_cast<uint8_t>(v >> 8));
    }
    auto module = crypto::SancusKdf(vendor, identity);
    // The simulated platform's flags bound on top of K_N,SP,SM.
    const uint8_t flags[] = {'a', 'e', 'x', '/', 'f', 'l', 'a', 'g', 's', tee::kEvidenceSimulated};
    auto bound = crypto::SancusKdf(module, flags);
    std::copy(bound.begin(), bound.end(), expected.begin());
    expected = tee::SancusSessionKey(expected, 5, header, c->request);
  } else {
    // vendor key = SHA-256(HUK || LE16(vendor id)) as the original tool.
    Bytes in = key_;
    in.push_back(0x34);
    in.push_back(0x12);
    crypto::Digest vendor = crypto::Sha256(in);
    EXPECT_EQ(tee::UuidString(tee::TaUuid("pong")), "9c40b365-e30d-5c2c-aa95-be60810d0147");
    expected = tee::TrustZoneModuleKey(vendor, tee::TaUuid("tz-module"), target_.measurement, 5,
                                       tee::kEvidenceSimulated);
    expected = tee::HkdfSessionKey(tee::kTrustZoneLabel, expected, 5, header, c->request);
  }
  EXPECT_EQ(*m->session_key(), expected);
}

TEST_P(SymmetricTest, DescriptorVendorKeyWorksWithoutTheNodeKey) {
  auto m = Module(5, dir_ / "node.key");
  AttestationTarget t = target_;
  if (GetParam() == Backend::kSancus) {
    t.vendor_key = Bytes(16);
    crypto::Key vk = tee::SancusVendorKey(target_.node_key, 0x1234);
    std::copy(vk.begin(), vk.end(), t.vendor_key.begin());
    t.node_key.fill(0);
  } else {
    crypto::Digest vk = tee::TrustZoneVendorKey(key_, 0x1234);
    t.vendor_key.assign(vk.begin(), vk.end());
    t.huk.clear();
  }
  PT_ASSERT_OK(RoundTrip(*m, t));
}

TEST_P(SymmetricTest, WrongMeasurementFails) {
  auto m = Module(5, dir_ / "node.key");
  AttestationTarget t = target_;
  t.measurement[0] ^= 1;
  ExpectRejected(RoundTrip(*m, t), Code::kAuthFailed, "MAC does not verify");
}

TEST_P(SymmetricTest, StaleOrReplayedEvidenceFails) {
  auto m = Module(5, dir_ / "node.key");
  auto first = deploy::NewChallenge(target_);
  auto second = deploy::NewChallenge(target_);
  PT_ASSERT_OK(first);
  PT_ASSERT_OK(second);
  auto old_evidence = m->Attest(first->request);
  PT_ASSERT_OK(old_evidence);
  ExpectRejected(deploy::VerifyEvidence(target_, *second, *old_evidence), Code::kAuthFailed,
                 "MAC does not verify");
}

TEST_P(SymmetricTest, ModuleOnAnotherNodeFails) {
  auto m = Module(5, dir_ / "other.key");
  ExpectRejected(RoundTrip(*m, target_), Code::kAuthFailed, "MAC does not verify");
}

TEST_P(SymmetricTest, WrongModuleIdFails) {
  auto m = Module(6, dir_ / "node.key");  // the node started another instance
  ExpectRejected(RoundTrip(*m, target_), Code::kAuthFailed, "MAC does not verify");
}

TEST_P(SymmetricTest, VendorIdIsFixedByTheFirstRequest) {
  auto m = Module(5, dir_ / "node.key");
  AttestationTarget other = target_;
  other.vendor_id = 0x4321;
  PT_ASSERT_OK(RoundTrip(*m, other));  // an untrusted node asked first
  auto r = RoundTrip(*m, target_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
}

// A hostile module speaking the platform service's protocol itself: it gets
// its own K_m and then claims "not simulated" in its evidence. The service
// bound the platform's flags into K_m, so the verifier, deriving K_m with
// the claimed flags, refuses whatever its allow_simulated policy.
TEST_P(SymmetricTest, EvidenceClaimingHardwareOnASimulatedPlatformFails) {
  (void)Module(5, dir_ / "node.key");  // starts the platform service
  tee::ServiceLink link;
  PT_ASSERT_OK(link.Connect(services_[dir_ / "node.key"]->socket()));
  const tee::Uuid uuid = tee::TaUuid("tz-module");
  const bool tz = GetParam() == Backend::kTrustZone;
  uint8_t platform_flags = 0;
  auto km = link.ModuleKey(static_cast<uint8_t>(GetParam()), 5, &platform_flags, 0x1234,
                           tz ? ByteSpan(uuid) : ByteSpan());
  PT_ASSERT_OK(km);
  EXPECT_EQ(platform_flags, tee::kEvidenceSimulated);
  for (uint8_t claimed : {uint8_t{tee::kEvidenceSimulated}, uint8_t{0}}) {
    for (bool allow : {true, false}) {
      AttestationTarget t = target_;
      t.allow_simulated = allow;
      auto c = deploy::NewChallenge(t);
      PT_ASSERT_OK(c);
      auto header = tee::NewSessionHeader(claimed, 99);
      PT_ASSERT_OK(header);
      Bytes evidence = tz ? tee::HmacEvidence(tee::kTrustZoneLabel, *km, 5, *header, c->request)
                          : tee::SancusEvidence(*km, 5, *header, c->request);
      auto r = deploy::VerifyEvidence(t, *c, evidence);
      if (claimed == 0) {
        ExpectRejected(r, Code::kAuthFailed, "MAC does not verify");
      } else if (allow) {
        PT_ASSERT_OK(r);  // the honest claim: the hostile code holds the right key
      } else {
        ExpectRejected(r, Code::kPermissionDenied, "allow_simulated: false");
      }
    }
  }
}

TEST_P(SymmetricTest, SimulatedPlatformRefusedByPolicy) {
  auto m = Module(5, dir_ / "node.key");
  AttestationTarget t = target_;
  t.allow_simulated = false;
  ExpectRejected(RoundTrip(*m, t), Code::kPermissionDenied, "allow_simulated: false");
}

TEST_P(SymmetricTest, TamperedEvidenceFails) {
  auto m = Module(5, dir_ / "node.key");
  auto c = deploy::NewChallenge(target_);
  PT_ASSERT_OK(c);
  auto evidence = m->Attest(c->request);
  PT_ASSERT_OK(evidence);
  for (size_t i = 0; i < evidence->size(); ++i) {
    Bytes bad = *evidence;
    bad[i] ^= 0x01;  // flipping the "simulated" flag too
    EXPECT_FALSE(deploy::VerifyEvidence(target_, *c, bad).ok()) << "byte " << i;
  }
  EXPECT_FALSE(deploy::VerifyEvidence(target_, *c, {}).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, SymmetricTest,
                         ::testing::Values(Backend::kSancus, Backend::kTrustZone),
                         [](const auto& info) { return std::string(tee::BackendName(info.param)); });

// --------------------------------------------------------------------- sgx

// The first certificate of a PEM chain file (the PCK certificate of
// sgx_pck_chain.pem).
std::string LeafAsPem(const std::string& chain_file) {
  std::string chain = ReadText(chain_file);
  const std::string end = "-----END CERTIFICATE-----\n";
  size_t at = chain.find(end);
  return at == std::string::npos ? "" : chain.substr(0, at + end.size());
}

class SgxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PT_ASSERT_OK(tee::EnsureSimulatedPlatform(dir_ / "p1"));
    PT_ASSERT_OK(tee::EnsureSimulatedPlatform(dir_ / "p2"));
    target_.backend = Backend::kSgx;
    target_.module_id = 7;
    target_.measurement = SelfMeasurement();
    target_.root_ca_pem = ReadText(dir_ / "p1/sgx_root_ca.pem");
    target_.root_ca_name = "p1/sgx_root_ca.pem";
    auto signer = deploy::LoadOrCreateSgxSigner(dir_ / "signer.pem");
    PT_ASSERT_OK(signer);
    target_.signer_pem = *signer;
  }

  // A module instance on platform `platform` (p1 or p2: each its own
  // in-process platform service with its own quoting key), loaded with
  // `sigstruct` (default: the deployment's, for this binary).
  std::unique_ptr<tee::Platform> Module(uint32_t id, const std::string& platform,
                                        bool debug = false,
                                        std::optional<Bytes> sigstruct = std::nullopt) {
    auto& service = services_[platform];
    if (!service) {
      service = std::make_unique<InProcessService>(dir_ / (platform + ".key"), dir_ / platform,
                                                   dir_ / (platform + ".sock"));
      Status started = service->Start();
      EXPECT_TRUE(started.ok()) << started.ToString();
    }
    auto p = tee::CreateSgxPlatform();
    tee::ModuleContext ctx{id, service->socket()};
    ctx.sgx_debug = debug;
    if (!sigstruct) {
      auto made = attest::SignSigstruct(target_.signer_pem, target_.measurement);
      EXPECT_TRUE(made.ok());
      if (made.ok()) sigstruct = *made;
    }
    ctx.sgx_sigstruct_hex = HexEncode(*sigstruct);
    Status s = p->Init(ctx);
    if (s.ok()) s = p->DrawInstanceId();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return p;
  }

  TempDir dir_;
  AttestationTarget target_;
  std::map<std::string, std::unique_ptr<InProcessService>> services_;
};

TEST_F(SgxTest, CorrectAttestationYieldsAFreshSessionKey) {
  auto m = Module(7, "p1");
  EXPECT_EQ(m->session_key(), nullptr);  // no key before attestation
  auto key = RoundTrip(*m, target_);
  PT_ASSERT_OK(key);
  ASSERT_NE(m->session_key(), nullptr);
  EXPECT_EQ(*key, *m->session_key());
  // Re-attestation by the same signer establishes a fresh key on both sides.
  auto again = RoundTrip(*m, target_);
  PT_ASSERT_OK(again);
  EXPECT_NE(*again, *key);
  EXPECT_EQ(*again, *m->session_key());
}

TEST_F(SgxTest, SignerKeyIsCreatedOnceAndPrivate) {
  auto again = deploy::LoadOrCreateSgxSigner(dir_ / "signer.pem");
  PT_ASSERT_OK(again);
  EXPECT_EQ(*again, target_.signer_pem);
  auto st = std::filesystem::status(dir_ / "signer.pem");
  EXPECT_EQ(st.permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto qe = std::filesystem::status(dir_ / "p1/sgx_pck_key.der");
  EXPECT_EQ(qe.permissions() & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
}

TEST_F(SgxTest, WrongMeasurementFailsAtEinit) {
  // The deployer signed another binary: its SIGSTRUCT does not sign this
  // enclave, which therefore refuses to run (EINIT) and holds no key.
  AttestationTarget t = target_;
  t.measurement[0] ^= 1;
  auto other = attest::SignSigstruct(t.signer_pem, t.measurement);
  PT_ASSERT_OK(other);
  auto m = Module(7, "p1", false, *other);
  auto c = deploy::NewChallenge(t);
  PT_ASSERT_OK(c);
  auto evidence = m->Attest(c->request);
  ASSERT_FALSE(evidence.ok());
  EXPECT_EQ(evidence.status().code(), Code::kAuthFailed);
  EXPECT_NE(evidence.status().message().find("EINIT"), std::string::npos);
  EXPECT_EQ(m->session_key(), nullptr);
}

TEST_F(SgxTest, WrongMeasurementFailsAtTheVerifier) {
  // A quote for this enclave checked against another expected MRENCLAVE.
  auto m = Module(7, "p1");
  auto c = deploy::NewChallenge(target_);
  PT_ASSERT_OK(c);
  auto evidence = m->Attest(c->request);
  PT_ASSERT_OK(evidence);
  AttestationTarget t = target_;
  t.measurement[5] ^= 0x80;
  ExpectRejected(deploy::VerifyEvidence(t, *c, *evidence), Code::kAuthFailed, "MRENCLAVE");
}

TEST_F(SgxTest, QuoteFromAnUntrustedCaFails) {
  // The module runs on platform p2; the deployer trusts only p1's root.
  auto m = Module(7, "p2");
  ExpectRejected(RoundTrip(*m, target_), Code::kAuthFailed,
                 "does not chain to the trust anchor");
}

TEST_F(SgxTest, SelfSignedQuotingKeyFails) {
  // An attacker's platform: its own root made the quoting key's certificate,
  // and the deployer is told to trust a root it did not get from that node.
  auto m = Module(7, "p1");
  AttestationTarget t = target_;
  t.root_ca_pem = ReadText(dir_ / "p2/sgx_root_ca.pem");
  ExpectRejected(RoundTrip(*m, t), Code::kAuthFailed, "does not chain to the trust anchor");
  t.root_ca_pem = LeafAsPem(dir_ / "p1/sgx_pck_chain.pem");  // a leaf is no anchor
  ASSERT_FALSE(t.root_ca_pem.empty());
  EXPECT_FALSE(RoundTrip(*m, t).ok());
  t.root_ca_pem = "not a certificate";
  ExpectRejected(RoundTrip(*m, t), Code::kAuthFailed, "not a PEM certificate");
}

TEST_F(SgxTest, StaleOrReplayedQuoteFails) {
  auto m = Module(7, "p1");
  auto first = deploy::NewChallenge(target_);
  auto second = deploy::NewChallenge(target_);
  PT_ASSERT_OK(first);
  PT_ASSERT_OK(second);
  auto old_quote = m->Attest(first->request);
  PT_ASSERT_OK(old_quote);
  ExpectRejected(deploy::VerifyEvidence(target_, *second, *old_quote), Code::kAuthFailed,
                 "stale or replayed");
}

TEST_F(SgxTest, DebugEnclaveRefusedWhenPolicyForbidsIt) {
  auto m = Module(7, "p1", /*debug=*/true);
  AttestationTarget t = target_;
  PT_ASSERT_OK(RoundTrip(*m, t));  // allowed by default
  t.allow_debug = false;
  ExpectRejected(RoundTrip(*m, t), Code::kPermissionDenied, "debug enclave");
}

TEST_F(SgxTest, SimulatedPlatformRefusedByPolicy) {
  auto m = Module(7, "p1");
  AttestationTarget t = target_;
  t.allow_simulated = false;
  ExpectRejected(RoundTrip(*m, t), Code::kPermissionDenied, "allow_simulated: false");
}

TEST_F(SgxTest, WrongModuleIdFails) {
  // The node started the enclave as module 8: the signed request names 7.
  auto m8 = Module(8, "p1");
  auto c = deploy::NewChallenge(target_);
  PT_ASSERT_OK(c);
  auto refused = m8->Attest(c->request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kAuthFailed);
  EXPECT_EQ(m8->session_key(), nullptr);
  // A quote for module 7 handed in as module 8's answer.
  auto m7 = Module(7, "p1");
  auto quote = m7->Attest(c->request);
  PT_ASSERT_OK(quote);
  AttestationTarget t = target_;
  t.module_id = 8;
  ExpectRejected(deploy::VerifyEvidence(t, *c, *quote), Code::kAuthFailed, "module id 7");
}

TEST_F(SgxTest, OnlyTheEnclavesSignerCanEstablishAKey) {
  auto m = Module(7, "p1");
  PT_ASSERT_OK(RoundTrip(*m, target_));
  const crypto::Key established = *m->session_key();
  // Another party (an untrusted node) with its own signing key.
  AttestationTarget rogue = target_;
  auto other = deploy::LoadOrCreateSgxSigner(dir_ / "rogue.pem");
  PT_ASSERT_OK(other);
  rogue.signer_pem = *other;
  auto c = deploy::NewChallenge(rogue);
  PT_ASSERT_OK(c);
  auto refused = m->Attest(c->request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kAuthFailed);
  EXPECT_EQ(*m->session_key(), established);
  // A request whose signature is not the signer's.
  auto good = deploy::NewChallenge(target_);
  PT_ASSERT_OK(good);
  Bytes forged = good->request;
  forged[forged.size() - 10] ^= 1;
  EXPECT_FALSE(m->Attest(forged).ok());
  EXPECT_EQ(*m->session_key(), established);
}

// The old attack: whoever attested first fixed MRSIGNER. Now EINIT fixed it
// at load: a stranger attesting first is refused, and an enclave loaded
// without a valid SIGSTRUCT attests for nobody.
TEST_F(SgxTest, FirstAttesterCannotFixMrsigner) {
  auto m = Module(7, "p1");
  AttestationTarget rogue = target_;
  auto other = deploy::LoadOrCreateSgxSigner(dir_ / "rogue.pem");
  PT_ASSERT_OK(other);
  rogue.signer_pem = *other;
  ExpectRejected(RoundTrip(*m, rogue), Code::kAuthFailed, "not signed by the enclave's signer");
  EXPECT_EQ(m->session_key(), nullptr);
  PT_ASSERT_OK(RoundTrip(*m, target_));
  auto bare = Module(7, "p1", false, Bytes{});
  ExpectRejected(RoundTrip(*bare, target_), Code::kFailedPrecondition, "EINIT failed");
  ExpectRejected(RoundTrip(*bare, rogue), Code::kFailedPrecondition, "EINIT failed");
}

// The attestation manager's way: it holds only the signer's public key; the
// deployer signs the request around the manager's own ephemeral key, and the
// key the exchange establishes is the manager's alone.
TEST_F(SgxTest, ManagerAttestsWithoutTheSigningKey) {
  auto m = Module(7, "p1");
  AttestationTarget manager = target_;
  manager.signer_pem.clear();
  auto spki = attest::SignerSpki(target_.signer_pem);
  PT_ASSERT_OK(spki);
  manager.signer_spki = *spki;
  auto c = deploy::NewChallenge(manager);
  PT_ASSERT_OK(c);
  ASSERT_EQ(c->request.size(), 64u);  // unsigned: the manager cannot sign
  EXPECT_FALSE(m->Attest(c->request).ok());
  auto rogue = deploy::LoadOrCreateSgxSigner(dir_ / "rogue.pem");
  PT_ASSERT_OK(rogue);
  auto by_rogue = attest::CompleteSgxRequest(*rogue, 7, c->request);
  PT_ASSERT_OK(by_rogue);
  EXPECT_EQ(attest::AdoptSgxRequest(&*c, *by_rogue).code(), Code::kAuthFailed);
  auto other = deploy::NewChallenge(manager);  // another nonce and key
  PT_ASSERT_OK(other);
  auto for_other = attest::CompleteSgxRequest(target_.signer_pem, 7, other->request);
  PT_ASSERT_OK(for_other);
  EXPECT_EQ(attest::AdoptSgxRequest(&*c, *for_other).code(), Code::kAuthFailed);
  auto signed_request =
      attest::CompleteSgxRequest(target_.signer_pem, 7, c->request);
  PT_ASSERT_OK(signed_request);
  PT_ASSERT_OK(attest::AdoptSgxRequest(&*c, *signed_request));
  auto evidence = m->Attest(c->request);
  PT_ASSERT_OK(evidence);
  auto session = deploy::VerifyEvidence(manager, *c, *evidence);
  PT_ASSERT_OK(session);
  EXPECT_EQ(session->key, *m->session_key());
}

// The evidence: len|quote len|extra, where quote is an Intel DCAP quote v3
// that the DCAP verifier accepts on its own, with the platform's collateral,
// under the node's simulated root, and not under Intel's.
Result<dcap::Quote> SplitEvidence(ByteSpan evidence, Bytes* quote, std::string* collateral) {
  ByteReader r(evidence);
  ByteSpan q, extra;
  if (!r.ReadLengthPrefixed(&q, 64 * 1024) || !r.ReadLengthPrefixed(&extra, 64 * 1024) ||
      !r.empty() || extra.size() < tee::sgx::kExtraFixed) {
    return Internal("malformed evidence");
  }
  quote->assign(q.begin(), q.end());
  collateral->assign(extra.begin() + tee::sgx::kExtraFixed, extra.end());
  return dcap::ParseQuote(q);
}

TEST_F(SgxTest, EvidenceIsAGenuineDcapQuote) {
  auto m = Module(7, "p1", /*debug=*/true);
  auto c = deploy::NewChallenge(target_);
  PT_ASSERT_OK(c);
  auto evidence = m->Attest(c->request);
  PT_ASSERT_OK(evidence);
  Bytes quote;
  std::string collateral_json;
  auto parsed = SplitEvidence(*evidence, &quote, &collateral_json);
  PT_ASSERT_OK(parsed);
  EXPECT_EQ(parsed->header.version, 3);
  EXPECT_EQ(parsed->cert_data_type, dcap::kCertDataPckChain);
  EXPECT_TRUE(parsed->report.debug());
  EXPECT_TRUE(std::equal(target_.measurement.begin(), target_.measurement.end(),
                         parsed->report.mr_enclave.begin()));
  EXPECT_TRUE(std::equal(c->mrsigner.begin(), c->mrsigner.end(),
                         parsed->report.mr_signer.begin()));
  auto collateral = dcap::ParseCollateral(collateral_json);
  PT_ASSERT_OK(collateral);
  auto roots = dcap::ParsePemChain(target_.root_ca_pem);
  PT_ASSERT_OK(roots);
  EVP_PKEY* root = X509_get0_pubkey(roots->front().get());
  auto verdict = dcap::VerifyQuote(quote, &*collateral, {root, time(nullptr)});
  PT_ASSERT_OK(verdict);
  EXPECT_EQ(verdict->tcb_status, dcap::TcbStatus::kUpToDate);
  auto intel = dcap::VerifyQuote(quote, &*collateral, {nullptr, time(nullptr)});
  ASSERT_FALSE(intel.ok());
  // The deployer accepts it, and then caches the verified collateral (for
  // kCollateralReuse seconds) under that root only: pinned to another root,
  // the same evidence is refused.
  PT_ASSERT_OK(deploy::VerifyEvidence(target_, *c, *evidence));
  AttestationTarget other_root = target_;
  other_root.root_ca_pem = ReadText(dir_ / "p2/sgx_root_ca.pem");
  ExpectRejected(deploy::VerifyEvidence(other_root, *c, *evidence), Code::kAuthFailed,
                 "does not chain to the trust anchor");
  // What travels with the quote is bound by its REPORTDATA: the same
  // collateral with a space after it (still valid, still signed) is refused,
  // and another platform's collateral does not chain to this node's root.
  ByteReader r(*evidence);
  ByteSpan q, extra;
  ASSERT_TRUE(r.ReadLengthPrefixed(&q, 64 * 1024) && r.ReadLengthPrefixed(&extra, 64 * 1024));
  auto with_extra = [&](ByteSpan new_collateral) {
    Bytes x(extra.begin(), extra.begin() + tee::sgx::kExtraFixed);
    x.insert(x.end(), new_collateral.begin(), new_collateral.end());
    ByteWriter w(evidence->size() + 16384);
    w.PutLengthPrefixed(q);
    w.PutLengthPrefixed(x);
    return w.Take();
  };
  std::string spaced = collateral_json + " ";
  PT_ASSERT_OK(dcap::ParseCollateral(spaced));
  ExpectRejected(deploy::VerifyEvidence(target_, *c, with_extra(AsBytes(spaced))),
                 Code::kAuthFailed, "REPORTDATA does not bind");
  PT_ASSERT_OK(tee::EnsureSimulatedPlatform(dir_ / "p3"));
  std::string other = ReadText(dir_ / (std::string("p3/") + tee::sgx::kCollateralFile));
  ASSERT_FALSE(other.empty());
  ExpectRejected(deploy::VerifyEvidence(target_, *c, with_extra(AsBytes(other))),
                 Code::kAuthFailed, "does not chain to the trust anchor");
}

TEST_F(SgxTest, TamperedQuoteFails) {
  auto m = Module(7, "p1");
  auto c = deploy::NewChallenge(target_);
  PT_ASSERT_OK(c);
  auto quote = m->Attest(c->request);
  PT_ASSERT_OK(quote);
  // Every byte of the quote (report body, signatures, keys, QE report, PCK
  // chain) and of what travels with it (module id, instance id, key,
  // collateral) is covered by a signature or by REPORTDATA. The one
  // exception is meaningless: the PCK chain is PEM, and base64 ignores the
  // unused low bits of a final group, so such a flip may decode to the same
  // certificates, which the verifier rightly accepts.
  auto chain_der = [](ByteSpan evidence) {
    ByteReader r(evidence);
    ByteSpan quote;
    auto parsed = r.ReadLengthPrefixed(&quote, 64 * 1024) ? dcap::ParseQuote(quote)
                                                          : Result<dcap::Quote>(Internal("short"));
    std::string der;
    if (!parsed.ok()) return der;
    auto chain = dcap::ParsePemChain(std::string_view(
        reinterpret_cast<const char*>(parsed->cert_data.data()), parsed->cert_data.size()));
    if (!chain.ok()) return der;
    for (const auto& cert : *chain) {
      unsigned char* out = nullptr;
      int n = i2d_X509(cert.get(), &out);
      if (n > 0) der.append(reinterpret_cast<char*>(out), static_cast<size_t>(n));
      OPENSSL_free(out);
    }
    return der;
  };
  const std::string original = chain_der(*quote);
  ASSERT_FALSE(original.empty());
  for (size_t i = 4; i < quote->size(); i += 7) {
    Bytes bad = *quote;
    bad[i] ^= 0x04;
    if (deploy::VerifyEvidence(target_, *c, bad).ok()) {
      EXPECT_EQ(chain_der(bad), original) << "byte " << i;
      EXPECT_TRUE(bad[i] != '\n' && bad[i] != '-') << "byte " << i;
    }
  }
  EXPECT_FALSE(deploy::VerifyEvidence(target_, *c, {}).ok());
  Bytes truncated(quote->begin(), quote->end() - 1);
  EXPECT_FALSE(deploy::VerifyEvidence(target_, *c, truncated).ok());
}

TEST_F(SgxTest, MalformedRequestsAreRefused) {
  auto m = Module(7, "p1");
  auto c = deploy::NewChallenge(target_);
  PT_ASSERT_OK(c);
  for (size_t cut : {size_t{0}, size_t{3}, size_t{50}, c->request.size() - 1}) {
    Bytes part(c->request.begin(), c->request.begin() + cut);
    EXPECT_FALSE(m->Attest(part).ok()) << cut;
  }
  Bytes longer = c->request;
  longer.push_back(0);
  EXPECT_FALSE(m->Attest(longer).ok());
  EXPECT_EQ(m->session_key(), nullptr);
}

TEST_F(SgxTest, InitFailsWithoutAPlatformService) {
  for (const std::string& socket : {std::string(), dir_ / "no-such.sock", dir_ / "p1"}) {
    auto p = tee::CreateSgxPlatform();
    EXPECT_FALSE(p->Init({7, socket}).ok()) << socket;
  }
}

// ------------------------------------------------------------------ native

TEST(NativeAttestation, StillRunsTheFullProtocol) {
  AttestationTarget t;
  t.module_id = 3;
  t.measurement = SelfMeasurement();
  PT_ASSERT_OK(crypto::RandomBytes(t.node_key));
  auto c = deploy::NewChallenge(t);
  PT_ASSERT_OK(c);
  EXPECT_EQ(c->request.size(), 32u);
}

// Native is no TEE: evidence with any flags (even under the right K_m, as a
// module holding its own key can make) is refused; flags 0 verify.
TEST(NativeAttestation, EvidenceWithTeeFlagsIsRefused) {
  AttestationTarget t;
  t.module_id = 3;
  t.measurement = SelfMeasurement();
  PT_ASSERT_OK(crypto::RandomBytes(t.node_key));
  const crypto::Key km = tee::DeriveNativeModuleKey(t.node_key, t.measurement, 3);
  for (uint8_t flags : {uint8_t{0}, uint8_t{tee::kEvidenceSimulated}, uint8_t{0x80}}) {
    auto c = deploy::NewChallenge(t);
    PT_ASSERT_OK(c);
    auto header = tee::NewSessionHeader(flags, 9);
    PT_ASSERT_OK(header);
    Bytes evidence = tee::HmacEvidence(tee::kNativeLabel, km, 3, *header, c->request);
    auto r = deploy::VerifyEvidence(t, *c, evidence);
    if (flags == 0) {
      PT_ASSERT_OK(r);
    } else {
      ExpectRejected(r, Code::kAuthFailed, "native attestation failed");
    }
  }
}

}  // namespace
}  // namespace aex::ptest
