// aggregator (SGX node): keeps statistics over the readings the gateway
// forwards, raises an alert to the dashboard when a reading exceeds the
// threshold (which the operator sets over a direct connection), and serves a
// summary over request/response.
#include <cstdint>

#include "aex/module.h"
#include "common.h"

SM_OUTPUT(alert);

namespace {
uint32_t count = 0, maximum = 0, alerts = 0, threshold = 300;
uint64_t sum = 0;
}  // namespace

SM_INPUT(reading, data, len) {
  if (len != 8) return;
  uint32_t value = get_u32(data + 4);
  ++count;
  sum += value;
  if (value > maximum) maximum = value;
  if (value > threshold) {
    ++alerts;
    alert(data, len);
  }
}

// Direct connection from the operator: u32 new threshold.
SM_INPUT(set_threshold, data, len) {
  if (len == 4) threshold = get_u32(data);
}

// -> u32 count | u32 mean | u32 max | u32 alerts | u32 threshold
SM_HANDLER(summary, data, len, resp, cap) {
  (void)data;
  (void)len;
  if (cap < 20) return 0;
  put_u32(resp, count);
  put_u32(resp + 4, count ? static_cast<uint32_t>(sum / count) : 0);
  put_u32(resp + 8, maximum);
  put_u32(resp + 12, alerts);
  put_u32(resp + 16, threshold);
  return 20;
}
