// The simulated SGX platform. What hardware does, done here in software (no
// hardware protection; docs/tee.md), by the node's platform service
// (aex-platform), the simulated CPU and quoting enclave:
//   - measurement: MRENCLAVE = SHA-256 of the module binary, taken by the
//     platform service from the kernel;
//   - EINIT, at start: the SIGSTRUCT (the vendor's public key and its
//     signature over MRENCLAVE) that the deployer made at deploy time and
//     the node passed with the load goes to the platform service, as a
//     loader hands it to the CPU; the service checks it against its own
//     measurement and fixes MRSIGNER for the life of the instance. Without a
//     valid one the enclave attests for nobody;
//   - quoting: an Intel DCAP quote v3 (MRENCLAVE, MRSIGNER, ATTRIBUTES with
//     DEBUG, REPORTDATA) by the simulated Quoting Enclave, whose PCK
//     certificate chains to the node's simulated provisioning root. Real SGX
//     produces an EREPORT that the quoting enclave checks and signs; here the
//     service fills in MRENCLAVE and MRSIGNER itself and alone holds the PCK
//     key.
// What the enclave itself checks: every attestation request must be signed by
// the signer EINIT fixed (whose key the platform returns), so only the
// enclave's vendor can make it establish a key. The session key K_s comes out
// of an X25519 key agreement with a fresh ephemeral key per Attest, bound to
// the quote: null until the first successful attestation, new with every one.

#include <string_view>

#include "platform/platform.h"
#include "platform/service_link.h"
#include "platform/sgx/sgx_keys.h"

namespace aex::tee {
namespace {

using sgx::X25519Key;

class SgxPlatform final : public Platform {
 public:
  ~SgxPlatform() override { crypto::Wipe(key_); }
  Backend backend() const override { return Backend::kSgx; }

  Status Init(const ModuleContext& ctx) override {
    module_id_ = ctx.module_id;
    debug_ = ctx.sgx_debug;
    AEX_RETURN_IF_ERROR(link_.Connect(ctx.platform_socket));
    ServiceRequest q;
    q.op = ServiceOp::kEinit;
    q.backend = static_cast<uint8_t>(Backend::kSgx);
    q.module_id = module_id_;
    q.sigstruct_hex = ctx.sgx_sigstruct_hex;
    // A failed EINIT leaves the module running but unable to attest, so
    // that the deployer learns why.
    auto spki = link_.Call(q);
    if (!spki.ok()) {
      einit_ = spki.status();
      return Status::Ok();
    }
    signer_ = sgx::ParsePublicKey(*spki);  // EINIT checked it is P-256
    if (!signer_) einit_ = Status(Code::kProtocol, "EINIT failed: bad signer key from the platform");
    return Status::Ok();
  }

  Result<Bytes> Attest(ByteSpan request) override {
    if (!signer_) return einit_;
    ByteReader r(request);
    ByteSpan peer, nonce, request_sig;
    if (!r.ReadBytes(32, &peer) || !r.ReadBytes(32, &nonce) ||
        !r.ReadLengthPrefixed(&request_sig, sgx::kMaxSignature) || !r.empty()) {
      return InvalidArgument("malformed sgx attestation request");
    }
    if (!sgx::EcdsaVerify(signer_.get(), sgx::RequestMessage(module_id_, peer, nonce),
                          request_sig)) {
      return AuthFailed("attestation request not signed by the enclave's signer for module " +
                        std::to_string(module_id_));
    }
    X25519Key priv, pub;
    AEX_RETURN_IF_ERROR(sgx::X25519Keypair(&priv, &pub));
    auto quote = QuoteFor(pub, request);
    ByteReader qr(quote.ok() ? ByteSpan(*quote) : ByteSpan());
    ByteSpan body, extra;
    bool parsed = qr.ReadLengthPrefixed(&body, kMaxServiceMessage) &&
                  qr.ReadLengthPrefixed(&extra, kMaxServiceMessage) && qr.empty();
    auto key = !quote.ok() ? Result<crypto::Key>(quote.status())
               : parsed    ? sgx::DeriveSgxModuleKey(priv, peer, request, body)
                           : Result<crypto::Key>(Status(Code::kProtocol, "bad quote"));
    crypto::Wipe(priv);
    if (!key.ok()) return key.status();
    key_ = *key;
    ready_ = true;
    return *quote;
  }

  const crypto::Key* session_key() const override { return ready_ ? &key_ : nullptr; }

 private:
  // The quoting enclave's answer (len|DCAP quote v3 len|extra, sgx_keys.h):
  // the platform service fills in MRENCLAVE and MRSIGNER and signs.
  Result<Bytes> QuoteFor(const X25519Key& pub, ByteSpan request) {
    ServiceRequest q;
    q.op = ServiceOp::kQuote;
    q.backend = static_cast<uint8_t>(Backend::kSgx);
    q.module_id = module_id_;
    q.flags = kEvidenceSimulated | (debug_ ? kEvidenceDebug : 0);
    q.instance_id = instance_id_;
    q.report_data = sgx::ReportData(pub, request);
    std::copy(pub.begin(), pub.end(), q.module_pub.begin());
    return link_.Call(q);
  }

  uint32_t module_id_ = 0;
  bool debug_ = false;
  ServiceLink link_;
  Status einit_ = FailedPrecondition("EINIT failed: the enclave was not initialised");
  sgx::Pkey signer_;  // the SIGSTRUCT's key, fixed at EINIT
  crypto::Key key_{};
  bool ready_ = false;
};

}  // namespace

std::unique_ptr<Platform> CreateSgxPlatform() { return std::make_unique<SgxPlatform>(); }

}  // namespace aex::tee
