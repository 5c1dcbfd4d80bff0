# Shared set-up of the reliability tests (sourced): two native nodes, a and
# b, on random loopback ports, and tests/reliability/app (source on a, sink
# on b) in a fresh directory that is removed on exit with everything started.
# REQUIRES: AEX and NODE set to the aex and aex-node binaries (aex-platform
# beside aex-node).
source "$(dirname "${BASH_SOURCE[0]}")/../deployer/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=$(mktemp -d /tmp/aex-reliability.XXXXXX)
cp "$HERE"/app/*.c "$DIR"/
# Below the kernel's ephemeral range (32768 and up), so that no client
# connection of another test can hold one of these ports.
BASE=$((20000 + RANDOM % 12000))
PA=$BASE PB=$((BASE + 1)) PX=$((BASE + 2))  # node a, node b, a spare port
D="$DIR/app.yaml"
PIDS=()     # the nodes, in start order
EXTRA=()    # other processes to stop on exit
PLATFORMS=()  # the nodes' platform services, stopped after the nodes
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then  # what the processes said, for the failure's report
    for f in "$DIR"/*.log; do echo "--- last lines of $f" >&2; tail -n 40 "$f" >&2; done
    [ -n "${AEX_KEEP_FAILED:-}" ] && cp -r "$DIR" "$AEX_KEEP_FAILED"
  fi
  "$AEX" down "$D" -q >/dev/null 2>&1 || true
  for p in "${EXTRA[@]}" "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PLATFORMS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT

start_node() {  # name port [aex-node options...]
  local name=$1 port=$2
  shift 2
  # A restarted node finds its platform service still running.
  if [ ! -S "$DIR/$name.sock" ]; then
    start_platform "$DIR/$name.key" "$DIR/$name.sock"
    PLATFORMS+=("$PLATFORM_PID")
  fi
  # Plain TCP on purpose (tls: false in the descriptor): proxy.py relays and
  # tampers with the peer link's frames.
  "$NODE" --port "$port" --platform-socket "$DIR/$name.sock" --name "$name" \
    --work-dir "$DIR/work-$name" --insecure-no-tls "$@" >>"$DIR/$name.log" 2>&1 &
  PIDS+=($!)
}

# Writes the application's descriptor to $D; node b's address fields are
# the argument (e.g. "reactive_port: $PB").
write_app() {  # node-b-address
  cat >"$D" <<YAML
nodes:
  - {type: native, name: a, host: 127.0.0.1, reactive_port: $PA, node_key_file: a.key,
     tls: false}
  - {type: native, name: b, host: 127.0.0.1, $1, node_key_file: b.key, tls: false}
modules:
  - {type: native, name: source, node: a, sources: [source.c]}
  - {type: native, name: sink, node: b, sources: [sink.c]}
connections:
  - {name: flow, from_module: source, from_output: out, to_module: sink, to_input: in,
     encryption: aes}
YAML
}
