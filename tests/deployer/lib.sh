# Shared helpers for the deployer's end-to-end tests (sourced).
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() {  # actual expected what
  [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}
# Tests never wait a fixed time for something to happen: they poll for it
# with a generous deadline (a loaded machine may be slow, never wrong).
WAIT_DEADLINE_S=${WAIT_DEADLINE_S:-60}
# Polls a command until its output equals the expected value.
wait_for_output() {  # expected command...
  local expected=$1 got="" end=$((SECONDS + WAIT_DEADLINE_S))
  shift
  while :; do
    got=$("$@" 2>/dev/null || true)
    [ "$got" = "$expected" ] && return 0
    [ "$SECONDS" -lt "$end" ] || break
    sleep 0.1
  done
  fail "waited ${WAIT_DEADLINE_S} s for '$*' to print '$expected', last got '$got'"
}
# Polls until a command succeeds.
wait_until() {  # what command...
  local what=$1 end=$((SECONDS + WAIT_DEADLINE_S))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || fail "waited ${WAIT_DEADLINE_S} s for $what"
    sleep 0.1
  done
}
# Starts a node's platform service (aex-platform, found beside $NODE) before
# its aex-node, and waits (60 s at most) for its socket. The one place shell
# tests start it; aex-node then gets only --platform-socket SOCKET. Adds
# search permission to the socket's directory: modules run under uids of
# their own when the node is root. Sets PLATFORM_PID.
start_platform() {  # key-file socket
  local key=$1 sock=$2
  rm -f "$sock"
  chmod o+x "$(dirname "$sock")"
  "$(dirname "$NODE")/aex-platform" --key-file "$key" --socket "$sock" \
    >>"$sock.log" 2>&1 &
  PLATFORM_PID=$!
  for _ in $(seq 1 6000); do
    [ -S "$sock" ] && return 0
    kill -0 "$PLATFORM_PID" 2>/dev/null || fail "aex-platform exited; see $sock.log"
    sleep 0.01
  done
  fail "aex-platform did not open $sock"
}
# Copies an example into a fresh temporary directory and prints its path.
copy_example() {  # source-dir
  local dir
  dir=$(mktemp -d /tmp/aex-test.XXXXXX)
  cp -r "$1"/. "$dir"/
  rm -rf "$dir/.aex" "$dir/keys"
  echo "$dir"
}
# A loopback TCP port nobody listens on now (the kernel's pick), for a test
# that runs beside others (ctest -j): never a fixed port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Gives every node of a descriptor (YAML or JSON) a free port of its own in
# place of its fixed reactive_port; sets PORTS to the new ports in the nodes'
# order.
give_free_ports() {  # descriptor
  local port new used=" "
  PORTS=()
  for port in $(grep -oE 'reactive_port"?: *[0-9]+' "$1" | grep -oE '[0-9]+$'); do
    new=$(free_port)
    while [[ "$used" == *" $new "* ]]; do new=$(free_port); done
    used+="$new "
    sed -i -E "0,/(reactive_port\"?: *)$port\b/s//\1$new/" "$1"
    PORTS+=("$new")
  done
  [ "${#PORTS[@]}" -gt 0 ] || fail "no reactive_port in $1"
}
# The preamble of an end-to-end test of an example: copies it into a fresh
# folder (copy_example) with free ports (give_free_ports), and on exit takes
# the deployment down (or resets the nodes when `down` fails, e.g. on a
# corrupt state file), stops the nodes, runs the test's own `on_exit EXIT_CODE`
# if it defines one, and removes the folder. Sets AEX, DIR, D (the descriptor,
# descriptor.yaml unless named), STATE (its state file) and PORTS.
setup_example() {  # aex-binary example-dir [descriptor-file-name]
  AEX=$1
  DIR=$(copy_example "$2")
  local name=${3:-descriptor.yaml}
  D="$DIR/$name"
  STATE="$DIR/.aex/${name%.*}.state.json"
  trap teardown_example EXIT
  give_free_ports "$D"
}
teardown_example() {
  local rc=$?
  "$AEX" down "$D" -q >/dev/null 2>&1 || "$AEX" reset "$D" -q >/dev/null 2>&1 || true
  "$AEX" nodes stop "$D" -q >/dev/null 2>&1 || true
  if declare -F on_exit >/dev/null; then on_exit "$rc" || true; fi
  rm -rf "$DIR"
  exit "$rc"
}
# Fails if any process still runs a binary from under the directory.
expect_no_processes_under() {  # dir
  local left
  left=$(pgrep -af "$1" | grep -v -e pgrep -e "$$" || true)
  [ -z "$left" ] || fail "processes left behind: $left"
}
# The ping-pong example deployed from descriptor D works: pongs come back to
# ping (at least 3 within the deadline) and pong answers the operator's direct request.
pongs_received() {  # aex descriptor
  "$1" call "$2" --module ping --entry pongs_received --json | python3 -c \
    'import json,sys; print(int(json.load(sys.stdin)["hex"], 16))'
}
expect_ping_pong_flowing() {  # aex descriptor
  local aex=$1 d=$2 n=0 end=$((SECONDS + WAIT_DEADLINE_S))
  while [ "$SECONDS" -lt "$end" ]; do
    n=$(pongs_received "$aex" "$d")
    [ "$n" -ge 3 ] && break
    sleep 0.1
  done
  [ "$n" -ge 3 ] || fail "expected at least 3 pongs, got $n"
  expect_eq "$("$aex" request "$d" --connection operator-reverse --text abc --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["text"])')" "cba" "direct request"
}
