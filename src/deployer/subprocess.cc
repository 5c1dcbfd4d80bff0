#include "deployer/subprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "deployer/interrupt.h"

extern char** environ;

namespace aex::deploy {

static std::string Tail(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max ? "..." + s.substr(s.size() - max) : s;
}

Status RunProgram(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) return InvalidArgument("empty command");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!log_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  }
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // a compiler needs none of ours
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (Interrupted()) return InterruptedError();
  // In a process group of its own, so that an interrupt kills the program
  // and whatever it started (a compiler driver's cc1, as, ld).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  UnblockSignalsInChild(&attr, POSIX_SPAWN_SETPGROUP);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status(Code::kIo, "cannot run " + argv[0] + ": " + strerror(rc));
  int status = 0;
  {
    ChildGroup group(pid);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (Interrupted()) return InterruptedError();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  std::string msg = argv[0] + " failed";
  if (!log_path.empty()) msg += ":\n" + Tail(log_path, 4000);
  return Status(Code::kInternal, msg);
}

}  // namespace aex::deploy
