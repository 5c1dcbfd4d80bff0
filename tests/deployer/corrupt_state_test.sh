#!/usr/bin/env bash
# A corrupt state file does not block recovery (issue 12 item 8): after a
# successful `aex up`, the state file is corrupted (a value that parses but
# is wrong, then text that is not JSON). Every command refuses it with an
# error naming the entry and field and saying how to recover; `aex reset`
# works from the descriptor alone (it resets both nodes and moves the
# corrupt file aside), and the next `aex up` deploys a working application.
# usage: corrupt_state_test.sh AEX_BIN EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
setup_example "$1" "$2/ping-pong"
"$AEX" nodes start "$D" -q
"$AEX" up "$D" -q

# Running modules, as the nodes report them ("node:name", sorted).
node_modules() {
  "$AEX" status "$D" --json 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(" ".join(sorted("%s:%s" % (n["name"], m["name"])
                      for n in r["nodes"] for m in n.get("status", {}).get("modules", []))))'
}
expect_eq "$(node_modules)" "node1:ping node2:pong" "modules after up"

refused() {  # what-to-expect command...
  local expected=$1 out rc
  shift
  set +e
  out=$("$AEX" "$@" 2>&1)
  rc=$?
  set -e
  expect_eq "$rc" "2" "exit code of aex $* with a corrupt state file ($out)"
  grep -qF -- "corrupt state file" <<<"$out" || fail "aex $*: no 'corrupt state file' in: $out"
  grep -qF -- "$expected" <<<"$out" || fail "aex $*: expected [$expected] in: $out"
  grep -qF -- "To recover, run \`aex reset $D\`" <<<"$out" || fail "aex $*: no recovery hint: $out"
}

# A module id of -1: JSON, but not a value the deployer writes.
python3 - "$STATE" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["modules"]["ping"]["id"] = -1
open(sys.argv[1], "w").write(json.dumps(s))
PY
for cmd in up status down deploy; do
  refused "modules['ping']: field 'id': must be an integer in 0..4294967295, got -1" "$cmd" "$D"
done
refused "modules['ping']: field 'id'" call "$D" --module ping --entry pongs_received
[ -f "$STATE" ] || fail "a refused command removed the state file"

# Not JSON at all.
printf '{"version": 1, "modules": {' >"$STATE"
refused "not JSON" up "$D"
refused "not JSON" status "$D"

# reset needs only the descriptor: both nodes are reset, the file is kept aside.
out=$("$AEX" reset "$D" 2>&1) || fail "aex reset with a corrupt state file failed: $out"
grep -qF "moved it to $STATE.corrupt-" <<<"$out" || fail "reset did not say where the file went: $out"
[ ! -f "$STATE" ] || fail "state file still there after reset"
ls "$STATE".corrupt-* >/dev/null 2>&1 || fail "no corrupt copy kept next to the state file"
expect_eq "$(node_modules)" "" "modules after reset"

"$AEX" up "$D" -q
expect_ping_pong_flowing "$AEX" "$D"
expect_eq "$(node_modules)" "node1:ping node2:pong" "modules after the next up"
echo "PASS: corrupt state"
