// The trusted module runtime: the loop inside every module that receives the
// node's messages over the module's channel, authenticates and decrypts
// events, calls the application, and seals what the application emits.
//
// It is the Trusted Computing Base with the platform layer and the crypto
// library: no Asio, JSON, logging framework or node code may enter it
// (scripts/tcb-size counts its lines).

#ifndef AEX_RUNTIME_RUNTIME_H_
#define AEX_RUNTIME_RUNTIME_H_

#include "aex/module.h"

namespace aex::runtime {

// Entry point of a module executable. Arguments (set by the node):
//   --aex-fd N (doorbell)  --aex-ring N (memfd, wire/ring.h)  --aex-module-id N
//   [--aex-platform-socket PATH] [--aex-sgx-debug 0|1]
int ModuleMain(int argc, char** argv, const aex_module_desc* desc);

}  // namespace aex::runtime

#endif  // AEX_RUNTIME_RUNTIME_H_
