/* sensor (Sancus node): a microcontroller-class module. On every tick it
 * samples a simulated temperature (tenths of a degree) and sends
 * u32 seq | u32 value to the gateway over SpongeWrap; the gateway
 * acknowledges each reading with its sequence number. */
#include "aex/module.h"
#include "common.h"

SM_OUTPUT(reading);

static uint32_t seq = 0, acks = 0, last_acked = 0;

SM_ENTRY(tick, data, len, resp, cap) {
  (void)data, (void)len, (void)resp, (void)cap;
  unsigned char msg[8];
  ++seq;
  /* A slow sawtooth around 22 degrees with a spike every 16th sample. */
  uint32_t value = 200 + (seq * 7) % 50 + (seq % 16 == 0 ? 150 : 0);
  put_u32(msg, seq);
  put_u32(msg + 4, value);
  reading(msg, sizeof msg);
  return 0;
}

SM_INPUT(ack, data, len) {
  if (len != 4) return;
  ++acks;
  last_acked = get_u32(data);
}

/* -> u32 readings sent | u32 acks received | u32 last acknowledged seq */
SM_ENTRY(status, data, len, resp, cap) {
  (void)data, (void)len;
  if (cap < 12) return 0;
  put_u32(resp, seq);
  put_u32(resp + 4, acks);
  put_u32(resp + 8, last_acked);
  return 12;
}
