/* bench/ae_compare/conn_chain.c: the floor of AE's event path, without AE.
 *
 *   conn_chain N SIZE
 *
 * Four processes on loopback with AE's topology and AE's use of TCP, a new
 * connection for every hop: driver -> relay1 -> relay2 -> echo and back
 * echo -> relay2 -> relay1 -> driver (relays = event managers). As in AE's
 * event manager, a relay does not answer the hop that brought an event from a
 * module or from the other relay, and waits for a 3-byte result from the
 * module it delivers to; the echo sends the event back before it answers, as
 * an AE input handler that emits an output does. No crypto, no framing
 * beyond one direction byte, one connection handled at a time (AE hands each
 * to a thread pool). Prints RESULT lines like bench/latency.cc. Built and run
 * by bench/ae_compare.sh; not part of aex.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kToEcho = 0, kToDriver = 1, kMaxSize = 1024 };
enum { kDriver, kRelay1, kRelay2, kEcho, kRoles };
static uint16_t ports[kRoles];

static void die(const char* what) {
  perror(what);
  exit(1);
}

static void io_all(int fd, uint8_t* p, size_t n, int writing) {
  while (n > 0) {
    ssize_t r = writing ? write(fd, p, n) : read(fd, p, n);
    if (r <= 0) die(writing ? "write" : "read");
    p += r;
    n -= (size_t)r;
  }
}

static int listen_on_any_port(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, (struct sockaddr*)&a, &len) != 0) {
    die("listen");
  }
  *port = ntohs(a.sin_port);
  return fd;
}

/* A new connection to `role`, the message written; the caller closes it. */
static int send_to(int role, uint8_t* msg, size_t size) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(ports[role]),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (fd < 0 || connect(fd, (struct sockaddr*)&a, sizeof a) != 0) die("connect");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  io_all(fd, msg, size, 1);
  return fd;
}

static void send_and_wait_result(int role, uint8_t* msg, size_t size) {
  uint8_t result[3];
  int fd = send_to(role, msg, size);
  io_all(fd, result, sizeof result, 0);
  close(fd);
}

static void answer_result(int fd) {
  uint8_t ok[3] = {0, 0, 0};
  io_all(fd, ok, sizeof ok, 1);
}

static void serve(int role, int lfd, size_t size) {
  uint8_t msg[kMaxSize];
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) die("accept");
    io_all(fd, msg, size, 0);
    if (role == kEcho) {             /* the input handler emits its output */
      msg[0] = kToDriver;
      close(send_to(kRelay2, msg, size));
      answer_result(fd);
    } else if (role == kRelay1) {
      if (msg[0] == kToEcho) close(send_to(kRelay2, msg, size));
      else send_and_wait_result(kDriver, msg, size);
    } else {                         /* relay2 */
      if (msg[0] == kToEcho) send_and_wait_result(kEcho, msg, size);
      else close(send_to(kRelay1, msg, size));
    }
    close(fd);
  }
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  size_t size = argc > 2 ? (size_t)atoi(argv[2]) : 0;
  if (n <= 0 || size < 1 || size > kMaxSize) {
    fprintf(stderr, "usage: conn_chain N SIZE (1..%d)\n", kMaxSize);
    return 2;
  }
  int lfd[kRoles];
  for (int r = 0; r < kRoles; ++r) lfd[r] = listen_on_any_port(&ports[r]);
  pid_t kids[kRoles] = {0};
  for (int r = kRelay1; r < kRoles; ++r) {
    kids[r] = fork();
    if (kids[r] < 0) die("fork");
    if (kids[r] == 0) serve(r, lfd[r], size);
  }
  double* rtt = malloc(sizeof(double) * (size_t)n);
  uint8_t msg[kMaxSize] = {0};
  const int warmup = n / 10;
  for (int i = -warmup; i < n; ++i) {
    double t0 = now_us();
    msg[0] = kToEcho;
    close(send_to(kRelay1, msg, size));
    int fd = accept(lfd[kDriver], NULL, NULL);
    if (fd < 0) die("accept");
    io_all(fd, msg, size, 0);
    answer_result(fd);
    close(fd);
    if (i >= 0) rtt[i] = now_us() - t0;
  }
  for (int r = kRelay1; r < kRoles; ++r) {
    kill(kids[r], SIGTERM);
    waitpid(kids[r], NULL, 0);
  }
  qsort(rtt, (size_t)n, sizeof *rtt, by_value);
  /* Same rank rule as bench/latency.cc's Summarize. */
  double p50 = rtt[(size_t)(0.50 * (n - 1) + 0.5)], p99 = rtt[(size_t)(0.99 * (n - 1) + 0.5)];
  printf("bare chain, new TCP connection per hop, 4 processes: p50 %.1f us  p99 %.1f us  "
         "min %.1f us  (n=%d)\n", p50, p99, rtt[0], n);
  printf("RESULT chain_conn.rtt.p50_us %.6g\nRESULT chain_conn.rtt.p99_us %.6g\n"
         "RESULT chain_conn.rtt.min_us %.6g\n", p50, p99, rtt[0]);
  free(rtt);
  return 0;
}
