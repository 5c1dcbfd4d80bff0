// ModuleManifest: the interface of one module (its inputs, outputs, requests,
// handlers and entries, by index), as aex-gen extracts it from the annotated
// source. The deployer checks connections against it and resolves names to
// the indexes that set_key and call carry on the wire.

#ifndef AEX_GEN_MANIFEST_H_
#define AEX_GEN_MANIFEST_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aex/status.h"

namespace aex::gen {

enum class IoKind { kInput, kOutput, kRequest, kHandler, kEntry };
const char* IoKindName(IoKind kind);  // "input", "output", ...

// How an entry is written. aex's own form, SM_ENTRY(name, data, len, resp,
// cap), is a handler. The original framework's forms (docs/modules.md,
// "Modules of the original framework") return nothing: the TrustZone form
// SM_ENTRY(name, data, len) and the Sancus form
// `SM_ENTRY(module) void name(uint8_t* data, size_t len)` are kData, Sancus's
// `SM_ENTRY(module) void name(void)` is kNoArgs. The glue adapts them; they
// answer with an empty response.
enum class EntryForm { kHandler, kData, kNoArgs };

struct ModuleManifest {
  std::string name;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<std::string> requests;
  std::vector<std::string> handlers;
  std::vector<std::string> entries;
  // Entries not in the kHandler form, by name. Only the glue needs it: it is
  // not part of the JSON, since the interface (names, indexes) is the same.
  std::map<std::string, EntryForm> entry_forms;

  const std::vector<std::string>& List(IoKind kind) const;
  std::vector<std::string>& List(IoKind kind);
  // Index of `name` among the entries of `kind`, if declared.
  std::optional<uint16_t> IndexOf(IoKind kind, std::string_view name) const;

  std::string ToJson() const;
  // Parses and validates a manifest (names are C identifiers, at most
  // kMaxPerKind per kind, no duplicates). The text is untrusted.
  static Result<ModuleManifest> FromJson(std::string_view text);

  static constexpr size_t kMaxPerKind = 1024;
};

}  // namespace aex::gen

#endif  // AEX_GEN_MANIFEST_H_
