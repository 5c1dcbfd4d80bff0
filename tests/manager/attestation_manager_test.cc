// The attestation manager in process: provisioning, attestation of native and
// sancus modules (evidence computed with the same key models the module side
// uses), key grants the modules can open, and every way a command can be
// wrong. The sgx path through a real manager module is in
// tests/platform/heterogeneous_test.cc.

#include "manager/attestation_manager.h"

#include <gtest/gtest.h>

#include "attest/manager_protocol.h"
#include "platform/native/native_keys.h"
#include "platform/platform.h"
#include "platform/sancus/sancus_keys.h"
#include "platform/session.h"
#include "runtime/channel.h"

#include <map>

namespace aex::manager {
namespace {

using attest::ModuleClaim;

constexpr crypto::Key kNodeKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr crypto::Key kSancusNodeKey = {0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xba, 0xbe,
                                        0xc0, 0xde, 0xfe, 0xed, 0xde, 0xfe, 0xc8, 0xed};
constexpr uint16_t kVendor = 0x1234;

crypto::Digest Measurement(uint8_t seed) {
  crypto::Digest d{};
  d.fill(seed);
  return d;
}

class AttestationManagerTest : public ::testing::Test {
 protected:
  AttestationManagerTest() : manager_([this](const std::string& l) { log_ += l + "\n"; }) {}

  // The response's status, with its body in *body.
  Status Send(const Bytes& command, Bytes* body = nullptr) {
    auto r = attest::DecodeResponse(manager_.Handle(command));
    if (r.ok() && body) *body = *r;
    return r.status();
  }

  void ProvisionNative(const std::string& node, const crypto::Key& key) {
    attest::AttestationTarget t;
    t.backend = tee::Backend::kNative;
    t.node_key = key;
    ASSERT_TRUE(Send(attest::EncodeProvision(node, t)).ok());
  }

  void ProvisionSancus(const std::string& node) {
    attest::AttestationTarget t;
    t.backend = tee::Backend::kSancus;
    t.node_key = kSancusNodeKey;
    t.vendor_id = kVendor;
    ASSERT_TRUE(Send(attest::EncodeProvision(node, t)).ok());
  }

  // BEGIN_ATTEST: the challenge the module must answer.
  Result<Bytes> Begin(const ModuleClaim& claim) {
    Bytes body;
    AEX_RETURN_IF_ERROR(Send(attest::EncodeBegin(claim), &body));
    ByteReader r(body);
    ByteSpan request;
    if (!r.ReadLengthPrefixed(&request) || !r.empty()) return Internal("bad BEGIN reply");
    return Bytes(request.begin(), request.end());
  }

  // What a native module with `node_key` answers.
  // (its instance id 0x1000 + module id, fresh randomness), and the session
  // key it derives for that answer.
  static Bytes NativeAnswer(const crypto::Key& node_key, const ModuleClaim& c, ByteSpan request,
                            crypto::Key* session = nullptr) {
    crypto::Key km = tee::DeriveNativeModuleKey(node_key, c.measurement, c.module_id);
    auto header = tee::NewSessionHeader(0, 0x1000 + c.module_id);
    EXPECT_TRUE(header.ok());
    if (session) *session = tee::HkdfSessionKey(tee::kNativeLabel, km, c.module_id, *header, request);
    return tee::HmacEvidence(tee::kNativeLabel, km, c.module_id, *header, request);
  }

  Status AttestNative(const ModuleClaim& c, const crypto::Key& module_node_key) {
    AEX_ASSIGN_OR_RETURN(Bytes request, Begin(c));
    crypto::Key session;
    Bytes answer = NativeAnswer(module_node_key, c, request, &session);
    Bytes body;
    AEX_RETURN_IF_ERROR(Send(attest::EncodeFinish(c.module, answer), &body));
    // The manager reports the instance it attested.
    if (body.size() != 8 || LoadU64(body.data()) != 0x1000 + c.module_id) {
      return Internal("FINISH_ATTEST did not report the instance id");
    }
    sessions_[c.module] = session;
    return Status::Ok();
  }

  static ModuleClaim Native(const std::string& name, uint32_t id, uint8_t seed = 7) {
    return ModuleClaim{name, "n1", tee::Backend::kNative, id, Measurement(seed)};
  }

  Result<attest::GrantReply> Grant(const attest::GrantRequest& g) {
    Bytes body;
    AEX_RETURN_IF_ERROR(Send(attest::EncodeGrant(g), &body));
    return attest::DecodeGrantReply(body, g.ends.size(), g.deployer_end);
  }

  std::string log_;
  std::map<std::string, crypto::Key> sessions_;  // the modules' side of each session
  AttestationManager manager_;
};

TEST_F(AttestationManagerTest, AttestsAndGrantsKeysOnlyTheModulesCanOpen) {
  ProvisionNative("n1", kNodeKey);
  ModuleClaim a = Native("a", 3, 1), b = Native("b", 4, 2);
  ASSERT_TRUE(AttestNative(a, kNodeKey).ok());
  ASSERT_TRUE(AttestNative(b, kNodeKey).ok());
  EXPECT_NE(log_.find("attested a (module id 3 on n1)"), std::string::npos) << log_;

  auto reply = Grant({9, 0, false, false, {{"b", 1, 1}, {"a", 0, 0}}});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_EQ(reply->blobs.size(), 2u);
  EXPECT_FALSE(reply->key.has_value());  // not a direct connection: K_c stays wrapped

  crypto::Key ka = sessions_.at("a"), kb = sessions_.at("b");
  // Grants are wrapped under the session keys, never under K_m.
  EXPECT_FALSE(channel::UnwrapGrant(
                   *channel::NewCipher(channel::Cipher::kAes,
                                       tee::DeriveNativeModuleKey(kNodeKey, b.measurement,
                                                                  b.module_id)),
                   b.module_id, reply->blobs[0])
                   .ok());
  auto aead_a = channel::NewCipher(channel::Cipher::kAes, ka);
  auto aead_b = channel::NewCipher(channel::Cipher::kAes, kb);
  auto gb = channel::UnwrapGrant(*aead_b, b.module_id, reply->blobs[0]);
  auto ga = channel::UnwrapGrant(*aead_a, a.module_id, reply->blobs[1]);
  ASSERT_TRUE(ga.ok() && gb.ok());
  EXPECT_EQ(ga->key, gb->key);  // both ends hold the same fresh K_c
  EXPECT_EQ(gb->conn_id, 9u);
  EXPECT_EQ(gb->io_index, 1);
  EXPECT_EQ(gb->role, channel::Role::kInput);
  EXPECT_EQ(ga->role, channel::Role::kOutput);
  EXPECT_EQ(ga->nonce, 1u);
  // Neither grant opens for the other module (the module id is bound).
  EXPECT_FALSE(channel::UnwrapGrant(*aead_a, a.module_id, reply->blobs[0]).ok());

  // A second connection: a new key, and the module's nonce goes up.
  auto second = Grant({10, 0, false, true, {{"a", 0, 1}}});
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->key.has_value());  // direct: the deployer is the source
  auto g2 = channel::UnwrapGrant(*aead_a, a.module_id, second->blobs[0]);
  ASSERT_TRUE(g2.ok());
  EXPECT_EQ(g2->nonce, 2u);
  EXPECT_EQ(g2->key, *second->key);
  EXPECT_NE(g2->key, ga->key);

  // Disable, under the next nonce.
  Bytes body;
  ASSERT_TRUE(Send(attest::EncodeDisable("a"), &body).ok());
  ByteReader r(body);
  ByteSpan blob;
  ASSERT_TRUE(r.ReadLengthPrefixed(&blob));
  auto nonce = channel::OpenDisable(*aead_a, a.module_id, blob);
  ASSERT_TRUE(nonce.ok()) << nonce.status().ToString();
  EXPECT_EQ(*nonce, 3u);
}

TEST_F(AttestationManagerTest, WrongNodeKeyOrMeasurementGetsNoKey) {
  ProvisionNative("n1", kNodeKey);
  crypto::Key other = kNodeKey;
  other[0] ^= 1;
  ModuleClaim c = Native("m", 5);
  Status s = AttestNative(c, other);  // the module runs on another node
  EXPECT_EQ(s.code(), Code::kAuthFailed) << s.ToString();
  EXPECT_NE(s.message().find("native attestation failed"), std::string::npos) << s.ToString();
  // A binary other than the one the deployer built answers with its own key.
  auto request = Begin(c);
  ASSERT_TRUE(request.ok());
  ModuleClaim tampered = c;
  tampered.measurement = Measurement(8);
  EXPECT_EQ(Send(attest::EncodeFinish("m", NativeAnswer(kNodeKey, tampered, *request))).code(),
            Code::kAuthFailed);
  // No key: no grant, no disable.
  EXPECT_EQ(Grant({1, 0, false, false, {{"m", 0, 0}}}).status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(Send(attest::EncodeDisable("m")).code(), Code::kFailedPrecondition);
}

TEST_F(AttestationManagerTest, StaleOrReplayedEvidenceIsRefused) {
  ProvisionNative("n1", kNodeKey);
  ModuleClaim c = Native("m", 5);
  auto first = Begin(c);
  ASSERT_TRUE(first.ok());
  Bytes old_answer = NativeAnswer(kNodeKey, c, *first);
  auto second = Begin(c);  // a new challenge replaces the first
  ASSERT_TRUE(second.ok());
  EXPECT_NE(*first, *second);
  EXPECT_EQ(Send(attest::EncodeFinish("m", old_answer)).code(), Code::kAuthFailed);
  // One answer per challenge: even the right answer now needs a new one.
  Status again = Send(attest::EncodeFinish("m", NativeAnswer(kNodeKey, c, *second)));
  EXPECT_EQ(again.code(), Code::kFailedPrecondition) << again.ToString();
  EXPECT_EQ(Send(attest::EncodeFinish("never-begun", old_answer)).code(),
            Code::kFailedPrecondition);
}

TEST_F(AttestationManagerTest, RefusesUnprovisionedNodesAndBackendMismatch) {
  ModuleClaim c = Native("m", 5);
  Status s = Begin(c).status();
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("not provisioned"), std::string::npos) << s.ToString();
  ProvisionNative("n1", kNodeKey);
  c.backend = tee::Backend::kSgx;
  s = Begin(c).status();
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("is a native node, not sgx"), std::string::npos) << s.ToString();
}

TEST_F(AttestationManagerTest, SancusModulesGetSpongentGrants) {
  ProvisionSancus("s1");
  ModuleClaim c{"sensor", "s1", tee::Backend::kSancus, 2, Measurement(3)};
  auto request = Begin(c);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  crypto::Key km = tee::SancusModuleKey(tee::SancusVendorKey(kSancusNodeKey, kVendor),
                                        c.measurement, tee::kEvidenceSimulated);
  auto header = tee::NewSessionHeader(tee::kEvidenceSimulated, 77);
  ASSERT_TRUE(header.ok());
  Bytes evidence = tee::SancusEvidence(km, c.module_id, *header, *request);
  ASSERT_TRUE(Send(attest::EncodeFinish("sensor", evidence)).ok());
  auto reply = Grant({4, 1, false, false, {{"sensor", 0, 0}}});
  ASSERT_TRUE(reply.ok());
  auto aead = channel::NewCipher(channel::Cipher::kSpongent,
                                 tee::SancusSessionKey(km, c.module_id, *header, *request));
  auto g = channel::UnwrapGrant(*aead, c.module_id, reply->blobs[0]);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->cipher, channel::Cipher::kSpongent);
}

TEST_F(AttestationManagerTest, ANewInstanceStartsWithoutAKey) {
  ProvisionNative("n1", kNodeKey);
  ModuleClaim c = Native("m", 5);
  ASSERT_TRUE(AttestNative(c, kNodeKey).ok());
  ASSERT_TRUE(Grant({1, 0, false, false, {{"m", 0, 0}}}).ok());
  c.module_id = 6;  // redeployed
  ASSERT_TRUE(Begin(c).ok());
  EXPECT_EQ(Grant({1, 0, false, false, {{"m", 0, 0}}}).status().code(),
            Code::kFailedPrecondition);
}

TEST_F(AttestationManagerTest, MalformedCommandsAreErrorsNotCrashes) {
  ProvisionNative("n1", kNodeKey);
  const std::vector<Bytes> bad = {
      {},
      {0},
      {99},
      {1},                                   // PROVISION without a body
      {2, 0, 1, 'm'},                        // BEGIN cut short
      {3, 0, 1, 'm', 0, 0, 0, 9},            // FINISH with a short evidence
      {4, 0, 0, 0, 1, 0, 0, 0, 0},           // GRANT with no ends
      {4, 0, 0, 0, 1, 7, 0, 0, 1, 0, 0, 0, 0, 0},  // unknown cipher
      {5},                                   // DISABLE without a name
  };
  for (const Bytes& b : bad) {
    Status s = Send(b);
    EXPECT_FALSE(s.ok()) << HexEncode(b);
  }
  // Trailing bytes after a valid command are refused too.
  Bytes begin = attest::EncodeBegin(Native("m", 5));
  begin.push_back(0);
  EXPECT_EQ(Send(begin).code(), Code::kInvalidArgument);
  // Unknown role in a grant.
  ASSERT_TRUE(AttestNative(Native("m", 5), kNodeKey).ok());
  EXPECT_EQ(Grant({1, 0, false, false, {{"m", 0, 9}}}).status().code(), Code::kInvalidArgument);
}

TEST(ManagerProtocolTest, ProvisionRoundTripsEveryField) {
  attest::AttestationTarget t;
  t.backend = tee::Backend::kSgx;
  t.allow_simulated = false;
  t.allow_debug = true;
  t.node_key = kNodeKey;
  t.vendor_id = 77;
  t.vendor_key = {1, 2, 3};
  t.huk = {4, 5};
  t.root_ca_pem = "-----BEGIN CERTIFICATE-----";
  t.root_ca_name = "ca.pem";
  t.signer_spki = {0x30, 0x59, 0x01};
  t.tcb_statuses = {"UpToDate", "SWHardeningNeeded"};
  t.min_isv_svn = 3;
  t.isv_prod_id = 9;
  t.mrsigner.assign(32, 0x5a);
  t.collateral_json = "{\"collateral\": 1}";
  t.collateral_name = "c.json";
  Bytes cmd = attest::EncodeProvision("node-x", t);
  ByteReader r(ByteSpan(cmd).subspan(1));
  std::string node;
  attest::AttestationTarget u;
  ASSERT_TRUE(attest::DecodeProvision(r, &node, &u).ok());
  EXPECT_EQ(node, "node-x");
  EXPECT_EQ(u.backend, t.backend);
  EXPECT_EQ(u.allow_simulated, false);
  EXPECT_EQ(u.allow_debug, true);
  EXPECT_EQ(u.node_key, t.node_key);
  EXPECT_EQ(u.vendor_id, 77);
  EXPECT_EQ(u.vendor_key, t.vendor_key);
  EXPECT_EQ(u.huk, t.huk);
  EXPECT_EQ(u.root_ca_pem, t.root_ca_pem);
  EXPECT_EQ(u.root_ca_name, t.root_ca_name);
  EXPECT_EQ(u.signer_spki, t.signer_spki);
  EXPECT_TRUE(u.signer_pem.empty());  // never a private key
  EXPECT_EQ(u.tcb_statuses, t.tcb_statuses);
  EXPECT_EQ(u.min_isv_svn, 3);
  EXPECT_EQ(u.isv_prod_id, std::optional<uint16_t>(9));
  EXPECT_EQ(u.mrsigner, t.mrsigner);
  EXPECT_EQ(u.collateral_json, t.collateral_json);
  EXPECT_EQ(u.collateral_name, "c.json");
  // No ISVPRODID required: none decoded, whatever the target held.
  t.isv_prod_id.reset();
  Bytes any_prod = attest::EncodeProvision("node-x", t);
  ByteReader again(ByteSpan(any_prod).subspan(1));
  ASSERT_TRUE(attest::DecodeProvision(again, &node, &u).ok());
  EXPECT_FALSE(u.isv_prod_id.has_value());
  // Every truncation is refused.
  for (size_t n = 1; n < cmd.size(); ++n) {
    ByteReader cut(ByteSpan(cmd).subspan(1, n - 1));
    attest::AttestationTarget v;
    EXPECT_FALSE(attest::DecodeProvision(cut, &node, &v).ok()) << n;
  }
}

TEST(ManagerProtocolTest, ResponsesCarryTheManagersStatus) {
  auto ok = attest::DecodeResponse(attest::EncodeResponse(Status::Ok(), Bytes{1, 2}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (Bytes{1, 2}));
  auto err = attest::DecodeResponse(attest::EncodeResponse(AuthFailed("bad quote"), Bytes{1}));
  EXPECT_EQ(err.status().code(), Code::kAuthFailed);
  EXPECT_EQ(err.status().message(), "attestation manager: bad quote");
  EXPECT_EQ(attest::DecodeResponse(Bytes{0}).status().code(), Code::kProtocol);
  EXPECT_EQ(attest::DecodeResponse(Bytes{0xff, 0xff, 0, 0}).status().code(), Code::kProtocol);
}

}  // namespace
}  // namespace aex::manager
