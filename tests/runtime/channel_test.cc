// Tests of the channel cryptography (src/runtime/channel.h): event sealing
// and its nonces, key grants and disable commands. Every test runs for each
// cipher built into this binary (AES-128-GCM always, SpongeWrap when
// src/crypto/spongent.cc is present).

#include "attest/issue.h"
#include "runtime/channel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace aex::channel {
namespace {

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 8));
  return b;
}

crypto::Key TestKey(uint8_t seed) {
  crypto::Key k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed * 17 + i);
  return k;
}

class ChannelTest : public testing::TestWithParam<Cipher> {
 protected:
  void SetUp() override {
    aead_ = NewCipher(GetParam(), TestKey(1));
    if (!aead_) GTEST_SKIP() << "cipher not built into this binary";
  }
  std::unique_ptr<crypto::Aead> Other(uint8_t seed) { return NewCipher(GetParam(), TestKey(seed)); }
  // SpongeWrap processes 16 bits per permutation call: keep its big sizes
  // modest so the suite stays fast.
  size_t MaxSize() const { return GetParam() == Cipher::kAes ? (size_t{1} << 20) : 8192; }

  std::unique_ptr<crypto::Aead> aead_;
};

std::string CipherName(const testing::TestParamInfo<Cipher>& info) {
  return info.param == Cipher::kAes ? "Aes" : "Spongent";
}

INSTANTIATE_TEST_SUITE_P(AllCiphers, ChannelTest, testing::Values(Cipher::kAes, Cipher::kSpongent),
                         CipherName);

// ---------------------------------------------------------------- events

TEST_P(ChannelTest, EventRoundTripSizes) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{1000},
                   size_t{65536}, size_t{1} << 20}) {
    if (n > MaxSize()) continue;
    SCOPED_TRACE(n);
    const Bytes pt = Pattern(n, static_cast<uint8_t>(n));
    Bytes out = {0xee, 0xef};  // SealEvent appends
    const uint64_t counter = 1000 + n;
    ASSERT_TRUE(SealEvent(*aead_, 7, Direction::kForward, counter, pt, &out).ok());
    ASSERT_EQ(out.size(), 2 + n + kEventOverhead);
    EXPECT_EQ(out[0], 0xee);
    EXPECT_EQ(out[1], 0xef);
    EXPECT_EQ(LoadU64(out.data() + 2), counter);  // the counter travels in the clear
    uint64_t got = 0;
    Bytes back = {1, 2, 3};
    ASSERT_TRUE(
        OpenEvent(*aead_, 7, Direction::kForward, ByteSpan(out).subspan(2), &got, &back).ok());
    EXPECT_EQ(got, counter);
    EXPECT_EQ(back, pt);
  }
}

TEST_P(ChannelTest, CiphertextHidesPlaintext) {
  const Bytes pt(64, 0);
  Bytes out;
  ASSERT_TRUE(SealEvent(*aead_, 1, Direction::kForward, 1, pt, &out).ok());
  EXPECT_NE(Bytes(out.begin() + 8, out.begin() + 8 + 64), pt);
}

TEST(EventNonceTest, Layout) {
  crypto::Nonce n = EventNonce(0x01020304, Direction::kForward, 0x0a0b0c0d0e0f1011ull);
  const crypto::Nonce expected_f = {1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11};
  EXPECT_EQ(n, expected_f);
  n = EventNonce(0x01020304, Direction::kBackward, 5);
  const crypto::Nonce expected_b = {1, 2, 3, 4, 0x80, 0, 0, 0, 0, 0, 0, 5};
  EXPECT_EQ(n, expected_b);
  n = EventNonce(0xffffffff, Direction::kForward, kMaxCounter);
  const crypto::Nonce expected_max = {0xff, 0xff, 0xff, 0xff, 0x7f, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(n, expected_max);
}

TEST(EventNonceTest, UniqueAcrossDirectionConnectionAndCounter) {
  std::set<crypto::Nonce> seen;
  size_t count = 0;
  for (uint32_t conn : {0u, 1u, 2u, 0x7fffffffu, 0x80000000u, 0xffffffffu}) {
    for (Direction dir : {Direction::kForward, Direction::kBackward}) {
      for (uint64_t c : {uint64_t{1}, uint64_t{2}, uint64_t{255}, uint64_t{256}, uint64_t{1} << 32,
                         kMaxCounter - 1, kMaxCounter}) {
        seen.insert(EventNonce(conn, dir, c));
        ++count;
      }
    }
  }
  EXPECT_EQ(seen.size(), count);
  // A request and its response share a counter but never a nonce.
  EXPECT_NE(EventNonce(9, Direction::kForward, 42), EventNonce(9, Direction::kBackward, 42));
  EXPECT_NE(EventNonce(9, Direction::kForward, 42), EventNonce(10, Direction::kForward, 42));
}

TEST_P(ChannelTest, SameInputDifferentNonceDifferentCiphertext) {
  const Bytes pt = Pattern(32, 3);
  Bytes a, b, c, d;
  ASSERT_TRUE(SealEvent(*aead_, 5, Direction::kForward, 1, pt, &a).ok());
  ASSERT_TRUE(SealEvent(*aead_, 5, Direction::kBackward, 1, pt, &b).ok());
  ASSERT_TRUE(SealEvent(*aead_, 6, Direction::kForward, 1, pt, &c).ok());
  ASSERT_TRUE(SealEvent(*aead_, 5, Direction::kForward, 2, pt, &d).ok());
  auto body = [](const Bytes& s) { return Bytes(s.begin() + 8, s.end()); };
  EXPECT_NE(body(a), body(b));
  EXPECT_NE(body(a), body(c));
  EXPECT_NE(body(a), body(d));
  EXPECT_NE(body(b), body(c));
}

TEST_P(ChannelTest, AnyTamperedByteFails) {
  const Bytes pt = Pattern(40, 9);
  Bytes sealed;
  ASSERT_TRUE(SealEvent(*aead_, 3, Direction::kForward, 77, pt, &sealed).ok());
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}}) {
      Bytes bad = sealed;
      bad[i] ^= flip;
      uint64_t got = 12345;
      Bytes back;
      Status s = OpenEvent(*aead_, 3, Direction::kForward, bad, &got, &back);
      EXPECT_FALSE(s.ok()) << "byte " << i;
      EXPECT_EQ(got, 12345u) << "counter set on failure";
    }
  }
  // Truncation and extension fail too.
  for (size_t n = 0; n < sealed.size(); ++n) {
    uint64_t got;
    Bytes back;
    EXPECT_FALSE(
        OpenEvent(*aead_, 3, Direction::kForward, ByteSpan(sealed).first(n), &got, &back).ok())
        << n;
  }
  Bytes longer = sealed;
  longer.push_back(0);
  uint64_t got;
  Bytes back;
  EXPECT_FALSE(OpenEvent(*aead_, 3, Direction::kForward, longer, &got, &back).ok());
}

TEST_P(ChannelTest, ShorterThanOverheadRejected) {
  for (size_t n = 0; n < kEventOverhead; ++n) {
    Bytes s(n, 0);
    if (n >= 8) StoreU64(s.data(), 1);
    uint64_t got = 0;
    Bytes back;
    Status st = OpenEvent(*aead_, 1, Direction::kForward, s, &got, &back);
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
  }
}

TEST_P(ChannelTest, CounterRangeOnSeal) {
  const Bytes pt = {1, 2, 3};
  for (uint64_t bad : {uint64_t{0}, kMaxCounter + 1, UINT64_MAX}) {
    Bytes out = {9};
    Status s = SealEvent(*aead_, 1, Direction::kForward, bad, pt, &out);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.code(), Code::kInvalidArgument);
    EXPECT_EQ(out, Bytes{9}) << "output touched on failure";
  }
  Bytes out;
  ASSERT_TRUE(SealEvent(*aead_, 1, Direction::kForward, kMaxCounter, pt, &out).ok());
  uint64_t got = 0;
  Bytes back;
  ASSERT_TRUE(OpenEvent(*aead_, 1, Direction::kForward, out, &got, &back).ok());
  EXPECT_EQ(got, kMaxCounter);
}

// A counter of 0 or with the top bit set is refused on open before any
// cryptography: a forward counter 2^63 | c would otherwise name the nonce of
// backward counter c.
TEST_P(ChannelTest, CounterRangeOnOpen) {
  const Bytes pt = Pattern(10, 1);
  Bytes backward;
  ASSERT_TRUE(SealEvent(*aead_, 4, Direction::kBackward, 5, pt, &backward).ok());
  for (uint64_t bad : {uint64_t{0}, kMaxCounter + 1, (uint64_t{1} << 63) | 5, UINT64_MAX}) {
    Bytes s = backward;
    StoreU64(s.data(), bad);
    uint64_t got = 0;
    Bytes back;
    Status st = OpenEvent(*aead_, 4, Direction::kForward, s, &got, &back);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.code(), Code::kAuthFailed) << bad;
    st = OpenEvent(*aead_, 4, Direction::kBackward, s, &got, &back);
    EXPECT_FALSE(st.ok()) << bad;
  }
}

TEST_P(ChannelTest, WrongDirectionConnectionOrKeyFails) {
  const Bytes pt = Pattern(20, 2);
  Bytes sealed;
  ASSERT_TRUE(SealEvent(*aead_, 11, Direction::kForward, 3, pt, &sealed).ok());
  uint64_t got;
  Bytes back;
  EXPECT_FALSE(OpenEvent(*aead_, 11, Direction::kBackward, sealed, &got, &back).ok());
  EXPECT_FALSE(OpenEvent(*aead_, 12, Direction::kForward, sealed, &got, &back).ok());
  EXPECT_FALSE(OpenEvent(*aead_, 11 | 0x80000000u, Direction::kForward, sealed, &got, &back).ok());
  auto other = Other(2);
  EXPECT_FALSE(OpenEvent(*other, 11, Direction::kForward, sealed, &got, &back).ok());
  // And the right parameters still work afterwards.
  ASSERT_TRUE(OpenEvent(*aead_, 11, Direction::kForward, sealed, &got, &back).ok());
  EXPECT_EQ(back, pt);

  Bytes response;
  ASSERT_TRUE(SealEvent(*aead_, 11, Direction::kBackward, 3, pt, &response).ok());
  EXPECT_FALSE(OpenEvent(*aead_, 11, Direction::kForward, response, &got, &back).ok());
  ASSERT_TRUE(OpenEvent(*aead_, 11, Direction::kBackward, response, &got, &back).ok());
}

// The documented event format, rebuilt from the primitive: counter ||
// Seal(nonce = EventNonce, ad = empty).
TEST_P(ChannelTest, EventFormatMatchesPrimitive) {
  const Bytes pt = Pattern(50, 4);
  Bytes sealed;
  ASSERT_TRUE(SealEvent(*aead_, 0xabcdef01, Direction::kBackward, 99, pt, &sealed).ok());
  Bytes expected(8 + pt.size() + crypto::kTagSize);
  StoreU64(expected.data(), 99);
  auto fresh = Other(1);
  ASSERT_TRUE(
      fresh->Seal(EventNonce(0xabcdef01, Direction::kBackward, 99), {}, pt, expected.data() + 8)
          .ok());
  EXPECT_EQ(sealed, expected);
}

TEST(NewCipherTest, Aes) {
  auto a = NewCipher(Cipher::kAes, TestKey(1));
  ASSERT_NE(a, nullptr);
  EXPECT_NE(dynamic_cast<crypto::AesGcm*>(a.get()), nullptr);
  EXPECT_EQ(NewCipher(static_cast<Cipher>(7), TestKey(1)), nullptr);
}

// ---------------------------------------------------------------- key grants

KeyGrant SampleGrant() {
  KeyGrant g;
  g.conn_id = 0x01020304;
  g.io_index = 0x0506;
  g.role = Role::kHandler;
  g.cipher = Cipher::kAes;
  g.nonce = 0x1112131415161718ull;
  g.key = TestKey(42);
  return g;
}

TEST_P(ChannelTest, GrantRoundTrip) {
  for (Role role : {Role::kOutput, Role::kInput, Role::kRequest, Role::kHandler}) {
    for (Cipher cipher : {Cipher::kAes, Cipher::kSpongent}) {
      KeyGrant g = SampleGrant();
      g.role = role;
      g.cipher = cipher;
      Bytes blob = WrapGrant(*aead_, 77, g);
      ASSERT_EQ(blob.size(), kGrantSize);
      auto back = UnwrapGrant(*aead_, 77, blob);
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      EXPECT_EQ(back->conn_id, g.conn_id);
      EXPECT_EQ(back->io_index, g.io_index);
      EXPECT_EQ(back->role, role);
      EXPECT_EQ(back->cipher, cipher);
      EXPECT_EQ(back->nonce, g.nonce);
      EXPECT_EQ(back->key, g.key);
    }
  }
}

// Bit 7 of the cipher byte marks a re-key; it is authenticated like the rest
// of the header.
TEST_P(ChannelTest, GrantRekeyFlag) {
  for (Cipher cipher : {Cipher::kAes, Cipher::kSpongent}) {
    KeyGrant g = SampleGrant();
    g.cipher = cipher;
    g.rekey = true;
    Bytes blob = WrapGrant(*aead_, 77, g);
    ASSERT_EQ(blob.size(), kGrantSize);
    EXPECT_EQ(blob[7], 0x80 | static_cast<uint8_t>(cipher));
    auto back = UnwrapGrant(*aead_, 77, blob);
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(back->rekey);
    EXPECT_EQ(back->cipher, cipher);
    EXPECT_EQ(back->key, g.key);
    Bytes cleared = blob;
    cleared[7] &= 0x7f;  // strip the flag: no longer authentic
    EXPECT_EQ(UnwrapGrant(*aead_, 77, cleared).status().code(), Code::kAuthFailed);
  }
  KeyGrant plain = SampleGrant();
  Bytes blob = WrapGrant(*aead_, 77, plain);
  EXPECT_EQ(blob[7] & 0x80, 0);
  auto back = UnwrapGrant(*aead_, 77, blob);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->rekey);
  blob[7] |= 0x80;  // add the flag: no longer authentic
  EXPECT_EQ(UnwrapGrant(*aead_, 77, blob).status().code(), Code::kAuthFailed);
}

TEST_P(ChannelTest, GrantLayout) {
  const KeyGrant g = SampleGrant();
  Bytes blob = WrapGrant(*aead_, 77, g);
  ASSERT_EQ(blob.size(), kGrantSize);
  const Bytes header = {1, 2, 3, 4, 5, 6, 3, 0, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
  EXPECT_EQ(Bytes(blob.begin(), blob.begin() + 16), header);
  // The key is not in the clear.
  EXPECT_EQ(std::search(blob.begin(), blob.end(), g.key.begin(), g.key.end()), blob.end());
  // Rebuilt from the primitive: nonce "GRNT" || u64 nonce, ad = u32 module id || header.
  crypto::Nonce nonce;
  std::memcpy(nonce.data(), "GRNT", 4);
  StoreU64(nonce.data() + 4, g.nonce);
  Bytes ad = {0, 0, 0, 77};
  ad.insert(ad.end(), header.begin(), header.end());
  Bytes sealed(crypto::kKeySize + crypto::kTagSize);
  auto fresh = Other(1);
  ASSERT_TRUE(fresh->Seal(nonce, ad, g.key, sealed.data()).ok());
  EXPECT_EQ(Bytes(blob.begin() + 16, blob.end()), sealed);
}

TEST_P(ChannelTest, GrantBoundToModuleAndKey) {
  Bytes blob = WrapGrant(*aead_, 77, SampleGrant());
  for (uint32_t other_id : {0u, 76u, 78u, 77u | 0x80000000u}) {
    auto r = UnwrapGrant(*aead_, other_id, blob);
    EXPECT_FALSE(r.ok()) << other_id;
    EXPECT_EQ(r.status().code(), Code::kAuthFailed);
  }
  auto other = Other(2);
  auto r = UnwrapGrant(*other, 77, blob);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kAuthFailed);
}

// Moving a grant to another connection, slot, role or cipher, or replaying it
// under another nonce, breaks its tag; so does changing any sealed byte.
TEST_P(ChannelTest, GrantAnyModifiedByteFails) {
  Bytes blob = WrapGrant(*aead_, 77, SampleGrant());
  for (size_t i = 0; i < blob.size(); ++i) {
    for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x02}, uint8_t{0x80}}) {
      Bytes bad = blob;
      bad[i] ^= flip;
      auto r = UnwrapGrant(*aead_, 77, bad);
      EXPECT_FALSE(r.ok()) << "byte " << i << " flip " << int{flip};
    }
  }
  ASSERT_TRUE(UnwrapGrant(*aead_, 77, blob).ok());
}

TEST_P(ChannelTest, GrantHeaderFieldsAuthenticated) {
  const Bytes blob = WrapGrant(*aead_, 77, SampleGrant());
  auto expect_auth_failure = [&](Bytes bad, const char* what) {
    auto r = UnwrapGrant(*aead_, 77, bad);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), Code::kAuthFailed) << what;
  };
  Bytes b = blob;
  StoreU32(b.data(), 0x01020305);
  expect_auth_failure(b, "conn id");
  b = blob;
  b[5] = 0x07;
  expect_auth_failure(b, "io index");
  for (uint8_t role : {uint8_t{0}, uint8_t{1}, uint8_t{2}}) {  // the grant's role is 3
    b = blob;
    b[6] = role;
    expect_auth_failure(b, "role");
  }
  b = blob;
  b[7] = 1;
  expect_auth_failure(b, "cipher");
  b = blob;
  StoreU64(b.data() + 8, SampleGrant().nonce + 1);
  expect_auth_failure(b, "nonce");
}

TEST_P(ChannelTest, GrantUnknownRoleOrCipherRejected) {
  const Bytes blob = WrapGrant(*aead_, 77, SampleGrant());
  for (uint8_t role : {uint8_t{4}, uint8_t{0xff}}) {
    Bytes b = blob;
    b[6] = role;
    auto r = UnwrapGrant(*aead_, 77, b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
  for (uint8_t cipher : {uint8_t{2}, uint8_t{0xff}}) {
    Bytes b = blob;
    b[7] = cipher;
    auto r = UnwrapGrant(*aead_, 77, b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
}

TEST_P(ChannelTest, GrantWrongSizeRejected) {
  const Bytes blob = WrapGrant(*aead_, 77, SampleGrant());
  for (size_t n = 0; n < kGrantSize; ++n) {
    auto r = UnwrapGrant(*aead_, 77, ByteSpan(blob).first(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
  Bytes longer = blob;
  longer.push_back(0);
  auto r = UnwrapGrant(*aead_, 77, longer);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
}

TEST_P(ChannelTest, GrantsUnderDifferentNoncesDiffer) {
  KeyGrant g = SampleGrant();
  Bytes a = WrapGrant(*aead_, 77, g);
  g.nonce += 1;
  Bytes b = WrapGrant(*aead_, 77, g);
  EXPECT_NE(Bytes(a.begin() + 16, a.begin() + 32), Bytes(b.begin() + 16, b.begin() + 32));
}

// ---------------------------------------------------------------- disable

TEST_P(ChannelTest, DisableRoundTripAndLayout) {
  for (uint64_t nonce : {uint64_t{1}, uint64_t{0x0102030405060708}, UINT64_MAX}) {
    Bytes blob = SealDisable(*aead_, 9, nonce);
    ASSERT_EQ(blob.size(), 8 + crypto::kTagSize);
    EXPECT_EQ(LoadU64(blob.data()), nonce);
    auto r = OpenDisable(*aead_, 9, blob);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, nonce);
    // Rebuilt from the primitive: tag of an empty plaintext under nonce
    // "DSBL" || u64 nonce with ad = u32 module id.
    crypto::Nonce n;
    std::memcpy(n.data(), "DSBL", 4);
    StoreU64(n.data() + 4, nonce);
    const uint8_t ad[4] = {0, 0, 0, 9};
    uint8_t tag[crypto::kTagSize];
    auto fresh = Other(1);
    ASSERT_TRUE(fresh->Seal(n, ByteSpan(ad, 4), {}, tag).ok());
    EXPECT_EQ(0, std::memcmp(blob.data() + 8, tag, sizeof tag));
  }
}

TEST_P(ChannelTest, DisableBoundToModuleKeyAndNonce) {
  const Bytes blob = SealDisable(*aead_, 9, 1234);
  EXPECT_EQ(OpenDisable(*aead_, 10, blob).status().code(), Code::kAuthFailed);
  EXPECT_EQ(OpenDisable(*aead_, 0, blob).status().code(), Code::kAuthFailed);
  auto other = Other(3);
  EXPECT_EQ(OpenDisable(*other, 9, blob).status().code(), Code::kAuthFailed);
  for (size_t i = 0; i < blob.size(); ++i) {
    Bytes bad = blob;
    bad[i] ^= 0x01;
    EXPECT_FALSE(OpenDisable(*aead_, 9, bad).ok()) << i;
  }
  ASSERT_TRUE(OpenDisable(*aead_, 9, blob).ok());
}

TEST_P(ChannelTest, DisableWrongSizeRejected) {
  const Bytes blob = SealDisable(*aead_, 9, 1234);
  for (size_t n = 0; n < blob.size(); ++n) {
    EXPECT_EQ(OpenDisable(*aead_, 9, ByteSpan(blob).first(n)).status().code(),
              Code::kInvalidArgument)
        << n;
  }
  Bytes longer = blob;
  longer.push_back(0);
  EXPECT_EQ(OpenDisable(*aead_, 9, longer).status().code(), Code::kInvalidArgument);
}

// A grant and a disable command live under the same module key; their
// nonces are domain-separated ("GRNT" vs "DSBL"), so neither can stand for the
// other even with equal deployer nonces.
TEST_P(ChannelTest, GrantAndDisableDomainSeparated) {
  KeyGrant g = SampleGrant();
  g.nonce = 5;
  const Bytes grant = WrapGrant(*aead_, 9, g);
  const Bytes disable = SealDisable(*aead_, 9, 5);
  // A disable blob built from the grant's tag does not open.
  Bytes forged(8 + crypto::kTagSize);
  StoreU64(forged.data(), 5);
  std::copy(grant.end() - crypto::kTagSize, grant.end(), forged.begin() + 8);
  EXPECT_FALSE(OpenDisable(*aead_, 9, forged).ok());
  EXPECT_TRUE(OpenDisable(*aead_, 9, disable).ok());
}

}  // namespace
}  // namespace aex::channel
