#!/usr/bin/env bash
# No (key, nonce) pair is ever sealed twice (issue 11). Needs a build with
# -DAEX_NONCE_AUDIT=ON: every AEAD seal of the runtime, the deployer and the
# manager then logs "AEX-NONCE-AUDIT <key fingerprint> <nonce>" to stderr
# (modules' stderr lands in their node's log). Runs ping-pong through a
# module restart (its process killed), a node restart, down/up, an update and
# a state file restored from a backup, collects every audit line of every
# log and of the deployer, and fails if a pair repeats or too few were seen.
# usage: nonce_audit_test.sh AEX_BIN EXAMPLES_DIR
source "$(dirname "$0")/../deployer/lib.sh"
setup_example "$1" "$2/ping-pong"
AUDIT="$DIR/deployer-audit.log"
# A descriptor-fixed connection key must not make establishments repeat nonces.
sed -i 's/^    to_input: recv_ping$/    to_input: recv_ping\n    key: 00112233445566778899aabbccddeeff/' "$D"

aex() { "$AEX" "$@" 2>>"$AUDIT"; }
flowing() {  # pongs keep coming and the direct request is answered
  local n0 n
  n0=$(aex call "$D" --module ping --entry pongs_received --json |
    python3 -c 'import json,sys; print(int(json.load(sys.stdin)["hex"], 16))')
  for _ in $(seq 1 300); do
    n=$(aex call "$D" --module ping --entry pongs_received --json |
      python3 -c 'import json,sys; print(int(json.load(sys.stdin)["hex"], 16))')
    [ "$n" -ge $((n0 + 3)) ] && break
    sleep 0.1
  done
  [ "$n" -ge $((n0 + 3)) ] || fail "$1: pongs stopped ($n0 -> $n)"
  expect_eq "$(aex request "$D" --connection operator-reverse --text abc --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["text"])')" "cba" "$1: direct request"
}
wait_state() {  # module state
  for _ in $(seq 1 300); do
    aex status "$D" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
sys.exit(0 if any(m["name"] == sys.argv[1] and m.get("state") == sys.argv[2]
                  for m in r["modules"]) else 1)' "$1" "$2" && return 0
    sleep 0.1
  done
  fail "module $1 never reached state $2"
}

aex nodes start "$D" -q
aex up "$D" -q
flowing "first up"
cp "$STATE" "$DIR/state.backup"

# A module restart: its process dies; the next up deploys, attests and keys anew.
pid=$(pgrep -f "$DIR/.*pong" | head -1)
[ -n "$pid" ] || fail "no pong process"
kill -9 "$pid"
wait_state pong exited
aex up "$D" -q
flowing "module restart"

# A node restart: every module and route is gone.
aex nodes stop "$D" -q
aex nodes start "$D" -q
aex up "$D" -q
flowing "node restart"

aex down "$D" -q
aex up "$D" -q
flowing "down/up"

echo '// changed' >>"$DIR/pong.cc"
aex update "$D" --module pong -q
flowing "update"

# The state file restored from the backup of the first run.
cp "$DIR/state.backup" "$STATE"
aex up "$D" -q
flowing "restored state file"

python3 - "$DIR" <<'PY'
import collections, glob, os, sys
d = sys.argv[1]
files = glob.glob(os.path.join(d, ".aex", "**", "*.log"), recursive=True)
files.append(os.path.join(d, "deployer-audit.log"))
pairs = collections.Counter()
for f in files:
    for line in open(f, errors="replace"):
        if line.startswith("AEX-NONCE-AUDIT "):
            parts = line.split()
            if len(parts) == 3:
                pairs[(parts[1], parts[2])] += 1
total = sum(pairs.values())
keys = len({k for k, _ in pairs})
repeated = [(p, n) for p, n in pairs.items() if n > 1]
print(f"{total} seals under {keys} keys in {len(files)} logs, {len(repeated)} repeated pairs")
if repeated:
    sys.exit(f"FAIL: (key, nonce) pairs sealed more than once: {repeated[:10]}")
if total < 100 or keys < 20:
    sys.exit(f"FAIL: too few seals seen ({total} under {keys} keys): is the audit on?")
PY
echo "PASS: nonce audit"
