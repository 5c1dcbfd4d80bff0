/* The LED driver that a Sancus board carries in its firmware: aex does not
 * load it, the node runs it from its start (aex-node --preinstall). Inputs,
 * by index as in the original descriptor: 0 init_led, 1 toggle_led. */
#include <sancus/reactive.h>

#include <stdio.h>

static int SM_DATA(led_driver) initialised;
static int SM_DATA(led_driver) on;

SM_INPUT(led_driver, init_led, data, len) {
  (void)data;
  (void)len;
  initialised = 1;
  on = 0;
  puts("[led_driver] initialised, LED off");
}

SM_INPUT(led_driver, toggle_led, data, len) {
  (void)data;
  (void)len;
  if (!initialised) {
    puts("[led_driver] toggle before init: ignored");
    return;
  }
  on = !on;
  printf("[led_driver] LED %s\n", on ? "on" : "off");
}
