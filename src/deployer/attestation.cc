#include "deployer/attestation.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <mutex>

#include "platform/native/native_keys.h"
#include "tls/pki.h"
#include "util/files.h"
#include "platform/trustzone/trustzone_keys.h"
#ifdef AEX_HAVE_SANCUS_KEYS
#include "platform/sancus/sancus_keys.h"
#endif

namespace aex::deploy {
namespace fs = std::filesystem;
namespace {

Status SimulatedPolicy(const AttestationTarget& target, uint8_t flags) {
  if ((flags & tee::kEvidenceSimulated) && !target.allow_simulated) {
    return Status(Code::kPermissionDenied,
                  std::string(tee::BackendName(target.backend)) +
                      " attestation refused: the platform is simulated (no hardware "
                      "protection) and the node has allow_simulated: false");
  }
  return Status::Ok();
}

// u8 flags || MAC: the evidence of the vendor-keyed symmetric backends.
Result<crypto::Key> VerifySymmetric(const AttestationTarget& target, ByteSpan request,
                                    ByteSpan evidence) {
  const char* name = tee::BackendName(target.backend);
  uint16_t vendor_id = 0;
  if (!tee::ParseVendorRequest(request, &vendor_id) || evidence.empty()) {
    return AuthFailed(std::string(name) + " attestation failed: malformed evidence");
  }
  const uint8_t flags = evidence[0];
  crypto::Key key{};
  Bytes expected;
  if (target.backend == tee::Backend::kTrustZone) {
    crypto::Digest derived{};
    ByteSpan vendor_key = target.vendor_key;
    if (vendor_key.empty()) {
      derived = tee::TrustZoneVendorKey(target.huk, vendor_id);
      vendor_key = derived;
    }
    key = tee::TrustZoneModuleKey(vendor_key, tee::TaUuid(target.module_name),
                                  target.measurement, target.module_id);
    crypto::Wipe(derived);
    expected = tee::TrustZoneEvidence(key, target.module_id, flags, request);
  } else {
#ifdef AEX_HAVE_SANCUS_KEYS
    crypto::Key vendor_key;
    if (target.vendor_key.size() == crypto::kKeySize) {
      std::copy(target.vendor_key.begin(), target.vendor_key.end(), vendor_key.begin());
    } else {
      vendor_key = tee::SancusVendorKey(target.node_key, vendor_id);
    }
    key = tee::SancusModuleKey(vendor_key, target.measurement);
    crypto::Wipe(vendor_key);
    expected = tee::SancusEvidence(key, target.module_id, flags, request);
#else
    return FailedPrecondition("this build has no SPONGENT: cannot verify sancus modules");
#endif
  }
  if (!crypto::Equal(expected, evidence)) {
    crypto::Wipe(key);
    return AuthFailed(std::string(name) +
                      " attestation failed: the MAC does not verify, so the module is not the "
                      "expected binary, on the expected node (node or vendor key), with the "
                      "expected id, answering this challenge");
  }
  Status policy = SimulatedPolicy(target, flags);
  if (!policy.ok()) {
    crypto::Wipe(key);
    return policy;
  }
  return key;
}

// ------------------------------------------------------------------ sgx

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

tee::sgx::Pkey ParsePrivateKeyPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  tee::sgx::Pkey key(bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr);
  BIO_free(bio);
  return key;
}

Result<Challenge> NewSgxChallenge(const AttestationTarget& target) {
  tee::sgx::Pkey signer = ParsePrivateKeyPem(target.signer_pem);
  if (!signer) return FailedPrecondition("sgx: no usable enclave signing key");
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(signer.get(), &der);
  if (n <= 0) return Internal("cannot encode the signing key");
  Bytes spki(der, der + n);
  OPENSSL_free(der);
  Challenge c;
  c.mrsigner = crypto::Sha256(spki);
  tee::sgx::X25519Key pub;
  uint8_t nonce[32];
  AEX_RETURN_IF_ERROR(tee::sgx::X25519Keypair(&c.ephemeral, &pub));
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(nonce));
  AEX_ASSIGN_OR_RETURN(Bytes sigstruct, tee::sgx::EcdsaSign(
                                            signer.get(),
                                            tee::sgx::SigstructMessage(target.measurement)));
  AEX_ASSIGN_OR_RETURN(Bytes request_sig,
                       tee::sgx::EcdsaSign(signer.get(), tee::sgx::RequestMessage(
                                                             target.module_id, pub, nonce)));
  ByteWriter w(512);
  w.PutLengthPrefixed(spki);
  w.PutLengthPrefixed(sigstruct);
  w.PutBytes(pub);
  w.PutBytes(nonce);
  w.PutLengthPrefixed(request_sig);
  c.request = w.Take();
  return c;
}

// Verifies that `cert` chains to the root CA in `root_pem`; "" if it does,
// the reason otherwise.
std::string VerifyChain(const std::string& root_pem, X509* cert) {
  BIO* bio = BIO_new_mem_buf(root_pem.data(), static_cast<int>(root_pem.size()));
  X509Ptr root(bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr);
  BIO_free(bio);
  if (!root) return "the trust anchor is not a PEM certificate";
  X509_STORE* store = X509_STORE_new();
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  std::string reason = "cannot set up certificate verification";
  if (store && ctx && X509_STORE_add_cert(store, root.get()) == 1 &&
      X509_STORE_CTX_init(ctx, store, cert, nullptr) == 1) {
    reason = X509_verify_cert(ctx) == 1
                 ? ""
                 : X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  }
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return reason;
}

Result<crypto::Key> VerifySgx(const AttestationTarget& target, const Challenge& challenge,
                              ByteSpan evidence) {
  auto fail = [](const std::string& why) { return AuthFailed("sgx quote rejected: " + why); };
  ByteReader q(evidence);
  ByteSpan body, signature;
  if (!q.ReadLengthPrefixed(&body, 64 * 1024) ||
      !q.ReadLengthPrefixed(&signature, tee::sgx::kMaxSignature) || !q.empty()) {
    return fail("malformed quote");
  }
  ByteReader b(body);
  uint8_t version = 0, flags = 0;
  uint32_t module_id = 0;
  ByteSpan mrenclave, mrsigner, report_data, module_pub, cert_der;
  if (!b.ReadU8(&version) || !b.ReadU8(&flags) || !b.ReadU32(&module_id) ||
      !b.ReadBytes(32, &mrenclave) || !b.ReadBytes(32, &mrsigner) ||
      !b.ReadBytes(32, &report_data) || !b.ReadBytes(32, &module_pub) ||
      !b.ReadLengthPrefixed(&cert_der, tee::sgx::kMaxCert) || !b.empty() ||
      version != tee::sgx::kQuoteVersion) {
    return fail("malformed quote body");
  }
  // 1. The quoting key is certified by the platform we trust, and signed this.
  const unsigned char* p = cert_der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(cert_der.size())));
  if (!cert || p != cert_der.data() + cert_der.size()) return fail("bad quoting certificate");
  std::string chain = VerifyChain(target.root_ca_pem, cert.get());
  if (!chain.empty()) {
    return fail("the quoting key's certificate does not chain to the trust anchor " +
                target.root_ca_name + " (" + chain + ")");
  }
  unsigned char* spki = nullptr;
  int spki_len = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &spki);
  tee::sgx::Pkey qe_key =
      spki_len > 0 ? tee::sgx::ParseP256PublicKey(ByteSpan(spki, spki_len)) : nullptr;
  OPENSSL_free(spki);
  if (!qe_key || !tee::sgx::EcdsaVerify(qe_key.get(), body, signature)) {
    return fail("the quote's signature does not verify under the certified quoting key");
  }
  // 2. Policy, then what the quote says against what the deployer expects.
  AEX_RETURN_IF_ERROR(SimulatedPolicy(target, flags));
  if (module_id != target.module_id) {
    return fail("it is for module id " + std::to_string(module_id) + ", expected " +
                std::to_string(target.module_id));
  }
  if (!crypto::Equal(mrenclave, target.measurement)) {
    return fail("MRENCLAVE " + HexEncode(mrenclave).substr(0, 16) +
                "... is not the measurement of the binary the deployer built (" +
                HexEncode(target.measurement).substr(0, 16) + "...)");
  }
  if (!crypto::Equal(mrsigner, challenge.mrsigner)) {
    return fail("MRSIGNER is not this deployment's enclave signing key");
  }
  if ((flags & tee::kEvidenceDebug) && !target.allow_debug) {
    return Status(Code::kPermissionDenied,
                  "sgx quote rejected: the module runs as a debug enclave and the node has "
                  "allow_debug: false");
  }
  // 3. Freshness: the report data binds the module's key to this request.
  if (!crypto::Equal(report_data, tee::sgx::ReportData(module_pub, challenge.request))) {
    return fail("its report data does not bind this attestation request (a stale or "
                "replayed quote)");
  }
  return tee::sgx::DeriveSgxModuleKey(challenge.ephemeral, module_pub, challenge.request, body);
}

}  // namespace

void WipeTarget(AttestationTarget* target) {
  crypto::Wipe(target->node_key);
  crypto::Wipe(target->vendor_key);
  crypto::Wipe(target->huk);
  crypto::Wipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(target->signer_pem.data()),
                                  target->signer_pem.size()));
}

Result<crypto::Key> VerifyNativeEvidence(const AttestationTarget& target, ByteSpan challenge,
                                         ByteSpan evidence) {
  crypto::Key key = tee::DeriveNativeModuleKey(target.node_key, target.measurement,
                                               target.module_id);
  crypto::Digest expected = tee::NativeEvidence(key, target.module_id, challenge);
  if (!crypto::Equal(expected, evidence)) {
    crypto::Wipe(key);
    return AuthFailed(
        "native attestation failed: the module is not the expected binary, on the expected "
        "node, with the expected id");
  }
  return key;
}

Result<Challenge> NewChallenge(const AttestationTarget& target) {
  if (target.backend == tee::Backend::kSgx) return NewSgxChallenge(target);
  // A fresh random challenge per attempt makes old evidence worthless. The
  // vendor-keyed backends take the vendor id in front of it.
  Challenge c;
  const bool vendor = target.backend == tee::Backend::kSancus || target.backend == tee::Backend::kTrustZone;
  c.request.resize(vendor ? 34 : 32);
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(std::span(c.request).subspan(vendor ? 2 : 0)));
  if (vendor) {
    c.request[0] = static_cast<uint8_t>(target.vendor_id);
    c.request[1] = static_cast<uint8_t>(target.vendor_id >> 8);
  }
  return c;
}

Result<crypto::Key> VerifyEvidence(const AttestationTarget& target, const Challenge& challenge,
                                   ByteSpan evidence) {
  switch (target.backend) {
    case tee::Backend::kNative: return VerifyNativeEvidence(target, challenge.request, evidence);
    case tee::Backend::kSgx: return VerifySgx(target, challenge, evidence);
    case tee::Backend::kTrustZone:
    case tee::Backend::kSancus: return VerifySymmetric(target, challenge.request, evidence);
  }
  return FailedPrecondition("unknown backend");
}

Result<crypto::Key> AttestModule(NodeClient& client, const AttestationTarget& target) {
  AEX_ASSIGN_OR_RETURN(Challenge challenge, NewChallenge(target));
  AEX_ASSIGN_OR_RETURN(Bytes evidence, client.Attest(target.module_id, challenge.request));
  return VerifyEvidence(target, challenge, evidence);
}

// ------------------------------------------------------------------ targets

namespace {

std::string NodeError(const Node& node, const std::string& text) {
  return "node '" + node.name + "': " + text;
}

// The node's platform secret as bytes: node_key, else node_key_file.
Result<Bytes> NodeSecret(const Node& node) {
  if (node.node_key) return *node.node_key;
  if (node.node_key_file) {
    auto key = tee::ReadSecretFile(node.node_key_file->string());
    if (!key.ok()) return Status(key.status().code(), NodeError(node, key.status().message()));
    return key;
  }
  return FailedPrecondition(NodeError(node, "has no node_key or node_key_file"));
}

Result<crypto::Key> NodeKey16(const Node& node) {
  AEX_ASSIGN_OR_RETURN(Bytes raw, NodeSecret(node));
  if (raw.size() != crypto::kKeySize) {
    crypto::Wipe(raw);
    return FailedPrecondition(NodeError(node, "the node key must be 16 bytes"));
  }
  crypto::Key k;
  std::copy(raw.begin(), raw.end(), k.begin());
  crypto::Wipe(raw);
  return k;
}

}  // namespace

fs::path SgxSignerPath(const Descriptor& d) { return d.base_dir / ".aex" / "sgx-signer.pem"; }

Result<std::string> LoadOrCreateSgxSigner(const fs::path& file) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    pki::Pkey key = pki::NewP256Key();
    std::string pem = key ? pki::PrivateKeyPem(key.get()) : "";
    if (pem.empty()) return Internal("cannot generate the sgx signing key");
    fs::create_directories(file.parent_path(), ec);
    // If another deployer process got there first, its key wins.
    Status written = WriteFileAtomically(file, pem, 0600, IfExists::kKeep);
    crypto::Wipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(pem.data()), pem.size()));
    AEX_RETURN_IF_ERROR(written);
  }
  AEX_ASSIGN_OR_RETURN(Bytes pem, tee::ReadFileBounded(file.string(), 16384));
  return std::string(pem.begin(), pem.end());
}

Status FillAttestationTarget(const Descriptor& d, const Node& node, const Module& m,
                             AttestationTarget* target) {
  target->backend = static_cast<tee::Backend>(m.type);
  target->allow_simulated = node.allow_simulated;
  target->allow_debug = node.allow_debug;
  target->module_name = m.name;
  switch (m.type) {
    case Backend::kNative: {
      AEX_ASSIGN_OR_RETURN(target->node_key, NodeKey16(node));
      return Status::Ok();
    }
    case Backend::kSancus:
    case Backend::kTrustZone: {
      if (!node.vendor_id) return FailedPrecondition(NodeError(node, "needs vendor_id"));
      target->vendor_id = *node.vendor_id;
      if (node.vendor_key) {
        target->vendor_key = *node.vendor_key;
      } else if (m.type == Backend::kSancus) {
        AEX_ASSIGN_OR_RETURN(target->node_key, NodeKey16(node));
      } else {
        AEX_ASSIGN_OR_RETURN(target->huk, NodeSecret(node));
      }
      return Status::Ok();
    }
    case Backend::kSgx: {
      if (!node.root_ca) {
        return FailedPrecondition(NodeError(
            node, "needs root_ca: the platform's root CA certificate, the trust anchor"));
      }
      auto pem = tee::ReadFileBounded(node.root_ca->string(), 64 * 1024);
      if (!pem.ok()) {
        return FailedPrecondition(NodeError(
            node, "cannot read root_ca " + node.root_ca->string() +
                      " (aex-node creates it in its platform directory on start)"));
      }
      target->root_ca_pem.assign(pem->begin(), pem->end());
      target->root_ca_name = node.root_ca->string();
      AEX_ASSIGN_OR_RETURN(target->signer_pem, LoadOrCreateSgxSigner(SgxSignerPath(d)));
      return Status::Ok();
    }
  }
  return FailedPrecondition("unknown backend");
}

}  // namespace aex::deploy
