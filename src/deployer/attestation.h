// Attestation, deployer side: challenge a loaded module through its node,
// verify the evidence against what the deployer expects (backend, platform
// trust anchor or node key, measurement of the binary it built, module id,
// policy), and only then obtain the session key K_s. A module that fails gets
// no key and hence no connection. docs/tee.md describes each backend's
// protocol; the byte formats are in src/platform/<backend>/*_keys.h, shared
// with the module side.

#ifndef AEX_DEPLOYER_ATTESTATION_H_
#define AEX_DEPLOYER_ATTESTATION_H_

#include <filesystem>
#include <string>

#include "attest/verifier.h"
#include "crypto/crypto.h"
#include "deployer/descriptor.h"
#include "deployer/node_client.h"
#include "platform/platform.h"
#include "platform/sgx/sgx_keys.h"

namespace aex::deploy {

using attest::AttestationTarget;
using attest::Challenge;
using attest::NewChallenge;
using attest::VerifyEvidence;
using attest::VerifyNativeEvidence;
using attest::WipeTarget;

// NewChallenge, the node round trip, VerifyEvidence; the module's answer
// goes to *evidence when it is given.
Result<attest::Session> AttestModule(NodeClient& client, const AttestationTarget& target,
                                     Bytes* evidence = nullptr);

// ---------------------------------------------------------------------------
// From the descriptor to a target.

// Fills backend, policy and key material of `target` for module `m` on
// `node`; module_id and measurement are the caller's. Fails with a message
// naming the node and the missing or unreadable field.
Status FillAttestationTarget(const Descriptor& d, const Node& node, const Module& m,
                             AttestationTarget* target);

// DCAP collateral named by a path: the file itself, or the one *.json file
// of a folder (a node's `collateral`, `aex verify-quote --collateral`).
Result<std::filesystem::path> CollateralFile(const std::filesystem::path& file_or_dir);

// The deployment's SGX enclave signing key (ECDSA P-256, PEM): MRSIGNER of
// every sgx module it deploys. Created (0600) on first use at `file`; safe to
// call from several threads.
Result<std::string> LoadOrCreateSgxSigner(const std::filesystem::path& file);

// Where the deployment in `d` keeps that key: <descriptor dir>/.aex/sgx-signer.pem.
std::filesystem::path SgxSignerPath(const Descriptor& d);

// What LOAD_MODULE carries for module `m` built to `measurement`: for sgx
// the SIGSTRUCT signed with the deployment's enclave signing key (the vendor
// signs at deploy time; the enclave's EINIT fixes MRSIGNER from it), empty
// for every other backend.
Result<Bytes> SigstructFor(const Descriptor& d, const Module& m,
                           const crypto::Digest& measurement);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_ATTESTATION_H_
