/* ping: sends a numbered ping on every tick and counts the pongs that come
 * back. Runs on node1. */
#include <stdint.h>
#include <string.h>

#include "aex/module.h"

SM_OUTPUT(send_ping);
SM_REQUEST(ask_count);

static uint32_t next_seq = 1;
static uint32_t pongs = 0;

static void put_u32(unsigned char* p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Periodic entry: one ping per tick. */
SM_ENTRY(tick, data, len, resp, cap) {
  (void)data, (void)len, (void)resp, (void)cap;
  unsigned char msg[4];
  put_u32(msg, next_seq);
  if (send_ping(msg, sizeof msg) > 0) aex_log("ping #%u sent", (unsigned)next_seq++);
  return 0;
}

SM_INPUT(recv_pong, data, len) {
  if (len != 4) return;
  pongs++;
  uint32_t seq = get_u32(data);
  unsigned char reply[4];
  size_t n = 0;
  /* Ask pong, over an authenticated request/response, how many it has seen. */
  if (ask_count(NULL, 0, reply, sizeof reply, &n) == AEX_OK && n == 4) {
    aex_log("pong #%u received (%u so far; pong has seen %u pings)", (unsigned)seq,
            (unsigned)pongs, (unsigned)get_u32(reply));
  }
}

SM_ENTRY(pongs_received, data, len, resp, cap) {
  (void)data, (void)len;
  if (cap < 4) return 0;
  put_u32(resp, pongs);
  return 4;
}
