/* A library a hostile node preloads into a module (LD_PRELOAD): if it ever
 * runs, it leaves a marker file named by AEX_ADV_MARKER. */

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void aex_adv_preload_ran(void) {
  const char* marker = getenv("AEX_ADV_MARKER");
  if (!marker) return;
  int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) close(fd);
}
