/* app: reacts to the driver's events and commands the device through it.
 * `probe` shows what a module that does not own the device can do: no
 * device descriptor, nothing at fd 4, and the device's socket refuses it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "aex/module.h"

SM_OUTPUT(command);

static char last[257];
static unsigned changes;

SM_INPUT(changed, data, len) {
  if (len >= sizeof last) return;
  memcpy(last, data, len);
  last[len] = '\0';
  ++changes;
}

SM_ENTRY(last_value, data, len, resp, cap) {
  (void)data, (void)len;
  size_t n = strlen(last);
  if (n > cap) return 0;
  memcpy(resp, last, n);
  return n;
}

SM_ENTRY(send_command, data, len, resp, cap) {
  (void)resp, (void)cap;
  command(data, len);
  return 0;
}

SM_ENTRY(probe, data, len, resp, cap) {
  char path[108] = {0}, greeting[64] = "none";
  if (len >= sizeof path) return 0;
  memcpy(path, data, len);
  const char* fd4 = fcntl(4, F_GETFD) < 0 && errno == EBADF ? "EBADF" : "OPEN";
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {0};
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, len);
  if (connect(s, (struct sockaddr*)&addr, sizeof addr) != 0) {
    snprintf(greeting, sizeof greeting, "connect failed");
  } else {
    struct pollfd p = {s, POLLIN, 0};
    ssize_t n = poll(&p, 1, 2000) == 1 ? read(s, greeting, sizeof greeting - 1) : -1;
    greeting[n > 0 ? n : 0] = '\0';
    char* nl = strchr(greeting, '\n');
    if (nl) *nl = '\0';
  }
  close(s);
  int out = snprintf((char*)resp, cap, "device_fd=%d fd4=%s socket=%s", aex_device_fd(), fd4,
                     greeting);
  return out > 0 ? (size_t)out : 0;
}
