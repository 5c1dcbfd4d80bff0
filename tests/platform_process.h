// The one helper every C++ test harness uses to start a node's platform
// service (aex-platform) before its aex-node: the service alone holds the
// node's key file; the node gets only the socket path.
//
//   PlatformProcess platform(dir);          // <dir>/node.key, node.platform/, platform.sock
//   AEX_RETURN_IF_ERROR(platform.Start());  // returns once the socket accepts
//   ... aex-node --platform-socket platform.socket_path() ...
//
// REQUIRES: AEX_PLATFORM_BIN defined as the aex-platform binary's path.

#ifndef AEX_TESTS_PLATFORM_PROCESS_H_
#define AEX_TESTS_PLATFORM_PROCESS_H_

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "aex/status.h"

namespace aex::testutil {

// Starts `args` (args[0]: the binary) as the leader of a process group of
// its own, which gets SIGTERM when the test process dies, so that a test
// can stop it with everything it started. The pid, or -1 if fork failed.
inline pid_t SpawnTestProcess(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (pid > 0) setpgid(pid, pid);
  return pid;
}

class PlatformProcess {
 public:
  // `platform_dir` overrides <dir>/node.platform.
  explicit PlatformProcess(std::string dir, std::string platform_dir = "")
      : dir_(std::move(dir)), platform_dir_(std::move(platform_dir)) {}
  ~PlatformProcess() { Stop(); }
  PlatformProcess(const PlatformProcess&) = delete;
  PlatformProcess& operator=(const PlatformProcess&) = delete;

  std::string key_file() const { return dir_ + "/node.key"; }
  std::string platform_dir() const {
    return platform_dir_.empty() ? dir_ + "/node.platform" : platform_dir_;
  }
  std::string socket_path() const { return dir_ + "/platform.sock"; }
  pid_t pid() const { return pid_; }

  // Starts aex-platform (in its own process group, stopped with the test)
  // and waits, up to 60 s, for its socket to appear.
  Status Start() {
    if (pid_ > 0) return Status::Ok();
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    std::filesystem::remove(socket_path(), ec);
    AllowTraversal();
    std::vector<std::string> args = {AEX_PLATFORM_BIN, "--key-file",   key_file(),
                                     "--platform-dir", platform_dir(), "--socket",
                                     socket_path()};
    pid_ = SpawnTestProcess(std::move(args));
    if (pid_ < 0) return Status(Code::kIo, "fork failed");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::filesystem::exists(socket_path(), ec)) return Status::Ok();
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return Unavailable("aex-platform exited during start-up");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    Stop();
    return Status(Code::kTimeout, "aex-platform did not open its socket in time");
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (waitpid(pid_, nullptr, WNOHANG) != pid_) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(-pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
  }

 private:
  // Modules run under uids of their own when the node is root: they must be
  // able to reach the socket. Adds search (x, not read) permission to the
  // socket's ancestors; the key file stays 0600.
  void AllowTraversal() {
    for (auto p = std::filesystem::path(dir_); p.has_relative_path(); p = p.parent_path()) {
      struct stat st;
      if (stat(p.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH)) {
        chmod(p.c_str(), (st.st_mode & 07777) | S_IXGRP | S_IXOTH);
      }
    }
  }

  std::string dir_, platform_dir_;
  pid_t pid_ = -1;
};

}  // namespace aex::testutil

#endif  // AEX_TESTS_PLATFORM_PROCESS_H_
