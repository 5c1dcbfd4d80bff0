#include "node/module_ring.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace aex::node {

using namespace wire::ring;

namespace {

// The error a corrupt ring fails its stream with; ModuleRing::corruption()
// has the details.
class RingCategory : public asio::error_category {
 public:
  const char* name() const noexcept override { return "aex.module_ring"; }
  std::string message(int) const override { return "module ring corrupt"; }
};

asio::error_code RingCorrupt() {
  static const RingCategory category;
  return asio::error_code(1, category);
}

}  // namespace

Result<RingMemory> CreateRingMemory() {
  RingMemory m;
  m.fd = memfd_create("aex-module-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (m.fd < 0) return Status(Code::kIo, "memfd_create: " + std::string(strerror(errno)));
  void* p = MAP_FAILED;
  if (ftruncate(m.fd, static_cast<off_t>(kBytes)) == 0 &&
      fcntl(m.fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0) {
    p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd, 0);
  }
  if (p == MAP_FAILED) {
    const int err = errno;
    close(m.fd);
    return Status(Code::kIo, "cannot set up the module ring: " + std::string(strerror(err)));
  }
  m.shared = static_cast<uint8_t*>(p);
  return m;
}

ModuleRing::~ModuleRing() {
  if (shared_ != nullptr) munmap(shared_, kBytes);
}

Result<size_t> ModuleRing::CopySome(bool down, uint8_t* p, size_t n) {
  if (!corruption_.empty()) return Status(Code::kProtocol, corruption_);
  size_t k;
  if (!down) {
    const uint64_t head = At(kUpHead).load(std::memory_order_acquire);  // once
    if (head - up_tail_ > kSize) {
      corruption_ = "module ring corrupt: up head " + std::to_string(head) + " is not within " +
                     std::to_string(kSize) + " bytes after the tail " + std::to_string(up_tail_);
      return Status(Code::kProtocol, corruption_);
    }
    k = std::min<uint64_t>(n, head - up_tail_);
    Copy(shared_ + kUp, up_tail_, p, k, false);
    At(kUpTail).store(up_tail_ += k, std::memory_order_release);
  } else {
    const uint64_t tail = At(kDownTail).load(std::memory_order_acquire);  // once
    if (tail - down_tail_ > down_head_ - down_tail_) {
      corruption_ = "module ring corrupt: down tail " + std::to_string(tail) +
                    " is not within [" + std::to_string(down_tail_) + ", " +
                    std::to_string(down_head_) + "]";
      return Status(Code::kProtocol, corruption_);
    }
    down_tail_ = tail;
    k = std::min<uint64_t>(n, kSize - (down_head_ - tail));
    Copy(shared_ + kDown, down_head_, p, k, true);
    At(kDownHead).store(down_head_ += k, std::memory_order_release);
  }
  if (k > 0) Ring();
  return k;
}

bool ModuleRing::Attempt(bool down, uint8_t* p, size_t n, asio::error_code* ec, size_t* done) {
  for (int look = 0; look < 2; ++look) {
    if (down && gone_) {
      *ec = asio::error::broken_pipe;
      return true;
    }
    auto r = CopySome(down, p, n);
    if (!r.ok()) *ec = RingCorrupt();
    if (!r.ok() || *r > 0 || n == 0) {
      *done = r.ok() ? *r : 0;
      return true;
    }
    if (gone_) {
      *ec = asio::error::eof;  // and nothing left in `up`
      return true;
    }
    if (look == 0) {
      // Armed, then a second look: what the module publishes after it
      // finds the word set and rings.
      At(kNodeWaiting).store(1, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
    }
  }
  return false;
}

size_t ModuleRing::write_some(const asio::const_buffer& b, asio::error_code& ec) {
  ec = {};
  if (gone_) {
    ec = asio::error::broken_pipe;
    return 0;
  }
  auto r = CopySome(true, static_cast<uint8_t*>(const_cast<void*>(b.data())), b.size());
  if (!r.ok()) {
    ec = RingCorrupt();
    return 0;
  }
  if (*r == 0 && b.size() > 0) ec = asio::error::would_block;
  return *r;
}

bool ModuleRing::DrainBell() {
  uint8_t bells[256];
  bool drained = false;
  for (int i = 0; i < 16; ++i) {  // bounded: a module may ring without end
    ssize_t r = recv(bell_.native_handle(), bells, sizeof bells, MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return drained;
    drained = true;
    if (r <= 0) {
      gone_ = true;  // its end, or a reset: the module is gone
      return drained;
    }
  }
  return drained;
}

void ModuleRing::Ring() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (At(kModuleWaiting).load(std::memory_order_relaxed) != 0 &&
      At(kModuleWaiting).exchange(0) != 0) {
    // Full: doorbells wait there already.
    (void)send(bell_.native_handle(), "", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
  }
}

void ModuleRing::ReleasePages() {
  if (shared_ != nullptr) madvise(shared_, kBytes, MADV_DONTNEED);
}

}  // namespace aex::node
