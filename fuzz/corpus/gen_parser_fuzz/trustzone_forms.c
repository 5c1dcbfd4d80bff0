SM_OUTPUT(o);
SM_INPUT(i, data, len) { DMSG("x\n"); o(NULL, 0); }
SM_ENTRY(e, data, len) { OUTPUT(o, data, len); }
