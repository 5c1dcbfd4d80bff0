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
# No step waits a fixed time: each polls for its condition (lib.sh).
# usage: peer_outage_test.sh AEX_BIN AEX_NODE_BIN
AEX=$1
NODE=$2
source "$(dirname "$0")/lib.sh"

start_node_b() { start_node b "$PB" --peer-backlog 1000 --log-level warn; }
start_proxy() {
  python3 "$HERE/proxy.py" "$PX" "$PB" &
  PROXY=$!
  EXTRA+=("$PROXY")
  wait_until "the proxy to listen" \
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $PX)).close()"
}
start_node a "$PA" --peer-backlog 1000 --log-level warn
start_node_b
start_proxy

# Node b is reached by the deployer directly (deploy_port) and by node a
# through the proxy (reactive_port).
write_app "reactive_port: $PX, deploy_port: $PB"
"$AEX" up "$D" -q --wait 60
# Every aex command locks the state file, and the background emit below holds
# it: the commands that poll meanwhile read a copy.
POLL_STATE="$DIR/poll.state.json"
snapshot_state() { cp "$DIR/.aex/app.state.json" "$POLL_STATE"; }
snapshot_state

emit() { "$AEX" call "$D" --module source --entry emit --text "$1" --out /dev/stdout; }
sink_stats() {
  "$AEX" call "$D" --state "$POLL_STATE" --module sink --entry stats --out /dev/stdout
}
json_field() {  # jq-like: module field
  "$AEX" status "$D" --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
print([m for m in r['modules'] if m['name'] == '$1'][0]['stats']['$2'])"
}
peer_of_a() {  # field of node a's link to b
  "$AEX" status "$D" --state "$POLL_STATE" --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
print([n for n in r['nodes'] if n['name'] == 'a'][0]['status']['peers'][0]['$1'])"
}
sink_received() { sink_stats | cut -d' ' -f1; }
at_least() {  # minimum command...: the command prints a number >= minimum
  local min=$1
  shift
  [ "$("$@")" -ge "$min" ]
}

# 1. Cut the link in the middle of a burst: once events flow, freeze the
# "network" until node a holds unacknowledged events, then cut it.
emit 800/3000 >/dev/null &  # ~2.4 s of events
EMIT=$!
wait_until "events to reach the sink" at_least 100 sink_received
kill -STOP "$PROXY"
wait_until "unacknowledged events at node a" at_least 1 peer_of_a unacked
kill -KILL "$PROXY"; wait "$PROXY" 2>/dev/null || true
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
wait_for_output False peer_of_a connected  # node a noticed the lost connection
emit 3000 >/dev/null
start_proxy
refused=$(json_field source outputs_refused)
[ "$refused" -gt 0 ] || fail "expected refusals beyond the backlog bound"
# The backlog drains once the proxy is back: poll until it has.
wait_for_output "$((3000 - refused + 800))" sink_received
stats=($(sink_stats))
received=$((${stats[0]} - 800))
expect_eq "$((received + refused))" "3000" "received ($received) + refused ($refused)"
# End to end, the sink sees the refused events as a gap in the counters as
# soon as a later event arrives.
emit 1 >/dev/null
wait_for_output "$((3000 - refused + 801))" sink_received
expect_eq "$(json_field sink lost)" "$refused" "events the sink counts as lost"
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
"$AEX" up "$D" -q --wait 60  # waits for node b to listen
snapshot_state
emit 100 >/dev/null
wait_for_output "100" sink_received
echo "phase 3: node b restarted, application restored by aex up"
echo "PASS: peer outage"
