// Restart-and-replay by a hostile node, on every backend (issue 11): the
// test is the node. It records a whole honest session (attestation, key
// grants, events, a request, disable), restarts the module with the same id
// and platform key, and replays every recorded frame: to the fresh instance,
// and again after the deployer has attested it and keyed the same
// connection ids anew. Every replay must be refused and counted, the
// application must see nothing old, and the module must keep working.

#include <gtest/gtest.h>

#include "attest/issue.h"
#include "deployer/attestation.h"
#include "fake_node.h"
#include "platform/setup.h"
#include "runtime/channel.h"
#include "../platform/platform_test_util.h"
#include "../platform_process.h"

namespace aex::adversary {
namespace {

using channel::Role;
using tee::Backend;
using wire::ModuleStats;
using wire::MsgType;
using ptest::TempDir;

constexpr uint32_t kModuleId = 1;  // a restarted node numbers from 1 again
constexpr uint32_t kInConn = 10, kEchoConn = 11;
constexpr uint16_t kSinkIn = 0, kSinkEcho = 0;  // tests/integration/modules/sink.c
constexpr uint32_t kSinkStats = 0;

struct BackendCase {
  Backend backend;
  const char* sink;  // tests/integration/modules/sink.c built for the backend
};

void PrintTo(const BackendCase& c, std::ostream* os) { *os << tee::BackendName(c.backend); }

class ReplayTest : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    target_.backend = GetParam().backend;
    target_.module_id = kModuleId;
    target_.measurement = crypto::Sha256(ptest::ReadBytes(GetParam().sink));
    target_.module_name = "sink";
    target_.vendor_id = 0x1234;
    // The node's platform service (aex-platform), as on a real node.
    platform_ = std::make_unique<testutil::PlatformProcess>(dir_ / "node");
    std::filesystem::create_directories(dir_ / "node");
    if (backend() == Backend::kSgx) {
      PT_ASSERT_OK(platform_->Start());
      target_.root_ca_pem = ptest::ReadText(platform_->platform_dir() + "/sgx_root_ca.pem");
      auto signer = deploy::LoadOrCreateSgxSigner(dir_ / "signer.pem");
      PT_ASSERT_OK(signer);
      target_.signer_pem = *signer;
    } else {
      PT_ASSERT_OK(crypto::RandomBytes(target_.node_key));
      target_.huk.assign(target_.node_key.begin(), target_.node_key.end());
      ptest::WriteText(platform_->key_file(), HexEncode(target_.node_key) + "\n");
      PT_ASSERT_OK(platform_->Start());
    }
    Bytes sigstruct;
    if (backend() == Backend::kSgx) {
      auto made = attest::SignSigstruct(target_.signer_pem, target_.measurement);
      PT_ASSERT_OK(made);
      sigstruct = *made;
    }
    node_ = std::make_unique<FakeNode>(GetParam().sink, kModuleId, platform_->socket_path(),
                                       sigstruct);
    PT_ASSERT_OK(node_->Restart());
  }

  Backend backend() const { return GetParam().backend; }
  channel::Cipher cipher() const {
    return backend() == Backend::kSancus ? channel::Cipher::kSpongent : channel::Cipher::kAes;
  }

  // The deployer's side: challenge through the node, verify, keep K_s.
  Result<attest::Session> Attest() {
    AEX_ASSIGN_OR_RETURN(attest::Challenge c, attest::NewChallenge(target_));
    AEX_ASSIGN_OR_RETURN(Bytes evidence, node_->Call(MsgType::kAttest, 0, c.request));
    return attest::VerifyEvidence(target_, c, evidence);
  }

  Status Grant(const attest::Session& s, uint64_t nonce, uint32_t conn, uint16_t io, Role role,
               const crypto::Key& key) {
    channel::KeyGrant g{conn, io, role, cipher(), nonce, key};
    auto aead = channel::NewCipher(cipher(), s.key);
    return node_->Call(MsgType::kSetKey, 0, channel::WrapGrant(*aead, kModuleId, g)).status();
  }

  Bytes Seal(const crypto::Key& key, uint32_t conn, uint64_t counter, const std::string& text) {
    Bytes sealed;
    EXPECT_TRUE(channel::SealEvent(*channel::NewCipher(cipher(), key), conn,
                                   channel::Direction::kForward, counter, AsBytes(text), &sealed)
                    .ok());
    return sealed;
  }

  // What the application itself received: events on sink_in, requests echoed.
  std::pair<uint64_t, uint64_t> App() {
    auto r = node_->Call(MsgType::kCallEntry, kSinkStats, {});
    EXPECT_TRUE(r.ok() && r->size() == 56) << r.status().ToString();
    if (!r.ok() || r->size() != 56) return {~0ull, ~0ull};
    return {LoadU64(r->data()), LoadU64(r->data() + 48)};
  }

  uint64_t Stat(int field) {
    auto s = node_->Stats();
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? s->values[field] : ~0ull;
  }

  // An honest session on the current instance: attestation, both grants,
  // three events, one request; returns the first recorded frame's index.
  void HonestSession(const std::string& tag) {
    auto s = Attest();
    PT_ASSERT_OK(s);
    crypto::Key k_in, k_echo;
    PT_ASSERT_OK(crypto::RandomBytes(k_in));
    PT_ASSERT_OK(crypto::RandomBytes(k_echo));
    PT_ASSERT_OK(Grant(*s, 1, kInConn, kSinkIn, Role::kInput, k_in));
    PT_ASSERT_OK(Grant(*s, 2, kEchoConn, kSinkEcho, Role::kHandler, k_echo));
    for (uint64_t i = 1; i <= 3; ++i) {
      PT_ASSERT_OK(node_->Post(MsgType::kEvent, kInConn,
                               Seal(k_in, kInConn, i, tag + std::to_string(i))));
    }
    auto response = node_->Call(MsgType::kRequest, kEchoConn, Seal(k_echo, kEchoConn, 1, tag));
    PT_ASSERT_OK(response);
    session_ = *s;
  }

  // The module still works: a fresh attestation and grants, an event and a
  // request flow through.
  void ExpectStillWorks() {
    auto before = App();
    auto s = Attest();
    PT_ASSERT_OK(s);
    crypto::Key k_in, k_echo;
    PT_ASSERT_OK(crypto::RandomBytes(k_in));
    PT_ASSERT_OK(crypto::RandomBytes(k_echo));
    PT_ASSERT_OK(Grant(*s, 1, kInConn, kSinkIn, Role::kInput, k_in));
    PT_ASSERT_OK(Grant(*s, 2, kEchoConn, kSinkEcho, Role::kHandler, k_echo));
    PT_ASSERT_OK(node_->Post(MsgType::kEvent, kInConn, Seal(k_in, kInConn, 1, "fresh")));
    PT_ASSERT_OK(node_->Call(MsgType::kRequest, kEchoConn, Seal(k_echo, kEchoConn, 1, "q")));
    auto after = App();
    EXPECT_EQ(after.first, before.first + 1);
    EXPECT_EQ(after.second, before.second + 1);
  }

  // Replays every recorded frame of [from, to) and expects each to be refused.
  void ReplayAllRefused(size_t from, size_t to) {
    const std::vector<RecordedFrame> frames(node_->recorded().begin() + from,
                                            node_->recorded().begin() + to);
    for (const RecordedFrame& f : frames) {
      SCOPED_TRACE(wire::TypeName(f.type));
      auto r = node_->Replay(f);
      if (f.type == MsgType::kAttest) {
        // The module answers, but with fresh randomness: a new session the
        // recorded one has nothing in common with (checked below).
        continue;
      }
      if (f.type != MsgType::kEvent && f.type != MsgType::kCallEntry) {
        EXPECT_FALSE(r.ok()) << "replayed " << wire::TypeName(f.type) << " accepted";
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<testutil::PlatformProcess> platform_;
  attest::AttestationTarget target_;
  std::unique_ptr<FakeNode> node_;
  attest::Session session_;
};

// Restart the module behind the deployer's back and replay the whole
// recorded session (attestation, grants, events, request, disable).
TEST_P(ReplayTest, RecordedSessionIsRefusedByARestartedInstance) {
  HonestSession("old ");
  auto first_app = App();
  ASSERT_EQ(first_app.first, 3u);
  ASSERT_EQ(first_app.second, 1u);
  // Disable under the recorded session, then restart: an honest operator's
  // redeploy, or the node's own doing.
  auto aead = channel::NewCipher(cipher(), session_.key);
  PT_ASSERT_OK(node_->Call(MsgType::kDisable, 0, channel::SealDisable(*aead, kModuleId, 3)));
  const uint64_t old_instance = session_.instance_id;
  const size_t recorded = node_->recorded().size();

  PT_ASSERT_OK(node_->Restart());
  EXPECT_NE(Stat(ModuleStats::kInstanceId), old_instance) << "a new instance, a new id";
  ReplayAllRefused(0, recorded);
  EXPECT_EQ(App(), std::make_pair(uint64_t{0}, uint64_t{0})) << "the application saw old input";
  EXPECT_EQ(Stat(ModuleStats::kGrantsRejected), 3u);  // two grants and the disable
  EXPECT_EQ(Stat(ModuleStats::kGrantsAccepted), 0u);
  EXPECT_EQ(Stat(ModuleStats::kRejectedRouting), 4u);  // three events and the request
  EXPECT_EQ(Stat(ModuleStats::kDisabled), 0u);
  ExpectStillWorks();
}

// The deployer attests the restarted instance and keys the same connection
// ids again (counters from 1): the node replays the recorded frames into
// those live connections.
TEST_P(ReplayTest, RecordedFramesAreRefusedOnReKeyedConnections) {
  HonestSession("old ");
  const size_t recorded = node_->recorded().size();
  const attest::Session old_session = session_;
  PT_ASSERT_OK(node_->Restart());
  HonestSession("new ");
  EXPECT_NE(session_.key, old_session.key);
  EXPECT_NE(session_.instance_id, old_session.instance_id);
  auto before = App();
  ASSERT_EQ(before.first, 3u);
  const uint64_t auth = Stat(ModuleStats::kRejectedAuth);
  ReplayAllRefused(0, recorded);
  EXPECT_EQ(App(), before) << "the application saw old input";
  EXPECT_EQ(Stat(ModuleStats::kGrantsRejected), 2u);
  EXPECT_EQ(Stat(ModuleStats::kRejectedAuth), auth + 4);  // old events and request
  ExpectStillWorks();
}

// The same instance, attested again: everything of its earlier session
// (grants, disable) stops opening, and replaying the new session's grants is
// refused as stale.
TEST_P(ReplayTest, EarlierSessionOfTheSameInstanceIsDead) {
  HonestSession("one ");
  const attest::Session old_session = session_;
  auto old_disable = channel::SealDisable(*channel::NewCipher(cipher(), old_session.key),
                                          kModuleId, 99);
  auto fresh = Attest();
  PT_ASSERT_OK(fresh);
  EXPECT_NE(fresh->key, old_session.key);
  EXPECT_EQ(fresh->instance_id, old_session.instance_id);
  EXPECT_FALSE(node_->Call(MsgType::kDisable, 0, old_disable).ok());
  crypto::Key k;
  PT_ASSERT_OK(crypto::RandomBytes(k));
  PT_ASSERT_OK(Grant(*fresh, 1, kInConn, kSinkIn, Role::kInput, k));
  const RecordedFrame grant = node_->recorded().back();
  EXPECT_FALSE(node_->Replay(grant).ok()) << "a replayed grant of the live session";
  EXPECT_EQ(Stat(ModuleStats::kGrantsRejected), 2u);
  EXPECT_EQ(Stat(ModuleStats::kDisabled), 0u);
  ExpectStillWorks();
}

// A module waiting for the response to its own request queues what else
// arrives meanwhile; a node flooding it then must not exhaust its memory:
// beyond the bound, frames are dropped and counted, and the module goes on.
TEST(BoundedWait, FramesBeyondTheBoundAreDroppedAndCounted) {
  TempDir dir;
  crypto::Key k_n;
  PT_ASSERT_OK(crypto::RandomBytes(k_n));
  testutil::PlatformProcess platform(dir / "node");
  std::filesystem::create_directories(dir / "node");
  ptest::WriteText(platform.key_file(), HexEncode(k_n) + "\n");
  PT_ASSERT_OK(platform.Start());
  FakeNode node(AEX_ADV_PING_NATIVE, kModuleId, platform.socket_path());
  PT_ASSERT_OK(node.Restart());
  attest::AttestationTarget t;
  t.module_id = kModuleId;
  t.measurement = crypto::Sha256(ptest::ReadBytes(AEX_ADV_PING_NATIVE));
  t.node_key = k_n;
  auto c = attest::NewChallenge(t);
  PT_ASSERT_OK(c);
  auto evidence = node.Call(MsgType::kAttest, 0, c->request);
  PT_ASSERT_OK(evidence);
  auto s = attest::VerifyEvidence(t, *c, *evidence);
  PT_ASSERT_OK(s);
  crypto::Key k;
  PT_ASSERT_OK(crypto::RandomBytes(k));
  channel::KeyGrant g{20, 0, Role::kRequest, channel::Cipher::kAes, 1, k};
  crypto::AesGcm mgmt(s->key);
  PT_ASSERT_OK(node.Call(MsgType::kSetKey, 0, channel::WrapGrant(mgmt, kModuleId, g)));
  // ping_call (entry 2) issues a request and blocks for the response.
  auto call = node.SendOnly(MsgType::kCallEntry, 2, AsBytes("q"));
  PT_ASSERT_OK(call);
  MsgType type{};
  uint32_t request_id = 0;
  Bytes payload;
  PT_ASSERT_OK(node.NextFrame(&type, &request_id, &payload));
  ASSERT_EQ(type, MsgType::kRequest);
  constexpr int kFlood = 1100, kBound = 1024;
  for (int i = 0; i < kFlood; ++i) PT_ASSERT_OK(node.SendOnly(MsgType::kModuleStats, 0, {}));
  auto op = wire::ModuleOp::Parse(payload);
  PT_ASSERT_OK(op);
  crypto::AesGcm conn(k);
  uint64_t counter = 0;
  Bytes plain, response;
  PT_ASSERT_OK(channel::OpenEvent(conn, 20, channel::Direction::kForward, op->data, &counter,
                                  &plain));
  PT_ASSERT_OK(channel::SealEvent(conn, 20, channel::Direction::kBackward, counter,
                                  AsBytes("a"), &response));
  PT_ASSERT_OK(node.Answer(request_id, response));
  PT_ASSERT_OK(node.AwaitResultOf(*call));  // the call returned: the module goes on
  auto stats = node.Stats();
  PT_ASSERT_OK(stats);
  EXPECT_EQ(stats->values[ModuleStats::kDeferredDropped], uint64_t{kFlood - kBound});
}

std::vector<BackendCase> Cases() {
  std::vector<BackendCase> cases = {{Backend::kNative, AEX_ADV_SINK_NATIVE},
                                    {Backend::kSgx, AEX_ADV_SINK_SGX},
                                    {Backend::kTrustZone, AEX_ADV_SINK_TRUSTZONE}};
#ifdef AEX_ADV_SINK_SANCUS
  cases.push_back({Backend::kSancus, AEX_ADV_SINK_SANCUS});
#endif
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Backends, ReplayTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) {
                           return std::string(tee::BackendName(info.param.backend));
                         });

}  // namespace
}  // namespace aex::adversary
