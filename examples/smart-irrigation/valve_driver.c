/* Drv2, irrigation valve driver (Sancus node in the field). It alone owns the
 * `valve` device. Both applications send it their demand ("open" or
 * "closed") over SPONGENT connections; the valve is open while either demands
 * water. Every change goes back out on `valve_state`, so every physical
 * movement of the valve is the end of an authenticated chain of events from
 * the soil sensor. No entry point: nothing unauthenticated moves the valve. */
#include <string.h>

#include "aex/device.h"
#include "aex/module.h"

SM_OUTPUT(valve_state);

static int demand_a, demand_b;
static const char* current = "";

static int is_open(const unsigned char* data, size_t len) {
  return len == 4 && memcmp(data, "open", 4) == 0;
}

static void apply(void) {
  const char* want = demand_a || demand_b ? "open" : "closed";
  if (strcmp(want, current) == 0) return;
  if (aex_device_set(want) != AEX_OK) {
    aex_log("valve did not take '%s'", want);
    return;
  }
  current = want;
  aex_log("valve %s (gateway %s, cloud %s)", want, demand_a ? "open" : "closed",
          demand_b ? "open" : "closed");
  valve_state((const unsigned char*)want, strlen(want));
}

SM_INPUT(command_a, data, len) {  /* from AppA, the gateway */
  demand_a = is_open(data, len);
  apply();
}

SM_INPUT(command_b, data, len) {  /* from AppB, the cloud */
  demand_b = is_open(data, len);
  apply();
}
