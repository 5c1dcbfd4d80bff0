// Rust modules in the form of the original framework (AE): the annotation
// scanner for a crate's src/lib.rs and the writer of its glue crate root.
//
// A Rust module marks its interface with line comments:
//   //@ sm_output(name)      declares an output: the glue defines
//                           `fn name(data: &[u8])`
//   //@ sm_request(name)     declares a request: the glue defines
//                           `fn name(data: &[u8]) -> Result<Vec<u8>, Error>`
//   //@ sm_input             before `pub fn f(data: &[u8])`
//   //@ sm_handler           before `pub fn f(data: &[u8]) -> Vec<u8>`
//   //@ sm_entry             before `pub fn f(data: &[u8]) -> ResultMessage`
// The scanner is a small lexer that knows enough Rust to skip strings (raw,
// byte), character literals, lifetimes and nested block comments, so that an
// annotation inside them does not count. It reads untrusted text and never
// indexes past its end.

#ifndef AEX_GEN_RUST_GLUE_H_
#define AEX_GEN_RUST_GLUE_H_

#include <string>
#include <string_view>
#include <vector>

#include "aex/status.h"
#include "gen/annotation_parser.h"
#include "gen/manifest.h"

namespace aex::gen {

// The glue crate root includes the module's own lib.rs under this name (a
// sibling of the generated lib.rs, so that the module's `mod x;` items still
// resolve in src/).
inline constexpr std::string_view kRustModuleSource = "aex_module_src.rs";

// Scans `files` (a crate's src/lib.rs, normally one file) and returns the
// module's interface, indexes in order of appearance. Names follow the rules
// of CheckIoName and are no Rust keyword. On error the Status is
// kInvalidArgument with a message "path:line: what went wrong".
Result<ModuleManifest> ParseRustAnnotations(std::string_view module_name,
                                            const std::vector<SourceFile>& files);

// True for the words Rust reserves (strict and reserved keywords): they
// cannot name a generated function.
bool IsRustKeyword(std::string_view s);

// Returns the glue crate's src/lib.rs: the prelude, the output and request
// functions, `include!` of kRustModuleSource, and the C entry points and
// `aex_module` table the runtime expects. Deterministic.
// REQUIRES: ValidateManifest(manifest).ok() and no name is a Rust keyword.
std::string WriteRustGlue(const ModuleManifest& manifest);

}  // namespace aex::gen

#endif  // AEX_GEN_RUST_GLUE_H_
