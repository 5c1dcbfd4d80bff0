#include "node/link_window.h"

#include <string>

namespace aex::node {

Result<uint64_t> SendWindow::Ack(uint64_t through) {
  if (through > sent_) {
    // A duplicated or injected frame upstream, or a confused peer: trusting
    // it would drop frames the peer never had (or wedge the link).
    return Status(Code::kProtocol, "ACK for " + std::to_string(through) + " but only " +
                                       std::to_string(sent_) + " sent");
  }
  if (through <= acked_) return uint64_t{0};
  const uint64_t n = through - acked_;
  acked_ = through;
  return n;
}

ReceiveWindow::Verdict ReceiveWindow::Receive(uint64_t seq) {
  if (seq <= through_) return Verdict::kDuplicate;
  if (seq == through_ + 1) {
    ++through_;
    gap_reported_ = false;
    return Verdict::kDeliver;
  }
  if (gap_reported_) return Verdict::kDiscard;
  gap_reported_ = true;
  return Verdict::kGap;
}

}  // namespace aex::node
