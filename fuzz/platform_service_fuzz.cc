// libFuzzer target for the platform service's wire format
// (platform/service_link.h): what aex-platform accepts from any local process
// that connects, and what a module accepts back from its platform service.
//
// The input is used three ways:
//   1. as a request: ParseServiceRequest; whatever parses must re-encode to
//      exactly the input (the format is canonical);
//   2. as a request the service answers (PlatformService::Handle, for a fixed
//      measured peer, with a real key file): every answer must parse as a
//      response;
//   3. as a response: ParseServiceResponse.
// fuzz/corpus/platform_service_fuzz holds one valid request per op and
// backend, and responses.

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>

#include "platform/service_link.h"
#include "platform_service/service.h"
#include "platform_service/service_wire.h"

namespace {

namespace tee = aex::tee;
namespace platsvc = aex::platsvc;

// A service with a real node key (no sgx quoting key: quote requests are
// answered with an error), started once in a temporary directory.
platsvc::PlatformService* Service() {
  static platsvc::PlatformService* service = [] {
    char dir[] = "/tmp/aex-platform-fuzz.XXXXXX";
    if (!mkdtemp(dir)) abort();
    std::string key = std::string(dir) + "/node.key";
    std::ofstream(key) << "000102030405060708090a0b0c0d0e0f\n";
    auto* s = new platsvc::PlatformService(
        platsvc::ServiceOptions{key, "", std::string(dir) + "/p.sock", false, 1});
    if (!s->Start().ok()) abort();
    return s;
  }();
  return service;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aex::ByteSpan in(data, size);
  auto request = tee::ParseServiceRequest(in);
  if (request.ok()) {
    aex::Bytes again = tee::EncodeServiceRequest(*request);
    if (again.size() != size || memcmp(again.data(), data, size) != 0) abort();
  }
  platsvc::Peer peer;  // pidfd -1: no process to re-check; a fixed measurement
  peer.measurement.fill(0x5a);
  platsvc::EnclaveState enclave;  // a fresh connection's
  aex::Bytes answer = Service()->Handle(peer, in, &enclave);
  if (answer.size() > tee::kMaxServiceMessage) abort();
  // Every answer is a well-formed response carrying the service's verdict.
  auto parsed = tee::ParseServiceResponse(answer);
  if (answer.empty() || (answer[0] == 0) != parsed.ok()) abort();
  if (!parsed.ok() && static_cast<uint8_t>(parsed.status().code()) != answer[0]) abort();
  (void)tee::ParseServiceResponse(in);
  return 0;
}
