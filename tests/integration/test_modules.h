// Binary paths and interface indexes of the integration-test modules
// (tests/integration/modules/*, indexes in source order per kind).

#ifndef AEX_TESTS_INTEGRATION_TEST_MODULES_H_
#define AEX_TESTS_INTEGRATION_TEST_MODULES_H_

#include <cstdint>

namespace aex::itest {

// ping.c
namespace ping {
inline constexpr const char* kBin = AEX_IT_PING_BIN;
inline constexpr uint16_t kOut = 0;  // output ping_out
inline constexpr uint16_t kReq = 0;  // request ping_req
inline constexpr uint16_t kIn = 0;   // input ping_in
enum Entry : uint32_t { kEmit = 0, kEmitPattern, kCall, kCallPattern, kTick, kStats };
}  // namespace ping

// pong.cc
namespace pong {
inline constexpr const char* kBin = AEX_IT_PONG_BIN;
inline constexpr uint16_t kOut = 0;     // output pong_out
inline constexpr uint16_t kIn = 0;      // input pong_in (forwards to pong_out)
inline constexpr uint16_t kHandle = 0;  // handler pong_handle (~request)
enum Entry : uint32_t { kStats = 0 };
}  // namespace pong

// sink.c
namespace sink {
inline constexpr const char* kBin = AEX_IT_SINK_BIN;
inline constexpr uint16_t kIn = 0;    // input sink_in
inline constexpr uint16_t kIn2 = 1;   // input sink_in2
inline constexpr uint16_t kEcho = 0;  // handler sink_echo
enum Entry : uint32_t { kStats = 0 };
}  // namespace sink

// crash.c
namespace crash {
inline constexpr const char* kBin = AEX_IT_CRASH_BIN;
enum Entry : uint32_t { kOk = 0, kAbort };
}  // namespace crash

// hang.c
namespace hang {
inline constexpr const char* kBin = AEX_IT_HANG_BIN;
inline constexpr uint16_t kHandle = 0;  // handler hang_handle (never returns)
enum Entry : uint32_t { kOk = 0 };
}  // namespace hang

// ringbad.cc
namespace ringbad {
inline constexpr const char* kBin = AEX_IT_RINGBAD_BIN;
enum Input : uint16_t { kCorrupt = 0, kLength, kStall, kHalf };
enum Entry : uint32_t { kOk = 0 };
}  // namespace ringbad

}  // namespace aex::itest

#endif  // AEX_TESTS_INTEGRATION_TEST_MODULES_H_
