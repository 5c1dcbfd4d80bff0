/* The button driver of a Sancus board, in Sancus's form: the two-argument
 * SM_OUTPUT and SM_INPUT name the module first, SM_ENTRY(module) qualifies an
 * ordinary function, and puts/printf write to the module log. */
#include <sancus/reactive.h>

#include <stdio.h>

SM_OUTPUT(button_driver, button_pressed);

static unsigned SM_DATA(button_driver) presses;

static void SM_FUNC(button_driver) report_press(const char* source) {
  uint16_t seq = (uint16_t)++presses;
  printf("[button_driver] press %u (%s), sending output\n", presses, source);
  button_pressed(&seq, sizeof seq);
}

/* A simulated press: the deployer's trigger-btn connection. */
SM_INPUT(button_driver, trigger_button_press, data, len) {
  (void)data;
  (void)len;
  report_press("trigger");
}

/* What the button's interrupt would call on the board. */
SM_ENTRY(button_driver) void press(uint8_t* data, size_t len) {
  (void)data;
  (void)len;
  report_press("entry");
}

SM_ENTRY(button_driver) void hello(void) { puts("[button_driver] ready"); }
