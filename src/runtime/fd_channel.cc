#include "runtime/fd_channel.h"

#include <errno.h>
#include <unistd.h>

#include <cstring>

namespace aex::runtime {

Status FdChannel::Fill(size_t need) {
  if (in_pos_ > 0 && in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  }
  while (in_.size() - in_pos_ < need) {
    if (in_pos_ > (1u << 20)) {  // compact consumed bytes
      in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(in_pos_));
      in_pos_ = 0;
    }
    size_t at = in_.size();
    size_t want = std::max<size_t>(need - (at - in_pos_), 64 * 1024);
    in_.resize(at + want);
    ssize_t n = read(fd_, in_.data() + at, want);
    if (n <= 0) {
      in_.resize(at);
      if (n < 0 && errno == EINTR) continue;
      return Unavailable("node closed the module channel");
    }
    in_.resize(at + static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FdChannel::ReadBody(Bytes* body) {
  AEX_RETURN_IF_ERROR(Fill(wire::kFrameHeaderSize));
  uint32_t len;
  AEX_RETURN_IF_ERROR(wire::ParseFrameLength(
      ByteSpan(in_.data() + in_pos_, wire::kFrameHeaderSize), &len));
  AEX_RETURN_IF_ERROR(Fill(wire::kFrameHeaderSize + len));
  const uint8_t* p = in_.data() + in_pos_ + wire::kFrameHeaderSize;
  body->assign(p, p + len);
  in_pos_ += wire::kFrameHeaderSize + len;
  return Status::Ok();
}

// Sends out_ and empties it, whatever happens: a failed write leaves the
// channel dead, and no half frame is sent again.
Status FdChannel::WriteAll() {
  size_t done = 0;
  Status s;
  while (done < out_.size() && s.ok()) {
    ssize_t n = write(fd_, out_.data() + done, out_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) s = Unavailable("cannot write to the module channel");
    done += n > 0 ? static_cast<size_t>(n) : 0;
  }
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
