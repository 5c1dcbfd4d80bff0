#include "tls/pki.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "platform/key_files.h"
#include "platform/platform.h"

namespace aex::pki {
namespace {

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  bool ok = ext && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool AddName(X509_NAME* name, const char* field, const std::string& value) {
  return value.empty() ||
         X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.c_str()),
                                    static_cast<int>(value.size()), -1, 0) == 1;
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

std::string NameEntry(X509* cert, int nid) {
  X509_NAME* name = X509_get_subject_name(cert);
  int i = name ? X509_NAME_get_index_by_NID(name, nid, -1) : -1;
  if (i < 0) return "";
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  return s ? std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)))
           : "";
}

Result<std::string> ReadPem(const std::string& path) {
  AEX_ASSIGN_OR_RETURN(Bytes pem, tee::ReadFileBounded(path, 64 * 1024));
  std::string text(pem.begin(), pem.end());
  crypto::Wipe(pem);
  return text;
}

}  // namespace

void X509Free::operator()(X509* x) const { X509_free(x); }

Pkey NewP256Key() { return Pkey(EVP_EC_gen("P-256")); }

X509Ptr MakeCertificate(EVP_PKEY* key, const CertSpec& spec, X509* issuer, EVP_PKEY* signer) {
  X509Ptr cert(X509_new());
  uint8_t serial[16];
  if (!cert || !key || !signer || RAND_bytes(serial, sizeof serial) != 1) return nullptr;
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  X509_NAME* name = X509_get_subject_name(cert.get());
  ok = ok && X509_set_version(cert.get(), 2) == 1 &&
       X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
       X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.validity_days * 24 * 3600) !=
           nullptr &&
       X509_set_pubkey(cert.get(), key) == 1 && AddName(name, "O", spec.organization) &&
       AddName(name, "OU", spec.unit) && AddName(name, "CN", spec.common_name) &&
       X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name) == 1;
  X509* iss = issuer ? issuer : cert.get();
  ok = ok &&
       AddExtension(cert.get(), iss, NID_basic_constraints,
                    spec.ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE") &&
       AddExtension(cert.get(), iss, NID_key_usage,
                    spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") &&
       AddExtension(cert.get(), iss, NID_subject_key_identifier, "hash") &&
       (spec.ca || AddExtension(cert.get(), iss, NID_authority_key_identifier, "keyid:always")) &&
       (spec.subject_alt_name.empty() ||
        AddExtension(cert.get(), iss, NID_subject_alt_name, spec.subject_alt_name)) &&
       (spec.extended_key_usage.empty() ||
        AddExtension(cert.get(), iss, NID_ext_key_usage, spec.extended_key_usage)) &&
       X509_sign(cert.get(), signer, EVP_sha256()) > 0;
  return ok ? std::move(cert) : nullptr;
}

std::string CertificatePem(X509* cert) {
  return ToPem([&](BIO* b) { return PEM_write_bio_X509(b, cert); });
}
std::string CertificateDer(X509* cert) {
  return ToDer([&](unsigned char** p) { return i2d_X509(cert, p); });
}
std::string PrivateKeyPem(EVP_PKEY* key) {
  return ToPem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
}
std::string PrivateKeyDer(EVP_PKEY* key) {
  return ToDer([&](unsigned char** p) { return i2d_PrivateKey(key, p); });
}

X509Ptr ParseCertificatePem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr);
  BIO_free(bio);
  return cert;
}

Pkey ParsePrivateKeyPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Pkey key(bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr);
  BIO_free(bio);
  return key;
}

Result<X509Ptr> LoadCertificate(const std::string& path) {
  AEX_ASSIGN_OR_RETURN(std::string pem, ReadPem(path));
  X509Ptr cert = ParseCertificatePem(pem);
  if (!cert) return InvalidArgument(path + ": not a PEM certificate");
  return cert;
}

Result<Pkey> LoadPrivateKey(const std::string& path) {
  AEX_ASSIGN_OR_RETURN(std::string pem, ReadPem(path));
  Pkey key = ParsePrivateKeyPem(pem);
  crypto::Wipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(pem.data()), pem.size()));
  if (!key) return InvalidArgument(path + ": not a PEM private key");
  return key;
}

std::string SubjectUnit(X509* cert) { return NameEntry(cert, NID_organizationalUnitName); }
std::string SubjectCommonName(X509* cert) { return NameEntry(cert, NID_commonName); }

}  // namespace aex::pki
