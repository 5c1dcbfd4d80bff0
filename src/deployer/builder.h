// Builder: turns a module's annotated sources into a module executable for
// its backend (aex-gen glue + the system compiler + the trusted runtime and
// the backend's platform layer), cached by content so that an unchanged
// module is never rebuilt.

#ifndef AEX_DEPLOYER_BUILDER_H_
#define AEX_DEPLOYER_BUILDER_H_

#include <filesystem>
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

  // The SDK this aex binary was built with, overridable by AEX_SDK_INCLUDE,
  // AEX_SDK_LIB, AEX_GEN, CC and CXX.
  static Sdk Default();
};

struct BuiltModule {
  std::string name;
  std::filesystem::path binary;
  gen::ModuleManifest manifest;
  crypto::Digest measurement{};  // SHA-256 of the binary
  bool cached = false;
};

// The module's source files: `sources`, or every C/C++ file in `folder`.
Result<std::vector<std::filesystem::path>> ModuleSources(const Descriptor& d, const Module& m);
// Extracts the interface without compiling (validate, graph).
Result<gen::ModuleManifest> ScanModule(const Descriptor& d, const Module& m);
// Builds (or fetches from cache_dir) the module executable.
Result<BuiltModule> BuildModule(const Descriptor& d, const Module& m, const Sdk& sdk,
                                const std::filesystem::path& cache_dir);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_BUILDER_H_
