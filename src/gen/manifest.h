// ModuleManifest: the interface of one module (its inputs, outputs, requests,
// handlers and entries, by index), as aex-gen extracts it from the annotated
// source. The deployer checks connections against it and resolves names to
// the indexes that set_key and call carry on the wire.

#ifndef AEX_GEN_MANIFEST_H_
#define AEX_GEN_MANIFEST_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aex/status.h"

namespace aex::gen {

enum class IoKind { kInput, kOutput, kRequest, kHandler, kEntry };
const char* IoKindName(IoKind kind);  // "input", "output", ...

struct ModuleManifest {
  std::string name;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<std::string> requests;
  std::vector<std::string> handlers;
  std::vector<std::string> entries;

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
