// Sequence and acknowledgement bookkeeping of one peer-link TCP connection
// (docs/protocol.md, "Peer links"), apart from sockets and timers so that it
// can be tested on its own (tests/node/link_window_test.cc).
//
// The sender numbers the LINK_EVENTs of a connection 1, 2, 3, ...; the
// receiver takes them only in order and acknowledges cumulatively ("all up to
// N arrived"). A frame after a missing one is dropped and reported once as a
// gap; the sender then resends everything after the acknowledged prefix
// (go-back-N). An ACK for a number never sent is a protocol error: the
// caller resets the connection. Both windows start again at 0 on a new
// connection.
//
// Threading: owned by one PeerLink or node session; used on the node's single
// io_context thread only.

#ifndef AEX_NODE_LINK_WINDOW_H_
#define AEX_NODE_LINK_WINDOW_H_

#include <cstdint>

#include "aex/status.h"

namespace aex::node {

class SendWindow {
 public:
  // The number for the next frame sent; counts it as sent.
  uint64_t Next() { return ++sent_; }
  // Applies a cumulative ACK. Returns how many frames it newly acknowledges
  // (0 for a stale or repeated ACK), or kProtocol if `through` was never sent.
  Result<uint64_t> Ack(uint64_t through);
  uint64_t sent() const { return sent_; }
  uint64_t acked() const { return acked_; }
  uint64_t in_flight() const { return sent_ - acked_; }
  // A new connection: numbering starts again at 1.
  void Reset() { sent_ = acked_ = 0; }

 private:
  uint64_t sent_ = 0;   // highest number sent
  uint64_t acked_ = 0;  // highest number acknowledged; acked_ <= sent_
};

class ReceiveWindow {
 public:
  enum class Verdict {
    kDeliver,    // the next in order: deliver it
    kDuplicate,  // already received: drop it, count it
    kGap,        // a frame before it is missing: drop it, ask for a resend now
    kDiscard,    // a gap is already reported: drop it (it will be resent)
  };
  // REQUIRES: seq >= 1 (LinkEvent::Parse refuses 0).
  Verdict Receive(uint64_t seq);
  // Every number up to this one has arrived (the ACK's `through`).
  uint64_t through() const { return through_; }

 private:
  uint64_t through_ = 0;
  bool gap_reported_ = false;  // until the missing frame arrives
};

}  // namespace aex::node

#endif  // AEX_NODE_LINK_WINDOW_H_
