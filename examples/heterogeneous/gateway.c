/* gateway (TrustZone node): receives the sensor's readings (SpongeWrap,
 * because the sensor is a Sancus module), acknowledges each one back to the
 * sensor, and forwards it to the aggregator (AES-GCM). */
#include "aex/module.h"
#include "common.h"

SM_OUTPUT(ack);
SM_OUTPUT(forward);

static uint32_t forwarded = 0, rejected = 0;

SM_INPUT(from_sensor, data, len) {
  if (len != 8) {
    ++rejected;
    return;
  }
  ++forwarded;
  forward(data, len);
  ack(data, 4); /* the sequence number */
}

/* -> u32 forwarded | u32 rejected */
SM_ENTRY(status, data, len, resp, cap) {
  (void)data, (void)len;
  if (cap < 8) return 0;
  put_u32(resp, forwarded);
  put_u32(resp + 4, rejected);
  return 8;
}
