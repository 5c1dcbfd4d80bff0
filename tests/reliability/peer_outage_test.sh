#!/usr/bin/env bash
# A peer that goes away and comes back. Node A sends to node B through a TCP
# proxy (the "network") that the test kills and restarts:
#   1. cut while events are in flight: A keeps unacknowledged events and
#      resends them on reconnection; B's module rejects the ones it already
#      had as replays: every event arrives once, in order;
#   2. a cut longer than A's backlog bound: events beyond it are refused at
#      the source, counted by the sending module (outputs_refused) and by the
#      node; sent = received + refused, nothing unaccounted;
#   3. node B killed and restarted: `aex up` restores the application.
# usage: peer_outage_test.sh AEX_BIN AEX_NODE_BIN
AEX=$1
NODE=$2
source "$(dirname "$0")/lib.sh"

start_node_b() { start_node b "$PB" --peer-backlog 1000 --log-level warn; }
start_proxy() {
  python3 "$HERE/proxy.py" "$PX" "$PB" &
  PROXY=$!
  EXTRA+=("$PROXY")
  for _ in $(seq 1 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $PX)).close()" \
      2>/dev/null && return 0
    sleep 0.1
  done
  fail "proxy did not start"
}
start_node a "$PA" --peer-backlog 1000 --log-level warn
start_node_b
start_proxy

# Node b is reached by the deployer directly (deploy_port) and by node a
# through the proxy (reactive_port).
write_app "reactive_port: $PX, deploy_port: $PB"
"$AEX" up "$D" -q --wait 10

emit() { "$AEX" call "$D" --module source --entry emit --text "$1" --out /dev/stdout; }
sink_stats() { "$AEX" call "$D" --module sink --entry stats --out /dev/stdout; }
json_field() {  # jq-like: module field
  "$AEX" status "$D" --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
print([m for m in r['modules'] if m['name'] == '$1'][0]['stats']['$2'])"
}

# 1. Cut the link in the middle of a burst.
emit 800/1500 >/dev/null &  # ~1.2 s of events
EMIT=$!
sleep 0.7
kill "$PROXY"; wait "$PROXY" 2>/dev/null || true
wait "$EMIT"
start_proxy
wait_for_output "800 800 0 0" sink_stats
resent=$("$AEX" status "$D" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(sum(p["resent"] for n in r["nodes"] if n["name"] == "a" for p in n["status"]["peers"]))')
[ "$resent" -gt 0 ] || fail "the cut did not hit events in flight (nothing resent)"
echo "phase 1: 800 events across a cut link, all delivered once, in order ($resent resent)"

# 2. A long cut: the backlog bound (1000) is hit and the rest is refused.
kill "$PROXY"; wait "$PROXY" 2>/dev/null || true
sleep 0.3  # let node a notice the lost connection
emit 3000 >/dev/null
start_proxy
# Poll (30 s at most) until the backlog has been delivered after the reconnection.
for _ in $(seq 1 300); do
  refused=$(json_field source outputs_refused)
  stats=($(sink_stats))
  received=$((${stats[0]} - 800))
  [ "$((received + refused))" -ge 3000 ] && break
  sleep 0.1
done
[ "$refused" -gt 0 ] || fail "expected refusals beyond the backlog bound"
expect_eq "$((received + refused))" "3000" "received ($received) + refused ($refused)"
expect_eq "${stats[2]} ${stats[3]}" "0 0" "reordered and duplicated events"
undeliverable=$("$AEX" status "$D" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print([n for n in r["nodes"] if n["name"] == "a"][0]["status"]["counters"]["events_undeliverable"])')
expect_eq "$undeliverable" "$refused" "node a's count of refused events"
echo "phase 2: 3000 sent = $received received + $refused refused at the source"

# 3. Node b dies; after it restarts, `aex up` restores the application.
kill -9 "${PIDS[1]}"
wait "${PIDS[1]}" 2>/dev/null || true
start_node_b
sleep 0.3
"$AEX" up "$D" -q --wait 10
emit 100 >/dev/null
sink_received() { sink_stats | cut -d' ' -f1; }
wait_for_output "100" sink_received
echo "phase 3: node b restarted, application restored by aex up"
echo "PASS: peer outage"
