#!/usr/bin/env bash
# Soak: thousands of hostile connections and garbage frames at a node on
# loopback; afterwards it still delivers events correctly, its memory stayed
# bounded, and its descriptors were released.
# usage: soak_test.sh AEX_BIN AEX_NODE_BIN
source "$(dirname "$0")/../deployer/lib.sh"
AEX=$1
NODE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/aex-soak.XXXXXX)
cp "$HERE"/app/*.c "$DIR"/
BASE=$((21000 + RANDOM % 20000))
PA=$BASE PB=$((BASE + 1))
PIDS=()
cleanup() {
  "$AEX" down "$DIR/app.yaml" -q >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT
# Under AddressSanitizer, freed memory sits in its quarantine (256 MiB by
# default) and would count as growth; a small quarantine keeps the memory
# bound below about the node's own use. Ignored by release builds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
for n in a:$PA b:$PB; do
  "$NODE" --port "${n#*:}" --key-file "$DIR/${n%%:*}.key" --name "${n%%:*}" \
    --work-dir "$DIR/work-${n%%:*}" --log-level error >>"$DIR/${n%%:*}.log" 2>&1 &
  PIDS+=($!)
done
cat >"$DIR/app.yaml" <<YAML
nodes:
  - {type: native, name: a, host: 127.0.0.1, reactive_port: $PA, node_key_file: a.key}
  - {type: native, name: b, host: 127.0.0.1, reactive_port: $PB, node_key_file: b.key}
modules:
  - {type: native, name: source, node: a, sources: [source.c]}
  - {type: native, name: sink, node: b, sources: [sink.c]}
connections:
  - {name: flow, from_module: source, from_output: out, to_module: sink, to_input: in,
     encryption: aes}
YAML
D="$DIR/app.yaml"
"$AEX" up "$D" -q --wait 10
NODE_B=${PIDS[1]}
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
rss_before=$(rss "$NODE_B")
fds_before=$(fds "$NODE_B")

python3 "$HERE/soak.py" "$PB" "${AEX_SOAK_CONNECTIONS:-3000}"
kill -0 "$NODE_B" || fail "node b died under the soak"

"$AEX" call "$D" --module source --entry emit --text 1000 -q >/dev/null
wait_for_output "1000 1000 0 0" "$AEX" call "$D" --module sink --entry stats --out /dev/stdout
rss_after=$(rss "$NODE_B")
sleep 6  # the HELLO timeout closes whatever the soak left half-open
fds_after=$(fds "$NODE_B")
echo "node b: RSS ${rss_before} KiB -> ${rss_after} KiB, fds ${fds_before} -> ${fds_after}"
[ "$rss_after" -lt $((rss_before + 65536)) ] || fail "node memory grew by more than 64 MiB"
[ "$fds_after" -le $((fds_before + 5)) ] || fail "node kept descriptors of closed connections"
rejected=$("$AEX" status "$D" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print([n for n in r["nodes"] if n["name"] == "b"][0]["status"]["counters"]["frames_rejected"])')
[ "$rejected" -gt 0 ] || fail "the node counted no rejected frame"
echo "PASS: soak (node b rejected $rejected frames, still delivers events)"
