// The SGX model's side that no enclave links (sgx_sign.h): the strict P-256
// key check, the vendor's signature and the SIGSTRUCT's message. The
// platform service (quoting, EINIT) and the deployer (the vendor) link it.

#include <openssl/evp.h>

#include <cstring>

#include "platform/sgx/sgx_sign.h"

namespace aex::tee::sgx {

Pkey ParseP256PublicKey(ByteSpan spki) {
  Pkey key = ParsePublicKey(spki);
  char group[32] = {0};
  size_t len = 0;
  if (!key || !EVP_PKEY_is_a(key.get(), "EC") ||
      !EVP_PKEY_get_group_name(key.get(), group, sizeof group, &len) ||
      strcmp(group, "prime256v1") != 0) {
    return nullptr;
  }
  return key;
}

Result<Bytes> EcdsaSign(EVP_PKEY* key, ByteSpan data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Bytes sig(kMaxSignature);
  size_t len = sig.size();
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, sig.data(), &len, data.data(), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return Internal("ECDSA signing failed");
  sig.resize(len);
  return sig;
}

Bytes SigstructMessage(const crypto::Digest& mrenclave) {
  ByteWriter w(64);
  w.PutBytes(AsBytes("aex/sgx/sigstruct/v1"));
  w.PutBytes(mrenclave);
  return w.Take();
}

}  // namespace aex::tee::sgx
