#!/usr/bin/env bash
# Deploys one example with `aex up` on nodes on loopback, checks that events
# flow and that `aex status` shows them, then `aex down` and checks that no
# process is left behind.
# usage: example_test.sh AEX_BIN EXAMPLE_DIR
source "$(dirname "$0")/lib.sh"
setup_example "$1" "$2"
NAME=$(basename "$2")

# No example commits a node key: the first `nodes start` makes them, each
# key file 0600 beside its simulated platform's folder (0700), and the
# deployer reads the same files to verify attestation (`up` below).
if git -C "$2" rev-parse --git-dir >/dev/null 2>&1; then
  committed=$(git -C "$2" ls-files -- keys '*.key' '*.pem' '*.der')
  [ -z "$committed" ] || fail "$NAME commits key material: $committed"
fi
keys=$(grep -oE 'node_key_file: *[^,} ]+' "$D" | sed -E 's/node_key_file: *//')
[ -n "$keys" ] || fail "no node_key_file in $NAME"
for key in $keys; do [ ! -e "$DIR/$key" ] || fail "$key exists before the first start"; done
"$AEX" nodes start "$D" -q
for key in $keys; do
  expect_eq "$(stat -c %a "$DIR/$key")" "600" "mode of $key"
  expect_eq "$(stat -c %a "$DIR/${key%.key}.platform")" "700" "mode of ${key%.key}.platform/"
done
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
