#include "platform/session.h"

namespace aex::tee {

Result<Bytes> NewSessionHeader(uint8_t flags, uint64_t instance_id) {
  Bytes h(kSessionHeaderSize);
  h[0] = flags;
  StoreU64(h.data() + 1, instance_id);
  AEX_RETURN_IF_ERROR(crypto::RandomBytes(std::span(h).subspan(9)));
  return h;
}

}  // namespace aex::tee
