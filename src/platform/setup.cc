#include "platform/setup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sys/file.h>

#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "attest/dcap/sim.h"
#include "crypto/crypto.h"
#include "platform/sgx/sgx_sign.h"
#include "tls/pki.h"
#include "platform/key_files.h"
#include "platform/service_link.h"
#include "util/files.h"

namespace aex::tee {
namespace fs = std::filesystem;

std::string DefaultPlatformDir(const std::string& key_file) {
  fs::path p(key_file);
  if (p.extension() == ".platform") return key_file + ".d";
  return p.replace_extension(".platform").string();
}

Status EnsureKeyFile(const std::string& path) {
  if (fs::exists(path)) return Status::Ok();
  crypto::Key key;
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(key));
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status(Code::kIo, "cannot create key file " + path);
  std::string hex = HexEncode(key) + "\n";
  bool ok = write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  close(fd);
  crypto::Wipe(key);
  return ok ? Status::Ok() : Status(Code::kIo, "cannot write key file " + path);
}

// The simulated provisioning hierarchy lives as long as a platform: its
// certificates and signed collateral are valid for kSimulatedValidity from
// creation (Intel's collateral is refreshed monthly; nothing here refreshes
// it: a per-node hierarchy's signing keys are gone once it is written, and a
// deployment's sign new collateral only to revoke).
constexpr time_t kSimulatedValidity = 20L * 365 * 24 * 3600;

namespace {

Status MakePrivateDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) return Status(Code::kIo, "cannot create " + dir.string());
  chmod(dir.c_str(), 0700);
  return Status::Ok();
}

bool HasPlatformFiles(const fs::path& dir) {
  return fs::exists(dir / sgx::kRootCaFile) && fs::exists(dir / sgx::kPckKeyFile) &&
         fs::exists(dir / sgx::kPckChainFile) && fs::exists(dir / sgx::kCollateralFile);
}

// The options of a simulated hierarchy created at `created`.
dcap::sim::Options SimulatedOptions(time_t created) {
  dcap::sim::Options o;
  o.not_before = created - 3600;  // tolerate clocks a little behind this one
  o.not_after = created + kSimulatedValidity;
  o.issue_date = o.not_before;
  o.next_update = o.not_after;
  o.qe_mrsigner = sgx::kSimulatedQeMrsigner;
  return o;
}

std::string Text(const Bytes& b) { return std::string(b.begin(), b.end()); }

// ------------------------------------------------- a deployment's hierarchy

constexpr char kProvisioningFile[] = "sgx_provisioning.json";
constexpr size_t kMaxProvisioningFile = 256 * 1024;

// An exclusive lock on <dir>/.lock for as long as it lives.
class DirLock {
 public:
  explicit DirLock(const fs::path& dir)
      : fd_(open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0 && flock(fd_, LOCK_EX) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~DirLock() {
    if (fd_ >= 0) close(fd_);
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

struct Deployment {
  fs::path dir;
  time_t created = 0;
  std::optional<dcap::sim::Hierarchy> hierarchy;
};

std::string KeyPem(EVP_PKEY* key) { return pki::PrivateKeyPem(key); }

Result<dcap::EvpPkeyPtr> PemKey(const nlohmann::json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) return InvalidArgument(std::string(field));
  pki::Pkey key = pki::ParsePrivateKeyPem(j[field].get<std::string>());
  if (!key) return InvalidArgument(std::string(field) + ": not a PEM private key");
  return dcap::EvpPkeyPtr(key.release());
}

Result<dcap::X509Ptr> PemCert(const nlohmann::json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) return InvalidArgument(std::string(field));
  AEX_ASSIGN_OR_RETURN(auto chain, dcap::ParsePemChain(j[field].get<std::string>()));
  if (chain.size() != 1) return InvalidArgument(std::string(field) + ": not one certificate");
  return std::move(chain.front());
}

Result<Deployment> LoadDeployment(const fs::path& dir) {
  Deployment d;
  d.dir = dir;
  AEX_ASSIGN_OR_RETURN(Bytes text, ReadFileBounded((dir / kProvisioningFile).string(),
                                                   kMaxProvisioningFile));
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  std::fill(text.begin(), text.end(), 0);
  dcap::sim::HierarchyKeys k;
  auto parsed = [&]() -> Status {
    if (!j.is_object() || !j.contains("created") || !j["created"].is_number_integer() ||
        !j.contains("next_serial") || !j["next_serial"].is_number_integer() ||
        !j.contains("revoked") || !j["revoked"].is_array()) {
      return InvalidArgument("not a provisioning state");
    }
    d.created = j["created"].get<time_t>();
    k.next_serial = j["next_serial"].get<long>();
    for (const auto& serial : j["revoked"]) {
      if (!serial.is_number_integer()) return InvalidArgument("revoked: not a serial");
      k.revoked.push_back(serial.get<long>());
    }
    AEX_ASSIGN_OR_RETURN(k.root_key, PemKey(j, "root_key"));
    AEX_ASSIGN_OR_RETURN(k.ca_key, PemKey(j, "ca_key"));
    AEX_ASSIGN_OR_RETURN(k.tcb_key, PemKey(j, "tcb_key"));
    AEX_ASSIGN_OR_RETURN(k.root, PemCert(j, "root"));
    AEX_ASSIGN_OR_RETURN(k.ca, PemCert(j, "ca"));
    AEX_ASSIGN_OR_RETURN(k.tcb_signer, PemCert(j, "tcb_signer"));
    return Status::Ok();
  }();
  if (!parsed.ok()) {
    return InvalidArgument((dir / kProvisioningFile).string() + ": " + parsed.message());
  }
  AEX_ASSIGN_OR_RETURN(d.hierarchy,
                       dcap::sim::Hierarchy::Restore(SimulatedOptions(d.created), std::move(k)));
  return d;
}

// Writes the state (0600), then the root certificate and, when
// `collateral` is set, a freshly signed collateral.
Status SaveDeployment(const Deployment& d, bool collateral) {
  const dcap::sim::HierarchyKeys& k = d.hierarchy->keys();
  nlohmann::json j = {{"created", d.created},
                      {"next_serial", k.next_serial},
                      {"revoked", k.revoked},
                      {"root_key", KeyPem(k.root_key.get())},
                      {"ca_key", KeyPem(k.ca_key.get())},
                      {"tcb_key", KeyPem(k.tcb_key.get())},
                      {"root", dcap::CertPem(k.root.get())},
                      {"ca", dcap::CertPem(k.ca.get())},
                      {"tcb_signer", dcap::CertPem(k.tcb_signer.get())}};
  std::string text = j.dump(2);
  Status written = WriteFileAtomically(d.dir / kProvisioningFile, text, 0600);
  OPENSSL_cleanse(text.data(), text.size());
  AEX_RETURN_IF_ERROR(written);
  AEX_RETURN_IF_ERROR(
      WriteFileAtomically(d.dir / sgx::kRootCaFile, dcap::CertPem(k.root.get()), 0644));
  if (!collateral) return Status::Ok();
  AEX_ASSIGN_OR_RETURN(dcap::Collateral c, d.hierarchy->MakeCollateral());
  return WriteFileAtomically(d.dir / sgx::kCollateralFile, dcap::EncodeCollateral(c), 0644);
}

// The deployment's hierarchy, created on first use. REQUIRES: its lock held.
Result<Deployment> OpenDeployment(const fs::path& dir) {
  if (fs::exists(dir / kProvisioningFile)) return LoadDeployment(dir);
  Deployment d;
  d.dir = dir;
  d.created = time(nullptr);
  AEX_ASSIGN_OR_RETURN(d.hierarchy, dcap::sim::Hierarchy::Create(SimulatedOptions(d.created)));
  AEX_RETURN_IF_ERROR(SaveDeployment(d, true));
  return d;
}

}  // namespace

Status WriteSimulatedPlatform(dcap::sim::Hierarchy& h, const std::string& collateral_json,
                              const std::string& dir_name) {
  fs::path dir(dir_name);
  AEX_RETURN_IF_ERROR(MakePrivateDir(dir));
  dcap::SgxExtension platform;  // the default TCB info's one level: UpToDate
  platform.tcb_components.fill(2);
  platform.cpu_svn.fill(2);
  platform.pce_svn = 11;
  if (RAND_bytes(platform.ppid.data(), platform.ppid.size()) != 1) {
    return Internal("RAND_bytes failed");
  }
  AEX_ASSIGN_OR_RETURN(dcap::sim::Pck pck, h.IssuePck(platform));
  std::string key_der = pki::PrivateKeyDer(pck.key.get());
  std::string chain = h.PckChainPem(pck);
  if (key_der.empty()) return Internal("encoding failed");
  // The key, chain and collateral first: a root CA on disk means a usable
  // platform.
  std::error_code ec;
  fs::remove(dir / sgx::kRootCaFile, ec);
  Status written = WriteFileAtomically(dir / sgx::kPckKeyFile, key_der, 0600);
  OPENSSL_cleanse(key_der.data(), key_der.size());
  AEX_RETURN_IF_ERROR(written);
  AEX_RETURN_IF_ERROR(WriteFileAtomically(dir / sgx::kPckChainFile, chain, 0644));
  AEX_RETURN_IF_ERROR(WriteFileAtomically(dir / sgx::kCollateralFile, collateral_json, 0644));
  return WriteFileAtomically(dir / sgx::kRootCaFile, dcap::CertPem(h.root()), 0644);
}

Status EnsureSimulatedPlatform(const std::string& dir_name) {
  fs::path dir(dir_name);
  AEX_RETURN_IF_ERROR(MakePrivateDir(dir));
  if (HasPlatformFiles(dir)) return Status::Ok();
  AEX_ASSIGN_OR_RETURN(dcap::sim::Hierarchy h,
                       dcap::sim::Hierarchy::Create(SimulatedOptions(time(nullptr))));
  AEX_ASSIGN_OR_RETURN(dcap::Collateral collateral, h.MakeCollateral());
  // The hierarchy's own keys go with `h`: a per-node platform never issues
  // another PCK.
  return WriteSimulatedPlatform(h, dcap::EncodeCollateral(collateral), dir_name);
}

Status ProvisionSimulatedPlatform(const std::string& deployment_dir,
                                  const std::string& platform_dir, bool* issued) {
  *issued = false;
  fs::path dir(deployment_dir);
  AEX_RETURN_IF_ERROR(MakePrivateDir(dir));
  DirLock lock(dir);
  if (!lock.ok()) return Status(Code::kIo, "cannot lock " + deployment_dir);
  AEX_ASSIGN_OR_RETURN(Deployment d, OpenDeployment(dir));
  const std::string root_pem = dcap::CertPem(d.hierarchy->root());
  fs::path platform(platform_dir);
  if (HasPlatformFiles(platform)) {
    auto current = ReadFileBounded((platform / sgx::kRootCaFile).string(), sgx::kMaxCert);
    if (current.ok() && Text(*current) == root_pem) return Status::Ok();
  }
  AEX_ASSIGN_OR_RETURN(Bytes collateral, ReadFileBounded((dir / sgx::kCollateralFile).string(),
                                                         kMaxServiceMessage));
  AEX_RETURN_IF_ERROR(WriteSimulatedPlatform(*d.hierarchy, Text(collateral), platform_dir));
  *issued = true;
  return SaveDeployment(d, false);
}

Status RevokeSimulatedPlatform(const std::string& deployment_dir,
                               const std::string& platform_dir) {
  fs::path dir(deployment_dir);
  if (!fs::exists(dir / kProvisioningFile)) {
    return FailedPrecondition(deployment_dir + " provisions no deployment");
  }
  DirLock lock(dir);
  if (!lock.ok()) return Status(Code::kIo, "cannot lock " + deployment_dir);
  AEX_ASSIGN_OR_RETURN(Deployment d, LoadDeployment(dir));
  AEX_ASSIGN_OR_RETURN(Bytes chain_pem, ReadFileBounded(platform_dir + "/" + sgx::kPckChainFile,
                                                        sgx::kMaxCert));
  AEX_ASSIGN_OR_RETURN(auto chain, dcap::ParsePemChain(Text(chain_pem)));
  if (chain.empty() || X509_cmp(chain.back().get(), d.hierarchy->root()) != 0) {
    return FailedPrecondition(platform_dir + " was not provisioned by " + deployment_dir);
  }
  d.hierarchy->Revoke(ASN1_INTEGER_get(X509_get0_serialNumber(chain.front().get())));
  return SaveDeployment(d, true);
}

}  // namespace aex::tee
