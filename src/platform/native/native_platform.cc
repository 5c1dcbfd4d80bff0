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

  ~NativePlatform() override {
    crypto::Wipe(key_);
    crypto::Wipe(session_);
  }

  // Native is no TEE, not a simulated one: flags 0 (covered by the MAC).
  Result<Bytes> Attest(ByteSpan challenge) override {
    if (!ready_) return FailedPrecondition("platform not initialised");
    AEX_ASSIGN_OR_RETURN(Bytes header, NewSessionHeader(0, instance_id_));
    session_ = HkdfSessionKey(kNativeLabel, key_, module_id_, header, challenge);
    has_session_ = true;
    return HmacEvidence(kNativeLabel, key_, module_id_, header, challenge);
  }

  const crypto::Key* session_key() const override { return has_session_ ? &session_ : nullptr; }

 private:
  uint32_t module_id_ = 0;
  crypto::Key key_{}, session_{};
  bool ready_ = false, has_session_ = false;
};

}  // namespace

std::unique_ptr<Platform> CreateModulePlatform() { return std::make_unique<NativePlatform>(); }

}  // namespace aex::tee
