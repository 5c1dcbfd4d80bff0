// tee::Platform: the one interface between the trusted runtime and the TEE it
// runs on (DESIGN.md section 5). Each backend (native, sgx, trustzone,
// sancus) implements it; a module links exactly one implementation, so the
// same module source runs on every backend and a real-hardware port replaces
// only this layer.
//
// In this build every backend is a *simulated* platform: it implements the
// TEE's key hierarchy and attestation protocol in software, in the module's
// own process, with no hardware protection.

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

// What the node tells a starting module. Untrusted: a lie here can only make
// attestation fail, since the key hierarchy binds the module id and the
// measurement is taken by the platform itself.
struct ModuleContext {
  uint32_t module_id = 0;
  std::string platform_key_path;  // the simulated platform's secret, if any
};

class Platform {
 public:
  virtual ~Platform() = default;
  virtual Backend backend() const = 0;
  // Measures the running module and derives the keys it can derive alone.
  virtual Status Init(const ModuleContext& ctx) = 0;
  // Answers an attestation challenge from the deployer. Backends whose module
  // key comes out of attestation (sgx) establish it here.
  virtual Result<Bytes> Attest(ByteSpan challenge) = 0;
  // The module key K_m, or nullptr while it is not established.
  virtual const crypto::Key* module_key() const = 0;
  // The cipher this module uses for deployer messages (key grants, disable).
  virtual bool uses_spongent() const { return false; }
};

// Defined by the platform library linked into the module.
std::unique_ptr<Platform> CreateModulePlatform();

// SHA-256 of the running executable: what the simulated platforms measure.
Result<crypto::Digest> MeasureSelf();
// Reads a 16-byte platform key stored as 32 hex digits.
Result<crypto::Key> ReadKeyFile(const std::string& path);

}  // namespace aex::tee

#endif  // AEX_PLATFORM_PLATFORM_H_
