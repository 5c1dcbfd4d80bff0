#include "deployer/local_nodes.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "deployer/node_tls.h"

extern char** environ;

namespace aex::deploy {
namespace fs = std::filesystem;

namespace {

fs::path StateDir(const Descriptor& d) { return d.base_dir / ".aex"; }
fs::path PidFile(const Descriptor& d, const Node& n) {
  return StateDir(d) / "nodes" / (n.name + ".pid");
}

pid_t ReadPid(const fs::path& p) {
  std::ifstream in(p);
  long pid = 0;
  in >> pid;
  return pid > 1 ? static_cast<pid_t>(pid) : 0;
}

bool Alive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }

// Device simulators (docs/secure-io.md): one aex-device per device a local
// node declares, its sockets under .aex/devices/<node>/.
fs::path DeviceDir(const Descriptor& d, const Node& n) { return StateDir(d) / "devices" / n.name; }

// Spawns argv with stdin from /dev/null and stdout+stderr appended to log,
// in its own session so that it outlives this command.
Result<pid_t> SpawnDetached(std::vector<std::string> args, const std::string& log) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status(Code::kIo, "cannot start " + args[0]);
  return pid;
}

// Starts the node's device simulators (unless running) and returns the
// aex-node arguments that attach them.
Result<std::vector<std::string>> StartDevices(const Descriptor& d, const Node& n,
                                              const fs::path& device_exe,
                                              const std::function<void(const std::string&)>& say) {
  std::vector<std::string> args;
  if (!n.devices) return args;
  std::error_code ec;
  fs::create_directories(DeviceDir(d, n), ec);
  for (const std::string& dev : *n.devices) {
    fs::path sock = fs::absolute(DeviceDir(d, n) / (dev + ".sock"));
    fs::path pid_file = DeviceDir(d, n) / (dev + ".pid");
    if (sock.string().size() + 4 >= 108) {
      return InvalidArgument("device socket path too long for a Unix socket: " + sock.string());
    }
    args.insert(args.end(), {"--device", dev + "=" + sock.string()});
    if (Alive(ReadPid(pid_file))) continue;
    std::string log = (StateDir(d) / "logs" / (n.name + "-" + dev + ".log")).string();
    AEX_ASSIGN_OR_RETURN(pid_t pid, SpawnDetached({device_exe.string(), "serve", "--socket",
                                                   sock.string(), "--name", dev},
                                                  log));
    std::ofstream(pid_file) << pid << "\n";
    for (int i = 0; i < 250 && !fs::exists(sock.string() + ".ctl"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!fs::exists(sock.string() + ".ctl")) {
      return Unavailable("device '" + dev + "' of node '" + n.name + "' did not start; see " + log);
    }
    say("  device    " + n.name + "/" + dev + " at " + sock.string() + " (pid " +
        std::to_string(pid) + ")");
  }
  return args;
}

void StopDevices(const Descriptor& d, const Node& n,
                 const std::function<void(const std::string&)>& say) {
  if (!n.devices) return;
  for (const std::string& dev : *n.devices) {
    fs::path pid_file = DeviceDir(d, n) / (dev + ".pid");
    pid_t pid = ReadPid(pid_file);
    if (Alive(pid)) {
      kill(pid, SIGTERM);
      for (int i = 0; i < 100 && Alive(pid); ++i) {
        waitpid(pid, nullptr, WNOHANG);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (Alive(pid)) kill(pid, SIGKILL);
      say("  device    " + n.name + "/" + dev + " stopped");
    }
    std::error_code ec;
    fs::remove(pid_file, ec);
  }
}

}  // namespace

Status StartLocalNodes(const Descriptor& d, const fs::path& node_exe,
                       const std::function<void(const std::string&)>& progress) {
  std::error_code ec;
  fs::create_directories(StateDir(d) / "nodes", ec);
  fs::create_directories(StateDir(d) / "logs", ec);
  // Creates the TLS material if a node needs it (node_tls.h).
  AEX_ASSIGN_OR_RETURN(NodeDialer dialer, NodeDialer::ForDeployment(d));
  for (const auto& n : d.nodes) {
    if (!IsLoopbackHost(n.host)) continue;
    if (Alive(ReadPid(PidFile(d, n)))) {
      progress("  node      " + n.name + " already running");
      continue;
    }
    if (!n.node_key_file) {
      return FailedPrecondition("node '" + n.name + "' needs node_key_file to be started here");
    }
    fs::create_directories(n.node_key_file->parent_path(), ec);
    auto device_args = StartDevices(d, n, node_exe.parent_path() / "aex-device", progress);
    if (!device_args.ok()) return device_args.status();
    std::string log = (StateDir(d) / "logs" / (n.name + ".log")).string();
    std::vector<std::string> args = {node_exe.string(),
                                     "--port", std::to_string(n.reactive_port),
                                     "--host", n.host == "localhost" ? "127.0.0.1" : n.host,
                                     "--key-file", n.node_key_file->string(),
                                     "--name", n.name,
                                     "--work-dir", (StateDir(d) / "nodes" / n.name).string()};
    args.insert(args.end(), device_args->begin(), device_args->end());
    if (UsesTls(n)) {  // the default: made by NodeDialer::ForDeployment above
      tls::Files files = NodeTlsFiles(d, n);
      args.insert(args.end(), {"--tls-cert", files.cert, "--tls-key", files.key, "--tls-ca",
                               files.ca});
    } else {
      // `tls: false`, explicit in the descriptor (and warned about there).
      args.push_back("--insecure-no-tls");
    }
    AEX_ASSIGN_OR_RETURN(pid_t pid, SpawnDetached(std::move(args), log));
    std::ofstream(PidFile(d, n)) << pid << "\n";
    // Ready when it answers HELLO; give up after 5 s and show its log.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      if (dialer.Connect(n, std::chrono::milliseconds(500)).ok()) break;
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid || std::chrono::steady_clock::now() > deadline) {
        return Unavailable("node '" + n.name + "' did not start; see " + log);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    progress("  node      " + n.name + " listening on " + n.host + ":" +
             std::to_string(n.reactive_port) + " (pid " + std::to_string(pid) + ", log " + log +
             ")");
  }
  return Status::Ok();
}

Status StopLocalNodes(const Descriptor& d,
                      const std::function<void(const std::string&)>& progress) {
  for (const auto& n : d.nodes) {
    fs::path pid_file = PidFile(d, n);
    pid_t pid = ReadPid(pid_file);
    if (Alive(pid)) {
      kill(pid, SIGTERM);
      for (int i = 0; i < 250 && Alive(pid); ++i) {
        waitpid(pid, nullptr, WNOHANG);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (Alive(pid)) kill(pid, SIGKILL);
      progress("  node      " + n.name + " stopped");
    }
    std::error_code ec;
    fs::remove(pid_file, ec);
    StopDevices(d, n, progress);
  }
  return Status::Ok();
}

}  // namespace aex::deploy
