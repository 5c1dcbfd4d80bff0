#include "platform/setup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <filesystem>

#include "attest/dcap/sim.h"
#include "crypto/crypto.h"
#include "platform/sgx/sgx_sign.h"
#include "tls/pki.h"
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
// it, and the signing keys are gone once it is written).
constexpr time_t kSimulatedValidity = 20L * 365 * 24 * 3600;

Status EnsureSimulatedPlatform(const std::string& dir_name) {
  fs::path dir(dir_name);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) return Status(Code::kIo, "cannot create " + dir_name);
  chmod(dir.c_str(), 0700);
  if (fs::exists(dir / sgx::kRootCaFile) && fs::exists(dir / sgx::kPckKeyFile) &&
      fs::exists(dir / sgx::kPckChainFile) && fs::exists(dir / sgx::kCollateralFile)) {
    return Status::Ok();
  }
  const time_t now = time(nullptr);
  dcap::sim::Options o;
  o.not_before = now - 3600;  // tolerate clocks a little behind this one
  o.not_after = now + kSimulatedValidity;
  o.issue_date = o.not_before;
  o.next_update = o.not_after;
  o.qe_mrsigner = sgx::kSimulatedQeMrsigner;
  AEX_ASSIGN_OR_RETURN(dcap::sim::Hierarchy h, dcap::sim::Hierarchy::Create(o));
  dcap::SgxExtension platform;  // the default TCB info's one level: UpToDate
  platform.tcb_components.fill(2);
  platform.cpu_svn.fill(2);
  platform.pce_svn = 11;
  if (RAND_bytes(platform.ppid.data(), platform.ppid.size()) != 1) {
    return Internal("RAND_bytes failed");
  }
  AEX_ASSIGN_OR_RETURN(dcap::sim::Pck pck, h.IssuePck(platform));
  AEX_ASSIGN_OR_RETURN(dcap::Collateral collateral, h.MakeCollateral());
  std::string key_der = pki::PrivateKeyDer(pck.key.get());
  std::string chain = h.PckChainPem(pck);
  std::string root_pem = chain.substr(chain.rfind("-----BEGIN CERTIFICATE-----"));
  if (key_der.empty() || root_pem.empty()) return Internal("encoding failed");
  // The key, chain and collateral first: a root CA on disk means a usable
  // platform.
  Status written = WriteFileAtomically(dir / sgx::kPckKeyFile, key_der, 0600);
  OPENSSL_cleanse(key_der.data(), key_der.size());
  AEX_RETURN_IF_ERROR(written);
  AEX_RETURN_IF_ERROR(WriteFileAtomically(dir / sgx::kPckChainFile, chain, 0644));
  AEX_RETURN_IF_ERROR(
      WriteFileAtomically(dir / sgx::kCollateralFile, dcap::EncodeCollateral(collateral), 0644));
  return WriteFileAtomically(dir / sgx::kRootCaFile, root_pem, 0644);
}

}  // namespace aex::tee
