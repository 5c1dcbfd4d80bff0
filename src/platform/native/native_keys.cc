#include "platform/native/native_keys.h"

#include <string_view>

namespace aex::tee {

crypto::Key DeriveNativeModuleKey(const crypto::Key& node_key, const crypto::Digest& measurement,
                                  uint32_t module_id) {
  uint8_t info[36];
  std::copy(measurement.begin(), measurement.end(), info);
  StoreU32(info + 32, module_id);
  crypto::Key key;
  // HKDF on valid inputs fails only if OpenSSL is broken; a zero key would
  // then fail attestation rather than pass it.
  key.fill(0);
  (void)crypto::Hkdf(node_key, AsBytes("aex/native/v1"), ByteSpan(info, sizeof info), key);
  return key;
}

}  // namespace aex::tee
