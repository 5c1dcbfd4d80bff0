#!/usr/bin/env bash
# Soak: thousands of hostile connections and garbage frames at a node on
# loopback; afterwards it still delivers events correctly, its memory stayed
# bounded, and its descriptors were released.
# usage: soak_test.sh AEX_BIN AEX_NODE_BIN
AEX=$1
NODE=$2
source "$(dirname "$0")/lib.sh"
# Under AddressSanitizer, freed memory sits in its quarantine (256 MiB by
# default) and would count as growth; a small quarantine keeps the memory
# bound below about the node's own use. Ignored by release builds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
start_node a "$PA" --log-level error
start_node b "$PB" --log-level error
write_app "reactive_port: $PB"
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
# The HELLO timeout (5 s) closes whatever the soak left half-open: poll for
# the descriptors to come back.
fds_back() { [ "$(fds "$NODE_B")" -le $((fds_before + 5)) ]; }
wait_until "node b to close the connections the soak left (fds $(fds "$NODE_B"))" fds_back
fds_after=$(fds "$NODE_B")
echo "node b: RSS ${rss_before} KiB -> ${rss_after} KiB, fds ${fds_before} -> ${fds_after}"
[ "$rss_after" -lt $((rss_before + 65536)) ] || fail "node memory grew by more than 64 MiB"
rejected=$("$AEX" status "$D" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print([n for n in r["nodes"] if n["name"] == "b"][0]["status"]["counters"]["frames_rejected"])')
[ "$rejected" -gt 0 ] || fail "the node counted no rejected frame"
echo "PASS: soak (node b rejected $rejected frames, still delivers events)"
