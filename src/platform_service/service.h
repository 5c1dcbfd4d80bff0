// The platform service (aex-platform): the simulated TEE hardware of one
// node, in a process of its own. It alone reads the node's platform secrets
// (K_N / the HUK, the SGX quoting key) and serves modules over a Unix socket
// (platform/service_link.h): each connecting process is identified and
// measured from the kernel (peer.h) and gets only its own module key, or
// its own quote. aex-node holds no platform secret and passes none.

#ifndef AEX_PLATFORM_SERVICE_SERVICE_H_
#define AEX_PLATFORM_SERVICE_SERVICE_H_

#include <atomic>
#include <mutex>
#include <set>
#include <string>

#include "aex/status.h"
#include "crypto/crypto.h"
#include "platform/service_link.h"
#include "platform_service/service_wire.h"
#include "platform/sgx/sgx_keys.h"
#include "platform_service/peer.h"

namespace aex::platsvc {

struct ServiceOptions {
  std::string key_file;      // K_N (native, sancus) / HUK (trustzone); created 0600 if missing
  std::string platform_dir;  // sgx quoting key and certificates; created if missing
  std::string socket_path;   // where modules connect
  // false only for in-process tests whose executable is not a static module.
  bool exe_only_mappings = true;
  size_t max_connections = 1024;
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

  // Answers one request of the measured `peer` (what a connection thread
  // does with each message). Public for the fuzz target.
  Bytes Handle(const Peer& peer, ByteSpan request);

 private:
  void Serve(int conn);
  Result<Bytes> Answer(const Peer& peer, const tee::ServiceRequest& r);
  Result<Bytes> ModuleKey(const Peer& peer, const tee::ServiceRequest& r);
  Result<Bytes> Quote(const Peer& peer, const tee::ServiceRequest& r);

  ServiceOptions options_;
  Bytes secret_;  // K_N / the HUK
  tee::sgx::Pkey qe_key_;
  Bytes qe_cert_;
  int listen_fd_ = -1;
  std::atomic<bool> stopped_{false};
  std::atomic<size_t> connections_{0};
  std::mutex mu_;
  std::set<int> open_;  // connected sockets, shut down by Stop
};

}  // namespace aex::platsvc

#endif  // AEX_PLATFORM_SERVICE_SERVICE_H_
