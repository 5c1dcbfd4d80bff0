// main() of every module executable: hands the generated interface to the
// trusted runtime.

#include "runtime/runtime.h"

extern "C" const aex_module_desc aex_module;

int main(int argc, char** argv) { return aex::runtime::ModuleMain(argc, argv, &aex_module); }
