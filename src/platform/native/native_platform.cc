// The native platform: a module process with no TEE underneath. Its K_m comes
// from the node's platform service, which measures the process itself and
// derives K_m from K_N (native_keys.h); the module never sees K_N.

#include "platform/native/native_keys.h"
#include "platform/platform.h"
#include "platform/service_link.h"

namespace aex::tee {
namespace {

class NativePlatform final : public Platform {
 public:
  Backend backend() const override { return Backend::kNative; }

  Status Init(const ModuleContext& ctx) override {
    module_id_ = ctx.module_id;
    ServiceLink link;
    AEX_RETURN_IF_ERROR(link.Connect(ctx.platform_socket));
    AEX_ASSIGN_OR_RETURN(key_, link.ModuleKey(static_cast<uint8_t>(Backend::kNative), module_id_));
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
