#include "deployer/local_nodes.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "crypto/crypto.h"
#include "deployer/interrupt.h"
#include "deployer/node_tls.h"
#include "deployer/subprocess.h"

extern char** environ;

namespace aex::deploy {
namespace fs = std::filesystem;

fs::path SgxProvisioningDir(const Descriptor& d) { return d.base_dir / ".aex" / "sgx-provisioning"; }

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

// What a pid file must name: a process of this program whose command line
// has each of these option/value pairs (a node's --name and --deployment, a
// service's --socket). A live pid alone proves nothing: pids are reused, and
// a stale pid file may name any process (docs/reliability.md).
struct ProcessIdentity {
  std::string program;  // basename of argv[0]
  std::vector<std::pair<std::string, std::string>> options;
  std::string ToString() const {
    std::string s = program;
    for (const auto& [flag, value] : options) s += " " + flag + " " + value;
    return s;
  }
};

std::vector<std::string> CommandLine(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string arg; std::getline(in, arg, '\0');) args.push_back(arg);
  return args;
}

bool IsProcess(pid_t pid, const ProcessIdentity& who) {
  if (!Alive(pid)) return false;
  std::vector<std::string> args = CommandLine(pid);
  if (args.empty() || fs::path(args[0]).filename() != who.program) return false;
  for (const auto& [flag, value] : who.options) {
    bool found = false;
    for (size_t i = 0; i + 1 < args.size() && !found; ++i) {
      found = args[i] == flag && args[i + 1] == value;
    }
    if (!found) return false;
  }
  return true;
}

// The pid in `pid_file` if it is `who` and alive, else 0.
pid_t RunningAs(const fs::path& pid_file, const ProcessIdentity& who) {
  pid_t pid = ReadPid(pid_file);
  return IsProcess(pid, who) ? pid : 0;
}

ProcessIdentity NodeProcess(const Descriptor& d, const Node& n) {
  return {"aex-node", {{"--name", n.name}, {"--deployment", DeploymentId(d)}}};
}

// Device simulators (docs/secure-io.md): one aex-device per device a local
// node declares, its sockets under .aex/devices/<node>/.
fs::path DeviceDir(const Descriptor& d, const Node& n) { return StateDir(d) / "devices" / n.name; }
ProcessIdentity DeviceProcess(const fs::path& sock) {
  return {"aex-device", {{"--socket", sock.string()}}};
}

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
  // Nothing else of ours (or of whoever ran us) reaches a node: it lives on
  // after this command and passes no descriptor on to its modules either.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  UnblockSignalsInChild(&attr, POSIX_SPAWN_SETSID);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Status(Code::kIo, "cannot start " + args[0]);
  return pid;
}

// Why a process did not start, from its log: "its log says: <last
// non-empty line> (<log>)", or "see <log>" when the log is empty.
std::string LogReason(const std::string& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last.empty() ? "see " + log + " (empty)" : "its log says: " + last + " (" + log + ")";
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
    if (RunningAs(pid_file, DeviceProcess(sock))) continue;
    std::string log = (StateDir(d) / "logs" / (n.name + "-" + dev + ".log")).string();
    AEX_ASSIGN_OR_RETURN(pid_t pid, SpawnDetached({device_exe.string(), "serve", "--socket",
                                                   sock.string(), "--name", dev},
                                                  log));
    std::ofstream(pid_file) << pid << "\n";
    for (int i = 0; i < 250 && !fs::exists(sock.string() + ".ctl"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!fs::exists(sock.string() + ".ctl")) {
      return Unavailable("device '" + dev + "' of node '" + n.name + "' did not start; " + LogReason(log));
    }
    say("  device    " + n.name + "/" + dev + " at " + sock.string() + " (pid " +
        std::to_string(pid) + ")");
  }
  return args;
}

// The node's platform service (aex-platform): its pid file, and its socket
// in a directory every module uid can reach (modules run under uids of their
// own when the node is root; a project directory may not be searchable):
// /tmp/aex-platform-<uid>/ (0711, ours) with a name from the state directory.
fs::path PlatformPidFile(const Descriptor& d, const Node& n) {
  return StateDir(d) / "nodes" / (n.name + ".platform.pid");
}

Result<fs::path> PlatformSocket(const Descriptor& d, const Node& n) {
  fs::path dir = "/tmp/aex-platform-" + std::to_string(geteuid());
  mkdir(dir.c_str(), 0711);
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
    return Status(Code::kPermissionDenied, dir.string() + " is not a directory of ours");
  }
  chmod(dir.c_str(), 0711);
  std::error_code ec;
  std::string state = fs::absolute(StateDir(d), ec).string() + "\n" + n.name;
  std::string tag = HexEncode(crypto::Sha256(AsBytes(state))).substr(0, 16);
  return dir / (tag + ".sock");
}

ProcessIdentity PlatformProcess(const fs::path& sock) {
  return {"aex-platform", {{"--socket", sock.string()}}};
}

// An sgx node's PCK under the deployment's root, by aex-platform itself: the
// deployer process never holds the hierarchy's keys.
Status ProvisionSgxPlatform(const Descriptor& d, const Node& n, const fs::path& platform_exe,
                            const std::string& log) {
  return RunProgram({platform_exe.string(), "--key-file", n.node_key_file->string(),
                     "--provision", SgxProvisioningDir(d).string()},
                    log);
}

// Starts aex-platform (unless running) with the node's key file; returns
// its socket once it accepts connections.
Result<fs::path> StartPlatform(const Descriptor& d, const Node& n, const fs::path& platform_exe,
                               const std::function<void(const std::string&)>& say) {
  AEX_ASSIGN_OR_RETURN(fs::path sock, PlatformSocket(d, n));
  if (RunningAs(PlatformPidFile(d, n), PlatformProcess(sock)) && fs::exists(sock)) return sock;
  std::error_code ec;
  fs::remove(sock, ec);
  std::string log = (StateDir(d) / "logs" / (n.name + "-platform.log")).string();
  if (n.type == Backend::kSgx) AEX_RETURN_IF_ERROR(ProvisionSgxPlatform(d, n, platform_exe, log));
  AEX_ASSIGN_OR_RETURN(pid_t pid, SpawnDetached({platform_exe.string(), "--key-file",
                                                 n.node_key_file->string(), "--socket",
                                                 sock.string()},
                                                log));
  std::ofstream(PlatformPidFile(d, n)) << pid << "\n";
  // The socket appears once it accepts (aex-platform renames it into place).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(sock)) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid || std::chrono::steady_clock::now() > deadline) {
      return Unavailable("the platform service of node '" + n.name + "' did not start; " +
                         LogReason(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  say("  platform  " + n.name + " at " + sock.string() + " (pid " + std::to_string(pid) + ")");
  return sock;
}

// Stops the process `pid_file` names if it is `who`; a pid file naming
// anything else is stale: removed, and that process left alone.
void StopPid(const fs::path& pid_file, const ProcessIdentity& who, const std::string& what,
             const std::function<void(const std::string&)>& say) {
  pid_t pid = ReadPid(pid_file);
  if (IsProcess(pid, who)) {
    kill(pid, SIGTERM);
    for (int i = 0; i < 250 && Alive(pid); ++i) {
      waitpid(pid, nullptr, WNOHANG);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (Alive(pid)) kill(pid, SIGKILL);
    say(what + " stopped");
  } else if (Alive(pid)) {
    say(what + ": stale pid file " + pid_file.string() + " names pid " + std::to_string(pid) +
        ", which is not " + who.ToString() + "; left it alone");
  }
  std::error_code ec;
  fs::remove(pid_file, ec);
}

void StopDevices(const Descriptor& d, const Node& n,
                 const std::function<void(const std::string&)>& say) {
  if (!n.devices) return;
  for (const std::string& dev : *n.devices) {
    fs::path sock = fs::absolute(DeviceDir(d, n) / (dev + ".sock"));
    StopPid(DeviceDir(d, n) / (dev + ".pid"), DeviceProcess(sock),
            "  device    " + n.name + "/" + dev, say);
  }
}

// Waits until node `n`, started as `pid`, answers HELLO as itself (its pid,
// name and deployment id, NodeDialer::CheckNodeIdentity). Fails when the
// process exits or the deadline passes, saying who answers on the port
// instead and the last line of the node's log.
Status WaitNodeReady(const NodeDialer& dialer, const Node& n, pid_t pid, const std::string& log,
                     bool spawned) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string answered;  // what answers on the port, when it is not our node
  auto probe = [&](std::chrono::milliseconds timeout) {
    auto c = dialer.Connect(n, timeout);
    if (c.ok() && (*c)->hello_ack().pid == static_cast<uint32_t>(pid)) return true;
    if (c.ok()) {
      answered = n.host + ":" + std::to_string(n.reactive_port) +
                 " is served by another process of node '" + n.name + "' (pid " +
                 std::to_string((*c)->hello_ack().pid) + ")";
    } else if (c.status().code() == Code::kPermissionDenied) {
      answered = c.status().message();
    }
    return false;
  };
  for (;;) {
    if (probe(std::chrono::milliseconds(500))) return Status::Ok();
    bool exited = spawned ? waitpid(pid, nullptr, WNOHANG) == pid : !Alive(pid);
    // A loaded machine may have cut the short probe: one patient look at
    // what answers before reporting.
    if (exited && answered.empty()) probe(std::chrono::seconds(5));
    if (exited || std::chrono::steady_clock::now() > deadline) {
      std::string why = answered.empty() ? "" : answered + "; ";
      return Unavailable("node '" + n.name + "' did not start: " + why + LogReason(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
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
    std::string log = NodeLogFile(d, n).string();
    if (pid_t running = RunningAs(PidFile(d, n), NodeProcess(d, n))) {
      AEX_RETURN_IF_ERROR(WaitNodeReady(dialer, n, running, log, false));
      progress("  node      " + n.name + " already running (pid " + std::to_string(running) + ")");
      continue;
    }
    if (!n.node_key_file) {
      return FailedPrecondition("node '" + n.name + "' needs node_key_file to be started here");
    }
    fs::create_directories(n.node_key_file->parent_path(), ec);
    AEX_ASSIGN_OR_RETURN(fs::path platform_sock,
                         StartPlatform(d, n, node_exe.parent_path() / "aex-platform", progress));
    auto device_args = StartDevices(d, n, node_exe.parent_path() / "aex-device", progress);
    if (!device_args.ok()) return device_args.status();
    std::vector<std::string> args = {node_exe.string(),
                                     "--port", std::to_string(n.reactive_port),
                                     "--host", n.host == "localhost" ? "127.0.0.1" : n.host,
                                     "--platform-socket", platform_sock.string(),
                                     "--name", n.name,
                                     "--deployment", dialer.deployment_id(),
                                     "--work-dir", (StateDir(d) / "nodes" / n.name).string(),
                                     "--module-log-dir", ModuleLogFile(d, n, "").parent_path().string()};
    args.insert(args.end(), device_args->begin(), device_args->end());
    // A simulated node runs its pre-installed modules from their 'binary'.
    for (const Module& m : d.modules) {
      if (m.node != n.name || !m.preinstalled() || !m.binary) continue;
      args.insert(args.end(), {"--preinstall", m.name + "=" + fs::absolute(*m.binary).string(),
                               "--preinstall-type", BackendName(m.type)});
    }
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
    // Ready when it answers HELLO as itself: anything else on the port (a
    // node of another deployment, another node of this one) is a failure.
    Status ready = WaitNodeReady(dialer, n, pid, log, true);
    if (!ready.ok()) {
      kill(pid, SIGTERM);  // ours, just spawned: not left half-started
      waitpid(pid, nullptr, 0);
      fs::remove(PidFile(d, n), ec);
      return ready;
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
    StopPid(PidFile(d, n), NodeProcess(d, n), "  node      " + n.name, progress);
    // The platform service after its node: no module outlives its platform.
    auto sock = PlatformSocket(d, n);
    if (sock.ok()) {
      StopPid(PlatformPidFile(d, n), PlatformProcess(*sock), "  platform  " + n.name, progress);
    }
    StopDevices(d, n, progress);
  }
  return Status::Ok();
}

Status RestartLocalNodes(const Descriptor& d, const fs::path& node_exe,
                         const std::function<void(const std::string&)>& progress) {
  AEX_RETURN_IF_ERROR(StopLocalNodes(d, progress));
  return StartLocalNodes(d, node_exe, progress);
}

fs::path NodeLogFile(const Descriptor& d, const Node& n) {
  return StateDir(d) / "logs" / (n.name + ".log");
}

fs::path ModuleLogFile(const Descriptor& d, const Node& n, const std::string& module) {
  return StateDir(d) / "logs" / n.name / (module + ".log");
}

Result<std::vector<LocalNodeStatus>> LocalNodesStatus(const Descriptor& d) {
  AEX_ASSIGN_OR_RETURN(NodeDialer dialer, NodeDialer::ForDeployment(d));
  std::vector<LocalNodeStatus> out;
  for (const auto& n : d.nodes) {
    LocalNodeStatus st;
    st.name = n.name;
    st.address = n.host + ":" + std::to_string(n.reactive_port);
    st.local = IsLoopbackHost(n.host);
    if (st.local) {
      st.pid = RunningAs(PidFile(d, n), NodeProcess(d, n));  // not a stale pid file's
      st.running = st.pid != 0;
      st.log = NodeLogFile(d, n);
    }
    auto client = dialer.Connect(n, std::chrono::milliseconds(2000));
    st.reachable = client.ok();
    if (!client.ok()) st.error = client.status().message();
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace aex::deploy
