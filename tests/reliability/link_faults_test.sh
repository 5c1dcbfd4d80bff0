#!/usr/bin/env bash
# Faults on the peer link between two real nodes (issue 12, items 1-3).
# Node a sends to node b through tests/reliability/proxy.py, which
#   1. duplicates one LINK_EVENT: b drops the copy and counts it; every event
#      reaches the sink once; the link keeps flowing (no wedge);
#   2. drops one LINK_EVENT, keeping the TCP session: b reports the gap, a
#      resends from it (go-back-N); the sink gets every event, in order;
#   3. injects an ACK for a sequence number a never sent: a logs and counts a
#      protocol error, resets the connection and resends what was
#      unacknowledged; events keep flowing, nothing is lost;
#   4. the sink module is killed while the link is up: b reports the events it
#      cannot deliver; a's status (node, peer, route) and the source module's
#      status show them as undelivered.
# No step waits a fixed time: each polls for its condition (60 s at most).
# usage: link_faults_test.sh AEX_BIN AEX_NODE_BIN
AEX=$1
NODE=$2
source "$(dirname "$0")/lib.sh"

start_node a "$PA" --log-level info
start_node b "$PB" --log-level info
python3 "$HERE/proxy.py" "$PX" "$PB" --dup-counter 50 --drop-counter 150 \
  --inject-ack-counter 250 >"$DIR/proxy.log" 2>&1 &
PROXY=$!
EXTRA+=("$PROXY")
proxy_listening() { kill -0 "$PROXY" && (exec 3<>"/dev/tcp/127.0.0.1/$PX"); }
wait_until "the proxy to listen on $PX (see its log)" proxy_listening
write_app "reactive_port: $PX, deploy_port: $PB"
"$AEX" up "$D" -q --wait 60

emit() { "$AEX" call "$D" --module source --entry emit --text "$1" --out /dev/stdout; }
sink_stats() { "$AEX" call "$D" --module sink --entry stats --out /dev/stdout; }
# Prints one value of `aex status --json` picked by a Python expression over
# r (the document), node(name) (a node's status) and module(name).
status_value() {  # expression
  "$AEX" status "$D" --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
node = lambda n: [x for x in r['nodes'] if x['name'] == n][0]['status']
module = lambda n: [x for x in r['modules'] if x['name'] == n][0]['stats']
print($1)"
}
peer_a() { echo "node('a')['peers'][0]['$1']"; }
expect_status() {  # expression expected what
  expect_eq "$(status_value "$1")" "$2" "$3"
}

# Seconds since a start time (date +%s.%N), for the figures in docs/reliability.md.
since() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.3f}')" "$1"; }

# 1. One duplicated LINK_EVENT (the 50th event).
T=$(date +%s.%N)
emit 100 >/dev/null
wait_for_output "100 100 0 0" sink_stats
t1=$(since "$T")
grep -q "FAULT dup 50" "$DIR/proxy.log" || fail "the proxy did not duplicate event 50"
# Exactly the one duplicate, unless node a also resent for want of an ACK
# (a very slow machine), which makes more.
dups=$(status_value "node('b')['counters']['link_duplicates']")
timeouts=$(status_value "$(peer_a ack_timeouts)")
[ "$dups" -ge 1 ] || fail "node b counted no duplicate"
[ "$dups" = 1 ] || [ "$timeouts" -gt 0 ] || fail "node b counted $dups duplicates, expected 1"
expect_status "module('sink')['rejected_replay']" 0 "duplicates that reached the sink"
expect_status "$(peer_a protocol_errors)" 0 "protocol errors at node a"
echo "phase 1: a duplicated frame was dropped and counted at node b; 100 of 100 delivered once" \
  "(${t1} s from emit to the last event, polling included)"

# 2. One LINK_EVENT dropped in transit (event 150), the session kept.
T=$(date +%s.%N)
emit 100 >/dev/null
wait_for_output "200 200 0 0" sink_stats
t2=$(since "$T")
grep -q "FAULT drop 150" "$DIR/proxy.log" || fail "the proxy did not drop event 150"
expect_status "node('b')['counters']['link_gaps']" 1 "gaps node b noticed"
expect_status "$(peer_a gaps)" 1 "gap reports node a acted on"
[ "$(status_value "$(peer_a resent)")" -ge 1 ] || fail "node a resent nothing"
expect_status "$(peer_a connects)" 1 "connections of node a (the session was kept)"
expect_status "module('sink')['lost']" 0 "events lost at the sink"
echo "phase 2: a dropped frame was detected and resent on the same connection" \
  "(${t2} s from emit to the last event, polling included)"

# 3. An impossible ACK injected towards node a (after event 250).
T=$(date +%s.%N)
emit 100 >/dev/null
wait_for_output "300 300 0 0" sink_stats
t3=$(since "$T")
grep -q "FAULT inject-ack 250" "$DIR/proxy.log" || fail "the proxy did not inject the ACK"
wait_for_output 1 status_value "$(peer_a protocol_errors)"
[ "$(status_value "$(peer_a connects)")" -ge 2 ] || fail "node a did not reset the connection"
grep -q "protocol error on the link" "$DIR/a.log" || fail "node a did not log the protocol error"
emit 100 >/dev/null
wait_for_output "400 400 0 0" sink_stats
expect_status "module('sink')['lost']" 0 "events lost at the sink"
expect_status "module('source')['outputs_refused'] + module('source')['outputs_undelivered']" \
  0 "events of the source not delivered"
# From node a's log: the protocol error to the next connection (lines start
# "HH:MM:SS.mmm", tools/aex_node.cc).
resync=$(python3 - "$DIR/a.log" <<'PY'
import re, sys, datetime
t = lambda line: datetime.datetime.strptime(line[:12], "%H:%M:%S.%f")
lines = open(sys.argv[1]).read().splitlines()
err = next(i for i, l in enumerate(lines) if "protocol error on the link" in l)
up = next(l for l in lines[err:] if re.search(r"peer .* connected", l))
print(f"{(t(up) - t(lines[err])).total_seconds() * 1000:.0f}")
PY
)
echo "phase 3: an impossible ACK was logged, counted, the link reset and resynchronised" \
  "(reset to reconnected: ${resync} ms; ${t3} s from emit to the last event)"

# 4. The sink dies while the link is up.
sink_pid=$(status_value "[m for m in node('b')['modules'] if m['name'] == 'sink'][0]['pid']")
kill -9 "$sink_pid"
wait_for_output exited status_value \
  "[m for m in node('b')['modules'] if m['name'] == 'sink'][0]['state']"
emit 100 >/dev/null
wait_for_output 100 status_value "node('a')['counters']['peer_undelivered']"
wait_for_output 100 status_value "module('source')['outputs_undelivered']"
expect_status "$(peer_a undelivered)" 100 "node a's peer count of undelivered events"
expect_status "node('a')['routes'][0]['undelivered']" 100 "node a's route count"
expect_status "node('b')['counters']['events_undeliverable']" 100 "node b's count"
"$AEX" status "$D" | grep -E '^source +a ' | grep -q ' 0/100 ' ||
  fail "aex status does not show the source's 100 undelivered events: $("$AEX" status "$D")"
echo "phase 4: 100 events for a dead sink: node a, its route and the source module know"
"$AEX" status "$D"
echo "PASS: link faults"
