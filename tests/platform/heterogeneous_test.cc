// End to end through the `aex` CLI, as a user runs it: the heterogeneous
// example (sancus, trustzone, sgx and native nodes, each its own aex-node),
// and the ping-pong example with both nodes on each backend (the same module
// source built for every backend). Ports are picked free at run time.

#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <signal.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "../command_run.h"
#include "platform_test_util.h"

namespace aex::ptest {
namespace {

namespace fs = std::filesystem;

using CliRun = testutil::CommandRun;

// Runs the aex CLI with `args` in `dir`; stdout and stderr together.
CliRun Aex(const std::string& dir, const std::string& args) {
  return testutil::RunCommand("cd '" + dir + "' && '" AEX_BIN "' " + args + " 2>&1");
}

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

// `aex --json call ...` -> the response bytes.
Result<Bytes> CallEntry(const std::string& dir, const std::string& module,
                        const std::string& entry) {
  CliRun r = Aex(dir, "--json call descriptor.yaml --module " + module + " --entry " + entry);
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  if (r.exit_code != 0 || j.is_discarded() || !j.value("ok", false)) {
    return Internal("aex call failed: " + r.output);
  }
  Bytes b;
  if (!HexDecode(j.value("hex", ""), &b)) return Internal("bad hex: " + r.output);
  return b;
}

uint32_t U32(const Bytes& b, size_t at) {
  return b.size() < at + 4 ? 0 : LoadU32(b.data() + at);
}

// Polls `pred` for up to `seconds`.
bool Eventually(const std::function<bool()>& pred, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

class CliApp {
 public:
  explicit CliApp(const TempDir& dir) : dir_(dir.path()) {}
  ~CliApp() {
    if (started_) {
      CliRun down = Aex(dir_, "down descriptor.yaml");
      CliRun stop = Aex(dir_, "nodes stop descriptor.yaml");
      if (down.exit_code != 0) fprintf(stderr, "aex down: %s\n", down.output.c_str());
      if (stop.exit_code != 0) fprintf(stderr, "aex nodes stop: %s\n", stop.output.c_str());
    }
  }
  const std::string& dir() const { return dir_; }
  CliRun Do(const std::string& args) {
    if (args.rfind("nodes start", 0) == 0) started_ = true;
    return Aex(dir_, args);
  }

 private:
  std::string dir_;
  bool started_ = false;
};

std::string Logs(const std::string& dir) {
  std::string all;
  std::error_code ec;
  // Node logs, and the modules' under .aex/logs/<node>/.
  for (const auto& e : fs::recursive_directory_iterator(dir + "/.aex/logs", ec)) {
    if (!e.is_regular_file()) continue;
    all += "==== " + e.path().string() + "\n" + ReadText(e.path().string());
  }
  return all;
}

// Copies the heterogeneous example into `dir` with free ports in place of its
// fixed ones, `extra` appended to its descriptor; returns the descriptor.
std::string CopyHeterogeneousExample(const TempDir& dir, const std::string& extra = "") {
  const std::string src = AEX_SOURCE_DIR "/examples/heterogeneous";
  for (const auto& e : fs::directory_iterator(src)) {
    if (e.is_regular_file()) fs::copy_file(e.path(), dir / e.path().filename().string());
  }
  std::string descriptor = ReadText(dir / "descriptor.yaml");
  for (const char* port : {"6101", "6102", "6103", "6104"}) {
    descriptor = std::regex_replace(descriptor, std::regex(port),
                                    std::to_string(FreePort()));
  }
  descriptor += extra;
  WriteText(dir / "descriptor.yaml", descriptor);
  return descriptor;
}

// After the operator set the alert threshold to 0: sancus -> trustzone ->
// sancus (SpongeWrap both ways), trustzone -> sgx -> native (AES-GCM),
// native <-> sgx request/response, all within 30 s.
void ExpectEventsFlowBothWays(const std::string& dir) {
  Bytes sensor, gateway, report;
  bool flowing = Eventually(
      [&] {
        auto s = CallEntry(dir, "sensor", "status");
        auto g = CallEntry(dir, "gateway", "status");
        auto r = CallEntry(dir, "dashboard", "report");
        if (!s.ok() || !g.ok() || !r.ok()) return false;
        sensor = *s, gateway = *g, report = *r;
        return U32(sensor, 4) >= 3 && U32(gateway, 0) >= 3 && U32(report, 0) >= 1 &&
               U32(report, 4) >= 1 && U32(report, 8) >= 1;
      },
      60);
  EXPECT_TRUE(flowing) << "sensor sent " << U32(sensor, 0) << ", acks " << U32(sensor, 4)
                       << "; gateway forwarded " << U32(gateway, 0) << "; dashboard polls "
                       << U32(report, 0) << ", alerts " << U32(report, 4) << ", readings "
                       << U32(report, 8) << "\n"
                       << Logs(dir);
  EXPECT_EQ(U32(gateway, 4), 0u);      // nothing malformed reached the gateway
  EXPECT_EQ(U32(report, 8 + 16), 0u);  // the threshold the operator set
}

TEST(HeterogeneousExample, RunsAcrossFourTeesWithEventsBothWays) {
  TempDir dir;
  const std::string descriptor = CopyHeterogeneousExample(dir);

  CliApp app(dir);
  CliRun validate = app.Do("validate descriptor.yaml");
  ASSERT_EQ(validate.exit_code, 0) << validate.output;
  CliRun start = app.Do("nodes start descriptor.yaml");
  ASSERT_EQ(start.exit_code, 0) << start.output;
  EXPECT_TRUE(fs::exists(dir / "keys/sgx-node.platform/sgx_root_ca.pem"));
  CliRun up = app.Do("up descriptor.yaml");
  ASSERT_EQ(up.exit_code, 0) << up.output << Logs(dir.path());
  for (const char* m : {"sensor", "gateway", "aggregator", "dashboard"}) {
    EXPECT_NE(up.output.find(m), std::string::npos) << up.output;
  }

  // The operator lowers the threshold over the direct connection: every
  // reading now raises an alert.
  CliRun output = app.Do("output descriptor.yaml --connection set-threshold --arg 00000000");
  ASSERT_EQ(output.exit_code, 0) << output.output;

  ExpectEventsFlowBothWays(app.dir());

  CliRun status = app.Do("status descriptor.yaml");
  EXPECT_EQ(status.exit_code, 0) << status.output;

  // One simulated SGX root per deployment: `nodes start` provisioned the
  // sgx node under it.
  EXPECT_EQ(ReadText(dir / "keys/sgx-node.platform/sgx_root_ca.pem"),
            ReadText(dir / ".aex/sgx-provisioning/sgx_root_ca.pem"));
  // The aggregator attested again, its quote saved, then verified offline;
  // it keeps answering the dashboard's requests under its new session.
  auto polls = [&] {
    auto r = CallEntry(app.dir(), "dashboard", "report");
    return r.ok() ? U32(*r, 0) : 0u;
  };
  const uint32_t polls_before = polls();
  CliRun attest =
      app.Do("--json attest descriptor.yaml --module aggregator --evidence-out quote.bin");
  ASSERT_EQ(attest.exit_code, 0) << attest.output;
  auto attested = nlohmann::json::parse(attest.output.substr(attest.output.find('{')), nullptr,
                                        false);
  ASSERT_TRUE(attested.is_object()) << attest.output;
  EXPECT_EQ(attested.value("tcb_status", ""), "UpToDate") << attest.output;
  EXPECT_EQ(attested.value("valid", false), true) << attest.output;
  const std::string offline =
      "--json verify-quote quote.bin --collateral quote.bin.collateral.json --root-pubkey "
      "quote.bin.root.pem";
  CliRun verified = app.Do(offline);
  ASSERT_EQ(verified.exit_code, 0) << verified.output;
  auto v = nlohmann::json::parse(verified.output, nullptr, false);
  EXPECT_EQ(v.value("mrenclave", ""), attested.value("mrenclave", "")) << verified.output;
  EXPECT_EQ(v.value("tcb_status", ""), "UpToDate") << verified.output;
  std::string quote = ReadText(dir / "quote.bin");
  ASSERT_GT(quote.size(), 112u);
  quote[112] ^= 1;  // a bit of MRENCLAVE (report body at 48, MRENCLAVE at +64)
  WriteText(dir / "quote.bin", quote);
  CliRun flipped = app.Do(offline);
  EXPECT_EQ(flipped.exit_code, 1) << flipped.output;
  EXPECT_NE(flipped.output.find("quote-signature"), std::string::npos) << flipped.output;
  EXPECT_TRUE(Eventually([&] { return polls() > polls_before + 1; }, 60)) << Logs(dir.path());

  // A variant of the descriptor, `added` after the line matching `line`,
  // is refused by `up` with `reason`, then taken down.
  auto refused_variant = [&](const std::string& file, const std::string& line,
                             const std::string& added, const std::string& reason) {
    std::string variant = std::regex_replace(descriptor, std::regex("(" + line + ")"),
                                             "$1" + added);
    ASSERT_NE(variant, descriptor);
    WriteText(dir / file, variant);
    CliRun refused = app.Do("up " + file);
    EXPECT_NE(refused.exit_code, 0) << refused.output;
    EXPECT_NE(refused.output.find(reason), std::string::npos) << refused.output;
    CliRun down = app.Do("down " + file);
    EXPECT_EQ(down.exit_code, 0) << down.output;
  };
  // Policy: a node that refuses simulated platforms refuses the attestation,
  // with the reason, and the module gets no key.
  refused_variant("strict.yaml", "    vendor_id: 4661\n", "    allow_simulated: false\n",
                  "allow_simulated: false");
  // The sgx policy of the descriptor: the simulated enclaves have ISVSVN 0.
  refused_variant("isv.yaml", "    allow_debug: false\n", "    min_isv_svn: 1\n",
                  "policy-isv-svn");
  // An expected_measurement that is not the built binary's stops the module
  // before it is attested.
  refused_variant("pinned.yaml", "    sources: \\[aggregator.cc\\]\n",
                  "    expected_measurement: " + std::string(64, '0') + "\n",
                  "expected_measurement");
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

nlohmann::json StatusJson(CliApp& app, const std::string& descriptor) {
  CliRun r = app.Do("--json status " + descriptor);
  return nlohmann::json::parse(r.output, nullptr, false);
}

const nlohmann::json* ModuleIn(const nlohmann::json& status, const std::string& name) {
  if (!status.is_object() || !status.contains("modules")) return nullptr;
  for (const auto& m : status["modules"]) {
    if (m.value("name", "") == name) return &m;
  }
  return nullptr;
}

// The same application with an attestation manager on the sgx node: the
// deployer attests only the manager; the manager attests the four modules
// (sancus, trustzone, sgx, native) and makes their key grants.
TEST(HeterogeneousExample, AttestationManagerAttestsAndKeysEveryModule) {
  TempDir dir;
  const std::string descriptor =
      CopyHeterogeneousExample(dir, "manager:\n  node: sgx-node\n  allow_unprotected: true\n");
  CliApp app(dir);
  CliRun start = app.Do("nodes start descriptor.yaml");
  ASSERT_EQ(start.exit_code, 0) << start.output;
  CliRun up = app.Do("--manager up descriptor.yaml");
  ASSERT_EQ(up.exit_code, 0) << up.output << Logs(dir.path());
  EXPECT_EQ(Count(up.output, "verified by the attestation manager"), 4u) << up.output;
  CliRun output = app.Do("output descriptor.yaml --connection set-threshold --arg 00000000");
  ASSERT_EQ(output.exit_code, 0) << output.output;
  ExpectEventsFlowBothWays(app.dir());

  // The state file holds no key, nonce or counter at all: the manager's
  // session and the control connection are re-keyed in every run, and the
  // keys of the modules the manager attested never reach the deployer.
  auto state = nlohmann::json::parse(ReadText(dir / ".aex/descriptor.state.json"));
  for (const char* m : {"sensor", "gateway", "aggregator", "dashboard", "aex-manager"}) {
    EXPECT_FALSE(state["modules"][m].contains("key")) << m;
    EXPECT_FALSE(state["modules"][m].contains("nonce")) << m;
    EXPECT_NE(state["modules"][m].value("instance", uint64_t{0}), 0u) << m;
    EXPECT_EQ(state["modules"][m].value("by_manager", false), std::string(m) != "aex-manager")
        << m;
  }
  for (const char* c : {"sensor-readings", "sensor-acks", "forwarded-readings", "alerts",
                        "summary", "set-threshold"}) {
    EXPECT_FALSE(state["connections"][c].contains("key")) << c;
    EXPECT_FALSE(state["connections"][c].contains("counter")) << c;
  }
  auto status = StatusJson(app, "descriptor.yaml");
  const nlohmann::json* gateway = ModuleIn(status, "gateway");
  ASSERT_NE(gateway, nullptr) << status.dump();
  EXPECT_EQ(gateway->value("attested_by", ""), "manager");

  // Hostile bytes on the control connection get an error answer, and the
  // manager keeps serving (the disable below goes through it).
  CliRun junk = app.Do("--json request descriptor.yaml --connection aex-manager.control --arg ff");
  ASSERT_EQ(junk.exit_code, 0) << junk.output;
  EXPECT_NE(junk.output.find("\"hex\": \"0001"), std::string::npos) << junk.output;  // kInvalidArgument

  // Update needs the module key, which only the manager has: refused.
  CliRun update = app.Do("update descriptor.yaml --module gateway");
  EXPECT_NE(update.exit_code, 0);
  EXPECT_NE(update.output.find("attested by the attestation manager"), std::string::npos)
      << update.output;

  // Disable through the manager, which seals the command under its K_s.
  CliRun disable = app.Do("disable descriptor.yaml --module dashboard");
  ASSERT_EQ(disable.exit_code, 0) << disable.output;
  EXPECT_FALSE(CallEntry(app.dir(), "dashboard", "report").ok());

  // A node key the module's node does not have: the manager refuses the
  // evidence with the reason, and the module gets no key.
  WriteText(dir / "keys/wrong.key", std::string(32, 'a') + "\n");
  std::string wrong = std::regex_replace(descriptor, std::regex("keys/native-node.key"),
                                         "keys/wrong.key");
  ASSERT_NE(wrong, descriptor);
  WriteText(dir / "wrong.yaml", wrong);
  CliRun refused = app.Do("--manager up wrong.yaml");
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_NE(refused.output.find("attestation manager: native attestation failed"),
            std::string::npos)
      << refused.output;
  const nlohmann::json wrong_status = StatusJson(app, "wrong.yaml");
  const nlohmann::json* dashboard = ModuleIn(wrong_status, "dashboard");
  ASSERT_NE(dashboard, nullptr);
  EXPECT_FALSE(dashboard->value("attested", true));
  EXPECT_EQ(app.Do("down wrong.yaml").exit_code, 0);

  // Policy holds through the manager too.
  std::string strict = std::regex_replace(
      descriptor, std::regex("(    vendor_id: 4661\n)"), "$1    allow_simulated: false\n");
  WriteText(dir / "strict.yaml", strict);
  CliRun strict_up = app.Do("--manager up strict.yaml");
  EXPECT_NE(strict_up.exit_code, 0) << strict_up.output;
  EXPECT_NE(strict_up.output.find("allow_simulated: false"), std::string::npos)
      << strict_up.output;
  EXPECT_EQ(app.Do("down strict.yaml").exit_code, 0);

  // A manager on a simulated platform without the explicit policy: refused
  // with the reason, before it is given any node's secrets.
  std::string unprotected =
      std::regex_replace(descriptor, std::regex("  allow_unprotected: true\n"), "");
  ASSERT_NE(unprotected, descriptor);
  WriteText(dir / "unprotected.yaml", unprotected);
  CliRun unprotected_up = app.Do("--manager up unprotected.yaml");
  EXPECT_NE(unprotected_up.exit_code, 0) << unprotected_up.output;
  EXPECT_NE(unprotected_up.output.find("allow_unprotected: true"), std::string::npos)
      << unprotected_up.output;
  EXPECT_EQ(app.Do("down unprotected.yaml").exit_code, 0);

  // The manager's node restarts: the manager comes back without keys, so
  // `aex up` deploys it and everything it had attested again.
  pid_t sgx_node = std::stoi(ReadText(dir / ".aex/nodes/sgx-node.pid"));
  ASSERT_EQ(kill(sgx_node, SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] { return kill(sgx_node, 0) != 0; }, 60));
  CliRun restart = app.Do("nodes start descriptor.yaml");
  ASSERT_EQ(restart.exit_code, 0) << restart.output;
  CliRun again = app.Do("--manager up descriptor.yaml");
  ASSERT_EQ(again.exit_code, 0) << again.output << Logs(dir.path());
  EXPECT_NE(again.output.find("its attestation manager was replaced"), std::string::npos)
      << again.output;
  EXPECT_EQ(Count(again.output, "verified by the attestation manager"), 4u) << again.output;
  output = app.Do("output descriptor.yaml --connection set-threshold --arg 00000000");
  ASSERT_EQ(output.exit_code, 0) << output.output;
  ExpectEventsFlowBothWays(app.dir());
}

// ping-pong's descriptor with both nodes (and modules) on `backend`.
std::string PingPong(const std::string& backend, uint16_t p1, uint16_t p2) {
  const bool vendor = backend == "sancus" || backend == "trustzone";
  const std::string enc = backend == "sancus" ? "spongent" : "aes";
  auto node = [&](const std::string& name, uint16_t port) {
    std::string n = "  - type: " + backend + "\n    name: " + name +
                    "\n    host: 127.0.0.1\n    reactive_port: " + std::to_string(port) +
                    "\n    node_key_file: keys/" + name + ".key\n";
    if (vendor) n += "    vendor_id: 4660\n";
    if (backend == "sgx") n += "    root_ca: keys/" + name + ".platform/sgx_root_ca.pem\n";
    return n;
  };
  auto module = [&](const std::string& name, const std::string& node, const std::string& file) {
    return "  - type: " + backend + "\n    name: " + name + "\n    node: " + node +
           "\n    sources: [" + file + "]\n";
  };
  auto conn = [&](const std::string& name, const std::string& body) {
    return "  - name: " + name + "\n" + body + "    encryption: " + enc + "\n";
  };
  return "nodes:\n" + node("node1", p1) + node("node2", p2) + "modules:\n" +
         module("ping", "node1", "ping.c") + module("pong", "node2", "pong.cc") +
         "connections:\n" +
         conn("ping-to-pong",
              "    from_module: ping\n    from_output: send_ping\n    to_module: pong\n"
              "    to_input: recv_ping\n") +
         conn("pong-to-ping",
              "    from_module: pong\n    from_output: send_pong\n    to_module: ping\n"
              "    to_input: recv_pong\n") +
         conn("ping-asks-count",
              "    from_module: ping\n    from_request: ask_count\n    to_module: pong\n"
              "    to_handler: count\n") +
         conn("operator-reverse", "    direct: true\n    to_module: pong\n    to_handler: reverse\n") +
         "periodic-events:\n  - name: ping-every-200ms\n    module: ping\n    entry: tick\n"
         "    frequency: 200\n";
}

class PingPongOnEveryBackend : public ::testing::TestWithParam<std::string> {};

TEST_P(PingPongOnEveryBackend, SameSourceRunsAndEventsFlow) {
  TempDir dir;
  for (const char* f : {"ping.c", "pong.cc"}) {
    fs::copy_file(AEX_SOURCE_DIR "/examples/ping-pong/" + std::string(f), dir / f);
  }
  WriteText(dir / "descriptor.yaml", PingPong(GetParam(), FreePort(), FreePort()));
  CliApp app(dir);
  CliRun start = app.Do("nodes start descriptor.yaml");
  ASSERT_EQ(start.exit_code, 0) << start.output;
  CliRun up = app.Do("up descriptor.yaml");
  ASSERT_EQ(up.exit_code, 0) << up.output << Logs(dir.path());
  Bytes pongs;
  EXPECT_TRUE(Eventually(
      [&] {
        auto r = CallEntry(app.dir(), "ping", "pongs_received");
        if (r.ok()) pongs = *r;
        return U32(pongs, 0) >= 2;
      },
      60))
      << Logs(dir.path());
  CliRun reverse = app.Do("--json request descriptor.yaml --connection operator-reverse --text " +
                       GetParam());
  ASSERT_EQ(reverse.exit_code, 0) << reverse.output;
  std::string expected = GetParam();
  std::reverse(expected.begin(), expected.end());
  EXPECT_NE(reverse.output.find(HexEncode(AsBytes(expected))), std::string::npos)
      << reverse.output;
}

INSTANTIATE_TEST_SUITE_P(Backends, PingPongOnEveryBackend,
                         ::testing::Values("native", "sgx", "trustzone", "sancus"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace aex::ptest
