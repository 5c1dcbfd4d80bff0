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
// K_m comes out of an X25519 key agreement bound to the quote, so it is null
// until the first successful attestation.

#include <openssl/pem.h>
#include <openssl/x509.h>

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
    std::string dir;
    bool have_debug = false;
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      if (line.starts_with("platform_dir=")) {
        dir = line.substr(13);
      } else if (line == "debug=0" || line == "debug=1") {
        debug_ = line == "debug=1";
        have_debug = true;
      } else if (!line.empty()) {
        return InvalidArgument("bad line in sgx launch file");
      }
    }
    if (dir.empty() || !have_debug) return InvalidArgument("incomplete sgx launch file");
    AEX_ASSIGN_OR_RETURN(Bytes key_pem, ReadFileBounded(dir + "/" + sgx::kQeKeyFile, 8192));
    qe_key_ = sgx::ParsePrivateKeyPem(key_pem);
    crypto::Wipe(key_pem);
    AEX_ASSIGN_OR_RETURN(Bytes cert_pem, ReadFileBounded(dir + "/" + sgx::kQeCertFile, 16384));
    BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
    X509* cert = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    unsigned char* der = nullptr;
    int n = cert ? i2d_X509(cert, &der) : -1;
    X509_free(cert);
    if (n > 0) qe_cert_.assign(der, der + n);
    OPENSSL_free(der);
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
      return AuthFailed("attestation request not signed by the enclave's signer");
    }
    mrsigner_ = mrsigner;
    initialised_ = true;

    X25519Key priv, pub;
    AEX_RETURN_IF_ERROR(sgx::X25519Keypair(&priv, &pub));
    ByteWriter body(256 + qe_cert_.size());
    body.PutU8(sgx::kQuoteVersion);
    body.PutU8(kEvidenceSimulated | (debug_ ? kEvidenceDebug : 0));
    body.PutU32(module_id_);
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

  const crypto::Key* module_key() const override { return ready_ ? &key_ : nullptr; }

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
