// aex-platform: the simulated TEE platform of one node, as a process of its
// own (docs/architecture.md, docs/tee.md). Started before aex-node; the only
// process that reads the node key file and the SGX PCK key. Modules
// connect to its socket and get their own keys or quotes.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli_doc.h"
#include <cstdio>
#include <thread>

#include "platform/setup.h"
#include "platform/sgx/sgx_sign.h"
#include "platform_service/service.h"

namespace {

// --provision [--revoke] (platform/setup.h); exit code.
int Provision(const std::string& deployment_dir, const std::string& platform_dir, bool revoke) {
  bool issued = false;
  aex::Status s = revoke ? aex::tee::RevokeSimulatedPlatform(deployment_dir, platform_dir)
                         : aex::tee::ProvisionSimulatedPlatform(deployment_dir, platform_dir,
                                                                &issued);
  if (!s.ok()) {
    fprintf(stderr, "aex-platform: %s\n", s.ToString().c_str());
    return 1;
  }
  printf("%s: %s\n", platform_dir.c_str(),
         revoke   ? "PCK revoked"
         : issued ? "PCK issued under the deployment's root"
                  : "already provisioned by this deployment");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  aex::platsvc::ServiceOptions opt;
  CLI::App app{"aex-platform: the simulated TEE platform of an aex node"};
  app.set_version_flag("--version", std::string("aex-platform ") + AEX_VERSION);
  app.add_option("--key-file", opt.key_file,
                 "the node's platform key: K_N (native, sancus), the HUK (trustzone); created "
                 "0600 if missing")
      ->required();
  app.add_option("--platform-dir", opt.platform_dir,
                 "simulated SGX material (root CA, quoting key), created if missing (default: "
                 "the key file with extension .platform)");
  app.add_option("--socket", opt.socket_path, "Unix socket modules connect to");
  bool init = false;
  app.add_flag("--init", init,
               "create the key file and the platform directory, print them and exit");
  std::string provision;
  bool revoke = false;
  app.add_option("--provision", provision,
                 "DEPLOYMENT_DIR: the deployment's simulated SGX provisioning service (root CA "
                 "and its keys, created if missing): give the platform directory a PCK "
                 "certificate under that root unless it has one, and exit");
  app.add_flag("--revoke", revoke,
               "with --provision: put the platform directory's PCK on the deployment's CRL");
  aex::cli::AddManFlag(&app, "aex-node(1), aex(1)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help, --version; else a usage error
  }
  if (opt.platform_dir.empty()) opt.platform_dir = aex::tee::DefaultPlatformDir(opt.key_file);
  if (!provision.empty()) return Provision(provision, opt.platform_dir, revoke);
  if (revoke) {
    fprintf(stderr, "aex-platform: --revoke needs --provision\n");
    return 2;
  }
  if (init) {
    aex::Status s = aex::tee::EnsureKeyFile(opt.key_file);
    if (s.ok()) s = aex::tee::EnsureSimulatedPlatform(opt.platform_dir);
    if (!s.ok()) {
      fprintf(stderr, "aex-platform: %s\n", s.ToString().c_str());
      return 1;
    }
    printf("key file:      %s\nplatform dir:  %s\nsgx root CA:   %s/%s\n", opt.key_file.c_str(),
           opt.platform_dir.c_str(), opt.platform_dir.c_str(), aex::tee::sgx::kRootCaFile);
    return 0;
  }
  if (opt.socket_path.empty()) {
    fprintf(stderr, "aex-platform: --socket is required (unless --init)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  // SIGINT/SIGTERM are taken by a thread of their own, which stops the
  // service (removing its socket) so the accept loop returns.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  aex::platsvc::PlatformService service(opt);
  if (aex::Status s = service.Start(); !s.ok()) {
    fprintf(stderr, "aex-platform: %s\n", s.ToString().c_str());
    return 1;
  }
  fprintf(stderr, "aex-platform: serving modules on %s\n", opt.socket_path.c_str());
  std::thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    service.Stop();
  }).detach();
  service.Run();
  fflush(stderr);
  _exit(0);  // connection threads may still be blocked; nothing to flush but stderr
}
