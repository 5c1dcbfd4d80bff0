// The native platform: a module process with no TEE underneath. Its K_m comes
// from the node's platform service, which measures the process itself and
// derives K_m from K_N (native_keys.h); the module never sees K_N.

#include "platform/native/native_keys.h"
#include "platform/platform.h"
#include "platform/service_link.h"
#include "platform/session.h"

namespace aex::tee {
namespace {

class NativePlatform final : public Platform {
 public:
  Backend backend() const override { return Backend::kNative; }

  Status Init(const ModuleContext& ctx) override {
    module_id_ = ctx.module_id;
    ServiceLink link;
    uint8_t flags = 0;  // always 0: native K_m does not depend on them
    AEX_RETURN_IF_ERROR(link.Connect(ctx.platform_socket));
    AEX_ASSIGN_OR_RETURN(key_, link.ModuleKey(static_cast<uint8_t>(Backend::kNative), module_id_,
                                              &flags));
    ready_ = true;
    return Status::Ok();
  }

  ~NativePlatform() override {
    crypto::Wipe(key_);
    crypto::Wipe(session_);
  }

  // Native is no TEE, not a simulated one: flags 0 (covered by the MAC;
  // the verifier accepts no other).
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
