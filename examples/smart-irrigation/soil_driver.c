/* Drv1, soil-moisture sensor driver (Sancus node in the field). It alone owns
 * the `soil` device (descriptor: device: soil). Every change the sensor
 * reports, and a sample every period, goes out on `moisture` as decimal text
 * (percent), authenticated and encrypted with SPONGENT to both applications.
 * Its one entry, `sample`, only makes it send a fresh reading: nothing
 * unauthenticated can write the device or forge a value. */
#include <string.h>

#include "aex/device.h"
#include "aex/module.h"

SM_OUTPUT(moisture);

static void report(const char* v) { moisture((const unsigned char*)v, strlen(v)); }

SM_DEVICE_EVENT() {
  char v[AEX_DEVICE_MAX_VALUE + 1];
  while (aex_device_poll_event(v, sizeof v) == 1) report(v);
}

/* Periodic: a reading even when nothing changes (a heartbeat for the apps). */
SM_ENTRY(sample, data, len, resp, cap) {
  (void)data, (void)len, (void)resp, (void)cap;
  char v[AEX_DEVICE_MAX_VALUE + 1];
  if (aex_device_get(v, sizeof v) > 0) report(v);
  return 0;
}
