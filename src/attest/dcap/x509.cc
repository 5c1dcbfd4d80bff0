// OpenSSL plumbing for DCAP (contract in x509.h).

#include "attest/dcap/x509.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cctype>

namespace aex::dcap {
namespace {

struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr MemBio(std::string_view s) {
  return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

bool OnlyPadding(std::string_view s) {
  for (char c : s) {
    if (c != '\0' && !std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// OpenSSL's verification context, freed on every path.
struct StoreDeleter {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
struct StackDeleter {
  void operator()(STACK_OF(X509)* p) const { sk_X509_free(p); }
};

}  // namespace

Result<std::vector<X509Ptr>> ParsePemChain(std::string_view pem) {
  std::vector<X509Ptr> out;
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t pos = 0;
  while (!OnlyPadding(pem.substr(pos))) {
    size_t begin = pem.find(kBegin, pos);
    if (begin == std::string_view::npos || !OnlyPadding(pem.substr(pos, begin - pos))) {
      return InvalidArgument("PEM chain: text that is not a certificate");
    }
    size_t end = pem.find(kEnd, begin);
    if (end == std::string_view::npos) return InvalidArgument("PEM chain: unterminated certificate");
    end += kEnd.size();
    BioPtr bio = MemBio(pem.substr(begin, end - begin));
    X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();
    if (!cert) return InvalidArgument("PEM chain: certificate " + std::to_string(out.size() + 1) +
                                      " does not decode");
    out.push_back(std::move(cert));
    pos = end;
  }
  if (out.empty()) return InvalidArgument("PEM chain: no certificate");
  return out;
}

Result<X509CrlPtr> ParseCrlDer(ByteSpan der) {
  const unsigned char* p = der.data();
  X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (!crl || p != der.data() + der.size()) return InvalidArgument("CRL: not one DER CRL");
  return crl;
}

Result<X509Ptr> ParseCertDer(ByteSpan der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  if (!cert || p != der.data() + der.size()) return InvalidArgument("not one DER certificate");
  return cert;
}

Bytes CertDer(X509* cert) {
  unsigned char* der = nullptr;
  int n = i2d_X509(cert, &der);
  if (n <= 0) return {};
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<EvpPkeyPtr> P256KeyFromRaw(ByteSpan xy) {
  if (xy.size() != 64) return InvalidArgument("P-256 public key: not 64 bytes");
  unsigned char point[65];
  point[0] = 0x04;  // uncompressed
  std::copy(xy.begin(), xy.end(), point + 1);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
      OSSL_PARAM_construct_end()};
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  bool ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  ERR_clear_error();
  if (!ok) {
    EVP_PKEY_free(key);
    return InvalidArgument("P-256 public key: not a point on the curve");
  }
  return EvpPkeyPtr(key);
}

Result<EvpPkeyPtr> PublicKeyFromPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  EvpPkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  ERR_clear_error();
  if (!key) return InvalidArgument("not a PEM public key");
  return key;
}

std::string PublicKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !key || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    ERR_clear_error();
    return "";
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Bytes RawP256PublicKey(EVP_PKEY* key) {
  if (!key || !EVP_PKEY_is_a(key, "EC")) return {};
  unsigned char* point = nullptr;
  size_t n = EVP_PKEY_get1_encoded_public_key(key, &point);
  Bytes out;
  if (n == 65 && point[0] == 0x04) out.assign(point + 1, point + 65);
  OPENSSL_free(point);
  return out;
}

Status VerifyRawEcdsa(EVP_PKEY* key, ByteSpan message, ByteSpan signature) {
  if (signature.size() != 64) return AuthFailed("signature is not 64 bytes");
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(signature.data(), 32, nullptr);
  BIGNUM* s = BN_bin2bn(signature.data() + 32, 32, nullptr);
  unsigned char* der = nullptr;
  int der_len = -1;
  if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
    r = s = nullptr;  // owned by sig now
    der_len = i2d_ECDSA_SIG(sig, &der);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = der_len > 0 && md &&
            EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(md, der, static_cast<size_t>(der_len), message.data(),
                             message.size()) == 1;
  EVP_MD_CTX_free(md);
  OPENSSL_free(der);
  ERR_clear_error();
  return ok ? Status::Ok() : AuthFailed("ECDSA signature does not verify");
}

Result<Bytes> SignRawEcdsa(EVP_PKEY* key, ByteSpan message) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t len = 0;
  Bytes der;
  bool ok = md && EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(md, nullptr, &len, message.data(), message.size()) == 1;
  if (ok) {
    der.resize(len);
    ok = EVP_DigestSign(md, der.data(), &len, message.data(), message.size()) == 1;
    der.resize(len);
  }
  EVP_MD_CTX_free(md);
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = ok ? d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())) : nullptr;
  Bytes out(64);
  ok = sig && BN_bn2binpad(ECDSA_SIG_get0_r(sig), out.data(), 32) == 32 &&
       BN_bn2binpad(ECDSA_SIG_get0_s(sig), out.data() + 32, 32) == 32;
  ECDSA_SIG_free(sig);
  ERR_clear_error();
  if (!ok) return Internal("ECDSA signing failed");
  return out;
}

Status VerifyChain(const std::vector<X509Ptr>& chain, const ChainCheck& check,
                   int* x509_error) {
  if (x509_error) *x509_error = X509_V_ERR_UNSPECIFIED;
  if (chain.size() < 2) return AuthFailed("a chain needs a leaf and a root");
  X509* root = chain.back().get();
  EVP_PKEY* root_key = X509_get0_pubkey(root);
  if (!root_key || !check.pinned_root || EVP_PKEY_eq(root_key, check.pinned_root) != 1) {
    ERR_clear_error();
    return AuthFailed("the chain's root is not the pinned root key");
  }
  std::unique_ptr<X509_STORE, StoreDeleter> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
  std::unique_ptr<STACK_OF(X509), StackDeleter> untrusted(sk_X509_new_null());
  if (!store || !ctx || !untrusted || X509_STORE_add_cert(store.get(), root) != 1) {
    return Internal("OpenSSL: out of memory");
  }
  for (size_t i = 1; i + 1 < chain.size(); i++) sk_X509_push(untrusted.get(), chain[i].get());
  unsigned long flags = X509_V_FLAG_X509_STRICT;
  if (check.check_crls) {
    flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    for (X509_CRL* crl : check.crls) X509_STORE_add_crl(store.get(), crl);
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), chain.front().get(), untrusted.get()) != 1) {
    return Internal("OpenSSL: cannot start path validation");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, flags);
  X509_VERIFY_PARAM_set_time(param, check.at);
  int ok = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  ERR_clear_error();
  if (x509_error) *x509_error = ok == 1 ? X509_V_OK : err;
  if (ok == 1) return Status::Ok();
  return AuthFailed(std::string(X509_verify_cert_error_string(err)) + " (certificate " +
                    std::to_string(depth) + " of the chain)");
}

}  // namespace aex::dcap
