/* aex/device.h: the simulated devices' line protocol, for driver modules
 * (docs/secure-io.md). Application-side helpers over the device descriptor
 * that the runtime hands out (aex_device_fd); they are compiled into driver
 * modules only, so they are not part of every module's TCB.
 *
 *   char v[AEX_DEVICE_MAX_VALUE + 1];
 *   if (aex_device_get(v, sizeof v) >= 0) ...      GET  -> VALUE v
 *   aex_device_set("open");                        SET v -> OK
 *   SM_DEVICE_EVENT() {                            the device pushed data
 *     int r = aex_device_poll_event(v, sizeof v);  1: v is the new value
 *     ...
 *   }
 *
 * Values are 1..AEX_DEVICE_MAX_VALUE printable characters without spaces
 * (integers in decimal, bytes in hex, or words). Include this header from one
 * source file of a module: it keeps the receive buffer in static storage.
 * Not reentrant; the runtime never runs two handlers at once. */

#ifndef AEX_DEVICE_H_
#define AEX_DEVICE_H_

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aex/module.h"

#define AEX_DEVICE_MAX_VALUE 256

/* read(2) / write(2) on the module's device: bytes read (0 at its end) or
 * AEX_OK, or a negative AEX_ERR_* code (AEX_ERR_NOT_CONNECTED without a
 * device). A port to real hardware replaces these two (e.g. Sancus MMIO). */
static inline long aex_device_read(unsigned char* buf, size_t cap) {
  int fd = aex_device_fd();
  if (fd < 0) return AEX_ERR_NOT_CONNECTED;
  ssize_t n;
  while ((n = read(fd, buf, cap)) < 0 && errno == EINTR) {
  }
  return n < 0 ? AEX_ERR_TRANSPORT : (long)n;
}

static inline int aex_device_write(const unsigned char* data, size_t len) {
  int fd = aex_device_fd();
  if (fd < 0) return AEX_ERR_NOT_CONNECTED;
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return AEX_ERR_TRANSPORT;
    data += n;
    len -= (size_t)n;
  }
  return AEX_OK;
}

#define AEX_DEV_STATE_ static __attribute__((unused))
AEX_DEV_STATE_ char aex_dev_in_[1024];
AEX_DEV_STATE_ size_t aex_dev_in_len_;
AEX_DEV_STATE_ char aex_dev_event_[AEX_DEVICE_MAX_VALUE + 1];
AEX_DEV_STATE_ int aex_dev_has_event_;
AEX_DEV_STATE_ int aex_dev_closed_;

/* Takes one complete line out of the buffer into line (NUL-terminated).
 * Returns 1 if there was one. */
static inline int aex_dev_take_line_(char* line, size_t cap) {
  char* nl = (char*)memchr(aex_dev_in_, '\n', aex_dev_in_len_);
  if (!nl) return 0;
  size_t n = (size_t)(nl - aex_dev_in_);
  size_t copy = n < cap - 1 ? n : cap - 1;
  memcpy(line, aex_dev_in_, copy);
  line[copy] = '\0';
  memmove(aex_dev_in_, nl + 1, aex_dev_in_len_ - n - 1);
  aex_dev_in_len_ -= n + 1;
  return 1;
}

/* One read from the device. Returns bytes read, 0 or negative at its end. */
static inline long aex_dev_fill_(void) {
  if (aex_dev_in_len_ == sizeof aex_dev_in_) aex_dev_in_len_ = 0; /* garbage: drop */
  long n = aex_device_read((unsigned char*)aex_dev_in_ + aex_dev_in_len_,
                           sizeof aex_dev_in_ - aex_dev_in_len_);
  if (n <= 0) {
    aex_dev_closed_ = 1;
    aex_unwatch_fd(aex_device_fd());
    return n < 0 ? n : AEX_ERR_TRANSPORT;
  }
  aex_dev_in_len_ += (size_t)n;
  return n;
}

/* Keeps an EVENT line as the latest pending event. Returns 1 if it was one. */
static inline int aex_dev_note_event_(const char* line) {
  if (strncmp(line, "EVENT ", 6) != 0) return 0;
  snprintf(aex_dev_event_, sizeof aex_dev_event_, "%s", line + 6);
  aex_dev_has_event_ = 1;
  return 1;
}

/* Sends a command line and waits for its answer (EVENT lines that arrive
 * first are kept for aex_device_poll_event). Returns 0 or AEX_ERR_*. */
static inline int aex_dev_command_(const char* cmd, char* reply, size_t cap) {
  if (aex_device_fd() < 0) return AEX_ERR_NOT_CONNECTED;
  if (aex_dev_closed_) return AEX_ERR_TRANSPORT;
  int rc = aex_device_write((const unsigned char*)cmd, strlen(cmd));
  if (rc != AEX_OK) return rc;
  for (;;) {
    while (aex_dev_take_line_(reply, cap)) {
      if (!aex_dev_note_event_(reply)) return AEX_OK;
    }
    long n = aex_dev_fill_();
    if (n <= 0) return (int)n;
  }
}

/* Reads the device's value into value (NUL-terminated). Returns its length,
 * or a negative AEX_ERR_* code. */
static inline int aex_device_get(char* value, size_t cap) {
  char line[AEX_DEVICE_MAX_VALUE + 16];
  int rc = aex_dev_command_("GET\n", line, sizeof line);
  if (rc != AEX_OK) return rc;
  if (strncmp(line, "VALUE ", 6) != 0) return AEX_ERR_TRANSPORT;
  size_t n = strlen(line + 6);
  if (n + 1 > cap) return AEX_ERR_TOO_LARGE;
  memcpy(value, line + 6, n + 1);
  return (int)n;
}

/* Sets the device's value. Returns AEX_OK or a negative AEX_ERR_* code. */
static inline int aex_device_set(const char* value) {
  char cmd[AEX_DEVICE_MAX_VALUE + 8], line[64];
  size_t n = strlen(value);
  if (n == 0 || n > AEX_DEVICE_MAX_VALUE) return AEX_ERR_TOO_LARGE;
  snprintf(cmd, sizeof cmd, "SET %s\n", value);
  int rc = aex_dev_command_(cmd, line, sizeof line);
  if (rc != AEX_OK) return rc;
  return strcmp(line, "OK") == 0 ? AEX_OK : AEX_ERR_TRANSPORT;
}

/* From SM_DEVICE_EVENT: reads what the device sent, without blocking.
 * Returns 1 and the latest changed value in value, 0 if no complete EVENT has
 * arrived yet, or a negative AEX_ERR_* code once the device is gone (the
 * runtime then stops watching it). */
static inline int aex_device_poll_event(char* value, size_t cap) {
  char line[AEX_DEVICE_MAX_VALUE + 16];
  if (!aex_dev_has_event_) {
    if (aex_dev_closed_) return AEX_ERR_TRANSPORT;
    struct pollfd p = {aex_device_fd(), POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return 0;
    long n = aex_dev_fill_();
    if (n <= 0) return (int)n;
    while (aex_dev_take_line_(line, sizeof line)) aex_dev_note_event_(line);
    if (!aex_dev_has_event_) return 0;
  }
  aex_dev_has_event_ = 0;
  snprintf(value, cap, "%s", aex_dev_event_);
  return 1;
}

#endif /* AEX_DEVICE_H_ */
