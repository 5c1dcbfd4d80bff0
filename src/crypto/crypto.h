// Thin wrappers over OpenSSL 3 for the primitives aex uses: random bytes,
// SHA-256, HMAC-SHA256, HKDF-SHA256 and AES-128-GCM. They are part of the
// trusted runtime, so they stay small and never throw.

#ifndef AEX_CRYPTO_CRYPTO_H_
#define AEX_CRYPTO_CRYPTO_H_

#include <array>
#include <cstdint>
#include <span>

#include "aex/bytes.h"
#include "aex/status.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace aex::crypto {

constexpr size_t kKeySize = 16;    // AES-128 and module/connection keys
constexpr size_t kNonceSize = 12;  // GCM nonce
constexpr size_t kTagSize = 16;

using Key = std::array<uint8_t, kKeySize>;
using Digest = std::array<uint8_t, 32>;
using Nonce = std::array<uint8_t, kNonceSize>;

Status RandomBytes(std::span<uint8_t> out);
Digest Sha256(ByteSpan data);
Digest HmacSha256(ByteSpan key, ByteSpan data);
// HKDF-SHA256 (RFC 5869). REQUIRES: ikm non-empty, out.size() <= 255 * 32.
Status Hkdf(ByteSpan ikm, ByteSpan salt, ByteSpan info, std::span<uint8_t> out);
// Constant-time comparison.
bool Equal(ByteSpan a, ByteSpan b);
// Overwrites memory in a way the compiler cannot elide.
void Wipe(std::span<uint8_t> b);

// A key that wipes itself when it goes away, on every path. An aggregate, so
// it can be a member of aggregates; every copy wipes itself too.
struct SecretKey {
  Key k{};
  ~SecretKey() { Wipe(k); }
};

#ifdef AEX_NONCE_AUDIT
// Test builds only (CMake option AEX_NONCE_AUDIT): writes
// "AEX-NONCE-AUDIT <hex of SHA-256(key)[0..8)> <hex nonce>" to stderr.
void AuditSeal(ByteSpan key, const Nonce& nonce);
#endif

// An authenticated cipher with a 16-byte key, 12-byte nonce and 16-byte tag.
// REQUIRES of callers: a nonce is never used twice with the same key.
class Aead {
 public:
  virtual ~Aead() = default;
  // Writes plaintext.size() bytes of ciphertext to `out` followed by the tag.
  // REQUIRES: out has room for plaintext.size() + kTagSize bytes; out may
  // equal plaintext.data().
  virtual Status Seal(const Nonce& nonce, ByteSpan ad, ByteSpan plaintext, uint8_t* out) = 0;
  // Verifies and decrypts `sealed` (ciphertext || tag) into `out`.
  // REQUIRES: room for sealed.size() - kTagSize bytes. On failure `out` is wiped.
  virtual Status Open(const Nonce& nonce, ByteSpan ad, ByteSpan sealed, uint8_t* out) = 0;
};

// AES-128-GCM with one cipher context kept for the lifetime of the key, so
// that sealing an event costs one nonce setup, not a key schedule.
// Not thread-safe: one instance per thread.
class AesGcm final : public Aead {
 public:
  explicit AesGcm(const Key& key);
  ~AesGcm() override;
  AesGcm(const AesGcm&) = delete;
  AesGcm& operator=(const AesGcm&) = delete;

  Status Seal(const Nonce& nonce, ByteSpan ad, ByteSpan plaintext, uint8_t* out) override;
  Status Open(const Nonce& nonce, ByteSpan ad, ByteSpan sealed, uint8_t* out) override;

 private:
  EVP_CIPHER_CTX* enc_;
  EVP_CIPHER_CTX* dec_;
#ifdef AEX_NONCE_AUDIT
  Key audit_key_;
#endif
};

}  // namespace aex::crypto

#endif  // AEX_CRYPTO_CRYPTO_H_
