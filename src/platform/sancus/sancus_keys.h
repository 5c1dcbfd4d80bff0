// The Sancus key model, shared by the module's platform layer and the
// deployer's verifier so both sides compute exactly the same values
// (docs/tee.md, docs/spongent.md). Keys are 128-bit; every derivation and MAC
// is Sancus' SpongeWrap MAC (SancusKdf = SancusMac, SPONGENT-based).
//
//   K_N,SP    = SancusKdf(K_N, LE16(vendor_id))                    vendor key
//   identity  = SHA-256(module binary) || LE16(public_start) || LE16(public_end)
//               || LE16(secret_start) || LE16(secret_end)
//   K_N,SP,SM = SancusKdf(K_N,SP, identity)
//   K_m       = K_N,SP,SM                     flags = 0 (hardware: what protect gives)
//             = SancusKdf(K_N,SP,SM, "aex/flags" || u8 flags)   otherwise
//               flags: the platform's own (kEvidenceSimulated here), fixed by
//               the platform service, never by the module; the verifier
//               derives K_m with the flags the evidence header claims, so a
//               false claim breaks the MAC
//   header    = u8 flags || u64 instance_id || random[16]       fresh per attestation
//   evidence  = header || SancusMac(K_m, request || u32 module_id || header)
//   K_s       = SancusKdf(K_m, "aex/sancus/v2/session" || u32 module_id || header
//                               || request)                    session key
// K_s wraps grants and disable (SpongeWrap), so a Sancus port computes it with
// the same primitive as its module key. docs/tee.md says where a hardware
// port, which has no RNG, takes the random bytes from.
//
// Deviation from Sancus hardware, on purpose: real Sancus MACs the module's
// text section itself; SpongeWrap runs at about 75 KB/s here, so the simulated
// platform MACs the SHA-256 digest of the whole module binary instead, and the
// section bounds are a fixed simulated layout (there are no MSP430 addresses
// here). Real Sancus hardware would not produce these keys.

#ifndef AEX_PLATFORM_SANCUS_SANCUS_KEYS_H_
#define AEX_PLATFORM_SANCUS_SANCUS_KEYS_H_

#include "crypto/crypto.h"
#include "platform/sancus/sancus_session.h"

namespace aex::tee {

// The simulated memory layout every Sancus module gets (an MSP430 map).
inline constexpr uint16_t kSancusPublicStart = 0x6000, kSancusPublicEnd = 0x7000;
inline constexpr uint16_t kSancusSecretStart = 0x0400, kSancusSecretEnd = 0x0600;

crypto::Key SancusVendorKey(const crypto::Key& node_key, uint16_t vendor_id);
// flags: the platform's own evidence flags (platform.h), fixed by the
// platform service; 0 (real hardware) gives K_N,SP,SM itself.
crypto::Key SancusModuleKey(const crypto::Key& vendor_key, const crypto::Digest& measurement,
                            uint8_t flags);

}  // namespace aex::tee

#endif  // AEX_PLATFORM_SANCUS_SANCUS_KEYS_H_
