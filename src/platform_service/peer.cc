#include "platform_service/peer.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "platform/key_files.h"
#include "platform/platform.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

namespace aex::platsvc {
namespace {

std::string ProcPath(pid_t pid, const char* what) {
  return "/proc/" + std::to_string(pid) + "/" + what;
}

Result<std::string> ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) return Status(Code::kPermissionDenied, "cannot read " + path);
  return std::string(buf, static_cast<size_t>(n));
}

bool Alive(int pidfd) {
  return syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0;
}

// The pid a pidfd refers to, from its fdinfo ("Pid:\t<n>"; -1 once exited).
pid_t PidOf(int pidfd) {
  auto text = tee::ReadFileBounded("/proc/self/fdinfo/" + std::to_string(pidfd), 4096);
  if (!text.ok()) return -1;
  std::string_view s(reinterpret_cast<const char*>(text->data()), text->size());
  size_t at = s.find("\nPid:\t");
  if (at == std::string_view::npos) return -1;
  return static_cast<pid_t>(atoi(std::string(s.substr(at + 6, 16)).c_str()));
}

int PinPeer(int conn) {
  int pidfd = -1;
  socklen_t len = sizeof pidfd;
  if (getsockopt(conn, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && pidfd >= 0) return pidfd;
  // Older kernels: the pid may be reused between the two calls; the
  // fd-liveness check after measuring cannot see that. Documented in docs/tee.md.
  ucred cred{};
  len = sizeof cred;
  if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
  return static_cast<int>(syscall(SYS_pidfd_open, cred.pid, 0));
}

bool IsSanitizerOrSystemLibrary(std::string_view path) {
#ifdef AEX_SANITIZER_BUILD
  return path.starts_with("/usr/lib/") || path.starts_with("/lib/") ||
         path.starts_with("/lib64/") || path.starts_with("/usr/lib64/");
#else
  (void)path;
  return false;
#endif
}

// The process still runs the measured file (by inode: a rename or unlink
// of the path changes nothing) and maps no other code.
Status CheckProcess(const Peer& peer, bool exe_only) {
  AEX_ASSIGN_OR_RETURN(std::string exe, ReadLink(ProcPath(peer.pid, "exe")));
  struct stat st;
  if (stat(ProcPath(peer.pid, "exe").c_str(), &st) != 0) {
    return Status(Code::kPermissionDenied, "cannot stat the process' executable");
  }
  if (st.st_dev != peer.dev || st.st_ino != peer.ino) {
    return Status(Code::kPermissionDenied, "the process executed another file");
  }
  if (exe_only) {
    AEX_ASSIGN_OR_RETURN(Bytes maps, tee::ReadFileBounded(ProcPath(peer.pid, "maps"), 4u << 20));
    std::string_view text(reinterpret_cast<const char*>(maps.data()), maps.size());
    AEX_RETURN_IF_ERROR(CheckMappings(text, exe, st.st_ino));
  }
  if (!Alive(peer.pidfd)) return Status(Code::kUnavailable, "the process exited");
  return Status::Ok();
}

}  // namespace

Status CheckMappings(std::string_view maps, const std::string& exe, ino_t ino) {
  while (!maps.empty()) {
    size_t eol = maps.find('\n');
    std::string_view line = maps.substr(0, eol);
    maps = eol == std::string_view::npos ? std::string_view() : maps.substr(eol + 1);
    // address perms offset dev inode [path]
    size_t f[5], pos = 0;
    bool ok = true;
    for (size_t& at : f) {
      while (pos < line.size() && line[pos] == ' ') ++pos;
      at = pos;
      while (pos < line.size() && line[pos] != ' ') ++pos;
      ok = ok && pos > at;
    }
    if (!ok) return Status(Code::kPermissionDenied, "unreadable memory map line");
    std::string_view perms = line.substr(f[1], f[2] - f[1]);
    if (perms.size() < 3 || perms[2] != 'x') continue;
    while (pos < line.size() && line[pos] == ' ') ++pos;
    std::string_view path = line.substr(pos);
    std::string_view inode = line.substr(f[4], pos - f[4]);
    while (!inode.empty() && inode.back() == ' ') inode.remove_suffix(1);
    if (path == "[vdso]" || path == "[vsyscall]") continue;
    if (path == exe && inode == std::to_string(ino)) continue;
    if (IsSanitizerOrSystemLibrary(path)) continue;
    return Status(Code::kPermissionDenied,
                  "executable mapping other than the measured executable: " +
                      std::string(path.empty() ? "anonymous memory" : path));
  }
  return Status::Ok();
}

Result<Peer> IdentifyPeer(int conn, bool exe_only) {
  Peer peer;
  peer.pidfd = PinPeer(conn);
  if (peer.pidfd < 0) return Status(Code::kPermissionDenied, "cannot identify the peer process");
  fcntl(peer.pidfd, F_SETFD, FD_CLOEXEC);
  peer.pid = PidOf(peer.pidfd);
  auto measured = [&]() -> Status {
    if (peer.pid <= 0) return Status(Code::kUnavailable, "the peer process exited");
    int fd = open(ProcPath(peer.pid, "exe").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status(Code::kPermissionDenied, "cannot open the process' executable");
    struct stat st;
    if (fstat(fd, &st) != 0) {
      close(fd);
      return Status(Code::kIo, "cannot stat the process' executable");
    }
    peer.dev = st.st_dev;
    peer.ino = st.st_ino;
    auto digest = tee::Sha256OfFile(fd);
    close(fd);
    if (!digest.ok()) return digest.status();
    peer.measurement = *digest;
    // After hashing: a process still alive (pinned by pidfd) is the one
    // /proc/PID showed while we hashed.
    return CheckProcess(peer, exe_only);
  }();
  if (!measured.ok()) {
    close(peer.pidfd);
    return measured;
  }
  return peer;
}

Status RecheckPeer(const Peer& peer, bool exe_only) { return CheckProcess(peer, exe_only); }

}  // namespace aex::platsvc
