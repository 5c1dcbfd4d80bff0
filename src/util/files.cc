#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

namespace aex {

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data, mode_t mode,
                           IfExists if_exists) {
  // Unique per process and call, so that concurrent writers never share one.
  static std::atomic<unsigned> seq{0};
  std::string tmp = path.string() + ".tmp" + std::to_string(getpid()) + "." +
                    std::to_string(seq.fetch_add(1));
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status(Code::kIo, "cannot create " + tmp);
  fchmod(fd, mode);  // the umask may have narrowed it; never widen beyond `mode`
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = done == data.size() && fsync(fd) == 0;
  close(fd);
  if (ok) {
    ok = if_exists == IfExists::kReplace
             ? rename(tmp.c_str(), path.c_str()) == 0
             : (link(tmp.c_str(), path.c_str()) == 0 || errno == EEXIST);
  }
  unlink(tmp.c_str());  // after link (kKeep) or a failure; gone already after rename
  return ok ? Status::Ok() : Status(Code::kIo, "cannot write " + path.string());
}

Result<std::string> ReadSmallFile(const std::filesystem::path& path, size_t max) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status(Code::kNotFound, "cannot read " + path.string());
  if (size > max) return Status(Code::kResourceExhausted, path.string() + " is too large");
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) return Status(Code::kIo, "cannot read " + path.string());
  return ss.str();
}

}  // namespace aex
