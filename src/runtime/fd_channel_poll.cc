// FdChannel::HasFrame in an object of its own: only the runtime's fd
// watching (watch.cc) asks, so a module that watches no fd does not link it.

#include <sys/socket.h>

#include "runtime/fd_channel.h"

namespace aex::runtime {

bool FdChannel::HasFrame() {
  // Armed before looking, so that whatever the node sends after this look
  // rings the doorbell a poll on fd() waits for; old doorbells are drained.
  At(wire::ring::kModuleWaiting).store(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  uint8_t bell[64];
  if (recv(fd_, bell, sizeof bell, MSG_DONTWAIT) == 0) return true;  // gone: ReadBody says so
  const uint64_t avail = At(wire::ring::kDownHead).load(std::memory_order_acquire) - down_tail_;
  if (avail < wire::kFrameHeaderSize || avail > wire::ring::kSize) return avail > wire::ring::kSize;
  // A hint only: ReadBody reads the length again (once) and waits for it.
  uint8_t header[wire::kFrameHeaderSize];
  wire::ring::Copy(shared_ + wire::ring::kDown, down_tail_, header, sizeof header, false);
  return avail - wire::kFrameHeaderSize >= LoadU32(header);
}

}  // namespace aex::runtime
