// bench/latency: event latency, throughput, attestation time and memory of
// real aex-node processes and real module processes on loopback, each next to
// a baseline measured in the same run.
//
//   latency [--iterations N] [--blast N] [--repeat R] [--soak N] [--soak-blast N]
//
// --soak N: only set up, print the pids of nodes and modules, then run N
// event round trips across nodes (for attaching perf or strace), and exit.
// --soak-blast N: the same, but R blasts of N 64-byte events across nodes
// (system calls per burst: strace -c -f -p <node a> -p <node b>).
//
// Figures (RESULT lines at the end are parsed by bench/run):
//  - bare TCP ping-pong between two processes over loopback (the baseline);
//  - a bare relay chain with the same process topology as aex, no crypto,
//    blocking I/O: driver -unix- relayA -tcp- relayB -unix- echo (two nodes)
//    and driver -unix- relay -unix- echo (one node); the floor of the design;
//  - aex across two nodes and on one node: event round trip (driver.ping_out
//    -> echo.ping_in -> echo.pong_out -> driver.pong_in), its one-way halves
//    (CLOCK_MONOTONIC stamped in both modules) and request round trip;
//  - throughput: the driver emits N 64-byte events in a loop, the echo module
//    counts them; events/s = N / (last arrival - first send);
//  - attestation time per module (native backend), RSS of nodes and modules.
//
// Uses the integration-test harness (tests/integration/harness.h) to start
// nodes and to load, attest and wire modules the way the deployer does.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace {

using aex::Bytes;
using aex::Status;
using namespace aex::itest;
using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------------ output

std::vector<std::string> g_results;

void Result(const std::string& key, double value) {
  char line[256];
  std::snprintf(line, sizeof line, "RESULT %s %.6g", key.c_str(), value);
  g_results.push_back(line);
}

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "latency: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Check(const std::string& what, aex::Result<T> r) {
  if (!r.ok()) Die(what, r.status());
  return std::move(r).value();
}

void Check(const std::string& what, const Status& s) {
  if (!s.ok()) Die(what, s);
}

struct Stats {
  double p50 = 0, p99 = 0, min = 0, mean = 0;
  size_t n = 0;
};

// Nanosecond samples -> microsecond statistics.
Stats Summarize(std::vector<double> ns) {
  Stats s;
  s.n = ns.size();
  if (ns.empty()) return s;
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(ns.size() - 1) + 0.5);
    return ns[std::min(i, ns.size() - 1)] / 1000.0;
  };
  s.p50 = at(0.50);
  s.p99 = at(0.99);
  s.min = ns.front() / 1000.0;
  double sum = 0;
  for (double v : ns) sum += v;
  s.mean = sum / static_cast<double>(ns.size()) / 1000.0;
  return s;
}

void Report(const std::string& key, const std::string& label, const Stats& s) {
  std::printf("  %-46s p50 %8.1f us  p99 %8.1f us  min %7.1f us  (n=%zu)\n", label.c_str(),
              s.p50, s.p99, s.min, s.n);
  Result(key + ".p50_us", s.p50);
  Result(key + ".p99_us", s.p99);
}

// ------------------------------------------------------- bare baselines

bool ReadExact(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      return false;
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool WriteAll(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t r = write(fd, p, n);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      return false;
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

void NoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// A connected loopback TCP pair (fds[0] connected to fds[1]), both NODELAY.
bool TcpPair(int fds[2]) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(l, 1) != 0 ||
      getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(l);
    return false;
  }
  int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(l);
    close(c);
    return false;
  }
  int s = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
  close(l);
  if (s < 0) {
    close(c);
    return false;
  }
  NoDelay(c);
  NoDelay(s);
  fds[0] = c;
  fds[1] = s;
  return true;
}

pid_t ForkChild(const std::function<void()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    body();
    _exit(0);
  }
  return pid;
}

// Ping-pong of `size` bytes, `n` times, from this process over link 0 of a
// chain: links[i] joins hop i and hop i+1; hops 1..k relay both ways, the
// last hop echoes. `tcp[i]` picks TCP or a unix socketpair for link i.
// With one TCP link and no relay this is the bare TCP round trip.
std::vector<double> ChainPingPong(const std::vector<bool>& tcp, int n, size_t size) {
  std::vector<std::array<int, 2>> links(tcp.size());
  for (size_t i = 0; i < tcp.size(); ++i) {
    int fds[2];
    bool ok = tcp[i] ? TcpPair(fds) : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0;
    if (!ok) {
      std::perror("socket pair");
      std::exit(1);
    }
    links[i] = {fds[0], fds[1]};
  }
  std::vector<pid_t> children;
  for (size_t hop = 1; hop <= links.size(); ++hop) {
    int left = links[hop - 1][1];
    int right = hop < links.size() ? links[hop][0] : -1;
    children.push_back(ForkChild([=] {
      std::vector<uint8_t> buf(size);
      for (;;) {
        if (!ReadExact(left, buf.data(), size)) return;
        if (right < 0) {  // echo
          if (!WriteAll(left, buf.data(), size)) return;
          continue;
        }
        if (!WriteAll(right, buf.data(), size) || !ReadExact(right, buf.data(), size) ||
            !WriteAll(left, buf.data(), size)) {
          return;
        }
      }
    }));
  }
  std::vector<uint8_t> buf(size, 0x5a);
  std::vector<double> ns;
  ns.reserve(static_cast<size_t>(n));
  const int fd = links[0][0];
  for (int i = 0; i < n + n / 10; ++i) {  // the first tenth warms up
    auto t0 = Clock::now();
    if (!WriteAll(fd, buf.data(), size) || !ReadExact(fd, buf.data(), size)) break;
    auto dt = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    if (i >= n / 10) ns.push_back(dt);
  }
  for (auto& l : links) {
    close(l[0]);
    close(l[1]);
  }
  for (pid_t p : children) {
    kill(p, SIGKILL);
    waitpid(p, nullptr, 0);
  }
  return ns;
}

// Streams n messages of `size` bytes, one write() each (as the runtime emits
// events), through a chain of relays that forward in bulk, to a sink that
// answers one byte when all arrived. Returns messages per second.
double ChainStream(const std::vector<bool>& tcp, int n, size_t size) {
  std::vector<std::array<int, 2>> links(tcp.size());
  for (size_t i = 0; i < tcp.size(); ++i) {
    int fds[2];
    bool ok = tcp[i] ? TcpPair(fds) : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0;
    if (!ok) {
      std::perror("socket pair");
      std::exit(1);
    }
    links[i] = {fds[0], fds[1]};
  }
  std::vector<pid_t> children;
  const size_t total = static_cast<size_t>(n) * size;
  for (size_t hop = 1; hop <= links.size(); ++hop) {
    int in = links[hop - 1][1];
    int out = hop < links.size() ? links[hop][0] : -1;
    children.push_back(ForkChild([=] {
      std::vector<uint8_t> buf(64 * 1024);
      size_t got = 0;
      while (got < total) {
        ssize_t r = read(in, buf.data(), buf.size());
        if (r <= 0) return;
        got += static_cast<size_t>(r);
        if (out >= 0 && !WriteAll(out, buf.data(), static_cast<size_t>(r))) return;
      }
      if (out < 0) {
        uint8_t done = 1;
        WriteAll(in, &done, 1);
      } else {  // pass the sink's answer back
        uint8_t done;
        if (ReadExact(out, &done, 1)) WriteAll(in, &done, 1);
      }
    }));
  }
  std::vector<uint8_t> msg(size, 0xa5);
  const int fd = links[0][0];
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (!WriteAll(fd, msg.data(), size)) break;
  }
  uint8_t done = 0;
  bool ok = ReadExact(fd, &done, 1);
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& l : links) {
    close(l[0]);
    close(l[1]);
  }
  for (pid_t p : children) {
    kill(p, SIGKILL);
    waitpid(p, nullptr, 0);
  }
  return ok ? n / secs : 0;
}

// ------------------------------------------------------------- resources

struct Rss {
  long total_kib = -1, anon_kib = -1, file_kib = -1, pss_kib = -1;
};

Rss ReadRss(pid_t pid) {
  Rss r;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  long value;
  std::string line;
  while (std::getline(in, line)) {
    if (std::sscanf(line.c_str(), "VmRSS: %ld", &value) == 1) r.total_kib = value;
    if (std::sscanf(line.c_str(), "RssAnon: %ld", &value) == 1) r.anon_kib = value;
    if (std::sscanf(line.c_str(), "RssFile: %ld", &value) == 1) r.file_kib = value;
  }
  // Proportional set size: shared library pages divided among their users.
  std::ifstream rollup("/proc/" + std::to_string(pid) + "/smaps_rollup");
  while (std::getline(rollup, line)) {
    if (std::sscanf(line.c_str(), "Pss: %ld", &value) == 1) r.pss_kib = value;
  }
  return r;
}

void ReportRss(const std::string& key, const std::string& label, const Rss& r) {
  std::printf("  %-46s %6.2f MiB (anon %.2f, file %.2f; PSS %.2f)\n", label.c_str(),
              r.total_kib / 1024.0, r.anon_kib / 1024.0, r.file_kib / 1024.0, r.pss_kib / 1024.0);
  Result(key + ".rss_mib", r.total_kib / 1024.0);
  Result(key + ".anon_mib", r.anon_kib / 1024.0);
  Result(key + ".pss_mib", r.pss_kib / 1024.0);
}

// ------------------------------------------------------------ aex figures

constexpr uint32_t kDriverPingOut = 0, kDriverBlastOut = 1, kDriverPongIn = 0,
                   kDriverRequest = 0;
constexpr uint32_t kEntryLatStart = 0, kEntryLatSamples = 1, kEntryReqLoop = 2, kEntryBlast = 3;
constexpr uint32_t kEchoPongOut = 0, kEchoPingIn = 0, kEchoSinkIn = 1, kEchoHandler = 0;
constexpr uint32_t kEntrySinkStats = 0, kEntrySinkReset = 1;

Bytes Args(std::initializer_list<uint32_t> v) {
  Bytes b(v.size() * 4);
  size_t i = 0;
  for (uint32_t x : v) std::memcpy(b.data() + 4 * (i++), &x, 4);
  return b;
}

uint32_t U32At(const Bytes& b, size_t at) {
  uint32_t v = 0;
  if (at + 4 <= b.size()) std::memcpy(&v, b.data() + at, 4);
  return v;
}

uint64_t U64At(const Bytes& b, size_t at) {
  uint64_t v = 0;
  if (at + 8 <= b.size()) std::memcpy(&v, b.data() + at, 8);
  return v;
}

struct Pair {
  TestModule* driver;
  TestModule* echo;
};

struct EventRtt {
  std::vector<double> rtt, fwd, back;
};

// n event round trips, one at a time, timed inside the modules.
EventRtt EventRoundTrips(TestDeployer& d, TestModule& driver, uint32_t n) {
  Check("lat_start", d.CallEntry(driver, kEntryLatStart, Args({n, 32})));
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (;;) {
    // Coarse polling: each poll is one entry call on the driver between pongs.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    Bytes st = Check("lat_samples", d.CallEntry(driver, kEntryLatSamples));
    if (U32At(st, 0) >= n) break;
    if (Clock::now() > deadline) {
      std::fprintf(stderr, "latency: event round trips stalled at %u of %u\n", U32At(st, 0), n);
      std::exit(1);
    }
  }
  Bytes all = Check("lat_samples", d.CallEntry(driver, kEntryLatSamples, Args({1})));
  EventRtt r;
  uint32_t done = U32At(all, 0);
  for (uint32_t i = 0; i < done; ++i) {
    r.rtt.push_back(U32At(all, 8 + 12 * i));
    r.fwd.push_back(U32At(all, 12 + 12 * i));
    r.back.push_back(U32At(all, 16 + 12 * i));
  }
  return r;
}

std::vector<double> RequestRoundTrips(TestDeployer& d, TestModule& driver, uint32_t n) {
  Bytes r = Check("req_loop", d.CallEntry(driver, kEntryReqLoop, Args({n, 32})));
  std::vector<double> ns;
  for (uint32_t i = 0; i < U32At(r, 0); ++i) ns.push_back(U32At(r, 4 + 4 * i));
  return ns;
}

struct Throughput {
  double events_per_s = 0, sender_per_s = 0;
  uint64_t sent = 0, received = 0;
};

Throughput Blast(TestDeployer& d, Pair p, uint32_t n, uint32_t size) {
  Check("sink_reset", d.CallEntry(*p.echo, kEntrySinkReset));
  Bytes r = Check("blast", d.CallEntry(*p.driver, kEntryBlast, Args({n, size})));
  Throughput t;
  uint64_t t0 = U64At(r, 0), t1 = U64At(r, 8);
  t.sent = U32At(r, 16);
  t.sender_per_s = t.sent / ((t1 - t0) / 1e9);
  uint64_t last_count = 0;
  auto last_progress = Clock::now();
  Bytes st;
  for (;;) {
    st = Check("sink_stats", d.CallEntry(*p.echo, kEntrySinkStats));
    uint64_t got = U64At(st, 0);
    if (got >= t.sent) break;
    if (got != last_count) {
      last_count = got;
      last_progress = Clock::now();
    } else if (Clock::now() - last_progress > std::chrono::seconds(2)) {
      break;  // stalled: report what arrived
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  t.received = U64At(st, 0);
  uint64_t t_last = U64At(st, 24);
  t.events_per_s = t.received / ((t_last - t0) / 1e9);
  return t;
}

void Wire(TestDeployer& d, Pair p) {
  Check("connect ping", d.Connect(*p.driver, kDriverPingOut, *p.echo, kEchoPingIn));
  Check("connect pong", d.Connect(*p.echo, kEchoPongOut, *p.driver, kDriverPongIn));
  Check("connect request", d.ConnectRequest(*p.driver, kDriverRequest, *p.echo, kEchoHandler));
  Check("connect blast", d.Connect(*p.driver, kDriverBlastOut, *p.echo, kEchoSinkIn));
}

// GET /metrics from a node on loopback; the body's size (0 on failure).
size_t ScrapeMetrics(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  size_t got = 0;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const char req[] = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
    if (write(fd, req, sizeof req - 1) == static_cast<ssize_t>(sizeof req - 1)) {
      char buf[16384];
      for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) got += static_cast<size_t>(n);
    }
  }
  close(fd);
  return got;
}

// Scrapes the nodes' /metrics every `period` while alive: the "metrics
// enabled" side of the metrics-cost row (Prometheus scrapes every 15-60 s by
// default; 10 times a second is the pessimistic case).
class Scraper {
 public:
  Scraper(std::vector<uint16_t> ports, std::chrono::milliseconds period)
      : thread_([this, ports, period] {
          while (!stop_.load()) {
            for (uint16_t p : ports) scraped_bytes_ += ScrapeMetrics(p);
            ++scrapes_;
            std::this_thread::sleep_for(period);
          }
        }) {}
  ~Scraper() {
    stop_ = true;
    thread_.join();
  }
  uint64_t scrapes() const { return scrapes_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> scrapes_{0}, scraped_bytes_{0};
  std::thread thread_;
};

pid_t ModulePid(TestDeployer& d, TestModule& m) {
  auto st = d.ModuleStatus(m);
  return st.ok() ? st->value("pid", -1) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t iterations = 5000, blast = 200000, repeat = 3, soak = 0, soak_blast = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    uint32_t v = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    if (f == "--iterations") iterations = std::min<uint32_t>(v, 20000);
    else if (f == "--blast") blast = v;
    else if (f == "--repeat") repeat = std::max<uint32_t>(v, 1);
    else if (f == "--soak") soak = v;
    else if (f == "--soak-blast") soak_blast = v;
    else {
      std::fprintf(stderr, "usage: latency [--iterations N] [--blast N] [--repeat R] [--soak N] "
                           "[--soak-blast N]\n");
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  // Whole lines: the nodes' log lines share this output, and a RESULT line
  // cut by one is lost to bench/run (a pipe is otherwise block-buffered).
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  TempDir dir;
  NodeProcess a(dir.Sub("a"), NodeConfig{"bench-a", 0, "warn"});
  NodeProcess b(dir.Sub("b"), NodeConfig{"bench-b", 0, "warn"});
  NodeProcess idle(dir.Sub("idle"), NodeConfig{"bench-idle", 0, "warn"});
  Check("start node a", a.Start());
  Check("start node b", b.Start());
  Check("start idle node", idle.Start());
  // The metrics-cost pair: the same two nodes, serving /metrics.
  const NodeConfig with_metrics[] = {
      {"bench-ma", 0, "warn", {"--metrics-listen", "127.0.0.1:0"}},
      {"bench-mb", 0, "warn", {"--metrics-listen", "127.0.0.1:0"}}};
  NodeProcess ma(dir.Sub("ma"), with_metrics[0]);
  NodeProcess mb(dir.Sub("mb"), with_metrics[1]);
  Check("start node ma", ma.Start());
  Check("start node mb", mb.Start());

  // Load and attest: driver and echo across nodes, and a pair on one node.
  TestDeployer d;
  std::vector<double> load_ms, attest_ms, reattest_ms;
  auto ms_since = [](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  };
  // Load, then attest at once (the module is still starting: this includes
  // its platform initialisation), then attest again (a running module).
  auto load = [&](NodeProcess& node, const char* bin, const char* name) {
    auto t0 = Clock::now();
    TestModule* m = Check(std::string("load ") + name, d.LoadOnly(node, bin, name));
    load_ms.push_back(ms_since(t0));
    t0 = Clock::now();
    Check(std::string("attest ") + name, d.Attest(*m));
    attest_ms.push_back(ms_since(t0));
    t0 = Clock::now();
    Check(std::string("attest again ") + name, d.Attest(*m));
    reattest_ms.push_back(ms_since(t0));
    return m;
  };
  // The module binaries can be swapped for A/B experiments with another
  // runtime build (AEX_BENCH_DRIVER_BIN, AEX_BENCH_ECHO_BIN).
  const char* env_driver = getenv("AEX_BENCH_DRIVER_BIN");
  const char* env_echo = getenv("AEX_BENCH_ECHO_BIN");
  const char* driver_bin = env_driver && *env_driver ? env_driver : AEX_BENCH_DRIVER_BIN;
  const char* echo_bin = env_echo && *env_echo ? env_echo : AEX_BENCH_ECHO_BIN;
  Pair cross{load(a, driver_bin, "driver"), load(b, echo_bin, "echo")};
  Pair local{load(a, driver_bin, "driver-local"), load(a, echo_bin, "echo-local")};
  Pair metered{load(ma, driver_bin, "driver-metered"), load(mb, echo_bin, "echo-metered")};
  Wire(d, cross);
  Wire(d, local);
  Wire(d, metered);

  // Baselines and aex alternate in `rounds` blocks and the samples of each
  // kind are pooled, so that load from elsewhere on the machine hits all
  // kinds alike instead of whichever happened to run at a bad moment.
  for (TestModule* m : {cross.driver, cross.echo, local.driver, metered.driver, metered.echo}) {
    Check("client", d.Client(*m->node))->set_timeout(std::chrono::seconds(60));
  }
  if (soak > 0 || soak_blast > 0) {
    std::printf("node a %d, node b %d, driver %d, echo %d\n", a.pid(), b.pid(),
                ModulePid(d, *cross.driver), ModulePid(d, *cross.echo));
    std::fflush(stdout);
    (void)EventRoundTrips(d, *cross.driver, 200);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    for (uint32_t i = 0; i < (soak_blast > 0 ? repeat : 0); ++i) {
      Throughput t = Blast(d, cross, soak_blast, 64);
      std::printf("soak-blast: %.0f events/s delivered (%lu/%lu)\n", t.events_per_s,
                  static_cast<unsigned long>(t.received), static_cast<unsigned long>(t.sent));
      std::fflush(stdout);
    }
    for (uint32_t done = 0; done < soak; done += 20000) {
      Stats s = Summarize(EventRoundTrips(d, *cross.driver, std::min(soak - done, 20000u)).rtt);
      std::printf("soak: p50 %.1f us p99 %.1f us (n=%zu)\n", s.p50, s.p99, s.n);
      std::fflush(stdout);
    }
    return 0;
  }
  const uint32_t rounds = 5, per_round = std::max<uint32_t>(iterations / rounds, 50);
  const int n = static_cast<int>(per_round);
  std::map<std::string, std::vector<double>> pool;
  auto add = [&](const std::string& k, const std::vector<double>& v) {
    pool[k].insert(pool[k].end(), v.begin(), v.end());
  };
  for (Pair p : {cross, local}) {  // warm up (a peer link connects lazily)
    (void)EventRoundTrips(d, *p.driver, 200);
    (void)RequestRoundTrips(d, *p.driver, 100);
  }
  for (uint32_t r = 0; r < rounds; ++r) {
    add("tcp", ChainPingPong({true}, n, 32));
    add("chain2", ChainPingPong({false, true, false}, n, 32));
    add("chain1", ChainPingPong({false, false}, n, 32));
    for (auto [name, pair] : {std::pair<std::string, Pair>{"cross", cross}, {"local", local}}) {
      EventRtt e = EventRoundTrips(d, *pair.driver, per_round);
      add(name + ".rtt", e.rtt);
      add(name + ".oneway", e.fwd);
      add(name + ".back", e.back);
      add(name + ".req", RequestRoundTrips(d, *pair.driver, per_round));
    }
  }
  std::printf("Round trips of 32-byte messages (%u rounds of %u, interleaved)\n", rounds,
              per_round);
  Report("lat.tcp.rtt", "bare TCP ping-pong, 2 processes", Summarize(pool["tcp"]));
  Report("lat.chain2.rtt", "bare relay chain unix-tcp-unix, 4 processes",
         Summarize(pool["chain2"]));
  Report("lat.chain1.rtt", "bare relay chain unix-unix, 3 processes", Summarize(pool["chain1"]));
  for (std::string name : {"cross", "local"}) {
    std::string where = name == "cross" ? "two nodes" : "one node";
    Report("lat." + name + ".rtt", "aex event round trip, " + where, Summarize(pool[name + ".rtt"]));
    Report("lat." + name + ".oneway", "  one way driver -> echo, " + where,
           Summarize(pool[name + ".oneway"]));
    Report("lat." + name + ".back", "  one way echo -> driver, " + where,
           Summarize(pool[name + ".back"]));
    Report("lat." + name + ".req", "aex request round trip, " + where,
           Summarize(pool[name + ".req"]));
  }

  // Node b's last traffic is the cross blasts below: it gives memory back
  // once they have drained and a second passed (idle_trims counts it),
  // checked before the memory readings at the end.
  auto b_trims = [&] {
    return Check("node b status", d.NodeStatus(b))["counters"].value("idle_trims", uint64_t{0});
  };
  uint64_t b_trims_after_runs = 0;

  std::printf("\nThroughput, 64-byte events, %u per run, best of %u\n", blast, repeat);
  for (auto [name, pair] : {std::pair<std::string, Pair>{"cross", cross}, {"local", local}}) {
    Throughput best;
    for (uint32_t i = 0; i < repeat; ++i) {
      Throughput t = Blast(d, pair, blast, 64);
      std::printf("  %-6s run %u: %9.0f events/s delivered (%lu/%lu), sender %9.0f events/s\n",
                  name.c_str(), i + 1, t.events_per_s, static_cast<unsigned long>(t.received),
                  static_cast<unsigned long>(t.sent), t.sender_per_s);
      if (t.received == t.sent && t.events_per_s > best.events_per_s) best = t;
    }
    if (name == "cross") b_trims_after_runs = b_trims();
    Result("tput." + name + ".events_per_s", best.events_per_s);
    Result("tput." + name + ".sender_per_s", best.sender_per_s);
    // Baseline: the same topology, no crypto, no framing, one write() per
    // message, bulk relays; measured right after, best of as many runs.
    std::vector<bool> links = name == "cross" ? std::vector<bool>{false, true, false}
                                              : std::vector<bool>{false, false};
    double bare = 0;
    for (uint32_t i = 0; i < repeat; ++i) {
      bare = std::max(bare, ChainStream(links, static_cast<int>(blast), 64));
    }
    std::printf("  %-6s bare relay chain (%s), one write per message: %9.0f messages/s\n",
                name.c_str(), name == "cross" ? "unix-tcp-unix" : "unix-unix", bare);
    Result("tput.chain_" + name + ".msgs_per_s", bare);
  }

  // Metrics cost: the same cross-node blast on the pair without /metrics and
  // on the pair serving it, scraped 10 times a second, alternating run by
  // run. Both run the same node binary: the per-event hop stamps and
  // histograms (aex trace, aex_node_route_seconds, ...) are always on, so
  // this is the cost of serving and rendering the metrics while events flow.
  std::printf("\nMetrics cost, 64-byte events across nodes, %u per run, best of %u\n", blast,
              repeat);
  std::vector<uint16_t> metrics_ports;
  for (NodeProcess* n : {&ma, &mb}) {
    auto st = Check("metrics node status", d.NodeStatus(*n));
    metrics_ports.push_back(st.value("metrics_port", uint16_t{0}));
  }
  double off = 0, on = 0;
  uint64_t scrapes = 0;
  for (uint32_t i = 0; i < repeat; ++i) {
    Throughput t_off = Blast(d, cross, blast, 64);
    Throughput t_on;
    {
      Scraper scraper(metrics_ports, std::chrono::milliseconds(100));
      t_on = Blast(d, metered, blast, 64);
      scrapes += scraper.scrapes();
    }
    std::printf("  run %u: metrics off %9.0f events/s, on (scraped) %9.0f events/s\n", i + 1,
                t_off.events_per_s, t_on.events_per_s);
    if (t_off.received == t_off.sent) off = std::max(off, t_off.events_per_s);
    if (t_on.received == t_on.sent) on = std::max(on, t_on.events_per_s);
  }
  std::printf("  %lu scrapes of both nodes while the metered runs ran\n",
              static_cast<unsigned long>(scrapes));
  Result("tput.metrics_off.events_per_s", off);
  Result("tput.metrics_on.events_per_s", on);

  auto mean = [](const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return v.empty() ? 0 : sum / static_cast<double>(v.size());
  };
  std::printf("\nOne module at a time (native backend, mean of %zu modules)\n", attest_ms.size());
  std::printf("  load %.2f ms, first attest %.2f ms (includes module start-up), attest of a "
              "running module %.2f ms\n",
              mean(load_ms), mean(attest_ms), mean(reattest_ms));
  Result("load.native.ms", mean(load_ms));
  Result("attest.native.first_ms", mean(attest_ms));
  Result("attest.native.ms", mean(reattest_ms));

  // Polled, not slept: a loaded machine runs the node's timer late.
  {
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::seconds(10);
    while (b_trims() == b_trims_after_runs && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const bool trimmed = b_trims() > b_trims_after_runs;
    std::printf("\nnode b %s its memory back after the runs\n",
                trimmed ? "gave" : "did not give (in 10 s)");
  }
  std::printf("\nResident memory (VmRSS)\n");
  ReportRss("rss.node_idle", "aex-node, idle, no modules", ReadRss(idle.pid()));
  ReportRss("rss.node_used", "aex-node b, idle after the runs (2 modules)", ReadRss(b.pid()));
  ReportRss("rss.module_echo", "module process (echo), idle after the runs",
            ReadRss(ModulePid(d, *cross.echo)));
  ReportRss("rss.module_driver", "module process (driver), idle after the runs",
            ReadRss(ModulePid(d, *cross.driver)));

  std::printf("\n");
  for (const auto& line : g_results) std::printf("%s\n", line.c_str());
  return 0;
}
