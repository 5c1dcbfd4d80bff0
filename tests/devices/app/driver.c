/* driver: the only module that may touch the `sensor` device. Everything it
 * reads or writes travels on authenticated connections: changes go out on
 * `changed`, `command` sets the device, `read_value` answers with its value. It
 * has no entry point: nothing unauthenticated reaches the device. */
#include <string.h>

#include "aex/device.h"
#include "aex/module.h"

SM_OUTPUT(changed);

SM_DEVICE_EVENT() {
  char v[AEX_DEVICE_MAX_VALUE + 1];
  int r;
  while ((r = aex_device_poll_event(v, sizeof v)) == 1) {
    changed((const unsigned char*)v, strlen(v));
  }
}

SM_INPUT(command, data, len) {
  char v[AEX_DEVICE_MAX_VALUE + 1];
  if (len == 0 || len > AEX_DEVICE_MAX_VALUE) return;
  memcpy(v, data, len);
  v[len] = '\0';
  if (aex_device_set(v) != AEX_OK) aex_log("cannot set the device to %s", v);
}

SM_HANDLER(read_value, data, len, resp, cap) {
  (void)data, (void)len;
  char v[AEX_DEVICE_MAX_VALUE + 1];
  int n = aex_device_get(v, sizeof v);
  if (n < 0 || (size_t)n > cap) return 0;
  memcpy(resp, v, (size_t)n);
  return (size_t)n;
}
