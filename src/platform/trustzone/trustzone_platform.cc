// The simulated TrustZone (OP-TEE) platform: the hardware unique key (HUK) is
// the node's key file; a trusted application (TA) is identified by its UUID,
// derived from the module name compiled into the binary (as OP-TEE takes it
// from the signed TA header), and its measurement. The TA key comes from the
// HUK through the vendor key, as an OP-TEE pseudo-TA would derive it with
// huk_subkey_derive(); attestation is an HMAC under the TA key.
// The HUK stays in the node's platform service; the TA gets its own key only.

#include "aex/module.h"
#include "platform/platform.h"
#include "platform/service_link.h"
#include "platform/session.h"
#include "platform/trustzone/trustzone_uuid.h"

extern "C" const aex_module_desc aex_module;  // generated glue: the TA's name

namespace aex::tee {
namespace {

class TrustZonePlatform final : public Platform {
 public:
  ~TrustZonePlatform() override {
    crypto::Wipe(key_);
    crypto::Wipe(session_);
  }
  Backend backend() const override { return Backend::kTrustZone; }

  Status Init(const ModuleContext& ctx) override {
    module_id_ = ctx.module_id;
    AEX_RETURN_IF_ERROR(link_.Connect(ctx.platform_socket));
    uuid_ = TaUuid(aex_module.name);
    return Status::Ok();
  }

  // The vendor id arrives with the first request and is then fixed.
  Result<Bytes> Attest(ByteSpan request) override {
    uint16_t vendor_id;
    if (!ParseVendorRequest(request, &vendor_id)) return InvalidArgument("bad trustzone request");
    if (!ready_) {
      // The TA key: the platform service derives it from the HUK and its
      // own measurement of this process.
      AEX_ASSIGN_OR_RETURN(key_, link_.ModuleKey(static_cast<uint8_t>(Backend::kTrustZone),
                                                 module_id_, &flags_, vendor_id, uuid_));
      vendor_id_ = vendor_id;
      ready_ = true;
    } else if (vendor_id != vendor_id_) {
      return Status(Code::kPermissionDenied,
                    "TA key was derived for vendor id " + std::to_string(vendor_id_));
    }
    AEX_ASSIGN_OR_RETURN(Bytes header, NewSessionHeader(flags_, instance_id_));
    session_ = HkdfSessionKey(kTrustZoneLabel, key_, module_id_, header, request);
    has_session_ = true;
    return HmacEvidence(kTrustZoneLabel, key_, module_id_, header, request);
  }

  const crypto::Key* session_key() const override { return has_session_ ? &session_ : nullptr; }

 private:
  uint32_t module_id_ = 0;
  uint16_t vendor_id_ = 0;
  uint8_t flags_ = 0;  // the platform's, bound into key_ by the service
  ServiceLink link_;
  crypto::Key key_{}, session_{};
  Uuid uuid_{};
  bool ready_ = false, has_session_ = false;
};

}  // namespace

std::unique_ptr<Platform> CreateTrustZonePlatform() {
  return std::make_unique<TrustZonePlatform>();
}

}  // namespace aex::tee
