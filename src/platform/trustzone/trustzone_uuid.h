// The part of the TrustZone key model (trustzone_keys.h) a TA links: its
// UUID and the label of its evidence. The derivations from the HUK are the
// platform service's and the verifier's (trustzone_keys.h, _keys.cc).

#ifndef AEX_PLATFORM_TRUSTZONE_TRUSTZONE_UUID_H_
#define AEX_PLATFORM_TRUSTZONE_TRUSTZONE_UUID_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace aex::tee {

using Uuid = std::array<uint8_t, 16>;

// UUIDv5(kTaUuidNamespace, module name) (trustzone_keys.h).
Uuid TaUuid(std::string_view module_name);
inline constexpr char kTrustZoneLabel[] = "aex/trustzone/v2";

}  // namespace aex::tee

#endif  // AEX_PLATFORM_TRUSTZONE_TRUSTZONE_UUID_H_
