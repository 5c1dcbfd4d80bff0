// ringbad: a module that misbehaves on its shared-memory channel to its node
// (wire/ring.h), poking the rings itself through its memfd (fd 6, where the
// node places it) and its doorbell socket (fd 3). Each input does one thing
// wrong, triggered by an event (one-way: no call pending, so no call timeout
// interferes).
//
// Interface (indexes in source order):
//   inputs:   0 ringbad_corrupt  `up` head set far beyond the ring, doorbell, waits
//             1 ringbad_length   a frame length over every limit, doorbell, waits
//             2 ringbad_stall    never returns: `down` is never read again
//             3 ringbad_half     half of a 1 MiB frame into `up`, doorbell, SIGKILL itself
//   entries:  0 ringbad_ok       -> "ok"

#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "aex/module.h"
#include "wire/ring.h"

namespace {

namespace ring = aex::wire::ring;

constexpr int kDoorbellFd = 3;
constexpr int kRingFd = 6;

uint8_t* Shared() {
  static uint8_t* shared = static_cast<uint8_t*>(
      mmap(nullptr, ring::kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, kRingFd, 0));
  if (shared == MAP_FAILED) _exit(3);
  return shared;
}

// Appends bytes to `up` behind the runtime's back (it has published all it
// wrote: its head is the word).
void AppendUp(const std::vector<uint8_t>& bytes) {
  uint8_t* shared = Shared();
  const uint64_t head = ring::At(shared, ring::kUpHead).load();
  ring::Copy(shared + ring::kUp, head, const_cast<uint8_t*>(bytes.data()), bytes.size(), true);
  ring::At(shared, ring::kUpHead).store(head + bytes.size());
}

[[noreturn]] void RingAndWait() {
  (void)send(kDoorbellFd, "", 1, MSG_NOSIGNAL);
  for (;;) pause();  // the node must kill us
}

}  // namespace

SM_INPUT(ringbad_corrupt, data, len) {
  (void)data;
  (void)len;
  auto head = ring::At(Shared(), ring::kUpHead);
  head.store(head.load() + ring::kSize + 4096);
  RingAndWait();
}

SM_INPUT(ringbad_length, data, len) {
  (void)data;
  (void)len;
  AppendUp({0xff, 0xff, 0xff, 0xf0, 0x20, 0, 0, 0, 0});
  RingAndWait();
}

SM_INPUT(ringbad_stall, data, len) {
  (void)data;
  (void)len;
  for (;;) pause();
}

SM_INPUT(ringbad_half, data, len) {
  (void)data;
  (void)len;
  std::vector<uint8_t> half(4 + 5 + 100000, 0x42);
  const uint32_t body = 5 + (1u << 20);  // announced; only a tenth follows
  half[0] = static_cast<uint8_t>(body >> 24);
  half[1] = static_cast<uint8_t>(body >> 16);
  half[2] = static_cast<uint8_t>(body >> 8);
  half[3] = static_cast<uint8_t>(body);
  half[4] = 0x20;  // EVENT
  AppendUp(half);
  (void)send(kDoorbellFd, "", 1, MSG_NOSIGNAL);
  kill(getpid(), SIGKILL);
}

SM_ENTRY(ringbad_ok, data, len, resp, cap) {
  (void)data;
  (void)len;
  (void)cap;
  memcpy(resp, "ok", 2);
  return 2;
}
