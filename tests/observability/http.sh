# Shared by the observability tests (sourced).
# HTTP on loopback: prints the status line and the body (curl may be absent).
http() {  # method port path [raw request head]
  python3 - "$@" <<'PY'
import signal, socket, sys
signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # a reader that stops early (head -1) ends us quietly
method, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
head = sys.argv[4] if len(sys.argv) > 4 else f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.sendall(head.encode())
data = b""
while chunk := s.recv(65536):
    data += chunk
status, _, rest = data.partition(b"\r\n")
print(status.decode())
print(rest.partition(b"\r\n\r\n")[2].decode(), end="")
PY
}
