#include "harness.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <cstdio>
#include <sstream>
#include <thread>

#include "deployer/attestation.h"
#include "modules/it_common.h"
#include "platform/platform.h"
#include "wire/messages.h"

#ifndef AEX_NODE_BIN
#error "AEX_NODE_BIN must be defined to the path of aex-node"
#endif

namespace aex::itest {

namespace fs = std::filesystem;
using channel::Direction;
using channel::Role;

// ------------------------------------------------------------------ helpers

namespace {

// With AEX_IT_TRACE set, prints how long harness steps take (to find what
// makes a test slow).
class StepTimer {
 public:
  explicit StepTimer(std::string what)
      : what_(std::move(what)), start_(std::chrono::steady_clock::now()) {}
  ~StepTimer() {
    static const bool enabled = getenv("AEX_IT_TRACE") != nullptr;
    if (!enabled) return;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start_)
                  .count();
    fprintf(stderr, "[harness] %s: %.1f ms\n", what_.c_str(), us / 1000.0);
  }

 private:
  std::string what_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

Result<Bytes> ReadFile(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return Status(Code::kIo, "cannot open " + path);
  Bytes out;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  const bool failed = ferror(f) != 0;
  fclose(f);
  if (failed) return Status(Code::kIo, "cannot read " + path);
  return out;
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(interval);
  }
}

Bytes Pattern(uint32_t seed, size_t size) {
  Bytes out(size);
  for (size_t i = 0; i < size; ++i) out[i] = it_pattern(seed, i);
  return out;
}

uint64_t HashEvent(uint64_t h, ByteSpan event) {
  return it_hash_event(h, event.data(), event.size());
}

uint64_t HashChain(const std::vector<Bytes>& events) {
  uint64_t h = kHashInit;
  for (const Bytes& e : events) h = HashEvent(h, e);
  return h;
}

Bytes U32s(std::initializer_list<uint32_t> values) {
  ByteWriter w;
  for (uint32_t v : values) w.PutU32(v);
  return w.Take();
}

uint32_t GetU32(ByteSpan b, size_t at) { return at + 4 <= b.size() ? LoadU32(b.data() + at) : 0; }
uint64_t GetU64(ByteSpan b, size_t at) { return at + 8 <= b.size() ? LoadU64(b.data() + at) : 0; }

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/aex-it-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp(" << tmpl << ") failed: " << strerror(errno);
    return;
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::Sub(const std::string& name) const {
  std::string p = path_ + "/" + name;
  std::error_code ec;
  fs::create_directories(p, ec);
  return p;
}

// --------------------------------------------------------------- the node

NodeProcess::NodeProcess(std::string dir, NodeConfig config)
    : dir_(std::move(dir)), config_(std::move(config)), platform_(dir_ + "/platform") {}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) (void)Stop();
}

Status NodeProcess::Start(std::chrono::milliseconds timeout) {
  if (pid_ > 0) return Status(Code::kAlreadyExists, "node already started");
  StepTimer timer("start node " + config_.name);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  const std::string port_file = dir_ + "/port";
  const std::string key_file = platform_.key_file();
  fs::remove(port_file, ec);
  AEX_RETURN_IF_ERROR(platform_.Start());
  std::vector<std::string> args = {AEX_NODE_BIN,      "--port",
                                   "0",               "--port-file",
                                   port_file,         "--platform-socket",
                                   platform_.socket_path(), "--work-dir",
                                   dir_ + "/work",    "--name",
                                   config_.name,      "--log-level",
                                   config_.log_level};
  if (config_.call_timeout_ms > 0) {
    args.push_back("--call-timeout-ms");
    args.push_back(std::to_string(config_.call_timeout_ms));
  }
  args.insert(args.end(), config_.extra_args.begin(), config_.extra_args.end());
  if (std::find(args.begin(), args.end(), "--tls-cert") == args.end()) {
    // These tests manage the node in plain TCP on purpose (they play the
    // deployer and the attacker frame by frame): say so, as a node requires.
    args.push_back("--insecure-no-tls");
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return Status(Code::kIo, std::string("fork failed: ") + strerror(errno));
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. Its own process group
    // (which its modules inherit) lets the harness kill everything it
    // started; PDEATHSIG stops the node if the test process dies first.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent, so the group exists before we return
  pid_ = pid;
  exit_status_ = -1;

  uint16_t port = 0;
  bool up = WaitFor(
      [&] {
        if (!Alive()) return true;  // stop waiting; reported below
        auto text = ReadFile(port_file);
        if (!text.ok() || text->empty()) return false;
        std::string s(text->begin(), text->end());
        char* end = nullptr;
        unsigned long v = strtoul(s.c_str(), &end, 10);
        if (end == s.c_str() || v == 0 || v > 65535) return false;
        port = static_cast<uint16_t>(v);
        return true;
      },
      timeout, 2ms);
  if (!Alive()) {
    return Status(Code::kUnavailable,
                  "aex-node exited during start-up (wait status " + std::to_string(exit_status_) +
                      ")");
  }
  if (!up || port == 0) {
    (void)Stop();
    return Status(Code::kTimeout, "aex-node did not write its port file in time");
  }
  port_ = port;
  auto key_text = ReadFile(key_file);
  if (!key_text.ok()) return key_text.status();
  std::string hex(key_text->begin(), key_text->end());
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  Bytes raw;
  if (!HexDecode(hex, &raw) || raw.size() != key_.size()) {
    return Status(Code::kInvalidArgument, "node key file is not 16 hex bytes");
  }
  std::copy(raw.begin(), raw.end(), key_.begin());
  struct stat st;
  if (stat(key_file.c_str(), &st) != 0 || (st.st_mode & 0777) != 0600) {
    return Status(Code::kPermissionDenied, "node key file is not 0600");
  }
  return Status::Ok();
}

bool NodeProcess::Alive() {
  if (pid_ <= 0) return false;
  if (exit_status_ != -1) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = status;
    return false;
  }
  return r == 0;
}

Result<int> NodeProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return Status(Code::kFailedPrecondition, "node not started");
  StepTimer timer("stop node " + config_.name);
  const pid_t pid = pid_;
  bool clean = true;
  if (Alive()) {
    kill(pid, SIGTERM);
    if (!WaitFor([&] { return !Alive(); }, timeout, 2ms)) {
      clean = false;
      kill(-pid, SIGKILL);  // the node and every module it started
      int status = 0;
      if (waitpid(pid, &status, 0) == pid) exit_status_ = status;
    }
  }
  // A module must not outlive its node; make sure of it for the whole group.
  kill(-pid, SIGKILL);
  pid_ = -1;
  port_ = 0;
  if (!clean) return Status(Code::kTimeout, "aex-node ignored SIGTERM; killed");
  return exit_status_;
}

Result<std::unique_ptr<deploy::NodeClient>> NodeProcess::Connect(
    std::chrono::milliseconds timeout) const {
  if (port_ == 0) return Status(Code::kFailedPrecondition, "node not started");
  return deploy::NodeClient::Connect("127.0.0.1", port_, timeout);
}

// -------------------------------------------------------------- deployer

Result<deploy::NodeClient*> TestDeployer::Client(NodeProcess& node) {
  for (auto& [n, c] : clients_) {
    if (n == &node) return c.get();
  }
  AEX_ASSIGN_OR_RETURN(auto client, node.Connect());
  clients_.emplace_back(&node, std::move(client));
  return clients_.back().second.get();
}

void TestDeployer::DropClient(NodeProcess& node) {
  std::erase_if(clients_, [&](const auto& p) { return p.first == &node; });
}

Result<TestModule*> TestDeployer::LoadOnly(NodeProcess& node, const std::string& path,
                                           const std::string& name) {
  AEX_ASSIGN_OR_RETURN(Bytes binary, ReadFile(path));
  AEX_ASSIGN_OR_RETURN(deploy::NodeClient * client, Client(node));
  StepTimer timer("load module " + name);
  AEX_ASSIGN_OR_RETURN(uint32_t id, client->LoadModule(name, 0, "", binary));
  TestModule& m = modules_.emplace_back();
  m.node = &node;
  m.name = name;
  m.id = id;
  m.measurement = crypto::Sha256(binary);
  return &m;
}

Status TestDeployer::Attest(TestModule& m) {
  AEX_ASSIGN_OR_RETURN(deploy::NodeClient * client, Client(*m.node));
  StepTimer timer("attest module " + m.name);
  deploy::AttestationTarget target;
  target.backend = tee::Backend::kNative;
  target.module_id = m.id;
  target.measurement = m.measurement;
  target.node_key = m.node->node_key();
  AEX_ASSIGN_OR_RETURN(attest::Session session, deploy::AttestModule(*client, target));
  m.key = session.key;  // a new session: its grant nonces start again
  m.nonce = 0;
  m.instance = session.instance_id;
  return Status::Ok();
}

Result<TestModule*> TestDeployer::Load(NodeProcess& node, const std::string& path,
                                       const std::string& name) {
  AEX_ASSIGN_OR_RETURN(TestModule * m, LoadOnly(node, path, name));
  AEX_RETURN_IF_ERROR(Attest(*m));
  return m;
}

TestConnection TestDeployer::NewConnection() {
  TestConnection c;
  do {
    uint8_t raw[4];
    (void)crypto::RandomBytes(raw);
    c.conn_id = LoadU32(raw);
  } while (c.conn_id == 0 || conn_ids_.count(c.conn_id));
  conn_ids_.insert(c.conn_id);
  (void)crypto::RandomBytes(c.key);
  return c;
}

Bytes TestDeployer::WrapGrant(TestModule& m, uint32_t conn_id, uint16_t io_index, Role role,
                              const crypto::Key& conn_key) {
  crypto::AesGcm aead(m.key);
  channel::KeyGrant g;
  g.conn_id = conn_id;
  g.io_index = io_index;
  g.role = role;
  g.cipher = channel::Cipher::kAes;
  g.nonce = NextNonce(m);
  g.key = conn_key;
  return channel::WrapGrant(aead, m.id, g);
}

Status TestDeployer::Grant(TestModule& m, uint32_t conn_id, uint16_t io_index, Role role,
                           const crypto::Key& conn_key) {
  AEX_ASSIGN_OR_RETURN(deploy::NodeClient * client, Client(*m.node));
  Bytes blob = WrapGrant(m, conn_id, io_index, role, conn_key);
  return client->SetKey(m.id, blob);
}

static Status AddRoute(TestDeployer& d, TestModule& src, TestModule& dst, uint32_t conn_id) {
  AEX_ASSIGN_OR_RETURN(deploy::NodeClient * client, d.Client(*src.node));
  wire::Connect route;
  route.src_module = src.id;
  route.conn_id = conn_id;
  route.dst_module = dst.id;
  if (src.node != dst.node) {
    route.dst_host = "127.0.0.1";
    route.dst_port = dst.node->port();
  }
  return client->AddRoute(route);
}

Result<TestConnection> TestDeployer::Connect(TestModule& src, uint16_t out, TestModule& dst,
                                             uint16_t in) {
  TestConnection c = NewConnection();
  AEX_RETURN_IF_ERROR(Grant(src, c.conn_id, out, Role::kOutput, c.key));
  AEX_RETURN_IF_ERROR(Grant(dst, c.conn_id, in, Role::kInput, c.key));
  AEX_RETURN_IF_ERROR(AddRoute(*this, src, dst, c.conn_id));
  return c;
}

Result<TestConnection> TestDeployer::ConnectRequest(TestModule& src, uint16_t req,
                                                    TestModule& dst, uint16_t handler) {
  TestConnection c = NewConnection();
  AEX_RETURN_IF_ERROR(Grant(src, c.conn_id, req, Role::kRequest, c.key));
  AEX_RETURN_IF_ERROR(Grant(dst, c.conn_id, handler, Role::kHandler, c.key));
  AEX_RETURN_IF_ERROR(AddRoute(*this, src, dst, c.conn_id));
  return c;
}

Result<TestConnection> TestDeployer::ConnectDirect(TestModule& dst, Role role, uint16_t index) {
  TestConnection c = NewConnection();
  c.module = &dst;
  AEX_RETURN_IF_ERROR(Grant(dst, c.conn_id, index, role, c.key));
  return c;
}

Bytes TestDeployer::SealWithCounter(const TestConnection& c, uint64_t counter,
                                    ByteSpan plaintext, Direction dir) {
  crypto::AesGcm aead(c.key);
  Bytes out;
  Status s = channel::SealEvent(aead, c.conn_id, dir, counter, plaintext, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

Bytes TestDeployer::Seal(TestConnection& c, ByteSpan plaintext) {
  return SealWithCounter(c, ++c.counter, plaintext);
}

Status TestDeployer::SendSealed(const TestConnection& c, ByteSpan sealed, uint32_t conn_id) {
  if (c.module == nullptr) return FailedPrecondition("not a direct connection");
  AEX_ASSIGN_OR_RETURN(deploy::NodeClient * client, Client(*c.module->node));
  return client->SendEvent(c.module->id, conn_id ? conn_id : c.conn_id, sealed);
}

Status TestDeployer::SendEvent(TestConnection& c, ByteSpan plaintext) {
  Bytes sealed = Seal(c, plaintext);
  return SendSealed(c, sealed);
}

Result<Bytes> TestDeployer::Request(TestConnection& c, ByteSpan plaintext) {
  if (c.module == nullptr) return FailedPrecondition("not a direct connection");
  AEX_ASSIGN_OR_RETURN(deploy::NodeClient * client, Client(*c.module->node));
  const uint64_t counter = ++c.counter;
  Bytes sealed = SealWithCounter(c, counter, plaintext);
  AEX_ASSIGN_OR_RETURN(Bytes response, client->Request(c.module->id, c.conn_id, sealed));
  crypto::AesGcm aead(c.key);
  uint64_t got = 0;
  Bytes plain;
  AEX_RETURN_IF_ERROR(
      channel::OpenEvent(aead, c.conn_id, Direction::kBackward, response, &got, &plain));
  if (got != counter) return AuthFailed("response carries another request's counter");
  return plain;
}

Result<Bytes> TestDeployer::CallEntry(TestModule& m, uint32_t entry, ByteSpan arg) {
  AEX_ASSIGN_OR_RETURN(deploy::NodeClient * client, Client(*m.node));
  return client->CallEntry(m.id, entry, arg);
}

Status TestDeployer::Disable(TestModule& m) {
  AEX_ASSIGN_OR_RETURN(deploy::NodeClient * client, Client(*m.node));
  crypto::AesGcm aead(m.key);
  Bytes blob = channel::SealDisable(aead, m.id, NextNonce(m));
  return client->Disable(m.id, blob);
}

Result<nlohmann::json> TestDeployer::NodeStatus(NodeProcess& node) {
  AEX_ASSIGN_OR_RETURN(deploy::NodeClient * client, Client(node));
  AEX_ASSIGN_OR_RETURN(std::string text, client->NodeStatus());
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status(Code::kProtocol, "node status is not a JSON object");
  }
  return doc;
}

Result<nlohmann::json> TestDeployer::ModuleStatus(TestModule& m) {
  AEX_ASSIGN_OR_RETURN(nlohmann::json doc, NodeStatus(*m.node));
  if (doc.contains("modules") && doc["modules"].is_array()) {
    for (const auto& entry : doc["modules"]) {
      if (entry.is_object() && entry.value("id", 0u) == m.id) return entry;
    }
  }
  return NotFound("module " + std::to_string(m.id) + " not in node status");
}

int64_t TestDeployer::Stat(TestModule& m, const std::string& field) {
  auto entry = ModuleStatus(m);
  if (!entry.ok()) return -1;
  if (!entry->contains("stats") || !(*entry)["stats"].contains(field)) return 0;
  return (*entry)["stats"][field].get<int64_t>();
}

std::string TestDeployer::State(TestModule& m) {
  auto entry = ModuleStatus(m);
  if (!entry.ok()) return "(" + entry.status().ToString() + ")";
  return entry->value("state", std::string("(none)"));
}

}  // namespace aex::itest
