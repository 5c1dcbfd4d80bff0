// Interrupting a run (Ctrl-C, SIGINT or SIGTERM during `aex up`, `build` ...)
// without leaving anything behind (docs/reliability.md): the first signal
// kills the process group of every child program (compilers, aex-gen) and
// makes the run stop at its next unit of work, so that every exit path
// (temporary build folders removed, state saved, lock released) runs as on
// an error; a second signal forces the exit, removing the temporary folders
// still registered.
//
// Threads: HandleInterrupts starts one thread that waits for the signals;
// everything else may be called from any thread.

#ifndef AEX_DEPLOYER_INTERRUPT_H_
#define AEX_DEPLOYER_INTERRUPT_H_

#include <spawn.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>

#include "aex/status.h"

namespace aex::deploy {

// Blocks SIGINT and SIGTERM in the calling thread (so in every thread it
// starts later) and handles them on a thread of their own. A signal the
// process inherited as ignored stays ignored (a background job of a script).
// REQUIRES: called once, from main, before any other thread starts.
void HandleInterrupts();

// True once SIGINT or SIGTERM arrived (always false without HandleInterrupts).
bool Interrupted();

// Waits `timeout`, returning early on SIGINT or SIGTERM: true if the time
// ran out, false once interrupted. The one way a polling loop (`status
// --watch`, `logs -f`, `dashboard`) waits, so that a signal ends it at once.
bool WaitUnlessInterrupted(std::chrono::milliseconds timeout);

// The error of work stopped by an interrupt (aex then exits with 130).
Status InterruptedError();

// A child process group to kill on interrupt, for the lifetime of this
// object. If the interrupt came first, kills it at once.
class ChildGroup {
 public:
  explicit ChildGroup(pid_t pgid);
  ~ChildGroup();
  ChildGroup(const ChildGroup&) = delete;
  ChildGroup& operator=(const ChildGroup&) = delete;

 private:
  pid_t pgid_;
};

// A temporary folder removed (recursively) when this object dies, on every
// return path, and by a forced exit (second signal) while it lives.
class TempFolder {
 public:
  explicit TempFolder(std::filesystem::path path);
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The attributes a spawned child needs when the parent blocks signals
// (HandleInterrupts): an empty signal mask, since the mask is inherited.
// Sets the flags of the initialised `attr` to `flags` | POSIX_SPAWN_SETSIGMASK.
void UnblockSignalsInChild(posix_spawnattr_t* attr, short flags);

}  // namespace aex::deploy

#endif  // AEX_DEPLOYER_INTERRUPT_H_
