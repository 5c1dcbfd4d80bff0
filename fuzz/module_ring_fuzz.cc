// libFuzzer target for the node's end of a module channel (src/node/
// module_ring.h) under FrameStream, as the node runs it: the input plays a
// hostile module that writes arbitrary header words (its `up` head, its
// `down` tail, both waiting words), arbitrary ring bytes and doorbells, while
// the node sends frames and runs its loop.
//
// Besides "no crash, no out-of-bounds access, no UB, no endless loop"
// (ASan/UBSan, libFuzzer's timeout), it checks after every turn of the loop:
//   - the node's own indices never move backwards, never past what a ring
//     can hold (up: never beyond the module's head; down: never more than a
//     ring ahead of the module's last valid tail), and a pass copies at most
//     a ring;
//   - every frame the node delivered re-encodes to exactly the bytes it
//     copied out of `up`, in order (one fetch: no byte parsed that was not
//     copied, none copied twice);
//   - a ring found corrupt closes the stream for good.
//
// Input: a sequence of ops, op byte then its arguments (little endian).

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "node/frame_stream.h"
#include "node/module_ring.h"

namespace {

using aex::Bytes;
using aex::ByteSpan;
namespace ring = aex::wire::ring;
using aex::node::FrameStream;
using aex::node::ModuleRing;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  bool empty() const { return n_ == 0; }
  uint64_t Take(size_t bytes) {
    uint64_t v = 0;
    for (size_t i = 0; i < bytes && n_ > 0; ++i, ++p_, --n_) v |= uint64_t{*p_} << (8 * i);
    return v;
  }
  ByteSpan TakeSpan(size_t bytes) {
    bytes = std::min(bytes, n_);
    ByteSpan s(p_, bytes);
    p_ += bytes, n_ -= bytes;
    return s;
  }

 private:
  const uint8_t* p_;
  size_t n_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto mem = aex::node::CreateRingMemory();
  if (!mem.ok()) return 0;
  close(mem->fd);
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    munmap(mem->shared, ring::kBytes);
    return 0;
  }
  uint8_t* shared = mem->shared;  // the module's view is the same memory
  auto word = [shared](ring::Word w) { return ring::At(shared, w); };
  asio::io_context io;
  asio::local::stream_protocol::socket sock(io);
  sock.assign(asio::local::stream_protocol(), fds[0]);
  auto stream = std::make_shared<FrameStream<ModuleRing>>(1u << 20, std::in_place,
                                                          std::move(sock), shared);
  Bytes delivered;  // every frame delivered, re-encoded
  std::optional<aex::Status> closed;
  stream->Start(
      [&delivered](const aex::wire::Frame& f) {
        aex::wire::AppendFrame(f.type, f.request_id, f.payload, &delivered);
      },
      [&closed](const aex::Status& s) { closed = s; });
  Bytes copied;  // what the node took out of `up`, in order
  uint64_t up_tail = 0, down_head = 0, valid_down_tail = 0, max_up_head = 0;

  Input in(data, size);
  for (int turn = 0; turn < 64 && !in.empty(); ++turn) {
    switch (in.Take(1) % 7) {
      case 0: {  // the module's `up` head, anywhere (mostly near the tail)
        const uint64_t ahead = in.Take(3), far = in.Take(1) == 0 ? in.Take(8) : 0;
        word(ring::kUpHead).store(up_tail + ahead - far);
        break;
      }
      case 1: {  // bytes into the `up` data area
        const uint64_t at = in.Take(3);
        ByteSpan b = in.TakeSpan(in.Take(2) % 4096);
        ring::Copy(shared + ring::kUp, at, const_cast<uint8_t*>(b.data()), b.size(), true);
        break;
      }
      case 2: {  // the module's `down` tail, anywhere (mostly behind the head)
        const uint64_t behind = in.Take(3), far = in.Take(1) == 0 ? in.Take(8) : 0;
        word(ring::kDownTail).store(down_head - behind + far);
        break;
      }
      case 3:
        word(ring::kNodeWaiting).store(in.Take(1));
        word(ring::kModuleWaiting).store(in.Take(1));
        break;
      case 4: {  // the node sends a frame to the module
        const uint32_t id = static_cast<uint32_t>(in.Take(4));
        const Bytes payload(in.Take(3) % (3 * ring::kSize / 2), 0x5a);
        stream->Send(aex::wire::MsgType::kEvent, id, payload);
        break;
      }
      case 5:
        (void)send(fds[1], "", 1, MSG_DONTWAIT | MSG_NOSIGNAL);  // doorbell
        break;
      case 6:
        if (in.Take(1) == 0) shutdown(fds[1], SHUT_RDWR);  // the module goes
        break;
    }
    const uint64_t module_head = word(ring::kUpHead).load();
    const uint64_t module_tail = word(ring::kDownTail).load();
    if (module_head - up_tail <= ring::kSize) max_up_head = module_head;
    if (module_tail - valid_down_tail <= down_head - valid_down_tail) valid_down_tail = module_tail;
    io.poll();  // the node only reads `up`'s data: the bytes it copied are still there
    io.restart();
    // The node's own words, as it wrote them.
    const uint64_t new_up_tail = word(ring::kUpTail).load();
    const uint64_t new_down_head = word(ring::kDownHead).load();
    Check(new_up_tail - up_tail <= ring::kSize);
    Check(new_up_tail - up_tail <= max_up_head - up_tail);
    Check(new_down_head - down_head <= 4 * ring::kSize);
    Check(new_down_head - valid_down_tail <= ring::kSize || !stream->socket().corruption().empty());
    for (uint64_t pos = up_tail; pos != new_up_tail; ++pos) {
      copied.push_back(shared[ring::kUp + (pos & (ring::kSize - 1))]);
    }
    up_tail = new_up_tail;
    down_head = new_down_head;
    Check(delivered.size() <= copied.size());
    Check(delivered.empty() || std::memcmp(delivered.data(), copied.data(), delivered.size()) == 0);
    if (!stream->socket().corruption().empty()) Check(!stream->is_open() && closed.has_value());
  }
  stream->Close();
  io.poll();
  close(fds[1]);
  return 0;
}
