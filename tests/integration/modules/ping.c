/* ping: the C test module. It emits events and issues requests on behalf of
 * the tests (through its entries) and records what arrives on its input.
 *
 * Interface (indexes in source order):
 *   outputs:  0 ping_out
 *   requests: 0 ping_req
 *   inputs:   0 ping_in
 *   entries:  0 ping_emit          arg = payload; emits it on ping_out.
 *                                  -> i32 result of the output stub
 *             1 ping_emit_pattern  arg = u32 count | u32 size | u32 seed; emits
 *                                  `count` events, event k holding
 *                                  it_pattern(seed + k, 0..size).
 *                                  -> i32 sum of the stub results, or the
 *                                     first negative one
 *             2 ping_call          arg = payload; sends it on ping_req.
 *                                  -> i32 rc | u32 resp_len | u64 hash
 *                                     [| response if resp_len <= 4096]
 *             3 ping_call_pattern  arg = u32 size | u32 seed; as ping_call
 *                                  with it_pattern(seed, 0..size).
 *             4 ping_tick          counts calls (for periodic events).
 *             5 ping_stats         -> u64 ticks | u64 events | u64 bytes | u64 hash
 *                                  (hash = it_hash_event chain over ping_in) */

#include <string.h>

#include "aex/module.h"
#include "it_common.h"

SM_OUTPUT(ping_out);
SM_REQUEST(ping_req);

static uint64_t ticks;
static uint64_t in_count, in_bytes, in_hash = IT_HASH_INIT;
static unsigned char buf[AEX_MAX_PAYLOAD + 1];
static unsigned char resp_buf[AEX_MAX_PAYLOAD];

SM_INPUT(ping_in, data, len) {
  ++in_count;
  in_bytes += len;
  in_hash = it_hash_event(in_hash, data, len);
}

static size_t put_rc(unsigned char* resp, int rc) {
  it_put_u32(resp, (uint32_t)rc);
  return 4;
}

SM_ENTRY(ping_emit, data, len, resp, cap) {
  (void)cap;
  return put_rc(resp, ping_out(data, len));
}

SM_ENTRY(ping_emit_pattern, data, len, resp, cap) {
  (void)cap;
  if (len != 12) return put_rc(resp, -100);
  uint32_t count = it_get_u32(data), size = it_get_u32(data + 4), seed = it_get_u32(data + 8);
  if (size > sizeof buf) return put_rc(resp, -101);
  int total = 0;
  for (uint32_t k = 0; k < count; ++k) {
    for (uint32_t i = 0; i < size; ++i) buf[i] = it_pattern(seed + k, i);
    int rc = ping_out(buf, size);
    if (rc < 0) return put_rc(resp, rc);
    total += rc;
  }
  return put_rc(resp, total);
}

static size_t do_call(const unsigned char* req, size_t len, unsigned char* resp) {
  size_t resp_len = 0;
  int rc = ping_req(req, len, resp_buf, sizeof resp_buf, &resp_len);
  if (rc != AEX_OK) resp_len = 0;
  it_put_u32(resp, (uint32_t)rc);
  it_put_u32(resp + 4, (uint32_t)resp_len);
  it_put_u64(resp + 8, it_hash_event(IT_HASH_INIT, resp_buf, resp_len));
  if (resp_len > 4096) return 16;
  memcpy(resp + 16, resp_buf, resp_len);
  return 16 + resp_len;
}

SM_ENTRY(ping_call, data, len, resp, cap) {
  (void)cap;
  return do_call(data, len, resp);
}

SM_ENTRY(ping_call_pattern, data, len, resp, cap) {
  (void)cap;
  if (len != 8) return put_rc(resp, -100);
  uint32_t size = it_get_u32(data), seed = it_get_u32(data + 4);
  if (size > AEX_MAX_PAYLOAD + 1) return put_rc(resp, -101);
  for (uint32_t i = 0; i < size; ++i) buf[i] = it_pattern(seed, i);
  return do_call(buf, size, resp);
}

SM_ENTRY(ping_tick, data, len, resp, cap) {
  (void)data;
  (void)len;
  (void)resp;
  (void)cap;
  ++ticks;
  return 0;
}

SM_ENTRY(ping_stats, data, len, resp, cap) {
  (void)data;
  (void)len;
  (void)cap;
  it_put_u64(resp, ticks);
  it_put_u64(resp + 8, in_count);
  it_put_u64(resp + 16, in_bytes);
  it_put_u64(resp + 24, in_hash);
  return 32;
}
