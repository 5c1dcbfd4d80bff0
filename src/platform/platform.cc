#include "platform/platform.h"

namespace aex::tee {

Status Platform::DrawInstanceId() {
  uint8_t id[8];
  do {
    AEX_RETURN_IF_ERROR(crypto::RandomBytes(id));
    instance_id_ = LoadU64(id);
  } while (instance_id_ == 0);
  return Status::Ok();
}

}  // namespace aex::tee
