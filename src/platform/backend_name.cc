// Backend names for descriptors, the CLI and the node. Its own object, so
// that modules (which never name their backend) do not link it.
#include "platform/platform.h"

namespace aex::tee {

const char* BackendName(Backend b) {
  switch (b) {
    case Backend::kNative: return "native";
    case Backend::kSgx: return "sgx";
    case Backend::kTrustZone: return "trustzone";
    case Backend::kSancus: return "sancus";
  }
  return "unknown";
}

bool ParseBackend(std::string_view name, Backend* out) {
  for (Backend b : {Backend::kNative, Backend::kSgx, Backend::kTrustZone, Backend::kSancus}) {
    if (name == BackendName(b)) {
      *out = b;
      return true;
    }
  }
  return false;
}

}  // namespace aex::tee
