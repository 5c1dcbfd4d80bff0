// The building blocks of `aex update` (docs/update.md) against real nodes and
// module processes: state export/import under a transfer key, the refusals
// that protect it, lossless re-keying, and the nodes' paused routes and
// fences. The whole protocol is tested end to end by update_test.sh.

#include <gtest/gtest.h>

#include "aex/module.h"
#include "harness.h"
#include "test_modules.h"
#include "wire/messages.h"

namespace aex::itest {
namespace {

using channel::Role;
using wire::MsgType;

class TransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(a_.Start());
    ASSERT_OK(b_.Start());
  }

  // A fresh transfer key.
  crypto::Key NewKey() {
    crypto::Key k;
    EXPECT_OK(crypto::RandomBytes(k));
    return k;
  }
  // The deployer's transfer grant: K_t under K_m(m), conn id 0, io_index 0
  // (export) or 1 (import).
  Bytes Grant(TestModule& m, uint16_t purpose, const crypto::Key& kt) {
    return d_.WrapGrant(m, 0, purpose, Role::kOutput, kt);
  }
  Result<Bytes> Export(TestModule& m, const crypto::Key& kt) {
    AEX_ASSIGN_OR_RETURN(deploy::NodeClient * c, d_.Client(*m.node));
    return c->Call(MsgType::kExportState, wire::ModuleOp{m.id, 0, Grant(m, 0, kt)}.Encode());
  }
  Status Import(TestModule& m, const crypto::Key& kt, ByteSpan blob) {
    Bytes payload = Grant(m, 1, kt);
    payload.insert(payload.end(), blob.begin(), blob.end());
    AEX_ASSIGN_OR_RETURN(deploy::NodeClient * c, d_.Client(*m.node));
    return c->Call(MsgType::kImportState, wire::ModuleOp{m.id, 0, payload}.Encode()).status();
  }
  // A re-key grant (counters kept) for an existing connection end.
  Status Rekey(TestModule& m, uint32_t conn_id, uint16_t index, Role role,
               const crypto::Key& key) {
    crypto::AesGcm aead(m.key);
    channel::KeyGrant g{conn_id, index, role, channel::Cipher::kAes, d_.NextNonce(m), key};
    g.rekey = true;
    AEX_ASSIGN_OR_RETURN(deploy::NodeClient * c, d_.Client(*m.node));
    return c->SetKey(m.id, channel::WrapGrant(aead, m.id, g));
  }
  bool WaitStat(TestModule& m, const std::string& field, int64_t want) {
    return WaitFor([&] { return d_.Stat(m, field) == want; }, 60s);
  }
  // sink_stats: events on sink_in and sink_in2.
  std::pair<uint64_t, uint64_t> SinkEvents(TestModule& sink) {
    auto r = d_.CallEntry(sink, sink::kStats);
    EXPECT_TRUE(r.ok() && r->size() == 56);
    if (!r.ok() || r->size() != 56) return {0, 0};
    return {GetU64(*r, 0), GetU64(*r, 24)};
  }

  TempDir dir_;
  NodeProcess a_{dir_.Sub("a"), NodeConfig{"a"}};
  NodeProcess b_{dir_.Sub("b"), NodeConfig{"b"}};
  TestDeployer d_;
};

TEST_F(TransferTest, ConnectionsAndCountersMoveToTheNewInstance) {
  ASSERT_OK_AND_ASSIGN(TestModule * ping, d_.Load(a_, ping::kBin, "ping"));
  ASSERT_OK_AND_ASSIGN(TestModule * old_sink, d_.Load(b_, sink::kBin, "sink"));
  ASSERT_OK_AND_ASSIGN(TestConnection conn, d_.Connect(*ping, ping::kOut, *old_sink, sink::kIn));
  ASSERT_OK_AND_ASSIGN(TestConnection direct,
                       d_.ConnectDirect(*old_sink, Role::kInput, sink::kIn2));
  for (int i = 0; i < 5; ++i) ASSERT_OK(d_.CallEntry(*ping, ping::kEmit, Pattern(i, 32)));
  Bytes first = d_.Seal(direct, AsBytes(std::string("one")));
  Bytes second = d_.Seal(direct, AsBytes(std::string("two")));
  ASSERT_OK(d_.SendSealed(direct, first));
  ASSERT_OK(d_.SendSealed(direct, second));
  ASSERT_TRUE(WaitStat(*old_sink, "events_accepted", 7));

  crypto::Key kt = NewKey();
  ASSERT_OK_AND_ASSIGN(Bytes blob, Export(*old_sink, kt));
  EXPECT_EQ(d_.Stat(*old_sink, "disabled"), 1);
  // The blob is sealed: no connection key appears in it in the clear.
  std::string text(blob.begin(), blob.end());
  EXPECT_EQ(text.find(std::string(conn.key.begin(), conn.key.end())), std::string::npos);
  EXPECT_EQ(text.find(std::string(direct.key.begin(), direct.key.end())), std::string::npos);

  // The new instance, on the other node (a move), imports and takes over.
  ASSERT_OK_AND_ASSIGN(TestModule * new_sink, d_.Load(a_, sink::kBin, "sink"));
  ASSERT_OK(Import(*new_sink, kt, blob));
  ASSERT_OK_AND_ASSIGN(deploy::NodeClient * ca, d_.Client(a_));
  ASSERT_OK(ca->AddRoute(wire::Connect{ping->id, conn.conn_id, new_sink->id, "", 0}));
  for (int i = 5; i < 10; ++i) ASSERT_OK(d_.CallEntry(*ping, ping::kEmit, Pattern(i, 32)));
  direct.module = new_sink;
  ASSERT_OK(d_.SendEvent(direct, AsBytes(std::string("three"))));
  ASSERT_TRUE(WaitStat(*new_sink, "events_accepted", 6));
  EXPECT_EQ(SinkEvents(*new_sink), std::make_pair(uint64_t{5}, uint64_t{1}));
  // Counters continued: what the old instance accepted is a replay here.
  ASSERT_OK(d_.SendSealed(direct, second));
  EXPECT_TRUE(WaitStat(*new_sink, "rejected_replay", 1));
  EXPECT_EQ(d_.Stat(*new_sink, "rejected_auth"), 0);
}

TEST_F(TransferTest, TransferGrantsAndBlobsAreChecked) {
  ASSERT_OK_AND_ASSIGN(TestModule * old_sink, d_.Load(a_, sink::kBin, "sink"));
  ASSERT_OK_AND_ASSIGN(TestModule * new_sink, d_.Load(a_, sink::kBin, "sink"));
  ASSERT_OK_AND_ASSIGN(TestModule * other, d_.Load(a_, sink::kBin, "sink"));
  ASSERT_OK(d_.ConnectDirect(*old_sink, Role::kInput, sink::kIn).status());
  crypto::Key kt = NewKey();
  ASSERT_OK_AND_ASSIGN(deploy::NodeClient * c, d_.Client(a_));

  // A transfer grant is not a key grant, and an import grant does not export.
  EXPECT_FALSE(c->SetKey(old_sink->id, Grant(*old_sink, 0, kt)).ok());
  auto wrong_purpose = c->Call(MsgType::kExportState,
                               wire::ModuleOp{old_sink->id, 0, Grant(*old_sink, 1, kt)}.Encode());
  EXPECT_EQ(wrong_purpose.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(d_.Stat(*old_sink, "disabled"), 0);

  // A replayed export grant is refused (the nonce is stale).
  Bytes grant = Grant(*old_sink, 0, kt);
  ASSERT_OK_AND_ASSIGN(Bytes blob,
                       c->Call(MsgType::kExportState,
                               wire::ModuleOp{old_sink->id, 0, grant}.Encode()));
  EXPECT_FALSE(
      c->Call(MsgType::kExportState, wire::ModuleOp{old_sink->id, 0, grant}.Encode()).ok());

  // A flipped bit anywhere in the blob, or the wrong K_t: not imported.
  Bytes tampered = blob;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_EQ(Import(*new_sink, kt, tampered).code(), Code::kAuthFailed);
  EXPECT_EQ(Import(*new_sink, NewKey(), blob).code(), Code::kAuthFailed);
  // A grant wrapped for another module does not unwrap here.
  Bytes foreign = Grant(*other, 1, kt);
  foreign.insert(foreign.end(), blob.begin(), blob.end());
  EXPECT_FALSE(
      c->Call(MsgType::kImportState, wire::ModuleOp{new_sink->id, 0, foreign}.Encode()).ok());
  EXPECT_EQ(d_.Stat(*new_sink, "grants_accepted"), 0);
  // The genuine one is.
  EXPECT_OK(Import(*new_sink, kt, blob));
}

TEST_F(TransferTest, RekeyLosesNothingInFlight) {
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d_.Load(a_, sink::kBin, "sink"));
  ASSERT_OK_AND_ASSIGN(TestConnection c1, d_.ConnectDirect(*sink, Role::kInput, sink::kIn));
  ASSERT_OK(d_.SendEvent(c1, AsBytes(std::string("a"))));  // counter 1, K1
  Bytes in_flight = d_.Seal(c1, AsBytes(std::string("b")));  // counter 2, K1, not yet arrived

  // The receiver is re-keyed first: it keeps K1 for opening until K2 is used.
  TestConnection c2 = c1;
  ASSERT_OK(crypto::RandomBytes(c2.key));
  ASSERT_OK(Rekey(*sink, c1.conn_id, sink::kIn, Role::kInput, c2.key));
  ASSERT_OK(d_.SendSealed(c1, in_flight));  // still accepted
  ASSERT_TRUE(WaitStat(*sink, "events_accepted", 2));
  ASSERT_OK(d_.SendEvent(c2, AsBytes(std::string("c"))));  // counter 3, K2
  ASSERT_TRUE(WaitStat(*sink, "events_accepted", 3));
  // Now K1 is retired, and the counters went on across the key change.
  ASSERT_OK(d_.SendSealed(c1, d_.SealWithCounter(c1, 4, AsBytes(std::string("d")))));
  EXPECT_TRUE(WaitStat(*sink, "rejected_auth", 1));
  ASSERT_OK(d_.SendSealed(c2, d_.SealWithCounter(c2, 2, AsBytes(std::string("e")))));
  EXPECT_TRUE(WaitStat(*sink, "rejected_replay", 1));
  EXPECT_EQ(d_.Stat(*sink, "events_accepted"), 3);
}

TEST_F(TransferTest, RekeyedHandlerAnswersUnderTheRequestsKey) {
  ASSERT_OK_AND_ASSIGN(TestModule * ping, d_.Load(a_, ping::kBin, "ping"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d_.Load(b_, sink::kBin, "sink"));
  ASSERT_OK_AND_ASSIGN(TestConnection conn,
                       d_.ConnectRequest(*ping, ping::kReq, *sink, sink::kEcho));
  auto call = [&](const std::string& text) {
    auto r = d_.CallEntry(*ping, ping::kCall, AsBytes(text));
    return r.ok() && r->size() >= 4 && static_cast<int32_t>(GetU32(*r, 0)) == AEX_OK;
  };
  ASSERT_TRUE(call("before"));
  crypto::Key k2;
  ASSERT_OK(crypto::RandomBytes(k2));
  ASSERT_OK(Rekey(*sink, conn.conn_id, sink::kEcho, Role::kHandler, k2));  // handler first
  EXPECT_TRUE(call("requester still on the old key"));
  ASSERT_OK(Rekey(*ping, conn.conn_id, ping::kReq, Role::kRequest, k2));
  EXPECT_TRUE(call("both on the new key"));
  EXPECT_EQ(d_.Stat(*ping, "rejected_auth"), 0);
  EXPECT_EQ(d_.Stat(*sink, "rejected_auth"), 0);
}

TEST_F(TransferTest, PausedRouteHoldsInOrderAndFenceFlushes) {
  ASSERT_OK_AND_ASSIGN(TestModule * ping, d_.Load(a_, ping::kBin, "ping"));
  ASSERT_OK_AND_ASSIGN(TestModule * sink, d_.Load(b_, sink::kBin, "sink"));
  ASSERT_OK_AND_ASSIGN(TestConnection conn, d_.Connect(*ping, ping::kOut, *sink, sink::kIn));
  ASSERT_OK_AND_ASSIGN(deploy::NodeClient * ca, d_.Client(a_));
  ASSERT_OK_AND_ASSIGN(deploy::NodeClient * cb, d_.Client(b_));
  std::vector<Bytes> sent;
  for (int i = 0; i < 3; ++i) {
    sent.push_back(Pattern(100 + i, 64));
    ASSERT_OK(d_.CallEntry(*ping, ping::kEmit, sent.back()));
  }
  // Pause: the fence follows the three events on the a -> b link.
  wire::PauseRoutes pause{0x1234, {{ping->id, conn.conn_id}}};
  ASSERT_OK_AND_ASSIGN(Bytes fences, ca->Call(MsgType::kPauseRoutes, pause.Encode()));
  ASSERT_EQ(GetU32(fences, 0), 1u);
  ASSERT_OK(cb->Call(MsgType::kAwaitFence, wire::AwaitFence{0x1234, 1, 5000}.Encode()));
  EXPECT_EQ(SinkEvents(*sink).first, 3u);  // everything before the fence has arrived
  // Held while paused, and visible as held in the node's status.
  for (int i = 3; i < 10; ++i) {
    sent.push_back(Pattern(100 + i, 64));
    ASSERT_OK(d_.CallEntry(*ping, ping::kEmit, sent.back()));
  }
  ASSERT_OK_AND_ASSIGN(nlohmann::json st, d_.NodeStatus(a_));
  EXPECT_EQ(st["routes"][0]["held"], 7);
  EXPECT_EQ(SinkEvents(*sink).first, 3u);
  // Resumed: released in order, before anything newer.
  wire::ResumeRoutes resume{{wire::Connect{ping->id, conn.conn_id, sink->id, "127.0.0.1",
                                           b_.port()}}};
  ASSERT_OK(ca->Call(MsgType::kResumeRoutes, resume.Encode()));
  sent.push_back(Pattern(110, 64));
  ASSERT_OK(d_.CallEntry(*ping, ping::kEmit, sent.back()));
  ASSERT_TRUE(WaitFor([&] { return SinkEvents(*sink).first == 11; }, 60s));
  auto r = d_.CallEntry(*sink, sink::kStats);
  ASSERT_OK(r);
  EXPECT_EQ(GetU64(*r, 16), HashChain(sent));  // same events, same order
  EXPECT_EQ(d_.Stat(*sink, "rejected_replay"), 0);
  // A fence that never comes times out; unknown routes cannot be paused.
  cb->set_timeout(10s);
  EXPECT_EQ(cb->Call(MsgType::kAwaitFence, wire::AwaitFence{0x99, 1, 200}.Encode()).status().code(),
            Code::kTimeout);
  EXPECT_EQ(ca->Call(MsgType::kPauseRoutes, wire::PauseRoutes{1, {{ping->id, 777}}}.Encode())
                .status()
                .code(),
            Code::kNotFound);
}

TEST(UpdateMessagesTest, RoundTripAndBounds) {
  wire::PauseRoutes p{42, {{1, 2}, {3, 4}}};
  auto p2 = wire::PauseRoutes::Parse(p.Encode());
  ASSERT_OK(p2);
  EXPECT_EQ(p2->token, 42u);
  ASSERT_EQ(p2->routes.size(), 2u);
  EXPECT_EQ(p2->routes[1].conn_id, 4u);
  Bytes truncated = p.Encode();
  truncated.pop_back();
  EXPECT_FALSE(wire::PauseRoutes::Parse(truncated).ok());

  wire::ResumeRoutes r{{wire::Connect{1, 2, 3, "", 0}, wire::Connect{4, 5, 6, "host", 7}}};
  auto r2 = wire::ResumeRoutes::Parse(r.Encode());
  ASSERT_OK(r2);
  ASSERT_EQ(r2->routes.size(), 2u);
  EXPECT_EQ(r2->routes[1].dst_host, "host");
  Bytes bad = r.Encode();
  bad.push_back(0);
  EXPECT_FALSE(wire::ResumeRoutes::Parse(bad).ok());
  EXPECT_FALSE(wire::ResumeRoutes::Parse(
                   wire::ResumeRoutes{{wire::Connect{1, 2, 3, "h", 0}}}.Encode())
                   .ok());  // remote route without a port

  auto a = wire::AwaitFence::Parse(wire::AwaitFence{7, 2, 100}.Encode());
  ASSERT_OK(a);
  EXPECT_EQ(a->count, 2u);
  EXPECT_FALSE(wire::AwaitFence::Parse(wire::AwaitFence{7, 2, 700000}.Encode()).ok());

  // The re-key flag travels in the authenticated grant header.
  crypto::Key km{}, kc{};
  km[0] = 1;
  kc[0] = 2;
  crypto::AesGcm aead(km);
  channel::KeyGrant g{9, 1, Role::kInput, channel::Cipher::kAes, 5, kc};
  g.rekey = true;
  Bytes blob = channel::WrapGrant(aead, 3, g);
  auto back = channel::UnwrapGrant(aead, 3, blob);
  ASSERT_OK(back);
  EXPECT_TRUE(back->rekey);
  EXPECT_EQ(back->cipher, channel::Cipher::kAes);
  blob[7] &= 0x7f;  // strip the flag: the tag no longer verifies
  EXPECT_FALSE(channel::UnwrapGrant(aead, 3, blob).ok());
}

}  // namespace
}  // namespace aex::itest
