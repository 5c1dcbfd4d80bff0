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
  // sgx: the SIGSTRUCT loaded with the enclave (sgx/sgx_keys.h), as hex
  // text from the node. The enclave hands it to the platform service's
  // EINIT unread: the service decodes it and checks it against its own
  // measurement, so no module links hex or SIGSTRUCT parsing code.
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

// Defined by the platform library linked into the module.
std::unique_ptr<Platform> CreateModulePlatform();
// The backends' module-side platforms by name (each in its own library), so a
// test can hold several in one process.
std::unique_ptr<Platform> CreateSgxPlatform();
std::unique_ptr<Platform> CreateTrustZonePlatform();
std::unique_ptr<Platform> CreateSancusPlatform();

}  // namespace aex::tee

#endif  // AEX_PLATFORM_PLATFORM_H_
