// aex-node: the event manager of one node.

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <cstdio>
#include <spdlog/spdlog.h>

#include "cli_doc.h"
#include "node/node.h"
#include "platform/platform.h"
#include "wire/management.h"

// Fills *out from the NAME=VALUE arguments of `option`; false (after saying
// why) if one is not of that form.
static bool SplitNameValues(const char* option, const char* form,
                            const std::vector<std::string>& args,
                            std::map<std::string, std::string>* out) {
  for (const std::string& a : args) {
    auto eq = a.find('=');
    if (eq == 0 || eq == std::string::npos || eq + 1 == a.size()) {
      fprintf(stderr, "aex-node: %s expects %s, got '%s'\n", option, form, a.c_str());
      return false;
    }
    (*out)[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return true;
}

int main(int argc, char** argv) {
  aex::node::NodeOptions opt;
  std::string log_level = "info";
  unsigned timeout_ms = 10000;
  CLI::App app{"aex-node: the untrusted event manager of an aex node"};
  std::string port_file;
  app.add_option("-p,--port", opt.port, "TCP port for deployers and peer nodes (0: any free)")
      ->required();
  app.add_option("--port-file", port_file, "write the port actually bound to this file");
  app.add_option("--host", opt.listen_host, "address to listen on")->capture_default_str();
  app.add_option("--platform-socket", opt.platform_socket,
                 "the node's platform service socket (aex-platform --socket), passed to "
                 "modules; aex-node itself holds no platform secret")
      ->required();
  app.add_option("--work-dir", opt.work_dir, "where loaded module binaries are kept");
  app.add_option("--module-log-dir", opt.module_log_dir,
                 "append each module's stdout and stderr to DIR/<module name>.log (default: "
                 "the node's own stdout and stderr)");
  std::vector<std::string> devices;
  app.add_option("--device", devices,
                 "NAME=SOCKET: a device attached to this node, served by an aex-device "
                 "simulator at SOCKET (repeatable)");
  app.add_flag("--sgx-debug", opt.sgx_debug, "launch sgx modules as debug enclaves");
  std::vector<std::string> preinstall;
  app.add_option("--preinstall", preinstall,
                 "NAME=BINARY: a module the node runs from its start, as a board's firmware "
                 "would (a pre-installed module: 'deployed: true' without sources; repeatable)");
  std::string preinstall_type = "native";
  app.add_option("--preinstall-type", preinstall_type,
                 "native|sgx|trustzone|sancus: the platform of the --preinstall modules")
      ->capture_default_str();
  app.set_version_flag("--version", std::string("aex-node ") + AEX_VERSION);
  app.add_option("--name", opt.name, "node name shown in status and sent in HELLO_ACK")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.size() <= aex::wire::kMaxNodeIdentity ? "" : "at most 64 bytes";
          },
          "NAME"));
  app.add_option("--deployment", opt.deployment,
                 "the id of the deployment this node serves (`aex nodes start` passes it), "
                 "sent in HELLO_ACK so that the deployer can tell its node from another one")
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.size() <= aex::wire::kMaxNodeIdentity ? "" : "at most 64 bytes";
          },
          "ID"));
  app.add_option("--call-timeout-ms", timeout_ms, "time a module has to answer a call")
      ->capture_default_str();
  double attest_deadline_s = 60;
  app.add_option("--attest-deadline", attest_deadline_s,
                 "seconds a loaded module has to be attested before the node unloads it "
                 "(0: never)")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  app.add_option("--peer-backlog", opt.peer_backlog,
                 "events queued per unreachable peer before refusing")
      ->capture_default_str();
  unsigned idle_ms = 300000, frame_ms = 30000, handshake_ms = 3000, budget_mib = 32;
  app.add_option("--session-idle-timeout-ms", idle_ms,
                 "close a greeted session that sends nothing and awaits no answer this long")
      ->capture_default_str();
  app.add_option("--frame-timeout-ms", frame_ms,
                 "close a session whose frame is not complete this long after its first byte")
      ->capture_default_str();
  app.add_option("--handshake-timeout-ms", handshake_ms,
                 "close a TLS handshake not finished this long after the client's first bytes")
      ->capture_default_str();
  app.add_option("--max-sessions", opt.max_sessions,
                 "sessions at most (beyond, the quietest is closed to admit a new one)")
      ->capture_default_str();
  app.add_option("--buffer-budget-mib", budget_mib,
                 "bytes buffered for all sessions together (partial frames, queued replies)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u));
  app.add_option("--tls-cert", opt.tls.cert,
                 "this node's TLS certificate (PEM, from `aex tls init`); with --tls-key and "
                 "--tls-ca every connection is mutual TLS 1.3");
  app.add_option("--tls-key", opt.tls.key, "this node's TLS private key (PEM)");
  app.add_option("--tls-ca", opt.tls.ca, "the deployment CA certificate (PEM)");
  app.add_flag("--insecure-no-tls", opt.insecure_no_tls,
               "allow plain TCP (loopback included): anyone who can reach the port can then "
               "load, unload or reset modules");
  app.add_option("--metrics-listen", opt.metrics_listen,
                 "serve Prometheus metrics (GET /metrics) on HOST:PORT, e.g. 127.0.0.1:9464; "
                 "HTTPS with client certificates when the node has TLS; plain HTTP only on "
                 "loopback");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  aex::cli::AddManFlag(&app, "aex(1), aex-platform(1)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help, --version; else a usage error
  }
  opt.call_timeout = std::chrono::milliseconds(timeout_ms);
  opt.attest_deadline = std::chrono::milliseconds(static_cast<int64_t>(attest_deadline_s * 1000));
  opt.session_idle_timeout = std::chrono::milliseconds(idle_ms);
  opt.frame_timeout = std::chrono::milliseconds(frame_ms);
  opt.handshake_timeout = std::chrono::milliseconds(handshake_ms);
  opt.buffer_budget = size_t{budget_mib} << 20;
  if (!SplitNameValues("--device", "NAME=SOCKET", devices, &opt.devices) ||
      !SplitNameValues("--preinstall", "NAME=BINARY", preinstall, &opt.preinstall)) {
    return 2;
  }
  aex::tee::Backend backend;
  if (!aex::tee::ParseBackend(preinstall_type, &backend)) {
    fprintf(stderr, "aex-node: --preinstall-type: unknown platform '%s'\n",
            preinstall_type.c_str());
    return 2;
  }
  opt.preinstall_backend = static_cast<uint8_t>(backend);
  if (aex::Status s = aex::node::CheckTransportSecurity(opt); !s.ok()) {
    fprintf(stderr, "aex-node: %s\n", s.message().c_str());
    return 2;
  }
  if (opt.work_dir.empty()) opt.work_dir = "/tmp/aex-node-" + std::to_string(getpid());
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%H:%M:%S.%e [" + opt.name + "] %^%l%$ %v");
  // A write to a vanished peer must be an error, not a death.
  signal(SIGPIPE, SIG_IGN);
  // Serve as many connections as the system allows (sessions are bounded
  // by --max-sessions anyway).
  rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }

  // Large buffers (a module binary, a burst's read buffer) in their own
  // mappings, returned to the system when freed: with glibc's adaptive
  // threshold they would land on the heap after the first big free and stay
  // resident, so hostile partial frames would raise the RSS for good.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  asio::io_context io(1);
  aex::node::Node node(io, opt);
  aex::Status s = node.Start();
  if (!s.ok()) {
    spdlog::error("{}", s.ToString());
    return 1;
  }
  if (aex::Status pre = node.LoadPreinstalled(); !pre.ok()) {
    spdlog::error("{}", pre.ToString());
    return 1;
  }
  spdlog::info("listening on {}:{}", opt.listen_host, node.port());
  if (opt.tls.cert.empty()) {
    spdlog::warn("plain TCP (--insecure-no-tls): anyone who can connect can load, unload or "
                 "reset modules on this node");
  }
  if (!port_file.empty()) {
    // Written atomically so a watcher never reads a half-written number.
    std::string tmp = port_file + ".tmp";
    if (FILE* f = fopen(tmp.c_str(), "w")) {
      fprintf(f, "%u\n", node.port());
      fclose(f);
      rename(tmp.c_str(), port_file.c_str());
    }
  }
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](const asio::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
    node.Stop();
    io.stop();
  });
  io.run();
  return 0;
}
