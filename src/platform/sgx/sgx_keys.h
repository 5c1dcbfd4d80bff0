// The SGX (DCAP-like) model, shared by the module's platform layer and the
// deployer's verifier so both sides encode and derive exactly the same bytes.
//
// Simulated platform directory (created by aex-platform, see platform/setup.h):
//   sgx_root_ca.pem      the simulated provisioning root CA certificate: the
//                        trust anchor the deployer pins (descriptor node
//                        `root_ca`), as Intel's SGX root CA is for real quotes
//   sgx_pck_chain.pem    PCK, processor CA and root certificates (PEM)
//   sgx_pck_key.der      the PCK key (ECDSA P-256, private, DER, mode 0600)
//   sgx_collateral.json  CRLs, TCB info, QE identity (attest/dcap/collateral.h)
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
// Evidence, module -> deployer (made by the platform service, sgx_sign.h):
//   len|quote           an Intel DCAP ECDSA quote v3 (attest/dcap/quote.h) by
//                       the simulated QE, REPORTDATA = report_data || SHA-256(extra)
//   len|extra           u32 module_id || u64 instance_id || module_pub[32]
//                       || the platform's collateral (JSON)
// with MRENCLAVE = SHA-256(module binary), MRSIGNER = SHA-256(signer_spki) of the
// SIGSTRUCT that passed EINIT (fixed for the life of the instance),
// report_data = SHA-256(module_pub || request), and
//   K_s = HKDF-SHA256(ikm = X25519(ephemeral, peer), salt = "aex/sgx/v1",
//                     info = SHA-256(request || quote))[0..16),
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
