#include "deployer/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/files.h"

namespace aex::deploy {
namespace fs = std::filesystem;
using nlohmann::json;


Result<std::unique_ptr<StateFile>> StateFile::Open(const fs::path& path) {
  std::string lock_path = path.string() + ".lock";
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status(Code::kIo, "cannot open lock file " + lock_path);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return FailedPrecondition("another aex run is using " + path.string() +
                              " (lock held on " + lock_path + ")");
  }
  std::unique_ptr<StateFile> file(new StateFile(path, fd));
  if (fs::exists(path)) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = Parse(ss.str());
    if (!parsed.ok()) {
      return Status(parsed.status().code(),
                    path.string() + ": " + parsed.status().message());
    }
    file->state_ = std::move(*parsed);
  }
  return file;
}

StateFile::~StateFile() {
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the flock
}

Result<DeploymentState> StateFile::Parse(const std::string& text) {
  DeploymentState s;
  try {
    json doc = json::parse(text);
    if (doc.value("version", 0) != 1) return InvalidArgument("unsupported state version");
    s.next_connection_id = doc.value("next_connection_id", 1u);
    for (auto& [name, m] : doc.at("modules").items()) {
      ModuleState ms;
      ms.node = m.at("node").get<std::string>();
      ms.id = m.at("id").get<uint32_t>();
      ms.binary = m.value("binary", "");
      ms.measurement = m.value("measurement", "");
      ms.instance = m.value("instance", uint64_t{0});
      ms.disabled = m.value("disabled", false);
      ms.moved_from = m.value("moved_from", "");
      ms.by_manager = m.value("by_manager", false);
      s.modules[name] = ms;
    }
    for (auto& [name, c] : doc.at("connections").items()) {
      ConnectionState cs;
      cs.id = c.at("id").get<uint32_t>();
      cs.established = c.value("established", false);
      s.connections[name] = cs;
    }
    for (auto& [name, e] : doc.at("events").items()) {
      s.events[name] = EventState{e.at("id").get<uint32_t>(), e.value("registered", false)};
    }
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("corrupt state file: ") + e.what());
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
  return doc.dump(2) + "\n";
}

Status StateFile::Save() {
  std::string text = Serialize();
  Status written = WriteFileAtomically(path_, text, 0600);
  if (!written.ok()) return Status(Code::kIo, "cannot write state file " + path_.string());
  return Status::Ok();
}

Status StateFile::Remove() {
  state_ = DeploymentState{};
  std::error_code ec;
  fs::remove(path_, ec);
  return ec ? Status(Code::kIo, "cannot remove " + path_.string()) : Status::Ok();
}

}  // namespace aex::deploy
