// The module entry of the trustzone platform library (kept apart so a test can link
// several backends' platforms into one process).

#include "platform/platform.h"

namespace aex::tee {

std::unique_ptr<Platform> CreateModulePlatform() { return CreateTrustZonePlatform(); }

}  // namespace aex::tee
