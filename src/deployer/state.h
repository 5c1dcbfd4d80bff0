// Deployment state: what the deployer has done (loaded module ids, the
// instance each attestation saw, established connections). It holds no key,
// nonce or counter: every run attests a module again before it sends it
// management messages and numbers its grants from 1 under that run's fresh
// session key, so a restored or copied state file cannot repeat a (key,
// nonce). Written atomically (temp file + fsync + rename) with mode 0600, and
// locked so that two runs do not interleave.

#ifndef AEX_DEPLOYER_STATE_H_
#define AEX_DEPLOYER_STATE_H_

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "aex/status.h"
#include "crypto/crypto.h"

namespace aex::deploy {

struct ModuleState {
  std::string node;
  uint32_t id = 0;  // 0: not loaded
  std::string binary;
  std::string measurement;  // hex
  // The random instance id the last attestation saw; 0: not attested. A
  // live module reporting another one was restarted behind the deployer.
  uint64_t instance = 0;
  bool disabled = false;
  std::string moved_from{};  // aex update --node: the node the descriptor names (update.h)
  // Attested by the attestation manager, which holds its session key.
  bool by_manager = false;

  bool attested() const { return instance != 0; }
};

struct ConnectionState {
  uint32_t id = 0;
  bool established = false;
};

struct EventState {
  uint32_t id = 0;  // id the node assigned
  bool registered = false;
};

struct DeploymentState {
  std::map<std::string, ModuleState> modules;
  std::map<std::string, ConnectionState> connections;
  std::map<std::string, EventState> events;
  uint32_t next_connection_id = 1;
  // The load tag sent with every LOAD of this deployment (32 hex digits,
  // random, made on the first deploy): a node lists the modules carrying it,
  // so the deployer finds the ones its state does not account for.
  std::string deployment_tag;
  // Load intents: module -> node, saved before the LOAD is sent and cleared
  // once its id is recorded. One left over means a run stopped in between;
  // the next run looks for a stray instance there (docs/reliability.md).
  std::map<std::string, std::string> loading;
};

// Size of DeploymentState::deployment_tag in bytes (hex: twice as many digits).
inline constexpr size_t kDeploymentTagBytes = 16;

// What Open does with a state file that does not parse or holds a value
// that is out of range (a corrupt file is never silently used).
enum class CorruptState {
  kRefuse,     // fail (kInvalidArgument, naming the entry and the field)
  kMoveAside,  // rename it to CorruptStatePath and start empty (aex reset)
};

// Whether Open takes the state file's lock.
enum class StateLock {
  kExclusive,  // every command that may change the deployment
  kNone,       // read-only observers (aex dashboard): Save and Remove fail; Reload re-reads
};

// An open, locked state file. The lock is released on destruction.
// Whether Open takes the lock. Read-only commands (status, graph) read the
// file as the last Save left it (Save replaces it atomically) while another
// run holds the lock, and never write it.

class StateFile {
 public:
  // Locks `path` (via path + ".lock") without waiting; fails with
  // kFailedPrecondition if another run holds it. Loads the state if present.
  // A corrupt file fails with kInvalidArgument and a message that starts
  // with kCorruptStateMessage, or is moved aside (see CorruptState).
  // With StateLock::kNone the lock is not taken and `corrupt` must be
  // kRefuse: an observer never moves the file.
  static Result<std::unique_ptr<StateFile>> Open(const std::filesystem::path& path,
                                                 CorruptState corrupt = CorruptState::kRefuse,
                                                 StateLock lock = StateLock::kExclusive);
  ~StateFile();

  // Set when Open moved a corrupt file aside: where it is now, and why.
  const std::filesystem::path& moved_aside() const { return moved_aside_; }
  const std::string& corruption() const { return corruption_; }

  DeploymentState& state() { return state_; }
  const DeploymentState& state() const { return state_; }
  // Writes atomically; on failure the previous file is untouched.
  // Fails (kFailedPrecondition) when opened without the lock.
  Status Save();
  // Removes the state file (after `down`/`reset`). Fails as Save does.
  Status Remove();
  // Reads the file again (a missing file is the empty state), for an
  // observer that another run changes under (StateLock::kNone; the writer's
  // atomic rename means it sees one whole version). On failure the state
  // held so far is kept.
  Status Reload();

 private:
  StateFile(std::filesystem::path path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  static Result<DeploymentState> Parse(const std::string& text);
  // The file's state; the empty state if it does not exist.
  static Result<DeploymentState> Read(const std::filesystem::path& path);
  Status RequireLock(const char* what) const;
  std::string Serialize() const;

  std::filesystem::path path_;
  int lock_fd_;  // -1: opened with StateLock::kNone
  DeploymentState state_;
  std::filesystem::path moved_aside_;
  std::string corruption_;
};

// Every error about an unreadable state file contains this text.
inline constexpr char kCorruptStateMessage[] = "corrupt state file";

// The path a corrupt state file is moved to by `aex reset`.
std::filesystem::path CorruptStatePath(const std::filesystem::path& path, int64_t unix_time);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_STATE_H_
