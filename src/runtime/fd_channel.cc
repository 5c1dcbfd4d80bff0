#include "runtime/fd_channel.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

namespace aex::runtime {

using namespace wire::ring;

// Up: ours is up_head_, the node's word kUpTail must lie in [its last value,
// up_head_]. Down: ours is down_tail_, kDownHead in [its last value,
// down_tail_ + kSize].
Status FdChannel::Move(Word theirs, uint8_t* p, size_t n) {
  const bool up = theirs == kUpTail;
  const uint64_t room = up ? kSize : 0;
  uint64_t &mine = up ? up_head_ : down_tail_, &seen = up ? up_tail_ : down_head_;
  while (n > 0) {
    const uint64_t at = At(theirs).load(std::memory_order_acquire), avail = at + room - mine;
    if (at - seen > mine + kSize - room - seen) return Unavailable("node corrupted the channel");
    const size_t k = std::min<uint64_t>(n, avail);
    if ((seen = at) + room == mine) AEX_RETURN_IF_ERROR(Wait(theirs, at));  // k == 0
    Copy(shared_ + (up ? kUp : kDown), mine, p, k, up);
    At(up ? kUpHead : kDownTail).store(mine += k, std::memory_order_release);
    p += k, n -= k;
    if (k > 0) Ring();
  }
  return Status::Ok();
}

// The length is read once, from our copy: the node may rewrite the ring.
Status FdChannel::ReadBody(Bytes* body) {
  uint8_t header[wire::kFrameHeaderSize];
  uint32_t len;
  AEX_RETURN_IF_ERROR(Move(kDownHead, header, sizeof header));
  AEX_RETURN_IF_ERROR(wire::ParseFrameLength(ByteSpan(header, sizeof header), &len));
  body->resize(len);
  return Move(kDownHead, body->data(), len);
}

// Armed, fence, a second look, then asleep: the node rings after whatever it
// publishes once it sees the word set.
Status FdChannel::Wait(Word w, uint64_t seen) {
  At(kModuleWaiting).store(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (At(w).load(std::memory_order_acquire) != seen) return Status::Ok();
  uint8_t bell[64];
  const ssize_t n = read(fd_, bell, sizeof bell);
  return n > 0 || (n < 0 && errno == EINTR) ? Status::Ok() : Unavailable("node closed the channel");
}

// A full socket buffer drops the bell: bells are waiting there already.
void FdChannel::Ring() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (At(kNodeWaiting).exchange(0) != 0) (void)send(fd_, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

// Sends out_ and empties it, whatever happens: a failed write leaves the
// channel dead, and no half frame is sent again.
Status FdChannel::WriteAll() {
  Status s = Move(kUpTail, out_.data(), out_.size());
  out_.clear();
  return s;
}

Status FdChannel::Write(wire::MsgType type, uint32_t request_id, ByteSpan payload) {
  wire::AppendFrame(type, request_id, payload, &out_);
  return WriteAll();
}

Status FdChannel::WriteOp(wire::MsgType type, uint32_t request_id, const wire::ModuleOp& op) {
  wire::AppendFrame(type, request_id, {}, &out_);
  op.AppendTo(&out_);  // in place: no copy of the event
  StoreU32(out_.data(), static_cast<uint32_t>(out_.size() - wire::kFrameHeaderSize));
  return WriteAll();
}

}  // namespace aex::runtime
