#include "platform/setup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <memory>

#include "platform/sgx/sgx_keys.h"

namespace aex::tee {
namespace fs = std::filesystem;
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  bool ok = ext && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, issued by `issuer` (null: self-signed)
// and signed with `signer`, valid for ten years.
X509Ptr MakeCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* signer, bool ca) {
  X509Ptr cert(X509_new());
  uint8_t serial[16];
  if (!cert || RAND_bytes(serial, sizeof serial) != 1) return nullptr;
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  X509_NAME* name = X509_get_subject_name(cert.get());
  ok = ok && X509_set_version(cert.get(), 2) == 1 &&
       X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
       X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600) != nullptr &&
       X509_set_pubkey(cert.get(), key) == 1 &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>("aex (simulated)"), -1,
                                  -1, 0) == 1 &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                  0) == 1 &&
       X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name) == 1;
  X509* iss = issuer ? issuer : cert.get();
  ok = ok && AddExtension(cert.get(), iss, NID_basic_constraints,
                          ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE") &&
       AddExtension(cert.get(), iss, NID_key_usage,
                    ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") &&
       AddExtension(cert.get(), iss, NID_subject_key_identifier, "hash") &&
       (ca || AddExtension(cert.get(), iss, NID_authority_key_identifier, "keyid:always")) &&
       X509_sign(cert.get(), signer, EVP_sha256()) > 0;
  return ok ? std::move(cert) : nullptr;
}

// Writes `text` to dir/name through a temporary file and rename.
Status WriteAtomically(const fs::path& dir, const std::string& name, const std::string& text,
                       mode_t mode) {
  fs::path tmp = dir / (name + ".tmp" + std::to_string(getpid()));
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status(Code::kIo, "cannot create " + tmp.string());
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = fsync(fd) == 0 && ok;
  close(fd);
  if (!ok || rename(tmp.c_str(), (dir / name).c_str()) != 0) {
    unlink(tmp.c_str());
    return Status(Code::kIo, "cannot write " + (dir / name).string());
  }
  return Status::Ok();
}

template <typename F>
std::string ToPem(F write) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out;
  if (bio && write(bio) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;
}

template <typename F>
std::string ToDer(F encode) {
  unsigned char* der = nullptr;
  int n = encode(&der);
  std::string out = n > 0 ? std::string(reinterpret_cast<char*>(der), static_cast<size_t>(n)) : "";
  if (n > 0) OPENSSL_clear_free(der, static_cast<size_t>(n));
  return out;
}

}  // namespace

std::string DefaultPlatformDir(const std::string& key_file) {
  fs::path p(key_file);
  if (p.extension() == ".platform") return key_file + ".d";
  return p.replace_extension(".platform").string();
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
  sgx::Pkey root_key(EVP_EC_gen("P-256")), qe_key(EVP_EC_gen("P-256"));
  if (!root_key || !qe_key) return Internal("cannot generate P-256 keys");
  uint8_t id[6];
  if (RAND_bytes(id, sizeof id) != 1) return Internal("RAND_bytes failed");
  const std::string tag = HexEncode(ByteSpan(id, sizeof id));
  X509Ptr root = MakeCert(root_key.get(), "aex simulated SGX root CA " + tag, nullptr,
                          root_key.get(), true);
  X509Ptr qe = root ? MakeCert(qe_key.get(), "aex simulated SGX quoting key " + tag,
                               root.get(), root_key.get(), false)
                    : nullptr;
  if (!qe) return Internal("cannot create the simulated SGX certificates");
  // The quoting key and its certificate in DER (what the module reads); the
  // root CA in PEM (what the operator hands to the deployer).
  std::string key_der = ToDer([&](unsigned char** p) { return i2d_PrivateKey(qe_key.get(), p); });
  std::string qe_der = ToDer([&](unsigned char** p) { return i2d_X509(qe.get(), p); });
  std::string root_pem = ToPem([&](BIO* b) { return PEM_write_bio_X509(b, root.get()); });
  if (key_der.empty() || qe_der.empty() || root_pem.empty()) return Internal("encoding failed");
  // The key and its certificate first: a root CA on disk means a usable platform.
  Status written = WriteAtomically(dir, sgx::kQeKeyFile, key_der, 0600);
  OPENSSL_cleanse(key_der.data(), key_der.size());
  AEX_RETURN_IF_ERROR(written);
  AEX_RETURN_IF_ERROR(WriteAtomically(dir, sgx::kQeCertFile, qe_der, 0644));
  return WriteAtomically(dir, sgx::kRootCaFile, root_pem, 0644);
}

}  // namespace aex::tee
