// Devices attached to a node (docs/secure-io.md). Each is simulated by an
// aex-device process serving a Unix socket; the node connects to it when a
// module claiming the device is loaded and hands the connected descriptor to
// that module only (as fd 4). The node keeps no copy and offers no device
// operation on its command interface.
//
// Honest scope: here the untrusted node makes the assignment. On hardware
// the TEE enforces it (e.g. Sancus protects the device's MMIO range so that
// only the driver module can touch it).

#ifndef AEX_NODE_DEVICES_H_
#define AEX_NODE_DEVICES_H_

#include <unistd.h>

#include <chrono>
#include <string>

#include "aex/status.h"

namespace aex::node {

// The descriptor a module's device arrives on.
constexpr int kModuleDeviceFd = 4;

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Connects to the driver socket of device `name` and checks its greeting
// ("DEVICE <name>"). A simulator serves one driver at a time and answers
// "ERR busy" to others; a busy device is retried until `wait` has passed
// (its previous owner may just have exited). The descriptor is close-on-exec
// and numbered above the module's fixed descriptors.
Result<UniqueFd> ConnectDevice(const std::string& name, const std::string& socket_path,
                               std::chrono::milliseconds wait = std::chrono::milliseconds(1000));

}  // namespace aex::node

#endif  // AEX_NODE_DEVICES_H_
