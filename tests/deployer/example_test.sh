#!/usr/bin/env bash
# Deploys one example with `aex up` on nodes on loopback, checks that events
# flow and that `aex status` shows them, then `aex down` and checks that no
# process is left behind.
# usage: example_test.sh AEX_BIN EXAMPLE_DIR
source "$(dirname "$0")/lib.sh"
AEX=$1
DIR=$(copy_example "$2")
NAME=$(basename "$2")
D="$DIR/descriptor.yaml"
cleanup() {
  "$AEX" down "$D" -q >/dev/null 2>&1 || true
  "$AEX" nodes stop "$D" -q >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

"$AEX" nodes start "$D" -q
"$AEX" up "$D" -q
modules_running() {
  "$AEX" status "$D" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(all(m.get("state") == "running" and m["attested"] for m in r["modules"]))'
}
expect_eq "$(modules_running)" "True" "every module running and attested"

stat() {  # module field
  "$AEX" status "$D" --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
print([m for m in r['modules'] if m['name'] == '$1'][0]['stats']['$2'])"
}

case "$NAME" in
  ping-pong)
    # The periodic event drives ping every 500 ms: pongs arrive.
    expect_ping_pong_flowing "$AEX" "$D"
    [ "$(stat pong events_accepted)" -ge 3 ] || fail "pong accepted too few events"
    expect_eq "$(stat pong rejected_auth)" "0" "pong rejections"
    ;;
  button-led)
    for _ in 1 2 3; do "$AEX" call "$D" --module button_driver --entry press -q; done
    wait_for_output "3" "$AEX" call "$D" --module gateway --entry report --quiet \
      --out /dev/stdout
    expect_eq "$("$AEX" call "$D" --module led_driver --entry led_state --out /dev/stdout)" "1" \
      "LED on after three toggles"
    expect_eq "$("$AEX" request "$D" --connection operator-count --json |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["hex"])')" "00000003" "count"
    expect_eq "$(stat db events_accepted)" "3" "db events"
    ;;
  db-webserver)
    port=$((20000 + RANDOM % 20000))
    "$AEX" call "$D" --module webserver --entry init --text "$port" -q >/dev/null
    for i in 1 2 3; do
      body=$(python3 - "$port" <<'PY'
import sys, urllib.request
print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=5).read().decode().strip())
PY
)
      expect_eq "$body" "$i" "HTTP response $i"
    done
    expect_eq "$(stat db requests_handled)" "3" "db handled requests"
    ;;
  *)
    # Examples with their own check script.
    if [ -x "$DIR/check.sh" ]; then (cd "$DIR" && AEX="$AEX" ./check.sh); fi
    ;;
esac

"$AEX" down "$D" -q
[ ! -f "$DIR/.aex/descriptor.state.json" ] || fail "state file left after down"
# Nodes are still up but must have no module left.
left=$("$AEX" status "$D" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(sum(len(n["status"]["modules"]) for n in r["nodes"] if "status" in n))')
expect_eq "$left" "0" "modules left on nodes after down"
"$AEX" nodes stop "$D" -q
expect_no_processes_under "$DIR"
echo "PASS: $NAME"
