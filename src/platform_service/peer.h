// Identifies the process at the other end of a Unix socket from the kernel
// and measures it, for the platform service (aex-platform). Nothing here
// trusts what the peer says about itself.

#ifndef AEX_PLATFORM_SERVICE_PEER_H_
#define AEX_PLATFORM_SERVICE_PEER_H_

#include <sys/types.h>

#include <string>

#include "aex/status.h"
#include "crypto/crypto.h"

namespace aex::platsvc {

struct Peer {
  int pidfd = -1;  // owned by the caller; pins which process this is
  pid_t pid = 0;
  dev_t dev = 0;  // the measured executable (it may be renamed or
  ino_t ino = 0;  // unlinked later; the running file stays the same)
  crypto::Digest measurement{};
};

// Pins the connected process (SO_PEERPIDFD, else SO_PEERCRED + pidfd_open),
// hashes /proc/PID/exe, checks its mappings (CheckMappings) and then that
// the pinned process is still alive, so /proc/PID named it throughout.
// With exe_only = false the mapping check is skipped (in-process tests only:
// a test executable is not linked statically).
Result<Peer> IdentifyPeer(int conn, bool exe_only);

// Before every request: the process is the one measured (alive, the same
// executable file) and maps nothing executable but that file, [vdso] and
// [vsyscall].
Status RecheckPeer(const Peer& peer, bool exe_only);

// The check itself, on the text of /proc/PID/maps: every executable mapping
// is the file `exe` (inode `ino`), [vdso] or [vsyscall]; no anonymous
// executable memory. In sanitizer builds the sanitizer runtime and the
// system's shared libraries are tolerated too (docs/tee.md).
Status CheckMappings(std::string_view maps, const std::string& exe, ino_t ino);

}  // namespace aex::platsvc

#endif  // AEX_PLATFORM_SERVICE_PEER_H_
