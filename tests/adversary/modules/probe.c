/* probe: a hostile test module for tests/adversary/platform_attack_test.cc.
 * Loaded like any module, it tries to reach what it must not.
 *
 * Interface (indexes in source order):
 *   entries: 0 probe_open(path)    -> u32 errno of open(path, O_RDONLY) (0: opened)
 *            1 probe_ptrace(u32 pid) -> u32 errno of PTRACE_SEIZE (0: attached;
 *                                      it detaches again) */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <unistd.h>

#include "aex/module.h"

static size_t put_u32(unsigned char* resp, unsigned v) {
  resp[0] = (unsigned char)(v >> 24);
  resp[1] = (unsigned char)(v >> 16);
  resp[2] = (unsigned char)(v >> 8);
  resp[3] = (unsigned char)v;
  return 4;
}

SM_ENTRY(probe_open, data, len, resp, cap) {
  char path[512];
  if (cap < 4 || len == 0 || len >= sizeof path) return cap + 1;
  memcpy(path, data, len);
  path[len] = '\0';
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  unsigned err = fd < 0 ? (unsigned)errno : 0;
  if (fd >= 0) close(fd);
  return put_u32(resp, err);
}

SM_ENTRY(probe_ptrace, data, len, resp, cap) {
  if (cap < 4 || len != 4) return cap + 1;
  pid_t pid = (pid_t)((unsigned)data[0] << 24 | (unsigned)data[1] << 16 |
                      (unsigned)data[2] << 8 | data[3]);
  long r = ptrace(PTRACE_SEIZE, pid, 0, 0);
  unsigned err = r < 0 ? (unsigned)errno : 0;
  if (r == 0) ptrace(PTRACE_DETACH, pid, 0, 0);
  return put_u32(resp, err);
}
