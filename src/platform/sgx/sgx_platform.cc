// The simulated SGX platform. What hardware does, done here in software in the
// module's own process (no hardware protection; docs/tee.md):
//   - measurement: MRENCLAVE = SHA-256 of the module binary, taken by the
//     platform itself;
//   - EINIT: the enclave runs nothing for anyone until a SIGSTRUCT (the
//     vendor's public key and its signature over MRENCLAVE) verifies; the
//     first one fixes MRSIGNER. aex has no signing step at build time, so the
//     deployer (the vendor) delivers the SIGSTRUCT with its attestation
//     request and signs every request with the same key: only the enclave's
//     signer can make it establish a key;
//   - quoting: report (MRENCLAVE, MRSIGNER, flags, module id, report data)
//     signed with the platform's quoting key, whose certificate chains to the
//     platform's root CA. Real SGX produces an EREPORT that the quoting enclave
//     checks and signs; here the simulated quoting enclave runs in-process.
// The session key K_s comes out of an X25519 key agreement with a fresh
// ephemeral key per Attest, bound to the quote: null until the first
// successful attestation, new with every one.

#include <openssl/evp.h>

#include <string_view>

#include "platform/platform.h"
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
    AEX_ASSIGN_OR_RETURN(Bytes launch, ReadFileBounded(ctx.platform_key_path, 4096));
    std::string_view text(reinterpret_cast<const char*>(launch.data()), launch.size());
    constexpr std::string_view kDir = "platform_dir=", kDebug = "\ndebug=1\n",
                               kProduction = "\ndebug=0\n";
    debug_ = text.ends_with(kDebug);
    if (!text.starts_with(kDir) || !(debug_ || text.ends_with(kProduction)) ||
        text.size() <= kDir.size() + kDebug.size()) {
      return InvalidArgument("bad sgx launch file");
    }
    std::string dir(text.substr(kDir.size(), text.size() - kDir.size() - kDebug.size()));
    AEX_ASSIGN_OR_RETURN(Bytes key_der, ReadFileBounded(dir + "/" + sgx::kQeKeyFile, 4096));
    const unsigned char* p = key_der.data();
    qe_key_.reset(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(key_der.size())));
    crypto::Wipe(key_der);
    AEX_ASSIGN_OR_RETURN(qe_cert_, ReadFileBounded(dir + "/" + sgx::kQeCertFile, sgx::kMaxCert));
    if (!qe_key_ || qe_cert_.empty()) return InvalidArgument("bad sgx quoting key or cert");
    AEX_ASSIGN_OR_RETURN(mrenclave_, MeasureSelf());
    return Status::Ok();
  }

  Result<Bytes> Attest(ByteSpan request) override {
    ByteReader r(request);
    ByteSpan spki, sigstruct, peer, nonce, request_sig;
    if (!r.ReadLengthPrefixed(&spki, sgx::kMaxSpki) ||
        !r.ReadLengthPrefixed(&sigstruct, sgx::kMaxSignature) || !r.ReadBytes(32, &peer) ||
        !r.ReadBytes(32, &nonce) || !r.ReadLengthPrefixed(&request_sig, sgx::kMaxSignature) ||
        !r.empty()) {
      return InvalidArgument("malformed sgx attestation request");
    }
    sgx::Pkey signer = sgx::ParseP256PublicKey(spki);
    if (!signer) return InvalidArgument("SIGSTRUCT key is not a P-256 public key");
    // EINIT's check, then the signer's authority over this request.
    if (!sgx::EcdsaVerify(signer.get(), sgx::SigstructMessage(mrenclave_), sigstruct)) {
      return AuthFailed("EINIT: the SIGSTRUCT does not sign this enclave's MRENCLAVE");
    }
    crypto::Digest mrsigner = crypto::Sha256(spki);
    if (initialised_ && !crypto::Equal(mrsigner, mrsigner_)) {
      return Status(Code::kPermissionDenied, "enclave was initialised by another signer");
    }
    if (!sgx::EcdsaVerify(signer.get(), sgx::RequestMessage(module_id_, peer, nonce),
                          request_sig)) {
      return AuthFailed("attestation request not signed by the enclave's signer for module " +
                        std::to_string(module_id_));
    }
    mrsigner_ = mrsigner;
    initialised_ = true;

    X25519Key priv, pub;
    AEX_RETURN_IF_ERROR(sgx::X25519Keypair(&priv, &pub));
    ByteWriter body(256 + qe_cert_.size());
    body.PutU8(sgx::kQuoteVersion);
    body.PutU8(kEvidenceSimulated | (debug_ ? kEvidenceDebug : 0));
    body.PutU32(module_id_);
    body.PutU64(instance_id_);
    body.PutBytes(mrenclave_);
    body.PutBytes(mrsigner_);
    body.PutBytes(sgx::ReportData(pub, request));
    body.PutBytes(pub);
    body.PutLengthPrefixed(qe_cert_);
    auto signature = sgx::EcdsaSign(qe_key_.get(), body.bytes());
    auto key = signature.ok() ? sgx::DeriveSgxModuleKey(priv, peer, request, body.bytes())
                              : Result<crypto::Key>(signature.status());
    crypto::Wipe(priv);
    if (!key.ok()) return key.status();
    key_ = *key;
    ready_ = true;
    ByteWriter quote(body.size() + 128);
    quote.PutLengthPrefixed(body.bytes());
    quote.PutLengthPrefixed(*signature);
    return quote.Take();
  }

  const crypto::Key* session_key() const override { return ready_ ? &key_ : nullptr; }

 private:
  uint32_t module_id_ = 0;
  bool debug_ = false;
  sgx::Pkey qe_key_;
  Bytes qe_cert_;
  crypto::Digest mrenclave_{}, mrsigner_{};
  bool initialised_ = false;
  crypto::Key key_{};
  bool ready_ = false;
};

}  // namespace

std::unique_ptr<Platform> CreateSgxPlatform() { return std::make_unique<SgxPlatform>(); }

}  // namespace aex::tee
