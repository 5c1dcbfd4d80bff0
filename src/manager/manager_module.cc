// The attestation manager module: the AttestationManager behind one request
// handler. `aex` builds this file like any module source, for the backend of
// the node the descriptor's `manager` names (deployer/builder.cc).

#include <algorithm>

#include "aex/module.h"
#include "manager/attestation_manager.h"

namespace {

aex::manager::AttestationManager& Manager() {
  // The node sees log lines; they name modules and nodes, never a key.
  static aex::manager::AttestationManager manager(
      [](const std::string& line) { aex_log("%s", line.c_str()); });
  return manager;
}

}  // namespace

// Every command of the deployer and its answer (attest/manager_protocol.h).
SM_HANDLER(command, data, len, resp, cap) {
  aex::Bytes out = Manager().Handle(aex::ByteSpan(data, len));
  if (out.size() > cap) {
    aex::crypto::Wipe(out);
    out = aex::attest::EncodeResponse(
        aex::Status(aex::Code::kResourceExhausted, "response too large"), {});
  }
  std::copy(out.begin(), out.end(), resp);
  aex::crypto::Wipe(out);
  return out.size();
}
