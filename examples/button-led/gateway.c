/* gateway: on every button press, toggles the LED and counts the press in
 * the database; `report` asks the database for the count over an
 * authenticated request. */
#include <stdio.h>

#include "aex/module.h"

SM_OUTPUT(toggle_led);
SM_OUTPUT(increment_presses);
SM_REQUEST(read_presses);

SM_INPUT(button_pressed, data, len) {
  (void)data, (void)len;
  unsigned char one = 1;
  toggle_led(&one, 1);
  increment_presses(&one, 1);
}

SM_ENTRY(report, data, len, resp, cap) {
  (void)data, (void)len;
  unsigned char count[4];
  size_t n = 0;
  if (read_presses(NULL, 0, count, sizeof count, &n) != AEX_OK || n != 4) return 0;
  unsigned v = ((unsigned)count[0] << 24) | ((unsigned)count[1] << 16) |
               ((unsigned)count[2] << 8) | count[3];
  int w = snprintf((char*)resp, cap, "%u", v);
  return w > 0 ? (size_t)w : 0;
}
