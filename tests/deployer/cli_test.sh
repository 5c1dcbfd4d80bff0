#!/usr/bin/env bash
# The deployer's command line on the failure paths: every bad descriptor is
# refused with a message naming file, entry and field and exit code 2, and
# leaves the state file byte-for-byte unchanged; a locked state file gives
# exit code 3; a deployer killed in the middle of `up` leaves a valid state
# file and the next `up` completes the deployment.
# usage: cli_test.sh AEX_BIN EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
setup_example "$1" "$2/ping-pong"
"$AEX" nodes start "$D" -q
"$AEX" up "$D" -q
[ -f "$STATE" ] || fail "no state file after up"
[ "$(stat -c %a "$STATE")" = "600" ] || fail "state file mode is not 0600"
# The state file holds no key, nonce or counter (a restored copy must not be
# able to roll any back), only the instance ids the deployer attested.
! grep -qE '"(key|nonce|counter)"' "$STATE" || fail "state file holds keys, nonces or counters"
grep -qE '"instance": [1-9][0-9]*' "$STATE" || fail "state file records no attested instance"
before=$(sha256sum "$STATE")

cases=0
bad() {  # expected-substring file-content
  local expected=$1 file="$DIR/bad.yaml" out rc
  printf '%s\n' "$2" >"$file"
  set +e
  out=$("$AEX" up "$file" --state "$STATE" -q 2>&1)
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "expected exit 2 for [$expected], got $rc: $out"
  grep -qF -- "$expected" <<<"$out" || fail "expected message [$expected], got: $out"
  [ "$(sha256sum "$STATE")" = "$before" ] || fail "state file changed by a refused run"
  cases=$((cases + 1))
}

good=$(cat "$D")
bad "unknown key 'nodez'" "nodez: []
$good"
bad "no node named 'node9'" "$(sed 's/node: node2/node: node9/' <<<"$good")"
bad "to_input" "$(sed 's/to_input: recv_ping/to_input: recv_pong_typo/' <<<"$good")"
bad "from_output" "$(sed 's/from_output: send_ping/from_output: nothing/' <<<"$good")"
bad "ping" "$(sed 's/name: pong$/name: ping/' <<<"$good")"
bad "reactive_port" "$(sed "s/reactive_port: ${PORTS[0]}/reactive_port: 70000/" <<<"$good")"
bad "encryption" "$(sed '0,/encryption: aes/s//encryption: rot13/' <<<"$good")"
bad "frequency" "$(sed 's/frequency: 500/frequency: 0/' <<<"$good")"
bad "to_handler" "$(sed 's/to_handler: count/to_handler: recv_ping/' <<<"$good")"
bad "missing.c" "$(sed 's/sources: \[ping.c\]/sources: [missing.c]/' <<<"$good")"
bad "not a JSON, nor a YAML" "{ this is: [not valid"
bad "entry" "$(sed 's/entry: tick/entry: tock/' <<<"$good")"
printf 'SM_OUTPUT(send_ping);\nSM_OUTPUT(send_ping);\n' >"$DIR/dup.c"
bad "dup.c:2" "$(sed 's/sources: \[ping.c\]/sources: [dup.c]/' <<<"$good")"
echo "refused $cases bad descriptors, state untouched"

# A second run while the state is locked: exit code 3, nothing changed.
exec 9>"$STATE.lock"
flock 9
set +e
out=$("$AEX" up "$D" -q 2>&1)
rc=$?
set -e
exec 9>&-
expect_eq "$rc" "3" "exit code with the state file locked ($out)"
[ "$(sha256sum "$STATE")" = "$before" ] || fail "state changed by a locked run"

# Unreachable node: exit code 1.
sed "s/${PORTS[1]}/$(free_port)/" "$D" >"$DIR/unreachable.yaml"
set +e
"$AEX" status "$DIR/unreachable.yaml" -q >/dev/null 2>&1
rc=$?
set -e
expect_eq "$rc" "1" "exit code of status with a node down"

# Kill the deployer in the middle of `up`, at several points: the state file
# always parses and the next `up` completes the deployment. The delay only
# places the fault; nothing waits on it (any point must pass, even "before
# anything happened" on a loaded machine).
for delay in 0.05 0.2 0.4; do
  "$AEX" down "$D" -q
  "$AEX" up "$D" -q &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -f "$STATE" ]; then
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$STATE" ||
      fail "state file corrupt after kill at $delay s"
  fi
  "$AEX" up "$D" -q
  expect_eq "$("$AEX" request "$D" --connection operator-reverse --text xy --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["text"])')" "yx" \
    "application works after resuming at $delay s"
done
# A state file restored from a backup: the next runs attest again and key
# the direct connection afresh, so nothing repeats and the application works.
reverse() {
  "$AEX" request "$D" --connection operator-reverse --text "$1" --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["text"])'
}
cp "$STATE" "$DIR/state.backup"
expect_eq "$(reverse ab)" "ba" "request before the restore"
expect_eq "$(reverse cd)" "dc" "second request before the restore"
cp "$DIR/state.backup" "$STATE"
"$AEX" up "$D" -q
expect_eq "$(reverse ef)" "fe" "request after the state file was restored"

# A module binary over the limit of a node's LOAD_MODULE (wire::kMaxModuleBinary,
# the one module-size limit): `aex up` refuses it once built, naming both
# sizes; a node sent such a LOAD_MODULE anyway ends the session and logs it.
cat >"$DIR/huge.c" <<'C'
#include "aex/module.h"
/* 40 MiB of initialised data: a binary over the limit. */
const unsigned char kBallast[40u << 20] = {1};
SM_ENTRY(ballast, data, len, resp, cap) {
  (void)data, (void)resp, (void)cap;
  return kBallast[len % sizeof kBallast];
}
C
{ sed '/^modules:/,$d' "$D"
  printf 'modules:\n  - {type: native, name: huge, node: node1, sources: [huge.c]}\n'
} >"$DIR/huge.yaml"
set +e
out=$("$AEX" up "$DIR/huge.yaml" 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a module binary over the limit was deployed: $out"
grep -qE "huge[^ ]* is [0-9]{8} bytes, more than the [0-9]+ a node loads" <<<"$out" ||
  fail "no clear refusal of the huge module: $out"
expect_eq "$(PROBE_TLS_DIR="$DIR/.aex/tls" python3 "$(dirname "$0")/../devices/node_probe.py" \
  oversize 127.0.0.1 "${PORTS[0]}" 2147483647)" "closed" "a LOAD_MODULE over the limit"
wait_until "node1's log to name the refused LOAD_MODULE and its size" grep -q \
  "a LOAD_MODULE frame of 2147483647 bytes, more than the [0-9]* this session accepts" \
  "$DIR/.aex/logs/node1.log"
echo "PASS: cli"
