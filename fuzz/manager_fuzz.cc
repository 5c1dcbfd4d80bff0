// libFuzzer target for the attestation manager's command handling
// (src/manager/attestation_manager.cc): every command decoder and the
// evidence it verifies. The manager is provisioned with one native node under
// a fixed key before the input arrives; the input is then split on the byte
// sequence "|||" into up to eight commands handled in order, so that
// sequences (BEGIN then FINISH, GRANT after a failed FINISH) are explored.
// Whatever the bytes, Handle() must answer with a well-formed response.

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "attest/manager_protocol.h"
#include "manager/attestation_manager.h"

namespace {

using aex::Bytes;
using aex::ByteSpan;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aex::manager::AttestationManager manager([](const std::string&) {});
  aex::attest::AttestationTarget node;
  node.backend = aex::tee::Backend::kNative;
  node.node_key.fill(0x4b);
  Check(aex::attest::DecodeResponse(manager.Handle(aex::attest::EncodeProvision("n1", node)))
            .ok());
  ByteSpan rest(data, size);
  for (int i = 0; i < 8 && !rest.empty(); ++i) {
    size_t cut = rest.size();
    for (size_t j = 0; j + 3 <= rest.size(); ++j) {
      if (std::memcmp(rest.data() + j, "|||", 3) == 0) {
        cut = j;
        break;
      }
    }
    Bytes response = manager.Handle(rest.first(cut));
    auto decoded = aex::attest::DecodeResponse(response);
    Check(decoded.ok() || decoded.status().code() != aex::Code::kProtocol);
    rest = rest.subspan(cut == rest.size() ? cut : cut + 3);
  }
  return 0;
}
