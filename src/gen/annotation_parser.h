// Scanner for the SM_* module annotations in C and C++ source.
//
// aex-gen does not run the C preprocessor: a module's interface must not
// depend on build flags, and the scanner must be safe on untrusted text. It
// is a small hand-written lexer that knows just enough of C and C++ to skip
// comments, string and character literals, numbers and preprocessor lines,
// and reports every SM_OUTPUT / SM_INPUT / SM_REQUEST / SM_HANDLER / SM_ENTRY
// that appears in code, with the identifier that follows its '('.

#ifndef AEX_GEN_ANNOTATION_PARSER_H_
#define AEX_GEN_ANNOTATION_PARSER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "aex/status.h"
#include "gen/manifest.h"

namespace aex::gen {

struct SourceFile {
  std::string path;  // used only in error messages
  std::string text;
};

// Input bounds; larger input is rejected with kInvalidArgument.
inline constexpr size_t kMaxSourceFiles = 64;
inline constexpr size_t kMaxSourceBytes = size_t{8} << 20;  // per file
inline constexpr size_t kMaxNameLength = 255;               // io names
inline constexpr size_t kMaxModuleNameLength = 128;

// Scans `files` in order and returns the module's interface; indexes follow
// the order of appearance across files. On error the Status is
// kInvalidArgument with a message "path:line: what went wrong".
Result<ModuleManifest> ParseAnnotations(std::string_view module_name,
                                        const std::vector<SourceFile>& files);

// Name rules shared by the parser, ModuleManifest::FromJson and the glue
// writer, so that every manifest that validates yields glue that compiles.

// True if `s` is a C identifier ([A-Za-z_][A-Za-z0-9_]*) that is not a C or
// C++ keyword and is at most kMaxNameLength long.
bool IsCIdentifier(std::string_view s);

// True if `s` is a valid identifier that the application must not use as an
// io name: prefixes aex_, AEX_ and __, an underscore followed by an upper case
// letter (reserved by C), main, and the SM_* macro names.
bool IsReservedName(std::string_view s);

// Returns an empty string if `s` may name an input/output/request/handler/
// entry, otherwise a short reason ("is not a C identifier", ...).
std::string CheckIoName(std::string_view s);

// Module names end up in string literals, file names and log lines: 1 to
// kMaxModuleNameLength characters from [A-Za-z0-9_.-], not starting with '.'
// or '-'.
bool IsValidModuleName(std::string_view s);

// Checks the invariants FromJson enforces (module name, io names, counts, no
// duplicates) on a manifest built in memory.
Status ValidateManifest(const ModuleManifest& manifest);

}  // namespace aex::gen

#endif  // AEX_GEN_ANNOTATION_PARSER_H_
