// Setup of a simulated platform: the material a real TEE has from its
// manufacturer. The platform service (aex-platform) calls it on start (and
// `aex-platform --init` on its own). Not part of any module's TCB, and never
// run by aex-node.
//
// The platform directory defaults to the node key file's path with the
// extension ".platform" (keys/node1.key -> keys/node1.platform/); it holds
// the simulated SGX provisioning hierarchy's root CA, PCK key and chain, and
// collateral (sgx/sgx_keys.h). The key file itself is K_N (native, sancus)
// and the HUK (trustzone).

#ifndef AEX_PLATFORM_SETUP_H_
#define AEX_PLATFORM_SETUP_H_

#include <string>

#include "aex/status.h"
#include "attest/dcap/sim.h"

namespace aex::tee {

std::string DefaultPlatformDir(const std::string& key_file);

// Creates the 16-byte node key file (0600) if it does not exist yet.
Status EnsureKeyFile(const std::string& path);

// Creates `dir` (0700) and, unless all four files exist, a fresh simulated
// Intel provisioning hierarchy (attest/dcap/sim.h: root CA, processor CA, TCB
// signing certificate, a PCK certificate for this platform, CRLs, TCB info
// and QE identity, valid 20 years), keeping the root certificate, the PCK
// key (0600) and chain, and the collateral; the other private keys are
// discarded, as the manufacturer keeps its own. Files are written to
// temporary names and renamed, so a concurrent reader never sees half a
// file.
Status EnsureSimulatedPlatform(const std::string& dir);

// Issues a PCK certificate of `h` (random PPID, the TCB of the default TCB
// info's one UpToDate level: components 2, PCESVN 11) and writes the
// platform files into `dir` with `collateral_json` as its collateral. For
// the two functions here and for tests that need a platform of a hierarchy
// with other options.
Status WriteSimulatedPlatform(dcap::sim::Hierarchy& h, const std::string& collateral_json,
                              const std::string& dir);

// One simulated provisioning hierarchy per deployment, as Intel's
// manufacturing provisions every platform under one root: run by
// `aex-platform --provision DIR` (which `aex nodes start` invokes for each
// local sgx node), never inside the deployer process. `deployment_dir`
// (created 0700) holds
//   sgx_provisioning.json  0600: the root, processor CA and TCB signing
//                          keys and certificates, the next PCK serial and
//                          the revoked serials: the only private keys of
//                          the hierarchy, kept to provision later nodes and
//                          sign CRLs;
//   sgx_root_ca.pem        the root certificate: the deployer's trust anchor
//                          (a node's `root_ca`);
//   sgx_collateral.json    the current collateral, PCK CRL included (a
//                          node's `collateral`).
// Gives `platform_dir` a PCK of its own (random PPID) under that root,
// unless it already has one: its files are those EnsureSimulatedPlatform
// writes, so aex-platform then starts on them as they are. A platform
// directory of another root (made per node by EnsureSimulatedPlatform, or by
// another deployment) is provisioned again, replacing its files.
// `*issued` says whether a PCK was issued. Serialised by a lock file in
// deployment_dir.
Status ProvisionSimulatedPlatform(const std::string& deployment_dir,
                                  const std::string& platform_dir, bool* issued);

// Puts the PCK of `platform_dir` on the deployment's PCK CRL and signs the
// deployment's collateral again (sgx_collateral.json). The platform's own
// copy of the collateral is left as it was: like a real platform, it cannot
// be trusted to report its own revocation, so verifiers use the
// deployment's (`collateral:`).
Status RevokeSimulatedPlatform(const std::string& deployment_dir,
                               const std::string& platform_dir);

}  // namespace aex::tee

#endif  // AEX_PLATFORM_SETUP_H_
