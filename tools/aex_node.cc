// aex-node: the event manager of one node.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <cstdio>
#include <spdlog/spdlog.h>

#include "node/node.h"

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
  std::vector<std::string> devices;
  app.add_option("--device", devices,
                 "NAME=SOCKET: a device attached to this node, served by an aex-device "
                 "simulator at SOCKET (repeatable)");
  app.add_flag("--sgx-debug", opt.sgx_debug, "launch sgx modules as debug enclaves");
  app.add_option("--name", opt.name, "node name shown in status")->capture_default_str();
  app.add_option("--call-timeout-ms", timeout_ms, "time a module has to answer a call")
      ->capture_default_str();
  app.add_option("--peer-backlog", opt.peer_backlog,
                 "events queued per unreachable peer before refusing")
      ->capture_default_str();
  app.add_option("--tls-cert", opt.tls.cert,
                 "this node's TLS certificate (PEM, from `aex tls init`); with --tls-key and "
                 "--tls-ca every connection is mutual TLS 1.3");
  app.add_option("--tls-key", opt.tls.key, "this node's TLS private key (PEM)");
  app.add_option("--tls-ca", opt.tls.ca, "the deployment CA certificate (PEM)");
  app.add_flag("--insecure-no-tls", opt.insecure_no_tls,
               "allow plain TCP on a non-loopback address: anyone who can reach the port can "
               "then load, unload or reset modules");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  opt.call_timeout = std::chrono::milliseconds(timeout_ms);
  for (const std::string& d : devices) {
    auto eq = d.find('=');
    if (eq == 0 || eq == std::string::npos || eq + 1 == d.size()) {
      fprintf(stderr, "aex-node: --device expects NAME=SOCKET, got '%s'\n", d.c_str());
      return 2;
    }
    opt.devices[d.substr(0, eq)] = d.substr(eq + 1);
  }
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

  asio::io_context io(1);
  aex::node::Node node(io, opt);
  aex::Status s = node.Start();
  if (!s.ok()) {
    spdlog::error("{}", s.ToString());
    return 1;
  }
  spdlog::info("listening on {}:{}", opt.listen_host, node.port());
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
