/* AppA (TrustZone gateway at the farm): closes the irrigation loop locally.
 * Hysteresis on the soil moisture (percent): below OPEN_BELOW it asks the
 * valve to open, from CLOSE_AT it asks it to close, in between it keeps its
 * last demand. The demand is sent with every reading (idempotent), so a
 * restarted valve driver learns it at the next sample. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aex/module.h"

#define OPEN_BELOW 30
#define CLOSE_AT 45

SM_OUTPUT(valve_cmd);

static int demand_open, last_reading = -1;

SM_INPUT(moisture, data, len) {
  char text[16];
  if (len == 0 || len >= sizeof text) return;
  memcpy(text, data, len);
  text[len] = '\0';
  int v = atoi(text);
  if (v < OPEN_BELOW) demand_open = 1;
  if (v >= CLOSE_AT) demand_open = 0;
  if (v != last_reading) {
    aex_log("soil %d%% -> valve %s", v, demand_open ? "open" : "closed");
  }
  last_reading = v;
  const char* cmd = demand_open ? "open" : "closed";
  valve_cmd((const unsigned char*)cmd, strlen(cmd));
}

/* -> "<last reading> <demand>" (for the operator) */
SM_ENTRY(state, data, len, resp, cap) {
  (void)data, (void)len;
  int n = snprintf((char*)resp, cap, "%d %s", last_reading, demand_open ? "open" : "closed");
  return n > 0 && (size_t)n <= cap ? (size_t)n : 0;
}
