// ModuleRing: the node's end of a module's channel, the two byte rings in a
// shared memfd (wire/ring.h, docs/protocol.md) plus the socketpair that
// rings the doorbell and tells when the module is gone, offered as the
// stream FrameStream<ModuleRing> reads and writes (async_read_some,
// async_write_some, lowest_layer().shutdown/close, get_executor), so framing,
// coalesced writes, the budget and the limits stay FrameStream's.
//
// The module is hostile and so is everything in the shared page: the node
// keeps its own indices (up tail, down head) privately and never reads them
// back; it reads the module's index once per pass into a local, checks it
// (up: head - tail <= kSize; down: the module's tail within [its last
// value, our head]), and copies bytes out into its own buffer before anything
// parses them. A violation fails the stream with a "module ring corrupt"
// error (corruption() says which). Nothing blocks and no loop runs on a
// value the module controls: a pass copies at most kSize bytes.
//
// Threading: the node's single io_context thread, like FrameStream.

#ifndef AEX_NODE_MODULE_RING_H_
#define AEX_NODE_MODULE_RING_H_

#include <asio.hpp>
#include <string>
#include <utility>

#include "aex/bytes.h"
#include "aex/status.h"
#include "wire/ring.h"

namespace aex::node {

// A memfd of wire::ring::kBytes, sealed against shrinking and growing (a
// module cannot truncate what the node has mapped), and the node's mapping
// of it.
struct RingMemory {
  int fd = -1;
  uint8_t* shared = nullptr;
};
Result<RingMemory> CreateRingMemory();

class ModuleRing {
 public:
  using executor_type = asio::any_io_executor;
  using lowest_layer_type = ModuleRing;

  // Takes the node's end of the socketpair and the mapping (unmapped on
  // destruction). The memfd itself is not needed once the module has it.
  ModuleRing(asio::local::stream_protocol::socket bell, uint8_t* shared)
      : bell_(std::move(bell)), shared_(shared) {}
  ModuleRing(ModuleRing&& o) noexcept
      : bell_(std::move(o.bell_)), shared_(std::exchange(o.shared_, nullptr)) {}
  ModuleRing& operator=(ModuleRing&&) = delete;
  ~ModuleRing();

  executor_type get_executor() { return bell_.get_executor(); }
  ModuleRing& lowest_layer() { return *this; }
  void shutdown(asio::socket_base::shutdown_type how, asio::error_code& ec) {
    bell_.shutdown(how, ec);
  }
  void close(asio::error_code& ec) { bell_.close(ec); }

  // Completes with the bytes copied out of `up` (at least one), eof once
  // the module is gone and `up` is empty, or a ring error.
  template <typename MutableBuffers, typename Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    asio::mutable_buffer b = FirstBuffer<asio::mutable_buffer>(buffers);
    Pass(false, static_cast<uint8_t*>(b.data()), b.size(), std::forward<Handler>(handler));
  }
  // Completes with the bytes copied into `down` (at least one), broken_pipe
  // once the module is gone, or a ring error.
  template <typename ConstBuffers, typename Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    asio::const_buffer b = FirstBuffer<asio::const_buffer>(buffers);
    Pass(true, static_cast<uint8_t*>(const_cast<void*>(b.data())), b.size(),
         std::forward<Handler>(handler));
  }

  // FrameStream's direct write (its first attempt, in the caller): copies
  // what fits into `down`; would_block when nothing does, broken_pipe once the
  // module is gone, a ring error if it broke the ring. Never waits.
  void non_blocking(bool, asio::error_code& ec) { ec = {}; }
  size_t write_some(const asio::const_buffer& b, asio::error_code& ec);

  // One pass without waiting: copies up to n bytes out of `up` into p
  // (down = false) or from p into `down` (down = true). Returns the bytes
  // copied, 0 if there was nothing to copy; an error if the module broke
  // the ring (kept: corruption()).
  Result<size_t> CopySome(bool down, uint8_t* p, size_t n);
  // Why the ring was found corrupt; empty if it was not.
  const std::string& corruption() const { return corruption_; }
  // True once the module's end of the socketpair is closed (it exited).
  bool module_gone() const { return gone_; }
  // Drops the node's page-table entries of the rings (a quiet node's RSS);
  // the bytes stay in the memfd.
  void ReleasePages();

 private:
  template <typename Buffer, typename Buffers>
  static Buffer FirstBuffer(const Buffers& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      if (Buffer(*it).size() > 0) return Buffer(*it);
    }
    return Buffer();
  }

  // Copies what it can, else waits for the doorbell and tries again; the
  // handler always runs from the io_context, never inside this call.
  //
  // A read and a write may wait for the one doorbell at the same time, and
  // one bell may announce progress in both rings (the module keeps one
  // waiting word). The pass that drains the bell therefore hands it on: if
  // it drained any and the other direction waits, it cancels that wait,
  // which then looks again (poked_) instead of failing. Without this, the
  // other wait lost its bell, the module rang no more (it had cleared the
  // word), and a full `down` stalled until the call timeout.
  template <typename Handler>
  void Pass(bool down, uint8_t* p, size_t n, Handler&& handler) {
    asio::error_code ec;
    size_t done = 0;
    if (!Attempt(down, p, n, &ec, &done)) {
      auto retry = [this, down, p, n, h = std::move(handler)](const asio::error_code& e) mutable {
        waiting_[down] = false;
        const bool poked = std::exchange(poked_[down], false);
        if (e && !(poked && e == asio::error::operation_aborted && bell_.is_open())) {
          return h(e, size_t{0});
        }
        if (DrainBell() && waiting_[!down]) {
          poked_[!down] = true;
          asio::error_code ignored;
          bell_.cancel(ignored);
        }
        Pass(down, p, n, std::move(h));
      };
      waiting_[down] = true;
      bell_.async_wait(asio::socket_base::wait_read, std::move(retry));
      return;
    }
    asio::post(bell_.get_executor(), [h = std::move(handler), ec, done]() mutable { h(ec, done); });
  }
  // True with *ec/*done set when the operation can complete now; false
  // after arming the wake-up when it must wait.
  bool Attempt(bool down, uint8_t* p, size_t n, asio::error_code* ec, size_t* done);
  // Reads the doorbell's bytes (bounded); notes the module's end. True if it
  // read any (or found the end).
  bool DrainBell();
  void Ring();  // after progress: wakes the module if it sleeps
  std::atomic_ref<uint64_t> At(wire::ring::Word w) { return wire::ring::At(shared_, w); }

  asio::local::stream_protocol::socket bell_;
  uint8_t* shared_;
  uint64_t up_tail_ = 0, down_head_ = 0;  // ours: the module never writes them
  uint64_t down_tail_ = 0;                // the module's, as last accepted
  bool gone_ = false;                     // the doorbell socket reached its end
  bool waiting_[2] = {false, false};      // [down]: a pass of that direction waits for the bell
  bool poked_[2] = {false, false};        // [down]: its wait was cancelled to look again
  std::string corruption_;
};

}  // namespace aex::node

#endif  // AEX_NODE_MODULE_RING_H_
