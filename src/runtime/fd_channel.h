// FdChannel: blocking frame I/O between a module and its node over the rings
// in shared memory (wire/ring.h); the socket at fd() is the doorbell and
// tells when the node is gone. Every index the node writes is checked: a
// bad one ends the channel like the node's exit.

#ifndef AEX_RUNTIME_FD_CHANNEL_H_
#define AEX_RUNTIME_FD_CHANNEL_H_

#include "aex/bytes.h"
#include "aex/status.h"
#include "wire/module_messages.h"
#include "wire/ring.h"

namespace aex::runtime {

class FdChannel {
 public:
  // REQUIRES: `shared` maps wire::ring::kBytes of the node's memfd.
  FdChannel(int fd, uint8_t* shared) : fd_(fd), shared_(shared) {}

  // Reads one frame body (type, request id, payload) into *body.
  // Returns kUnavailable when the node closed the channel.
  Status ReadBody(Bytes* body);
  Status Write(wire::MsgType type, uint32_t request_id, ByteSpan payload);
  // Writes a frame whose payload is a ModuleOp without an intermediate copy.
  Status WriteOp(wire::MsgType type, uint32_t request_id, const wire::ModuleOp& op);
  // True if a whole frame (or the node's end) is there: ReadBody will not
  // block. False: a poll on fd() wakes when the node sends more.
  bool HasFrame();
  int fd() const { return fd_; }

 private:
  // Copies n bytes between p and a ring, waiting for data or room: out of
  // `down` (theirs: kDownHead) or into `up` (theirs: kUpTail).
  Status Move(wire::ring::Word theirs, uint8_t* p, size_t n);
  Status WriteAll();
  std::atomic_ref<uint64_t> At(wire::ring::Word w) { return wire::ring::At(shared_, w); }
  // Sleeps unless word w has moved from `seen` (spurious wake-ups happen).
  Status Wait(wire::ring::Word w, uint64_t seen);
  void Ring();  // after progress: wakes the node if it sleeps

  int fd_;
  uint8_t* shared_;
  // Ours (down_tail_, up_head_) and the node's as last seen (down_head_, up_tail_).
  uint64_t down_tail_ = 0, up_head_ = 0, down_head_ = 0, up_tail_ = 0;
  Bytes out_;
};

}  // namespace aex::runtime

#endif  // AEX_RUNTIME_FD_CHANNEL_H_
