// Tests of the bounds-checked ByteReader / ByteWriter (include/aex/bytes.h),
// the big-endian helpers and hex encoding.
//
// The property every wire parser relies on: a ByteReader never reads past its
// span, and a read that fails consumes nothing and leaves its output alone.

#include "aex/bytes.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace aex {
namespace {

Bytes Seq(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i + 1);
  return b;
}

// Every fixed-width read on every input shorter than its width fails, does not
// consume, and does not touch its output. The reader sees only a heap copy of
// exactly the short input, so ASan would flag any over-read.
TEST(ByteReaderTest, FixedWidthReadsOnShortInputFailWithoutConsuming) {
  const Bytes full = Seq(8);
  for (size_t n = 0; n < 8; ++n) {
    Bytes input(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    ByteReader r(input);
    if (n < 1) {
      uint8_t v = 0xAA;
      EXPECT_FALSE(r.ReadU8(&v));
      EXPECT_EQ(v, 0xAA);
      EXPECT_EQ(r.remaining(), n);
    }
    if (n < 2) {
      uint16_t v = 0xAAAA;
      EXPECT_FALSE(r.ReadU16(&v));
      EXPECT_EQ(v, 0xAAAA);
      EXPECT_EQ(r.remaining(), n);
    }
    if (n < 4) {
      uint32_t v = 0xAAAAAAAA;
      EXPECT_FALSE(r.ReadU32(&v));
      EXPECT_EQ(v, 0xAAAAAAAAu);
      EXPECT_EQ(r.remaining(), n);
    }
    uint64_t v = 0xAAAAAAAAAAAAAAAAull;
    EXPECT_FALSE(r.ReadU64(&v)) << n;
    EXPECT_EQ(v, 0xAAAAAAAAAAAAAAAAull);
    EXPECT_EQ(r.remaining(), n);

    ByteSpan out(full.data(), 3);
    EXPECT_FALSE(r.ReadBytes(n + 1, &out));
    EXPECT_EQ(out.data(), full.data());
    EXPECT_EQ(out.size(), 3u);
    EXPECT_EQ(r.remaining(), n);
    EXPECT_FALSE(r.Skip(n + 1));
    EXPECT_EQ(r.remaining(), n);
    // What does fit is still readable afterwards.
    EXPECT_TRUE(r.Skip(n));
    EXPECT_TRUE(r.empty());
  }
}

TEST(ByteReaderTest, ReadsBigEndian) {
  const Bytes in = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                    0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11};
  ByteReader r(in);
  uint8_t a;
  uint16_t b;
  uint32_t c;
  uint64_t d;
  ASSERT_TRUE(r.ReadU8(&a));
  ASSERT_TRUE(r.ReadU16(&b));
  ASSERT_TRUE(r.ReadU32(&c));
  ASSERT_TRUE(r.ReadU64(&d));
  EXPECT_EQ(a, 0x01);
  EXPECT_EQ(b, 0x0203);
  EXPECT_EQ(c, 0x04050607u);
  EXPECT_EQ(d, 0x08090a0b0c0d0e0full);
  EXPECT_EQ(r.remaining(), 2u);
  ByteSpan rest = r.rest();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0], 0x10);
  EXPECT_EQ(rest.data(), in.data() + 15);  // a view, not a copy
}

TEST(ByteReaderTest, EmptyInput) {
  ByteReader r(ByteSpan{});
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.remaining(), 0u);
  ByteSpan out;
  EXPECT_TRUE(r.ReadBytes(0, &out));  // zero bytes always fit
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(r.Skip(0));
  uint8_t v;
  EXPECT_FALSE(r.ReadU8(&v));
  EXPECT_FALSE(r.ReadLengthPrefixed(&out));
  std::string s = "keep";
  EXPECT_FALSE(r.ReadString16(&s));
  EXPECT_EQ(s, "keep");
}

TEST(ByteReaderTest, ReadBytesHuge) {
  const Bytes in = Seq(4);
  ByteReader r(in);
  ByteSpan out;
  EXPECT_FALSE(r.ReadBytes(SIZE_MAX, &out));
  EXPECT_FALSE(r.Skip(SIZE_MAX));
  EXPECT_EQ(r.remaining(), 4u);
}

TEST(ByteReaderTest, LengthPrefixedExactFit) {
  ByteWriter w;
  w.PutLengthPrefixed(Seq(5));
  w.PutU8(0x77);
  Bytes in = w.Take();
  ASSERT_EQ(in.size(), 4u + 5u + 1u);
  ByteReader r(in);
  ByteSpan out;
  ASSERT_TRUE(r.ReadLengthPrefixed(&out, 5));
  EXPECT_EQ(Bytes(out.begin(), out.end()), Seq(5));
  EXPECT_EQ(out.data(), in.data() + 4);
  uint8_t tail;
  ASSERT_TRUE(r.ReadU8(&tail));
  EXPECT_EQ(tail, 0x77);
  EXPECT_TRUE(r.empty());
}

// A length that claims more than is there, at every truncation point, fails
// and consumes nothing (not even the 4 length bytes).
TEST(ByteReaderTest, LengthPrefixedTruncatedAtEveryLength) {
  ByteWriter w;
  w.PutLengthPrefixed(Seq(6));
  const Bytes full = w.Take();
  for (size_t n = 0; n < full.size(); ++n) {
    Bytes in(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    ByteReader r(in);
    ByteSpan out(full.data(), 1);
    EXPECT_FALSE(r.ReadLengthPrefixed(&out)) << n;
    EXPECT_EQ(r.remaining(), n);
    EXPECT_EQ(out.data(), full.data());
    EXPECT_EQ(out.size(), 1u);
  }
}

TEST(ByteReaderTest, LengthPrefixedRespectsMax) {
  ByteWriter w;
  w.PutLengthPrefixed(Seq(10));
  const Bytes in = w.Take();
  for (size_t max = 0; max < 10; ++max) {
    ByteReader r(in);
    ByteSpan out;
    EXPECT_FALSE(r.ReadLengthPrefixed(&out, max)) << max;
    EXPECT_EQ(r.remaining(), in.size());
  }
  ByteReader r(in);
  ByteSpan out;
  EXPECT_TRUE(r.ReadLengthPrefixed(&out, 10));
  EXPECT_TRUE(r.empty());
}

TEST(ByteReaderTest, LengthPrefixedMaxLengthHeader) {
  // 0xffffffff claims 4 GiB with 3 bytes present.
  const Bytes in = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
  ByteReader r(in);
  ByteSpan out;
  EXPECT_FALSE(r.ReadLengthPrefixed(&out));
  EXPECT_EQ(r.remaining(), in.size());
}

TEST(ByteReaderTest, LengthPrefixedEmpty) {
  const Bytes in = {0, 0, 0, 0};
  ByteReader r(in);
  ByteSpan out(in.data(), 2);
  ASSERT_TRUE(r.ReadLengthPrefixed(&out, 0));
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(r.empty());
}

TEST(ByteReaderTest, String16RoundTripAndTruncation) {
  ByteWriter w;
  w.PutString16("hello");
  w.PutString16("");
  const Bytes full = w.Take();
  ASSERT_EQ(full.size(), 2u + 5u + 2u);
  {
    ByteReader r(full);
    std::string a = "x", b = "y";
    ASSERT_TRUE(r.ReadString16(&a));
    ASSERT_TRUE(r.ReadString16(&b));
    EXPECT_EQ(a, "hello");
    EXPECT_EQ(b, "");
    EXPECT_TRUE(r.empty());
  }
  for (size_t n = 0; n < 7; ++n) {
    Bytes in(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    ByteReader r(in);
    std::string s = "untouched";
    EXPECT_FALSE(r.ReadString16(&s)) << n;
    EXPECT_EQ(s, "untouched");
    EXPECT_EQ(r.remaining(), n);
  }
}

TEST(ByteReaderTest, String16MaxLength) {
  std::string big(65535, 'z');
  ByteWriter w;
  w.PutString16(big);
  Bytes in = w.Take();
  ASSERT_EQ(in.size(), 65537u);
  EXPECT_EQ(in[0], 0xff);
  EXPECT_EQ(in[1], 0xff);
  ByteReader r(in);
  std::string out;
  ASSERT_TRUE(r.ReadString16(&out));
  EXPECT_EQ(out, big);
}

TEST(ByteReaderTest, String16CarriesArbitraryBytes) {
  const std::string s("a\0b\xff", 4);
  ByteWriter w;
  w.PutString16(s);
  Bytes in = w.Take();
  ByteReader r(in);
  std::string out;
  ASSERT_TRUE(r.ReadString16(&out));
  EXPECT_EQ(out, s);
}

TEST(ByteWriterTest, EncodesBigEndian) {
  ByteWriter w(64);
  w.PutU8(0x01);
  w.PutU16(0x0203);
  w.PutU32(0x04050607);
  w.PutU64(0x08090a0b0c0d0e0full);
  const Bytes expected = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                          0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
  EXPECT_EQ(w.size(), expected.size());
  EXPECT_EQ(w.bytes(), expected);
  EXPECT_EQ(w.Take(), expected);
}

TEST(ByteWriterTest, ExtremeValuesRoundTrip) {
  ByteWriter w;
  w.PutU16(0);
  w.PutU16(0xffff);
  w.PutU32(0);
  w.PutU32(0xffffffffu);
  w.PutU64(0);
  w.PutU64(UINT64_MAX);
  Bytes in = w.Take();
  ByteReader r(in);
  uint16_t a, b;
  uint32_t c, d;
  uint64_t e, f;
  ASSERT_TRUE(r.ReadU16(&a) && r.ReadU16(&b) && r.ReadU32(&c) && r.ReadU32(&d) && r.ReadU64(&e) &&
              r.ReadU64(&f));
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 0xffff);
  EXPECT_EQ(c, 0u);
  EXPECT_EQ(d, 0xffffffffu);
  EXPECT_EQ(e, 0u);
  EXPECT_EQ(f, UINT64_MAX);
  EXPECT_TRUE(r.empty());
}

TEST(BigEndianTest, StoreLoad) {
  uint8_t b[8] = {};
  StoreU32(b, 0xdeadbeef);
  EXPECT_EQ(b[0], 0xde);
  EXPECT_EQ(b[3], 0xef);
  EXPECT_EQ(LoadU32(b), 0xdeadbeefu);
  StoreU64(b, 0x0123456789abcdefull);
  EXPECT_EQ(b[0], 0x01);
  EXPECT_EQ(b[7], 0xef);
  EXPECT_EQ(LoadU64(b), 0x0123456789abcdefull);
  StoreU64(b, UINT64_MAX);
  EXPECT_EQ(LoadU64(b), UINT64_MAX);
}

TEST(HexTest, EncodeKnown) {
  EXPECT_EQ(HexEncode({}), "");
  const Bytes b = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff};
  EXPECT_EQ(HexEncode(b), "0001abcdefff");
}

TEST(HexTest, RoundTripAllByteValues) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  std::string hex = HexEncode(all);
  EXPECT_EQ(hex.size(), 512u);
  Bytes back;
  ASSERT_TRUE(HexDecode(hex, &back));
  EXPECT_EQ(back, all);
}

TEST(HexTest, DecodeAcceptsUpperCase) {
  Bytes out;
  ASSERT_TRUE(HexDecode("DEADbeefA0", &out));
  EXPECT_EQ(out, (Bytes{0xde, 0xad, 0xbe, 0xef, 0xa0}));
  ASSERT_TRUE(HexDecode("", &out));
  EXPECT_TRUE(out.empty());
}

TEST(HexTest, DecodeRejectsBadInputAndLeavesOutput) {
  const Bytes sentinel = {0x42};
  for (const char* bad :
       {"0", "abc", "0g", "g0", "zz", "12 4", " 1", "0x12", "1-", "12\n", "ab:cd", "\xff\xff"}) {
    Bytes out = sentinel;
    EXPECT_FALSE(HexDecode(bad, &out)) << bad;
    EXPECT_EQ(out, sentinel) << bad;
  }
  // Embedded NUL.
  Bytes out = sentinel;
  EXPECT_FALSE(HexDecode(std::string_view("a\0", 2), &out));
  EXPECT_EQ(out, sentinel);
}

}  // namespace
}  // namespace aex
