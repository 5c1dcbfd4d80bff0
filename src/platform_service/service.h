// The platform service (aex-platform): the simulated TEE hardware of one
// node, in a process of its own. It alone reads the node's platform secrets
// (K_N / the HUK, the SGX PCK key) and serves modules over a Unix socket
// (platform/service_link.h): each connecting process is identified and
// measured from the kernel (peer.h) and gets only its own module key, or
// its own quote. aex-node holds no platform secret and passes none.

#ifndef AEX_PLATFORM_SERVICE_SERVICE_H_
#define AEX_PLATFORM_SERVICE_SERVICE_H_

#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "aex/status.h"
#include "attest/dcap/sim.h"
#include "crypto/crypto.h"
#include "platform/service_link.h"
#include "platform_service/service_wire.h"
#include "platform/sgx/sgx_sign.h"
#include "platform_service/peer.h"

namespace aex::platsvc {

struct ServiceOptions {
  std::string key_file;      // K_N (native, sancus) / HUK (trustzone); created 0600 if missing
  std::string platform_dir;  // sgx provisioning hierarchy (setup.h); created if missing
  std::string socket_path;   // where modules connect
  // false only for in-process tests whose executable is not a static module.
  bool exe_only_mappings = true;
  size_t max_connections = 1024;
};

// What EINIT fixed for the enclave at the other end of one connection (sgx):
// set once, for the instance's life.
struct EnclaveState {
  bool initialised = false;
  crypto::Digest mrsigner{};
};

class PlatformService {
 public:
  explicit PlatformService(ServiceOptions options) : options_(std::move(options)) {}
  ~PlatformService();

  // Creates the key material if missing, loads it and listens. The socket
  // appears at socket_path only once it accepts connections (bound under a
  // temporary name, then renamed), so a waiter can poll for the file.
  Status Start();
  // Serves until Stop(); one thread per connected module.
  void Run();
  void Stop();

  // Answers one request of the measured `peer`, whose enclave state is
  // `*enclave` (what a connection thread does with each message). Public for
  // the fuzz target.
  Bytes Handle(const Peer& peer, ByteSpan request, EnclaveState* enclave);

 private:
  void Serve(int conn);
  Result<Bytes> Answer(const Peer& peer, const tee::ServiceRequest& r, EnclaveState* enclave);
  Result<Bytes> ModuleKey(const Peer& peer, const tee::ServiceRequest& r);
  Result<Bytes> Einit(const Peer& peer, const tee::ServiceRequest& r, EnclaveState* enclave);
  Result<Bytes> Quote(const Peer& peer, const tee::ServiceRequest& r, const EnclaveState& enclave);

  ServiceOptions options_;
  Bytes secret_;  // K_N / the HUK
  // The simulated Quoting Enclave (its PCK key's QE report, a fresh
  // attestation key per start) and the collateral shipped with its quotes.
  std::optional<dcap::sim::QuotingEnclave> qe_;
  std::string collateral_;
  int listen_fd_ = -1;
  std::atomic<bool> stopped_{false};
  std::atomic<size_t> connections_{0};
  std::mutex mu_;
  std::set<int> open_;  // connected sockets, shut down by Stop
};

}  // namespace aex::platsvc

#endif  // AEX_PLATFORM_SERVICE_SERVICE_H_
