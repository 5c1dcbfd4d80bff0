// aex-gen: annotated module source -> glue (C++) + manifest (JSON).
//
//   aex-gen --name NAME --glue OUT.cc --manifest OUT.json SRC...
//   aex-gen --rust --name NAME --glue OUT_lib.rs --manifest OUT.json lib.rs
//
// With --rust the sources are a Rust crate's src/lib.rs with //@ annotations
// (docs/modules.md) and the glue is the root of the glue crate.
//
// Exit status: 0 success, 1 error (unreadable or invalid source, write
// failure), 2 usage error. Both outputs are replaced atomically, so a failed
// or interrupted run never leaves a truncated file for the build to compile.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli_doc.h"

#include "aex/status.h"
#include "gen/annotation_parser.h"
#include "gen/glue_writer.h"
#include "gen/manifest.h"
#include "gen/rust_glue.h"

namespace {

using aex::Code;
using aex::Result;
using aex::Status;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

Status IoError(const std::string& path, const std::string& what) {
  return Status(Code::kIo, path + ": " + what + ": " + std::strerror(errno));
}

// Closes a file descriptor on every path out of a scope.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  // Closes now, reporting the error that close() may surface for writes.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Reads a regular file of at most kMaxSourceBytes. Reads one byte past the
// limit rather than trusting fstat, so a file that grows meanwhile is still
// caught.
Result<std::string> ReadSource(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError(path, "cannot open");
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return IoError(path, "cannot stat");
  if (!S_ISREG(st.st_mode)) return Status(Code::kInvalidArgument, path + ": not a regular file");
  std::string text;
  char buf[1 << 16];
  while (text.size() <= aex::gen::kMaxSourceBytes) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError(path, "read failed");
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
  return Status(Code::kInvalidArgument, path + ": file too large (more than " +
                                            std::to_string(aex::gen::kMaxSourceBytes) +
                                            " bytes)");
}

Status WriteAll(int fd, const std::string& path, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError(path, "write failed");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Replaces `path` with `data` atomically: writes a temporary file in the
// same directory, then renames it over the target.
Status WriteFileAtomically(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return IoError(tmp, "cannot create temporary file");
  FdCloser closer(fd);
  // mkstemp creates 0600; generated sources get the usual umask-based mode.
  mode_t mask = ::umask(0);
  ::umask(mask);
  Status s = WriteAll(fd, tmp, data);
  if (s.ok() && ::fchmod(fd, 0666 & ~mask) != 0) s = IoError(tmp, "chmod failed");
  if (s.ok() && closer.Close() != 0) s = IoError(tmp, "close failed");
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = IoError(path, "rename failed");
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

struct Options {
  std::string name;
  std::string glue_path;
  std::string manifest_path;
  std::vector<std::string> sources;
  bool rust = false;
};

Status Run(const Options& opt) {
  if (opt.sources.size() > aex::gen::kMaxSourceFiles) {
    return Status(Code::kInvalidArgument,
                  "too many source files (" + std::to_string(opt.sources.size()) +
                      "; at most " + std::to_string(aex::gen::kMaxSourceFiles) + ")");
  }
  std::vector<aex::gen::SourceFile> files;
  files.reserve(opt.sources.size());
  for (const std::string& path : opt.sources) {
    AEX_ASSIGN_OR_RETURN(std::string text, ReadSource(path));
    files.push_back({path, std::move(text)});
  }
  AEX_ASSIGN_OR_RETURN(aex::gen::ModuleManifest manifest,
                       opt.rust ? aex::gen::ParseRustAnnotations(opt.name, files)
                                : aex::gen::ParseAnnotations(opt.name, files));
  AEX_RETURN_IF_ERROR(WriteFileAtomically(
      opt.glue_path, opt.rust ? aex::gen::WriteRustGlue(manifest) : aex::gen::WriteGlue(manifest)));
  AEX_RETURN_IF_ERROR(WriteFileAtomically(opt.manifest_path, manifest.ToJson()));
  return Status::Ok();
}

// Parses the command line into *opt. Returns -1 to continue, or the exit
// status to return (0 after --help, kExitUsage on a usage error).
int ParseArgs(int argc, char** argv, Options* opt) {
  CLI::App app("aex-gen: generates the glue and manifest of an aex module from its "
               "annotated C/C++ source");
  app.set_version_flag("--version", std::string("aex-gen ") + AEX_VERSION);
  app.add_option("--name", opt->name, "Module name")->required();
  app.add_option("--glue", opt->glue_path, "Output: generated C++ glue")->required();
  app.add_option("--manifest", opt->manifest_path, "Output: module manifest (JSON)")->required();
  app.add_option("sources", opt->sources, "Annotated C/C++ source files")->required();
  app.add_flag("--rust", opt->rust,
               "The sources are a Rust crate's src/lib.rs (//@ annotations); --glue writes "
               "the glue crate's lib.rs");
  aex::cli::AddManFlag(&app, "aex(1)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::Success&) {
    return 0;  // --man
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message and a usage hint to stderr
    return kExitUsage;
  }
  return -1;
}

int Main(int argc, char** argv) {
  Options opt;
  int rc = ParseArgs(argc, argv, &opt);
  if (rc >= 0) return rc;
  Status s = Run(opt);
  if (!s.ok()) {
    std::fprintf(stderr, "aex-gen: error: %s\n", s.message().c_str());
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aex-gen: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "aex-gen: internal error\n");
  }
  return kExitError;
}
