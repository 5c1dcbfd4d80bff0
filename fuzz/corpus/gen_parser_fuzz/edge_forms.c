SM_ENTRY(m) static unsigned char * /* c */ f(void) {}
void SM_ENTRY(m) g(uint8_t* d, size_t n) {}
SM_INPUT(m, i, f(a, b), ")") {}
