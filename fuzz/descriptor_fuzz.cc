// libFuzzer target for the deployment descriptor loader: the JSON parser, the
// YAML parser and converter, the entry readers and the validator all see the
// bytes of an operator-supplied (so possibly mistaken or hostile) file.
//
// Besides "no crash, no exception, no out-of-bounds read" (with ASan/UBSan),
// it checks the invariants callers rely on: an accepted descriptor passes
// ValidateDescriptor again unchanged (parsing adds no state the validator
// would reject), names its source, and resolves connection defaults; a
// rejected one carries kInvalidArgument and a message that names the file on
// every line.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "deployer/descriptor.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

constexpr std::string_view kSource = "fuzz.yaml";

bool EveryLineNamesTheFile(const std::string& message) {
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    std::string_view line(message.data() + start, end - start);
    if (line.substr(0, kSource.size()) != kSource && line.rfind("... and ", 0) != 0) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace aex::deploy;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  aex::Result<Descriptor> r = ParseDescriptor(text, std::string(kSource), "/fuzz");
  if (!r.ok()) {
    Check(r.status().code() == aex::Code::kInvalidArgument);
    Check(EveryLineNamesTheFile(r.status().message()));
    return 0;
  }
  const Descriptor& d = *r;
  Check(d.source_name == kSource);
  Check(ValidateDescriptor(d).ok());
  for (const Connection& c : d.connections) {
    Check(!c.name.empty());
    Check(c.direct || !c.from_module.empty());
    Check(c.to_input.has_value() != c.to_handler.has_value());
  }
  for (const Module& m : d.modules) Check(d.FindNode(m.node) != nullptr);

  // The manifest check must cope with any accepted descriptor too.
  std::map<std::string, aex::gen::ModuleManifest> manifests;
  if (!d.modules.empty()) {
    aex::gen::ModuleManifest m;
    m.name = d.modules[0].name;
    m.inputs = {"in"};
    m.outputs = {"out"};
    manifests.emplace(m.name, m);
  }
  (void)ValidateAgainstManifests(d, manifests);
  return 0;
}
