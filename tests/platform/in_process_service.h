// A platform service (src/platform_service/) running on a thread of the test
// process, for tests that hold module-side platforms in this process. The
// test executable is not a static module, so the mapping check is off; the
// measurement is still the service's own, of this process.

#ifndef AEX_TESTS_PLATFORM_IN_PROCESS_SERVICE_H_
#define AEX_TESTS_PLATFORM_IN_PROCESS_SERVICE_H_

#include <memory>
#include <string>
#include <thread>

#include "platform_service/service.h"

namespace aex::ptest {

class InProcessService {
 public:
  InProcessService(const std::string& key_file, const std::string& platform_dir,
                   const std::string& socket)
      : service_(platsvc::ServiceOptions{key_file, platform_dir, socket, false, 64}),
        socket_(socket) {}
  ~InProcessService() {
    service_.Stop();
    if (thread_.joinable()) thread_.join();
  }
  Status Start() {
    AEX_RETURN_IF_ERROR(service_.Start());
    thread_ = std::thread([this] { service_.Run(); });
    return Status::Ok();
  }
  const std::string& socket() const { return socket_; }

 private:
  platsvc::PlatformService service_;
  std::string socket_;
  std::thread thread_;
};

}  // namespace aex::ptest

#endif  // AEX_TESTS_PLATFORM_IN_PROCESS_SERVICE_H_
