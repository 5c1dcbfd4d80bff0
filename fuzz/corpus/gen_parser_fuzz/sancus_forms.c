#include <sancus/reactive.h>
SM_OUTPUT(m, out);
SM_INPUT(m, in, data, len) { out(data, len); }
SM_ENTRY(m) void go(uint8_t* d, size_t n) { puts("go"); }
