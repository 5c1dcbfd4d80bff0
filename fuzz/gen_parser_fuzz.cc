// libFuzzer target for aex-gen's parsers: the C/C++ and the Rust annotation
// scanners and the manifest JSON reader all take untrusted text.
//
// Besides "no crash, no out-of-bounds read" (with ASan/UBSan), it checks the
// invariants the rest of aex relies on: whatever the scanner accepts is a
// valid manifest that survives a JSON round trip unchanged, and the glue
// writer accepts it; whatever FromJson accepts round-trips too.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gen/annotation_parser.h"
#include "gen/glue_writer.h"
#include "gen/manifest.h"
#include "gen/rust_glue.h"

namespace {

bool SameManifest(const aex::gen::ModuleManifest& a, const aex::gen::ModuleManifest& b) {
  return a.name == b.name && a.inputs == b.inputs && a.outputs == b.outputs &&
         a.requests == b.requests && a.handlers == b.handlers && a.entries == b.entries;
}

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckRoundTrip(const aex::gen::ModuleManifest& m) {
  Check(aex::gen::ValidateManifest(m).ok());
  auto back = aex::gen::ModuleManifest::FromJson(m.ToJson());
  Check(back.ok());
  Check(SameManifest(m, *back));
  Check(!aex::gen::WriteGlue(m).empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);

  std::vector<aex::gen::SourceFile> files = {{"fuzz.c", text}};
  auto parsed = aex::gen::ParseAnnotations("fuzz", files);
  if (parsed.ok()) {
    CheckRoundTrip(*parsed);
    // Only entries have forms (the glue adapts them by name).
    for (const auto& [name, form] : parsed->entry_forms) {
      Check(form != aex::gen::EntryForm::kHandler);
      Check(parsed->IndexOf(aex::gen::IoKind::kEntry, name).has_value());
    }
  } else {
    Check(parsed.status().code() == aex::Code::kInvalidArgument);
  }

  std::vector<aex::gen::SourceFile> rust = {{"lib.rs", text}};
  auto rust_parsed = aex::gen::ParseRustAnnotations("fuzz", rust);
  if (rust_parsed.ok()) {
    CheckRoundTrip(*rust_parsed);
    for (auto kind : {aex::gen::IoKind::kInput, aex::gen::IoKind::kOutput,
                      aex::gen::IoKind::kRequest, aex::gen::IoKind::kHandler,
                      aex::gen::IoKind::kEntry}) {
      for (const std::string& name : rust_parsed->List(kind)) {
        Check(!aex::gen::IsRustKeyword(name));
      }
    }
    Check(!aex::gen::WriteRustGlue(*rust_parsed).empty());
  } else {
    Check(rust_parsed.status().code() == aex::Code::kInvalidArgument);
  }

  auto manifest = aex::gen::ModuleManifest::FromJson(text);
  if (manifest.ok()) CheckRoundTrip(*manifest);
  return 0;
}
