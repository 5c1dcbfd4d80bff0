// aex-node: the event manager of one node.

#include <signal.h>
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
  app.add_option("--key-file", opt.key_file,
                 "simulated platform key K_N (created 0600 if missing)")
      ->required();
  app.add_option("--work-dir", opt.work_dir, "where loaded module binaries are kept");
  app.add_option("--name", opt.name, "node name shown in status")->capture_default_str();
  app.add_option("--call-timeout-ms", timeout_ms, "time a module has to answer a call")
      ->capture_default_str();
  app.add_option("--peer-backlog", opt.peer_backlog,
                 "events queued per unreachable peer before refusing")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  opt.call_timeout = std::chrono::milliseconds(timeout_ms);
  if (opt.work_dir.empty()) opt.work_dir = "/tmp/aex-node-" + std::to_string(getpid());
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%H:%M:%S.%e [" + opt.name + "] %^%l%$ %v");
  // A write to a vanished peer must be an error, not a death.
  signal(SIGPIPE, SIG_IGN);

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
