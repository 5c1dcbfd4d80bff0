// Attacks on the platform side of a node (issue 11), against real processes,
// on every backend: the node's platform service (aex-platform) alone holds
// the platform secrets, measures each module process from the kernel and
// hands it only its own keys; modules run isolated (own uid when the node is
// root, scrubbed environment, only the channel inherited, no_new_privs).
//
// Some attacks need a hostile node that starts module binaries itself (with
// LD_PRELOAD, or a binary swapped on disk): the test plays that node
// (HostileModule), speaking the module channel directly.

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "deployer/attestation.h"
#include "platform/key_files.h"
#include "platform/platform.h"
#include "platform_test_util.h"
#include "wire/frame.h"
#include "wire/management.h"
#include "wire/module_messages.h"
#include "../ring_node.h"

namespace aex::ptest {
namespace {

using deploy::AttestationTarget;
using tee::Backend;

struct BackendCase {
  Backend backend;
  const char* probe;      // tests/adversary/modules/probe.c, static
  const char* probe_dyn;  // the same, linked dynamically
};

void PrintTo(const BackendCase& c, std::ostream* os) { *os << tee::BackendName(c.backend); }

std::string CaseName(const ::testing::TestParamInfo<BackendCase>& info) {
  return tee::BackendName(info.param.backend);
}

constexpr uint32_t kProbeOpen = 0, kProbePtrace = 1;

Bytes U32(uint32_t v) {
  ByteWriter w;
  w.PutU32(v);
  return w.Take();
}

uint32_t ErrnoOf(const Result<Bytes>& r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok() || r->size() != 4) return 0xffffffff;
  return static_cast<uint32_t>((*r)[0]) << 24 | (*r)[1] << 16 | (*r)[2] << 8 | (*r)[3];
}

void ExpectRejected(const Result<attest::Session>& r) {
  EXPECT_FALSE(r.ok()) << "attestation succeeded where it must fail";
}

// Reads every readable region of the process' memory (as root or as its
// owner) and checks that `needle` occurs nowhere.
void ExpectNotInMemory(pid_t pid, const Bytes& needle) {
  const std::string maps = ReadText("/proc/" + std::to_string(pid) + "/maps");
  int mem = open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(mem, 0);
  std::istringstream lines(maps);
  size_t scanned = 0;
  for (std::string line; std::getline(lines, line);) {
    unsigned long lo = 0, hi = 0;
    char perms[8] = {};
    if (sscanf(line.c_str(), "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r') continue;
    if (line.find("[vvar") != std::string::npos || line.find("[vsyscall]") != std::string::npos ||
        hi - lo > (256ul << 20)) {
      continue;
    }
    Bytes region(hi - lo);
    ssize_t n = pread(mem, region.data(), region.size(), static_cast<off_t>(lo));
    if (n <= 0) continue;
    region.resize(static_cast<size_t>(n));
    scanned += region.size();
    EXPECT_EQ(std::search(region.begin(), region.end(), needle.begin(), needle.end()),
              region.end())
        << "found in " << line;
  }
  close(mem);
  EXPECT_GT(scanned, 0u);
}

// Polls `pred` for up to 60 s.
template <typename Pred>
bool Eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// A module process started by the test playing a hostile node: its own
// environment, the binary it chooses, the channel at fds 3 and 6.
class HostileModule {
 public:
  ~HostileModule() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  Status Start(const std::string& binary, uint32_t id, const std::string& socket,
               std::vector<std::string> env, const std::string& log,
               const std::vector<std::string>& extra_args = {}) {
    AEX_RETURN_IF_ERROR(channel_.Create());
    std::vector<std::string> args = {binary, "--aex-module-id", std::to_string(id),
                                     "--aex-platform-socket", socket};
    for (const std::string& a : testing_ring::RingNode::ModuleArgs()) args.push_back(a);
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = fork();
    if (pid_ == 0) {
      if (log_fd >= 0) dup2(log_fd, 2);  // first: the log may sit at 3 or 6
      dup2(channel_.ModuleFds().first, 3);
      dup2(channel_.ModuleFds().second, 6);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    if (log_fd >= 0) close(log_fd);
    channel_.CloseModuleEnds();
    return pid_ > 0 ? Status::Ok() : Internal("fork");
  }

  // The node's ATTEST message, as aex-node would send it; the module's result.
  Result<Bytes> Attest(ByteSpan challenge) {
    Bytes frame = wire::EncodeFrame(wire::MsgType::kAttest, 1,
                                    wire::ModuleOp{module_id_, 0, challenge}.Encode());
    AEX_RETURN_IF_ERROR(channel_.Write(frame, Deadline()));
    uint8_t header[wire::kFrameHeaderSize];
    AEX_RETURN_IF_ERROR(ReadAll(header, sizeof header));
    uint32_t len = 0;
    AEX_RETURN_IF_ERROR(wire::ParseFrameLength(ByteSpan(header, sizeof header), &len));
    Bytes body(len);
    AEX_RETURN_IF_ERROR(ReadAll(body.data(), body.size()));
    AEX_ASSIGN_OR_RETURN(wire::Frame f, wire::ParseFrameBody(body));
    AEX_ASSIGN_OR_RETURN(wire::ResultMsg result, wire::ResultMsg::Parse(f.payload));
    AEX_RETURN_IF_ERROR(result.ToStatus());
    return Bytes(result.payload.begin(), result.payload.end());
  }

  // The exit status once the process has exited (60 s at most), or -1.
  int WaitExit() {
    int status = -1;
    bool done = Eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; });
    if (done) pid_ = -1;
    return done ? status : -1;
  }

  void set_module_id(uint32_t id) { module_id_ = id; }

 private:
  static testing_ring::RingNode::Clock::time_point Deadline() {
    return testing_ring::RingNode::Clock::now() + std::chrono::seconds(60);
  }
  // Exactly n bytes from the module (what the ring holds beyond them is kept).
  Status ReadAll(uint8_t* p, size_t n) {
    while (in_.size() < n) AEX_RETURN_IF_ERROR(channel_.Read(&in_, Deadline()));
    std::copy(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(n), p);
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(n));
    return Status::Ok();
  }

  pid_t pid_ = -1;
  testing_ring::RingNode channel_;
  Bytes in_;
  uint32_t module_id_ = 0;
};

class PlatformAttackTest : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override {
    // The node's environment carries things no module may see.
    setenv("AEX_ADV_NODE_ONLY", "node-secret-environment", 1);
    setenv("LD_LIBRARY_PATH", "/nonexistent-aex-adv", 1);
    node_ = std::make_unique<Node>(dir_ / "a");
    Status started = node_->Start();
    unsetenv("AEX_ADV_NODE_ONLY");
    unsetenv("LD_LIBRARY_PATH");
    PT_ASSERT_OK(started);
    auto signer = deploy::LoadOrCreateSgxSigner(dir_ / "signer.pem");
    PT_ASSERT_OK(signer);
    signer_ = *signer;
  }

  Backend backend() const { return GetParam().backend; }

  AttestationTarget Target(uint32_t id, const std::string& binary) {
    AttestationTarget t;
    t.backend = backend();
    t.module_id = id;
    t.measurement = crypto::Sha256(ReadBytes(binary));
    t.module_name = "probe";
    t.vendor_id = 0x1234;
    if (backend() == Backend::kSgx) {
      t.root_ca_pem = ReadText(node_->platform_dir() + "/sgx_root_ca.pem");
      t.root_ca_name = "sgx_root_ca.pem";
      t.signer_pem = signer_;
    } else if (backend() == Backend::kTrustZone) {
      auto huk = tee::ReadSecretFile(node_->key_file());
      EXPECT_TRUE(huk.ok());
      if (huk.ok()) t.huk = *huk;
    } else {
      auto k = tee::ReadKeyFile(node_->key_file());
      EXPECT_TRUE(k.ok());
      if (k.ok()) t.node_key = *k;
    }
    return t;
  }

  Result<uint32_t> Load(const std::string& binary) {
    AEX_ASSIGN_OR_RETURN(auto client, node_->Connect());
    return client->LoadModule("probe", static_cast<uint8_t>(backend()), "", ReadBytes(binary),
                              "", Sigstruct(binary));
  }

  // sgx: the deployer's SIGSTRUCT for `binary` (empty for other backends),
  // and the module flag that carries it as aex-node passes it.
  Bytes Sigstruct(const std::string& binary) {
    if (backend() != Backend::kSgx) return {};
    auto s = attest::SignSigstruct(signer_, crypto::Sha256(ReadBytes(binary)));
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : Bytes{};
  }
  std::vector<std::string> SigstructArgs(const std::string& binary) {
    if (backend() != Backend::kSgx) return {};
    return {"--aex-sgx-sigstruct", HexEncode(Sigstruct(binary))};
  }

  Result<attest::Session> Attest(const AttestationTarget& t) {
    AEX_ASSIGN_OR_RETURN(auto client, node_->Connect());
    return deploy::AttestModule(*client, t);
  }

  Result<Bytes> Call(uint32_t id, uint32_t entry, ByteSpan arg) {
    AEX_ASSIGN_OR_RETURN(auto client, node_->Connect());
    return client->CallEntry(id, entry, arg);
  }

  // The module's pid, from the node's status.
  pid_t ModulePid(uint32_t id) {
    auto client = node_->Connect();
    if (!client.ok()) return -1;
    auto text = (*client)->NodeStatus();
    if (!text.ok()) return -1;
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_discarded()) return -1;
    for (const auto& m : doc["modules"]) {
      if (m.value("id", 0u) == id) return m.value("pid", -1);
    }
    return -1;
  }

  Result<uint32_t> LoadAndAttest() {
    AEX_ASSIGN_OR_RETURN(uint32_t id, Load(GetParam().probe));
    AEX_RETURN_IF_ERROR(Attest(Target(id, GetParam().probe)).status());
    return id;
  }

  // Attests a module the test started itself, as the deployer would.
  Result<attest::Session> AttestHostile(HostileModule& m, const AttestationTarget& t) {
    m.set_module_id(t.module_id);
    AEX_ASSIGN_OR_RETURN(deploy::Challenge c, deploy::NewChallenge(t));
    AEX_ASSIGN_OR_RETURN(Bytes evidence, m.Attest(c.request));
    return deploy::VerifyEvidence(t, c, evidence);
  }

  // Starts `binary` as a hostile node would and attests it: refused, with
  // the platform service's reason in the module's log or in the answer.
  void ExpectRefusedForMappings(const std::string& binary, uint32_t id,
                                std::vector<std::string> env, const std::string& name) {
    HostileModule m;
    PT_ASSERT_OK(m.Start(binary, id, node_->platform().socket_path(), std::move(env),
                         dir_ / (name + ".log")));
    auto r = AttestHostile(m, Target(id, binary));
    ASSERT_FALSE(r.ok()) << "a module with foreign code mapped was attested";
    // A module that failed at start-up has exited; its log says why.
    if (r.status().code() == Code::kUnavailable) m.WaitExit();
    const std::string why = ReadText(dir_ / (name + ".log")) + r.status().message();
    EXPECT_NE(why.find("executable mapping other than the measured executable"),
              std::string::npos)
        << why;
  }

  TempDir dir_;
  std::unique_ptr<Node> node_;
  std::string signer_;
};

std::string Proc(pid_t pid, const char* what) {
  return "/proc/" + std::to_string(pid) + "/" + what;
}

void SkipUnlessRoot() {
  if (geteuid() != 0) {
    GTEST_SKIP() << "module uids of their own need a root node (as in CI); as one user, "
                    "modules and the platform share a uid";
  }
}

TEST_P(PlatformAttackTest, LoadedModuleCannotReadThePlatformSecrets) {
  SkipUnlessRoot();
  auto id = LoadAndAttest();
  PT_ASSERT_OK(id);
  const pid_t platform = node_->platform().pid();
  for (const std::string& path :
       {node_->key_file(), node_->platform_dir() + "/sgx_pck_key.der", Proc(platform, "mem"),
        Proc(platform, "environ")}) {
    EXPECT_EQ(ErrnoOf(Call(*id, kProbeOpen, AsBytes(path))), static_cast<uint32_t>(EACCES))
        << path;
  }
  EXPECT_EQ(ErrnoOf(Call(*id, kProbePtrace, U32(platform))), static_cast<uint32_t>(EPERM));
  // The module itself keeps working: it attests again with its own key.
  PT_ASSERT_OK(Attest(Target(*id, GetParam().probe)));
}

TEST_P(PlatformAttackTest, ModuleCannotReachAnotherModulesMemory) {
  SkipUnlessRoot();
  auto a = LoadAndAttest();
  auto b = LoadAndAttest();
  PT_ASSERT_OK(a);
  PT_ASSERT_OK(b);
  const pid_t pid_b = ModulePid(*b);
  ASSERT_GT(pid_b, 0);
  EXPECT_EQ(ErrnoOf(Call(*a, kProbeOpen, AsBytes(Proc(pid_b, "mem")))),
            static_cast<uint32_t>(EACCES));
  EXPECT_EQ(ErrnoOf(Call(*a, kProbePtrace, U32(pid_b))), static_cast<uint32_t>(EPERM));
  // The probe is not simply unable to do anything: its own memory opens.
  EXPECT_EQ(ErrnoOf(Call(*a, kProbeOpen, AsBytes(std::string("/proc/self/mem")))), 0u);
}

// Two nodes on one machine (as `aex nodes start` runs them): their modules'
// uids differ too, so a module of one cannot reach a module of the other.
TEST_P(PlatformAttackTest, ModuleCannotReachAModuleOfAnotherNodeOnTheMachine) {
  SkipUnlessRoot();
  auto a = LoadAndAttest();
  PT_ASSERT_OK(a);
  Node other(dir_ / "b");
  PT_ASSERT_OK(other.Start());
  auto client = other.Connect();
  PT_ASSERT_OK(client);
  auto b = (*client)->LoadModule("probe", static_cast<uint8_t>(backend()), "",
                                 ReadBytes(GetParam().probe), "", Sigstruct(GetParam().probe));
  PT_ASSERT_OK(b);
  ASSERT_EQ(*a, *b) << "both nodes number their modules from 1: the same module id";
  auto text = (*client)->NodeStatus();
  PT_ASSERT_OK(text);
  auto doc = nlohmann::json::parse(*text);
  const pid_t pid_b = doc["modules"][0].value("pid", -1);
  ASSERT_GT(pid_b, 0);
  EXPECT_EQ(ErrnoOf(Call(*a, kProbeOpen, AsBytes(Proc(pid_b, "mem")))),
            static_cast<uint32_t>(EACCES));
  EXPECT_EQ(ErrnoOf(Call(*a, kProbePtrace, U32(pid_b))), static_cast<uint32_t>(EPERM));
}

TEST_P(PlatformAttackTest, PreloadedLibraryGetsNoKey) {
  const std::string marker = dir_ / "preload-ran";
  std::vector<std::string> env = {"PATH=/usr/bin:/bin",
                                  std::string("LD_PRELOAD=") + AEX_ADV_PRELOAD,
                                  "AEX_ADV_MARKER=" + marker};
#ifdef AEX_SANITIZER_BUILD
  // Otherwise ASan itself refuses a preload ahead of its runtime.
  env.push_back("ASAN_OPTIONS=verify_asan_link_order=0");
#endif
  // A dynamically linked module with a preloaded library: the library runs
  // (the attack is real) and the platform service refuses the process.
  // (native and sgx modules fail at start-up, trustzone and sancus when they
  // ask for their key at the first attestation.)
  ExpectRefusedForMappings(GetParam().probe_dyn, 7, env, "dyn");
  EXPECT_TRUE(std::filesystem::exists(marker)) << "the preload never ran";

#ifndef AEX_SANITIZER_BUILD
  // The static module ignores LD_PRELOAD: nothing but the measured file runs,
  // so it gets its key.
  std::filesystem::remove(marker);
  HostileModule stat;
  PT_ASSERT_OK(stat.Start(GetParam().probe, 8, node_->platform().socket_path(), env,
                          dir_ / "static.log", SigstructArgs(GetParam().probe)));
  PT_ASSERT_OK(AttestHostile(stat, Target(8, GetParam().probe)));
  EXPECT_FALSE(std::filesystem::exists(marker));
  // And a dynamically linked module is refused even without a preload: its
  // shared libraries are code the measurement does not cover.
  ExpectRefusedForMappings(GetParam().probe_dyn, 9, {"PATH=/usr/bin:/bin"}, "plain");
#endif
}

TEST_P(PlatformAttackTest, BinarySwappedAfterAttestationIsRefusedOnRestart) {
  auto id = Load(GetParam().probe);
  PT_ASSERT_OK(id);
  const AttestationTarget target = Target(*id, GetParam().probe);
  PT_ASSERT_OK(Attest(target));
  // The node replaces the stored binary (one byte appended: still runs).
  const std::string stored = dir_ / ("a/work/m" + std::to_string(*id) + "-probe");
  ASSERT_TRUE(std::filesystem::exists(stored));
  Bytes swapped = ReadBytes(GetParam().probe);
  swapped.push_back(0x90);
  WriteText(stored + ".new", std::string(swapped.begin(), swapped.end()));
  chmod((stored + ".new").c_str(), 0755);
  ASSERT_EQ(rename((stored + ".new").c_str(), stored.c_str()), 0);
  // The running instance is unaffected: it is still what was measured.
  PT_ASSERT_OK(Attest(target));
  EXPECT_EQ(ErrnoOf(Call(*id, kProbeOpen, AsBytes(std::string("/proc/self/mem")))), 0u);
  // The node restarts "the module" from the swapped file under the same id
  // (sgx: with the SIGSTRUCT the deployer made for the original).
  HostileModule restarted;
  PT_ASSERT_OK(restarted.Start(stored, *id, node_->platform().socket_path(),
                               {"PATH=/usr/bin:/bin"}, dir_ / "restarted.log",
                               SigstructArgs(GetParam().probe)));
  ExpectRejected(AttestHostile(restarted, target));
}

TEST_P(PlatformAttackTest, NodeProcessHoldsNoKeyMaterial) {
  auto id = LoadAndAttest();
  PT_ASSERT_OK(id);
  const std::string key_hex = [&] {
    std::string t = ReadText(node_->key_file());
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    return t;
  }();
  ASSERT_EQ(key_hex.size(), 32u);
  Bytes raw;
  ASSERT_TRUE(HexDecode(key_hex, &raw));
  const pid_t node = node_->pid();
  for (const char* what : {"cmdline", "environ"}) {
    const std::string text = ReadText(Proc(node, what));
    ASSERT_FALSE(text.empty()) << what;
    EXPECT_EQ(text.find(node_->key_file()), std::string::npos) << what;
    EXPECT_EQ(text.find("node.key"), std::string::npos) << what;
    EXPECT_EQ(text.find(node_->platform_dir()), std::string::npos) << what;
    EXPECT_EQ(text.find(key_hex), std::string::npos) << what;
  }
  DIR* fds = opendir(Proc(node, "fd").c_str());
  ASSERT_NE(fds, nullptr);
  int seen = 0;
  while (dirent* e = readdir(fds)) {
    char target[4096];
    ssize_t n = readlink((Proc(node, "fd") + "/" + e->d_name).c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    ++seen;
    std::string t(target, static_cast<size_t>(n));
    EXPECT_EQ(t.find("node.key"), std::string::npos) << t;
    EXPECT_EQ(t.find("node.platform"), std::string::npos) << t;
  }
  closedir(fds);
  EXPECT_GT(seen, 2);
  // Nor does its memory hold K_N / the HUK, in raw or hex form.
  ExpectNotInMemory(node, raw);
  ExpectNotInMemory(node, Bytes(key_hex.begin(), key_hex.end()));
}

TEST_P(PlatformAttackTest, ModuleEnvironmentIsScrubbedAndOnlyTheChannelInherited) {
  auto id = LoadAndAttest();
  PT_ASSERT_OK(id);
  const pid_t pid = ModulePid(*id);
  ASSERT_GT(pid, 0);
  std::string env = ReadText(Proc(pid, "environ"));
  std::vector<std::string> vars;
  for (size_t at = 0; at < env.size();) {
    size_t end = env.find('\0', at);
    if (end == std::string::npos) end = env.size();
    std::string v = env.substr(at, end - at);
    // Sanitizer builds pass their runtime options on (and nothing else).
    if (!v.starts_with("ASAN_OPTIONS=") && !v.starts_with("UBSAN_OPTIONS=") &&
        !v.starts_with("LSAN_OPTIONS=")) {
      vars.push_back(v);
    }
    at = end + 1;
  }
  EXPECT_EQ(vars, (std::vector<std::string>{"PATH=/usr/bin:/bin", "LC_ALL=C"}));
  // Descriptors: stdio, the channel (3: its doorbell socket; 6: the memfd of
  // its rings), and for the backends that keep it, the module's own
  // connection to its platform service (a socket).
  std::vector<int> extra;
  DIR* fds = opendir(Proc(pid, "fd").c_str());
  ASSERT_NE(fds, nullptr);
  std::set<int> seen;
  while (dirent* e = readdir(fds)) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    seen.insert(fd);
    if (fd <= 3) continue;
    char target[256];
    ssize_t n = readlink((Proc(pid, "fd") + "/" + e->d_name).c_str(), target, sizeof target - 1);
    std::string t(target, n > 0 ? static_cast<size_t>(n) : 0);
    if (fd == 6) {
      EXPECT_TRUE(t.starts_with("/memfd:aex-module-ring")) << fd << " -> " << t;
      continue;
    }
    EXPECT_TRUE(t.starts_with("socket:")) << fd << " -> " << t;
    extra.push_back(fd);
  }
  closedir(fds);
  EXPECT_TRUE(seen.count(3)) << "no channel at fd 3";
  EXPECT_TRUE(seen.count(6)) << "no ring at fd 6";
  EXPECT_EQ(extra.size(), backend() == Backend::kNative ? 0u : 1u);
  const std::string status = ReadText(Proc(pid, "status"));
  EXPECT_NE(status.find("NoNewPrivs:\t1"), std::string::npos);
  if (geteuid() == 0) {
    EXPECT_EQ(status.find("Uid:\t0\t"), std::string::npos) << status;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Backends, PlatformAttackTest,
    ::testing::Values(
        BackendCase{Backend::kNative, AEX_ADV_PROBE_NATIVE, AEX_ADV_PROBE_DYN_NATIVE},
        BackendCase{Backend::kSgx, AEX_ADV_PROBE_SGX, AEX_ADV_PROBE_DYN_SGX},
        BackendCase{Backend::kTrustZone, AEX_ADV_PROBE_TRUSTZONE, AEX_ADV_PROBE_DYN_TRUSTZONE},
        BackendCase{Backend::kSancus, AEX_ADV_PROBE_SANCUS, AEX_ADV_PROBE_DYN_SANCUS}),
    CaseName);

}  // namespace
}  // namespace aex::ptest
