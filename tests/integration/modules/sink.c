/* sink: a C test module that counts what arrives on two inputs and echoes
 * requests.
 *
 * Interface (indexes in source order):
 *   inputs:   0 sink_in, 1 sink_in2
 *   handlers: 0 sink_echo     -> the request, unchanged
 *   entries:  0 sink_stats    -> for sink_in then sink_in2:
 *                                u64 events | u64 bytes | u64 hash;
 *                                then u64 requests echoed */

#include <string.h>

#include "aex/module.h"
#include "it_common.h"

struct counter {
  uint64_t events, bytes, hash;
};

static struct counter inputs[2] = {{0, 0, IT_HASH_INIT}, {0, 0, IT_HASH_INIT}};
static uint64_t echoed;

static void record(struct counter* c, const unsigned char* data, size_t len) {
  ++c->events;
  c->bytes += len;
  c->hash = it_hash_event(c->hash, data, len);
}

SM_INPUT(sink_in, data, len) { record(&inputs[0], data, len); }

SM_INPUT(sink_in2, data, len) { record(&inputs[1], data, len); }

SM_HANDLER(sink_echo, data, len, resp, cap) {
  if (len > cap) return cap + 1;
  if (len > 0) memcpy(resp, data, len);
  ++echoed;
  return len;
}

SM_ENTRY(sink_stats, data, len, resp, cap) {
  (void)data;
  (void)len;
  (void)cap;
  for (int i = 0; i < 2; ++i) {
    it_put_u64(resp + 24 * i, inputs[i].events);
    it_put_u64(resp + 24 * i + 8, inputs[i].bytes);
    it_put_u64(resp + 24 * i + 16, inputs[i].hash);
  }
  it_put_u64(resp + 48, echoed);
  return 56;
}
