// The simulated Sancus platform: the node key K_N (the key a Sancus core is
// synthesised with) sits in the node's key file; the module derives its vendor
// and module keys as the protect instruction does in hardware, and answers
// attestation with the SpongeWrap MAC. Key grants and disable use SpongeWrap.
// No hardware protection: any process that reads the key file has K_N.

#include "platform/platform.h"
#include "platform/sancus/sancus_keys.h"

namespace aex::tee {
namespace {

class SancusPlatform final : public Platform {
 public:
  ~SancusPlatform() override {
    crypto::Wipe(node_key_);
    crypto::Wipe(key_);
    crypto::Wipe(session_);
  }
  Backend backend() const override { return Backend::kSancus; }
  bool uses_spongent() const override { return true; }

  Status Init(const ModuleContext& ctx) override {
    module_id_ = ctx.module_id;
    AEX_ASSIGN_OR_RETURN(node_key_, ReadKeyFile(ctx.platform_key_path));
    AEX_ASSIGN_OR_RETURN(measurement_, MeasureSelf());
    return Status::Ok();
  }

  // The vendor id arrives with the first request (see ParseVendorRequest);
  // it is then fixed, as protect fixes it on hardware.
  Result<Bytes> Attest(ByteSpan request) override {
    uint16_t vendor_id;
    if (!ParseVendorRequest(request, &vendor_id)) return InvalidArgument("bad sancus request");
    if (!ready_) {
      crypto::Key vendor_key = SancusVendorKey(node_key_, vendor_id);
      key_ = SancusModuleKey(vendor_key, measurement_);
      crypto::Wipe(vendor_key);
      crypto::Wipe(node_key_);
      vendor_id_ = vendor_id;
      ready_ = true;
    } else if (vendor_id != vendor_id_) {
      return Status(Code::kPermissionDenied, "module was protected with vendor id " +
                                                 std::to_string(vendor_id_));
    }
    AEX_ASSIGN_OR_RETURN(Bytes header, NewSessionHeader(kEvidenceSimulated, instance_id_));
    session_ = SancusSessionKey(key_, module_id_, header, request);
    has_session_ = true;
    return SancusEvidence(key_, module_id_, header, request);
  }

  const crypto::Key* session_key() const override { return has_session_ ? &session_ : nullptr; }

 private:
  uint32_t module_id_ = 0;
  uint16_t vendor_id_ = 0;
  crypto::Key node_key_{}, key_{}, session_{};
  crypto::Digest measurement_{};
  bool ready_ = false, has_session_ = false;
};

}  // namespace

std::unique_ptr<Platform> CreateSancusPlatform() { return std::make_unique<SancusPlatform>(); }

}  // namespace aex::tee
