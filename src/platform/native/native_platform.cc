// The native platform: a module process with no TEE underneath. It reads the
// node key K_N from the key file the node points it to and derives K_m from
// its own measurement, as a Sancus-style symmetric hierarchy would in
// hardware.

#include "platform/native/native_keys.h"
#include "platform/platform.h"

namespace aex::tee {
namespace {

class NativePlatform final : public Platform {
 public:
  Backend backend() const override { return Backend::kNative; }

  Status Init(const ModuleContext& ctx) override {
    module_id_ = ctx.module_id;
    AEX_ASSIGN_OR_RETURN(crypto::Key node_key, ReadKeyFile(ctx.platform_key_path));
    AEX_ASSIGN_OR_RETURN(crypto::Digest measurement, MeasureSelf());
    key_ = DeriveNativeModuleKey(node_key, measurement, module_id_);
    crypto::Wipe(node_key);
    ready_ = true;
    return Status::Ok();
  }

  Result<Bytes> Attest(ByteSpan challenge) override {
    if (!ready_) return FailedPrecondition("platform not initialised");
    crypto::Digest mac = NativeEvidence(key_, module_id_, challenge);
    return Bytes(mac.begin(), mac.end());
  }

  const crypto::Key* module_key() const override { return ready_ ? &key_ : nullptr; }

 private:
  uint32_t module_id_ = 0;
  crypto::Key key_{};
  bool ready_ = false;
};

}  // namespace

std::unique_ptr<Platform> CreateModulePlatform() { return std::make_unique<NativePlatform>(); }

}  // namespace aex::tee
