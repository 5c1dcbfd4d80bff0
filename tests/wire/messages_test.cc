// Tests of the aex wire format (src/wire/messages.h, docs/protocol.md):
// frame encoding and parsing, every message's round trip, and the rejection of
// malformed input (truncation at every length, trailing bytes, bad headers,
// semantic checks).

#include "wire/messages.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace aex::wire {
namespace {

Bytes Seq(size_t n, uint8_t start = 1) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(start + i);
  return b;
}

Bytes Prefix(const Bytes& b, size_t n) {
  return Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
}

Bytes WithTrailer(Bytes b, uint8_t extra = 0) {
  b.push_back(extra);
  return b;
}

// Every strict prefix of a valid encoding and the encoding plus one trailing
// byte must be rejected. Each candidate is a fresh heap buffer of exactly its
// size, so ASan catches any over-read.
template <typename M>
void ExpectStrict(const Bytes& valid) {
  ASSERT_TRUE(M::Parse(valid).ok()) << M::Parse(valid).status().ToString();
  for (size_t n = 0; n < valid.size(); ++n) {
    Bytes cut = Prefix(valid, n);
    auto r = M::Parse(cut);
    EXPECT_FALSE(r.ok()) << "prefix of length " << n << " of " << valid.size() << " accepted";
  }
  for (uint8_t extra : {0x00, 0xff}) {
    auto r = M::Parse(WithTrailer(valid, extra));
    EXPECT_FALSE(r.ok()) << "trailing byte accepted";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    }
  }
}

// ---------------------------------------------------------------- framing

TEST(FrameTest, EncodeLayout) {
  const Bytes payload = {0xaa, 0xbb, 0xcc};
  Bytes f = EncodeFrame(MsgType::kConnect, 0x01020304, payload);
  const Bytes expected = {0x00, 0x00, 0x00, 0x08,  // body length = 5 + 3
                          0x15,                    // CONNECT
                          0x01, 0x02, 0x03, 0x04,  // request id
                          0xaa, 0xbb, 0xcc};
  EXPECT_EQ(f, expected);
}

TEST(FrameTest, EmptyPayload) {
  Bytes f = EncodeFrame(MsgType::kStatus, 7, {});
  ASSERT_EQ(f.size(), kFrameHeaderSize + kBodyHeaderSize);
  uint32_t len = 0;
  ASSERT_TRUE(ParseFrameLength(ByteSpan(f).first(4), &len).ok());
  EXPECT_EQ(len, kBodyHeaderSize);
  auto frame = ParseFrameBody(ByteSpan(f).subspan(4));
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->type, MsgType::kStatus);
  EXPECT_EQ(frame->request_id, 7u);
  EXPECT_TRUE(frame->payload.empty());
}

TEST(FrameTest, AppendFrameStreamsSeveralFrames) {
  Bytes stream = {0xee};  // AppendFrame must append, not overwrite
  AppendFrame(MsgType::kEvent, 0, Seq(10), &stream);
  AppendFrame(MsgType::kResult, 0xffffffff, {}, &stream);
  AppendFrame(MsgType::kRequest, 42, Seq(300), &stream);
  ASSERT_EQ(stream[0], 0xee);
  ByteReader r(ByteSpan(stream).subspan(1));
  struct Want {
    MsgType type;
    uint32_t id;
    Bytes payload;
  };
  const std::vector<Want> wants = {{MsgType::kEvent, 0, Seq(10)},
                                   {MsgType::kResult, 0xffffffff, {}},
                                   {MsgType::kRequest, 42, Seq(300)}};
  for (const Want& w : wants) {
    ByteSpan header, body;
    ASSERT_TRUE(r.ReadBytes(kFrameHeaderSize, &header));
    uint32_t len;
    ASSERT_TRUE(ParseFrameLength(header, &len).ok());
    ASSERT_TRUE(r.ReadBytes(len, &body));
    auto f = ParseFrameBody(body);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->type, w.type);
    EXPECT_EQ(f->request_id, w.id);
    EXPECT_EQ(Bytes(f->payload.begin(), f->payload.end()), w.payload);
  }
  EXPECT_TRUE(r.empty());
}

TEST(FrameTest, PayloadPointsIntoBuffer) {
  Bytes f = EncodeFrame(MsgType::kEvent, 1, Seq(4));
  ByteSpan body = ByteSpan(f).subspan(4);
  auto frame = ParseFrameBody(body);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->payload.data(), f.data() + 9);
}

TEST(FrameTest, LengthHeaderBounds) {
  uint32_t len = 12345;
  uint8_t h[4];
  // Body shorter than type + request id.
  for (uint32_t v = 0; v < kBodyHeaderSize; ++v) {
    StoreU32(h, v);
    Status s = ParseFrameLength(ByteSpan(h, 4), &len);
    EXPECT_FALSE(s.ok()) << v;
    EXPECT_EQ(s.code(), Code::kProtocol);
    EXPECT_EQ(len, 12345u);
  }
  StoreU32(h, kBodyHeaderSize);
  ASSERT_TRUE(ParseFrameLength(ByteSpan(h, 4), &len).ok());
  EXPECT_EQ(len, kBodyHeaderSize);
  StoreU32(h, static_cast<uint32_t>(kMaxFrameBody));
  ASSERT_TRUE(ParseFrameLength(ByteSpan(h, 4), &len).ok());
  EXPECT_EQ(len, kMaxFrameBody);
  // Oversized.
  len = 12345;
  for (uint64_t v : {uint64_t{kMaxFrameBody} + 1, uint64_t{1} << 31, uint64_t{0xffffffff}}) {
    StoreU32(h, static_cast<uint32_t>(v));
    Status s = ParseFrameLength(ByteSpan(h, 4), &len);
    EXPECT_FALSE(s.ok()) << v;
    EXPECT_EQ(s.code(), Code::kResourceExhausted);
    EXPECT_EQ(len, 12345u);
  }
}

TEST(FrameTest, LengthHeaderMustBeExactlyFourBytes) {
  const Bytes five = {0, 0, 0, 9, 0};
  uint32_t len = 0;
  for (size_t n = 0; n <= five.size(); ++n) {
    if (n == 4) continue;
    Bytes h = Prefix(five, n);
    Status s = ParseFrameLength(h, &len);
    EXPECT_FALSE(s.ok()) << n;
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
  }
}

TEST(FrameTest, MaxFrameBodyFitsLargestModule) {
  LoadModule m;
  m.name = std::string(128, 'n');
  m.device = std::string(255, 'd');
  Bytes binary(kMaxModuleBinary, 0x5a);
  m.binary = binary;
  Bytes payload = m.Encode();
  EXPECT_LE(kBodyHeaderSize + payload.size(), kMaxFrameBody);
  auto back = LoadModule::Parse(payload);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->binary.size(), kMaxModuleBinary);
}

TEST(FrameTest, BodyShorterThanHeaderRejected) {
  const Bytes body = {0x01, 0, 0, 0, 1};
  for (size_t n = 0; n < kBodyHeaderSize; ++n) {
    auto f = ParseFrameBody(Prefix(body, n));
    EXPECT_FALSE(f.ok()) << n;
    EXPECT_EQ(f.status().code(), Code::kInvalidArgument);
  }
  EXPECT_TRUE(ParseFrameBody(body).ok());
}

TEST(FrameTest, UnknownTypesRejected) {
  int known = 0;
  for (int t = 0; t < 256; ++t) {
    Bytes body = {static_cast<uint8_t>(t), 0, 0, 0, 1, 0xaa};
    auto f = ParseFrameBody(body);
    bool named = std::strcmp(TypeName(static_cast<MsgType>(t)), "UNKNOWN") != 0;
    EXPECT_EQ(IsKnownType(static_cast<uint8_t>(t)), named) << t;
    EXPECT_EQ(f.ok(), named) << t;
    if (f.ok()) {
      ++known;
      EXPECT_EQ(static_cast<int>(f->type), t);
    } else {
      EXPECT_EQ(f.status().code(), Code::kProtocol) << t;
    }
  }
  EXPECT_GE(known, 16);  // at least the version-1 core set
}

TEST(FrameTest, TypeNames) {
  EXPECT_STREQ(TypeName(MsgType::kHello), "HELLO");
  EXPECT_STREQ(TypeName(MsgType::kHelloAck), "HELLO_ACK");
  EXPECT_STREQ(TypeName(MsgType::kResult), "RESULT");
  EXPECT_STREQ(TypeName(MsgType::kSetKey), "SET_KEY");
  EXPECT_STREQ(TypeName(MsgType::kEvent), "EVENT");
  EXPECT_STREQ(TypeName(MsgType::kModuleStats), "MODULE_STATS");
}

// ---------------------------------------------------------------- HELLO

TEST(HelloTest, RoundTripAndLayout) {
  Hello h;
  h.min_version = 1;
  h.max_version = 3;
  h.role = PeerRole::kNode;
  Bytes enc = h.Encode();
  const Bytes expected = {0x41, 0x45, 0x58, 0x31, 0x00, 0x01, 0x00, 0x03, 0x01};
  EXPECT_EQ(enc, expected);
  auto back = Hello::Parse(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->min_version, 1);
  EXPECT_EQ(back->max_version, 3);
  EXPECT_EQ(back->role, PeerRole::kNode);

  Hello d;
  auto back2 = Hello::Parse(d.Encode());
  ASSERT_TRUE(back2.ok());
  EXPECT_EQ(back2->min_version, kProtocolVersion);
  EXPECT_EQ(back2->max_version, kProtocolVersion);
  EXPECT_EQ(back2->role, PeerRole::kClient);
  ExpectStrict<Hello>(d.Encode());
}

TEST(HelloAckTest, RoundTripLayoutAndOlderForm) {
  HelloAck a;
  a.node_name = "n1";
  a.deployment = "ab";
  a.pid = 0x01020304;
  Bytes enc = a.Encode();
  const Bytes expected = {0x00, 0x01, 0x00, 0x02, 'n', '1', 0x00, 0x02, 'a', 'b',
                          0x01, 0x02, 0x03, 0x04};
  EXPECT_EQ(enc, expected);
  auto back = HelloAck::Parse(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->version, 1);
  EXPECT_EQ(back->node_name, "n1");
  EXPECT_EQ(back->deployment, "ab");
  EXPECT_EQ(back->pid, 0x01020304u);
  // Strict but for the 2-byte prefix, which is the older form below.
  for (size_t n = 0; n < enc.size(); ++n) {
    EXPECT_EQ(HelloAck::Parse(Prefix(enc, n)).ok(), n == 2) << "prefix of length " << n;
  }
  EXPECT_FALSE(HelloAck::Parse(WithTrailer(enc, 0)).ok());
  // An older node answers the version alone: no identity.
  auto old = HelloAck::Parse(Bytes{0x00, 0x01});
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->node_name, "");
  EXPECT_EQ(old->pid, 0u);
  EXPECT_FALSE(HelloAck::Parse(Bytes{0x00}).ok());
  HelloAck long_name;
  long_name.node_name.assign(kMaxNodeIdentity + 1, 'x');
  EXPECT_FALSE(HelloAck::Parse(long_name.Encode()).ok());
}

TEST(HelloTest, BadMagicAndRole) {
  Bytes enc = Hello{}.Encode();
  for (size_t i = 0; i < 4; ++i) {
    Bytes bad = enc;
    bad[i] ^= 0x20;
    auto r = Hello::Parse(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kProtocol);
  }
  for (int role = 2; role < 256; ++role) {
    Bytes bad = enc;
    bad[8] = static_cast<uint8_t>(role);
    EXPECT_FALSE(Hello::Parse(bad).ok()) << role;
  }
}

// ---------------------------------------------------------------- RESULT

TEST(ResultMsgTest, RoundTrip) {
  const Bytes payload = Seq(40);
  ResultMsg m;
  m.code = Code::kReplay;
  m.message = "stale counter";
  m.payload = payload;
  Bytes enc = m.Encode();
  ASSERT_EQ(enc.size(), 2u + 2 + 13 + 4 + 40);
  EXPECT_EQ(enc[0], 0x00);
  EXPECT_EQ(enc[1], 0x06);
  auto back = ResultMsg::Parse(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->code, Code::kReplay);
  EXPECT_EQ(back->message, "stale counter");
  EXPECT_EQ(Bytes(back->payload.begin(), back->payload.end()), payload);
  EXPECT_EQ(back->ToStatus().code(), Code::kReplay);
  EXPECT_EQ(back->ToStatus().message(), "stale counter");
  ExpectStrict<ResultMsg>(enc);
}

TEST(ResultMsgTest, EveryCodeRoundTrips) {
  for (uint16_t c = 0; c <= static_cast<uint16_t>(Code::kDisabled); ++c) {
    Status s = c == 0 ? Status::Ok() : Status(static_cast<Code>(c), "m");
    Bytes enc = EncodeResult(s);
    auto back = ResultMsg::Parse(enc);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->code, static_cast<Code>(c));
    EXPECT_TRUE(back->payload.empty());
  }
}

TEST(ResultMsgTest, UnknownCodeBecomesInternal) {
  Bytes enc = EncodeResult(Status::Ok());
  for (uint16_t c : {uint16_t{15}, uint16_t{0x100}, uint16_t{0xffff}}) {
    enc[0] = static_cast<uint8_t>(c >> 8);
    enc[1] = static_cast<uint8_t>(c);
    auto back = ResultMsg::Parse(enc);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->code, Code::kInternal) << c;
  }
}

TEST(ResultMsgTest, EmptyAndOkWithPayload) {
  const Bytes payload = {9, 8, 7};
  Bytes enc = EncodeResult(Status::Ok(), payload);
  const Bytes expected = {0, 0, 0, 0, 0, 0, 0, 3, 9, 8, 7};
  EXPECT_EQ(enc, expected);
  ExpectStrict<ResultMsg>(enc);
}

TEST(ResultMsgTest, LongMessageIsTruncatedTo65535) {
  ResultMsg m;
  m.code = Code::kInternal;
  m.message = std::string(70000, 'x');
  auto back = ResultMsg::Parse(m.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->message.size(), 65535u);
}

// ---------------------------------------------------------------- LOAD_MODULE

// The deployment's load tag (issue 12): a trailing u8 length + bytes, only
// when there is one, so a LOAD without a tag encodes as before.
TEST(LoadModuleTest, TagRoundTrip) {
  LoadModule m;
  m.name = "ping";
  const Bytes binary = Seq(10);
  m.binary = binary;
  const Bytes untagged = m.Encode();
  m.tag = std::string(kMaxLoadTag, 'a');
  const Bytes enc = m.Encode();
  ASSERT_EQ(enc.size(), untagged.size() + 1 + kMaxLoadTag);
  EXPECT_TRUE(std::equal(untagged.begin(), untagged.end(), enc.begin()));
  auto back = LoadModule::Parse(enc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->tag, m.tag);
  EXPECT_EQ(LoadModule::Parse(untagged)->tag, "");
  for (uint8_t extra : {0x00, 0xff}) {  // after the tag
    EXPECT_EQ(LoadModule::Parse(WithTrailer(enc, extra)).status().code(), Code::kInvalidArgument);
  }
  // Truncated inside the tag.
  for (size_t n = untagged.size() + 1; n < enc.size(); ++n) {
    EXPECT_FALSE(LoadModule::Parse(Prefix(enc, n)).ok()) << n;
  }
}

// The sgx SIGSTRUCT follows the tag (written even when empty), u32-length
// prefixed; absent when empty, so a LOAD without one is unchanged.
TEST(LoadModuleTest, SigstructRoundTrip) {
  LoadModule m;
  m.name = "ping";
  const Bytes binary = Seq(10), sigstruct = Seq(kMaxSigstruct);
  m.binary = binary;
  const Bytes plain = m.Encode();
  m.sigstruct = sigstruct;
  const Bytes untagged = m.Encode();
  ASSERT_EQ(untagged.size(), plain.size() + 1 + 4 + kMaxSigstruct);
  auto back = LoadModule::Parse(untagged);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->tag, "");
  EXPECT_TRUE(std::equal(back->sigstruct.begin(), back->sigstruct.end(), sigstruct.begin(),
                         sigstruct.end()));
  m.tag = "t1";
  back = LoadModule::Parse(m.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->tag, "t1");
  EXPECT_EQ(back->sigstruct.size(), kMaxSigstruct);
  EXPECT_FALSE(LoadModule::Parse(WithTrailer(m.Encode(), 0)).ok());  // trailing byte
  for (size_t n = plain.size() + 1; n < untagged.size(); ++n) {  // truncated
    EXPECT_FALSE(LoadModule::Parse(Prefix(untagged, n)).ok()) << n;
  }
}

TEST(LoadModuleTest, SigstructBounds) {
  LoadModule m;
  m.name = "ping";
  const Bytes big = Seq(kMaxSigstruct + 1);
  m.sigstruct = big;
  EXPECT_FALSE(LoadModule::Parse(m.Encode()).ok());
  // An empty SIGSTRUCT is written by omission only.
  LoadModule none;
  none.name = "ping";
  Bytes empty = WithTrailer(none.Encode(), 0);  // empty tag
  for (int i = 0; i < 4; ++i) empty.push_back(0);  // zero length
  EXPECT_FALSE(LoadModule::Parse(empty).ok());
}

TEST(LoadModuleTest, TagBounds) {
  LoadModule m;
  m.name = "ping";
  Bytes enc = m.Encode();
  Bytes empty_tag = WithTrailer(enc, 0);  // an empty tag is written by omission only
  EXPECT_FALSE(LoadModule::Parse(empty_tag).ok());
  Bytes too_long = WithTrailer(enc, static_cast<uint8_t>(kMaxLoadTag + 1));
  too_long.resize(too_long.size() + kMaxLoadTag + 1, 'x');
  EXPECT_FALSE(LoadModule::Parse(too_long).ok());
}

// ---------------------------------------------------------------- LIST_MODULES

TEST(ListModulesTest, RoundTripAndStrict) {
  ListModules all;
  EXPECT_EQ(all.Encode(), Bytes{0});
  ExpectStrict<ListModules>(all.Encode());
  ListModules one{"0123456789abcdef0123456789abcdef"};
  Bytes enc = one.Encode();
  ASSERT_EQ(enc.size(), 33u);
  EXPECT_EQ(ListModules::Parse(enc)->tag, one.tag);
  ExpectStrict<ListModules>(enc);
  Bytes too_long = {static_cast<uint8_t>(kMaxLoadTag + 1)};
  too_long.resize(kMaxLoadTag + 2, 'x');
  EXPECT_FALSE(ListModules::Parse(too_long).ok());
}

TEST(ModuleListTest, RoundTripAndStrict) {
  ModuleList list;
  EXPECT_EQ(list.Encode(), Bytes(4, 0));
  ExpectStrict<ModuleList>(list.Encode());
  list.modules.push_back(ListedModule{7, "ping", "tag-a", true, false});
  list.modules.push_back(ListedModule{9, "pong", "", false, true});
  Bytes enc = list.Encode();
  auto back = ModuleList::Parse(enc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->modules.size(), 2u);
  EXPECT_EQ(back->modules[0].id, 7u);
  EXPECT_EQ(back->modules[0].name, "ping");
  EXPECT_EQ(back->modules[0].tag, "tag-a");
  EXPECT_TRUE(back->modules[0].running);
  EXPECT_FALSE(back->modules[0].attested);
  EXPECT_EQ(back->modules[1].tag, "");
  EXPECT_TRUE(back->modules[1].attested);
  ExpectStrict<ModuleList>(enc);
}

TEST(ModuleListTest, UnknownFlagsAndForgedCountsAreRejected) {
  ModuleList list;
  list.modules.push_back(ListedModule{1, "a", "", true, true});
  Bytes enc = list.Encode();
  enc.back() = 4;  // an undefined flag bit
  EXPECT_FALSE(ModuleList::Parse(enc).ok());
  // A count of 2^32-1 with a few bytes behind it: refused before any
  // allocation in proportion to the count.
  Bytes forged = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 0};
  EXPECT_FALSE(ModuleList::Parse(forged).ok());
}

TEST(LoadModuleTest, RoundTrip) {
  const Bytes binary = Seq(100);
  LoadModule m;
  m.name = "sensor-1";
  m.backend = 3;
  m.device = "/dev/led0";
  m.binary = binary;
  Bytes enc = m.Encode();
  ASSERT_EQ(enc.size(), 2u + 8 + 1 + 2 + 9 + 4 + 100);
  auto back = LoadModule::Parse(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "sensor-1");
  EXPECT_EQ(back->backend, 3);
  EXPECT_EQ(back->device, "/dev/led0");
  EXPECT_EQ(Bytes(back->binary.begin(), back->binary.end()), binary);
  ExpectStrict<LoadModule>(enc);
}

TEST(LoadModuleTest, NoDeviceEmptyBinary) {
  LoadModule m;
  m.name = "a";
  Bytes enc = m.Encode();
  auto back = LoadModule::Parse(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->device, "");
  EXPECT_TRUE(back->binary.empty());
  ExpectStrict<LoadModule>(enc);
}

TEST(LoadModuleTest, NameLengthChecked) {
  LoadModule m;
  m.name = "";
  EXPECT_EQ(LoadModule::Parse(m.Encode()).status().code(), Code::kInvalidArgument);
  m.name = std::string(128, 'a');
  EXPECT_TRUE(LoadModule::Parse(m.Encode()).ok());
  m.name = std::string(129, 'a');
  EXPECT_EQ(LoadModule::Parse(m.Encode()).status().code(), Code::kInvalidArgument);
}

TEST(LoadModuleTest, BinaryLimit) {
  // The length field alone claims one byte over the limit: rejected before
  // looking for the bytes.
  ByteWriter w;
  w.PutString16("m");
  w.PutU8(0);
  w.PutString16("");
  w.PutU32(static_cast<uint32_t>(kMaxModuleBinary + 1));
  Bytes enc = w.Take();
  enc.resize(enc.size() + kMaxModuleBinary + 1);
  EXPECT_FALSE(LoadModule::Parse(enc).ok());
}

// ---------------------------------------------------------------- ModuleOp

TEST(ModuleOpTest, RoundTripAndLayout) {
  const Bytes data = {0xde, 0xad};
  ModuleOp op{0x01020304, 0x0a0b0c0d, data};
  Bytes enc = op.Encode();
  const Bytes expected = {1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 2, 0xde, 0xad};
  EXPECT_EQ(enc, expected);
  auto back = ModuleOp::Parse(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->module_id, 0x01020304u);
  EXPECT_EQ(back->aux, 0x0a0b0c0du);
  EXPECT_EQ(Bytes(back->data.begin(), back->data.end()), data);
  ExpectStrict<ModuleOp>(enc);
}

TEST(ModuleOpTest, AppendToAppends) {
  Bytes out = {7, 7};
  ModuleOp{5, 6, {}}.AppendTo(&out);
  const Bytes expected = {7, 7, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 0};
  EXPECT_EQ(out, expected);
  auto back = ModuleOp::Parse(ByteSpan(out).subspan(2));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->data.empty());
}

TEST(ModuleOpTest, MaxDataEnforced) {
  const Bytes data = Seq(64);
  Bytes enc = ModuleOp{1, 2, data}.Encode();
  EXPECT_TRUE(ModuleOp::Parse(enc, 64).ok());
  EXPECT_FALSE(ModuleOp::Parse(enc, 63).ok());
  EXPECT_FALSE(ModuleOp::Parse(enc, 0).ok());
}

// ---------------------------------------------------------------- CONNECT

TEST(ConnectTest, RoundTripRemote) {
  Connect c;
  c.src_module = 1;
  c.conn_id = 77;
  c.dst_module = 9;
  c.dst_host = "node-b.example";
  c.dst_port = 4433;
  Bytes enc = c.Encode();
  ASSERT_EQ(enc.size(), 12u + 2 + 14 + 2);
  auto back = Connect::Parse(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->src_module, 1u);
  EXPECT_EQ(back->conn_id, 77u);
  EXPECT_EQ(back->dst_module, 9u);
  EXPECT_EQ(back->dst_host, "node-b.example");
  EXPECT_EQ(back->dst_port, 4433);
  ExpectStrict<Connect>(enc);
}

TEST(ConnectTest, RoundTripLocal) {
  Connect c;
  c.src_module = 2;
  c.conn_id = 3;
  c.dst_module = 4;
  Bytes enc = c.Encode();
  auto back = Connect::Parse(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->dst_host.empty());
  EXPECT_EQ(back->dst_port, 0);
  ExpectStrict<Connect>(enc);
  // A local route may carry a port; it is ignored by the node.
  c.dst_port = 5;
  EXPECT_TRUE(Connect::Parse(c.Encode()).ok());
}

TEST(ConnectTest, RemoteRouteWithoutPortRejected) {
  Connect c;
  c.dst_host = "10.0.0.2";
  c.dst_port = 0;
  auto r = Connect::Parse(c.Encode());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
}

TEST(ConnectTest, HostLengthLimit) {
  Connect c;
  c.dst_port = 1;
  c.dst_host = std::string(255, 'h');
  EXPECT_TRUE(Connect::Parse(c.Encode()).ok());
  c.dst_host = std::string(256, 'h');
  EXPECT_EQ(Connect::Parse(c.Encode()).status().code(), Code::kInvalidArgument);
}

// ---------------------------------------------------------------- REGISTER_PERIODIC

TEST(RegisterPeriodicTest, RoundTrip) {
  RegisterPeriodic m;
  m.module_id = 0xffffffff;
  m.entry = 2;
  m.period_ms = 1000;
  Bytes enc = m.Encode();
  const Bytes expected = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0, 0, 0x03, 0xe8};
  EXPECT_EQ(enc, expected);
  auto back = RegisterPeriodic::Parse(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->module_id, 0xffffffffu);
  EXPECT_EQ(back->entry, 2u);
  EXPECT_EQ(back->period_ms, 1000u);
  ExpectStrict<RegisterPeriodic>(enc);
}

TEST(RegisterPeriodicTest, PeriodZeroRejected) {
  RegisterPeriodic m;
  m.module_id = 1;
  m.period_ms = 0;
  auto r = RegisterPeriodic::Parse(m.Encode());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  m.period_ms = 1;
  EXPECT_TRUE(RegisterPeriodic::Parse(m.Encode()).ok());
}

// ---------------------------------------------------------------- update messages

TEST(PauseRoutesTest, RoundTripAndLayout) {
  PauseRoutes m;
  m.token = 0x0102030405060708ull;
  m.routes = {{1, 2}, {0xffffffff, 0x80000000}};
  Bytes enc = m.Encode();
  const Bytes expected = {1,    2,    3,    4,    5,    6, 7, 8, 0, 2,  // token, count
                          0,    0,    0,    1,    0,    0, 0, 2,        // route 1
                          0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0};       // route 2
  EXPECT_EQ(enc, expected);
  auto back = PauseRoutes::Parse(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->token, m.token);
  ASSERT_EQ(back->routes.size(), 2u);
  EXPECT_EQ(back->routes[1].src_module, 0xffffffffu);
  EXPECT_EQ(back->routes[1].conn_id, 0x80000000u);
  ExpectStrict<PauseRoutes>(enc);
}

TEST(PauseRoutesTest, EmptyAndCountBounds) {
  PauseRoutes m;
  m.token = 1;
  Bytes enc = m.Encode();
  ASSERT_TRUE(PauseRoutes::Parse(enc).ok());
  ExpectStrict<PauseRoutes>(enc);
  // A count larger than the routes present, or than the per-message bound.
  ByteWriter w;
  w.PutU64(1);
  w.PutU16(0xffff);
  Bytes big = w.Take();
  big.resize(big.size() + size_t{0xffff} * 8);
  EXPECT_FALSE(PauseRoutes::Parse(big).ok());
  m.routes.resize(4096);
  EXPECT_TRUE(PauseRoutes::Parse(m.Encode()).ok());
  m.routes.resize(4097);
  EXPECT_FALSE(PauseRoutes::Parse(m.Encode()).ok());
}

TEST(ResumeRoutesTest, RoundTrip) {
  ResumeRoutes m;
  Connect local;
  local.src_module = 1;
  local.conn_id = 2;
  local.dst_module = 3;
  Connect remote = local;
  remote.dst_host = "10.1.2.3";
  remote.dst_port = 9000;
  m.routes = {local, remote};
  Bytes enc = m.Encode();
  auto back = ResumeRoutes::Parse(enc);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->routes.size(), 2u);
  EXPECT_EQ(back->routes[0].dst_module, 3u);
  EXPECT_TRUE(back->routes[0].dst_host.empty());
  EXPECT_EQ(back->routes[1].dst_host, "10.1.2.3");
  EXPECT_EQ(back->routes[1].dst_port, 9000);
  ExpectStrict<ResumeRoutes>(enc);
  EXPECT_TRUE(ResumeRoutes::Parse(ResumeRoutes{}.Encode()).ok());
}

TEST(ResumeRoutesTest, InnerConnectIsValidated) {
  ResumeRoutes m;
  Connect bad;
  bad.dst_host = "peer";
  bad.dst_port = 0;  // remote route without a port
  m.routes = {bad};
  EXPECT_EQ(ResumeRoutes::Parse(m.Encode()).status().code(), Code::kInvalidArgument);
  // An inner CONNECT with a trailing byte inside its length prefix.
  Connect ok;
  Bytes inner = ok.Encode();
  inner.push_back(0);
  ByteWriter w;
  w.PutU16(1);
  w.PutLengthPrefixed(inner);
  EXPECT_FALSE(ResumeRoutes::Parse(w.bytes()).ok());
  // More routes announced than present.
  ByteWriter w2;
  w2.PutU16(2);
  w2.PutLengthPrefixed(ok.Encode());
  EXPECT_FALSE(ResumeRoutes::Parse(w2.bytes()).ok());
}

TEST(AwaitFenceTest, RoundTripAndLimits) {
  AwaitFence m;
  m.token = 42;
  m.count = 3;
  m.timeout_ms = 5000;
  Bytes enc = m.Encode();
  ASSERT_EQ(enc.size(), 16u);
  auto back = AwaitFence::Parse(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->token, 42u);
  EXPECT_EQ(back->count, 3u);
  EXPECT_EQ(back->timeout_ms, 5000u);
  ExpectStrict<AwaitFence>(enc);
  m.timeout_ms = 600000;
  EXPECT_TRUE(AwaitFence::Parse(m.Encode()).ok());
  m.timeout_ms = 600001;
  EXPECT_EQ(AwaitFence::Parse(m.Encode()).status().code(), Code::kInvalidArgument);
}

// ---------------------------------------------------------------- MODULE_STATS

TEST(ModuleStatsTest, RoundTrip) {
  ModuleStats s;
  for (int i = 0; i < ModuleStats::kFieldCount; ++i) {
    s.values[i] = (uint64_t{1} << (i * 5 % 64)) + static_cast<uint64_t>(i);
  }
  s.values[ModuleStats::kDisabled] = UINT64_MAX;
  Bytes enc = s.Encode();
  ASSERT_EQ(enc.size(), 2u + 8 * ModuleStats::kFieldCount);
  EXPECT_EQ(enc[0], 0);
  EXPECT_EQ(enc[1], ModuleStats::kFieldCount);
  auto back = ModuleStats::Parse(enc);
  ASSERT_TRUE(back.ok());
  for (int i = 0; i < ModuleStats::kFieldCount; ++i) EXPECT_EQ(back->values[i], s.values[i]);
  ExpectStrict<ModuleStats>(enc);
}

TEST(ModuleStatsTest, FewerAndMoreFields) {
  ByteWriter fewer;
  fewer.PutU16(2);
  fewer.PutU64(5);
  fewer.PutU64(6);
  auto a = ModuleStats::Parse(fewer.bytes());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->values[0], 5u);
  EXPECT_EQ(a->values[1], 6u);
  for (int i = 2; i < ModuleStats::kFieldCount; ++i) EXPECT_EQ(a->values[i], 0u);

  ByteWriter none;
  none.PutU16(0);
  auto b = ModuleStats::Parse(none.bytes());
  ASSERT_TRUE(b.ok());
  for (uint64_t v : b->values) EXPECT_EQ(v, 0u);

  ByteWriter more;
  more.PutU16(ModuleStats::kFieldCount + 3);
  for (int i = 0; i < ModuleStats::kFieldCount + 3; ++i) more.PutU64(static_cast<uint64_t>(i));
  auto c = ModuleStats::Parse(more.bytes());
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < ModuleStats::kFieldCount; ++i) {
    EXPECT_EQ(c->values[i], static_cast<uint64_t>(i));
  }
}

TEST(ModuleStatsTest, CountMismatchRejected) {
  ByteWriter w;
  w.PutU16(0xffff);  // claims 512 KiB of counters
  w.PutU64(1);
  EXPECT_FALSE(ModuleStats::Parse(w.bytes()).ok());
  ByteWriter w2;
  w2.PutU16(1);
  w2.PutU64(1);
  w2.PutU64(2);  // one whole field too many
  EXPECT_FALSE(ModuleStats::Parse(w2.bytes()).ok());
}

TEST(ModuleStatsTest, FieldNames) {
  EXPECT_STREQ(ModuleStats::FieldName(ModuleStats::kEventsAccepted), "events_accepted");
  EXPECT_STREQ(ModuleStats::FieldName(ModuleStats::kDisabled), "disabled");
  EXPECT_STREQ(ModuleStats::FieldName(-1), "unknown");
  EXPECT_STREQ(ModuleStats::FieldName(ModuleStats::kFieldCount), "unknown");
  for (int i = 0; i < ModuleStats::kFieldCount; ++i) {
    EXPECT_STRNE(ModuleStats::FieldName(i), "unknown");
  }
}

// ---------------------------------------------------------------- end to end

// Each message travels inside a frame and comes back out intact.
TEST(FrameTest, MessagesThroughFrames) {
  const Bytes data = Seq(33);
  struct Case {
    MsgType type;
    Bytes payload;
  };
  Connect c;
  c.src_module = 1;
  c.conn_id = 2;
  c.dst_module = 3;
  LoadModule lm;
  lm.name = "m";
  lm.binary = data;
  RegisterPeriodic rp;
  rp.period_ms = 5;
  const std::vector<Case> cases = {
      {MsgType::kHello, Hello{}.Encode()},
      {MsgType::kResult, EncodeResult(Status(Code::kNotFound, "x"), data)},
      {MsgType::kLoadModule, lm.Encode()},
      {MsgType::kSetKey, ModuleOp{4, 0, data}.Encode()},
      {MsgType::kConnect, c.Encode()},
      {MsgType::kRegisterPeriodic, rp.Encode()},
      {MsgType::kModuleStats, ModuleStats{}.Encode()},
      {MsgType::kEvent, ModuleOp{4, 9, data}.Encode()},
      {MsgType::kListModules, ListModules{"t"}.Encode()},
  };
  uint32_t id = 1;
  for (const Case& k : cases) {
    Bytes f = EncodeFrame(k.type, id, k.payload);
    uint32_t len;
    ASSERT_TRUE(ParseFrameLength(ByteSpan(f).first(4), &len).ok());
    ASSERT_EQ(len + 4, f.size());
    auto frame = ParseFrameBody(ByteSpan(f).subspan(4));
    ASSERT_TRUE(frame.ok());
    EXPECT_EQ(frame->type, k.type);
    EXPECT_EQ(frame->request_id, id);
    EXPECT_EQ(Bytes(frame->payload.begin(), frame->payload.end()), k.payload);
    ++id;
  }
}

// Peer-link frames (docs/protocol.md, "Peer links").
TEST(LinkMessagesTest, RoundTripAndRejection) {
  Bytes sealed = Seq(30);
  LinkEvent ev{7, ModuleOp{3, 9, sealed}, 0x0102030405060708};
  Bytes enc = ev.Encode();
  ASSERT_EQ(enc.size(), 8 + 12 + sealed.size() + LinkEvent::kTrailerSize);
  auto back = LinkEvent::Parse(enc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->seq, 7u);
  EXPECT_EQ(back->sent_at, 0x0102030405060708u) << "the trace stamp, outside the sealed event";
  EXPECT_EQ(Bytes(enc.end() - 8, enc.end()), Bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(back->op.module_id, 3u);
  EXPECT_EQ(back->op.aux, 9u);
  EXPECT_EQ(Bytes(back->op.data.begin(), back->op.data.end()), sealed);
  for (size_t n = 0; n < enc.size(); ++n) {
    if (n == enc.size() - 8) continue;  // the layout without the stamp, below
    EXPECT_FALSE(LinkEvent::Parse(Prefix(enc, n)).ok()) << n;
  }
  EXPECT_FALSE(LinkEvent::Parse(WithTrailer(enc)).ok());
  // The layout of senders older than the stamp: accepted, no stamp. Any
  // other length is refused (one byte short of the stamp, one over).
  const Bytes old_layout = Prefix(enc, enc.size() - 8);  // the parse's spans point into it
  auto old = LinkEvent::Parse(old_layout);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->sent_at, 0u);
  EXPECT_EQ(Bytes(old->op.data.begin(), old->op.data.end()), sealed);
  EXPECT_FALSE(LinkEvent::Parse(Prefix(enc, enc.size() - 1)).ok());
  EXPECT_FALSE(LinkEvent::Parse(Prefix(enc, enc.size() - 9)).ok());
  EXPECT_FALSE(LinkEvent::Parse(LinkEvent{0, ModuleOp{3, 9, sealed}}.Encode()).ok())
      << "sequence numbers start at 1";

  for (bool gap : {false, true}) {
    Bytes a = LinkAck{1234, gap}.Encode();
    ASSERT_EQ(a.size(), 9u);
    auto ack = LinkAck::Parse(a);
    ASSERT_TRUE(ack.ok());
    EXPECT_EQ(ack->through, 1234u);
    EXPECT_EQ(ack->gap, gap);
    EXPECT_FALSE(LinkAck::Parse(Prefix(a, 8)).ok());
    EXPECT_FALSE(LinkAck::Parse(WithTrailer(a)).ok());
  }
  Bytes bad_flags = LinkAck{1, false}.Encode();
  bad_flags.back() = 0x02;
  EXPECT_FALSE(LinkAck::Parse(bad_flags).ok()) << "unknown flags are refused";

  Bytes u = Undelivered{5, 6, 7}.Encode();
  auto un = Undelivered::Parse(u);
  ASSERT_TRUE(un.ok());
  EXPECT_EQ(un->module_id, 5u);
  EXPECT_EQ(un->conn_id, 6u);
  EXPECT_EQ(un->count, 7u);
  EXPECT_FALSE(Undelivered::Parse(Prefix(u, 11)).ok());
  EXPECT_FALSE(Undelivered::Parse(WithTrailer(u)).ok());
  EXPECT_FALSE(Undelivered::Parse(Undelivered{5, 6, 0}.Encode()).ok()) << "count >= 1";
}

}  // namespace
}  // namespace aex::wire
