// tee::Platform: the one interface between the trusted runtime and the TEE it
// runs on (DESIGN.md section 5). Each backend (native, sgx, trustzone,
// sancus) implements it; a module links exactly one implementation, so the
// same module source runs on every backend and a real-hardware port replaces
// only this layer.
//
// In this build every backend is a *simulated* platform: the TEE's key
// hierarchy and quoting run in software, in the node's platform service
// (aex-platform), which measures each module process from the kernel and
// hands it only its own keys; there is no hardware memory protection.

#ifndef AEX_PLATFORM_PLATFORM_H_
#define AEX_PLATFORM_PLATFORM_H_

#include <memory>
#include <string>

#include "aex/bytes.h"
#include "aex/status.h"
#include "crypto/crypto.h"

namespace aex::tee {

enum class Backend : uint8_t { kNative = 0, kSgx = 1, kTrustZone = 2, kSancus = 3 };
const char* BackendName(Backend b);
bool ParseBackend(std::string_view name, Backend* out);

// Flags a platform puts in its attestation evidence (covered by its MAC or
// signature). Every non-native platform in this build is simulated and says so.
inline constexpr uint8_t kEvidenceSimulated = 0x01;
inline constexpr uint8_t kEvidenceDebug = 0x02;  // sgx: a debug enclave

// What the node tells a starting module. Untrusted: a lie here can only make
// attestation fail, since the key hierarchy binds the module id and the
// measurement is taken by the platform itself.
struct ModuleContext {
  uint32_t module_id = 0;
  // The node's platform service (aex-platform, platform/service_link.h): not
  // a secret. The platform layer gets its keys or quotes there.
  std::string platform_socket;
  // sgx: the loader made this a debug enclave (reported in the quote).
  bool sgx_debug = false;
  // sgx: the SIGSTRUCT loaded with the enclave (sgx/sgx_keys.h), checked at
  // EINIT against the platform's own measurement. The node passes it as hex
  // (`sgx_sigstruct_hex`); only the sgx layer decodes it, so other modules
  // link no hex code.
  Bytes sgx_sigstruct{};
  std::string sgx_sigstruct_hex{};
};

class Platform {
 public:
  virtual ~Platform() = default;
  virtual Backend backend() const = 0;
  // Measures the running module and derives the keys it can derive alone.
  virtual Status Init(const ModuleContext& ctx) = 0;
  // Answers an attestation challenge from the deployer and establishes a new
  // session key K_s from fresh randomness of this instance (symmetric
  // backends) or a fresh ephemeral X25519 key (sgx): no earlier instance or
  // attestation had it, so nothing recorded under an earlier one opens.
  virtual Result<Bytes> Attest(ByteSpan challenge) = 0;
  // K_s of the last successful Attest, or nullptr before one. Grants,
  // disable and transfer grants are wrapped under it, never under K_m.
  virtual const crypto::Key* session_key() const = 0;
  // The cipher this module uses for deployer messages (key grants, disable).
  virtual bool uses_spongent() const { return false; }
  // This instance's random id: drawn once at start, bound into every
  // evidence and reported in the module's stats, so that the deployer sees
  // a restart behind its back. 0 until DrawInstanceId.
  uint64_t instance_id() const { return instance_id_; }
  Status DrawInstanceId();

 protected:
  uint64_t instance_id_ = 0;
};

// Evidence header of the symmetric backends (native, trustzone, sancus),
// fresh per Attest: u8 flags || u64 instance_id || random[16] from the
// platform's RNG. The evidence MAC and the session key K_s cover it.
inline constexpr size_t kSessionRandomSize = 16;
inline constexpr size_t kSessionHeaderSize = 1 + 8 + kSessionRandomSize;
Result<Bytes> NewSessionHeader(uint8_t flags, uint64_t instance_id);
// header || HMAC-SHA256(K_m, label || "/attest" || u32 module_id || header || challenge)
Bytes HmacEvidence(std::string_view label, const crypto::Key& module_key, uint32_t module_id,
                   ByteSpan header, ByteSpan challenge);
// K_s = HKDF-SHA256(ikm = K_m, salt = label || "/session",
//                   info = u32 module_id || header || SHA-256(challenge))[0..16)
crypto::Key HkdfSessionKey(std::string_view label, const crypto::Key& module_key,
                           uint32_t module_id, ByteSpan header, ByteSpan challenge);

// Defined by the platform library linked into the module.
std::unique_ptr<Platform> CreateModulePlatform();
// The backends' module-side platforms by name (each in its own library), so a
// test can hold several in one process.
std::unique_ptr<Platform> CreateSgxPlatform();
std::unique_ptr<Platform> CreateTrustZonePlatform();
std::unique_ptr<Platform> CreateSancusPlatform();

// SHA-256 of the running executable: what the simulated platforms measure.
Result<crypto::Digest> MeasureSelf();
// SHA-256 of what remains to be read from `fd` (streamed).
Result<crypto::Digest> Sha256OfFile(int fd);
// Reads a 16-byte platform key stored as 32 hex digits.
Result<crypto::Key> ReadKeyFile(const std::string& path);
// Reads a 16- or 32-byte secret stored as hex (a TrustZone HUK may be either).
Result<Bytes> ReadSecretFile(const std::string& path);
// Reads a whole file of at most `max` bytes.
Result<Bytes> ReadFileBounded(const std::string& path, size_t max);

// The attestation request of the vendor-keyed symmetric backends (sancus,
// trustzone): u16 vendor id (little-endian, as Sancus takes it) || a nonce of
// at least 16 bytes. The vendor id travels with the request as it reaches
// Sancus' protect instruction: from untrusted software, so that a lie only
// yields a key the deployer does not share.
inline bool ParseVendorRequest(ByteSpan request, uint16_t* vendor_id) {
  if (request.size() < 2 + 16) return false;
  *vendor_id = static_cast<uint16_t>(request[0] | request[1] << 8);
  return true;
}

}  // namespace aex::tee

#endif  // AEX_PLATFORM_PLATFORM_H_
