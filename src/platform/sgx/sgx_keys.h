// The SGX (DCAP-like) model, shared by the module's platform layer and the
// deployer's verifier so both sides encode and derive exactly the same bytes.
//
// Simulated platform directory (created by aex-node, see platform/setup.h):
//   sgx_root_ca.pem  self-signed root CA certificate, ECDSA P-256: the trust
//                    anchor the deployer is given (descriptor node `root_ca`),
//                    as Intel's SGX root CA is for real DCAP quotes
//   sgx_qe_cert.der  the quoting key's certificate, issued by that root (DER)
//   sgx_qe_key.der   the quoting key (ECDSA P-256, private, DER, mode 0600)
// Launch file, written by the node per module (untrusted; a lie only makes
// attestation fail or reports the truth about debug), exactly:
//   platform_dir=<directory>\ndebug=<0|1>\n
//
// SIGSTRUCT, made by the vendor (the deployer) when it deploys the enclave,
// carried by LOAD_MODULE and handed by the (untrusted) node to the module at
// start (runtime flag --aex-sgx-sigstruct, hex); checked at EINIT, before the
// enclave answers anything:
//   len|signer_spki     the vendor's P-256 public key (DER SubjectPublicKeyInfo)
//   len|sigstruct_sig   ECDSA(vendor, "aex/sgx/sigstruct/v1" || MRENCLAVE)
// Attestation request, deployer -> module (all lengths u32 big-endian):
//   deployer_pub[32]    the deployer's ephemeral X25519 public key
//   nonce[32]           the deployer's fresh random challenge
//   len|request_sig     ECDSA(signer fixed at EINIT, "aex/sgx/request/v1"
//                             || u32 module_id || deployer_pub || nonce)
// Quote, module -> deployer:
//   len|body            u8 version (2) || u8 flags || u32 module_id
//                       || u64 instance_id || MRENCLAVE
//                       || MRSIGNER || report_data || module_pub[32] || len|qe_cert (DER)
//   len|signature       ECDSA-SHA256 by the quoting key over body
// with MRENCLAVE = SHA-256(module binary), MRSIGNER = SHA-256(signer_spki) of the
// SIGSTRUCT that passed EINIT (fixed for the life of the instance),
// report_data = SHA-256(module_pub || request), and
//   K_s = HKDF-SHA256(ikm = X25519(ephemeral, peer), salt = "aex/sgx/v1",
//                     info = SHA-256(request || body))[0..16),
// the session key: both X25519 keys are fresh per attestation.

// What an enclave links is declared here; the platform service's and the
// deployer's side (files, quote version, signing) in sgx_sign.h.

#ifndef AEX_PLATFORM_SGX_SGX_KEYS_H_
#define AEX_PLATFORM_SGX_SGX_KEYS_H_

#include <array>
#include <memory>

#include "crypto/crypto.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace aex::tee::sgx {

inline constexpr size_t kMaxSignature = 256, kMaxCert = 8192;

using X25519Key = std::array<uint8_t, 32>;
struct PkeyFree {
  void operator()(EVP_PKEY* k) const;
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A public key from DER SubjectPublicKeyInfo (nothing after it), or null.
// An enclave takes its signer's key from the platform's EINIT, which checked
// it is P-256 (ParseP256PublicKey, sgx_sign.h).
Pkey ParsePublicKey(ByteSpan spki);
bool EcdsaVerify(EVP_PKEY* key, ByteSpan data, ByteSpan signature_der);

Status X25519Keypair(X25519Key* private_key, X25519Key* public_key);
// HKDF over the X25519 shared secret, bound to the whole transcript.
Result<crypto::Key> DeriveSgxModuleKey(const X25519Key& private_key, ByteSpan peer_public,
                                       ByteSpan request, ByteSpan quote_body);

Bytes RequestMessage(uint32_t module_id, ByteSpan deployer_pub, ByteSpan nonce);
crypto::Digest ReportData(ByteSpan module_pub, ByteSpan request);

}  // namespace aex::tee::sgx

#endif  // AEX_PLATFORM_SGX_SGX_KEYS_H_
