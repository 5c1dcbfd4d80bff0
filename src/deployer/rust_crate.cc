#include "deployer/rust_crate.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "deployer/builder.h"
#include "deployer/subprocess.h"
#include "gen/rust_glue.h"
#include "util/files.h"

namespace aex::deploy {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxCrateFiles = 512;
constexpr size_t kMaxCrateFileBytes = size_t{8} << 20;
constexpr size_t kMaxCrateBytes = size_t{32} << 20;

Status WriteText(const fs::path& p, const std::string& text) {
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (ec || !out) return Status(Code::kIo, "cannot write " + p.string());
  return Status::Ok();
}

bool Skipped(const fs::path& relative) {
  const std::string first = relative.begin()->string();
  if (first == "target" || first == "Cargo.lock") return true;
  for (const auto& part : relative) {
    if (!part.empty() && part.string()[0] == '.') return true;
  }
  return false;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// A TOML basic string for a path (quotes and backslashes escaped).
std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The text between the first pair of backquotes after `marker` in `log`.
std::string QuotedAfter(const std::string& log, const std::string& marker) {
  size_t at = log.find(marker);
  if (at == std::string::npos) return "";
  size_t open = log.find('`', at + marker.size());
  if (open == std::string::npos) return "";
  size_t close = log.find('`', open + 1);
  if (close == std::string::npos || close - open > 256) return "";
  return log.substr(open + 1, close - open - 1);
}

}  // namespace

std::optional<fs::path> RustCrateDir(const Descriptor& d, const Module& m) {
  if (!m.sources.empty() || !m.folder) return std::nullopt;
  fs::path dir = m.folder->is_absolute() ? *m.folder : d.base_dir / *m.folder;
  std::error_code ec;
  if (!fs::is_regular_file(dir / "Cargo.toml", ec)) return std::nullopt;
  return dir;
}

Result<RustCrate> ReadRustCrate(const fs::path& dir) {
  RustCrate crate;
  crate.dir = dir;
  size_t total = 0;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) return NotFound("cannot list crate folder " + dir.string());
  for (; it != end; it.increment(ec)) {
    if (ec) return NotFound("cannot list crate folder " + dir.string());
    fs::path relative = it->path().lexically_relative(dir);
    if (Skipped(relative)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    if (crate.files.size() >= kMaxCrateFiles) {
      return Status(Code::kResourceExhausted,
                    "crate " + dir.string() + " has more than " +
                        std::to_string(kMaxCrateFiles) + " files");
    }
    AEX_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(it->path(), kMaxCrateFileBytes));
    total += text.size();
    if (total > kMaxCrateBytes) {
      return Status(Code::kResourceExhausted, "crate " + dir.string() + " is too large");
    }
    crate.files.push_back({relative, std::move(text)});
  }
  std::sort(crate.files.begin(), crate.files.end(),
            [](const CrateFile& a, const CrateFile& b) { return a.relative < b.relative; });
  if (!CrateLib(crate)) return InvalidArgument("crate " + dir.string() + " has no src/lib.rs");
  return crate;
}

const CrateFile* CrateLib(const RustCrate& crate) {
  for (const CrateFile& f : crate.files) {
    if (f.relative == fs::path("src") / "lib.rs") return &f;
  }
  return nullptr;
}

Result<RustCrate> ReadRustSdk(const Sdk& sdk) { return ReadRustCrate(sdk.rust_sdk_dir); }

std::string GlueCargoToml(const std::string& cargo_toml, const fs::path& sdk_dir) {
  const std::string dependency =
      "aex_sdk = { path = " + TomlString(fs::absolute(sdk_dir).string()) + " }\n";
  std::istringstream in(cargo_toml);
  std::string out;
  bool added = false, workspace = false;
  for (std::string line; std::getline(in, line);) {
    out += line + "\n";
    const std::string t = Trim(line);
    if (t == "[workspace]") workspace = true;
    if (!added && t == "[dependencies]") {
      out += dependency;
      added = true;
    }
  }
  if (!added) out += "\n[dependencies]\n" + dependency;
  if (!workspace) out += "\n[workspace]\n";
  return out;
}

std::string MissingCrate(const std::string& cargo_log) {
  std::string name = QuotedAfter(cargo_log, "no matching package named");
  if (name.empty()) {
    name = QuotedAfter(cargo_log, "failed to select a version for the requirement");
    name = name.substr(0, name.find_first_of(" ="));
  }
  return name;
}

Result<fs::path> BuildRustStaticLib(const Sdk& sdk, const Module& m, const RustCrate& crate,
                                    const std::string& glue, const fs::path& work,
                                    const fs::path& target_dir, const fs::path& log) {
  std::error_code ec;
  if (!fs::exists(sdk.cargo, ec) || !fs::exists(sdk.rustc, ec)) {
    return FailedPrecondition("module '" + m.name +
                              "' is a Rust crate: building it needs Debian's cargo and rustc (" +
                              sdk.cargo.string() + ", " + sdk.rustc.string() +
                              "; scripts/install-deps.sh installs them)");
  }
  const fs::path dir = work / "crate";
  for (const CrateFile& f : crate.files) {
    if (f.relative == fs::path("src") / "lib.rs") {
      AEX_RETURN_IF_ERROR(WriteText(dir / "src" / gen::kRustModuleSource, f.text));
    } else if (f.relative == "Cargo.toml") {
      AEX_RETURN_IF_ERROR(WriteText(dir / f.relative, GlueCargoToml(f.text, sdk.rust_sdk_dir)));
    } else {
      AEX_RETURN_IF_ERROR(WriteText(dir / f.relative, f.text));
    }
  }
  AEX_RETURN_IF_ERROR(WriteText(dir / "src" / "lib.rs", glue));
  // Offline, and crates.io replaced by Debian's packaged crates.
  const fs::path cargo_home = work / "cargo-home";
  AEX_RETURN_IF_ERROR(WriteText(
      cargo_home / "config.toml",
      "[source.crates-io]\nreplace-with = \"debian\"\n\n[source.debian]\ndirectory = " +
          TomlString(sdk.cargo_registry.string()) + "\n\n[net]\noffline = true\n"));
  std::vector<std::string> cmd = {"/usr/bin/env",
                                  "-u", "RUSTFLAGS", "-u", "RUSTC_WRAPPER", "-u",
                                  "CARGO_BUILD_TARGET", "-u", "RUSTUP_TOOLCHAIN",
                                  "PATH=/usr/bin:/bin",
                                  "CARGO_HOME=" + cargo_home.string(),
                                  "CARGO_TARGET_DIR=" + target_dir.string(),
                                  "RUSTC=" + sdk.rustc.string(),
                                  sdk.cargo.string(), "rustc", "--offline", "--release", "--lib",
                                  "--crate-type", "staticlib",
                                  "--manifest-path", (dir / "Cargo.toml").string()};
  if (!m.features.empty()) {
    std::string list;
    for (const auto& f : m.features) list += (list.empty() ? "" : ",") + f;
    cmd.insert(cmd.end(), {"--features", list});
  }
  Status built = RunProgram(cmd, log.string());
  if (!built.ok()) {
    auto text = ReadSmallFile(log, kMaxCrateBytes);
    std::string missing = text.ok() ? MissingCrate(*text) : "";
    if (!missing.empty()) {
      std::string package = missing;
      std::replace(package.begin(), package.end(), '_', '-');
      return FailedPrecondition("module '" + m.name + "': crate '" + missing +
                                "' is not available offline: aex builds Rust modules only "
                                "against the crates Debian packages in " +
                                sdk.cargo_registry.string() + " (librust-" + package +
                                "-dev, if Debian has it, in the version the Cargo.toml asks)");
    }
    return built;
  }
  // The staticlib of the package, whatever its name: the only archive cargo
  // leaves in release/ (dependencies go to deps/ as rlibs).
  std::vector<fs::path> archives;
  for (const auto& e : fs::directory_iterator(target_dir / "release", ec)) {
    if (e.path().extension() == ".a") archives.push_back(e.path());
  }
  if (archives.size() != 1) {
    return Status(Code::kInternal, "module '" + m.name + "': expected one staticlib in " +
                                       (target_dir / "release").string() + ", found " +
                                       std::to_string(archives.size()));
  }
  fs::path out = work / "module.a";
  fs::copy_file(archives[0], out, fs::copy_options::overwrite_existing, ec);
  if (ec) return Status(Code::kIo, "cannot copy " + archives[0].string());
  return out;
}

}  // namespace aex::deploy
