// Setup of a simulated platform: the material a real TEE has from its
// manufacturer. The platform service (aex-platform) calls it on start (and
// `aex-platform --init` on its own). Not part of any module's TCB, and never
// run by aex-node.
//
// The platform directory defaults to the node key file's path with the
// extension ".platform" (keys/node1.key -> keys/node1.platform/); it holds
// the simulated SGX root CA, quoting key and its certificate
// (sgx/sgx_keys.h). The key file itself is K_N (native, sancus) and the HUK
// (trustzone).

#ifndef AEX_PLATFORM_SETUP_H_
#define AEX_PLATFORM_SETUP_H_

#include <string>

#include "aex/status.h"

namespace aex::tee {

std::string DefaultPlatformDir(const std::string& key_file);

// Creates the 16-byte node key file (0600) if it does not exist yet.
Status EnsureKeyFile(const std::string& path);

// Creates `dir` (0700) and, unless all three exist, a fresh SGX root CA
// (self-signed, ECDSA P-256; its private key is discarded once it has
// certified the quoting key, as the manufacturer keeps its own), a quoting
// key (0600) and the quoting key's certificate. Files are written to temporary
// names and renamed, so a concurrent reader never sees half a file.
Status EnsureSimulatedPlatform(const std::string& dir);

}  // namespace aex::tee

#endif  // AEX_PLATFORM_SETUP_H_
