// Attacks by an untrusted node, network or deployer impostor against real
// module processes. The test plays the attacker with direct access to the
// node's management port (which is what an untrusted event manager has).
// Every attack must be rejected by the receiving module's runtime, counted in
// its ModuleStats, and must leave the module working: each test ends by
// sending a valid event and checking it is accepted.

#include <gtest/gtest.h>

#include "deployer/attestation.h"
#include "harness.h"
#include "platform/native/native_keys.h"
#include "test_modules.h"
#include "wire/messages.h"

namespace aex::itest {
namespace {

using channel::Direction;
using channel::Role;

class AttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(node_.Start());
    ASSERT_OK_AND_ASSIGN(sink_, d_.Load(node_, sink::kBin, "sink"));
    ASSERT_OK_AND_ASSIGN(in_, d_.ConnectDirect(*sink_, Role::kInput, sink::kIn));
    ASSERT_OK_AND_ASSIGN(handler_, d_.ConnectDirect(*sink_, Role::kHandler, sink::kEcho));
    ASSERT_OK_AND_ASSIGN(client_, d_.Client(node_));
  }

  // Events the sink application itself received on sink_in.
  uint64_t AppEvents() {
    auto r = d_.CallEntry(*sink_, sink::kStats);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? GetU64(*r, 0) : 0;
  }

  int64_t Stat(const std::string& field) { return d_.Stat(*sink_, field); }

  // A snapshot of the counters an attack may change.
  struct Counters {
    int64_t accepted, auth, replay, routing, malformed, grants_ok, grants_bad;
    uint64_t app;
  };
  Counters Snapshot() {
    return {Stat("events_accepted"), Stat("rejected_auth"),   Stat("rejected_replay"),
            Stat("rejected_routing"), Stat("rejected_malformed"), Stat("grants_accepted"),
            Stat("grants_rejected"),  AppEvents()};
  }

  // Sends `sealed` on the input connection and expects it to be rejected
  // with exactly the counter `field` incremented and nothing delivered.
  void ExpectEventRejected(ByteSpan sealed, const std::string& field, uint32_t conn_id = 0) {
    Counters before = Snapshot();
    ASSERT_OK(d_.SendSealed(in_, sealed, conn_id));
    Counters after = Snapshot();
    EXPECT_EQ(after.accepted, before.accepted);
    EXPECT_EQ(after.app, before.app) << "the application saw a rejected event";
    EXPECT_EQ(after.auth - before.auth, field == "rejected_auth" ? 1 : 0);
    EXPECT_EQ(after.replay - before.replay, field == "rejected_replay" ? 1 : 0);
    EXPECT_EQ(after.routing - before.routing, field == "rejected_routing" ? 1 : 0);
  }

  // The module still accepts a valid event and answers a valid request.
  void ExpectStillWorks() {
    Counters before = Snapshot();
    ASSERT_OK(d_.SendEvent(in_, AsBytes("valid after the attack")));
    Counters after = Snapshot();
    EXPECT_EQ(after.accepted, before.accepted + 1);
    EXPECT_EQ(after.app, before.app + 1);
    EXPECT_EQ(after.auth, before.auth);
    EXPECT_EQ(after.replay, before.replay);
    EXPECT_EQ(after.routing, before.routing);
    auto r = d_.Request(handler_, AsBytes("echo?"));
    ASSERT_OK(r);
    EXPECT_EQ(std::string(r->begin(), r->end()), "echo?");
  }

  TempDir dir_;
  NodeProcess node_{dir_.Sub("node"), {.name = "victim"}};
  TestDeployer d_;
  TestModule* sink_ = nullptr;
  TestConnection in_, handler_;
  deploy::NodeClient* client_ = nullptr;
};

// ------------------------------------------------------------------- events

TEST_F(AttackTest, FlippedCiphertextBitIsRejected) {
  Bytes sealed = d_.Seal(in_, AsBytes("attack at dawn"));
  Bytes bad = sealed;
  bad[8 + 3] ^= 0x04;  // a ciphertext bit
  ExpectEventRejected(bad, "rejected_auth");
  bad = sealed;
  bad.back() ^= 0x80;  // a tag bit
  ExpectEventRejected(bad, "rejected_auth");
  // Truncated below the overhead and a zero-length body are rejected too.
  ExpectEventRejected(ByteSpan(sealed).first(channel::kEventOverhead - 1), "rejected_auth");
  ExpectEventRejected(ByteSpan(), "rejected_auth");
  ExpectStillWorks();
  EXPECT_EQ(Stat("rejected_auth"), 4);
}

TEST_F(AttackTest, FlippedCounterIsRejected) {
  Bytes sealed = d_.Seal(in_, AsBytes("counter 1"));
  Bytes bad = sealed;
  bad[7] ^= 0x02;  // counter 1 -> 3: the nonce changes, the tag no longer verifies
  ExpectEventRejected(bad, "rejected_auth");
  bad = sealed;
  bad[0] ^= 0x80;  // beyond kMaxCounter
  ExpectEventRejected(bad, "rejected_auth");
  bad = sealed;
  bad[7] ^= 0x01;  // counter 0
  ExpectEventRejected(bad, "rejected_auth");
  // The untouched event is still fresh and is accepted.
  Counters before = Snapshot();
  ASSERT_OK(d_.SendSealed(in_, sealed));
  EXPECT_EQ(Snapshot().accepted, before.accepted + 1);
  ExpectStillWorks();
}

TEST_F(AttackTest, ReplayedEventIsRejected) {
  Bytes sealed = d_.Seal(in_, AsBytes("pay 100"));
  Counters before = Snapshot();
  ASSERT_OK(d_.SendSealed(in_, sealed));
  EXPECT_EQ(Snapshot().accepted, before.accepted + 1);
  ExpectEventRejected(sealed, "rejected_replay");
  ExpectEventRejected(sealed, "rejected_replay");
  ExpectStillWorks();
  // The replay after a newer event is still a replay.
  ExpectEventRejected(sealed, "rejected_replay");
  EXPECT_EQ(Stat("rejected_replay"), 3);
}

TEST_F(AttackTest, ReorderedEventIsRejected) {
  Bytes five = d_.SealWithCounter(in_, 5, AsBytes("five"));
  Bytes six = d_.SealWithCounter(in_, 6, AsBytes("six"));
  in_.counter = 6;
  Counters before = Snapshot();
  ASSERT_OK(d_.SendSealed(in_, six));
  EXPECT_EQ(Snapshot().accepted, before.accepted + 1);
  ExpectEventRejected(five, "rejected_replay");
  ExpectStillWorks();  // counter 7
}

TEST_F(AttackTest, EventOnAnotherConnectionIdIsRejected) {
  Bytes sealed = d_.Seal(in_, AsBytes("for connection in_"));
  // Another input connection of the same module, with its own key.
  ASSERT_OK_AND_ASSIGN(TestConnection other, d_.ConnectDirect(*sink_, Role::kInput, sink::kIn2));
  ExpectEventRejected(sealed, "rejected_auth", other.conn_id);
  // Even with the same key on both connections, the nonce binds the
  // connection id.
  TestConnection same_key = d_.NewConnection();
  ASSERT_OK(d_.Grant(*sink_, same_key.conn_id, sink::kIn2, Role::kInput, in_.key));
  ExpectEventRejected(sealed, "rejected_auth", same_key.conn_id);
  // A connection id the module does not know.
  TestConnection unknown = d_.NewConnection();
  ExpectEventRejected(sealed, "rejected_routing", unknown.conn_id);
  // The event itself was never consumed: on its own connection it is fresh.
  Counters before = Snapshot();
  ASSERT_OK(d_.SendSealed(in_, sealed));
  EXPECT_EQ(Snapshot().accepted, before.accepted + 1);
  ExpectStillWorks();
}

TEST_F(AttackTest, EventAddressedToTheWrongRoleIsRejected) {
  // An input connection used as a request.
  Counters before = Snapshot();
  Bytes sealed = d_.Seal(in_, AsBytes("not a request"));
  auto r = client_->Request(sink_->id, in_.conn_id, sealed);
  EXPECT_FALSE(r.ok());
  Counters after = Snapshot();
  EXPECT_EQ(after.routing, before.routing + 1);
  EXPECT_EQ(Stat("requests_handled"), 0);

  // A handler connection used as an input.
  Bytes as_event = d_.Seal(handler_, AsBytes("not an event"));
  ExpectEventRejected(as_event, "rejected_routing", handler_.conn_id);

  // A response (backward direction) reflected back as an event.
  Bytes reflected = d_.SealWithCounter(in_, ++in_.counter, AsBytes("reflected"),
                                       Direction::kBackward);
  ExpectEventRejected(reflected, "rejected_auth");
  ExpectStillWorks();
  EXPECT_EQ(Stat("requests_handled"), 1);  // only ExpectStillWorks' request
}

// --------------------------------------------------------------- key grants

TEST_F(AttackTest, KeyGrantForAnotherModuleIsRejected) {
  ASSERT_OK_AND_ASSIGN(TestModule * other, d_.Load(node_, sink::kBin, "other"));
  crypto::Key k_c;
  ASSERT_OK(crypto::RandomBytes(k_c));
  channel::KeyGrant g;
  g.conn_id = d_.NewConnection().conn_id;
  g.io_index = sink::kIn2;
  g.role = Role::kInput;
  g.key = k_c;

  // (a) Under the victim's K_m but bound to the other module's id.
  {
    crypto::AesGcm aead(sink_->key);
    g.nonce = d_.NextNonce(*sink_);
    Bytes blob = channel::WrapGrant(aead, other->id, g);
    Counters before = Snapshot();
    Status s = client_->SetKey(sink_->id, blob);
    EXPECT_EQ(s.code(), Code::kAuthFailed) << s.ToString();
    EXPECT_EQ(Snapshot().grants_bad, before.grants_bad + 1);
  }
  // (b) Under the other module's K_m, with the victim's id.
  {
    crypto::AesGcm aead(other->key);
    g.nonce = d_.NextNonce(*sink_);
    Bytes blob = channel::WrapGrant(aead, sink_->id, g);
    Counters before = Snapshot();
    Status s = client_->SetKey(sink_->id, blob);
    EXPECT_EQ(s.code(), Code::kAuthFailed) << s.ToString();
    EXPECT_EQ(Snapshot().grants_bad, before.grants_bad + 1);
  }
  // (c) A genuine grant for the other module, redirected to the victim by
  // the node.
  {
    Bytes blob = d_.WrapGrant(*other, g.conn_id, sink::kIn2, Role::kInput, k_c);
    Counters before = Snapshot();
    Status s = client_->SetKey(sink_->id, blob);
    EXPECT_EQ(s.code(), Code::kAuthFailed) << s.ToString();
    EXPECT_EQ(Snapshot().grants_bad, before.grants_bad + 1);
    EXPECT_OK(client_->SetKey(other->id, blob));  // where it belongs
  }
  // None of them installed a connection at the victim.
  TestConnection probe;
  probe.conn_id = g.conn_id;
  probe.key = k_c;
  Bytes sealed = d_.SealWithCounter(probe, 1, AsBytes("via a stolen grant"));
  ExpectEventRejected(sealed, "rejected_routing", g.conn_id);
  EXPECT_EQ(d_.Stat(*other, "grants_accepted"), 1);
  ExpectStillWorks();
  // And a valid grant (fresh nonce) is still accepted afterwards.
  ASSERT_OK_AND_ASSIGN(TestConnection fresh, d_.ConnectDirect(*sink_, Role::kInput, sink::kIn2));
  Counters before = Snapshot();
  ASSERT_OK(d_.SendEvent(fresh, AsBytes("on a fresh connection")));
  EXPECT_EQ(Snapshot().accepted, before.accepted + 1);
}

TEST_F(AttackTest, SetKeyWithWrongTagIsRejected) {
  TestConnection c = d_.NewConnection();
  Bytes blob = d_.WrapGrant(*sink_, c.conn_id, sink::kIn2, Role::kInput, c.key);
  ASSERT_EQ(blob.size(), channel::kGrantSize);
  std::vector<std::pair<std::string, Bytes>> forged;
  forged.push_back({"tag", blob});
  forged.back().second.back() ^= 0x01;
  forged.push_back({"wrapped key", blob});
  forged.back().second[16] ^= 0x01;
  forged.push_back({"io index (slot move)", blob});
  forged.back().second[5] ^= 0x01;
  forged.push_back({"role", blob});
  forged.back().second[6] = static_cast<uint8_t>(Role::kHandler);
  forged.push_back({"conn id", blob});
  forged.back().second[0] ^= 0x01;
  forged.push_back({"cipher", blob});
  forged.back().second[7] = static_cast<uint8_t>(channel::Cipher::kSpongent);
  forged.push_back({"re-key bit", blob});
  forged.back().second[7] ^= 0x80;
  forged.push_back({"nonce", blob});
  forged.back().second[15] ^= 0x01;
  forged.push_back({"truncated", Bytes(blob.begin(), blob.end() - 1)});
  for (const auto& [what, bad] : forged) {
    SCOPED_TRACE(what);
    Counters before = Snapshot();
    EXPECT_FALSE(client_->SetKey(sink_->id, bad).ok());
    Counters after = Snapshot();
    EXPECT_EQ(after.grants_bad, before.grants_bad + 1);
    EXPECT_EQ(after.grants_ok, before.grants_ok);
  }
  // The genuine blob still works (its nonce was never consumed).
  ASSERT_OK(client_->SetKey(sink_->id, blob));
  c.module = sink_;
  Counters before = Snapshot();
  ASSERT_OK(d_.SendEvent(c, AsBytes("keyed")));
  EXPECT_EQ(Snapshot().accepted, before.accepted + 1);
  ExpectStillWorks();
}

TEST_F(AttackTest, ReplayedSetKeyIsRejected) {
  // Grant 1 keys connection X with k1; grant 2 re-keys X with k2.
  TestConnection x1 = d_.NewConnection();
  x1.module = sink_;
  Bytes grant1 = d_.WrapGrant(*sink_, x1.conn_id, sink::kIn2, Role::kInput, x1.key);
  ASSERT_OK(client_->SetKey(sink_->id, grant1));
  TestConnection x2 = x1;
  ASSERT_OK(crypto::RandomBytes(x2.key));
  Bytes grant2 = d_.WrapGrant(*sink_, x2.conn_id, sink::kIn2, Role::kInput, x2.key);
  ASSERT_OK(client_->SetKey(sink_->id, grant2));

  // Replaying either grant is refused as stale.
  for (const Bytes* replay : {&grant2, &grant1}) {
    Counters before = Snapshot();
    Status s = client_->SetKey(sink_->id, *replay);
    EXPECT_EQ(s.code(), Code::kReplay) << s.ToString();
    EXPECT_EQ(Snapshot().grants_bad, before.grants_bad + 1);
  }
  // A fresh grant with an old nonce is refused too.
  {
    crypto::AesGcm aead(sink_->key);
    channel::KeyGrant g;
    g.conn_id = x1.conn_id;
    g.io_index = sink::kIn2;
    g.role = Role::kInput;
    g.nonce = 1;
    g.key = x1.key;
    Status s = client_->SetKey(sink_->id, channel::WrapGrant(aead, sink_->id, g));
    EXPECT_EQ(s.code(), Code::kReplay) << s.ToString();
  }
  // X is still keyed with k2: an event under k1 fails, under k2 passes.
  Counters before = Snapshot();
  ASSERT_OK(d_.SendEvent(x1, AsBytes("old key")));
  Counters mid = Snapshot();
  EXPECT_EQ(mid.auth, before.auth + 1);
  EXPECT_EQ(mid.accepted, before.accepted);
  x2.counter = x1.counter;
  ASSERT_OK(d_.SendEvent(x2, AsBytes("new key")));
  EXPECT_EQ(Snapshot().accepted, mid.accepted + 1);
  ExpectStillWorks();
}

TEST_F(AttackTest, ReKeyKeepsCountersAndRetiresTheOldKey) {
  ASSERT_OK(d_.SendEvent(in_, AsBytes("one")));
  ASSERT_OK(d_.SendEvent(in_, AsBytes("two")));  // counter 2 under k1
  TestConnection old_key = in_;
  TestConnection new_key = in_;
  ASSERT_OK(crypto::RandomBytes(new_key.key));
  {
    crypto::AesGcm aead(sink_->key);
    channel::KeyGrant g;
    g.conn_id = in_.conn_id;
    g.io_index = sink::kIn;
    g.role = Role::kInput;
    g.nonce = d_.NextNonce(*sink_);
    g.key = new_key.key;
    g.rekey = true;
    ASSERT_OK(client_->SetKey(sink_->id, channel::WrapGrant(aead, sink_->id, g)));
  }
  // Until the sender switches, the old key still opens fresh counters.
  Counters before = Snapshot();
  ASSERT_OK(d_.SendSealed(in_, d_.SealWithCounter(old_key, 3, AsBytes("three, old key"))));
  EXPECT_EQ(Snapshot().accepted, before.accepted + 1);
  // Counters continue across the key change: no replay under the new key.
  ExpectEventRejected(d_.SealWithCounter(new_key, 3, AsBytes("three again")), "rejected_replay");
  ExpectEventRejected(d_.SealWithCounter(new_key, 1, AsBytes("one again")), "rejected_replay");
  before = Snapshot();
  ASSERT_OK(d_.SendSealed(in_, d_.SealWithCounter(new_key, 4, AsBytes("four, new key"))));
  EXPECT_EQ(Snapshot().accepted, before.accepted + 1);
  // Once an event under the new key arrived, the old key is retired.
  ExpectEventRejected(d_.SealWithCounter(old_key, 5, AsBytes("five, old key")), "rejected_auth");
  in_ = new_key;
  in_.counter = 4;
  ExpectStillWorks();
}

// ------------------------------------------------------------------ disable

TEST_F(AttackTest, ForgedDisableIsRejectedAndRealDisableStopsEvents) {
  // Forged disables: wrong tag, another module's id, another K_m.
  {
    crypto::AesGcm aead(sink_->key);
    Bytes bad = channel::SealDisable(aead, sink_->id, d_.NextNonce(*sink_));
    bad.back() ^= 1;
    EXPECT_FALSE(client_->Disable(sink_->id, bad).ok());
    Bytes other_id = channel::SealDisable(aead, sink_->id + 1, d_.NextNonce(*sink_));
    EXPECT_FALSE(client_->Disable(sink_->id, other_id).ok());
    crypto::Key wrong;
    ASSERT_OK(crypto::RandomBytes(wrong));
    crypto::AesGcm wrong_aead(wrong);
    EXPECT_FALSE(
        client_->Disable(sink_->id, channel::SealDisable(wrong_aead, sink_->id, 1000)).ok());
  }
  EXPECT_EQ(Stat("disabled"), 0);
  ExpectStillWorks();

  // A real disable.
  ASSERT_OK(d_.Disable(*sink_));
  EXPECT_EQ(Stat("disabled"), 1);
  // (Snapshot() would call an entry, which a disabled module refuses.)
  const int64_t accepted = Stat("events_accepted"), routing = Stat("rejected_routing");
  ASSERT_OK(d_.SendEvent(in_, AsBytes("after disable")));
  EXPECT_EQ(Stat("events_accepted"), accepted);
  EXPECT_EQ(Stat("rejected_routing"), routing + 1);
  // Requests, entries and new keys are refused as well.
  EXPECT_FALSE(d_.Request(handler_, AsBytes("echo?")).ok());
  auto entry = d_.CallEntry(*sink_, sink::kStats);
  EXPECT_EQ(entry.status().code(), Code::kDisabled) << entry.status().ToString();
  TestConnection c = d_.NewConnection();
  Status s = d_.Grant(*sink_, c.conn_id, sink::kIn, Role::kInput, c.key);
  EXPECT_EQ(s.code(), Code::kDisabled) << s.ToString();
  // The process keeps running (and answering status) in the disabled state.
  EXPECT_EQ(d_.State(*sink_), "running");

  // Other modules on the node are unaffected.
  ASSERT_OK_AND_ASSIGN(TestModule * other, d_.Load(node_, sink::kBin, "other"));
  ASSERT_OK_AND_ASSIGN(TestConnection to_other, d_.ConnectDirect(*other, Role::kInput, sink::kIn));
  ASSERT_OK(d_.SendEvent(to_other, AsBytes("still alive")));
  EXPECT_EQ(d_.Stat(*other, "events_accepted"), 1);
}

// -------------------------------------------------------------- attestation

TEST_F(AttackTest, AttestationWithWrongMeasurementOrNodeKeyFails) {
  deploy::AttestationTarget target;
  target.backend = tee::Backend::kNative;
  target.module_id = sink_->id;
  target.measurement = sink_->measurement;
  target.node_key = node_.node_key();

  // Another binary's measurement.
  {
    ASSERT_OK_AND_ASSIGN(Bytes pong_binary, ReadFile(pong::kBin));
    auto t = target;
    t.measurement = crypto::Sha256(pong_binary);
    auto r = deploy::AttestModule(*client_, t);
    EXPECT_EQ(r.status().code(), Code::kAuthFailed) << r.status().ToString();
    t.measurement = sink_->measurement;
    t.measurement[31] ^= 1;  // one bit off
    r = deploy::AttestModule(*client_, t);
    EXPECT_EQ(r.status().code(), Code::kAuthFailed) << r.status().ToString();
  }
  // Another node key (the module runs on a node with another K_N).
  {
    auto t = target;
    ASSERT_OK(crypto::RandomBytes(t.node_key));
    auto r = deploy::AttestModule(*client_, t);
    EXPECT_EQ(r.status().code(), Code::kAuthFailed) << r.status().ToString();
  }
  // Evidence checked directly: for another challenge, another module id.
  {
    uint8_t challenge[32];
    ASSERT_OK(crypto::RandomBytes(challenge));
    ASSERT_OK_AND_ASSIGN(Bytes evidence, client_->Attest(sink_->id, challenge));
    EXPECT_OK(deploy::VerifyNativeEvidence(target, challenge, evidence));
    uint8_t other_challenge[32];
    ASSERT_OK(crypto::RandomBytes(other_challenge));
    EXPECT_EQ(deploy::VerifyNativeEvidence(target, other_challenge, evidence).status().code(),
              Code::kAuthFailed);
    auto t = target;
    t.module_id = sink_->id + 1;
    EXPECT_EQ(deploy::VerifyNativeEvidence(t, challenge, evidence).status().code(),
              Code::kAuthFailed);
    Bytes flipped = evidence;
    flipped[0] ^= 1;
    EXPECT_EQ(deploy::VerifyNativeEvidence(target, challenge, flipped).status().code(),
              Code::kAuthFailed);
  }
  // A module on a second node (another K_N) does not attest under this
  // node's key, but does under its own.
  {
    NodeProcess other_node(dir_.Sub("other"), {.name = "other"});
    ASSERT_OK(other_node.Start());
    ASSERT_OK_AND_ASSIGN(TestModule * remote, d_.LoadOnly(other_node, sink::kBin, "remote"));
    ASSERT_OK_AND_ASSIGN(deploy::NodeClient * other_client, d_.Client(other_node));
    auto t = target;
    t.module_id = remote->id;
    auto r = deploy::AttestModule(*other_client, t);
    EXPECT_EQ(r.status().code(), Code::kAuthFailed) << r.status().ToString();
    EXPECT_OK(d_.Attest(*remote));
    d_.DropClient(other_node);
  }
  // The honest attestation yields a fresh session key: neither K_m nor the
  // key of any earlier attestation of this instance, whose grants then no
  // longer open.
  const crypto::Key old_session = sink_->key;
  Bytes old_grant = d_.WrapGrant(*sink_, 77, sink::kIn, Role::kInput, in_.key);
  ASSERT_OK_AND_ASSIGN(attest::Session s, deploy::AttestModule(*client_, target));
  EXPECT_FALSE(s.key == old_session);
  EXPECT_FALSE(s.key == tee::DeriveNativeModuleKey(node_.node_key(), sink_->measurement,
                                                   sink_->id));
  EXPECT_EQ(s.instance_id, sink_->instance);
  Counters before = Snapshot();
  EXPECT_FALSE(client_->SetKey(sink_->id, old_grant).ok());
  EXPECT_EQ(Snapshot().grants_bad, before.grants_bad + 1);
  ExpectStillWorks();
}

// ---------------------------------------------------------------- responses

TEST_F(AttackTest, ForgedResponseIsRejectedByTheDeployer) {
  const uint64_t counter = ++handler_.counter;
  Bytes request = d_.SealWithCounter(handler_, counter, AsBytes("what is the balance?"));
  ASSERT_OK_AND_ASSIGN(Bytes response, client_->Request(sink_->id, handler_.conn_id, request));
  crypto::AesGcm aead(handler_.key);
  uint64_t got = 0;
  Bytes plain;

  // The genuine response opens, backward, with the request's counter.
  ASSERT_OK(channel::OpenEvent(aead, handler_.conn_id, Direction::kBackward, response, &got,
                               &plain));
  EXPECT_EQ(got, counter);
  EXPECT_EQ(std::string(plain.begin(), plain.end()), "what is the balance?");

  // Any flipped bit is detected.
  for (size_t i : {size_t{2}, size_t{8}, size_t{8 + 5}, response.size() - 1}) {
    SCOPED_TRACE("byte " + std::to_string(i));
    Bytes bad = response;
    bad[i] ^= 0x10;
    EXPECT_FALSE(
        channel::OpenEvent(aead, handler_.conn_id, Direction::kBackward, bad, &got, &plain).ok());
  }
  // A response does not open as a forward event nor on another connection.
  EXPECT_FALSE(channel::OpenEvent(aead, handler_.conn_id, Direction::kForward, response, &got,
                                  &plain)
                   .ok());
  EXPECT_FALSE(channel::OpenEvent(aead, handler_.conn_id + 1, Direction::kBackward, response,
                                  &got, &plain)
                   .ok());
  // A node replaying an old response to a new request is caught by the
  // counter check (the harness's Request does it).
  const uint64_t next = ++handler_.counter;
  Bytes request2 = d_.SealWithCounter(handler_, next, AsBytes("and now?"));
  ASSERT_OK_AND_ASSIGN(Bytes response2, client_->Request(sink_->id, handler_.conn_id, request2));
  ASSERT_OK(channel::OpenEvent(aead, handler_.conn_id, Direction::kBackward, response, &got,
                               &plain));
  EXPECT_NE(got, next) << "an old response must not pass for the new one";
  ASSERT_OK(channel::OpenEvent(aead, handler_.conn_id, Direction::kBackward, response2, &got,
                               &plain));
  EXPECT_EQ(got, next);

  // A replayed request is refused by the handler (no second response).
  Counters before = Snapshot();
  EXPECT_FALSE(client_->Request(sink_->id, handler_.conn_id, request).ok());
  EXPECT_EQ(Snapshot().replay, before.replay + 1);
  ExpectStillWorks();
}

}  // namespace
}  // namespace aex::itest
