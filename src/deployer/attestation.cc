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
#include "platform/trustzone/trustzone_keys.h"
#ifdef AEX_HAVE_SANCUS_KEYS
#include "platform/sancus/sancus_keys.h"
#endif

namespace aex::deploy {
namespace fs = std::filesystem;
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
    tee::sgx::Pkey key(EVP_EC_gen("P-256"));
    BIO* bio = BIO_new(BIO_s_mem());
    std::string pem;
    if (key && bio &&
        PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1) {
      char* data = nullptr;
      long n = BIO_get_mem_data(bio, &data);
      pem.assign(data, static_cast<size_t>(n));
    }
    BIO_free(bio);
    if (pem.empty()) return Internal("cannot generate the sgx signing key");
    fs::create_directories(file.parent_path(), ec);
    // Written in full under a temporary name, then published with link(),
    // which fails if another deployer process got there first (it wins).
    fs::path tmp = file.string() + ".tmp" + std::to_string(getpid());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
    if (fd >= 0) ok = fsync(fd) == 0 && ok;
    if (fd >= 0) close(fd);
    ok = ok && (link(tmp.c_str(), file.c_str()) == 0 || errno == EEXIST);
    unlink(tmp.c_str());
    crypto::Wipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(pem.data()), pem.size()));
    if (!ok) return Status(Code::kIo, "cannot write " + file.string());
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
