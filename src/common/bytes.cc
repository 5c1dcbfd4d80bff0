#include "aex/bytes.h"

namespace aex {

template <typename T>
bool ByteReader::ReadUint(T* out) {
  if (data_.size() < sizeof(T)) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = (v << 8) | data_[i];
  data_ = data_.subspan(sizeof(T));
  *out = static_cast<T>(v);
  return true;
}

bool ByteReader::ReadBytes(size_t n, ByteSpan* out) {
  if (data_.size() < n) return false;
  *out = data_.first(n);
  data_ = data_.subspan(n);
  return true;
}

bool ByteReader::ReadLengthPrefixed(ByteSpan* out, size_t max_len) {
  ByteReader copy = *this;
  uint32_t len;
  if (!copy.ReadU32(&len) || len > max_len || !copy.ReadBytes(len, out)) return false;
  *this = copy;
  return true;
}

bool ByteReader::ReadString16(std::string* out) {
  ByteReader copy = *this;
  uint16_t len;
  ByteSpan b;
  if (!copy.ReadU16(&len) || !copy.ReadBytes(len, &b)) return false;
  out->assign(b.begin(), b.end());
  *this = copy;
  return true;
}

bool ByteReader::ReadU8(uint8_t* out) { return ReadUint(out); }
bool ByteReader::ReadU16(uint16_t* out) { return ReadUint(out); }
bool ByteReader::ReadU32(uint32_t* out) { return ReadUint(out); }
bool ByteReader::ReadU64(uint64_t* out) { return ReadUint(out); }

bool ByteReader::Skip(size_t n) {
  ByteSpan ignored;
  return ReadBytes(n, &ignored);
}

void ByteWriter::PutUint(size_t n, uint64_t v) {
  for (size_t i = n; i-- > 0;) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void ByteWriter::PutLengthPrefixed(ByteSpan b) {
  PutU32(static_cast<uint32_t>(b.size()));
  PutBytes(b);
}

void ByteWriter::PutString16(std::string_view s) {
  // Longer text is cut, never written with a wrapped length (which would make
  // the rest of the message parse as different fields).
  s = s.substr(0, 65535);
  PutU16(static_cast<uint16_t>(s.size()));
  PutBytes(AsBytes(s));
}

void StoreU32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

void StoreU64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

uint32_t LoadU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint64_t LoadU64(const uint8_t* p) {
  return (uint64_t{LoadU32(p)} << 32) | LoadU32(p + 4);
}

}  // namespace aex
