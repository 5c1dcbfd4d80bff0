#include "gen/manifest.h"

#include <algorithm>
#include <exception>
#include <new>
#include <utility>

#include <nlohmann/json.hpp>

#include "gen/annotation_parser.h"

namespace aex::gen {
namespace {

// Big enough for kMaxPerKind names of kMaxNameLength in every kind with
// generous formatting; anything larger is not a manifest aex-gen wrote.
constexpr size_t kMaxManifestBytes = size_t{4} << 20;

struct KindKey {
  IoKind kind;
  const char* key;
};

// JSON keys, in the order ToJson writes them.
constexpr KindKey kKindKeys[] = {
    {IoKind::kInput, "inputs"},     {IoKind::kOutput, "outputs"},
    {IoKind::kRequest, "requests"}, {IoKind::kHandler, "handlers"},
    {IoKind::kEntry, "entries"},
};

bool IsKnownKey(const std::string& key) {
  if (key == "name") return true;
  return std::any_of(std::begin(kKindKeys), std::end(kKindKeys),
                     [&](const KindKey& k) { return key == k.key; });
}

// Copies the array of strings at `key` into *out; a missing key is an empty
// list. Bounds the size before copying anything.
Status ReadNameList(const nlohmann::json& doc, const char* key, std::vector<std::string>* out) {
  auto it = doc.find(key);
  if (it == doc.end()) return Status::Ok();
  if (!it->is_array()) {
    return InvalidArgument(std::string("manifest: \"") + key + "\" must be an array of strings");
  }
  if (it->size() > ModuleManifest::kMaxPerKind) {
    return InvalidArgument(std::string("manifest: \"") + key + "\" has more than " +
                           std::to_string(ModuleManifest::kMaxPerKind) + " names");
  }
  out->reserve(it->size());
  for (const nlohmann::json& element : *it) {
    if (!element.is_string()) {
      return InvalidArgument(std::string("manifest: \"") + key + "\" must be an array of strings");
    }
    out->push_back(element.get<std::string>());
  }
  return Status::Ok();
}

// The body of FromJson; may throw nlohmann or allocation exceptions, which
// FromJson turns into a Status.
Result<ModuleManifest> ParseManifest(std::string_view text) {
  nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end());
  if (!doc.is_object()) return InvalidArgument("manifest: not a JSON object");
  for (const auto& item : doc.items()) {
    if (!IsKnownKey(item.key())) {
      return InvalidArgument("manifest: unknown key \"" + item.key() + "\"");
    }
  }
  auto name = doc.find("name");
  if (name == doc.end() || !name->is_string()) {
    return InvalidArgument("manifest: \"name\" must be a string");
  }
  ModuleManifest manifest;
  manifest.name = name->get<std::string>();
  for (const KindKey& k : kKindKeys) {
    AEX_RETURN_IF_ERROR(ReadNameList(doc, k.key, &manifest.List(k.kind)));
  }
  Status valid = ValidateManifest(manifest);
  if (!valid.ok()) return InvalidArgument("manifest: " + valid.message());
  return manifest;
}

}  // namespace

const char* IoKindName(IoKind kind) {
  switch (kind) {
    case IoKind::kInput: return "input";
    case IoKind::kOutput: return "output";
    case IoKind::kRequest: return "request";
    case IoKind::kHandler: return "handler";
    case IoKind::kEntry: return "entry";
  }
  return "unknown";
}

const std::vector<std::string>& ModuleManifest::List(IoKind kind) const {
  switch (kind) {
    case IoKind::kInput: return inputs;
    case IoKind::kOutput: return outputs;
    case IoKind::kRequest: return requests;
    case IoKind::kHandler: return handlers;
    case IoKind::kEntry: return entries;
  }
  return entries;  // unreachable for valid enum values
}

std::vector<std::string>& ModuleManifest::List(IoKind kind) {
  return const_cast<std::vector<std::string>&>(std::as_const(*this).List(kind));
}

std::optional<uint16_t> ModuleManifest::IndexOf(IoKind kind, std::string_view name) const {
  const std::vector<std::string>& list = List(kind);
  // Indexes travel as u16 on the wire; a list longer than that (never valid)
  // must not alias small indexes.
  size_t n = std::min<size_t>(list.size(), UINT16_MAX + size_t{1});
  for (size_t i = 0; i < n; ++i) {
    if (list[i] == name) return static_cast<uint16_t>(i);
  }
  return std::nullopt;
}

std::string ModuleManifest::ToJson() const {
  // ordered_json keeps "name" first and the kinds in a fixed, readable order.
  nlohmann::ordered_json doc;
  doc["name"] = name;
  for (const KindKey& k : kKindKeys) doc[k.key] = List(k.kind);
  // Replacing invalid UTF-8 (only possible in a manifest that would not
  // validate) keeps dump() from throwing.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<ModuleManifest> ModuleManifest::FromJson(std::string_view text) {
  if (text.size() > kMaxManifestBytes) {
    return InvalidArgument("manifest: larger than " + std::to_string(kMaxManifestBytes) +
                           " bytes");
  }
  try {
    return ParseManifest(text);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("manifest: invalid JSON: ") + e.what());
  } catch (const std::bad_alloc&) {
    return Status(Code::kResourceExhausted, "manifest: out of memory");
  } catch (const std::exception& e) {
    return Internal(std::string("manifest: ") + e.what());
  }
}

}  // namespace aex::gen
