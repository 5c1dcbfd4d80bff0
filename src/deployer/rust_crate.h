// Rust modules (AE's form): a module whose folder holds a Cargo.toml is a
// crate. The builder reads it whole (the content address covers every file),
// aex-gen writes the glue crate root, and Debian's cargo builds a staticlib
// offline against the SDK crate (sdk/rust) and Debian-packaged crates, which
// the builder then links with the runtime like a C module's objects.

#ifndef AEX_DEPLOYER_RUST_CRATE_H_
#define AEX_DEPLOYER_RUST_CRATE_H_

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "aex/status.h"
#include "deployer/descriptor.h"

namespace aex::deploy {

struct Sdk;

// One file of a crate, relative to the crate's folder.
struct CrateFile {
  std::filesystem::path relative;
  std::string text;
};

struct RustCrate {
  std::filesystem::path dir;
  std::vector<CrateFile> files;  // sorted by path; Cargo.toml and src/lib.rs among them
};

// The module's crate folder if it is a Rust module: `folder` (given or the
// default) holds a Cargo.toml.
std::optional<std::filesystem::path> RustCrateDir(const Descriptor& d, const Module& m);

// Reads every file of the crate except target/, Cargo.lock and hidden
// entries (bounded: 512 files, 8 MiB each, 32 MiB in all).
Result<RustCrate> ReadRustCrate(const std::filesystem::path& dir);

// The crate's src/lib.rs. REQUIRES: `crate` came from ReadRustCrate.
const CrateFile* CrateLib(const RustCrate& crate);

// Writes the glue crate into `work`/crate (the module's files, its lib.rs
// renamed to aex-gen's kRustModuleSource, `glue` as the new lib.rs, the
// Cargo.toml with the SDK dependency added), runs cargo offline with
// CARGO_HOME in `work` and the target directory `target_dir` (shared by the
// module's builds for every backend), and returns the staticlib it copied
// to `work`. Cargo's output goes to `log`. A dependency that Debian does not
// package is reported by crate name.
Result<std::filesystem::path> BuildRustStaticLib(const Sdk& sdk, const Module& m,
                                                 const RustCrate& crate, const std::string& glue,
                                                 const std::filesystem::path& work,
                                                 const std::filesystem::path& target_dir,
                                                 const std::filesystem::path& log);

// The SDK crate's files, for the content address of Rust modules.
Result<RustCrate> ReadRustSdk(const Sdk& sdk);

// Exposed for tests: `cargo_toml` with `aex_sdk = { path = SDK }` added to
// its [dependencies] table (created if absent) and an empty [workspace]
// table (so that no Cargo.toml above the build folder claims the crate).
std::string GlueCargoToml(const std::string& cargo_toml, const std::filesystem::path& sdk_dir);

// Exposed for tests: the crate cargo could not find offline, named in its
// log ("no matching package named `x` found", "failed to select a version
// for the requirement `x = ...`"), or empty.
std::string MissingCrate(const std::string& cargo_log);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_RUST_CRATE_H_
