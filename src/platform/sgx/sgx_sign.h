// The SGX model's side that no enclave links (sgx_sign.cc): the simulated
// platform's files, the quote version the platform service writes, and the
// signatures it and the vendor (the deployer) make. Formats: sgx_keys.h.

#ifndef AEX_PLATFORM_SGX_SGX_SIGN_H_
#define AEX_PLATFORM_SGX_SGX_SIGN_H_

#include "platform/sgx/sgx_keys.h"

namespace aex::tee::sgx {

inline constexpr char kRootCaFile[] = "sgx_root_ca.pem";
inline constexpr char kQeCertFile[] = "sgx_qe_cert.der";
inline constexpr char kQeKeyFile[] = "sgx_qe_key.der";
inline constexpr uint8_t kQuoteVersion = 2;
inline constexpr size_t kMaxSpki = 512;
inline constexpr size_t kMaxSigstruct = 8 + kMaxSpki + kMaxSignature;

// A P-256 public key from DER SubjectPublicKeyInfo, or null.
Pkey ParseP256PublicKey(ByteSpan spki);
// ECDSA-SHA256 (DER) by the quoting key or the vendor's signing key.
Result<Bytes> EcdsaSign(EVP_PKEY* key, ByteSpan data);
// What a SIGSTRUCT signs: "aex/sgx/sigstruct/v1" || MRENCLAVE.
Bytes SigstructMessage(const crypto::Digest& mrenclave);

}  // namespace aex::tee::sgx

#endif  // AEX_PLATFORM_SGX_SGX_SIGN_H_
