#!/usr/bin/env bash
# `aex trace` and the node-side hop metrics on real processes: two native
# nodes, a and b (each with --metrics-listen), run the ping-pong example
# (ping on a, pong on b, ping's periodic tick every 500 ms);
#   1. `aex trace --connection ping-to-pong --count 100 --json` measures 100
#      events, every hop of the path has samples, and the medians of the hops
#      add up to within 10% of the median end-to-end time measured in the
#      same run (the source's seal start to the end of the destination's
#      handler); the text form prints the table;
#   2. /metrics has the hop histograms (node a: routing, node b: peer-link
#      transit, at least one sample per traced event) and the modules'
#      seal/open/handler time; promtool accepts it; they agree with `aex
#      status --json` read just before and after;
#   3. killing pong's process makes node b report it exited; `aex up`
#      reloads it and aex_module_restarts_total{module="pong"} becomes 1 in
#      /metrics and in `aex status --json` (ping's stays 0).
# No step waits a fixed time: each polls for its condition.
# usage: trace_test.sh AEX_BIN AEX_NODE_BIN EXAMPLES_DIR
AEX=$1
NODE=$2
source "$(dirname "$0")/../reliability/lib.sh"
source "$(dirname "$0")/http.sh"
MA=$((BASE + 3)) MB=$((BASE + 4))  # metrics of a and b
cp "$3"/ping-pong/ping.c "$3"/ping-pong/pong.cc "$DIR"/

start_node a "$PA" --metrics-listen "127.0.0.1:$MA"
start_node b "$PB" --metrics-listen "127.0.0.1:$MB"
cat >"$D" <<YAML
nodes:
  - {type: native, name: a, host: 127.0.0.1, reactive_port: $PA, node_key_file: a.key, tls: false}
  - {type: native, name: b, host: 127.0.0.1, reactive_port: $PB, node_key_file: b.key, tls: false}
modules:
  - {type: native, name: ping, node: a, sources: [ping.c]}
  - {type: native, name: pong, node: b, sources: [pong.cc]}
connections:
  - {name: ping-to-pong, from_module: ping, from_output: send_ping, to_module: pong,
     to_input: recv_ping, encryption: aes}
  - {name: pong-to-ping, from_module: pong, from_output: send_pong, to_module: ping,
     to_input: recv_pong, encryption: aes}
  - {name: ping-asks-count, from_module: ping, from_request: ask_count, to_module: pong,
     to_handler: count, encryption: aes}
periodic-events:
  - {name: ping-every-500ms, module: ping, entry: tick, frequency: 500}
YAML
"$AEX" up "$D" -q --wait 60

# 1. The trace.
"$AEX" trace "$D" --connection ping-to-pong --count 100 --json >"$DIR/trace.json"
python3 - "$DIR/trace.json" <<'PY' || fail "trace: $(cat "$DIR/trace.json")"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["ok"] and t["events"] == 100, t
hops = {h["hop"]: h for h in t["hops"]}
expected = ["module seal", "module -> node", "node routing", "peer link", "node -> module",
            "module open", "handler"]
assert list(hops) == expected, list(hops)
for name in ["module seal", "peer link", "module open", "handler"]:
    assert hops[name]["median_us"] > 0, (name, hops[name])
for h in t["hops"]:
    assert 0 <= h["median_us"] <= h["p99_us"], h
total = sum(h["median_us"] for h in t["hops"])
assert abs(total - t["sum_of_medians_us"]) < 0.01, t
# Means add up exactly when the hops cover the path with no gap or overlap;
# medians need not (a skewed hop under load), so they are only printed.
means = sum(h["mean_us"] for h in t["hops"])
assert abs(means - t["sum_of_means_us"]) < 0.01, t
e2e_mean = t["end_to_end"]["mean_us"]
assert e2e_mean > 0 and abs(means - e2e_mean) <= 0.10 * e2e_mean, \
    f"hop means add up to {means} us, end to end {e2e_mean} us"
e2e = t["end_to_end"]["median_us"]
print(f"1: 100 events ({t['discarded']} discarded): hops add up to {total:.1f} us, "
      f"end to end {e2e:.1f} us (median)")
PY
"$AEX" trace "$D" --connection ping-to-pong --count 5 >"$DIR/trace.txt"
for hop in "module seal" "module -> node" "node routing" "peer link" "node -> module" \
  "module open" "handler" "end to end (measured)"; do
  grep -q "^$hop  " "$DIR/trace.txt" || fail "no '$hop' row in: $(cat "$DIR/trace.txt")"
done
out=$("$AEX" trace "$D" --connection pong-to-ping --count 1 2>&1) &&
  fail "pong has no periodic event: trace needs --entry, got: $out"
grep -q -- "--entry" <<<"$out" || fail "unclear refusal: $out"

# 2. The hop metrics, and `aex status --json` around them.
metric() {  # port name labels  -> the sample's value
  http GET "$1" /metrics | awk -v key="$2{$3}" '$1 == key { print $2 }'
}
status_field() {  # python expression on the report r
  "$AEX" status "$D" --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
node = {n['name']: n['status'] for n in r['nodes']}
mod = {m['name']: m for m in r['modules']}
print($1)"
}
http GET "$MA" /metrics | tail -n +2 >"$DIR/a.prom"
http GET "$MB" /metrics | tail -n +2 >"$DIR/b.prom"
for f in a b; do
  promtool check metrics <"$DIR/$f.prom" >"$DIR/promtool.log" 2>&1 ||
    fail "promtool check metrics ($f): $(cat "$DIR/promtool.log")"
done
for expr in "node['a']['route_seconds']['count']" "node['b']['link_seconds']['count']"; do
  low=$(status_field "$expr")
  case $expr in
    *route*) got=$(metric "$MA" aex_node_route_seconds_count 'node="a"') ;;
    *) got=$(metric "$MB" aex_node_link_transit_seconds_count 'node="b"') ;;
  esac
  high=$(status_field "$expr")
  [ "$low" -ge 105 ] || fail "$expr: $low samples for 105 traced events"
  [ "$low" -le "$got" ] && [ "$got" -le "$high" ] ||
    fail "$expr: /metrics says $got, aex status $low then $high"
done
grep -q '^aex_node_route_seconds_bucket{node="a",le="1e-05"} ' "$DIR/a.prom" ||
  fail "no 10 us bucket in node a's routing histogram"
# A module busy in a call (ping's tick, pong answering ask_count) is listed
# without counters in that scrape: polled.
module_time() {  # port name labels  (succeeds if the sample is a time, 0 < t < 10 s)
  python3 -c "import sys; sys.exit(not 0 < float(sys.argv[1]) < 10)" "$(metric "$@")" 2>/dev/null
}
wait_until "ping's seal time in /metrics" module_time "$MA" aex_module_seal_seconds_total \
  'node="a",module="ping",backend="native"'
for key in open_seconds_total handler_seconds_total; do
  wait_until "pong's $key in /metrics" module_time "$MB" "aex_module_$key" \
    'node="b",module="pong",backend="native"'
done
if grep -q "_at_ns" "$DIR/a.prom" "$DIR/b.prom"; then fail "a timestamp exposed as a counter"; fi
echo "2: hop histograms and module times in /metrics, valid, consistent with aex status"

# 3. A module killed and reloaded counts a restart.
expect_eq "$(metric "$MB" aex_module_restarts_total 'node="b",module="pong"')" \
  0 "pong's restarts before"
pid=$(status_field "[m['pid'] for m in node['b']['modules'] if m['name'] == 'pong'][0]")
kill -9 "$pid"
wait_for_output exited status_field "mod['pong']['state']"
"$AEX" up "$D" -q --wait 60
wait_for_output 1 metric "$MB" aex_module_restarts_total 'node="b",module="pong"'
expect_eq "$(status_field "mod['pong']['restarts'], mod['ping']['restarts']")" "1 0" \
  "restarts in aex status --json (pong, ping)"
expect_eq "$(metric "$MA" aex_module_restarts_total 'node="a",module="ping"')" \
  0 "ping's restarts"
"$AEX" trace "$D" --connection ping-to-pong --count 3 --json >/dev/null ||
  fail "trace after pong's restart"
echo "3: pong killed (pid $pid), reported exited, reloaded by aex up: restarts 1"
echo "PASS: trace"
