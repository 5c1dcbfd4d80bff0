// Integration-test harness: real aex-node processes, modules loaded and
// attested through them, connections keyed the way the deployer keys them.
//
//   TempDir dir;                                 // removed on destruction
//   NodeProcess node(dir.Sub("a"));
//   ASSERT_OK(node.Start());                     // waits for the port file
//   TestDeployer d;
//   ASSERT_OK_AND_ASSIGN(TestModule* ping, d.Load(node, AEX_IT_PING_BIN, "ping"));
//   ASSERT_OK_AND_ASSIGN(TestModule* pong, d.Load(node, AEX_IT_PONG_BIN, "pong"));
//   ASSERT_OK(d.Connect(*ping, 0, *pong, 0).status());
//
// Every wait is a poll with a deadline (WaitFor); nothing sleeps to
// synchronise. NodeProcess starts the node in its own process group and kills
// the whole group when it is destroyed, so no node or module outlives a test.

#ifndef AEX_TESTS_INTEGRATION_HARNESS_H_
#define AEX_TESTS_INTEGRATION_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <ostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../platform_process.h"
#include "aex/bytes.h"
#include "aex/status.h"
#include "crypto/crypto.h"
#include "deployer/node_client.h"
#include "attest/issue.h"
#include "runtime/channel.h"

namespace aex {
// gtest prints Codes by name in failure messages.
inline void PrintTo(Code code, std::ostream* os) { *os << CodeName(code); }
}  // namespace aex

namespace aex::itest {

using namespace std::chrono_literals;

// ---------------------------------------------------------------- gtest glue

#define AEX_IT_CONCAT_INNER_(a, b) a##b
#define AEX_IT_CONCAT_(a, b) AEX_IT_CONCAT_INNER_(a, b)

// Works with Status and Result<T>.
#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    const ::aex::Status aex_it_s_ = ::aex::itest::StatusOf(expr);        \
    ASSERT_TRUE(aex_it_s_.ok()) << #expr << ": " << aex_it_s_.ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                                  \
  do {                                                                   \
    const ::aex::Status aex_it_s_ = ::aex::itest::StatusOf(expr);        \
    EXPECT_TRUE(aex_it_s_.ok()) << #expr << ": " << aex_it_s_.ToString(); \
  } while (0)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(AEX_IT_CONCAT_(aex_it_r_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)                               \
  auto tmp = (expr);                                                             \
  ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status().ToString();             \
  lhs = std::move(tmp).value()

inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

// ------------------------------------------------------------------ helpers

// Reads a whole file; an empty Bytes and a failed Status if it cannot.
Result<Bytes> ReadFile(const std::string& path);

// Polls `pred` every `interval` until it returns true or `timeout` passes.
// Returns the predicate's last value (so a late success still counts).
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval = 5ms);

// Deterministic payload of `size` bytes (it_pattern(seed, i)).
Bytes Pattern(uint32_t seed, size_t size);
// The sink/pong/ping checksum chain (it_hash_event) over a sequence of events.
uint64_t HashChain(const std::vector<Bytes>& events);
uint64_t HashEvent(uint64_t h, ByteSpan event);
constexpr uint64_t kHashInit = 0xcbf29ce484222325ull;

Bytes U32s(std::initializer_list<uint32_t> values);  // big-endian
uint32_t GetU32(ByteSpan b, size_t at);
uint64_t GetU64(ByteSpan b, size_t at);

// A temporary directory (under $TMPDIR or /tmp) removed with its contents on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Creates and returns path()/name.
  std::string Sub(const std::string& name) const;

 private:
  std::string path_;
};

// --------------------------------------------------------------- the node

struct NodeConfig {
  std::string name = "node";
  int call_timeout_ms = 0;  // 0: the node's default
  std::string log_level = "warn";
  // Appended to aex-node's command line. Without --tls-cert among them the
  // node runs plain TCP, with --insecure-no-tls.
  std::vector<std::string> extra_args{};
};

// One aex-node process with its own work dir and key file under `dir`.
class NodeProcess {
 public:
  explicit NodeProcess(std::string dir, NodeConfig config = {});
  ~NodeProcess();  // Stop(), then SIGKILL to anything left in its process group
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Starts the node and waits (bounded) for its port file and key file.
  Status Start(std::chrono::milliseconds timeout = 10s);
  // SIGTERM, then waits (bounded) for the exit; SIGKILLs the process group if
  // the node does not exit in time. Returns the exit status seen by waitpid.
  Result<int> Stop(std::chrono::milliseconds timeout = 5s);
  // True while the node process has not exited (reaps it if it has).
  bool Alive();

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  const std::string& name() const { return config_.name; }
  const crypto::Key& node_key() const { return key_; }
  // The node's platform service, started with the node and kept across
  // node restarts (it is the node's "hardware").
  testutil::PlatformProcess& platform() { return platform_; }
  Result<std::unique_ptr<deploy::NodeClient>> Connect(
      std::chrono::milliseconds timeout = 5000ms) const;

 private:
  std::string dir_;
  NodeConfig config_;
  testutil::PlatformProcess platform_;
  pid_t pid_ = -1;
  int exit_status_ = -1;
  uint16_t port_ = 0;
  crypto::Key key_{};
};

// -------------------------------------------------------------- deployer

// A module loaded and attested by a TestDeployer.
struct TestModule {
  NodeProcess* node = nullptr;
  std::string name;
  uint32_t id = 0;
  crypto::Digest measurement{};
  crypto::Key key{};       // K_s of the last attestation
  uint64_t nonce = 0;      // last grant/disable nonce used under it
  uint64_t instance = 0;   // the instance id that attestation saw
  channel::Cipher cipher = channel::Cipher::kAes;
};

// A connection between two modules, or between the test (as the deployer,
// holding the other end) and a module.
struct TestConnection {
  uint32_t conn_id = 0;
  crypto::Key key{};
  uint64_t counter = 0;  // the test's last counter when it holds one end
  TestModule* module = nullptr;  // the module end (direct connections)
};

class TestDeployer {
 public:
  TestDeployer() = default;
  TestDeployer(const TestDeployer&) = delete;
  TestDeployer& operator=(const TestDeployer&) = delete;

  // One management client per node, created on first use.
  Result<deploy::NodeClient*> Client(NodeProcess& node);
  void DropClient(NodeProcess& node);

  // Loads the binary at `path` on `node` and attests it; the module is kept
  // (stable address) for the deployer's lifetime.
  Result<TestModule*> Load(NodeProcess& node, const std::string& path, const std::string& name);
  // Loads without attesting (key stays zero).
  Result<TestModule*> LoadOnly(NodeProcess& node, const std::string& path,
                               const std::string& name);
  Status Attest(TestModule& m);

  // A fresh connection id (random, nonzero, never handed out before) and key.
  TestConnection NewConnection();
  // Next grant/disable nonce of m.
  uint64_t NextNonce(TestModule& m) { return ++m.nonce; }
  // Wraps a grant for m under its K_m (nonce: next nonce of m).
  Bytes WrapGrant(TestModule& m, uint32_t conn_id, uint16_t io_index, channel::Role role,
                  const crypto::Key& conn_key);
  // Wraps and installs a grant.
  Status Grant(TestModule& m, uint32_t conn_id, uint16_t io_index, channel::Role role,
               const crypto::Key& conn_key);

  // src.output[out] -> dst.input[in]: fresh K_c, both grants, the route on
  // src's node (remote when the nodes differ).
  Result<TestConnection> Connect(TestModule& src, uint16_t out, TestModule& dst, uint16_t in);
  // src.request[req] -> dst.handler[handler].
  Result<TestConnection> ConnectRequest(TestModule& src, uint16_t req, TestModule& dst,
                                        uint16_t handler);
  // The test holds the sending end: role is the module's end (kInput or
  // kHandler).
  Result<TestConnection> ConnectDirect(TestModule& dst, channel::Role role, uint16_t index);

  // Seals `plaintext` forward with the next counter of c.
  Bytes Seal(TestConnection& c, ByteSpan plaintext);
  Bytes SealWithCounter(const TestConnection& c, uint64_t counter, ByteSpan plaintext,
                        channel::Direction dir = channel::Direction::kForward);
  // Sends a sealed event (one-way) to c.module on conn id `conn_id` (default c's).
  Status SendSealed(const TestConnection& c, ByteSpan sealed, uint32_t conn_id = 0);
  Status SendEvent(TestConnection& c, ByteSpan plaintext);
  // Sends a request with the next counter and opens the response.
  Result<Bytes> Request(TestConnection& c, ByteSpan plaintext);

  Result<Bytes> CallEntry(TestModule& m, uint32_t entry, ByteSpan arg = {});
  Status Disable(TestModule& m);

  // The node's status document, and one module's entry in it.
  Result<nlohmann::json> NodeStatus(NodeProcess& node);
  Result<nlohmann::json> ModuleStatus(TestModule& m);
  // modules[].stats.<field> of m (0 when absent); -1 on error.
  int64_t Stat(TestModule& m, const std::string& field);
  std::string State(TestModule& m);

 private:
  std::vector<std::pair<NodeProcess*, std::unique_ptr<deploy::NodeClient>>> clients_;
  std::deque<TestModule> modules_;
  std::set<uint32_t> conn_ids_;
};

}  // namespace aex::itest

#endif  // AEX_TESTS_INTEGRATION_HARNESS_H_
