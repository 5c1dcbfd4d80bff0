// Tests of the OpenSSL wrappers (src/crypto/crypto.h) against published test
// vectors and against a direct OpenSSL EVP computation:
//   AES-128-GCM  McGrew & Viega, "The Galois/Counter Mode of Operation",
//                test cases 1-4 (AES-128, 96-bit IV)
//   HKDF-SHA256  RFC 5869 test cases 1 and 3
//   HMAC-SHA256  RFC 4231 test cases 1 and 2
//   SHA-256      FIPS 180-2 "abc" and the empty string

#include "crypto/crypto.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aex::crypto {
namespace {

Bytes FromHex(std::string_view hex) {
  Bytes out;
  EXPECT_TRUE(HexDecode(hex, &out)) << hex;
  return out;
}

Key KeyFromHex(std::string_view hex) {
  Bytes b = FromHex(hex);
  Key k{};
  EXPECT_EQ(b.size(), k.size());
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

Nonce NonceFromHex(std::string_view hex) {
  Bytes b = FromHex(hex);
  Nonce n{};
  EXPECT_EQ(b.size(), n.size());
  std::copy(b.begin(), b.end(), n.begin());
  return n;
}

std::string Hex(ByteSpan b) { return HexEncode(b); }

// ---------------------------------------------------------------- AES-128-GCM

struct GcmVector {
  const char* name;
  const char* key;
  const char* iv;
  const char* plaintext;
  const char* ad;
  const char* ciphertext;
  const char* tag;
};

// The GCM specification's test cases for AES-128 with a 96-bit IV.
const GcmVector kGcmVectors[] = {
    {"TC1", "00000000000000000000000000000000", "000000000000000000000000", "", "", "",
     "58e2fccefa7e3061367f1d57a4e7455a"},
    {"TC2", "00000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "", "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {"TC3", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"TC4", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
};

TEST(AesGcmTest, SpecTestVectors) {
  for (const GcmVector& v : kGcmVectors) {
    SCOPED_TRACE(v.name);
    AesGcm aead(KeyFromHex(v.key));
    const Nonce nonce = NonceFromHex(v.iv);
    const Bytes pt = FromHex(v.plaintext), ad = FromHex(v.ad);
    Bytes sealed(pt.size() + kTagSize);
    ASSERT_TRUE(aead.Seal(nonce, ad, pt, sealed.data()).ok());
    EXPECT_EQ(Hex(ByteSpan(sealed).first(pt.size())), v.ciphertext);
    EXPECT_EQ(Hex(ByteSpan(sealed).subspan(pt.size())), v.tag);

    Bytes opened(pt.size() + 1, 0xcc);  // +1: never empty, so data() is valid
    ASSERT_TRUE(aead.Open(nonce, ad, sealed, opened.data()).ok());
    EXPECT_EQ(Bytes(opened.begin(), opened.begin() + static_cast<std::ptrdiff_t>(pt.size())), pt);
    EXPECT_EQ(opened.back(), 0xcc);  // no write past the plaintext
  }
}

// The same computation straight through OpenSSL's EVP interface, with a fresh
// context per message: the wrapper's reused context must give identical bytes.
Bytes EvpSeal(const Key& key, const Nonce& nonce, ByteSpan ad, ByteSpan pt) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  Bytes out(pt.size() + kTagSize);
  int len = 0, len2 = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, nullptr, nullptr), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr), 1);
  EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data()), 1);
  if (!ad.empty()) {
    EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), nullptr, &len, ad.data(), static_cast<int>(ad.size())),
              1);
  }
  EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), out.data(), &len, pt.data(), static_cast<int>(pt.size())),
            1);
  EXPECT_EQ(EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &len2), 1);
  EXPECT_EQ(static_cast<size_t>(len + len2), pt.size());
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, out.data() + pt.size()),
            1);
  return out;
}

TEST(AesGcmTest, MatchesRawEvp) {
  Key key;
  ASSERT_TRUE(RandomBytes(key).ok());
  AesGcm aead(key);  // one instance for every message: context reuse
  for (size_t pt_len : {0, 1, 15, 16, 17, 31, 64, 1000, 4096, 65537}) {
    for (size_t ad_len : {0, 1, 4, 20, 33}) {
      SCOPED_TRACE(testing::Message() << "pt " << pt_len << " ad " << ad_len);
      Nonce nonce;
      Bytes pt(pt_len), ad(ad_len);
      ASSERT_TRUE(RandomBytes(nonce).ok());
      ASSERT_TRUE(RandomBytes(pt).ok());
      ASSERT_TRUE(RandomBytes(ad).ok());
      Bytes ours(pt_len + kTagSize);
      ASSERT_TRUE(aead.Seal(nonce, ad, pt, ours.data()).ok());
      Bytes theirs = EvpSeal(key, nonce, ad, pt);
      ASSERT_EQ(ours, theirs);
      Bytes back(pt_len + 1);
      ASSERT_TRUE(aead.Open(nonce, ad, theirs, back.data()).ok());
      back.pop_back();
      EXPECT_EQ(back, pt);
    }
  }
}

TEST(AesGcmTest, SealInPlace) {
  const Key key = KeyFromHex("feffe9928665731c6d6a8f9467308308");
  const GcmVector& v = kGcmVectors[2];
  Bytes buf = FromHex(v.plaintext);
  const size_t n = buf.size();
  buf.resize(n + kTagSize);
  AesGcm aead(key);
  ASSERT_TRUE(aead.Seal(NonceFromHex(v.iv), {}, ByteSpan(buf).first(n), buf.data()).ok());
  EXPECT_EQ(Hex(ByteSpan(buf).first(n)), v.ciphertext);
  EXPECT_EQ(Hex(ByteSpan(buf).subspan(n)), v.tag);
}

TEST(AesGcmTest, OpenRejectsAnyChangeAndWipesOutput) {
  Key key;
  Nonce nonce;
  ASSERT_TRUE(RandomBytes(key).ok());
  ASSERT_TRUE(RandomBytes(nonce).ok());
  const Bytes pt(48, 0x5a), ad = {1, 2, 3};
  AesGcm aead(key);
  Bytes sealed(pt.size() + kTagSize);
  ASSERT_TRUE(aead.Seal(nonce, ad, pt, sealed.data()).ok());

  auto expect_wiped_failure = [&](const Nonce& n, ByteSpan a, ByteSpan s) {
    Bytes out(s.size() >= kTagSize ? s.size() - kTagSize : 0, 0xAA);
    out.push_back(0xBB);  // sentinel just past the output
    Status st = aead.Open(n, a, s, out.data());
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Code::kAuthFailed);
    for (size_t i = 0; i + 1 < out.size(); ++i) ASSERT_EQ(out[i], 0) << "byte " << i;
    EXPECT_EQ(out.back(), 0xBB);
  };
  for (size_t i = 0; i < sealed.size(); ++i) {
    Bytes bad = sealed;
    bad[i] ^= 0x01;
    expect_wiped_failure(nonce, ad, bad);
  }
  Nonce other = nonce;
  other[11] ^= 0x80;
  expect_wiped_failure(other, ad, sealed);
  const Bytes other_ad = {1, 2, 4};
  expect_wiped_failure(nonce, other_ad, sealed);
  expect_wiped_failure(nonce, {}, sealed);
  // Truncated (a shorter ciphertext with the original tag, or a cut tag).
  expect_wiped_failure(nonce, ad, ByteSpan(sealed).first(sealed.size() - 1));
  Bytes short_ct(sealed.begin() + 1, sealed.end());
  expect_wiped_failure(nonce, ad, short_ct);

  // The context is still good after failures.
  Bytes out(pt.size());
  ASSERT_TRUE(aead.Open(nonce, ad, sealed, out.data()).ok());
  EXPECT_EQ(out, pt);
}

TEST(AesGcmTest, ShorterThanTagFails) {
  AesGcm aead(Key{});
  uint8_t out[1] = {0x77};
  for (size_t n = 0; n < kTagSize; ++n) {
    Bytes s(n, 0);
    Status st = aead.Open(Nonce{}, {}, s, out);
    EXPECT_FALSE(st.ok()) << n;
    EXPECT_EQ(st.code(), Code::kAuthFailed);
  }
  EXPECT_EQ(out[0], 0x77);
}

TEST(AesGcmTest, WrongKeyFails) {
  Key k1{}, k2{};
  k2[0] = 1;
  AesGcm a(k1), b(k2);
  const Bytes pt = {1, 2, 3, 4};
  Bytes sealed(pt.size() + kTagSize);
  ASSERT_TRUE(a.Seal(Nonce{}, {}, pt, sealed.data()).ok());
  Bytes out(pt.size(), 0xAA);
  EXPECT_FALSE(b.Open(Nonce{}, {}, sealed, out.data()).ok());
  EXPECT_EQ(out, Bytes(pt.size(), 0));
}

TEST(AesGcmTest, EmptyPlaintextTagOnly) {
  AesGcm aead(KeyFromHex("00000000000000000000000000000000"));
  uint8_t tag[kTagSize];
  const Bytes ad = {9, 9};
  ASSERT_TRUE(aead.Seal(Nonce{}, ad, {}, tag).ok());
  uint8_t none[1];
  EXPECT_TRUE(aead.Open(Nonce{}, ad, ByteSpan(tag, kTagSize), none).ok());
  tag[0] ^= 1;
  EXPECT_FALSE(aead.Open(Nonce{}, ad, ByteSpan(tag, kTagSize), none).ok());
}

// ---------------------------------------------------------------- hashes, KDF

TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(Hex(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(HmacSha256Test, Rfc4231) {
  // Test case 1.
  const Bytes key1(20, 0x0b);
  EXPECT_EQ(Hex(HmacSha256(key1, AsBytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the block.
  EXPECT_EQ(Hex(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HkdfTest, Rfc5869Case1) {
  const Bytes ikm(22, 0x0b);
  const Bytes salt = FromHex("000102030405060708090a0b0c");
  const Bytes info = FromHex("f0f1f2f3f4f5f6f7f8f9");
  Bytes okm(42);
  ASSERT_TRUE(Hkdf(ikm, salt, info, okm).ok());
  EXPECT_EQ(Hex(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  // The PRK of the same case is HMAC(salt, IKM): cross-check the two wrappers.
  EXPECT_EQ(Hex(HmacSha256(salt, ikm)),
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
}

constexpr const char* kRfc5869Case3Okm =
    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8";

TEST(HkdfTest, Rfc5869Case3EmptySaltAndInfo) {
  const Bytes ikm(22, 0x0b);
  // Zero-length salt and info given as non-null empty spans.
  const uint8_t nothing[1] = {0};
  Bytes okm(42);
  ASSERT_TRUE(Hkdf(ikm, ByteSpan(nothing, 0), ByteSpan(nothing, 0), okm).ok());
  EXPECT_EQ(Hex(okm), kRfc5869Case3Okm);
  // Empty info as a default-constructed (null) span.
  ASSERT_TRUE(Hkdf(ikm, ByteSpan(nothing, 0), {}, okm).ok());
  EXPECT_EQ(Hex(okm), kRfc5869Case3Okm);
}

// KNOWN BUG (src/crypto/crypto.cc, Hkdf): a default-constructed empty salt
// (data() == nullptr) makes OpenSSL 3's EVP_PKEY_CTX_set1_hkdf_salt fail, so
// Hkdf returns "HKDF failed" for a legal RFC 5869 input. Enable this test once
// Hkdf skips the salt call for an empty salt.
TEST(HkdfTest, Rfc5869Case3NullEmptySalt) {
  const Bytes ikm(22, 0x0b);
  Bytes okm(42);
  ASSERT_TRUE(Hkdf(ikm, {}, {}, okm).ok());
  EXPECT_EQ(Hex(okm), kRfc5869Case3Okm);
}

TEST(HkdfTest, PrefixProperty) {
  // HKDF output for a shorter length is a prefix of the longer one.
  const Bytes ikm(16, 0x42), salt = {1}, info = {2};
  Bytes a(16), b(255 * 32);
  ASSERT_TRUE(Hkdf(ikm, salt, info, a).ok());
  ASSERT_TRUE(Hkdf(ikm, salt, info, b).ok());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size()));
}

// ---------------------------------------------------------------- helpers

TEST(EqualTest, ComparesContentAndLength) {
  const Bytes a = {1, 2, 3}, b = {1, 2, 3}, c = {1, 2, 4}, d = {1, 2};
  EXPECT_TRUE(Equal(a, b));
  EXPECT_FALSE(Equal(a, c));
  EXPECT_FALSE(Equal(a, d));
  EXPECT_FALSE(Equal(d, a));
  EXPECT_TRUE(Equal({}, {}));
  EXPECT_FALSE(Equal({}, a));
  Bytes x(1000, 7), y(1000, 7);
  EXPECT_TRUE(Equal(x, y));
  y[999] = 8;
  EXPECT_FALSE(Equal(x, y));
  y[999] = 7;
  y[0] = 8;
  EXPECT_FALSE(Equal(x, y));
}

TEST(WipeTest, Zeroes) {
  Bytes b(37, 0xff);
  Wipe(b);
  EXPECT_EQ(b, Bytes(37, 0));
  Wipe({});  // empty is fine
}

TEST(RandomBytesTest, FillsAndDiffers) {
  Bytes a(32), b(32);
  ASSERT_TRUE(RandomBytes(a).ok());
  ASSERT_TRUE(RandomBytes(b).ok());
  EXPECT_NE(a, b);
  EXPECT_NE(a, Bytes(32, 0));
  EXPECT_TRUE(RandomBytes({}).ok());
}

}  // namespace
}  // namespace aex::crypto
