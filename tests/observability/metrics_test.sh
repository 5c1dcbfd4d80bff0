#!/usr/bin/env bash
# /metrics on real nodes, scraped by the real Prometheus server (Debian's
# prometheus, on loopback): two native nodes run the reliability app (source
# on a, sink on b) with --metrics-listen;
#   1. node b's /metrics passes `promtool check metrics` and shows the same
#      numbers as `aex status --json`;
#   2. wrong requests (other path, POST, an endless request head) are
#      answered 404/405/400 and the node keeps serving;
#   3. a node refuses --metrics-listen off loopback without TLS;
#   4. Prometheus scrapes both nodes and its query API returns the sink's
#      aex_module_events_accepted_total, which grows as events flow, and the
#      latency histograms: one ACK round trip per event on a's link to b,
#      one call time per `aex call` of the source, and a median from
#      histogram_quantile.
# No step waits a fixed time: each polls for its condition.
# usage: metrics_test.sh AEX_BIN AEX_NODE_BIN
AEX=$1
NODE=$2
source "$(dirname "$0")/../reliability/lib.sh"
source "$(dirname "$0")/http.sh"
MA=$((BASE + 3)) MB=$((BASE + 4)) PP=$((BASE + 5))  # metrics of a and b, Prometheus

command -v prometheus >/dev/null && command -v promtool >/dev/null ||
  fail "prometheus and promtool are not installed (scripts/install-deps.sh installs them)"

start_node a "$PA" --metrics-listen "127.0.0.1:$MA"
start_node b "$PB" --metrics-listen "127.0.0.1:$MB"
write_app "reactive_port: $PB"
"$AEX" up "$D" -q --wait 60

metric() {  # port name labels  -> the sample's value
  http GET "$1" /metrics | awk -v key="$2{$3}" '$1 == key { print $2 }'
}
sink_stat() {  # field of the sink's stats in `aex status --json`
  "$AEX" status "$D" --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
print([m for m in r['modules'] if m['name'] == 'sink'][0]['stats']['$1'])"
}
SINK='node="b",module="sink",backend="native"'

# 1. The exposition is valid and agrees with `aex status`.
"$AEX" call "$D" --module source --entry emit --text 100 --out /dev/null
wait_for_output 100 metric "$MB" aex_module_events_accepted_total "$SINK"
expect_eq "$(sink_stat events_accepted)" 100 "events accepted in aex status"
http GET "$MB" /metrics >"$DIR/b.metrics"
head -1 "$DIR/b.metrics" | grep -q "^HTTP/1.1 200 OK" || fail "GET /metrics: $(head -1 "$DIR/b.metrics")"
tail -n +2 "$DIR/b.metrics" >"$DIR/b.prom"
promtool check metrics <"$DIR/b.prom" >"$DIR/promtool.log" 2>&1 ||
  fail "promtool check metrics: $(cat "$DIR/promtool.log")"
for line in 'aex_module_attested{node="b",module="sink",backend="native"} 1' \
  'aex_module_info{node="b",module="sink",backend="native",state="running"} 1' \
  'aex_node_tls{node="b"} 0'; do
  grep -qxF "$line" "$DIR/b.prom" || fail "no line '$line' in /metrics"
done
expect_eq "$(metric "$MA" aex_module_outputs_sent_total 'node="a",module="source",backend="native"')" \
  100 "events the source sent, in node a's /metrics"
echo "1: /metrics is valid (promtool) and agrees with aex status"

# 2. Wrong requests.
expect_eq "$(http GET "$MB" /other | head -1)" "HTTP/1.1 404 Not Found" "GET /other"
expect_eq "$(http POST "$MB" /metrics | head -1)" "HTTP/1.1 405 Method Not Allowed" "POST /metrics"
long_head="GET /metrics HTTP/1.1\r\nX: $(head -c 9000 /dev/zero | tr '\0' a)\r\n\r\n"
expect_eq "$(http GET "$MB" /metrics "$(printf "$long_head")" | head -1)" \
  "HTTP/1.1 400 Bad Request" "a request head over 8 KiB"
expect_eq "$(http GET "$MB" /metrics | head -1)" "HTTP/1.1 200 OK" "GET /metrics afterwards"
echo "2: wrong requests answered 404, 405 and 400; the node keeps serving"

# 3. Not off loopback without TLS.
out=$("$NODE" --port 0 --insecure-no-tls --platform-socket "$DIR/a.sock" --work-dir "$DIR/work-x" \
  --metrics-listen "0.0.0.0:$PP" 2>&1) && fail "aex-node served metrics on 0.0.0.0 without TLS"
grep -q "needs the node's TLS material" <<<"$out" || fail "unclear refusal: $out"
echo "3: --metrics-listen 0.0.0.0 without TLS refused: $out"

# 4. The real Prometheus server scrapes both nodes.
cat >"$DIR/prometheus.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: aex
    static_configs: [{targets: ["127.0.0.1:$MA", "127.0.0.1:$MB"]}]
YAML
prometheus --config.file "$DIR/prometheus.yml" --storage.tsdb.path "$DIR/prometheus-data" \
  --web.listen-address "127.0.0.1:$PP" >"$DIR/prometheus.log" 2>&1 &
EXTRA+=("$!")
query() {  # PromQL -> the first result's value
  python3 - "$PP" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
r = json.load(urllib.request.urlopen(url, timeout=10))
print(r["data"]["result"][0]["value"][1] if r["data"]["result"] else "")
PY
}
wait_for_output 2 query 'count(up{job="aex"} == 1)'
wait_for_output 100 query 'aex_module_events_accepted_total{module="sink"}'
"$AEX" call "$D" --module source --entry emit --text 150 --out /dev/null
wait_for_output 250 query 'aex_module_events_accepted_total{module="sink"}'
wait_for_output 250 query 'aex_node_events_routed_total{node="a"}'
# Every event a sent to b was acknowledged once; two `aex call`s of emit.
wait_for_output 250 query 'aex_peer_ack_seconds_count{node="a"}'
wait_for_output 2 query 'aex_module_call_seconds_count{module="source"}'
expect_eq "$(query 'aex_module_call_seconds_bucket{module="source",le="+Inf"}')" 2 \
  "the source's +Inf bucket (the count)"
median=$(query 'histogram_quantile(0.5, aex_peer_ack_seconds_bucket{node="a"})')
python3 -c "import sys; v = float(sys.argv[1]); sys.exit(not 0 < v <= 10)" "$median" ||
  fail "median ACK round trip '$median' is not a time"
echo "4: Prometheus scraped both nodes; the sink's event counter grew from 100 to 250;" \
  "a's link to b: 250 ACK round trips, median ${median}s; the source's 2 calls timed"
echo "PASS: metrics"
