#include "platform/sgx/sgx_keys.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace aex::tee::sgx {

void PkeyFree::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

Pkey ParsePublicKey(ByteSpan spki) {
  const unsigned char* p = spki.data();
  Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
  if (!key || p != spki.data() + spki.size()) return nullptr;
  return key;
}

bool EcdsaVerify(EVP_PKEY* key, ByteSpan data, ByteSpan signature_der) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, signature_der.data(), signature_der.size(), data.data(),
                             data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

Status X25519Keypair(X25519Key* private_key, X25519Key* public_key) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  size_t a = 32, b = 32;
  if (!key || EVP_PKEY_get_raw_private_key(key.get(), private_key->data(), &a) != 1 ||
      EVP_PKEY_get_raw_public_key(key.get(), public_key->data(), &b) != 1 || a != 32 ||
      b != 32) {
    return Internal("X25519 key generation failed");
  }
  return Status::Ok();
}

Result<crypto::Key> DeriveSgxModuleKey(const X25519Key& private_key, ByteSpan peer_public,
                                       ByteSpan request, ByteSpan quote_body) {
  Pkey own(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(), 32));
  Pkey peer(peer_public.size() == 32 ? EVP_PKEY_new_raw_public_key(
                                           EVP_PKEY_X25519, nullptr, peer_public.data(), 32)
                                     : nullptr);
  EVP_PKEY_CTX* ctx = own ? EVP_PKEY_CTX_new(own.get(), nullptr) : nullptr;
  uint8_t shared[32];
  size_t len = sizeof shared;
  // OpenSSL refuses an all-zero result (a small-order peer key).
  bool ok = ctx && peer && EVP_PKEY_derive_init(ctx) == 1 &&
            EVP_PKEY_derive_set_peer(ctx, peer.get()) == 1 &&
            EVP_PKEY_derive(ctx, shared, &len) == 1 && len == 32;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return AuthFailed("X25519 key agreement failed");
  Bytes transcript(request.begin(), request.end());
  transcript.insert(transcript.end(), quote_body.begin(), quote_body.end());
  crypto::Digest info = crypto::Sha256(transcript);
  crypto::Key key;
  Status s = crypto::Hkdf(ByteSpan(shared, 32), AsBytes("aex/sgx/v1"), info, key);
  crypto::Wipe(shared);
  if (!s.ok()) return s;
  return key;
}

Bytes RequestMessage(uint32_t module_id, ByteSpan deployer_pub, ByteSpan nonce) {
  ByteWriter w(96);
  w.PutBytes(AsBytes("aex/sgx/request/v1"));
  w.PutU32(module_id);
  w.PutBytes(deployer_pub);
  w.PutBytes(nonce);
  return w.Take();
}

crypto::Digest ReportData(ByteSpan module_pub, ByteSpan request) {
  Bytes in(module_pub.begin(), module_pub.end());
  in.insert(in.end(), request.begin(), request.end());
  return crypto::Sha256(in);
}

}  // namespace aex::tee::sgx
