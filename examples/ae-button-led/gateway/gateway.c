/* The gateway, a TrustZone module in the original framework's form: no
 * #include (aex build adds aex/ae_forms.h, as the original's code generator
 * added its headers), OP-TEE's trace macros, and entries without a
 * response. */

SM_OUTPUT(toggle_led);
SM_OUTPUT(increment_presses);

static unsigned presses;

SM_INPUT(button_pressed, data, data_len) {
  (void)data;
  (void)data_len;
  DMSG("Remote button has been pressed\n");
  ++presses;
  toggle_led(NULL, 0);         /* the LED on the other board */
  increment_presses(NULL, 0);  /* the count in the database */
}

SM_ENTRY(report, data, data_len) {
  (void)data;
  (void)data_len;
  IMSG("gateway: %u presses so far", presses);
  if (presses == 0) EMSG("gateway: no press yet");
}
