/* led_driver: the only module that may drive the LED device. */
#include "aex/module.h"

static int led_on;

SM_INPUT(toggle_led, data, len) {
  (void)data, (void)len;
  led_on = !led_on;
  aex_log("LED is now %s", led_on ? "ON" : "off");
}

SM_ENTRY(led_state, data, len, resp, cap) {
  (void)data, (void)len;
  if (cap < 1) return 0;
  resp[0] = led_on ? '1' : '0';
  return 1;
}
