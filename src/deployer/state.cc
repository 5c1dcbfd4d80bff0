#include "deployer/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/files.h"

namespace aex::deploy {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Typed, range-checked access to the fields of one entry of the state file.
// nlohmann's get<uint32_t>() would turn -1 into 4294967295 and 1.5 into 1,
// and a bad key would silently read as "not attested": every value that is
// not exactly what the deployer writes is an error naming entry and field.
class EntryReader {
 public:
  EntryReader(const json& object, std::string where) : object_(object), where_(std::move(where)) {}

  Status Object() const {
    return object_.is_object() ? Status::Ok() : Bad("", "expected an object");
  }

  // Absent: *out keeps its default (unless required).
  Status Uint(const char* field, uint64_t min, uint64_t max, bool required, uint64_t* out) const {
    const json* j = Find(field);
    if (j == nullptr) return required ? Bad(field, "missing") : Status::Ok();
    if (!j->is_number_unsigned() || j->get<uint64_t>() < min || j->get<uint64_t>() > max) {
      return Bad(field, "must be an integer in " + std::to_string(min) + ".." +
                            std::to_string(max) + ", got " + Shown(*j));
    }
    *out = j->get<uint64_t>();
    return Status::Ok();
  }

  template <typename T>
  Status Uint(const char* field, uint64_t min, bool required, T* out) const {
    uint64_t v = *out;
    AEX_RETURN_IF_ERROR(Uint(field, min, std::numeric_limits<T>::max(), required, &v));
    *out = static_cast<T>(v);
    return Status::Ok();
  }

  Status Bool(const char* field, bool* out) const {
    const json* j = Find(field);
    if (j == nullptr) return Status::Ok();
    if (!j->is_boolean()) return Bad(field, "must be true or false, got " + Shown(*j));
    *out = j->get<bool>();
    return Status::Ok();
  }

  Status String(const char* field, bool required, std::string* out) const {
    const json* j = Find(field);
    if (j == nullptr) return required ? Bad(field, "missing") : Status::Ok();
    if (!j->is_string()) return Bad(field, "must be a string, got " + Shown(*j));
    if (required && j->get<std::string>().empty()) return Bad(field, "must not be empty");
    *out = j->get<std::string>();
    return Status::Ok();
  }

  // Empty (or absent) or exactly `bytes` bytes of hex.
  Status Hex(const char* field, size_t bytes, std::string* out) const {
    std::string text;
    AEX_RETURN_IF_ERROR(String(field, false, &text));
    Bytes raw;
    if (!text.empty() && !HexDecode(text, &raw)) return Bad(field, "not a hex string");
    const size_t got = raw.size();
    crypto::Wipe(raw);  // it may be a key
    if (!text.empty() && got != bytes) {
      return Bad(field, "must be " + std::to_string(bytes) + " bytes (" +
                            std::to_string(2 * bytes) + " hex digits), got " +
                            std::to_string(got) + " bytes");
    }
    *out = std::move(text);
    return Status::Ok();
  }

 private:
  const json* Find(const char* field) const {
    auto it = object_.find(field);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  // The offending value, short (it may be a secret or huge).
  static std::string Shown(const json& j) {
    if (j.is_string()) return "a string";
    std::string text = j.dump();
    return text.size() > 24 ? text.substr(0, 24) + "..." : text;
  }

  Status Bad(const std::string& field, const std::string& what) const {
    return InvalidArgument(where_ + (field.empty() ? "" : ": field '" + field + "'") + ": " + what);
  }

  const json& object_;
  std::string where_;
};

// "modules['ping']": names come from the file, so they are quoted and cut.
std::string EntryName(const char* section, const std::string& name) {
  std::string shown;
  for (char c : name.substr(0, 64)) {
    shown += (c >= 0x20 && c < 0x7f && c != '\'') ? c : '?';
  }
  return std::string(section) + "['" + shown + (name.size() > 64 ? "...']" : "']");
}

Status ParseModule(const std::string& name, const json& m, ModuleState* ms) {
  EntryReader r(m, EntryName("modules", name));
  AEX_RETURN_IF_ERROR(r.Object());
  AEX_RETURN_IF_ERROR(r.String("node", true, &ms->node));
  AEX_RETURN_IF_ERROR(r.Uint("id", 0, true, &ms->id));
  AEX_RETURN_IF_ERROR(r.String("binary", false, &ms->binary));
  AEX_RETURN_IF_ERROR(r.Hex("measurement", crypto::Digest{}.size(), &ms->measurement));
  AEX_RETURN_IF_ERROR(r.Uint("instance", 0, false, &ms->instance));
  AEX_RETURN_IF_ERROR(r.Bool("disabled", &ms->disabled));
  AEX_RETURN_IF_ERROR(r.String("moved_from", false, &ms->moved_from));
  return r.Bool("by_manager", &ms->by_manager);
}

Status ParseConnection(const std::string& name, const json& c, ConnectionState* cs) {
  EntryReader r(c, EntryName("connections", name));
  AEX_RETURN_IF_ERROR(r.Object());
  AEX_RETURN_IF_ERROR(r.Uint("id", 0, true, &cs->id));
  return r.Bool("established", &cs->established);
}

Status ParseEvent(const std::string& name, const json& e, EventState* es) {
  EntryReader r(e, EntryName("events", name));
  AEX_RETURN_IF_ERROR(r.Object());
  AEX_RETURN_IF_ERROR(r.Uint("id", 0, true, &es->id));
  return r.Bool("registered", &es->registered);
}

// Calls parse(name, value, &entry) for each member of the object at `key`.
template <typename Entry, typename ParseFn>
Status ParseSection(const json& doc, const char* key, std::map<std::string, Entry>* out,
                    ParseFn parse) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_object()) {
    return InvalidArgument(std::string("'") + key + "' is missing or not an object");
  }
  for (const auto& [name, value] : it->items()) {
    Entry entry;
    AEX_RETURN_IF_ERROR(parse(name, value, &entry));
    (*out)[name] = std::move(entry);
  }
  return Status::Ok();
}

}  // namespace

fs::path CorruptStatePath(const fs::path& path, int64_t unix_time) {
  return fs::path(path.string() + ".corrupt-" + std::to_string(unix_time));
}

Result<std::unique_ptr<StateFile>> StateFile::Open(const fs::path& path, CorruptState corrupt,
                                                   StateAccess access) {
  int fd = -1;
  if (access == StateAccess::kLocked) {
    std::string lock_path = path.string() + ".lock";
    fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status(Code::kIo, "cannot open lock file " + lock_path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd);
      return FailedPrecondition("another aex run is using " + path.string() +
                                " (lock held on " + lock_path + ")");
    }
  }
  std::unique_ptr<StateFile> file(new StateFile(path, fd));
  if (!fs::exists(path)) return file;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto parsed = in.bad() ? Result<DeploymentState>(Status(Code::kIo, "cannot read it"))
                         : Parse(ss.str());
  if (parsed.ok()) {
    file->state_ = std::move(*parsed);
    return file;
  }
  const std::string why = path.string() + ": " + kCorruptStateMessage + ": " +
                          parsed.status().message();
  if (corrupt == CorruptState::kRefuse) return Status(Code::kInvalidArgument, why);
  // Kept, not deleted: it may hold keys the operator wants to look at.
  const fs::path aside = CorruptStatePath(path, static_cast<int64_t>(time(nullptr)));
  std::error_code ec;
  fs::rename(path, aside, ec);
  if (ec) return Status(Code::kIo, why + "; cannot move it to " + aside.string());
  file->moved_aside_ = aside;
  file->corruption_ = why;
  return file;
}

StateFile::~StateFile() {
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the flock
}

Result<DeploymentState> StateFile::Parse(const std::string& text) {
  DeploymentState s;
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("not JSON (") + e.what() + ")");
  }
  if (!doc.is_object()) return InvalidArgument("expected a JSON object");
  EntryReader top(doc, "top level");
  uint64_t version = 0;
  AEX_RETURN_IF_ERROR(top.Uint("version", 0, UINT64_MAX, true, &version));
  if (version != 1) return InvalidArgument("unsupported state version " + std::to_string(version));
  AEX_RETURN_IF_ERROR(top.Uint("next_connection_id", 1, false, &s.next_connection_id));
  AEX_RETURN_IF_ERROR(ParseSection(doc, "modules", &s.modules, ParseModule));
  AEX_RETURN_IF_ERROR(ParseSection(doc, "connections", &s.connections, ParseConnection));
  AEX_RETURN_IF_ERROR(ParseSection(doc, "events", &s.events, ParseEvent));
  AEX_RETURN_IF_ERROR(top.Hex("deployment_tag", kDeploymentTagBytes, &s.deployment_tag));
  if (auto it = doc.find("loading"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("'loading' is not an object");
    for (const auto& [name, node] : it->items()) {
      if (!node.is_string() || node.get<std::string>().empty()) {
        return InvalidArgument(EntryName("loading", name) + ": must be a node name");
      }
      s.loading[name] = node.get<std::string>();
    }
  }
  return s;
}

std::string StateFile::Serialize() const {
  json doc = {{"version", 1}, {"next_connection_id", state_.next_connection_id}};
  doc["modules"] = json::object();
  for (const auto& [name, m] : state_.modules) {
    doc["modules"][name] = {{"node", m.node},         {"id", m.id},
                            {"binary", m.binary},     {"measurement", m.measurement},
                            {"instance", m.instance}, {"disabled", m.disabled}};
    if (!m.moved_from.empty()) doc["modules"][name]["moved_from"] = m.moved_from;
    if (m.by_manager) doc["modules"][name]["by_manager"] = true;
  }
  doc["connections"] = json::object();
  for (const auto& [name, c] : state_.connections) {
    doc["connections"][name] = {{"id", c.id}, {"established", c.established}};
  }
  doc["events"] = json::object();
  for (const auto& [name, e] : state_.events) {
    doc["events"][name] = {{"id", e.id}, {"registered", e.registered}};
  }
  if (!state_.deployment_tag.empty()) doc["deployment_tag"] = state_.deployment_tag;
  if (!state_.loading.empty()) doc["loading"] = state_.loading;
  return doc.dump(2) + "\n";
}

Status StateFile::Save() {
  if (lock_fd_ < 0) return FailedPrecondition(path_.string() + " was opened read-only");
  std::string text = Serialize();
  Status written = WriteFileAtomically(path_, text, 0600);
  if (!written.ok()) return Status(Code::kIo, "cannot write state file " + path_.string());
  return Status::Ok();
}

Status StateFile::Remove() {
  if (lock_fd_ < 0) return FailedPrecondition(path_.string() + " was opened read-only");
  state_ = DeploymentState{};
  std::error_code ec;
  fs::remove(path_, ec);
  return ec ? Status(Code::kIo, "cannot remove " + path_.string()) : Status::Ok();
}

}  // namespace aex::deploy
