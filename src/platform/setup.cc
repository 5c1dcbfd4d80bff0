#include "platform/setup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <filesystem>

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

Status EnsureSimulatedPlatform(const std::string& dir_name) {
  fs::path dir(dir_name);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) return Status(Code::kIo, "cannot create " + dir_name);
  chmod(dir.c_str(), 0700);
  if (fs::exists(dir / sgx::kRootCaFile) && fs::exists(dir / sgx::kQeCertFile) &&
      fs::exists(dir / sgx::kQeKeyFile)) {
    return Status::Ok();
  }
  pki::Pkey root_key = pki::NewP256Key(), qe_key = pki::NewP256Key();
  if (!root_key || !qe_key) return Internal("cannot generate P-256 keys");
  uint8_t id[6];
  if (RAND_bytes(id, sizeof id) != 1) return Internal("RAND_bytes failed");
  const std::string tag = HexEncode(ByteSpan(id, sizeof id));
  pki::CertSpec root_spec, qe_spec;
  root_spec.common_name = "aex simulated SGX root CA " + tag;
  root_spec.ca = true;
  qe_spec.common_name = "aex simulated SGX quoting key " + tag;
  pki::X509Ptr root = pki::MakeCertificate(root_key.get(), root_spec, nullptr, root_key.get());
  pki::X509Ptr qe =
      root ? pki::MakeCertificate(qe_key.get(), qe_spec, root.get(), root_key.get()) : nullptr;
  if (!qe) return Internal("cannot create the simulated SGX certificates");
  // The quoting key and its certificate in DER (what the module reads); the
  // root CA in PEM (what the operator hands to the deployer).
  std::string key_der = pki::PrivateKeyDer(qe_key.get());
  std::string qe_der = pki::CertificateDer(qe.get());
  std::string root_pem = pki::CertificatePem(root.get());
  if (key_der.empty() || qe_der.empty() || root_pem.empty()) return Internal("encoding failed");
  // The key and its certificate first: a root CA on disk means a usable platform.
  Status written = WriteFileAtomically(dir / sgx::kQeKeyFile, key_der, 0600);
  OPENSSL_cleanse(key_der.data(), key_der.size());
  AEX_RETURN_IF_ERROR(written);
  AEX_RETURN_IF_ERROR(WriteFileAtomically(dir / sgx::kQeCertFile, qe_der, 0644));
  return WriteFileAtomically(dir / sgx::kRootCaFile, root_pem, 0644);
}

}  // namespace aex::tee
