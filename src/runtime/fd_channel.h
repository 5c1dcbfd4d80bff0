// FdChannel: blocking frame I/O on the module's end of its socketpair.

#ifndef AEX_RUNTIME_FD_CHANNEL_H_
#define AEX_RUNTIME_FD_CHANNEL_H_

#include "aex/bytes.h"
#include "aex/status.h"
#include "wire/module_messages.h"

namespace aex::runtime {

class FdChannel {
 public:
  explicit FdChannel(int fd) : fd_(fd) {}

  // Reads one frame body (type, request id, payload) into *body.
  // Returns kUnavailable when the node closed the channel.
  Status ReadBody(Bytes* body);
  Status Write(wire::MsgType type, uint32_t request_id, ByteSpan payload);
  // Writes a frame whose payload is a ModuleOp without an intermediate copy.
  Status WriteOp(wire::MsgType type, uint32_t request_id, const wire::ModuleOp& op);
  // True if a whole frame is already buffered (ReadBody will not block).
  bool HasFrame() const;
  int fd() const { return fd_; }

 private:
  Status Fill(size_t need);
  Status WriteAll();

  int fd_;
  Bytes in_;
  size_t in_pos_ = 0;
  Bytes out_;
};

}  // namespace aex::runtime

#endif  // AEX_RUNTIME_FD_CHANNEL_H_
