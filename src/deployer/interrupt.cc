#include "deployer/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

namespace aex::deploy {
namespace fs = std::filesystem;

namespace {

// What an interrupt must clean up. Mutex-guarded; the signal thread is an
// ordinary thread (sigwait), so taking the mutex there is safe.
struct Registry {
  std::mutex mu;
  std::condition_variable interrupt_seen;  // notified when `interrupted` turns true
  bool interrupted = false;  // guarded by mu
  std::set<pid_t> groups;    // guarded by mu
  std::set<fs::path> folders;  // guarded by mu
};

Registry& TheRegistry() {
  static Registry* r = new Registry;  // never destroyed: the signal thread outlives main
  return *r;
}

void WaitForSignals(sigset_t set) {
  for (int count = 0;; ++count) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    Registry& r = TheRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.interrupted = true;
    r.interrupt_seen.notify_all();
    for (pid_t g : r.groups) kill(-g, count == 0 ? SIGTERM : SIGKILL);
    if (count == 0) {
      fprintf(stderr, "aex: %s: stopping child programs and cleaning up (again to force)\n",
              sig == SIGINT ? "interrupt" : "terminated");
      continue;
    }
    std::error_code ec;
    for (const fs::path& f : r.folders) fs::remove_all(f, ec);
    _exit(130);
  }
}

}  // namespace

void HandleInterrupts() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction old{};
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaddset(&set, sig);
  }
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(WaitForSignals, set).detach();
}

bool Interrupted() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.interrupted;
}

bool WaitUnlessInterrupted(std::chrono::milliseconds timeout) {
  Registry& r = TheRegistry();
  std::unique_lock<std::mutex> lock(r.mu);
  return !r.interrupt_seen.wait_for(lock, timeout, [&r] { return r.interrupted; });
}

Status InterruptedError() { return Status(Code::kUnavailable, "interrupted"); }

ChildGroup::ChildGroup(pid_t pgid) : pgid_(pgid) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (r.interrupted) kill(-pgid_, SIGTERM);
  r.groups.insert(pgid_);
}

ChildGroup::~ChildGroup() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.groups.erase(pgid_);
}

TempFolder::TempFolder(fs::path path) : path_(std::move(path)) {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.folders.insert(path_);
}

TempFolder::~TempFolder() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.folders.erase(path_);
}

void UnblockSignalsInChild(posix_spawnattr_t* attr, short flags) {
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(attr, &none);
  posix_spawnattr_setflags(attr, static_cast<short>(flags | POSIX_SPAWN_SETSIGMASK));
}

}  // namespace aex::deploy
