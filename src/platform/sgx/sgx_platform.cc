// The simulated SGX platform. What hardware does, done here in software in the
// module's own process (no hardware protection; docs/tee.md):
//   - measurement: MRENCLAVE = SHA-256 of the module binary, taken by the
//     platform itself;
//   - EINIT, at start: the SIGSTRUCT (the vendor's public key and its
//     signature over MRENCLAVE) that the deployer made at deploy time and
//     the node passed with the load must verify over the MRENCLAVE the
//     platform service measured; it fixes MRSIGNER for the life of the
//     instance. Without a valid one the enclave attests for nobody. Every
//     attestation request must be signed by that same signer: only the
//     enclave's vendor can make it establish a key, and no one can change
//     MRSIGNER by attesting first;
//   - quoting: report (MRENCLAVE, MRSIGNER, flags, module id, report data)
//     signed with the platform's quoting key, whose certificate chains to the
//     platform's root CA. Real SGX produces an EREPORT that the quoting enclave
//     checks and signs; here the simulated quoting enclave is the node's
//     platform service (aex-platform), which measures this process itself and
//     alone holds the quoting key.
// The session key K_s comes out of an X25519 key agreement with a fresh
// ephemeral key per Attest, bound to the quote: null until the first
// successful attestation, new with every one.

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
    // MRENCLAVE as the platform measured this process (EINIT checks it).
    AEX_RETURN_IF_ERROR(link_.Connect(ctx.platform_socket));
    ServiceRequest q;
    q.op = ServiceOp::kMeasure;
    q.backend = static_cast<uint8_t>(Backend::kSgx);
    q.module_id = module_id_;
    AEX_ASSIGN_OR_RETURN(Bytes m, link_.Call(q));
    if (m.size() != mrenclave_.size()) return Status(Code::kProtocol, "bad measurement");
    std::copy(m.begin(), m.end(), mrenclave_.begin());
    Bytes sigstruct = ctx.sgx_sigstruct;
    if (sigstruct.empty()) HexDecode(ctx.sgx_sigstruct_hex, &sigstruct);  // bad: EINIT fails
    einit_ = Einit(sigstruct);
    return Status::Ok();
  }

  Result<Bytes> Attest(ByteSpan request) override {
    if (!einit_.ok()) return einit_;
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
    ByteSpan body, signature;
    bool parsed = qr.ReadLengthPrefixed(&body, sgx::kMaxCert + 256) &&
                  qr.ReadLengthPrefixed(&signature, sgx::kMaxSignature) && qr.empty();
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
  // EINIT: the SIGSTRUCT from the loader (untrusted) must sign this
  // enclave's MRENCLAVE; its key becomes MRSIGNER and the only key whose
  // attestation requests this instance answers.
  Status Einit(ByteSpan sigstruct) {
    ByteReader r(sigstruct);
    ByteSpan spki, signature;
    if (!r.ReadLengthPrefixed(&spki, sgx::kMaxSpki) ||
        !r.ReadLengthPrefixed(&signature, sgx::kMaxSignature) || !r.empty()) {
      return FailedPrecondition(
          "EINIT failed: no well-formed SIGSTRUCT was loaded with the enclave");
    }
    signer_ = sgx::ParseP256PublicKey(spki);
    if (!signer_ ||
        !sgx::EcdsaVerify(signer_.get(), sgx::SigstructMessage(mrenclave_), signature)) {
      signer_.reset();
      return AuthFailed("EINIT failed: the SIGSTRUCT does not sign this enclave's MRENCLAVE");
    }
    mrsigner_ = crypto::Sha256(spki);
    return Status::Ok();
  }

  // The quoting enclave's answer (len|body len|signature): the platform
  // service fills in MRENCLAVE from its own measurement and signs.
  Result<Bytes> QuoteFor(const X25519Key& pub, ByteSpan request) {
    ServiceRequest q;
    q.op = ServiceOp::kQuote;
    q.backend = static_cast<uint8_t>(Backend::kSgx);
    q.module_id = module_id_;
    q.flags = kEvidenceSimulated | (debug_ ? kEvidenceDebug : 0);
    q.instance_id = instance_id_;
    q.mrsigner = mrsigner_;
    q.report_data = sgx::ReportData(pub, request);
    std::copy(pub.begin(), pub.end(), q.module_pub.begin());
    return link_.Call(q);
  }

  uint32_t module_id_ = 0;
  bool debug_ = false;
  ServiceLink link_;
  crypto::Digest mrenclave_{}, mrsigner_{};
  Status einit_ = FailedPrecondition("EINIT failed: the enclave was not initialised");
  sgx::Pkey signer_;  // fixed at EINIT
  crypto::Key key_{};
  bool ready_ = false;
};

}  // namespace

std::unique_ptr<Platform> CreateSgxPlatform() { return std::make_unique<SgxPlatform>(); }

}  // namespace aex::tee
