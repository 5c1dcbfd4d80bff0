// File descriptors a module serves between events (aex_watch_fd), and so the
// device of a driver module (SM_DEVICE_EVENT). Its own object, linked only
// into modules that reference aex_watch_fd; the core loop reaches it through
// Runtime::serve_watches_, which the first WatchFd sets.

#include <poll.h>

#include "runtime/runtime_internal.h"

namespace aex::runtime {
namespace {

constexpr size_t kMaxWatches = 16;  // aex/module.h promises 16

}  // namespace

void Runtime::ServeWatches() {
  while (!watches_.empty() && !channel_.HasFrame()) {
    pollfd fds[kMaxWatches + 1];
    size_t n = 0;
    fds[n++] = {channel_.fd(), POLLIN, 0};
    for (const Watch& w : watches_) fds[n++] = {w.fd, POLLIN, 0};
    if (poll(fds, n, -1) < 0) continue;
    if (fds[0].revents) continue;  // node traffic first: HasFrame looks
    auto snapshot = watches_;   // callbacks may (un)watch
    for (size_t i = 1; i < n; ++i) {
      if (fds[i].revents & POLLNVAL) {
        UnwatchFd(fds[i].fd);  // closed by the app without unwatching
      } else if (fds[i].revents) {
        snapshot[i - 1].cb(snapshot[i - 1].fd, snapshot[i - 1].ctx);
      }
    }
  }
}

int Runtime::WatchFd(int fd, aex_fd_callback cb, void* ctx) {
  UnwatchFd(fd);
  if (watches_.size() >= kMaxWatches) return AEX_ERR_TOO_LARGE;
  watches_.push_back({fd, cb, ctx});
  serve_watches_ = &Runtime::ServeWatches;
  return AEX_OK;
}

void Runtime::UnwatchFd(int fd) {
  std::erase_if(watches_, [fd](const Watch& w) { return w.fd == fd; });
}

}  // namespace aex::runtime

using aex::runtime::g_runtime;

extern "C" int aex_watch_fd(int fd, aex_fd_callback cb, void* ctx) {
  return g_runtime ? g_runtime->WatchFd(fd, cb, ctx) : AEX_ERR_TRANSPORT;
}

extern "C" void aex_unwatch_fd(int fd) {
  if (g_runtime) g_runtime->UnwatchFd(fd);
}
