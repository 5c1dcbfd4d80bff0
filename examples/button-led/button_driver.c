/* button_driver: the only module that may read the button device. A press
 * (simulated by calling the `press` entry, as the hardware interrupt would)
 * becomes an authenticated event for the gateway. */
#include "aex/module.h"

SM_OUTPUT(button_pressed);

static unsigned presses;

SM_ENTRY(press, data, len, resp, cap) {
  (void)data, (void)len, (void)resp, (void)cap;
  unsigned char n = (unsigned char)++presses;
  button_pressed(&n, 1);
  aex_log("button pressed (#%u)", presses);
  return 0;
}
