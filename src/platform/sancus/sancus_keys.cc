#include "platform/sancus/sancus_keys.h"

#include "crypto/spongent.h"

namespace aex::tee {

crypto::Key SancusVendorKey(const crypto::Key& node_key, uint16_t vendor_id) {
  const uint8_t id[2] = {static_cast<uint8_t>(vendor_id), static_cast<uint8_t>(vendor_id >> 8)};
  return crypto::SancusKdf(node_key, id);
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
  crypto::Key key = crypto::SancusKdf(vendor_key, identity);
  if (flags == 0) return key;  // what Sancus hardware derives
  const uint8_t bound[] = {'a', 'e', 'x', '/', 'f', 'l', 'a', 'g', 's', flags};
  crypto::Key with_flags = crypto::SancusKdf(key, bound);
  crypto::Wipe(key);
  return with_flags;
}

}  // namespace aex::tee
