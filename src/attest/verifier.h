// Attestation verifiers: what the deployer, or the attestation manager on
// its behalf, runs to decide whether a module is the expected binary on the
// expected platform, and to obtain the session key K_s of this attestation. Pure functions of the
// target, the challenge and the evidence: no network, no files, so that the
// attestation manager (a module, src/manager/) links exactly the code the
// deployer runs. docs/tee.md describes each backend's protocol; the byte
// formats are in src/platform/<backend>/*_keys.h, shared with the module side.

#ifndef AEX_ATTEST_VERIFIER_H_
#define AEX_ATTEST_VERIFIER_H_

#include <optional>
#include <string>
#include <vector>

#include "aex/bytes.h"
#include "aex/status.h"
#include "crypto/crypto.h"
#include "platform/platform.h"
#include "platform/sgx/sgx_keys.h"

namespace aex::attest {

struct AttestationTarget {
  tee::Backend backend = tee::Backend::kNative;
  uint32_t module_id = 0;
  crypto::Digest measurement{};  // SHA-256 of the binary the deployer built
  crypto::Key node_key{};        // native, sancus: K_N of the node, known to the deployer

  // Policy (descriptor node fields). Native is no TEE and never "simulated".
  bool allow_simulated = true;
  bool allow_debug = true;

  // sancus, trustzone: the vendor id, and the vendor key when the descriptor
  // gives it (sancus: K_N,SP, 16 bytes; trustzone: 16 or 32 bytes); when it
  // is empty the vendor key is derived from node_key (sancus) or huk.
  uint16_t vendor_id = 0;
  Bytes vendor_key;
  Bytes huk;                // trustzone: the node's hardware unique key, 16 or 32 bytes
  std::string module_name;  // trustzone: the TA UUID is derived from it

  // sgx: the trust anchor (the platform root CA certificate, PEM) and the
  // deployment's enclave signing key (PEM; its hash is MRSIGNER).
  std::string root_ca_pem;
  std::string root_ca_name;  // for messages
  // sgx policy beyond allow_*: the TCB statuses accepted (Intel's names;
  // empty: UpToDate), the lowest ISVSVN, the ISVPRODID and MRSIGNER (empty
  // or 32 bytes) required; and, when not empty, the collateral (JSON,
  // attest/dcap/collateral.h) quotes are verified against instead of the
  // one the evidence carries.
  std::vector<std::string> tcb_statuses;
  uint16_t min_isv_svn = 0;
  std::optional<uint16_t> isv_prod_id;
  Bytes mrsigner;
  std::string collateral_json;
  std::string collateral_name;  // for messages
  std::string signer_pem;
  // sgx, the attestation manager's side: the signer's public key (DER
  // SubjectPublicKeyInfo) instead of signer_pem. The manager never holds the
  // signing key: the deployer signs each request it makes (CompleteSgxRequest).
  Bytes signer_spki;
};

// sgx evidence (sgx_sign.h: len|quote || len|extra) in its parts; views
// into the evidence. `extra` = u32 module id || u64 instance id || module
// key (32) || collateral JSON, hashed into REPORTDATA's second half.
struct SgxEvidence {
  ByteSpan quote, extra;
  uint32_t module_id = 0;
  uint64_t instance_id = 0;
  ByteSpan module_pub;
  std::string_view collateral_json;
};
Result<SgxEvidence> ParseSgxEvidence(ByteSpan evidence);

// Wipes the secrets a target holds.
void WipeTarget(AttestationTarget* target);

// One attestation attempt: the request the module receives and what the
// deployer keeps to check the answer.
struct Challenge {
  Bytes request;
  tee::sgx::X25519Key ephemeral{};  // sgx: the deployer's X25519 private key
  crypto::Digest mrsigner{};        // sgx: SHA-256 of the signer's public key
  Bytes signer_spki;                // sgx: that public key (DER)
  uint32_t module_id = 0;           // sgx: the module the request is for
  Challenge() = default;
  Challenge(Challenge&&) = default;
  Challenge& operator=(Challenge&&) = default;
  ~Challenge() { crypto::Wipe(ephemeral); }
};

// What one verified attestation establishes: the session key K_s the module
// derived for this attestation alone, and the instance that answered. The
// key wipes itself.
struct Session {
  crypto::Key key{};
  uint64_t instance_id = 0;
  uint8_t flags = 0;  // tee::kEvidence*, as the verified evidence says
  Session() = default;
  Session(const Session&) = default;
  Session& operator=(const Session&) = default;
  ~Session() { crypto::Wipe(key); }
};

// A fresh challenge for `target` (a new random nonce every time).
Result<Challenge> NewChallenge(const AttestationTarget& target);
// sgx without the signing key (target.signer_spki set, signer_pem empty),
// NewChallenge returns an unsigned request: deployer_pub[32] || nonce[32].
// The deployer completes it with its request signature (REQUIRES:
// signer_pem is the enclave signer's key)...
Result<Bytes> CompleteSgxRequest(const std::string& signer_pem, uint32_t module_id,
                                 ByteSpan unsigned_request);
// ...and the challenge's holder adopts the completed request after checking
// that it carries its own key and nonce and is signed by the expected signer.
Status AdoptSgxRequest(Challenge* challenge, ByteSpan signed_request);
// The SIGSTRUCT (platform/sgx/sgx_keys.h) the vendor makes at deploy time
// for a binary measuring `measurement`: it goes with LOAD_MODULE, the
// enclave's EINIT checks it and takes MRSIGNER from it.
Result<Bytes> SignSigstruct(const std::string& signer_pem, const crypto::Digest& measurement);
// The DER SubjectPublicKeyInfo of a PEM private key.
Result<Bytes> SignerSpki(const std::string& signer_pem);

// Verifies the module's answer; the session on success, the reason otherwise
// (kAuthFailed: evidence does not verify; kPermissionDenied: policy).
Result<Session> VerifyEvidence(const AttestationTarget& target, const Challenge& challenge,
                               ByteSpan evidence);

// Verifies native evidence for `challenge` (exposed for tests).
Result<Session> VerifyNativeEvidence(const AttestationTarget& target, ByteSpan challenge,
                                     ByteSpan evidence);

}  // namespace aex::attest

#endif  // AEX_ATTEST_VERIFIER_H_
