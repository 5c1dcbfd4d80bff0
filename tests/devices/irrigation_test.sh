#!/usr/bin/env bash
# The smart-irrigation example end to end across its four nodes (two sancus,
# one trustzone, one sgx): `aex up`, then the example's check.sh (dry soil ->
# valve opens -> wet -> valve closes; survey; HTTPS status page with the
# certificate pinned), then `aex update` of AppB keeps its aggregated data
# and the loop keeps working.
# usage: irrigation_test.sh AEX_BIN EXAMPLES_DIR
source "$(dirname "$0")/../deployer/lib.sh"
setup_example "$1" "$2/smart-irrigation"
DEV=$(dirname "$AEX")/aex-device

"$AEX" nodes start "$D" -q
"$AEX" up "$D" -q
(cd "$DIR" && AEX="$AEX" ./check.sh)

# Update AppB from changed sources: its survey data survives, the loop goes on.
echo "// rebuilt for the test" >>"$DIR/irrigation_cloud.cc"
"$AEX" update "$D" --module irrigation_cloud -q
"$DEV" set "$DIR/.aex/devices/field1/soil.sock" 35   # field1 still stressed: cloud opens
"$DEV" wait "$DIR/.aex/devices/field2/valve.sock" open --timeout 60 ||
  fail "the updated AppB lost the survey (field1's stress)"
"$DEV" set "$DIR/.aex/devices/field1/soil.sock" 60
"$DEV" wait "$DIR/.aex/devices/field2/valve.sock" closed --timeout 60 || fail "valve did not close"
"$AEX" status "$D" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
for m in r["modules"]:
    assert m["state"] == "running" and m["attested"], m
    s = m["stats"]
    assert s["rejected_auth"] == 0 and s["rejected_replay"] == 0, (m["name"], s)
print("types:", ", ".join(m["name"] + "=" + m["type"] for m in r["modules"]))'
"$AEX" down "$D" -q
"$AEX" nodes stop "$D" -q
expect_no_processes_under "$DIR"
echo "PASS: smart irrigation across four nodes"
