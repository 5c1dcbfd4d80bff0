// Builder: turns a module's annotated sources into a module executable for
// its backend (aex-gen glue + the system compiler + the trusted runtime and
// the backend's platform layer), cached by content so that an unchanged
// module is never rebuilt.

#ifndef AEX_DEPLOYER_BUILDER_H_
#define AEX_DEPLOYER_BUILDER_H_

#include <filesystem>
#include <map>
#include <string>

#include "crypto/crypto.h"
#include "deployer/descriptor.h"
#include "gen/manifest.h"

namespace aex::deploy {

// Where the module SDK lives: headers, runtime archives and aex-gen.
struct Sdk {
  std::filesystem::path include_dir;
  std::filesystem::path lib_dir;
  std::filesystem::path gen_exe;
  std::string cc = "cc";
  std::string cxx = "c++";
  std::string extra_flags;  // e.g. sanitizer flags the SDK was built with
  // Link flags of every module: -static (docs/tee.md), except in sanitizer builds.
  std::string link_flags;
  // Module binaries keep their symbols but not their debug info (20x
  // smaller: faster to load, send and measure). AEX_MODULE_DEBUG=1 keeps it.
  bool strip_debug = true;
  // The attestation manager's source and the source tree it includes from.
  std::filesystem::path manager_source;
  std::filesystem::path source_dir;
  // Rust modules (rust_crate.h): the SDK crate, and Debian's toolchain and
  // packaged crates, never a rustup toolchain (builds are offline).
  std::filesystem::path rust_sdk_dir;
  std::filesystem::path cargo = "/usr/bin/cargo";
  std::filesystem::path rustc = "/usr/bin/rustc";
  std::filesystem::path cargo_registry = "/usr/share/cargo/registry";

  // The SDK this aex binary was built with, or, for an installed aex, the
  // one installed with it; overridable by AEX_SDK_INCLUDE, AEX_SDK_LIB,
  // AEX_GEN, AEX_SDK_SOURCE, AEX_SDK_RUST, AEX_CARGO, AEX_RUSTC,
  // AEX_CARGO_REGISTRY, CC and CXX (docs/environment.md).
  static Sdk Default();
};

struct BuiltModule {
  std::string name;
  std::filesystem::path binary;
  gen::ModuleManifest manifest;
  crypto::Digest measurement{};  // SHA-256 of the binary
  bool cached = false;
};

// The attestation manager of `spec` as a module: built from the SDK's
// manager source for the backend of its node (docs/tee.md).
Module ManagerModule(const Descriptor& d, const ManagerSpec& spec, const Sdk& sdk);

// Adds the manager of d.manager_spec to `d` as a module, with the direct
// connection the deployer sends it commands on (ManagerControl).
Status AddManager(Descriptor* d, const Sdk& sdk);
std::string ManagerControl(const ManagerSpec& spec);

// Reads a built module binary; one larger than a node loads
// (wire::kMaxModuleBinary) is an error naming both sizes.
Result<Bytes> ReadModuleBinary(const std::filesystem::path& binary);

// The module's source files: `sources`, or every C/C++ file in `folder`, or
// for a Rust module (a Cargo.toml in `folder`) its src/lib.rs.
Result<std::vector<std::filesystem::path>> ModuleSources(const Descriptor& d, const Module& m);
// Extracts the interface without compiling (validate, graph).
Result<gen::ModuleManifest> ScanModule(const Descriptor& d, const Module& m);
// Scans every module; the error names each module (modules[i]) whose
// source files or folder are missing, all of them, or whose scan failed.
Result<std::map<std::string, gen::ModuleManifest>> ScanModules(const Descriptor& d);
// The cache entry BuildModule would return, without building: `cached`
// false (and no measurement) when the sources changed since the last build.
Result<BuiltModule> FindBuiltModule(const Descriptor& d, const Module& m, const Sdk& sdk,
                                    const std::filesystem::path& cache_dir);
// Builds (or fetches from cache_dir) the module executable.
Result<BuiltModule> BuildModule(const Descriptor& d, const Module& m, const Sdk& sdk,
                                const std::filesystem::path& cache_dir);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_BUILDER_H_
