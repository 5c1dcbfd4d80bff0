// pong: answers every ping with a pong carrying the same sequence number, and
// serves the number of pings it has seen over request/response. Runs on node2.
#include <cstdint>
#include <cstring>

#include "aex/module.h"

SM_OUTPUT(send_pong);

namespace {
uint32_t pings_seen = 0;
}

SM_INPUT(recv_ping, data, len) {
  ++pings_seen;
  send_pong(data, len);  // echo the sequence number back
}

SM_HANDLER(count, data, len, resp, cap) {
  (void)data;
  (void)len;
  if (cap < 4) return 0;
  resp[0] = static_cast<unsigned char>(pings_seen >> 24);
  resp[1] = static_cast<unsigned char>(pings_seen >> 16);
  resp[2] = static_cast<unsigned char>(pings_seen >> 8);
  resp[3] = static_cast<unsigned char>(pings_seen);
  return 4;
}

// Direct request from the operator: returns the text it was given, reversed.
SM_HANDLER(reverse, data, len, resp, cap) {
  size_t n = len < cap ? len : cap;
  for (size_t i = 0; i < n; ++i) resp[i] = data[len - 1 - i];
  return n;
}
