/* webserver: serves the number of HTTP requests it has handled. Each request
 * is counted in the database module (an event) and the count is read back
 * from it (an authenticated request/response) before answering.
 *
 * The HTTP side is plain and untrusted, like any network input: the module
 * bounds what it reads and answers only GET. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdlib.h>
#include <unistd.h>

#include "aex/module.h"

SM_OUTPUT(request_received);
SM_REQUEST(get_requests);

static int listen_fd = -1;

static void serve(int fd, void* ctx) {
  (void)ctx;
  int client = accept(fd, NULL, NULL);
  if (client < 0) return;
  struct timeval tv = {1, 0};
  setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char req[2048];
  ssize_t n = recv(client, req, sizeof req - 1, 0);
  char body[64] = "error\n";
  const char* status = "400 Bad Request";
  if (n > 4 && memcmp(req, "GET ", 4) == 0) {
    unsigned char one = 1, count[4];
    size_t got = 0;
    request_received(&one, 1);
    if (get_requests(NULL, 0, count, sizeof count, &got) == AEX_OK && got == 4) {
      unsigned v = ((unsigned)count[0] << 24) | ((unsigned)count[1] << 16) |
                   ((unsigned)count[2] << 8) | count[3];
      snprintf(body, sizeof body, "%u\n", v);
      status = "200 OK";
    } else {
      status = "503 Service Unavailable";
    }
  }
  char resp[256];
  int len = snprintf(resp, sizeof resp,
                     "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     status, strlen(body), body);
  if (len > 0) send(client, resp, (size_t)len, MSG_NOSIGNAL);
  close(client);
}

/* init(port as decimal text): starts the HTTP server on 127.0.0.1:port. */
SM_ENTRY(init, data, len, resp, cap) {
  char text[8] = {0};
  if (len == 0 || len >= sizeof text || listen_fd >= 0) return 0;
  memcpy(text, data, len);
  int port = atoi(text);
  if (port <= 0 || port > 65535) return 0;
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(listen_fd, 16) != 0 ||
      aex_watch_fd(listen_fd, serve, NULL) != AEX_OK) {
    close(listen_fd);
    listen_fd = -1;
    return 0;
  }
  aex_log("serving HTTP on 127.0.0.1:%d", port);
  int w = snprintf((char*)resp, cap, "listening on %d", port);
  return w > 0 ? (size_t)w : 0;
}
