#include "node/devices.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace aex::node {

namespace {

// Reads one line, byte by byte so that nothing after it is consumed (what
// follows belongs to the module).
Status ReadLine(int fd, std::string* line, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  line->clear();
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status(Code::kTimeout, "device did not greet in time");
    pollfd p{fd, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("device closed the connection");
    if (c == '\n') return Status::Ok();
    if (line->size() >= 256) return Status(Code::kProtocol, "device greeting too long");
    line->push_back(c);
  }
}

}  // namespace

Result<UniqueFd> ConnectDevice(const std::string& name, const std::string& socket_path,
                               std::chrono::milliseconds wait) {
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof addr.sun_path) {
    return InvalidArgument("device socket path too long: " + socket_path);
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    UniqueFd raw(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (raw.get() < 0) return Status(Code::kIo, "socket failed");
    if (connect(raw.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return Unavailable("device " + name + " unreachable at " + socket_path + ": " +
                         strerror(errno));
    }
    // Above 4, so that placing the channel (3) and the device (4) in the
    // module cannot clobber it.
    UniqueFd fd(fcntl(raw.get(), F_DUPFD_CLOEXEC, 10));
    if (fd.get() < 0) return Status(Code::kIo, "fcntl failed");
    std::string line;
    AEX_RETURN_IF_ERROR(ReadLine(fd.get(), &line, std::chrono::milliseconds(1000)));
    if (line == "DEVICE " + name) return fd;
    if (line != "ERR busy") {
      return Status(Code::kProtocol, "unexpected greeting from device " + name);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(Code::kPermissionDenied,
                    "device " + name + " is held by another driver connection");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace aex::node
