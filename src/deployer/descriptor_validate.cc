// Validation of a Descriptor: the rules that span fields and entries, and the
// check of connections and events against the modules' manifests.
//
// The rules run on the model, not on the file, so that a descriptor built or
// changed in code gets the same checks. When called from the parser, fields
// that already failed to parse are skipped: one mistake, one message.

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "deployer/descriptor.h"

namespace aex::deploy {
namespace internal {

// ---------------------------------------------------------------------------
// Diagnostics

namespace {

constexpr size_t kMaxQuoted = 80;
constexpr size_t kMaxReported = 100;

const char* SectionKey(Section section) {
  switch (section) {
    case Section::kFile:
      return "";
    case Section::kNodes:
      return "nodes";
    case Section::kModules:
      return "modules";
    case Section::kConnections:
      return "connections";
    case Section::kEvents:
      return "periodic-events";
  }
  return "";
}

template <typename T>
std::string NameAt(const std::vector<T>& entries, int index) {
  if (index < 0 || static_cast<size_t>(index) >= entries.size()) return "";
  return entries[static_cast<size_t>(index)].name;
}

std::string EntryName(const Descriptor& d, Where where) {
  switch (where.section) {
    case Section::kFile:
      return "";
    case Section::kNodes:
      return NameAt(d.nodes, where.index);
    case Section::kModules:
      return NameAt(d.modules, where.index);
    case Section::kConnections:
      return NameAt(d.connections, where.index);
    case Section::kEvents:
      return NameAt(d.periodic_events, where.index);
  }
  return "";
}

// "app.yaml: modules[1] ('pong'): field 'node': "
std::string Prefix(const Descriptor& d, Where where, const std::string& field) {
  std::string out = d.source_name.empty() ? "<descriptor>" : d.source_name;
  out += ": ";
  if (where.section != Section::kFile) {
    out += SectionKey(where.section);
    out += "[" + std::to_string(where.index) + "]";
    std::string name = EntryName(d, where);
    if (!name.empty()) out += " (" + Quote(name) + ")";
    out += ": ";
  }
  if (!field.empty() && field != "*") out += "field '" + field + "': ";
  return out;
}

// Reads what Quote wrote at the start of `in` ("'it\\'s'" -> "it's"; the
// "..." of a truncated name stays), advancing past it. False when `in` does not start with a quoted string.
bool Unquote(std::string_view* in, std::string* out) {
  if (in->empty() || in->front() != '\'') return false;
  for (size_t i = 1; i < in->size(); ++i) {
    char c = (*in)[i];
    Bytes byte;
    if (c == '\\' && i + 3 < in->size() && (*in)[i + 1] == 'x' &&
        HexDecode(std::string(in->substr(i + 2, 2)), &byte)) {
      out->push_back(static_cast<char>(byte[0]));
      i += 3;
    } else if (c == '\\' && i + 1 < in->size()) {
      out->push_back((*in)[++i]);
    } else if (c == '\'') {
      in->remove_prefix(i + 1);
      return true;
    } else {
      out->push_back(c);
    }
  }
  return false;
}

bool Consume(std::string_view* in, std::string_view prefix) {
  if (in->substr(0, prefix.size()) != prefix) return false;
  in->remove_prefix(prefix.size());
  return true;
}

// "modules[2] ('pong'): " at the start of `rest`: fills entry and name.
bool ReadEntry(std::string_view* rest, ErrorItem* item) {
  std::string_view in = *rest;
  size_t bracket = in.find('[');
  if (bracket == std::string_view::npos) return false;
  std::string_view section = in.substr(0, bracket);
  if (section != "nodes" && section != "modules" && section != "connections" &&
      section != "periodic-events") {
    return false;
  }
  size_t close = in.find(']', bracket);
  if (close == std::string_view::npos || close == bracket + 1) return false;
  for (size_t i = bracket + 1; i < close; ++i) {
    if (in[i] < '0' || in[i] > '9') return false;
  }
  std::string entry(in.substr(0, close + 1));
  in.remove_prefix(close + 1);
  std::string name;
  if (Consume(&in, " (") && (!Unquote(&in, &name) || !Consume(&in, ")"))) return false;
  if (!Consume(&in, ": ")) return false;
  item->entry = std::move(entry);
  item->name = std::move(name);
  *rest = in;
  return true;
}

}  // namespace

std::string Quote(std::string_view text) {
  std::string out = "'";
  size_t shown = 0;
  for (char ch : text) {
    if (shown++ == kMaxQuoted) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += ch;
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  out += "'";
  return out;
}

std::string Diagnostics::FailedKey(Where where, std::string_view field) {
  std::string key = std::to_string(static_cast<int>(where.section));
  key += ':';
  key += std::to_string(where.index);
  key += ':';
  key += field;
  return key;
}

void Diagnostics::Error(Where where, std::string_view field, std::string text) {
  if (full()) return;  // the caller stops soon; nothing more is reported
  failed_.insert(FailedKey(where, field));
  errors_.push_back(Item{where, std::string(field), std::move(text)});
}

void Diagnostics::Warning(Where where, std::string_view field, std::string text) {
  if (warnings_.size() >= kMaxWarnings) {
    ++warnings_dropped_;
    return;
  }
  warnings_.push_back(Item{where, std::string(field), std::move(text)});
}

bool Diagnostics::Failed(Where where, std::string_view field) const {
  if (failed_.empty()) return false;
  return failed_.count(FailedKey(where, field)) != 0 || failed_.count(FailedKey(where, "*")) != 0;
}

std::vector<std::string> Diagnostics::Format(const Descriptor& d, std::vector<Item> items) {
  // Group by entry, in file order, whichever pass found the problem.
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::make_pair(a.where.section, a.where.index) <
           std::make_pair(b.where.section, b.where.index);
  });
  std::vector<std::string> lines;
  std::unordered_set<std::string> seen;
  for (const Item& item : items) {
    std::string line = Prefix(d, item.where, item.field) + item.text;
    if (seen.insert(line).second) lines.push_back(std::move(line));
  }
  return lines;
}

Status Diagnostics::ToStatus(const Descriptor& d) const {
  if (errors_.empty()) return Status::Ok();
  std::vector<std::string> lines = Format(d, errors_);
  std::string message;
  for (size_t i = 0; i < lines.size() && i < kMaxReported; ++i) {
    if (i > 0) message += '\n';
    message += lines[i];
  }
  if (lines.size() > kMaxReported) {
    message += "\n... and " + std::to_string(lines.size() - kMaxReported) + " more errors";
  }
  if (full()) {
    message += "\n(checking stopped after " + std::to_string(kMaxErrors) +
               " errors: the rest of the file was not checked)";
  }
  return InvalidArgument(std::move(message));
}

std::vector<std::string> Diagnostics::FormatWarnings(const Descriptor& d) const {
  std::vector<std::string> lines = Format(d, warnings_);
  if (warnings_dropped_ > 0) {
    lines.push_back("... and " + std::to_string(warnings_dropped_) + " more warnings");
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Descriptor rules

namespace {

bool IsControl(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c < 0x20 || c == 0x7f;
}

bool IsSpaceOrControl(char ch) { return ch == ' ' || IsControl(ch); }

// Node and module names become directory and file names in the build and
// identifiers in generated code, so they are kept to a portable set (and
// cannot climb out of the build directory).
bool IsValidEntityName(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] == '.' || s[0] == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// Connection and event names are only typed on command lines.
bool IsValidLabel(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::none_of(s.begin(), s.end(), IsControl);
}

bool IsValidToken(std::string_view s, size_t max) {
  return !s.empty() && s.size() <= max && std::none_of(s.begin(), s.end(), IsSpaceOrControl);
}

// At most ten items: a list may be long and is repeated in every error.
std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < 10; ++i) {
    if (i > 0) out += ", ";
    out += Quote(items[i]);
  }
  if (items.size() > 10) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
}

// A node's devices, each with the module that claims it (or nullptr).
using DeviceClaims = std::unordered_map<std::string, const Module*>;

class Validator {
 public:
  Validator(const Descriptor& d, Diagnostics* diag) : d_(d), diag_(diag) {}

  void Run() {
    // Each check is O(1) on average (hash lookups) and the loops stop once
    // enough errors are collected, so validation is linear in the file.
    IndexNames();
    for (size_t i = 0; i < d_.nodes.size() && !diag_->full(); ++i) CheckNode(i);
    for (size_t i = 0; i < d_.modules.size() && !diag_->full(); ++i) CheckModule(i);
    for (size_t i = 0; i < d_.connections.size() && !diag_->full(); ++i) CheckConnection(i);
    for (size_t i = 0; i < d_.periodic_events.size() && !diag_->full(); ++i) CheckEvent(i);
    if (d_.manager_spec) CheckManager(*d_.manager_spec);
    if (d_.connections_current_id > 65536 && Ok(Where{}, "connections_current_id")) {
      Error(Where{}, "connections_current_id",
            "must be in 0..65536, got " + std::to_string(d_.connections_current_id));
    }
  }

 private:
  // A field is checked only if parsing did not already complain about it.
  bool Ok(Where w, std::string_view field) const { return !diag_->Failed(w, field); }
  void Error(Where w, std::string_view field, std::string text) {
    diag_->Error(w, field, std::move(text));
  }

  static Where At(Section s, size_t i) { return Where{s, static_cast<int>(i)}; }

  // The manager runs on a node of the file, as a module of its own name. It
  // verifies X.509 chains and ECDSA quotes, which a Sancus node cannot host.
  void CheckManager(const ManagerSpec& m) {
    const Node* node = NodeNamed(m.node);
    if (!node) {
      Error(Where{}, "manager", "no node named " + Quote(m.node));
    } else if (NodeTypeKnown(m.node) && node->type == Backend::kSancus) {
      Error(Where{}, "manager",
            "the attestation manager cannot run on sancus node " + Quote(m.node) +
                " (it needs X.509 and ECDSA); use an sgx, trustzone or native node");
    }
    if (!IsValidEntityName(m.name)) {
      Error(Where{}, "manager", "invalid name " + Quote(m.name));
    } else if (const Module* mod = ModuleNamed(m.name); mod && !mod->is_manager) {
      Error(Where{}, "manager",
            "name " + Quote(m.name) + " is already a module's; give the manager another 'name'");
    }
  }

  // First entry of each name, for references and duplicate messages.
  void IndexNames() {
    for (size_t i = 0; i < d_.nodes.size(); ++i) node_index_.emplace(d_.nodes[i].name, i);
    for (size_t i = 0; i < d_.modules.size(); ++i) module_index_.emplace(d_.modules[i].name, i);
  }

  const Node* NodeNamed(const std::string& name) const {
    auto it = node_index_.find(name);
    return it == node_index_.end() ? nullptr : &d_.nodes[it->second];
  }
  const Module* ModuleNamed(const std::string& name) const {
    auto it = module_index_.find(name);
    return it == module_index_.end() ? nullptr : &d_.modules[it->second];
  }
  // The type of a referenced entry is trusted only if it parsed.
  bool NodeTypeKnown(const std::string& name) const {
    auto it = node_index_.find(name);
    return it != node_index_.end() && Ok(At(Section::kNodes, it->second), "type");
  }
  bool ModuleTypeKnown(const std::string& name) const {
    auto it = module_index_.find(name);
    return it != module_index_.end() && Ok(At(Section::kModules, it->second), "type");
  }

  // Reports the second and later users of a name (or id) within a section.
  template <typename Key>
  void CheckUnique(std::unordered_map<Key, size_t>* first, const Key& key, Where w, const char* field,
                   const std::string& what) {
    auto [it, inserted] = first->emplace(key, static_cast<size_t>(w.index));
    if (!inserted) {
      Error(w, field,
            "duplicate " + what + " (also used by " + SectionKeyOf(w.section) + "[" +
                std::to_string(it->second) + "])");
    }
  }
  static std::string SectionKeyOf(Section s) { return SectionKey(s); }

  // first_index: the first entry of each name (IndexNames).
  void CheckEntityName(Where w, const std::string& name, const char* what,
                       const std::unordered_map<std::string, size_t>* first_index) {
    if (!Ok(w, "name")) return;
    if (name.empty()) {
      Error(w, "name", "required");
    } else if (!IsValidEntityName(name)) {
      Error(w, "name",
            "invalid " + std::string(what) + " name " + Quote(name) +
                ": use 1 to 64 letters, digits, '_', '.' or '-', not starting "
                "with '.' or '-'");
    } else if (auto it = first_index->find(name);
               it != first_index->end() && it->second != static_cast<size_t>(w.index)) {
      Error(w, "name",
            "duplicate " + std::string(what) + " name " + Quote(name) + " (also used by " +
                SectionKeyOf(w.section) + "[" + std::to_string(it->second) + "])");
    }
  }

  void CheckLabel(Where w, const std::string& name, const char* what,
                  std::unordered_map<std::string, size_t>* first) {
    if (!Ok(w, "name")) return;
    if (!IsValidLabel(name)) {
      Error(w, "name",
            "invalid " + std::string(what) + " name: 1 to 128 characters, no control characters");
    } else {
      CheckUnique(first, name, w, "name", std::string(what) + " name " + Quote(name));
    }
  }

  void CheckPort(Where w, const char* field, uint16_t port) {
    if (port == 0 && Ok(w, field)) Error(w, field, "must be in 1..65535, got 0");
  }

  void CheckKeyLength(Where w, const char* field, const std::optional<Bytes>& key, bool allow_32) {
    if (!key || !Ok(w, field)) return;
    const size_t n = key->size();
    if (n == 16 || (allow_32 && n == 32)) return;
    Error(w, field,
          std::string(allow_32 ? "must be 16 or 32 bytes (32 or 64 hex digits)"
                               : "must be 16 bytes (32 hex digits)") +
              ", got " + std::to_string(n) + " bytes");
  }

  // ---- nodes

  void CheckNode(size_t i) {
    const Node& n = d_.nodes[i];
    const Where w = At(Section::kNodes, i);
    if (!Ok(w, "*")) return;
    CheckEntityName(w, n.name, "node", &node_index_);
    if (Ok(w, "host") && Ok(w, "ip_address") && !IsValidToken(n.host, 253)) {
      Error(w, "host",
            n.host.empty() ? "required"
                           : "invalid host " + Quote(n.host) + ": 1 to 253 characters, no spaces");
    }
    CheckPort(w, "reactive_port", n.reactive_port);
    // deploy_port defaults to reactive_port: do not echo a bad reactive_port.
    if (Ok(w, "reactive_port")) CheckPort(w, "deploy_port", n.deploy_port);
    if (n.aesm_port) CheckPort(w, "aesm_port", *n.aesm_port);
    if (!n.host.empty() && n.reactive_port != 0 && Ok(w, "host") && Ok(w, "reactive_port")) {
      CheckUnique(&endpoints_, n.host + ":" + std::to_string(n.reactive_port), w, "reactive_port",
                  "host and port " + Quote(n.host + ":" + std::to_string(n.reactive_port)));
    }
    if (Ok(w, "type")) CheckNodeKeys(w, n);
    CheckDeviceList(w, n);
    if (n.tls == false && Ok(w, "host")) {
      diag_->Warning(w, "tls",
                     "off: anyone who can reach " + Quote(n.host) +
                         (IsLoopbackHost(n.host) ? " (any local user or process)" : "") +
                         " can load, unload or reset modules there (the node must be started "
                         "with --insecure-no-tls)");
    }
  }

  // What each platform needs to derive or verify module keys (see
  // DESIGN.md section 5): native and the symmetric TEEs need the node key
  // K_N or a key derived from it; sgx is verified against its root CA.
  void CheckNodeKeys(Where w, const Node& n) {
    const bool keys_ok = Ok(w, "node_key") && Ok(w, "node_key_file");
    const bool has_node_key = n.node_key.has_value() || n.node_key_file.has_value();
    if (n.node_key && n.node_key_file && keys_ok) {
      Error(w, "node_key_file", "give either 'node_key' or 'node_key_file', not both");
    }
    const bool need_vendor_id = n.type == Backend::kTrustZone || n.type == Backend::kSancus;
    if (need_vendor_id && !n.vendor_id && Ok(w, "vendor_id")) {
      Error(w, "vendor_id", std::string("required for ") + BackendName(n.type) + " nodes");
    }
    switch (n.type) {
      case Backend::kNative:
        if (!has_node_key && keys_ok) {
          Error(w, "node_key",
                "required: native nodes need 'node_key' or 'node_key_file' (the node's "
                "platform key)");
        }
        break;
      case Backend::kTrustZone:
      case Backend::kSancus:
        if (!has_node_key && !n.vendor_key && keys_ok && Ok(w, "vendor_key")) {
          Error(w, n.type == Backend::kSancus ? "vendor_key" : "node_key",
                std::string("required: ") + BackendName(n.type) +
                    " nodes need 'vendor_key', 'node_key' or 'node_key_file'");
        }
        break;
      case Backend::kSgx:
        break;
    }
    // The original derived TrustZone vendor keys with SHA-256 and its
    // examples use 32-byte TrustZone node keys.
    const bool trustzone = n.type == Backend::kTrustZone;
    CheckKeyLength(w, "node_key", n.node_key, trustzone);
    CheckKeyLength(w, "vendor_key", n.vendor_key, trustzone);
  }

  void CheckDeviceList(Where w, const Node& n) {
    if (!n.devices || !Ok(w, "devices")) return;
    // The map is kept for the modules' device claims (DevicesOf).
    DeviceClaims& seen = device_claims_[&n];
    seen.clear();
    for (const std::string& device : *n.devices) {
      if (diag_->full()) return;
      if (!IsValidToken(device, 128)) {
        Error(w, "devices",
              "invalid device name " + Quote(device) + ": 1 to 128 characters, no spaces");
      } else if (!seen.emplace(device, nullptr).second) {
        Error(w, "devices", "device " + Quote(device) + " is listed twice");
      }
    }
  }

  // ---- modules

  void CheckModule(size_t i) {
    const Module& m = d_.modules[i];
    const Where w = At(Section::kModules, i);
    if (!Ok(w, "*")) return;
    CheckEntityName(w, m.name, "module", &module_index_);

    const Node* node = nullptr;
    if (Ok(w, "node")) {
      if (m.node.empty()) {
        Error(w, "node", "required");
      } else if ((node = NodeNamed(m.node)) == nullptr) {
        Error(w, "node", "no node named " + Quote(m.node));
      }
    }
    if (node != nullptr && Ok(w, "type") && NodeTypeKnown(m.node) && node->type != m.type) {
      Error(w, "type",
            "module type '" + std::string(BackendName(m.type)) + "' does not match the type '" +
                BackendName(node->type) + "' of node " + Quote(node->name));
    }
    if (m.old_node && Ok(w, "old_node") && NodeNamed(*m.old_node) == nullptr) {
      Error(w, "old_node", "no node named " + Quote(*m.old_node));
    }
    CheckSources(w, m);
    if (node != nullptr) CheckDeviceClaim(w, m, *node);
    CheckKeyLength(w, "key", m.key, /*allow_32=*/true);
    if (m.expected_measurement && Ok(w, "expected_measurement") &&
        m.expected_measurement->size() != 32) {
      Error(w, "expected_measurement",
            "must be 32 bytes (64 hex digits), got " +
                std::to_string(m.expected_measurement->size()) + " bytes");
    }
    if (m.port) CheckPort(w, "port", *m.port);
    if (m.id && node != nullptr && Ok(w, "id")) {
      CheckUnique(&module_ids_, m.node + '\0' + std::to_string(*m.id), w, "id",
                  "module id " + std::to_string(*m.id) + " on node " + Quote(m.node));
    }
  }

  void CheckSources(Where w, const Module& m) {
    if (!Ok(w, "sources") || !Ok(w, "files") || !Ok(w, "folder") || !Ok(w, "name") ||
        !Ok(w, "type")) {
      return;
    }
    // Pre-deployed modules (drivers baked into a node's firmware, in the
    // original) have nothing to build.
    if (m.sources.empty() && !m.folder && !m.deployed) {
      Error(w, "sources", "required: list the module's C/C++ source files (or give 'folder')");
    }
    for (const auto& source : m.sources) {
      if (source.empty()) Error(w, "sources", "a path must not be empty");
    }
    // A pre-installed module is attested like any other: against its
    // measurement, which aex cannot build without sources.
    if (m.preinstalled() && !m.binary && !m.expected_measurement &&
        Ok(w, "expected_measurement")) {
      Error(w, "binary",
            "required: a pre-installed module ('deployed: true' without sources) needs 'binary' "
            "(a copy of the module's binary) or 'expected_measurement', to be attested");
    }
  }

  // Driver modules get exclusive access to a device (DESIGN.md section 2):
  // at most one claim per device and node, and only for devices the node
  // has when it lists them.
  void CheckDeviceClaim(Where w, const Module& m, const Node& node) {
    if (!m.device || !Ok(w, "device")) return;
    const std::string& device = *m.device;
    if (!IsValidToken(device, 128)) {
      Error(w, "device",
            "invalid device name " + Quote(device) + ": 1 to 128 characters, no spaces");
      return;
    }
    DeviceClaims& claims = DevicesOf(node);
    auto it = claims.find(device);
    if (node.devices && it == claims.end()) {
      Error(w, "device",
            "node " + Quote(node.name) + " has no device " + Quote(device) +
                (node.devices->empty() ? " (it lists no devices)"
                                       : " (its devices: " + Join(*node.devices) + ")"));
      return;
    }
    if (it == claims.end()) it = claims.emplace(device, nullptr).first;  // undeclared devices
    if (it->second != nullptr) {
      Error(w, "device",
            "device " + Quote(device) + " on node " + Quote(node.name) +
                " is already claimed by module " + Quote(it->second->name));
    } else {
      it->second = &m;
    }
  }

  // A node's devices (its list, if it has one, and the devices claimed on
  // it), each with the module that claimed it. Built by CheckDeviceList, or
  // here when that check was skipped: a node may list many devices and many
  // modules may claim them, so each claim costs one lookup.
  DeviceClaims& DevicesOf(const Node& node) {
    auto [it, inserted] = device_claims_.try_emplace(&node);
    if (inserted && node.devices) {
      for (const std::string& device : *node.devices) it->second.emplace(device, nullptr);
    }
    return it->second;
  }

  // ---- connections

  // A referenced module: present and declared.
  const Module* CheckModuleRef(Where w, const char* field, const std::string& name,
                               const char* if_missing = "required") {
    if (!Ok(w, field)) return nullptr;
    if (name.empty()) {
      Error(w, field, if_missing);
      return nullptr;
    }
    const Module* m = ModuleNamed(name);
    if (m == nullptr) Error(w, field, "no module named " + Quote(name));
    return m;
  }

  void CheckRefName(Where w, const char* field, const std::optional<IoRef>& ref) {
    if (ref && !ref->is_index() && ref->name.empty() && Ok(w, field)) {
      Error(w, field, "must not be empty");
    }
  }

  void CheckConnection(size_t i) {
    const Connection& c = d_.connections[i];
    const Where w = At(Section::kConnections, i);
    if (!Ok(w, "*")) return;
    CheckLabel(w, c.name, "connection", &connection_names_);
    if (Ok(w, "id")) {
      CheckUnique(&connection_ids_, c.id, w, "id", "connection id " + std::to_string(c.id));
    }
    const Module* from =
        c.direct ? nullptr
                 : CheckModuleRef(w, "from_module", c.from_module,
                                  "required (or set 'direct: true' for a connection from the "
                                  "deployer)");
    const Module* to = CheckModuleRef(w, "to_module", c.to_module);
    CheckConnectionShape(w, c);
    if (!c.direct && !c.from_module.empty() && c.from_module == c.to_module &&
        Ok(w, "from_module") && Ok(w, "to_module")) {
      Error(w, "to_module",
            "a connection cannot go from module " + Quote(c.from_module) + " to itself");
    }
    if (from != nullptr && to != nullptr) CheckPeerTransport(w, *from, *to);
    if (Ok(w, "encryption")) {
      if (from != nullptr && ModuleTypeKnown(from->name)) CheckEncryption(w, c, *from);
      if (to != nullptr && ModuleTypeKnown(to->name)) CheckEncryption(w, c, *to);
    }
    CheckKeyLength(w, "key", c.key, /*allow_32=*/false);
    if (c.established && !c.key && Ok(w, "key")) {
      Error(w, "key", "required once 'established' is true");
    }
  }

  // The original's connection rules: which endpoint fields go together.
  void CheckConnectionShape(Where w, const Connection& c) {
    const bool ends_ok = Ok(w, "from_output") && Ok(w, "from_request") && Ok(w, "from_module");
    if (c.direct) {
      if (!c.from_module.empty() && Ok(w, "from_module")) {
        Error(w, "from_module",
              "direct connections have no 'from_module' (the deployer is the "
              "source)");
      }
      if (c.from_output && Ok(w, "from_output")) {
        Error(w, "from_output", "direct connections have no 'from_output'");
      }
      if (c.from_request && Ok(w, "from_request")) {
        Error(w, "from_request", "direct connections have no 'from_request'");
      }
    } else if (ends_ok && c.from_output.has_value() == c.from_request.has_value()) {
      Error(w, c.from_output ? "from_request" : "from_output",
            "give exactly one of 'from_output' and 'from_request'");
    }
    const bool to_ok = Ok(w, "to_input") && Ok(w, "to_handler");
    if (to_ok && c.to_input.has_value() == c.to_handler.has_value()) {
      Error(w, c.to_input ? "to_handler" : "to_input",
            "give exactly one of 'to_input' and 'to_handler'");
    } else if (to_ok && ends_ok && !c.direct) {
      if (c.from_output && !c.from_request && c.to_handler) {
        Error(w, "to_handler",
              "an output ('from_output') must go to an input ('to_input'), "
              "not to a handler");
      } else if (c.from_request && !c.from_output && c.to_input) {
        Error(w, "to_input",
              "a request ('from_request') must go to a handler ('to_handler'), "
              "not to an input");
      }
    }
    CheckRefName(w, "from_output", c.from_output);
    CheckRefName(w, "from_request", c.from_request);
    CheckRefName(w, "to_input", c.to_input);
    CheckRefName(w, "to_handler", c.to_handler);
  }

  // A node opens its peer links with its own transport (TLS with its node
  // certificate, or plain TCP without one), so both ends of a link between
  // two nodes must use the same.
  void CheckPeerTransport(Where w, const Module& from, const Module& to) {
    const Node* a = NodeNamed(from.node);
    const Node* b = NodeNamed(to.node);
    if (a == nullptr || b == nullptr || a == b || UsesTls(*a) == UsesTls(*b)) return;
    auto describe = [](const Node& n) {
      return "node " + Quote(n.name) + (UsesTls(n) ? " uses TLS" : " does not use TLS");
    };
    Error(w, "to_module",
          "joins nodes that cannot link: " + describe(*a) + ", " + describe(*b) +
              " (set the same 'tls' on both)");
  }

  void CheckEncryption(Where w, const Connection& c, const Module& m) {
    if (BackendSupports(m.type, c.encryption)) return;
    Error(w, "encryption",
          Quote(EncryptionName(c.encryption)) + " is not supported by " + BackendName(m.type) +
              " module " + Quote(m.name) + " (" + BackendName(m.type) +
              " supports only 'spongent')");
  }

  // ---- periodic events

  void CheckEvent(size_t i) {
    const PeriodicEvent& e = d_.periodic_events[i];
    const Where w = At(Section::kEvents, i);
    if (!Ok(w, "*")) return;
    CheckLabel(w, e.name, "event", &event_names_);
    if (Ok(w, "id")) CheckUnique(&event_ids_, e.id, w, "id", "event id " + std::to_string(e.id));
    CheckModuleRef(w, "module", e.module);
    if (Ok(w, "entry") && !e.entry.is_index() && e.entry.name.empty()) {
      Error(w, "entry", "required");
    }
    if (e.frequency_ms == 0 && Ok(w, "frequency")) {
      Error(w, "frequency", "must be in 1..4294967295, got 0");
    }
  }

  const Descriptor& d_;
  Diagnostics* diag_;
  // Keys of pairs are joined with a NUL, which no validated name contains.
  std::unordered_map<std::string, size_t> node_index_, module_index_;
  std::unordered_map<std::string, size_t> connection_names_, event_names_;
  std::unordered_map<std::string, size_t> endpoints_;
  std::unordered_map<std::string, size_t> module_ids_;  // node NUL id
  std::unordered_map<uint16_t, size_t> connection_ids_;
  std::unordered_map<uint32_t, size_t> event_ids_;
  std::unordered_map<const Node*, DeviceClaims> device_claims_;
};

}  // namespace

void Validate(const Descriptor& d, Diagnostics* diag) { Validator(d, diag).Run(); }

}  // namespace internal

Status CheckReadyToRun(const Descriptor& d) {
  internal::Diagnostics diag;
  for (size_t i = 0; i < d.nodes.size(); ++i) {
    const Node& n = d.nodes[i];
    if (n.type == Backend::kSgx && !n.root_ca) {
      diag.Error(internal::Where{internal::Section::kNodes, static_cast<int>(i)}, "root_ca",
                 "required: sgx modules are attested against the platform's root CA "
                 "certificate (aex-node writes it to <node_key_file>.platform/sgx_root_ca.pem)");
    }
  }
  for (size_t i = 0; i < d.modules.size(); ++i) {
    const Module& m = d.modules[i];
    std::error_code ec;
    if (m.preinstalled() && m.binary && !std::filesystem::is_regular_file(*m.binary, ec)) {
      diag.Error(internal::Where{internal::Section::kModules, static_cast<int>(i)}, "binary",
                 "no file " + internal::Quote(m.binary->string()) +
                     " (the pre-installed module's binary: its node runs it, and it is "
                     "attested against its SHA-256)");
    }
  }
  return diag.ToStatus(d);
}

Status ValidateDescriptor(const Descriptor& descriptor) {
  internal::Diagnostics diag;
  internal::Validate(descriptor, &diag);
  return diag.ToStatus(descriptor);
}

// ---------------------------------------------------------------------------
// Manifests

namespace {

using gen::IoKind;
using internal::Quote;
using internal::Section;
using internal::Where;

// Local names instead of gen::IoKindName, so that this check needs only the
// manifest's data, not the generator library.
const char* KindSingular(IoKind kind) {
  switch (kind) {
    case IoKind::kInput:
      return "input";
    case IoKind::kOutput:
      return "output";
    case IoKind::kRequest:
      return "request";
    case IoKind::kHandler:
      return "handler";
    case IoKind::kEntry:
      return "entry";
  }
  return "endpoint";
}

const char* KindPlural(IoKind kind) {
  switch (kind) {
    case IoKind::kInput:
      return "inputs";
    case IoKind::kOutput:
      return "outputs";
    case IoKind::kRequest:
      return "requests";
    case IoKind::kHandler:
      return "handlers";
    case IoKind::kEntry:
      return "entries";
  }
  return "endpoints";
}

const std::vector<std::string>& Endpoints(const gen::ModuleManifest& m, IoKind kind) {
  switch (kind) {
    case IoKind::kInput:
      return m.inputs;
    case IoKind::kOutput:
      return m.outputs;
    case IoKind::kRequest:
      return m.requests;
    case IoKind::kHandler:
      return m.handlers;
    case IoKind::kEntry:
      return m.entries;
  }
  return m.inputs;
}

// "(its outputs: 'a', 'b')", at most ten of them.
std::string ListHint(const std::vector<std::string>& names, IoKind kind) {
  if (names.empty()) return std::string(" (it has no ") + KindPlural(kind) + ")";
  std::string out = std::string(" (its ") + KindPlural(kind) + ": ";
  for (size_t i = 0; i < names.size() && i < 10; ++i) {
    if (i > 0) out += ", ";
    out += Quote(names[i]);
  }
  if (names.size() > 10) out += ", ...";
  return out + ")";
}

class ManifestChecker {
 public:
  ManifestChecker(const Descriptor& descriptor,
                  const std::map<std::string, gen::ModuleManifest>& manifests,
                  internal::Diagnostics* diag)
      : descriptor_(descriptor), manifests_(manifests), diag_(diag) {}

  void Check(Where w, const char* field, const std::string& module, IoKind kind, const IoRef& ref) {
    const Module* m = descriptor_.FindModule(module);
    if (m != nullptr && m->preinstalled()) {
      // Nothing was built, so there is no manifest: as in the original,
      // endpoints of a pre-installed module are given by index.
      if (!ref.is_index()) {
        diag_->Error(w, field,
                     "module " + Quote(module) + " is pre-installed (no sources, so no manifest): "
                     "give the " + KindSingular(kind) + " by index");
      }
      return;
    }
    auto it = manifests_.find(module);
    if (it == manifests_.end()) {
      diag_->Error(w, field,
                   "no manifest for module " + Quote(module) + " (was it built with aex-gen?)");
      return;
    }
    const std::vector<std::string>& names = Endpoints(it->second, kind);
    if (ref.is_index()) {
      if (*ref.index >= names.size()) {
        diag_->Error(w, field,
                     "module " + Quote(module) + " has no " + KindSingular(kind) + " with index " +
                         std::to_string(*ref.index) + " (it has " + std::to_string(names.size()) +
                         " " + KindPlural(kind) + ")");
      }
    } else if (std::find(names.begin(), names.end(), ref.name) == names.end()) {
      diag_->Error(w, field,
                   "module " + Quote(module) + " has no " + KindSingular(kind) + " named " +
                       Quote(ref.name) + ListHint(names, kind));
    }
  }

 private:
  const Descriptor& descriptor_;
  const std::map<std::string, gen::ModuleManifest>& manifests_;
  internal::Diagnostics* diag_;
};

}  // namespace

Status ValidateAgainstManifests(const Descriptor& descriptor,
                                const std::map<std::string, gen::ModuleManifest>& manifests) {
  internal::Diagnostics diag;
  ManifestChecker checker(descriptor, manifests, &diag);
  for (size_t i = 0; i < descriptor.connections.size() && !diag.full(); ++i) {
    const Connection& c = descriptor.connections[i];
    const Where w{Section::kConnections, static_cast<int>(i)};
    if (!c.direct) {
      if (c.from_output)
        checker.Check(w, "from_output", c.from_module, IoKind::kOutput, *c.from_output);
      if (c.from_request) {
        checker.Check(w, "from_request", c.from_module, IoKind::kRequest, *c.from_request);
      }
    }
    if (c.to_input) checker.Check(w, "to_input", c.to_module, IoKind::kInput, *c.to_input);
    if (c.to_handler) checker.Check(w, "to_handler", c.to_module, IoKind::kHandler, *c.to_handler);
  }
  for (size_t i = 0; i < descriptor.periodic_events.size() && !diag.full(); ++i) {
    const PeriodicEvent& e = descriptor.periodic_events[i];
    checker.Check(Where{Section::kEvents, static_cast<int>(i)}, "entry", e.module, IoKind::kEntry,
                  e.entry);
  }
  return diag.ToStatus(descriptor);
}

std::vector<ErrorItem> ErrorItems(std::string_view message, std::string_view source_name) {
  std::vector<ErrorItem> items;
  const std::string file = source_name.empty() ? "<descriptor>" : std::string(source_name);
  while (!message.empty()) {
    size_t nl = message.find('\n');
    std::string_view rest = message.substr(0, nl);
    message.remove_prefix(nl == std::string_view::npos ? message.size() : nl + 1);
    if (rest.empty()) continue;
    ErrorItem item;
    if (internal::Consume(&rest, file + ": ")) {
      item.file = file;
      internal::ReadEntry(&rest, &item);
      std::string_view field = rest;
      size_t end;
      if (internal::Consume(&field, "field '") &&
          (end = field.find("': ")) != std::string_view::npos) {
        item.field = std::string(field.substr(0, end));
        rest = field.substr(end + 3);
      }
    }
    item.message = std::string(rest);
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace aex::deploy
