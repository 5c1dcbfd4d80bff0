#include "platform/trustzone/trustzone_keys.h"

#include <cstdio>

namespace aex::tee {

std::string UuidString(const Uuid& u) {
  std::string hex = HexEncode(u);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

crypto::Digest TrustZoneVendorKey(ByteSpan huk, uint16_t vendor_id) {
  Bytes in(huk.begin(), huk.end());
  in.push_back(static_cast<uint8_t>(vendor_id));
  in.push_back(static_cast<uint8_t>(vendor_id >> 8));
  crypto::Digest d = crypto::Sha256(in);
  crypto::Wipe(in);
  return d;
}

crypto::Key TrustZoneModuleKey(ByteSpan vendor_key, const Uuid& uuid,
                               const crypto::Digest& measurement, uint32_t module_id,
                               uint8_t flags) {
  uint8_t info[16 + 32 + 4 + 1];
  std::copy(uuid.begin(), uuid.end(), info);
  std::copy(measurement.begin(), measurement.end(), info + 16);
  StoreU32(info + 48, module_id);
  info[52] = flags;
  crypto::Key key;
  key.fill(0);  // HKDF fails only if OpenSSL is broken; a zero key then fails attestation
  (void)crypto::Hkdf(vendor_key, AsBytes("aex/trustzone/v1"), ByteSpan(info, sizeof info), key);
  return key;
}

}  // namespace aex::tee
