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

}  // namespace aex::tee

#endif  // AEX_PLATFORM_SETUP_H_
