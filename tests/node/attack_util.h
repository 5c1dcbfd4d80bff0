// Helpers for tests that attack a real aex-node process on loopback: raw TCP
// connections (from any 127.0.0.0/8 source address), the node's memory and
// descriptors from /proc, and a deployment's TLS material as `aex tls init`
// makes it.

#ifndef AEX_TESTS_NODE_ATTACK_UTIL_H_
#define AEX_TESTS_NODE_ATTACK_UTIL_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "deployer/node_tls.h"

namespace aex::itest {

// A blocking TCP connection to 127.0.0.1:port from `source` (any loopback
// address: the kernel routes all of 127.0.0.0/8 locally), every read and
// write bounded by 5 s. -1 on failure.
inline int ConnectTcp(uint16_t port, const char* source = "127.0.0.1") {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// A one-node deployment (node "n1" on 127.0.0.1) with its TLS material in
// `dir`, as `aex tls init` makes it.
inline deploy::Descriptor Deployment(const std::string& dir) {
  deploy::Descriptor d;
  d.base_dir = dir;
  deploy::Node n;
  n.name = "n1";
  n.host = "127.0.0.1";
  n.tls = true;
  d.nodes.push_back(n);
  auto made = deploy::EnsureTlsMaterial(d);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return d;
}

// aex-node's arguments for the first node of `d`.
inline std::vector<std::string> NodeTlsArgs(const deploy::Descriptor& d) {
  tls::Files f = deploy::NodeTlsFiles(d, d.nodes[0]);
  return {"--tls-cert", f.cert, "--tls-key", f.key, "--tls-ca", f.ca};
}

// Resident memory of a process in MiB (VmRSS), or -1.
inline double RssMiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kib = 0;
      in >> kib;
      return kib / 1024;
    }
    in.ignore(1 << 12, '\n');
  }
  return -1;
}

// Open descriptors of a process.
inline size_t OpenDescriptors(pid_t pid) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// Raises this process's descriptor limit to its hard limit (the node, a
// child, inherits it and raises its own too). Returns the soft limit now.
inline size_t RaiseDescriptorLimit() {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
  getrlimit(RLIMIT_NOFILE, &r);
  return r.rlim_cur == RLIM_INFINITY ? size_t{1} << 20 : static_cast<size_t>(r.rlim_cur);
}

}  // namespace aex::itest

#endif  // AEX_TESTS_NODE_ATTACK_UTIL_H_
