#include "crypto/crypto.h"

#include <cstdio>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <climits>

namespace aex::crypto {

Status RandomBytes(std::span<uint8_t> out) {
  if (out.size() > INT_MAX || RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return Internal("RAND_bytes failed");
  }
  return Status::Ok();
}

Digest Sha256(ByteSpan data) {
  Digest d;
  SHA256(data.data(), data.size(), d.data());
  return d;
}

Digest HmacSha256(ByteSpan key, ByteSpan data) {
  Digest d;
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
       d.data(), &len);
  return d;
}

Status Hkdf(ByteSpan ikm, ByteSpan salt, ByteSpan info, std::span<uint8_t> out) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  size_t len = out.size();
  bool ok = ctx && EVP_PKEY_derive_init(ctx) > 0 &&
            EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) > 0 &&
            // An empty salt means the RFC 5869 default (zeros), which OpenSSL
            // applies when none is set.
            (salt.empty() ||
             EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt.data(), static_cast<int>(salt.size())) > 0) &&
            EVP_PKEY_CTX_set1_hkdf_key(ctx, ikm.data(), static_cast<int>(ikm.size())) > 0 &&
            EVP_PKEY_CTX_add1_hkdf_info(ctx, info.data(), static_cast<int>(info.size())) > 0 &&
            EVP_PKEY_derive(ctx, out.data(), &len) > 0 && len == out.size();
  EVP_PKEY_CTX_free(ctx);
  return ok ? Status::Ok() : Internal("HKDF failed");
}

bool Equal(ByteSpan a, ByteSpan b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void Wipe(std::span<uint8_t> b) { OPENSSL_cleanse(b.data(), b.size()); }

#ifdef AEX_NONCE_AUDIT
void AuditSeal(ByteSpan key, const Nonce& nonce) {
  Digest d = Sha256(key);
  fprintf(stderr, "AEX-NONCE-AUDIT %s %s\n", HexEncode(ByteSpan(d).first(8)).c_str(),
          HexEncode(nonce).c_str());
}
#endif

AesGcm::AesGcm(const Key& key) : enc_(EVP_CIPHER_CTX_new()), dec_(EVP_CIPHER_CTX_new()) {
#ifdef AEX_NONCE_AUDIT
  audit_key_ = key;
#endif
  // Key schedule once; each message then only sets its nonce.
  EVP_EncryptInit_ex(enc_, EVP_aes_128_gcm(), nullptr, key.data(), nullptr);
  EVP_DecryptInit_ex(dec_, EVP_aes_128_gcm(), nullptr, key.data(), nullptr);
}

AesGcm::~AesGcm() {
  EVP_CIPHER_CTX_free(enc_);
  EVP_CIPHER_CTX_free(dec_);
}

Status AesGcm::Seal(const Nonce& nonce, ByteSpan ad, ByteSpan plaintext, uint8_t* out) {
#ifdef AEX_NONCE_AUDIT
  AuditSeal(audit_key_, nonce);
#endif
  int len = 0;
  if (plaintext.size() > INT_MAX || ad.size() > INT_MAX) return InvalidArgument("too large");
  if (EVP_EncryptInit_ex(enc_, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      (!ad.empty() &&
       EVP_EncryptUpdate(enc_, nullptr, &len, ad.data(), static_cast<int>(ad.size())) != 1) ||
      EVP_EncryptUpdate(enc_, out, &len, plaintext.data(), static_cast<int>(plaintext.size())) !=
          1 ||
      EVP_EncryptFinal_ex(enc_, out + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_GCM_GET_TAG, kTagSize, out + plaintext.size()) != 1) {
    return Internal("AES-GCM seal failed");
  }
  return Status::Ok();
}

Status AesGcm::Open(const Nonce& nonce, ByteSpan ad, ByteSpan sealed, uint8_t* out) {
  if (sealed.size() < kTagSize) return AuthFailed("sealed data shorter than a tag");
  if (sealed.size() > INT_MAX || ad.size() > INT_MAX) return InvalidArgument("too large");
  size_t ct_len = sealed.size() - kTagSize;
  int len = 0;
  uint8_t tag[kTagSize];
  std::copy(sealed.begin() + ct_len, sealed.end(), tag);
  bool ok = EVP_DecryptInit_ex(dec_, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
            (ad.empty() || EVP_DecryptUpdate(dec_, nullptr, &len, ad.data(),
                                             static_cast<int>(ad.size())) == 1) &&
            EVP_DecryptUpdate(dec_, out, &len, sealed.data(), static_cast<int>(ct_len)) == 1 &&
            EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_GCM_SET_TAG, kTagSize, tag) == 1 &&
            EVP_DecryptFinal_ex(dec_, out + len, &len) == 1;
  if (!ok) {
    Wipe(std::span<uint8_t>(out, ct_len));
    return AuthFailed("AES-GCM tag mismatch");
  }
  return Status::Ok();
}

}  // namespace aex::crypto
