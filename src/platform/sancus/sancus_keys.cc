#include "platform/sancus/sancus_keys.h"

#include "crypto/spongent.h"

namespace aex::tee {
namespace {

crypto::Key ToKey(const std::array<uint8_t, 16>& a) {
  crypto::Key k;
  std::copy(a.begin(), a.end(), k.begin());
  return k;
}

}  // namespace

crypto::Key SancusVendorKey(const crypto::Key& node_key, uint16_t vendor_id) {
  const uint8_t id[2] = {static_cast<uint8_t>(vendor_id), static_cast<uint8_t>(vendor_id >> 8)};
  return ToKey(crypto::SancusKdf(node_key, id));
}

crypto::Key SancusModuleKey(const crypto::Key& vendor_key, const crypto::Digest& measurement,
                            uint8_t flags) {
  uint8_t identity[32 + 8];
  std::copy(measurement.begin(), measurement.end(), identity);
  const uint16_t layout[4] = {kSancusPublicStart, kSancusPublicEnd, kSancusSecretStart,
                              kSancusSecretEnd};
  for (int i = 0; i < 4; ++i) {
    identity[32 + 2 * i] = static_cast<uint8_t>(layout[i]);
    identity[33 + 2 * i] = static_cast<uint8_t>(layout[i] >> 8);
  }
  crypto::Key key = ToKey(crypto::SancusKdf(vendor_key, identity));
  if (flags == 0) return key;  // what Sancus hardware derives
  const uint8_t bound[] = {'a', 'e', 'x', '/', 'f', 'l', 'a', 'g', 's', flags};
  crypto::Key with_flags = ToKey(crypto::SancusKdf(key, bound));
  crypto::Wipe(key);
  return with_flags;
}

Bytes SancusEvidence(const crypto::Key& module_key, uint32_t module_id, ByteSpan header,
                     ByteSpan request) {
  ByteWriter w(request.size() + 4 + header.size());
  w.PutBytes(request);
  w.PutU32(module_id);
  w.PutBytes(header);
  auto mac = crypto::SancusMac(module_key, w.bytes());
  Bytes out(header.begin(), header.end());
  out.insert(out.end(), mac.begin(), mac.end());
  return out;
}

crypto::Key SancusSessionKey(const crypto::Key& module_key, uint32_t module_id, ByteSpan header,
                             ByteSpan request) {
  // The label starts the buffer by construction: GCC 12 at -O3 misreports an
  // insert of a literal into a reserved, empty vector (-Wstringop-overflow).
  static constexpr std::string_view kLabel = "aex/sancus/v2/session";
  ByteWriter tail(4 + header.size() + request.size());
  tail.PutU32(module_id);
  tail.PutBytes(header);
  tail.PutBytes(request);
  Bytes input(kLabel.begin(), kLabel.end());
  input.insert(input.end(), tail.bytes().begin(), tail.bytes().end());
  return ToKey(crypto::SancusKdf(module_key, input));
}

}  // namespace aex::tee
