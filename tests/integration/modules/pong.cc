// pong: the C++ test module. Its input records every event and forwards it
// unchanged on its output; its handler answers a request with the bitwise
// complement of the request.
//
// Interface (indexes in source order):
//   outputs:  0 pong_out
//   inputs:   0 pong_in
//   handlers: 0 pong_handle   -> ~request (every byte complemented)
//   entries:  0 pong_stats    -> u64 events | u64 bytes | u64 hash |
//                                u64 requests handled | u64 events forwarded |
//                                u64 forward errors

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "aex/module.h"
#include "it_common.h"

SM_OUTPUT(pong_out);

namespace {

class Recorder {
 public:
  void Record(const unsigned char* data, size_t len) {
    ++events_;
    bytes_ += len;
    hash_ = it_hash_event(hash_, data, len);
  }
  void Forwarded(int rc) {
    if (rc < 0) {
      ++forward_errors_;
    } else {
      forwarded_ += static_cast<uint64_t>(rc);
    }
  }
  void Handled() { ++handled_; }

  size_t Encode(unsigned char* out) const {
    const std::array<uint64_t, 6> v = {events_, bytes_, hash_, handled_, forwarded_,
                                       forward_errors_};
    for (size_t i = 0; i < v.size(); ++i) it_put_u64(out + 8 * i, v[i]);
    return 8 * v.size();
  }

 private:
  uint64_t events_ = 0, bytes_ = 0, hash_ = IT_HASH_INIT, handled_ = 0, forwarded_ = 0,
           forward_errors_ = 0;
};

Recorder recorder;

}  // namespace

SM_INPUT(pong_in, data, len) {
  recorder.Record(data, len);
  recorder.Forwarded(pong_out(data, len));
}

SM_HANDLER(pong_handle, data, len, resp, cap) {
  if (len > cap) return cap + 1;
  std::transform(data, data + len, resp, [](unsigned char b) {
    return static_cast<unsigned char>(~b);
  });
  recorder.Handled();
  return len;
}

SM_ENTRY(pong_stats, data, len, resp, cap) {
  (void)data;
  (void)len;
  (void)cap;
  return recorder.Encode(resp);
}
