// The deployment descriptor: what the operator wants deployed (nodes, modules,
// connections, periodic events), loaded from JSON or YAML and validated
// strictly before anything touches the network.
//
// The schema is the one of the original Authentic Execution deployer
// (reactive-tools) plus aex extensions; docs/descriptor.md is the reference.
// Every error names the file, the entry and the field, and all errors of a
// file are reported together so that one run shows everything to fix.
//
// Nothing here throws: the JSON and YAML libraries are wrapped and their
// exceptions turned into Status values.

#ifndef AEX_DEPLOYER_DESCRIPTOR_H_
#define AEX_DEPLOYER_DESCRIPTOR_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "aex/bytes.h"
#include "aex/status.h"
#include "gen/manifest.h"
#include "platform/platform.h"

namespace aex::deploy {

// The TEE a node provides and a module is built for.
// The TEE backends are the platform layer's (one enum for the whole system).
using tee::Backend;
using tee::BackendName;  // "native", "sgx", "trustzone", "sancus"
// Exact, lower-case names only (the original tool looked them up verbatim).
std::optional<Backend> ParseBackend(std::string_view name);

// The authenticated encryption of a connection's events.
enum class Encryption { kAes, kSpongent };
const char* EncryptionName(Encryption encryption);  // "aes", "spongent"
// Case-insensitive, as in the original tool.
std::optional<Encryption> ParseEncryption(std::string_view name);
// Sancus hardware only has SPONGENT; the other backends have both.
bool BackendSupports(Backend backend, Encryption encryption);

// An input, output, request, handler or entry of a module, given either by
// name or by its index among the module's endpoints of that kind (as listed
// in its manifest). Exactly one of the two is set.
struct IoRef {
  std::string name;
  std::optional<uint16_t> index;

  bool is_index() const { return index.has_value(); }
  std::string ToString() const { return is_index() ? std::to_string(*index) : name; }
};

struct Node {
  Backend type = Backend::kNative;
  std::string name;
  std::string host;  // hostname or IP literal, not resolved here
  uint16_t reactive_port = 0;
  uint16_t deploy_port = 0;  // defaults to reactive_port

  // Fields of the original tool.
  std::optional<uint16_t> module_id;  // next module id the original handed out
  std::optional<uint16_t> vendor_id;  // sancus, trustzone
  std::optional<Bytes> vendor_key;    // sancus, trustzone
  std::optional<Bytes> node_key;      // the platform key K_N
  std::optional<std::string> aesm_host;
  std::optional<uint16_t> aesm_port;

  // aex extensions.
  std::optional<std::filesystem::path> node_key_file;  // resolved against base_dir
  bool allow_simulated = true;                         // accept a simulated platform on this node
  bool allow_debug = true;                             // accept debug-mode modules on this node
  std::optional<std::filesystem::path> root_ca;        // sgx trust anchor, resolved
  // sgx attestation policy (docs/attestation-dcap.md, "Policy"): the TCB
  // statuses accepted (Intel's names; empty: UpToDate only), the lowest
  // ISVSVN, the ISVPRODID and MRSIGNER (32 bytes) required, and the
  // collateral (a file, or a folder holding one .json) to verify quotes
  // against instead of the one the evidence carries.
  std::vector<std::string> tcb_statuses;
  uint16_t min_isv_svn = 0;
  std::optional<uint16_t> isv_prod_id;
  std::optional<Bytes> mrsigner;
  std::optional<std::filesystem::path> collateral;
  // Devices present on the node. Unset: not declared (any claim accepted).
  std::optional<std::vector<std::string>> devices;
  // Mutual TLS on the node's port. Unset: on, loopback included (UsesTls);
  // false only as an explicit, warned choice.
  std::optional<bool> tls;

  // Original-tool keys present in the file that aex accepts but does not use.
  std::vector<std::string> ignored_fields;
};

// True for "localhost", "::1" and 127.0.0.0/8 (spelled as an IP literal).
bool IsLoopbackHost(const std::string& host);
// Whether the deployer and the node's peers talk TLS to this node: its `tls`
// field, by default on everywhere (on loopback any local user could
// otherwise manage the node).
bool UsesTls(const Node& node);

struct Module {
  Backend type = Backend::kNative;
  std::string name;
  std::string node;

  // aex build inputs. Paths are resolved against the descriptor's directory.
  // `sources` is filled from `sources` or the original `files`; when both are
  // absent, `folder` names a directory whose *.c/*.cc/*.cpp files are the
  // sources (listed by the build step, not here).
  std::vector<std::filesystem::path> sources;
  std::optional<std::filesystem::path> folder;
  bool folder_is_default = false;  // folder = module name, as in the original
  std::vector<std::string> cflags;
  std::vector<std::string> ldflags;
  // Cargo features of a Rust module (a Cargo.toml in `folder`); C/C++
  // modules have none.
  std::vector<std::string> features;
  std::optional<std::string> device;          // exclusive device claim (driver modules)
  std::optional<Bytes> expected_measurement;  // 32 bytes

  // Fields of the original tool (mostly deployment state).
  std::optional<std::string> old_node;
  std::optional<int64_t> priority;
  uint64_t nonce = 0;
  bool deployed = false;
  bool attested = false;
  std::optional<uint16_t> id;
  std::optional<Bytes> key;  // module key, 16 or 32 bytes
  std::optional<uint16_t> port;

  // The original's `binary`, resolved; used only by a pre-installed module.
  std::optional<std::filesystem::path> binary;

  std::vector<std::string> ignored_fields;
  bool is_manager = false;  // the attestation manager, added by the deployer

  // A module already on its node (the original's drivers in a Sancus
  // board's firmware): `deployed: true` and no sources. aex builds and loads
  // nothing; it finds the module by name on the node, attests it against
  // `binary` or `expected_measurement`, and connects it by endpoint index.
  bool preinstalled() const { return deployed && sources.empty() && !folder; }
};

struct Connection {
  std::string name;         // defaults to "conn<id>"
  uint16_t id = 0;          // defaults to the next free id from connections_current_id
  std::string from_module;  // empty for direct connections
  std::optional<IoRef> from_output;
  std::optional<IoRef> from_request;
  std::string to_module;
  std::optional<IoRef> to_input;
  std::optional<IoRef> to_handler;
  Encryption encryption = Encryption::kAes;
  bool direct = false;       // from the deployer itself
  std::optional<Bytes> key;  // 16 bytes
  uint64_t nonce = 0;
  bool established = false;
};

struct PeriodicEvent {
  std::string name;  // defaults to "event<id>"
  uint32_t id = 0;   // defaults to the next free id from events_current_id
  std::string module;
  IoRef entry;
  uint32_t frequency_ms = 0;  // 1..2^32-1
  bool established = false;
};

// aex's attestation manager (docs/tee.md): a module the deployer builds from
// the SDK, loads on `node`, attests itself, and then lets attest the other
// modules and install their connection keys.
struct ManagerSpec {
  std::string node;
  std::string name = "aex-manager";  // its module name (must not clash)
  // The manager receives every node's trust anchors and keys: on a native
  // node or a simulated platform (no hardware protection) only if the
  // descriptor says so explicitly.
  bool allow_unprotected = false;
};

struct Descriptor {
  std::vector<Node> nodes;
  std::vector<Module> modules;
  std::vector<Connection> connections;
  std::vector<PeriodicEvent> periodic_events;
  // `manager` as a string: the original tool's manager file (resolved against
  // base_dir, kept, not used); as a mapping: aex's attestation manager.
  std::optional<std::filesystem::path> manager;
  std::optional<ManagerSpec> manager_spec;
  uint32_t connections_current_id = 0;           // next id to hand out (<= 65536)
  uint32_t events_current_id = 0;

  std::filesystem::path base_dir;  // relative paths in the file start here
  std::string source_name;         // the file, as named in messages
  // Non-fatal findings (ignored original fields, fields that do not apply to
  // a node type), formatted like errors. The CLI prints them.
  std::vector<std::string> warnings;

  // First entry with that name, or nullptr.
  const Node* FindNode(std::string_view name) const;
  const Module* FindModule(std::string_view name) const;
  const Connection* FindConnection(std::string_view name) const;
  const PeriodicEvent* FindEvent(std::string_view name) const;
};

// Largest descriptor LoadDescriptor and ParseDescriptor accept.
inline constexpr size_t kMaxDescriptorBytes = 16u << 20;

// Reads `file` (JSON, else YAML), parses and validates it (including
// ValidateDescriptor). base_dir is the file's absolute directory.
Result<Descriptor> LoadDescriptor(const std::filesystem::path& file);

// As LoadDescriptor, on text already in memory. source_name prefixes every
// message; relative paths are resolved against base_dir (kept relative if
// base_dir is empty).
Result<Descriptor> ParseDescriptor(std::string_view text, std::string source_name,
                                   std::filesystem::path base_dir);

// The rules that span entries or that a programmatically built Descriptor
// could break: names, references, types, keys, ports, pairing, devices.
// ParseDescriptor already applies it; it is public for descriptors built or
// modified in code.
Status ValidateDescriptor(const Descriptor& descriptor);

// What the nodes need to start and the modules to be attested, beyond the
// file's own consistency (`aex validate`): an sgx node's root_ca, the binary
// of a pre-installed module. Not part of ValidateDescriptor, which commands
// that only read the descriptor (status, graph, logs) also apply.
Status CheckReadyToRun(const Descriptor& descriptor);

// Checks every connection endpoint and periodic-event entry against the
// interface aex-gen extracted from the module's source (`manifests` is keyed
// by module name). Integer references are indexes within the kind.
Status ValidateAgainstManifests(const Descriptor& descriptor,
                                const std::map<std::string, gen::ModuleManifest>& manifests);

// One error (or warning) of a message, as `aex --json` reports it. Messages
// about a descriptor are lines "FILE: SECTION[I] ('NAME'): field 'F': TEXT"
// (the entry and field parts only where they apply); other lines, such as a
// node's or a compiler's failure, carry no file, entry or field.
struct ErrorItem {
  std::string file;   // empty: not about the descriptor
  std::string entry;  // "modules[2]"; empty: the file as a whole, or none
  std::string name;   // the entry's name ("pong"); may be empty
  std::string field;  // "node"; empty: the entry as a whole, or none
  std::string message;
};

// Splits a message (one error a line) into items, reading the prefix that
// Diagnostics writes. source_name is the descriptor as named in messages.
std::vector<ErrorItem> ErrorItems(std::string_view message, std::string_view source_name);

// ---------------------------------------------------------------------------
// Not part of the API: shared by descriptor.cc and descriptor_validate.cc.
namespace internal {

enum class Section { kFile, kNodes, kModules, kConnections, kEvents };

// An entry of the file: `section[index]`, or the file itself.
struct Where {
  Section section = Section::kFile;
  int index = -1;
};

// Collects errors and warnings as (entry, field, text) and formats them with
// the file name and the entry's name once the whole file is known. It also
// remembers which fields failed to parse so that the validator does not
// report a second, derived error for the same field.
//
// A hostile file can hold millions of broken entries: only the first
// kMaxErrors errors (and kMaxWarnings warnings) are kept, and full() tells
// the parser and the validator to stop early. The message then says that
// the rest of the file was not checked. Every operation is O(1) on average,
// so that checking a file is linear in its size.
class Diagnostics {
 public:
  static constexpr size_t kMaxErrors = 1000;
  static constexpr size_t kMaxWarnings = 1000;

  // field may be empty (the entry itself) or "*" (the whole entry is broken).
  void Error(Where where, std::string_view field, std::string text);
  void Warning(Where where, std::string_view field, std::string text);
  bool Failed(Where where, std::string_view field) const;
  bool has_errors() const { return !errors_.empty(); }
  // Enough errors collected: stop checking.
  bool full() const { return errors_.size() >= kMaxErrors; }

  // kInvalidArgument with the first errors, one a line; OK when there are none.
  Status ToStatus(const Descriptor& d) const;
  std::vector<std::string> FormatWarnings(const Descriptor& d) const;

 private:
  struct Item {
    Where where;
    std::string field;
    std::string text;
  };
  static std::vector<std::string> Format(const Descriptor& d, std::vector<Item> items);
  static std::string FailedKey(Where where, std::string_view field);

  std::vector<Item> errors_;
  std::vector<Item> warnings_;
  size_t warnings_dropped_ = 0;
  std::unordered_set<std::string> failed_;
};

// Applies ValidateDescriptor's rules, skipping fields already failed in diag.
void Validate(const Descriptor& d, Diagnostics* diag);

// Quotes untrusted text for a message: escapes control characters and
// truncates, so a hostile file cannot forge or flood the output.
std::string Quote(std::string_view text);

}  // namespace internal
}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_DESCRIPTOR_H_
