// The simulated Sancus platform: the node key K_N (the key a Sancus core is
// synthesised with) stays in the node's platform service, which derives the
// vendor and module keys as the protect instruction does in hardware, over
// its own measurement of the module. The module answers attestation with the
// SpongeWrap MAC; key grants and disable use SpongeWrap.

#include "platform/platform.h"
#include "platform/service_link.h"
#include "platform/sancus/sancus_session.h"
#include "platform/session.h"

namespace aex::tee {
namespace {

class SancusPlatform final : public Platform {
 public:
  ~SancusPlatform() override {
    crypto::Wipe(key_);
    crypto::Wipe(session_);
  }
  Backend backend() const override { return Backend::kSancus; }
  bool uses_spongent() const override { return true; }

  Status Init(const ModuleContext& ctx) override {
    module_id_ = ctx.module_id;
    return link_.Connect(ctx.platform_socket);
  }

  // The vendor id arrives with the first request (see ParseVendorRequest);
  // it is then fixed, as protect fixes it on hardware.
  Result<Bytes> Attest(ByteSpan request) override {
    uint16_t vendor_id;
    if (!ParseVendorRequest(request, &vendor_id)) return InvalidArgument("bad sancus request");
    if (!ready_) {
      // K_N,SP,SM: the platform service derives it as protect does in
      // hardware, from K_N and its own measurement of this module.
      AEX_ASSIGN_OR_RETURN(key_, link_.ModuleKey(static_cast<uint8_t>(Backend::kSancus),
                                                 module_id_, &flags_, vendor_id));
      vendor_id_ = vendor_id;
      ready_ = true;
    } else if (vendor_id != vendor_id_) {
      return Status(Code::kPermissionDenied, "module was protected with vendor id " +
                                                 std::to_string(vendor_id_));
    }
    AEX_ASSIGN_OR_RETURN(Bytes header, NewSessionHeader(flags_, instance_id_));
    session_ = SancusSessionKey(key_, module_id_, header, request);
    has_session_ = true;
    return SancusEvidence(key_, module_id_, header, request);
  }

  const crypto::Key* session_key() const override { return has_session_ ? &session_ : nullptr; }

 private:
  uint32_t module_id_ = 0;
  uint16_t vendor_id_ = 0;
  uint8_t flags_ = 0;  // the platform's, bound into key_ by the service
  ServiceLink link_;
  crypto::Key key_{}, session_{};
  bool ready_ = false, has_session_ = false;
};

}  // namespace

std::unique_ptr<Platform> CreateSancusPlatform() { return std::make_unique<SancusPlatform>(); }

}  // namespace aex::tee
