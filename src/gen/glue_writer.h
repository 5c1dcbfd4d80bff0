// Writes the C++ glue translation unit of a module from its manifest.
//
// The glue is what turns annotated application code into a module the
// trusted runtime can drive:
//   - `aex_module`, an aex_module_desc whose tables map each input, handler
//     and entry index to the application's function, and list the output and
//     request names by index;
//   - one stub per output, `int NAME(data, len)`, calling
//     aex_emit_output(INDEX, ...);
//   - one stub per request, `int NAME(data, len, resp, cap, &resp_len)`,
//     calling aex_issue_request(INDEX, ...).
// Every symbol the application sees has C linkage and exactly the signature
// the SM_* macros in aex/module.h declare, so modules may be C or C++.

#ifndef AEX_GEN_GLUE_WRITER_H_
#define AEX_GEN_GLUE_WRITER_H_

#include <string>

#include "gen/manifest.h"

namespace aex::gen {

// Returns the glue source. Deterministic: the same manifest always yields
// the same text, so rebuilds are reproducible.
// REQUIRES: ValidateManifest(manifest).ok() (as for any manifest returned by
// ParseAnnotations or ModuleManifest::FromJson); otherwise the text may not
// compile.
std::string WriteGlue(const ModuleManifest& manifest);

}  // namespace aex::gen

#endif  // AEX_GEN_GLUE_WRITER_H_
