// The SGX model's side that no enclave links (sgx_sign.cc): the simulated
// platform's files, the quote version the platform service writes, and the
// signatures it and the vendor (the deployer) make. Formats: sgx_keys.h.

#ifndef AEX_PLATFORM_SGX_SGX_SIGN_H_
#define AEX_PLATFORM_SGX_SGX_SIGN_H_

#include "platform/sgx/sgx_keys.h"

namespace aex::tee::sgx {

inline constexpr char kRootCaFile[] = "sgx_root_ca.pem";
inline constexpr char kPckKeyFile[] = "sgx_pck_key.der";
inline constexpr char kPckChainFile[] = "sgx_pck_chain.pem";
inline constexpr char kCollateralFile[] = "sgx_collateral.json";
// The simulated QE's MRSIGNER, as its QE identity names it.
inline constexpr std::array<uint8_t, 32> kSimulatedQeMrsigner = {
    'a', 'e', 'x', ' ', 's', 'i', 'm', 'u', 'l', 'a', 't', 'e', 'd', ' ', 'Q', 'E'};
inline constexpr uint16_t kSimulatedQeSvn = 8;  // the QE identity's UpToDate level
// Evidence, platform -> deployer (sgx_keys.h): len|quote v3 || len|extra,
// extra = u32 module_id || u64 instance_id || module_pub[32] || collateral JSON.
inline constexpr size_t kExtraFixed = 4 + 8 + 32;
inline constexpr size_t kMaxSpki = 512;
inline constexpr size_t kMaxSigstruct = 8 + kMaxSpki + kMaxSignature;

// A P-256 public key from DER SubjectPublicKeyInfo, or null.
Pkey ParseP256PublicKey(ByteSpan spki);
// ECDSA-SHA256 (DER) by the vendor's signing key.
Result<Bytes> EcdsaSign(EVP_PKEY* key, ByteSpan data);
// What a SIGSTRUCT signs: "aex/sgx/sigstruct/v1" || MRENCLAVE.
Bytes SigstructMessage(const crypto::Digest& mrenclave);

}  // namespace aex::tee::sgx

#endif  // AEX_PLATFORM_SGX_SGX_SIGN_H_
