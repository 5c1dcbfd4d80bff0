#!/usr/bin/env bash
# Reconcilable loads (issue 12 item 7), on two real aex-node processes:
#  1. `aex up` killed by SIGKILL right after its first LOAD succeeded, before
#     the module's id was saved (test hook AEX_TEST_KILL_AFTER_LOAD, compiled
#     only into test builds): the state holds the load intent, the node runs
#     an instance nobody recorded. The next `aex up` unloads that stray
#     (found by LIST_MODULES with the deployment's tag) and afterwards exactly
#     one instance of each module runs, and the application works.
#  2. The same kill, then `aex down`: the stray goes too, nothing is left.
#  3. Nodes with a short attestation deadline: `aex deploy` loads modules and
#     never attests them; each node unloads them once the deadline passed and
#     counts them (modules_unattested_unloaded). Attested modules stay.
# usage: orphan_test.sh AEX_BIN AEX_NODE_BIN EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
AEX=$1
NODE=$2
DIR=$(copy_example "$3/ping-pong")
D="$DIR/descriptor.yaml"
STATE="$DIR/.aex/descriptor.state.json"
PIDS=()
NODE_PIDS=()
cleanup() {
  "$AEX" reset "$D" -q >/dev/null 2>&1 || true
  for p in "${NODE_PIDS[@]}" "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${NODE_PIDS[@]}" "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT

P1=$(free_port)
P2=$(free_port)
while [ "$P2" = "$P1" ]; do P2=$(free_port); done
sed -i "s/reactive_port: 5001/reactive_port: $P1/; s/reactive_port: 5002/reactive_port: $P2/" "$D"
# The nodes run plain TCP (started by hand below): say so in the descriptor.
sed -i "s/^    reactive_port: \([0-9]*\)$/    reactive_port: \1\n    tls: false/" "$D"
grep -c "tls: false" "$D" | grep -qx 2 || fail "could not mark the nodes tls: false"

start_nodes() {  # attest-deadline-seconds
  for p in "${NODE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${NODE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  NODE_PIDS=()
  mkdir -p "$DIR/keys"
  local i port
  for i in 1 2; do
    port=$([ "$i" = 1 ] && echo "$P1" || echo "$P2")
    mkdir -p "$DIR/work$i"
    # Plain TCP on purpose (tls: false in the descriptor): the test starts the
    # nodes itself to give them a short --attest-deadline.
    if [ ! -S "$DIR/node$i.sock" ]; then
      start_platform "$DIR/keys/node$i.key" "$DIR/node$i.sock"
      PIDS+=("$PLATFORM_PID")
    fi
    "$NODE" --port "$port" --platform-socket "$DIR/node$i.sock" --work-dir "$DIR/work$i" \
      --name "node$i" --insecure-no-tls --attest-deadline "$1" >>"$DIR/node$i.log" 2>&1 &
    NODE_PIDS+=($!)
  done
  for port in "$P1" "$P2"; do
    wait_until "the node on port $port to listen" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
  done
}

# "name:state" of every module each node runs, sorted, one a line.
node_modules() {
  "$AEX" status "$D" --json 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
out = []
for n in r["nodes"]:
    for m in n.get("status", {}).get("modules", []):
        out.append("%s:%s:%s" % (n["name"], m["name"], m["state"]))
print("\n".join(sorted(out)))'
}
counter() {  # node-name counter
  "$AEX" status "$D" --json 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(sum(n.get("status", {}).get("counters", {}).get(sys.argv[2], 0)
          for n in r["nodes"] if n["name"] == sys.argv[1]))' "$1" "$2"
}

kill_after_first_load() {
  set +e
  (AEX_TEST_KILL_AFTER_LOAD=1 exec "$AEX" up "$D" -q >/dev/null 2>&1)
  rc=$?
  set -e
  expect_eq "$rc" "137" "aex up killed by the test hook (is this a test build?)"
  python3 - "$STATE" <<'PY' || fail "state after the kill: $(cat "$STATE")"
import json, sys
s = json.load(open(sys.argv[1]))
assert len(s["deployment_tag"]) == 32, s
assert s["loading"], "no load intent recorded"
assert all(m["id"] == 0 for m in s["modules"].values()) if s["modules"] else True, s
PY
  # At least one module (loads run in parallel) runs on a node, recorded
  # nowhere in the state.
  [ -n "$(node_modules)" ] || fail "no module loaded before the kill"
}

# 1. Kill after a LOAD, then up again.
start_nodes 60
kill_after_first_load
out=$("$AEX" up "$D" 2>&1) || fail "aex up after the kill failed: $out"
grep -q "stray" <<<"$out" || fail "no stray reported by aex up: $out"
expect_eq "$(node_modules)" "node1:ping:running
node2:pong:running" "modules running after the second up"
expect_eq "$(counter node1 modules_unattested_unloaded)$(counter node2 modules_unattested_unloaded)" \
  "00" "nodes unloaded nothing themselves (the deployer did)"
expect_ping_pong_flowing "$AEX" "$D"
echo "kill after LOAD + up: stray unloaded, one instance per module"

# 2. Kill after a LOAD, then down: nothing is left.
"$AEX" down "$D" -q
expect_eq "$(node_modules)" "" "modules after down"
kill_after_first_load
"$AEX" down "$D" -q
expect_eq "$(node_modules)" "" "modules after kill + down"
[ ! -f "$STATE" ] || fail "state file left after down"
echo "kill after LOAD + down: nothing left"

# 3. Never attested: the node unloads it after its (short) deadline.
start_nodes 4
"$AEX" deploy "$D" -q
expect_eq "$(node_modules)" "node1:ping:running
node2:pong:running" "modules right after deploy"
# Polled with a generous bound: the deadline is 4 s, a loaded machine may
# take longer to run the nodes' timers and answer status.
for _ in $(seq 1 600); do
  [ -z "$(node_modules)" ] &&
    [ "$(counter node1 modules_unattested_unloaded):$(counter node2 modules_unattested_unloaded)" = "1:1" ] &&
    break
  sleep 0.1
done
expect_eq "$(node_modules)" "" "modules left after the attestation deadline"
expect_eq "$(counter node1 modules_unattested_unloaded):$(counter node2 modules_unattested_unloaded)" \
  "1:1" "unattested modules unloaded by their nodes"
# The next up redeploys them and, attested in time, they stay.
"$AEX" up "$D" -q
expect_ping_pong_flowing "$AEX" "$D"
expect_eq "$(node_modules)" "node1:ping:running
node2:pong:running" "attested modules outlive the deadline"
echo "PASS: orphans"
