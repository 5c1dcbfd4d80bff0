// FdChannel::HasFrame in an object of its own: only the runtime's fd
// watching (watch.cc) asks, so a module that watches no fd does not link it.

#include "runtime/fd_channel.h"

namespace aex::runtime {

bool FdChannel::HasFrame() const {
  size_t avail = in_.size() - in_pos_;
  if (avail < wire::kFrameHeaderSize) return false;
  return avail - wire::kFrameHeaderSize >= LoadU32(in_.data() + in_pos_);
}

}  // namespace aex::runtime
