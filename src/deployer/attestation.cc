#include "deployer/attestation.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <mutex>

#include "platform/key_files.h"
#include "platform/native/native_keys.h"
#include "platform/service_link.h"
#include "tls/pki.h"
#include "util/files.h"
#include "platform/trustzone/trustzone_keys.h"
#ifdef AEX_HAVE_SANCUS_KEYS
#include "platform/sancus/sancus_keys.h"
#endif

namespace aex::deploy {
namespace fs = std::filesystem;
Result<attest::Session> AttestModule(NodeClient& client, const AttestationTarget& target,
                                     Bytes* evidence_out) {
  AEX_ASSIGN_OR_RETURN(Challenge challenge, NewChallenge(target));
  AEX_ASSIGN_OR_RETURN(Bytes evidence, client.Attest(target.module_id, challenge.request));
  if (evidence_out) *evidence_out = evidence;
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

Result<fs::path> CollateralFile(const fs::path& file_or_dir) {
  std::error_code ec;
  if (!fs::is_directory(file_or_dir, ec)) return file_or_dir;
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(file_or_dir, ec)) {
    if (e.path().extension() == ".json") found.push_back(e.path());
  }
  if (found.size() != 1) {
    return InvalidArgument("collateral " + file_or_dir.string() +
                           ": the folder must hold exactly one .json file");
  }
  return found.front();
}

fs::path SgxSignerPath(const Descriptor& d) { return d.base_dir / ".aex" / "sgx-signer.pem"; }

Result<Bytes> SigstructFor(const Descriptor& d, const Module& m,
                           const crypto::Digest& measurement) {
  if (m.type != Backend::kSgx) return Bytes{};
  AEX_ASSIGN_OR_RETURN(std::string signer, LoadOrCreateSgxSigner(SgxSignerPath(d)));
  auto sigstruct = attest::SignSigstruct(signer, measurement);
  crypto::Wipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(signer.data()), signer.size()));
  return sigstruct;
}

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
      target->tcb_statuses = node.tcb_statuses;
      target->min_isv_svn = node.min_isv_svn;
      target->isv_prod_id = node.isv_prod_id;
      target->mrsigner = node.mrsigner.value_or(Bytes{});
      if (node.collateral) {
        auto file = CollateralFile(*node.collateral);
        auto json = file.ok() ? tee::ReadFileBounded(file->string(), tee::kMaxServiceMessage)
                              : Result<Bytes>(file.status());
        if (!json.ok()) {
          return FailedPrecondition(NodeError(node, "cannot read collateral " +
                                                        node.collateral->string() + ": " +
                                                        json.status().message()));
        }
        target->collateral_json.assign(json->begin(), json->end());
        target->collateral_name = file->string();
      }
      AEX_ASSIGN_OR_RETURN(target->signer_pem, LoadOrCreateSgxSigner(SgxSignerPath(d)));
      return Status::Ok();
    }
  }
  return FailedPrecondition("unknown backend");
}

}  // namespace aex::deploy
