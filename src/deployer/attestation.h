// Attestation, deployer side: challenge a loaded module through its node,
// verify the evidence against what the deployer expects (backend, platform
// trust anchor or node key, measurement of the binary it built, module id,
// policy), and only then obtain the module key K_m. A module that fails gets
// no key and hence no connection. docs/tee.md describes each backend's
// protocol; the byte formats are in src/platform/<backend>/*_keys.h, shared
// with the module side.

#ifndef AEX_DEPLOYER_ATTESTATION_H_
#define AEX_DEPLOYER_ATTESTATION_H_

#include <filesystem>
#include <string>

#include "crypto/crypto.h"
#include "deployer/descriptor.h"
#include "deployer/node_client.h"
#include "platform/platform.h"
#include "platform/sgx/sgx_keys.h"

namespace aex::deploy {

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
  std::string signer_pem;
};

// Wipes the secrets a target holds.
void WipeTarget(AttestationTarget* target);

// One attestation attempt: the request the module receives and what the
// deployer keeps to check the answer.
struct Challenge {
  Bytes request;
  tee::sgx::X25519Key ephemeral{};  // sgx: the deployer's X25519 private key
  crypto::Digest mrsigner{};        // sgx: SHA-256 of the signer's public key
  Challenge() = default;
  Challenge(Challenge&&) = default;
  Challenge& operator=(Challenge&&) = default;
  ~Challenge() { crypto::Wipe(ephemeral); }
};

// A fresh challenge for `target` (a new random nonce every time).
Result<Challenge> NewChallenge(const AttestationTarget& target);
// Verifies the module's answer; K_m on success, the reason otherwise
// (kAuthFailed: evidence does not verify; kPermissionDenied: policy).
Result<crypto::Key> VerifyEvidence(const AttestationTarget& target, const Challenge& challenge,
                                   ByteSpan evidence);

// NewChallenge, the node round trip, VerifyEvidence.
Result<crypto::Key> AttestModule(NodeClient& client, const AttestationTarget& target);

// Verifies native evidence for `challenge` (exposed for tests).
Result<crypto::Key> VerifyNativeEvidence(const AttestationTarget& target, ByteSpan challenge,
                                         ByteSpan evidence);

// ---------------------------------------------------------------------------
// From the descriptor to a target.

// Fills backend, policy and key material of `target` for module `m` on
// `node`; module_id and measurement are the caller's. Fails with a message
// naming the node and the missing or unreadable field.
Status FillAttestationTarget(const Descriptor& d, const Node& node, const Module& m,
                             AttestationTarget* target);

// The deployment's SGX enclave signing key (ECDSA P-256, PEM): MRSIGNER of
// every sgx module it deploys. Created (0600) on first use at `file`; safe to
// call from several threads.
Result<std::string> LoadOrCreateSgxSigner(const std::filesystem::path& file);

// Where the deployment in `d` keeps that key: <descriptor dir>/.aex/sgx-signer.pem.
std::filesystem::path SgxSignerPath(const Descriptor& d);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_ATTESTATION_H_
