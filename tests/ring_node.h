// RingNode: a test's blocking stand-in for aex-node's end of a module's
// channel (src/wire/ring.h, docs/protocol.md): the memfd with the two rings
// and the doorbell socketpair. For tests that play the node by hand (a
// hostile node replaying a session, a module started without aex-node): the
// child gets ModuleFds() at fd 3 and fd 6 and the arguments ModuleArgs().
//
// It follows the node's protocol (own indices private, the module's read
// once and checked, the waiting word armed before a second look and a
// sleep) but blocks, with a deadline, where the node would wait in its loop.

#ifndef AEX_TESTS_RING_NODE_H_
#define AEX_TESTS_RING_NODE_H_

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "aex/bytes.h"
#include "aex/status.h"
#include "wire/ring.h"

namespace aex::testing_ring {

class RingNode {
 public:
  using Clock = std::chrono::steady_clock;

  RingNode() = default;
  RingNode(const RingNode&) = delete;
  RingNode& operator=(const RingNode&) = delete;
  ~RingNode() { Reset(); }

  // A fresh memfd and socketpair. The module's ends: ModuleFds().
  Status Create() {
    Reset();
    memfd_ = memfd_create("aex-test-ring", MFD_CLOEXEC);
    int fds[2];
    if (memfd_ < 0 || ftruncate(memfd_, wire::ring::kBytes) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return Status(Code::kIo, "cannot make a module ring");
    }
    node_fd_ = fds[0];
    // The module's ends above 10, so that placing them at 3 and 6 in the
    // child never overwrites one with the other.
    module_fd_ = fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
    close(fds[1]);
    const int memfd = fcntl(memfd_, F_DUPFD_CLOEXEC, 10);
    close(memfd_);
    memfd_ = memfd;
    if (module_fd_ < 0 || memfd_ < 0) return Status(Code::kIo, "cannot move the module's ends");
    void* p = mmap(nullptr, wire::ring::kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_, 0);
    if (p == MAP_FAILED) return Status(Code::kIo, "cannot map the module ring");
    shared_ = static_cast<uint8_t*>(p);
    return Status::Ok();
  }
  // {doorbell socket, memfd}: to be placed at fd 3 and fd 6 in the child,
  // then CloseModuleEnds() in the parent.
  std::pair<int, int> ModuleFds() const { return {module_fd_, memfd_}; }
  static std::vector<std::string> ModuleArgs() { return {"--aex-fd", "3", "--aex-ring", "6"}; }
  void CloseModuleEnds() {
    if (module_fd_ >= 0) close(module_fd_);
    if (memfd_ >= 0) close(memfd_);
    module_fd_ = memfd_ = -1;
  }
  void Reset() {
    CloseModuleEnds();
    if (node_fd_ >= 0) close(node_fd_);
    if (shared_ != nullptr) munmap(shared_, wire::ring::kBytes);
    node_fd_ = -1;
    shared_ = nullptr;
    up_tail_ = down_head_ = down_tail_ = 0;
  }
  uint8_t* shared() { return shared_; }
  // The node goes away: the module sees the end of its socket (the memory
  // stays mapped until Reset).
  void CloseNodeEnd() {
    if (node_fd_ >= 0) close(node_fd_);
    node_fd_ = -1;
  }

  // Writes all of b into `down`, waiting for room until the deadline.
  Status Write(ByteSpan b, Clock::time_point deadline) {
    for (size_t done = 0; done < b.size();) {
      const uint64_t tail = Word(wire::ring::kDownTail).load();
      if (tail - down_tail_ > down_head_ - down_tail_) return Status(Code::kProtocol, "bad tail");
      down_tail_ = tail;
      const size_t k = std::min<uint64_t>(b.size() - done, wire::ring::kSize - (down_head_ - tail));
      if (k == 0) {
        AEX_RETURN_IF_ERROR(Sleep(wire::ring::kDownTail, tail, deadline));
        continue;
      }
      uint8_t* from = const_cast<uint8_t*>(b.data()) + done;
      wire::ring::Copy(shared_ + wire::ring::kDown, down_head_, from, k, true);
      Word(wire::ring::kDownHead).store(down_head_ += k);
      done += k;
      Ring();
    }
    return Status::Ok();
  }

  // Appends what `up` holds (at least one byte) to *out, waiting until the
  // deadline. kUnavailable once the module is gone and `up` is empty.
  Status Read(Bytes* out, Clock::time_point deadline) {
    for (;;) {
      const uint64_t head = Word(wire::ring::kUpHead).load();
      const uint64_t n = head - up_tail_;
      if (n > wire::ring::kSize) return Status(Code::kProtocol, "bad head");
      if (n > 0) {
        out->resize(out->size() + n);
        wire::ring::Copy(shared_ + wire::ring::kUp, up_tail_, out->data() + out->size() - n, n,
                         false);
        Word(wire::ring::kUpTail).store(up_tail_ += n);
        Ring();
        return Status::Ok();
      }
      AEX_RETURN_IF_ERROR(Sleep(wire::ring::kUpHead, head, deadline));
    }
  }

 private:
  std::atomic_ref<uint64_t> Word(wire::ring::Word w) { return wire::ring::At(shared_, w); }
  // Armed, a second look, then the doorbell (or the deadline).
  Status Sleep(wire::ring::Word w, uint64_t seen, Clock::time_point deadline) {
    Word(wire::ring::kNodeWaiting).store(1);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (Word(w).load() != seen) return Status::Ok();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Status(Code::kTimeout, "the module sent nothing in time");
    pollfd p{node_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return Status::Ok();  // look again
    uint8_t bells[256];
    ssize_t r = recv(node_fd_, bells, sizeof bells, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
      if (Word(w).load() != seen) return Status::Ok();  // what it left first
      return Status(Code::kUnavailable, "module closed its channel");
    }
    return Status::Ok();
  }
  void Ring() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (Word(wire::ring::kModuleWaiting).exchange(0) != 0) {
      (void)send(node_fd_, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
  }

  int memfd_ = -1, node_fd_ = -1, module_fd_ = -1;
  uint8_t* shared_ = nullptr;
  uint64_t up_tail_ = 0, down_head_ = 0, down_tail_ = 0;
};

}  // namespace aex::testing_ring

#endif  // AEX_TESTS_RING_NODE_H_
