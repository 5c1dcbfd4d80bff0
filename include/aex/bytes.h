// Bounds-checked byte readers and writers for every aex wire format, in the
// style of BoringSSL's CBS/CBB. All integers are big-endian.
//
// A ByteReader never reads past its span: every Read* returns false, consumes
// nothing, and leaves the output untouched when the data is too short. Parsers
// built on it therefore cannot overrun a buffer whatever the input.

#ifndef AEX_BYTES_H_
#define AEX_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aex {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

inline ByteSpan AsBytes(std::string_view s) {
  return ByteSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

class ByteReader {
 public:
  explicit ByteReader(ByteSpan data) : data_(data) {}

  size_t remaining() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  ByteSpan rest() const { return data_; }

  bool ReadU8(uint8_t* out);
  bool ReadU16(uint16_t* out);
  bool ReadU32(uint32_t* out);
  bool ReadU64(uint64_t* out);
  // Reads exactly n bytes.
  bool ReadBytes(size_t n, ByteSpan* out);
  // Reads a u32 length followed by that many bytes; fails if length > max_len.
  bool ReadLengthPrefixed(ByteSpan* out, size_t max_len = SIZE_MAX);
  // Reads a u16 length followed by that many bytes of text.
  bool ReadString16(std::string* out);
  bool Skip(size_t n);

 private:
  // Big-endian, sizeof(T) bytes: under every fixed-width read.
  template <typename T>
  bool ReadUint(T* out);
  ByteSpan data_;
};

class ByteWriter {
 public:
  ByteWriter() = default;
  explicit ByteWriter(size_t reserve) { out_.reserve(reserve); }

  void PutU8(uint8_t v) { out_.push_back(v); }
  void PutU16(uint16_t v) { PutUint(2, v); }
  void PutU32(uint32_t v) { PutUint(4, v); }
  void PutU64(uint64_t v) { PutUint(8, v); }
  void PutBytes(ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
  // u32 length + bytes.
  void PutLengthPrefixed(ByteSpan b);
  // u16 length + text; text beyond 65535 bytes is cut.
  void PutString16(std::string_view s);

  const Bytes& bytes() const { return out_; }
  Bytes Take() { return std::move(out_); }
  size_t size() const { return out_.size(); }

 private:
  void PutUint(size_t n, uint64_t v);  // big-endian, the low n bytes of v
  Bytes out_;
};

// Big-endian helpers for fixed-size fields inside nonces and headers.
void StoreU32(uint8_t* p, uint32_t v);
void StoreU64(uint8_t* p, uint64_t v);
uint32_t LoadU32(const uint8_t* p);
uint64_t LoadU64(const uint8_t* p);

std::string HexEncode(ByteSpan b);
// Returns false on odd length or a non-hex digit.
bool HexDecode(std::string_view hex, Bytes* out);

}  // namespace aex

#endif  // AEX_BYTES_H_
