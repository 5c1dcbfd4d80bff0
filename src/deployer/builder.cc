#include "deployer/builder.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "deployer/interrupt.h"
#include "deployer/rust_crate.h"
#include "deployer/subprocess.h"
#include "gen/annotation_parser.h"
#include "gen/rust_glue.h"
#include "platform/platform.h"
#include "util/files.h"
#include "wire/frame.h"

#if !defined(AEX_SDK_INCLUDE_DIR) || !defined(AEX_SDK_SOURCE_DIR)
#error "AEX_SDK_INCLUDE_DIR and AEX_SDK_SOURCE_DIR must be defined by the build"
#endif

namespace aex::deploy {
namespace fs = std::filesystem;

namespace {


std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = getenv(name);
  return v && *v ? v : fallback;
}

// A built module binary, bounded by what a node loads (LOAD_MODULE's limit,
// wire::kMaxModuleBinary): a larger one is refused here, at build time, with
// both sizes, rather than by the node.
Result<std::string> ReadModuleImage(const fs::path& binary) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(binary, ec);
  if (!ec && size > wire::kMaxModuleBinary) {
    return Status(Code::kResourceExhausted,
                  binary.string() + " is " + std::to_string(size) + " bytes, more than the " +
                      std::to_string(wire::kMaxModuleBinary) +
                      " a node loads (LOAD_MODULE's limit, wire::kMaxModuleBinary)");
  }
  return ReadSmallFile(binary, wire::kMaxModuleBinary);
}

bool IsCxx(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".cc" || ext == ".cpp" || ext == ".cxx";
}

std::string LibraryFingerprint(const Sdk& sdk, const std::string& backend) {
  // Rebuild modules when the runtime or platform layer changed.
  std::string fp;
  for (const char* lib : {"aex_runtime", "aex_channel", "aex_wire", "aex_platform_common",
                          "aex_crypto", "aex_common", "aex_attest", "aex_manager"}) {
    fp += std::string(lib) + ":";
    std::error_code ec;
    fs::path p = sdk.lib_dir / ("lib" + std::string(lib) + ".a");
    fp += std::to_string(fs::file_size(p, ec)) + "@" +
          std::to_string(fs::last_write_time(p, ec).time_since_epoch().count()) + ";";
  }
  std::error_code ec;
  fs::path plat = sdk.lib_dir / ("libaex_platform_" + backend + ".a");
  fp += std::to_string(fs::file_size(plat, ec)) + "@" +
        std::to_string(fs::last_write_time(plat, ec).time_since_epoch().count());
  return fp;
}

// An installed aex (`cmake --install`) uses the SDK installed with it, found
// from its own path: <prefix>/bin/aex next to <prefix>/share/aex/sdk.txt
// (written by the install), <prefix>/include, <prefix>/lib/aex and
// <prefix>/share/aex/src. A build tree has no sdk.txt beside its bin/.
struct SdkPaths {
  std::string include_dir = AEX_SDK_INCLUDE_DIR;
  std::string lib_dir = AEX_SDK_LIB_DIR;
  std::string gen_exe = AEX_GEN_EXE;
  std::string source_dir = AEX_SDK_SOURCE_DIR;
  std::string rust_sdk_dir = AEX_SDK_RUST_DIR;
};

SdkPaths DefaultSdkPaths() {
  SdkPaths p;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return p;
  fs::path prefix = exe.parent_path().parent_path();
  if (!fs::exists(prefix / "share" / "aex" / "sdk.txt", ec)) return p;
  p.include_dir = (prefix / "include").string();
  p.lib_dir = (prefix / "lib" / "aex").string();
  p.gen_exe = (exe.parent_path() / "aex-gen").string();
  p.source_dir = (prefix / "share" / "aex" / "src").string();
  p.rust_sdk_dir = (prefix / "share" / "aex" / "sdk" / "rust").string();
  return p;
}

}  // namespace

Sdk Sdk::Default() {
  const SdkPaths paths = DefaultSdkPaths();
  Sdk sdk;
  sdk.include_dir = EnvOr("AEX_SDK_INCLUDE", paths.include_dir);
  sdk.lib_dir = EnvOr("AEX_SDK_LIB", paths.lib_dir);
  sdk.gen_exe = EnvOr("AEX_GEN", paths.gen_exe);
  sdk.cc = EnvOr("CC", "cc");
  sdk.cxx = EnvOr("CXX", "c++");
  sdk.extra_flags = AEX_SDK_EXTRA_FLAGS;
  sdk.link_flags = AEX_SDK_LINK_FLAGS;
  sdk.strip_debug = EnvOr("AEX_MODULE_DEBUG", "0") == "0";
  sdk.source_dir = EnvOr("AEX_SDK_SOURCE", paths.source_dir);
  sdk.manager_source = sdk.source_dir / "manager" / "manager_module.cc";
  sdk.rust_sdk_dir = EnvOr("AEX_SDK_RUST", paths.rust_sdk_dir);
  sdk.cargo = EnvOr("AEX_CARGO", sdk.cargo.string());
  sdk.rustc = EnvOr("AEX_RUSTC", sdk.rustc.string());
  sdk.cargo_registry = EnvOr("AEX_CARGO_REGISTRY", sdk.cargo_registry.string());
  return sdk;
}

Module ManagerModule(const Descriptor& d, const ManagerSpec& spec, const Sdk& sdk) {
  Module m;
  m.name = spec.name;
  m.node = spec.node;
  if (const Node* node = d.FindNode(spec.node)) m.type = node->type;
  m.sources = {sdk.manager_source};
  m.cflags = {"-I", sdk.source_dir.string()};
  // After the runtime's own libraries: the verifiers and what they use.
  m.ldflags = {"-laex_manager", "-laex_attest", "-laex_dcap", "-laex_platform_common",
               "-laex_channel", "-laex_crypto", "-laex_common", "-lcrypto"};
  return m;
}

std::string ManagerControl(const ManagerSpec& spec) { return spec.name + ".control"; }

Status AddManager(Descriptor* d, const Sdk& sdk) {
  const ManagerSpec& spec = *d->manager_spec;
  Connection control;
  control.name = ManagerControl(spec);
  if (d->FindConnection(control.name)) {
    return InvalidArgument(d->source_name + ": connection name '" + control.name +
                           "' is reserved for the attestation manager");
  }
  Module m = ManagerModule(*d, spec, sdk);
  m.is_manager = true;
  d->modules.push_back(std::move(m));
  // An id no other connection of the file uses (descriptor ids are unique).
  uint32_t id = 0;
  for (const auto& c : d->connections) id = std::max<uint32_t>(id, c.id + 1u);
  if (id > 65535) return InvalidArgument(d->source_name + ": no connection id left for the manager");
  control.id = static_cast<uint16_t>(id);
  control.direct = true;
  control.to_module = spec.name;
  control.to_handler = IoRef{"command", std::nullopt};
  control.encryption = Encryption::kAes;
  d->connections.push_back(std::move(control));
  return Status::Ok();
}

Result<Bytes> ReadModuleBinary(const fs::path& binary) {
  AEX_ASSIGN_OR_RETURN(std::string image, ReadModuleImage(binary));
  return Bytes(image.begin(), image.end());
}

Result<std::vector<fs::path>> ModuleSources(const Descriptor& d, const Module& m) {
  std::vector<fs::path> out;
  if (auto crate = RustCrateDir(d, m)) return std::vector<fs::path>{*crate / "src" / "lib.rs"};
  for (const auto& s : m.sources) out.push_back(s.is_absolute() ? s : d.base_dir / s);
  if (out.empty() && m.folder) {
    fs::path dir = m.folder->is_absolute() ? *m.folder : d.base_dir / *m.folder;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      auto ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".c" || IsCxx(e.path()))) out.push_back(e.path());
    }
    if (ec) return NotFound("module '" + m.name + "': cannot list folder " + dir.string());
    std::sort(out.begin(), out.end());
  }
  if (out.empty()) return InvalidArgument("module '" + m.name + "' has no source files");
  return out;
}

static Result<std::vector<gen::SourceFile>> ReadSources(const std::vector<fs::path>& paths) {
  std::vector<gen::SourceFile> files;
  for (const auto& p : paths) {
    AEX_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(p, gen::kMaxSourceBytes));
    files.push_back({p.string(), std::move(text)});
  }
  return files;
}

// The interface of C/C++ sources, or of a Rust module's lib.rs.
static Result<gen::ModuleManifest> ParseInterface(const Descriptor& d, const Module& m,
                                                  const std::vector<gen::SourceFile>& files) {
  if (RustCrateDir(d, m)) return gen::ParseRustAnnotations(m.name, files);
  return gen::ParseAnnotations(m.name, files);
}

Result<gen::ModuleManifest> ScanModule(const Descriptor& d, const Module& m) {
  if (m.preinstalled()) {  // no sources: its endpoints are given by index
    gen::ModuleManifest none;
    none.name = m.name;
    return none;
  }
  AEX_ASSIGN_OR_RETURN(auto paths, ModuleSources(d, m));
  AEX_ASSIGN_OR_RETURN(auto files, ReadSources(paths));
  return ParseInterface(d, m, files);
}

namespace {

// Reports every source file or folder of module `index` that is missing,
// each as an error on its field. True when all are there.
bool SourcesPresent(const Descriptor& d, size_t index, internal::Diagnostics* diag) {
  const Module& m = d.modules[index];
  const internal::Where where{internal::Section::kModules, static_cast<int>(index)};
  std::error_code ec;
  bool present = true;
  for (const auto& s : m.sources) {
    fs::path p = s.is_absolute() ? s : d.base_dir / s;
    if (fs::is_regular_file(p, ec)) continue;
    diag->Error(where, "sources",
                p.string() + (fs::exists(p, ec) ? " is not a regular file" : " does not exist"));
    present = false;
  }
  if (m.sources.empty() && m.folder) {
    fs::path dir = m.folder->is_absolute() ? *m.folder : d.base_dir / *m.folder;
    if (!fs::is_directory(dir, ec)) {
      diag->Error(where, "folder",
                  m.folder_is_default
                      ? "neither 'sources' nor 'folder' is given, and the default folder " +
                            dir.string() + " (the module's name) does not exist"
                      : "folder " + dir.string() + " does not exist");
      present = false;
    }
  }
  return present;
}

}  // namespace

Result<std::map<std::string, gen::ModuleManifest>> ScanModules(const Descriptor& d) {
  internal::Diagnostics diag;
  std::map<std::string, gen::ModuleManifest> manifests;
  for (size_t i = 0; i < d.modules.size() && !diag.full(); ++i) {
    const Module& m = d.modules[i];
    if (!SourcesPresent(d, i, &diag)) continue;
    auto manifest = ScanModule(d, m);
    if (!manifest.ok()) {
      diag.Error({internal::Section::kModules, static_cast<int>(i)}, "",
                 manifest.status().message());
      continue;
    }
    manifests[m.name] = std::move(*manifest);
  }
  AEX_RETURN_IF_ERROR(diag.ToStatus(d));
  return manifests;
}

namespace {

// A module's sources and the cache entry its build goes to: the content
// address covers everything that can change the binary.
struct BuildInputs {
  std::vector<fs::path> paths;
  gen::ModuleManifest manifest;
  fs::path out_dir;
  fs::path binary;
  std::string hash;
  // Rust modules: the crate, and cargo's target folder, shared by the
  // module's builds for every backend (the staticlib does not depend on it).
  std::optional<RustCrate> crate;
  fs::path cargo_target;
};

std::string ShortHash(const ByteWriter& key) {
  return HexEncode(crypto::Sha256(key.bytes())).substr(0, 24);
}

// The content address of a Rust module's staticlib: the module name (in
// the glue), every file of its crate and of the SDK crate, the features and
// the toolchain.
Result<std::string> RustHash(const Module& m, const RustCrate& crate, const Sdk& sdk) {
  AEX_ASSIGN_OR_RETURN(RustCrate sdk_crate, ReadRustSdk(sdk));
  ByteWriter key;
  key.PutString16(m.name);
  for (const RustCrate* c : std::initializer_list<const RustCrate*>{&crate, &sdk_crate}) {
    for (const CrateFile& f : c->files) {
      key.PutString16(f.relative.string());
      key.PutLengthPrefixed(AsBytes(f.text));
    }
    key.PutString16("|");
  }
  for (const auto& f : m.features) key.PutString16(f);
  key.PutString16(sdk.cargo.string() + " " + sdk.rustc.string() + " " +
                  sdk.cargo_registry.string());
  return ShortHash(key);
}

Result<BuildInputs> Inputs(const Descriptor& d, const Module& m, const Sdk& sdk,
                           const fs::path& cache_dir) {
  const std::string backend = tee::BackendName(m.type);
  BuildInputs in;
  AEX_ASSIGN_OR_RETURN(in.paths, ModuleSources(d, m));
  AEX_ASSIGN_OR_RETURN(auto files, ReadSources(in.paths));
  AEX_ASSIGN_OR_RETURN(in.manifest, ParseInterface(d, m, files));
  if (!fs::exists(sdk.lib_dir / ("libaex_platform_" + backend + ".a"))) {
    return FailedPrecondition("module '" + m.name + "': this SDK has no platform layer for " +
                              backend);
  }
  ByteWriter key;
  key.PutString16(m.name);
  key.PutString16(backend);
  for (const auto& f : files) {
    key.PutString16(fs::path(f.path).filename().string());
    key.PutLengthPrefixed(AsBytes(f.text));
  }
  for (const auto& f : m.cflags) key.PutString16(f);
  key.PutString16("|");
  for (const auto& f : m.ldflags) key.PutString16(f);
  key.PutString16(sdk.cc + " " + sdk.cxx + " " + sdk.extra_flags + " " + sdk.link_flags +
                  (sdk.strip_debug ? " strip" : ""));
  key.PutString16(LibraryFingerprint(sdk, backend));
  if (auto dir = RustCrateDir(d, m)) {
    AEX_ASSIGN_OR_RETURN(in.crate, ReadRustCrate(*dir));
    AEX_ASSIGN_OR_RETURN(std::string rust_hash, RustHash(m, *in.crate, sdk));
    key.PutString16(rust_hash);
    in.cargo_target = cache_dir / (m.name + "-cargo-" + rust_hash);
  }
  in.hash = ShortHash(key);
  in.out_dir = cache_dir / (m.name + "-" + backend + "-" + in.hash);
  in.binary = in.out_dir / m.name;
  return in;
}

// The link of a module executable: `inputs` (objects, or a Rust staticlib
// with what pulls it in), the trusted runtime, the backend's platform layer.
std::vector<std::string> LinkCommand(const Sdk& sdk, const Module& m, const fs::path& out,
                                     const std::vector<std::string>& inputs) {
  std::vector<std::string> link = {sdk.cxx, "-o", out.string()};
  link.insert(link.end(), inputs.begin(), inputs.end());
  link.push_back("-L" + sdk.lib_dir.string());
  for (const char* lib : {"-laex_runtime", "-laex_channel", "-laex_wire"}) link.push_back(lib);
  link.push_back("-laex_platform_" + std::string(tee::BackendName(m.type)));
  for (const char* lib : {"-laex_platform_common", "-laex_crypto", "-laex_common", "-lcrypto"}) {
    link.push_back(lib);
  }
  std::istringstream extra(sdk.extra_flags);
  for (std::string f; extra >> f;) link.push_back(f);
  for (const auto& f : m.ldflags) link.push_back(f);
  // A static link resolves left to right: libraries the module names
  // (e.g. -lssl) may need libcrypto after them.
  link.push_back("-lcrypto");
  std::istringstream link_flags(sdk.link_flags);
  for (std::string f; link_flags >> f;) link.push_back(f);
  if (sdk.strip_debug) link.push_back("-Wl,--strip-debug");
  return link;
}

// aex-gen's glue and manifest for the module's sources into `work`.
Status Generate(const Sdk& sdk, const Module& m, const BuildInputs& in, const fs::path& glue,
                const fs::path& work, const fs::path& log) {
  std::vector<std::string> gen = {sdk.gen_exe.string(), "--name", m.name, "--glue",
                                  glue.string(), "--manifest", (work / "manifest.json").string()};
  if (in.crate) gen.push_back("--rust");
  for (const auto& p : in.paths) gen.push_back(p.string());
  return RunProgram(gen, log.string());
}

Status BuildC(const Sdk& sdk, const Module& m, const BuildInputs& in, const fs::path& work,
              const fs::path& log) {
  fs::path glue = work / "glue.cc";
  AEX_RETURN_IF_ERROR(Generate(sdk, m, in, glue, work, log));
  std::vector<std::string> objects;
  auto compile = [&](const fs::path& src, bool cxx) -> Status {
    fs::path obj = work / (std::to_string(objects.size()) + ".o");
    std::vector<std::string> cmd = {cxx ? sdk.cxx : sdk.cc, cxx ? "-std=c++20" : "-std=gnu11",
                                    "-O2", "-g", "-Wall", "-I", sdk.include_dir.string(),
                                    "-I", src.parent_path().string()};
    std::istringstream extra(sdk.extra_flags);
    for (std::string f; extra >> f;) cmd.push_back(f);
    // The original framework's TrustZone modules include no header (its
    // code generator added them): the C sources of trustzone modules get
    // the header of its forms, which keeps aex's own forms working.
    if (!cxx && m.type == Backend::kTrustZone) {
      cmd.insert(cmd.end(), {"-include", "aex/ae_forms.h"});
    }
    for (const auto& f : m.cflags) cmd.push_back(f);
    cmd.insert(cmd.end(), {"-c", src.string(), "-o", obj.string()});
    objects.push_back(obj.string());
    return RunProgram(cmd, log.string());
  };
  for (const auto& p : in.paths) AEX_RETURN_IF_ERROR(compile(p, IsCxx(p)));
  AEX_RETURN_IF_ERROR(compile(glue, true));
  return RunProgram(LinkCommand(sdk, m, work / m.name, objects), log.string());
}

// The crate as a staticlib (rust_crate.h). Nothing references the module's
// table before the runtime does, so -u pulls it (and the module with it) in;
// Rust's standard library then needs libpthread, libdl and libm.
Status BuildRust(const Sdk& sdk, const Module& m, const BuildInputs& in, const fs::path& work,
                 const fs::path& log) {
  fs::path glue = work / "glue_lib.rs";
  AEX_RETURN_IF_ERROR(Generate(sdk, m, in, glue, work, log));
  AEX_ASSIGN_OR_RETURN(std::string glue_text, ReadSmallFile(glue, gen::kMaxSourceBytes));
  AEX_ASSIGN_OR_RETURN(fs::path archive,
                       BuildRustStaticLib(sdk, m, *in.crate, glue_text, work, in.cargo_target,
                                          work / "cargo.log"));
  std::vector<std::string> link =
      LinkCommand(sdk, m, work / m.name, {"-Wl,-u,aex_module", archive.string()});
  link.insert(link.end(), {"-lpthread", "-ldl", "-lm"});
  return RunProgram(link, log.string());
}

}  // namespace

// A pre-installed module is built by nobody here: its measurement is the
// SHA-256 of `binary` (a copy of what the node runs) or expected_measurement.
static Result<BuiltModule> PreinstalledModule(const Module& m) {
  BuiltModule built;
  built.name = m.name;
  built.manifest.name = m.name;
  built.cached = true;
  if (m.binary) {
    built.binary = *m.binary;
    auto image = ReadSmallFile(*m.binary, wire::kMaxModuleBinary);
    if (!image.ok()) {
      return FailedPrecondition("pre-installed module '" + m.name + "': cannot read binary " +
                                m.binary->string() + ": " + image.status().message());
    }
    built.measurement = crypto::Sha256(AsBytes(*image));
  } else if (m.expected_measurement &&
             m.expected_measurement->size() == built.measurement.size()) {
    std::copy(m.expected_measurement->begin(), m.expected_measurement->end(),
              built.measurement.begin());
  } else {
    return FailedPrecondition("pre-installed module '" + m.name +
                              "' needs 'binary' or 'expected_measurement'");
  }
  return built;
}

Result<BuiltModule> FindBuiltModule(const Descriptor& d, const Module& m, const Sdk& sdk,
                                    const fs::path& cache_dir) {
  if (m.preinstalled()) return PreinstalledModule(m);
  AEX_ASSIGN_OR_RETURN(BuildInputs in, Inputs(d, m, sdk, cache_dir));
  BuiltModule built;
  built.name = m.name;
  built.manifest = std::move(in.manifest);
  built.binary = in.binary;
  if (!fs::exists(in.binary)) return built;
  built.cached = true;
  AEX_ASSIGN_OR_RETURN(std::string image, ReadModuleImage(in.binary));
  built.measurement = crypto::Sha256(AsBytes(image));
  return built;
}

Result<BuiltModule> BuildModule(const Descriptor& d, const Module& m, const Sdk& sdk,
                                const fs::path& cache_dir) {
  if (m.preinstalled()) return PreinstalledModule(m);
  AEX_ASSIGN_OR_RETURN(BuildInputs in, Inputs(d, m, sdk, cache_dir));
  const auto& manifest = in.manifest;
  const std::string& hash = in.hash;
  const fs::path& out_dir = in.out_dir;
  const fs::path& binary = in.binary;

  BuiltModule built;
  built.name = m.name;
  built.manifest = manifest;
  built.binary = binary;
  if (fs::exists(binary)) {
    built.cached = true;
  } else {
    std::error_code ec;
    // Removed on every way out: a failed or interrupted build leaves no
    // folder behind (its log is in the error), a published one was renamed.
    TempFolder temp(cache_dir / (m.name + "-" + hash + ".tmp" + std::to_string(getpid())));
    const fs::path& work = temp.path();
    fs::remove_all(work, ec);
    fs::create_directories(work, ec);
    if (ec) return Status(Code::kIo, "cannot create " + work.string());
    fs::path log = work / "build.log";
    if (in.crate) {
      AEX_RETURN_IF_ERROR(BuildRust(sdk, m, in, work, log));
    } else {
      AEX_RETURN_IF_ERROR(BuildC(sdk, m, in, work, log));
    }
    // Publish atomically: a concurrent or interrupted build never leaves a
    // half-written binary under the final name.
    fs::rename(work, out_dir, ec);
    if (ec && !fs::exists(binary)) return Status(Code::kIo, "cannot publish " + out_dir.string());
  }
  AEX_ASSIGN_OR_RETURN(std::string image, ReadModuleImage(binary));
  built.measurement = crypto::Sha256(AsBytes(image));
  return built;
}

}  // namespace aex::deploy
