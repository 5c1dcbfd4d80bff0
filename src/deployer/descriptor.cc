// Loading a deployment descriptor: text -> JSON tree -> Descriptor.
//
// Both formats are first turned into one nlohmann::json tree (YAML through
// an explicit converter), so a single code path reads the entries. That path
// checks presence, types and ranges field by field and records every problem
// in a Diagnostics; descriptor_validate.cc then applies the rules that span
// fields and entries. Errors are formatted only at the end, when every
// entry's name is known.

#include "deployer/descriptor.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <unordered_set>
#include <utility>

#include "attest/dcap/collateral.h"
#include "deployer/suggest.h"

namespace aex::deploy {

using internal::Diagnostics;
using internal::Quote;
using internal::Section;
using internal::Where;

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Enums

std::optional<Backend> ParseBackend(std::string_view name) {
  Backend b;
  if (!tee::ParseBackend(name, &b)) return std::nullopt;
  return b;
}

const char* EncryptionName(Encryption encryption) {
  switch (encryption) {
    case Encryption::kAes:
      return "aes";
    case Encryption::kSpongent:
      return "spongent";
  }
  return "unknown";
}

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::optional<Encryption> ParseEncryption(std::string_view name) {
  if (EqualsIgnoreCase(name, "aes")) return Encryption::kAes;
  if (EqualsIgnoreCase(name, "spongent")) return Encryption::kSpongent;
  return std::nullopt;
}

bool BackendSupports(Backend backend, Encryption encryption) {
  return backend != Backend::kSancus || encryption == Encryption::kSpongent;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool UsesTls(const Node& node) { return node.tls.value_or(true); }

// ---------------------------------------------------------------------------
// Descriptor lookups

namespace {

template <typename T>
const T* FindByName(const std::vector<T>& entries, std::string_view name) {
  for (const T& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace

const Node* Descriptor::FindNode(std::string_view name) const { return FindByName(nodes, name); }
const Module* Descriptor::FindModule(std::string_view name) const {
  return FindByName(modules, name);
}
const Connection* Descriptor::FindConnection(std::string_view name) const {
  return FindByName(connections, name);
}
const PeriodicEvent* Descriptor::FindEvent(std::string_view name) const {
  return FindByName(periodic_events, name);
}

namespace {

using Json = nlohmann::json;

// The descriptor is shallow (at most five levels in practice); the limits
// only stop hostile input from exhausting the stack or memory.
constexpr int kMaxNesting = 64;
// Without aliases a YAML document has fewer nodes than bytes and its
// scalars are shorter than it; aliases may repeat a subtree, but a
// descriptor has no reason to expand to many times its size. The budgets
// stop "billion laughs" documents early.
constexpr size_t kYamlExpansion = 4;
constexpr size_t kYamlSlack = 4096;
// yaml-cpp builds a heavy node tree at about 1 MB/s (and 200 bytes of
// memory per input byte for deep flow nesting), so YAML gets a smaller cap
// than JSON to keep every accepted size under 2 s (bench/descriptor_bench.cc).
// Real descriptors are a few KiB.
constexpr size_t kMaxYamlBytes = 1u << 20;

// ---------------------------------------------------------------------------
// Keys accepted in each entry. Anything else is an error: a misspelt key
// would otherwise be silently ignored, as the original tool did for nodes
// and modules.

constexpr std::string_view kTopKeys[] = {
    "nodes",
    "modules",
    "connections",
    "periodic-events",
    "manager",
    "connections_current_id",
    "events_current_id",
};

constexpr std::string_view kNodeKeys[] = {
    "type",
    "name",
    "host",
    "ip_address",
    "reactive_port",
    "deploy_port",
    // Original, type-specific.
    "module_id",
    "vendor_id",
    "vendor_key",
    "node_key",
    "aesm_host",
    "aesm_port",
    // aex extensions.
    "node_key_file",
    "allow_simulated",
    "allow_debug",
    "root_ca",
    "tcb_statuses",
    "min_isv_svn",
    "isv_prod_id",
    "mrsigner",
    "collateral",
    "devices",
    "tls",
};

constexpr std::string_view kModuleKeys[] = {
    "type",
    "name",
    "node",
    // aex build inputs.
    "sources",
    "folder",
    "files",
    "cflags",
    "ldflags",
    "features",
    "device",
    "expected_measurement",
    // Original state that aex reads.
    "old_node",
    "priority",
    "nonce",
    "deployed",
    "attested",
    "id",
    "key",
    "port",
    // Original fields that aex type-checks and ignores (kModuleIgnoredKeys).
    "binary",
    "data",
    "deploy_name",
    "uuid",
    "vendor_key",
    "ra_settings",
    "symtab",
    "sgxs",
    "signature",
};

constexpr std::string_view kConnectionKeys[] = {
    "name",     "from_module", "from_output", "from_request", "to_module",
    "to_input", "to_handler",  "encryption",  "key",          "id",
    "direct",   "nonce",       "established",
};

constexpr std::string_view kEventKeys[] = {
    "name", "id", "module", "entry", "frequency", "established",
};

// ---------------------------------------------------------------------------
// Text -> JSON

std::string TypeName(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return "a number with a fraction";
    case Json::value_t::object:
      return "a mapping";
    case Json::value_t::array:
      return "a list";
    default:
      return "an unsupported value";
  }
}

// The parsers' messages may quote the offending input (yaml-cpp copies an
// unknown escape character verbatim, newline included): keep them on one
// line and free of terminal control sequences.
std::string Sanitize(std::string_view message) {
  constexpr size_t kMaxLength = 300;
  std::string out;
  for (char ch : message.substr(0, kMaxLength)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (message.size() > kMaxLength) out += "...";
  return out;
}

// nlohmann's messages start with "[json.exception.parse_error.101] ".
std::string StripJsonPrefix(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    size_t end = what.find("] ");
    if (end != std::string_view::npos) what.remove_prefix(end + 2);
  }
  return Sanitize(what);
}

// Deepest nesting of [ and { outside JSON strings. Checked before parsing
// because a deep enough document costs memory in proportion to its depth.
int JsonNesting(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

enum class ParseOutcome { kOk, kWrongFormat, kInvalid };

// Builds the JSON tree from nlohmann's SAX events and rejects duplicate keys
// (which nlohmann's own parser silently merges). nlohmann's callback parser
// would do the same but scans the enclosing container after every closed
// object, which makes a long list of objects quadratic (issue 12); here
// every event costs O(log n) at most.
class TreeBuilder : public nlohmann::json_sax<Json> {
 public:
  explicit TreeBuilder(Json* root) : root_(root) {}

  bool null() override { return Add(nullptr) != nullptr; }
  bool boolean(bool v) override { return Add(v) != nullptr; }
  bool number_integer(number_integer_t v) override { return Add(v) != nullptr; }
  bool number_unsigned(number_unsigned_t v) override { return Add(v) != nullptr; }
  bool number_float(number_float_t v, const string_t&) override { return Add(v) != nullptr; }
  bool string(string_t& v) override { return Add(std::move(v)) != nullptr; }
  bool binary(binary_t& v) override { return Add(Json::binary(std::move(v))) != nullptr; }

  bool start_object(std::size_t) override { return Open(Json::object()); }
  bool start_array(std::size_t) override { return Open(Json::array()); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }

  // Keys always belong to the innermost open object.
  bool key(string_t& k) override {
    Json& object = *open_.back();
    if (object.contains(k)) {
      duplicate_ = k;
      has_duplicate_ = true;
      return false;
    }
    slot_ = &object[k];
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error_ = StripJsonPrefix(e.what());
    return false;
  }

  bool has_duplicate() const { return has_duplicate_; }
  const std::string& duplicate() const { return duplicate_; }
  const std::string& error() const { return error_; }

 private:
  // The new value's place: the root, the end of the open list, or the slot
  // of the last key. Pointers stay valid: a container only grows while it
  // is the innermost open one, and then no pointer into it is held.
  Json* Add(Json value) {
    Json* target = root_;
    if (!open_.empty()) {
      Json& parent = *open_.back();
      if (parent.is_array()) {
        parent.push_back(std::move(value));
        return &parent.back();
      }
      target = slot_;
    }
    *target = std::move(value);
    return target;
  }
  bool Open(Json container) {
    Json* added = Add(std::move(container));
    open_.push_back(added);
    return added != nullptr;
  }
  bool Close() {
    open_.pop_back();
    return true;
  }

  Json* root_;
  Json* slot_ = nullptr;
  std::vector<Json*> open_;
  std::string duplicate_;
  bool has_duplicate_ = false;
  std::string error_;
};

// kWrongFormat: not JSON at all (try YAML next). kInvalid: well-formed JSON
// that breaks a rule no format could fix (a duplicate key).
ParseOutcome ParseJson(std::string_view text, Json* out, std::string* error) {
  if (JsonNesting(text) > kMaxNesting) {
    *error = "nested deeper than " + std::to_string(kMaxNesting) + " levels";
    return ParseOutcome::kWrongFormat;
  }
  Json root;
  TreeBuilder builder(&root);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &builder);
  } catch (const std::exception& e) {
    *error = StripJsonPrefix(e.what());
    return ParseOutcome::kWrongFormat;
  }
  if (builder.has_duplicate()) {
    *error = "duplicate key " + Quote(builder.duplicate()) + " in a mapping";
    return ParseOutcome::kInvalid;
  }
  if (!ok) {
    *error = builder.error().empty() ? "invalid JSON" : builder.error();
    return ParseOutcome::kWrongFormat;
  }
  *out = std::move(root);
  return ParseOutcome::kOk;
}

// Plain YAML scalars are typed as PyYAML's full loader (YAML 1.1) types
// them, so that original descriptors mean the same thing here, with one
// deliberate difference: digits with a leading zero, or too many to fit 64
// bits, stay strings. A hex key that happens to contain only decimal digits
// thus survives unquoted instead of turning into an octal or huge number.
bool IsOneOf(std::string_view s, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), s) != words.end();
}

bool ParseYamlInt(std::string_view s, Json* out) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x') {
    base = 16;
    s.remove_prefix(2);
  } else if (s.empty() || (s.size() > 1 && s[0] == '0')) {
    return false;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (ec != std::errc() || end != s.data() + s.size()) return false;
  if (!negative) {
    *out = value;
    return true;
  }
  constexpr uint64_t kMinMagnitude = uint64_t{1} << 63;
  if (value > kMinMagnitude) return false;
  *out =
      value == kMinMagnitude ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(value);
  return true;
}

bool ParseYamlFloat(std::string_view s, Json* out) {
  if (IsOneOf(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (IsOneOf(s, {"-.inf", "-.Inf", "-.INF"})) {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (IsOneOf(s, {".nan", ".NaN", ".NAN"})) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? with a '.' or an exponent.
  size_t i = 0;
  auto digits = [&]() {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t mantissa = digits();
  bool fraction = false, exponent = false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    fraction = true;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
    exponent = true;
  }
  if (i != s.size() || (!fraction && !exponent)) return false;
  std::string_view number = s;
  if (number[0] == '+') number.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size()) return false;
  *out = value;
  return true;
}

Json ResolvePlainScalar(const std::string& s) {
  if (IsOneOf(s, {"", "~", "null", "Null", "NULL"})) return nullptr;
  if (IsOneOf(s, {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})) return true;
  if (IsOneOf(s, {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})) {
    return false;
  }
  Json number;
  if (ParseYamlInt(s, &number) || ParseYamlFloat(s, &number)) return number;
  return s;
}

class YamlConverter {
 public:
  explicit YamlConverter(size_t text_size)
      : nodes_left_(kYamlExpansion * text_size + kYamlSlack),
        scalar_bytes_left_(kYamlExpansion * text_size + kYamlSlack) {}

  bool Convert(const YAML::Node& node, int depth, Json* out) {
    if (depth > kMaxNesting) {
      return Fail(node, "nested deeper than " + std::to_string(kMaxNesting) + " levels");
    }
    if (nodes_left_ == 0) return Fail(node, "too many nodes (aliases expand too far)");
    --nodes_left_;
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        *out = nullptr;
        return true;
      case YAML::NodeType::Scalar:
        return ConvertScalar(node, out);
      case YAML::NodeType::Sequence:
        if (!CollectionTagOk(node, "tag:yaml.org,2002:seq")) return false;
        return ConvertSequence(node, depth, out);
      case YAML::NodeType::Map:
        if (!CollectionTagOk(node, "tag:yaml.org,2002:map")) return false;
        return ConvertMap(node, depth, out);
    }
    return Fail(node, "unsupported node");
  }

  const std::string& error() const { return error_; }

 private:
  bool Fail(const YAML::Node& node, std::string message) {
    const YAML::Mark mark = node.Mark();
    if (!mark.is_null()) {
      message = "line " + std::to_string(mark.line + 1) + ", column " +
                std::to_string(mark.column + 1) + ": " + message;
    }
    error_ = std::move(message);
    return false;
  }

  // PyYAML's full loader would build arbitrary objects from some tags; a
  // descriptor never needs a tag, so only the standard ones are accepted.
  bool CollectionTagOk(const YAML::Node& node, std::string_view standard) {
    const std::string& tag = node.Tag();
    if (tag.empty() || tag == "?" || tag == standard) return true;
    return Fail(node, "unsupported YAML tag " + Quote(tag));
  }

  bool ConvertScalar(const YAML::Node& node, Json* out) {
    const std::string& text = node.Scalar();
    if (text.size() > scalar_bytes_left_) return Fail(node, "scalars too large in total");
    scalar_bytes_left_ -= text.size();
    const std::string& tag = node.Tag();
    if (tag == "!" || tag == "tag:yaml.org,2002:str") {
      *out = text;  // quoted or block scalar, or explicitly a string
      return true;
    }
    // Plain ("?"): typed by its spelling. An explicit standard tag is
    // treated the same; the field's type check catches a mismatch.
    const bool typed_by_spelling = tag == "?" || tag == "tag:yaml.org,2002:int" ||
                                   tag == "tag:yaml.org,2002:float" ||
                                   tag == "tag:yaml.org,2002:bool" ||
                                   tag == "tag:yaml.org,2002:null";
    if (!typed_by_spelling) return Fail(node, "unsupported YAML tag " + Quote(tag));
    *out = ResolvePlainScalar(text);
    return true;
  }

  bool ConvertSequence(const YAML::Node& node, int depth, Json* out) {
    *out = Json::array();
    for (YAML::const_iterator it = node.begin(); it != node.end(); ++it) {
      Json element;
      if (!Convert(*it, depth + 1, &element)) return false;
      out->push_back(std::move(element));
    }
    return true;
  }

  bool ConvertMap(const YAML::Node& node, int depth, Json* out) {
    *out = Json::object();
    for (YAML::const_iterator it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) return Fail(it->first, "mapping keys must be scalars");
      const std::string& key = it->first.Scalar();
      if (out->contains(key)) return Fail(it->first, "duplicate key " + Quote(key));
      Json value;
      if (!Convert(it->second, depth + 1, &value)) return false;
      (*out)[key] = std::move(value);
    }
    return true;
  }

  size_t nodes_left_;
  size_t scalar_bytes_left_;
  std::string error_;
};

bool ParseYaml(std::string_view text, Json* out, std::string* error) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    YamlConverter converter(text.size());
    if (!converter.Convert(root, 0, out)) {
      *error = converter.error();
      return false;
    }
    return true;
  } catch (const YAML::Exception& e) {
    // e.what() repeats the mark; msg plus our own position reads better.
    *error = e.mark.is_null() ? Sanitize(e.msg)
                              : "line " + std::to_string(e.mark.line + 1) + ", column " +
                                    std::to_string(e.mark.column + 1) + ": " + Sanitize(e.msg);
  } catch (const std::exception& e) {
    *error = Sanitize(e.what());
  }
  return false;
}

// JSON first, then YAML, like the original tool. JSON goes first although
// YAML would read most JSON too, because JSON's typing is exact.
Status ParseText(std::string_view text, const std::string& source, Json* out) {
  std::string json_error, yaml_error;
  switch (ParseJson(text, out, &json_error)) {
    case ParseOutcome::kOk:
      return Status::Ok();
    case ParseOutcome::kInvalid:
      return InvalidArgument(source + ": " + json_error);
    case ParseOutcome::kWrongFormat:
      break;
  }
  if (text.size() > kMaxYamlBytes) {
    yaml_error = "larger than " + std::to_string(kMaxYamlBytes >> 20) +
                 " MiB, the limit for YAML (use JSON for larger descriptors)";
  } else if (ParseYaml(text, out, &yaml_error)) {
    return Status::Ok();
  }
  // The JSON error helps only if the text was meant to be JSON.
  const size_t first = text.find_first_not_of(" \t\r\n");
  const bool looks_like_json =
      first != std::string_view::npos && (text[first] == '{' || text[first] == '[');
  return InvalidArgument(source + ": is not a JSON, nor a YAML document (" +
                         (looks_like_json ? "as JSON: " + json_error + "; " : std::string()) +
                         "as YAML: " + yaml_error + ")");
}

// ---------------------------------------------------------------------------
// Reading one entry

std::string UnknownKeyMessage(std::string_view key, std::span<const std::string_view> allowed) {
  std::string message = "unknown key " + Quote(key);
  std::string best = ClosestName(key, allowed);
  if (!best.empty()) message += " (did you mean '" + best + "'?)";
  return message;
}

enum class Need { kOptional, kRequired };

fs::path Resolve(const fs::path& base, const std::string& text) {
  fs::path p(text);
  if (p.is_relative() && !base.empty()) p = base / p;
  return p.lexically_normal();
}

// Typed access to the keys of one entry. Each getter returns true and sets
// *out only when the key is present with a value of the right type and
// range; otherwise it reports why (or nothing, for an absent optional key).
// Null counts as absent: the original tool treats it so, and its result
// files write null for every unset field.
class EntryReader {
 public:
  EntryReader(const Json& object, Where where, Diagnostics* diag)
      : object_(object), where_(where), diag_(diag) {}

  const Json* Get(std::string_view key) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  bool Has(std::string_view key) const { return Get(key) != nullptr; }

  void Error(std::string_view key, std::string text) { diag_->Error(where_, key, std::move(text)); }
  void Warning(std::string_view key, std::string text) {
    diag_->Warning(where_, key, std::move(text));
  }

  void CheckKeys(std::span<const std::string_view> allowed) {
    for (auto it = object_.begin(); it != object_.end() && !diag_->full(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
        diag_->Error(where_, "", UnknownKeyMessage(it.key(), allowed));
      }
    }
  }

  bool String(std::string_view key, Need need, std::string* out) {
    const Json* j = Present(key, need);
    if (j == nullptr) return false;
    if (!j->is_string()) return WrongType(key, "a string", *j);
    *out = j->get<std::string>();
    return true;
  }

  bool Bool(std::string_view key, bool* out) {
    const Json* j = Present(key, Need::kOptional);
    if (j == nullptr) return false;
    if (!j->is_boolean()) return WrongType(key, "a boolean", *j);
    *out = j->get<bool>();
    return true;
  }

  bool Uint(std::string_view key, Need need, uint64_t min, uint64_t max, uint64_t* out) {
    const Json* j = Present(key, need);
    if (j == nullptr) return false;
    if (std::optional<uint64_t> v = NonNegative(*j)) {
      if (*v < min || *v > max) return OutOfRange(key, min, max, std::to_string(*v));
      *out = *v;
      return true;
    }
    if (j->is_number_integer()) return OutOfRange(key, min, max, j->dump());  // negative
    return WrongType(key, "an integer", *j);
  }

  template <typename T>
  bool OptionalUint(std::string_view key, uint64_t min, std::optional<T>* out) {
    uint64_t v = 0;
    if (!Uint(key, Need::kOptional, min, std::numeric_limits<T>::max(), &v)) return false;
    *out = static_cast<T>(v);
    return true;
  }

  bool Int(std::string_view key, int64_t* out) {
    const Json* j = Present(key, Need::kOptional);
    if (j == nullptr) return false;
    if (j->is_number_integer() && !j->is_number_unsigned()) {
      *out = j->get<int64_t>();
      return true;
    }
    if (j->is_number_unsigned()) {
      uint64_t v = j->get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        Error(key, "integer too large: " + std::to_string(v));
        return false;
      }
      *out = static_cast<int64_t>(v);
      return true;
    }
    return WrongType(key, "an integer", *j);
  }

  bool StringList(std::string_view key, std::vector<std::string>* out) {
    const Json* j = Present(key, Need::kOptional);
    if (j == nullptr) return false;
    if (!j->is_array()) return WrongType(key, "a list of strings", *j);
    std::vector<std::string> items;
    for (size_t i = 0; i < j->size(); ++i) {
      const Json& item = (*j)[i];
      if (!item.is_string()) {
        Error(key, "item " + std::to_string(i) + ": expected a string, got " + TypeName(item));
        return false;
      }
      items.push_back(item.get<std::string>());
    }
    *out = std::move(items);
    return true;
  }

  bool PathList(std::string_view key, const fs::path& base, std::vector<fs::path>* out) {
    std::vector<std::string> items;
    if (!StringList(key, &items)) return false;
    std::vector<fs::path> paths;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!CheckPathText(key, items[i], "item " + std::to_string(i) + ": ")) return false;
      paths.push_back(Resolve(base, items[i]));
    }
    *out = std::move(paths);
    return true;
  }

  template <typename P>
  bool Path(std::string_view key, const fs::path& base, P* out) {
    std::string text;
    if (!String(key, Need::kOptional, &text)) return false;
    if (!CheckPathText(key, text, "")) return false;
    *out = Resolve(base, text);
    return true;
  }

  bool Hex(std::string_view key, std::optional<Bytes>* out) {
    std::string text;
    if (!String(key, Need::kOptional, &text)) return false;
    Bytes bytes;
    if (!HexDecode(text, &bytes)) {
      Error(key, "not a hex string (an even number of digits 0-9, a-f)");
      return false;
    }
    *out = std::move(bytes);
    return true;
  }

  // An endpoint: a name, or an index within the module's endpoints of a kind.
  bool Ref(std::string_view key, Need need, std::optional<IoRef>* out) {
    const Json* j = Present(key, need);
    if (j == nullptr) return false;
    IoRef ref;
    if (j->is_string()) {
      ref.name = j->get<std::string>();
    } else if (std::optional<uint64_t> v = NonNegative(*j); v && *v <= 0xffff) {
      ref.index = static_cast<uint16_t>(*v);
    } else if (j->is_number_integer()) {
      Error(key, "an index must be in 0..65535, got " + j->dump());
      return false;
    } else {
      return WrongType(key, "a name or an integer index", *j);
    }
    *out = std::move(ref);
    return true;
  }

  // Accepted and ignored: only the type is checked, so that a malformed
  // result file of the original tool is still noticed.
  bool Ignored(std::string_view key, bool (*type_ok)(const Json&), const char* expected) {
    const Json* j = Present(key, Need::kOptional);
    if (j == nullptr) return false;
    if (!type_ok(*j)) return WrongType(key, expected, *j);
    return true;
  }

 private:
  // nlohmann keeps non-negative integers as unsigned when it parses, but a
  // tree built otherwise may hold them as signed.
  static std::optional<uint64_t> NonNegative(const Json& j) {
    if (j.is_number_unsigned()) return j.get<uint64_t>();
    if (j.is_number_integer() && j.get<int64_t>() >= 0) {
      return static_cast<uint64_t>(j.get<int64_t>());
    }
    return std::nullopt;
  }

  const Json* Present(std::string_view key, Need need) {
    const Json* j = Get(key);
    if (j == nullptr && need == Need::kRequired) Error(key, "required");
    return j;
  }

  bool WrongType(std::string_view key, const char* expected, const Json& got) {
    Error(key, std::string("expected ") + expected + ", got " + TypeName(got));
    return false;
  }

  bool OutOfRange(std::string_view key, uint64_t min, uint64_t max, const std::string& got) {
    Error(key, "must be in " + std::to_string(min) + ".." + std::to_string(max) + ", got " + got);
    return false;
  }

  bool CheckPathText(std::string_view key, const std::string& text, const std::string& prefix) {
    if (text.empty()) {
      Error(key, prefix + "a path must not be empty");
      return false;
    }
    if (text.find('\0') != std::string::npos) {
      Error(key, prefix + "a path must not contain a NUL character");
      return false;
    }
    return true;
  }

  const Json& object_;
  Where where_;
  Diagnostics* diag_;
};

// ---------------------------------------------------------------------------
// Entries

void ParseType(EntryReader& r, const char* what, Backend* out) {
  std::string type;
  if (!r.String("type", Need::kRequired, &type)) return;
  if (auto backend = ParseBackend(type)) {
    *out = *backend;
  } else {
    r.Error("type", std::string("unknown ") + what + " type " + Quote(type) +
                        " (expected native, sgx, trustzone or sancus)");
  }
}

// `host`, or `ip_address`, its name before the original renamed it (the
// original's tutorials still use it).
void ParseHost(EntryReader& r, std::string* host) {
  if (r.Has("host") && r.Has("ip_address")) {
    r.Error("ip_address", "give 'host' or its old name 'ip_address', not both");
    return;
  }
  if (r.Has("ip_address")) {
    r.String("ip_address", Need::kRequired, host);
  } else {
    r.String("host", Need::kRequired, host);
  }
}

// Node fields that only some node types use. Elsewhere the original ignored
// them silently (its native ping-pong example sets aesm_host on native
// nodes), so they stay accepted, with a warning.
void WarnInapplicableNodeFields(EntryReader& r, Backend type) {
  struct Rule {
    std::string_view key;
    bool applies;
    const char* used_by;
  };
  const bool sgx = type == Backend::kSgx;
  const bool sancus = type == Backend::kSancus;
  const bool trustzone = type == Backend::kTrustZone;
  // node_key_file is used on every type: `aex nodes start` gives it to the
  // node's platform service (on sgx, the simulated platform's keys).
  const Rule rules[] = {
      {"vendor_id", sancus || trustzone, "sancus and trustzone nodes"},
      {"vendor_key", sancus || trustzone, "sancus and trustzone nodes"},
      {"node_key", !sgx, "native, sancus and trustzone nodes"},
      {"aesm_host", sgx, "sgx nodes"},
      {"aesm_port", sgx, "sgx nodes"},
      {"root_ca", sgx, "sgx nodes"},
      {"tcb_statuses", sgx, "sgx nodes"},
      {"min_isv_svn", sgx, "sgx nodes"},
      {"isv_prod_id", sgx, "sgx nodes"},
      {"mrsigner", sgx, "sgx nodes"},
      {"collateral", sgx, "sgx nodes"},
  };
  for (const Rule& rule : rules) {
    if (!rule.applies && r.Has(rule.key)) {
      r.Warning(rule.key, std::string("ignored: only ") + rule.used_by + " use it");
    }
  }
  if (r.Has("module_id")) {
    r.Warning("module_id", "ignored: deployment state of the original tool (aex-node numbers "
                           "its modules itself)");
  }
  if (sgx && (r.Has("aesm_host") || r.Has("aesm_port"))) {
    r.Warning(r.Has("aesm_host") ? "aesm_host" : "aesm_port",
              "ignored: aex's sgx platform attests without AESM (docs/attestation-dcap.md)");
  }
}

// The sgx attestation policy fields of a node (docs/descriptor.md).
void ParseSgxPolicy(EntryReader& r, const fs::path& base, Node* node) {
  if (r.StringList("tcb_statuses", &node->tcb_statuses)) {
    for (size_t i = 0; i < node->tcb_statuses.size(); ++i) {
      const std::string& name = node->tcb_statuses[i];
      auto status = dcap::ParseTcbStatus(name);
      if (!status.ok()) {
        r.Error("tcb_statuses", "item " + std::to_string(i) + ": unknown TCB status '" + name +
                                    "' (Intel's names: UpToDate, SWHardeningNeeded, "
                                    "ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, "
                                    "OutOfDate, OutOfDateConfigurationNeeded)");
      } else if (*status == dcap::TcbStatus::kRevoked) {
        r.Error("tcb_statuses", "item " + std::to_string(i) + ": Revoked is never accepted");
      }
    }
  }
  uint64_t svn = 0;
  if (r.Uint("min_isv_svn", Need::kOptional, 0, 65535, &svn)) {
    node->min_isv_svn = static_cast<uint16_t>(svn);
  }
  r.OptionalUint("isv_prod_id", 0, &node->isv_prod_id);
  if (r.Hex("mrsigner", &node->mrsigner) && node->mrsigner->size() != 32) {
    r.Error("mrsigner", "must be 32 bytes (64 hex digits), got " +
                            std::to_string(node->mrsigner->size()));
  }
  r.Path("collateral", base, &node->collateral);
}

Node ParseNode(const Json& j, Where where, const fs::path& base, Diagnostics* diag) {
  Node node;
  EntryReader r(j, where, diag);
  r.CheckKeys(kNodeKeys);
  ParseType(r, "node", &node.type);
  r.String("name", Need::kRequired, &node.name);
  ParseHost(r, &node.host);

  uint64_t port = 0;
  if (r.Uint("reactive_port", Need::kRequired, 1, 65535, &port)) {
    node.reactive_port = static_cast<uint16_t>(port);
  }
  node.deploy_port = node.reactive_port;
  if (r.Uint("deploy_port", Need::kOptional, 1, 65535, &port)) {
    node.deploy_port = static_cast<uint16_t>(port);
  }

  r.OptionalUint("module_id", 0, &node.module_id);
  r.OptionalUint("vendor_id", 0, &node.vendor_id);
  r.Hex("vendor_key", &node.vendor_key);
  r.Hex("node_key", &node.node_key);
  std::string aesm_host;
  if (r.String("aesm_host", Need::kOptional, &aesm_host)) node.aesm_host = aesm_host;
  r.OptionalUint("aesm_port", 1, &node.aesm_port);

  r.Path("node_key_file", base, &node.node_key_file);
  r.Bool("allow_simulated", &node.allow_simulated);
  r.Bool("allow_debug", &node.allow_debug);
  r.Path("root_ca", base, &node.root_ca);
  ParseSgxPolicy(r, base, &node);
  std::vector<std::string> devices;
  if (r.StringList("devices", &devices)) node.devices = std::move(devices);
  bool tls = false;
  if (r.Bool("tls", &tls)) node.tls = tls;

  if (!diag->Failed(where, "type")) WarnInapplicableNodeFields(r, node.type);
  return node;
}

// Original fields that aex accepts and ignores, with the JSON types the
// original wrote for them.
bool IsString(const Json& j) { return j.is_string(); }
bool IsObject(const Json& j) { return j.is_object(); }
bool IsStringOrNumber(const Json& j) { return j.is_string() || j.is_number(); }

// Why each field of the original tool that aex reads but does not use is
// ignored: every one gets a warning that says so (docs/descriptor.md).
constexpr std::string_view kStateReason =
    "ignored: deployment state of the original tool (aex keeps its own in .aex/)";

void ParseIgnoredModuleFields(EntryReader& r, Module* module) {
  struct Field {
    std::string_view key;
    bool (*type_ok)(const Json&);
    const char* expected;
    const char* why;
  };
  static const Field kFields[] = {
      {"binary", IsString, "a string",
       "ignored: aex builds the module from its sources (only a pre-installed module, "
       "'deployed: true' without sources, uses it)"},
      {"data", IsObject, "a mapping", "ignored: the original's generated build data"},
      {"deploy_name", IsString, "a string",
       "ignored: the original's name of a built Sancus file; aex names modules by 'name'"},
      // Old TrustZone result files wrote the UUID as a 128-bit integer.
      {"uuid", IsStringOrNumber, "a string or an integer",
       "ignored: the original's OP-TEE TA UUID; aex identifies a module by its measurement"},
      {"vendor_key", IsString, "a string",
       "ignored: the original signed SGX enclaves with it; aex's deployer signs them itself"},
      {"ra_settings", IsString, "a string",
       "ignored: settings of the original's EPID attestation service; aex verifies sgx "
       "evidence against the node's root_ca"},
      {"symtab", IsString, "a string",
       "ignored: the original's Sancus symbol table; aex links modules itself"},
      {"sgxs", IsString, "a string", "ignored: an SGX build artefact; aex builds the module"},
      {"signature", IsString, "a string",
       "ignored: an SGX build artefact; aex signs the module itself"},
  };
  for (const Field& f : kFields) {
    if (!r.Ignored(f.key, f.type_ok, f.expected)) continue;
    if (f.key == "binary" && module->preinstalled() && module->binary) continue;  // used
    module->ignored_fields.emplace_back(f.key);
    r.Warning(f.key, f.why);
  }
  for (std::string_view key : {"nonce", "attested", "port", "old_node"}) {
    if (r.Has(key)) r.Warning(key, std::string(kStateReason));
  }
  if (r.Has("priority")) {
    r.Warning("priority", "ignored: aex deploys every module before it connects any, so the "
                          "order does not matter");
  }
  if (r.Has("id")) {
    r.Warning("id", module->preinstalled()
                        ? "ignored: aex finds a pre-installed module by its name on its node"
                        : std::string(kStateReason));
  }
  if (r.Has("key")) {
    r.Warning("key", "ignored: aex derives module keys at attestation (original state)");
  }
  if (module->deployed && !module->preinstalled()) {
    r.Warning("deployed", "ignored: the module has sources, so aex builds and loads it (only "
                          "'deployed: true' without sources marks a pre-installed module)");
  }
}

void ParseModuleSources(EntryReader& r, const fs::path& base, bool type_known, Module* module) {
  if (r.Has("sources") && r.Has("files")) {
    r.Error("files", "give 'sources' or the original 'files', not both");
  } else if (r.Has("files")) {
    r.PathList("files", base, &module->sources);
  } else {
    r.PathList("sources", base, &module->sources);
  }
  r.Path("folder", base, &module->folder);
  // The original builds native, sgx and trustzone modules from a folder
  // named after the module unless told otherwise; keep that default so its
  // descriptors load unchanged. Sancus modules always listed their files.
  if (!r.Has("sources") && !r.Has("files") && !r.Has("folder") && !module->name.empty() &&
      type_known && module->type != Backend::kSancus) {
    module->folder = Resolve(base, module->name);
    module->folder_is_default = true;
  }
}

Module ParseModule(const Json& j, Where where, const fs::path& base, Diagnostics* diag) {
  Module module;
  EntryReader r(j, where, diag);
  r.CheckKeys(kModuleKeys);
  ParseType(r, "module", &module.type);
  r.String("name", Need::kRequired, &module.name);
  r.String("node", Need::kRequired, &module.node);

  ParseModuleSources(r, base, !diag->Failed(where, "type"), &module);
  r.StringList("cflags", &module.cflags);
  r.StringList("ldflags", &module.ldflags);
  if (r.StringList("features", &module.features) && !module.features.empty()) {
    // A Rust module is a folder with a Cargo.toml (deployer/rust_crate.h);
    // on anything else the field would be silently meaningless.
    std::error_code ec;
    const bool crate =
        module.sources.empty() && module.folder &&
        fs::is_regular_file((module.folder->is_absolute() ? *module.folder : base / *module.folder) /
                                "Cargo.toml",
                            ec);
    if (!crate) {
      r.Warning("features", "ignored: cargo features apply to Rust modules (a folder with a "
                            "Cargo.toml); this one is built from C/C++");
    }
  }
  std::string text;
  if (r.String("device", Need::kOptional, &text)) module.device = text;
  r.Hex("expected_measurement", &module.expected_measurement);

  if (r.String("old_node", Need::kOptional, &text)) module.old_node = text;
  int64_t priority = 0;
  if (r.Int("priority", &priority)) module.priority = priority;
  r.Uint("nonce", Need::kOptional, 0, UINT64_MAX, &module.nonce);
  r.Bool("deployed", &module.deployed);
  r.Bool("attested", &module.attested);
  r.OptionalUint("id", 0, &module.id);
  r.Hex("key", &module.key);
  r.OptionalUint("port", 1, &module.port);
  if (const Json* b = r.Get("binary"); b && b->is_string() && !b->get<std::string>().empty()) {
    module.binary = Resolve(base, b->get<std::string>());
  }

  ParseIgnoredModuleFields(r, &module);
  return module;
}

struct ParsedConnection {
  Connection connection;
  bool has_id = false;
  bool has_name = false;
};

ParsedConnection ParseConnection(const Json& j, Where where, Diagnostics* diag) {
  ParsedConnection parsed;
  Connection& c = parsed.connection;
  EntryReader r(j, where, diag);
  r.CheckKeys(kConnectionKeys);
  parsed.has_name = r.Has("name");
  r.String("name", Need::kOptional, &c.name);
  uint64_t id = 0;
  parsed.has_id = r.Has("id");
  if (r.Uint("id", Need::kOptional, 0, 65535, &id)) c.id = static_cast<uint16_t>(id);

  r.String("from_module", Need::kOptional, &c.from_module);
  r.Ref("from_output", Need::kOptional, &c.from_output);
  r.Ref("from_request", Need::kOptional, &c.from_request);
  r.String("to_module", Need::kRequired, &c.to_module);
  r.Ref("to_input", Need::kOptional, &c.to_input);
  r.Ref("to_handler", Need::kOptional, &c.to_handler);

  std::string encryption;
  if (r.String("encryption", Need::kRequired, &encryption)) {
    if (auto e = ParseEncryption(encryption)) {
      c.encryption = *e;
    } else {
      r.Error("encryption",
              "unknown encryption " + Quote(encryption) + " (expected aes or spongent)");
    }
  }
  r.Bool("direct", &c.direct);
  r.Hex("key", &c.key);
  r.Uint("nonce", Need::kOptional, 0, UINT64_MAX, &c.nonce);
  r.Bool("established", &c.established);
  for (std::string_view key : {"nonce", "established"}) {
    if (r.Has(key)) r.Warning(key, std::string(kStateReason));
  }
  if (r.Has("key")) {
    r.Warning("key", "not used as is: every establishment derives a fresh connection key from "
                     "it (a fixed key with restarting counters would repeat (key, nonce))");
  }

  // An established connection is state written back by a deployer: it must
  // be complete, or the next run would re-key or re-number it.
  if (c.established) {
    for (std::string_view key : {"key", "nonce", "id", "name", "direct"}) {
      if (!r.Has(key)) r.Error(key, "required once 'established' is true");
    }
  }
  return parsed;
}

struct ParsedEvent {
  PeriodicEvent event;
  bool has_id = false;
  bool has_name = false;
};

ParsedEvent ParseEvent(const Json& j, Where where, Diagnostics* diag) {
  ParsedEvent parsed;
  PeriodicEvent& e = parsed.event;
  EntryReader r(j, where, diag);
  r.CheckKeys(kEventKeys);
  parsed.has_name = r.Has("name");
  r.String("name", Need::kOptional, &e.name);
  uint64_t value = 0;
  parsed.has_id = r.Has("id");
  if (r.Uint("id", Need::kOptional, 0, UINT32_MAX, &value)) e.id = static_cast<uint32_t>(value);
  r.String("module", Need::kRequired, &e.module);
  std::optional<IoRef> entry;
  if (r.Ref("entry", Need::kRequired, &entry)) e.entry = std::move(*entry);
  if (r.Uint("frequency", Need::kRequired, 1, UINT32_MAX, &value)) {
    e.frequency_ms = static_cast<uint32_t>(value);
  }
  r.Bool("established", &e.established);
  if (r.Has("established")) r.Warning("established", std::string(kStateReason));
  return parsed;
}

// ---------------------------------------------------------------------------
// The whole file

// Calls parse(element, where, diag) for each element of the list at `key`.
// A non-mapping element still gets a (default) entry, parsed with a scratch
// Diagnostics so that it adds one error and not one per missing field: entry
// i of the model stays element i of the file in every message.
template <typename ParseFn>
void ParseList(const Json& root, std::string_view key, Section section, Need need,
               Diagnostics* diag, ParseFn parse) {
  static const Json kEmptyObject = Json::object();
  auto it = root.find(key);
  if (it == root.end() || it->is_null()) {
    if (need == Need::kRequired) diag->Error(Where{}, key, "required");
    return;
  }
  if (!it->is_array()) {
    diag->Error(Where{}, key, "expected a list, got " + TypeName(*it));
    return;
  }
  // Once enough errors are collected the rest of the list is not read (the
  // model then has fewer entries than the file, but it is not used).
  for (size_t i = 0; i < it->size() && !diag->full(); ++i) {
    const Json& element = (*it)[i];
    Where where{section, static_cast<int>(i)};
    if (element.is_object()) {
      parse(element, where, diag);
    } else {
      diag->Error(where, "*", "expected a mapping, got " + TypeName(element));
      Diagnostics scratch;
      parse(kEmptyObject, where, &scratch);
    }
  }
}

// Ids are handed out from the counter, skipping ids given explicitly, so
// that a partly numbered file cannot produce a collision by itself.
template <typename Entry, typename IdT>
void AssignIds(std::vector<Entry>& entries, const std::vector<bool>& has_id,
               const std::vector<bool>& has_name, uint64_t max_id, const char* name_prefix,
               Section section, uint32_t* current_id, Diagnostics* diag) {
  std::unordered_set<uint64_t> used;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (has_id[i] && !diag->Failed(Where{section, static_cast<int>(i)}, "id")) {
      used.insert(entries[i].id);
    }
  }
  uint64_t next = *current_id;
  bool assigned = false;
  for (size_t i = 0; i < entries.size() && !diag->full(); ++i) {
    Where where{section, static_cast<int>(i)};
    if (!has_id[i]) {
      while (next <= max_id && used.count(next) != 0) ++next;
      if (next > max_id) {
        diag->Error(where, "id", "no free id left (ids go up to " + std::to_string(max_id) + ")");
        continue;
      }
      entries[i].id = static_cast<IdT>(next);
      used.insert(next++);
      assigned = true;
    }
    if (!has_name[i] && !diag->Failed(where, "id")) {
      entries[i].name = name_prefix + std::to_string(entries[i].id);
    }
  }
  if (assigned) *current_id = static_cast<uint32_t>(next);
}

// manager: {node: <node name>, name: <module name>, allow_unprotected: bool}.
// Checked against the nodes and modules by the validator.
void ParseManager(const Json& object, Descriptor* d, Diagnostics* diag) {
  ManagerSpec spec;
  bool ok = true;
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    if (key == "allow_unprotected") {
      if (!it->is_boolean()) {
        diag->Error(Where{}, "manager", "'allow_unprotected' must be a boolean, got " +
                                            TypeName(*it));
        ok = false;
      } else {
        spec.allow_unprotected = it->get<bool>();
      }
    } else if (key != "node" && key != "name") {
      diag->Error(Where{}, "manager",
                  "unknown key '" + key + "' (expected node, name, allow_unprotected)");
      ok = false;
    } else if (!it->is_string()) {
      diag->Error(Where{}, "manager", "'" + key + "' must be a string, got " + TypeName(*it));
      ok = false;
    } else {
      (key == "node" ? spec.node : spec.name) = it->get<std::string>();
    }
  }
  if (ok && spec.node.empty()) {
    diag->Error(Where{}, "manager", "needs 'node': the node the attestation manager runs on");
    ok = false;
  }
  if (ok) d->manager_spec = std::move(spec);
}

void ParseTopLevel(const Json& root, const fs::path& base, Descriptor* d, Diagnostics* diag) {
  EntryReader r(root, Where{}, diag);
  r.CheckKeys(kTopKeys);
  if (const Json* m = r.Get("manager"); m && m->is_object()) {
    ParseManager(*m, d, diag);
  } else {
    r.Path("manager", base, &d->manager);
    if (d->manager) {
      r.Warning("manager", "ignored: the original's manager service file; aex's attestation "
                           "manager is the mapping form {node: ...} (docs/tee.md)");
    }
  }
  uint64_t value = 0;
  if (r.Uint("connections_current_id", Need::kOptional, 0, 65536, &value)) {
    d->connections_current_id = static_cast<uint32_t>(value);
  }
  if (r.Uint("events_current_id", Need::kOptional, 0, UINT32_MAX, &value)) {
    d->events_current_id = static_cast<uint32_t>(value);
  }

  ParseList(root, "nodes", Section::kNodes, Need::kRequired, diag,
            [&](const Json& j, Where w, Diagnostics* dg) {
              d->nodes.push_back(ParseNode(j, w, base, dg));
            });
  ParseList(root, "modules", Section::kModules, Need::kRequired, diag,
            [&](const Json& j, Where w, Diagnostics* dg) {
              d->modules.push_back(ParseModule(j, w, base, dg));
            });

  std::vector<bool> has_id, has_name;
  ParseList(root, "connections", Section::kConnections, Need::kOptional, diag,
            [&](const Json& j, Where w, Diagnostics* dg) {
              ParsedConnection p = ParseConnection(j, w, dg);
              d->connections.push_back(std::move(p.connection));
              has_id.push_back(p.has_id);
              has_name.push_back(p.has_name);
            });
  AssignIds<Connection, uint16_t>(d->connections, has_id, has_name, 65535, "conn",
                                  Section::kConnections, &d->connections_current_id, diag);

  has_id.clear();
  has_name.clear();
  ParseList(root, "periodic-events", Section::kEvents, Need::kOptional, diag,
            [&](const Json& j, Where w, Diagnostics* dg) {
              ParsedEvent p = ParseEvent(j, w, dg);
              d->periodic_events.push_back(std::move(p.event));
              has_id.push_back(p.has_id);
              has_name.push_back(p.has_name);
            });
  // UINT32_MAX itself is never handed out so that the counter still fits.
  AssignIds<PeriodicEvent, uint32_t>(d->periodic_events, has_id, has_name, UINT32_MAX - 1, "event",
                                     Section::kEvents, &d->events_current_id, diag);
}

Result<Descriptor> ParseDescriptorImpl(std::string_view text, std::string source_name,
                                       fs::path base_dir) {
  if (source_name.empty()) source_name = "<descriptor>";
  if (text.size() > kMaxDescriptorBytes) {
    return InvalidArgument(source_name + ": larger than " +
                           std::to_string(kMaxDescriptorBytes >> 20) + " MiB");
  }
  Json root;
  AEX_RETURN_IF_ERROR(ParseText(text, source_name, &root));
  if (!root.is_object()) {
    return InvalidArgument(source_name + ": the top level must be a mapping with 'nodes' and " +
                           "'modules', got " + TypeName(root));
  }

  Descriptor d;
  d.source_name = std::move(source_name);
  d.base_dir = std::move(base_dir);
  Diagnostics diag;
  ParseTopLevel(root, d.base_dir, &d, &diag);
  internal::Validate(d, &diag);
  if (diag.has_errors()) return diag.ToStatus(d);
  d.warnings = diag.FormatWarnings(d);
  return d;
}

}  // namespace

Result<Descriptor> ParseDescriptor(std::string_view text, std::string source_name,
                                   std::filesystem::path base_dir) {
  try {
    return ParseDescriptorImpl(text, std::move(source_name), std::move(base_dir));
  } catch (const std::exception& e) {
    // Not expected (every library call is guarded); the promise is that
    // nothing escapes, not even a bad_alloc.
    return Internal(std::string("descriptor: unexpected error: ") + e.what());
  }
}

Result<Descriptor> LoadDescriptor(const std::filesystem::path& file) {
  try {
    const std::string name = file.string();
    std::error_code ec;
    fs::file_status st = fs::status(file, ec);
    if (!fs::exists(st)) return NotFound(name + ": descriptor file does not exist");
    if (!fs::is_regular_file(st)) return InvalidArgument(name + ": not a regular file");

    std::ifstream in(file, std::ios::binary);
    if (!in) return Status(Code::kIo, name + ": cannot open the descriptor file");
    // Read in chunks and stop past the limit, whatever the size claims.
    std::string text;
    char chunk[1 << 16];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
      text.append(chunk, static_cast<size_t>(in.gcount()));
      if (text.size() > kMaxDescriptorBytes) {
        return InvalidArgument(name + ": larger than " + std::to_string(kMaxDescriptorBytes >> 20) +
                               " MiB");
      }
    }
    if (in.bad()) return Status(Code::kIo, name + ": cannot read the descriptor file");

    fs::path base = fs::absolute(file, ec);
    base = ec ? file.parent_path() : base.parent_path().lexically_normal();
    return ParseDescriptor(text, name, base);
  } catch (const std::exception& e) {
    return Internal(std::string("descriptor: unexpected error: ") + e.what());
  }
}

}  // namespace aex::deploy
