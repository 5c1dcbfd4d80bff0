// aex-device: a simulated device (sensor, actuator, button, LED) for one node,
// so that tests and demos can drive what the driver modules read and write.
// The protocol is documented in docs/secure-io.md.
//
//   aex-device serve --socket PATH [--name NAME] [--value V]
//       Holds one value and serves two Unix sockets:
//       PATH      the device side: one driver connection at a time (the node
//                 connects when a driver module claiming the device is loaded
//                 and hands the connection to that module); any further
//                 connection is answered "ERR busy" and closed.
//       PATH.ctl  the physical world: tests and demo scripts.
//   aex-device get SOCKET                prints the value
//   aex-device set SOCKET VALUE          sets it (the driver gets EVENT VALUE)
//   aex-device wait SOCKET VALUE [--timeout S]   until the value is VALUE
//   aex-device status SOCKET             value, owner, counters (key=value)
//   aex-device watch SOCKET              prints every change as it happens
// SOCKET is the device's PATH (PATH.ctl is derived from it).
//
// Lines (both sockets, '\n'-terminated, at most 512 bytes):
//   GET            -> VALUE <v>
//   SET <v>        -> OK            (or ERR <reason>)
//   STATUS         -> STATUS value=<v> driver=<0|1> refused=<n> driver_gets=<n> driver_sets=<n> world_sets=<n>
//   WATCH          -> (control only) EVENT <v> on every later change
// On connecting, a driver gets "DEVICE <name>" (or "ERR busy"). When the
// world changes the value the driver gets "EVENT <v>"; when the driver does,
// watchers do. A value is 1..256 printable characters without spaces.

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t kMaxLine = 512;
constexpr size_t kMaxValue = 256;
constexpr size_t kMaxClients = 64;

volatile sig_atomic_t g_stop = 0;

bool ValidValue(const std::string& v) {
  if (v.empty() || v.size() > kMaxValue) return false;
  for (unsigned char c : v) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool MakeAddr(const std::string& path, sockaddr_un* addr) {
  if (path.size() >= sizeof addr->sun_path) {
    fprintf(stderr, "aex-device: socket path too long (max %zu): %s\n",
            sizeof addr->sun_path - 1, path.c_str());
    return false;
  }
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

int Listen(const std::string& path) {
  sockaddr_un addr;
  if (!MakeAddr(path, &addr)) return -1;
  unlink(path.c_str());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  mode_t old = umask(077);  // only this user may connect
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  umask(old);
  if (rc != 0 || listen(fd, 16) != 0) {
    fprintf(stderr, "aex-device: cannot listen on %s: %s\n", path.c_str(), strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, 1000) <= 0) return;  // a stuck reader loses lines, not the device
      continue;
    }
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

struct Client {
  int fd;
  bool driver;
  bool watching = false;
  std::string in{};
};

class Device {
 public:
  Device(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}

  int Serve(const std::string& path) {
    int driver_listen = Listen(path);
    int control_listen = Listen(path + ".ctl");
    if (driver_listen < 0 || control_listen < 0) return 1;
    fprintf(stderr, "aex-device: %s serving %s (control %s.ctl), value %s\n", name_.c_str(),
            path.c_str(), path.c_str(), value_.c_str());
    while (!g_stop) {
      std::vector<pollfd> fds = {{driver_listen, POLLIN, 0}, {control_listen, POLLIN, 0}};
      for (const Client& c : clients_) fds.push_back({c.fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 500) < 0) continue;
      if (fds[0].revents) Accept(driver_listen, true);
      if (fds[1].revents) Accept(control_listen, false);
      // Clients may be added or removed while serving: index by fd.
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents) Read(fds[i].fd);
      }
    }
    for (Client& c : clients_) close(c.fd);
    unlink(path.c_str());
    unlink((path + ".ctl").c_str());
    return 0;
  }

 private:
  void Accept(int listen_fd, bool driver) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    if (driver && HasDriver()) {
      // Exclusive: one driver at a time.
      ++refused_;
      WriteAll(fd, "ERR busy\n");
      close(fd);
      fprintf(stderr, "aex-device: %s refused a second driver connection\n", name_.c_str());
      return;
    }
    if (clients_.size() >= kMaxClients) {
      WriteAll(fd, "ERR too many clients\n");
      close(fd);
      return;
    }
    clients_.push_back({fd, driver});
    if (driver) {
      WriteAll(fd, "DEVICE " + name_ + "\n");
      fprintf(stderr, "aex-device: %s driver connected\n", name_.c_str());
    }
  }

  bool HasDriver() const {
    for (const Client& c : clients_) {
      if (c.driver) return true;
    }
    return false;
  }

  Client* Find(int fd) {
    for (Client& c : clients_) {
      if (c.fd == fd) return &c;
    }
    return nullptr;
  }

  void Drop(int fd) {
    for (size_t i = 0; i < clients_.size(); ++i) {
      if (clients_[i].fd != fd) continue;
      if (clients_[i].driver) fprintf(stderr, "aex-device: %s driver disconnected\n", name_.c_str());
      close(fd);
      clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }

  void Read(int fd) {
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) return Drop(fd);
    Client* c = Find(fd);
    if (!c) return;
    c->in.append(buf, static_cast<size_t>(n));
    for (;;) {
      c = Find(fd);  // Handle may drop clients
      if (!c) return;
      auto nl = c->in.find('\n');
      if (nl == std::string::npos) {
        if (c->in.size() > kMaxLine) {
          WriteAll(fd, "ERR line too long\n");
          Drop(fd);
        }
        return;
      }
      std::string line = c->in.substr(0, nl);
      c->in.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      Handle(*c, line);
    }
  }

  void Handle(Client& c, const std::string& line) {
    if (line == "GET") {
      if (c.driver) ++driver_gets_;
      return WriteAll(c.fd, "VALUE " + value_ + "\n");
    }
    if (line.rfind("SET ", 0) == 0) {
      std::string v = line.substr(4);
      if (!ValidValue(v)) return WriteAll(c.fd, "ERR bad value\n");
      c.driver ? ++driver_sets_ : ++world_sets_;
      bool changed = v != value_;
      value_ = v;
      WriteAll(c.fd, "OK\n");
      if (changed) {
        fprintf(stderr, "aex-device: %s = %s (set by the %s)\n", name_.c_str(), value_.c_str(),
                c.driver ? "driver" : "world");
        Notify(c.fd);
      }
      return;
    }
    if (line == "STATUS") {
      return WriteAll(c.fd, "STATUS value=" + value_ + " driver=" + (HasDriver() ? "1" : "0") +
                                " refused=" + std::to_string(refused_) +
                                " driver_gets=" + std::to_string(driver_gets_) +
                                " driver_sets=" + std::to_string(driver_sets_) +
                                " world_sets=" + std::to_string(world_sets_) + "\n");
    }
    if (line == "WATCH" && !c.driver) {
      c.watching = true;
      return WriteAll(c.fd, "OK\n");
    }
    WriteAll(c.fd, "ERR unknown command\n");
  }

  // Tells the driver and the watchers, except the one that made the change.
  void Notify(int from) {
    std::string ev = "EVENT " + value_ + "\n";
    for (const Client& c : clients_) {
      if (c.fd != from && (c.driver || c.watching)) WriteAll(c.fd, ev);
    }
  }

  std::string name_, value_;
  std::vector<Client> clients_;
  uint64_t refused_ = 0, driver_gets_ = 0, driver_sets_ = 0, world_sets_ = 0;
};

// ------------------------------------------------------------ the client

std::string ControlPath(std::string sock) {
  if (sock.size() < 4 || sock.compare(sock.size() - 4, 4, ".ctl") != 0) sock += ".ctl";
  return sock;
}

int Connect(const std::string& sock) {
  sockaddr_un addr;
  std::string path = ControlPath(sock);
  if (!MakeAddr(path, &addr)) return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    fprintf(stderr, "aex-device: cannot connect to %s: %s\n", path.c_str(), strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

// Reads one line (blocking, 5 s at most).
bool ReadLine(int fd, std::string* pending, std::string* line) {
  for (;;) {
    auto nl = pending->find('\n');
    if (nl != std::string::npos) {
      *line = pending->substr(0, nl);
      pending->erase(0, nl + 1);
      return true;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return false;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    pending->append(buf, static_cast<size_t>(n));
  }
}

bool Ask(const std::string& sock, const std::string& cmd, std::string* reply) {
  int fd = Connect(sock);
  if (fd < 0) return false;
  WriteAll(fd, cmd + "\n");
  std::string pending;
  bool ok = ReadLine(fd, &pending, reply);
  close(fd);
  if (!ok) fprintf(stderr, "aex-device: no answer from %s\n", sock.c_str());
  return ok;
}

int Usage() {
  fprintf(stderr,
          "usage: aex-device serve --socket PATH [--name NAME] [--value V]\n"
          "       aex-device get|status|watch SOCKET\n"
          "       aex-device set SOCKET VALUE\n"
          "       aex-device wait SOCKET VALUE [--timeout SECONDS]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string cmd = argv[1];
  signal(SIGPIPE, SIG_IGN);
  if (cmd == "serve") {
    std::string path, name = "device", value = "0";
    for (int i = 2; i + 1 < argc; i += 2) {
      std::string flag = argv[i];
      if (flag == "--socket") path = argv[i + 1];
      else if (flag == "--name") name = argv[i + 1];
      else if (flag == "--value") value = argv[i + 1];
      else return Usage();
    }
    if (path.empty() || !ValidValue(value) || !ValidValue(name)) return Usage();
    struct sigaction sa {};
    sa.sa_handler = [](int) { g_stop = 1; };
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    return Device(name, value).Serve(path);
  }
  if (argc < 3) return Usage();
  std::string sock = argv[2], reply;
  if (cmd == "get" || cmd == "status") {
    if (!Ask(sock, cmd == "get" ? "GET" : "STATUS", &reply)) return 1;
    std::string prefix = cmd == "get" ? "VALUE " : "STATUS ";
    if (reply.rfind(prefix, 0) != 0) {
      fprintf(stderr, "aex-device: %s\n", reply.c_str());
      return 1;
    }
    printf("%s\n", reply.substr(prefix.size()).c_str());
    return 0;
  }
  if (cmd == "set") {
    if (argc != 4) return Usage();
    if (!ValidValue(argv[3])) {
      fprintf(stderr, "aex-device: a value is 1..256 printable characters without spaces\n");
      return 2;
    }
    if (!Ask(sock, std::string("SET ") + argv[3], &reply)) return 1;
    if (reply != "OK") {
      fprintf(stderr, "aex-device: %s\n", reply.c_str());
      return 1;
    }
    return 0;
  }
  if (cmd == "wait") {
    if (argc != 4 && argc != 6) return Usage();
    double timeout = 10;
    if (argc == 6) {
      if (std::string(argv[4]) != "--timeout") return Usage();
      timeout = atof(argv[5]);
    }
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(static_cast<long>(timeout * 1000));
    for (;;) {
      if (Ask(sock, "GET", &reply) && reply == std::string("VALUE ") + argv[3]) return 0;
      if (std::chrono::steady_clock::now() > deadline) {
        fprintf(stderr, "aex-device: %s is '%s', not '%s', after %.1f s\n", sock.c_str(),
                reply.rfind("VALUE ", 0) == 0 ? reply.substr(6).c_str() : reply.c_str(), argv[3],
                timeout);
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (cmd == "watch") {
    int fd = Connect(sock);
    if (fd < 0) return 1;
    WriteAll(fd, "WATCH\n");
    std::string pending, line;
    for (;;) {
      auto nl = pending.find('\n');
      if (nl != std::string::npos) {
        line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (line.rfind("EVENT ", 0) == 0) {
          printf("%s\n", line.substr(6).c_str());
          fflush(stdout);
        }
        continue;
      }
      char buf[1024];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return 0;
      pending.append(buf, static_cast<size_t>(n));
    }
  }
  return Usage();
}
