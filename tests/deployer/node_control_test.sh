#!/usr/bin/env bash
# Node control against the everyday mistakes of issue 16, with real
# processes on loopback:
#  1. a port served by another deployment's node (TLS and plain TCP), or by
#     another node of the same deployment: `nodes start`, `up` and `status`
#     refuse it and say what answers;
#  2. a stale pid file naming an unrelated process (a `sleep`): `nodes start`
#     starts the node anyway and `nodes stop` leaves that process alone;
#  6. SIGINT during `up` while a compiler runs: the compiler's process group
#     is killed, no temporary build folder is left, the state file is valid,
#     the exit code is 130 and the next `up` works (same for a failed build);
#  7. `status` and `graph` work while an `up` holds the state lock;
#  8. nodes and modules inherit no descriptor: a module has exactly 0-3, a
#     node none of the descriptors its `aex nodes start` was given.
# usage: node_control_test.sh AEX_BIN EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
AEX=$1
A=$(copy_example "$2/ping-pong")
B=$(copy_example "$2/ping-pong")
P=$(copy_example "$2/ping-pong")
Q=$(copy_example "$2/ping-pong")
STRAY=""
cleanup() {
  for dir in "$A" "$B" "$P" "$Q"; do
    "$AEX" down "$dir/descriptor.yaml" -q >/dev/null 2>&1 || true
    "$AEX" nodes stop "$dir/descriptor.yaml" -q >/dev/null 2>&1 || true
  done
  [ -z "$STRAY" ] || kill "$STRAY" 2>/dev/null || true
  rm -rf "$A" "$B" "$P" "$Q"
}
trap cleanup EXIT
# Ports of their own (A and B share 5701, P and Q share 5721).
sed -i 's/5001/5701/; s/5002/5702/' "$A/descriptor.yaml"
sed -i 's/5001/5701/; s/5002/5712/' "$B/descriptor.yaml"
for dir in "$P" "$Q"; do
  sed -i 's/^    reactive_port: \(.*\)$/    reactive_port: \1\n    tls: false/' "$dir/descriptor.yaml"
done
sed -i 's/5001/5721/; s/5002/5722/' "$P/descriptor.yaml"
sed -i 's/5001/5721/; s/5002/5732/' "$Q/descriptor.yaml"

run() {  # runs aex, sets RC and OUT (stdout and stderr)
  set +e
  OUT=$("$AEX" "$@" 2>&1)
  RC=$?
  set -e
}
expect_refused() {  # what expected-substring aex-arguments...
  local what=$1 expected=$2
  shift 2
  run "$@"
  [ "$RC" -ne 0 ] || fail "$what: succeeded: $OUT"
  grep -qF -- "$expected" <<<"$OUT" || fail "$what: expected [$expected], got: $OUT"
}

# 8 (set-up): a descriptor open in this shell must not reach the nodes.
exec 7>"$A/inherited-marker"
"$AEX" nodes start "$A/descriptor.yaml" -q
exec 7>&-

# --- 1. Another deployment's node on the port ------------------------------
# TLS (the default): B's deployer cannot verify A's node.
expect_refused "nodes start on a port served by another deployment (TLS)" \
  "127.0.0.1:5701: TLS handshake with 127.0.0.1 failed" \
  nodes start "$B/descriptor.yaml" -q
grep -qF "a node of another deployment?" <<<"$OUT" || fail "no hint in: $OUT"
expect_eq "$RC" "1" "exit code of nodes start on a foreign node"
[ ! -f "$B/.aex/nodes/node1.pid" ] || fail "a pid file was left for the node that did not start"
start=$SECONDS
expect_refused "up against another deployment's node (TLS)" "a node of another deployment?" \
  up "$B/descriptor.yaml" -q --wait 60
[ $((SECONDS - start)) -lt 30 ] || fail "up waited $((SECONDS - start)) s for a foreign node"
expect_refused "status against another deployment's node" "a node of another deployment?" \
  status "$B/descriptor.yaml" --json

# Plain TCP: the deployment id in HELLO_ACK tells them apart.
"$AEX" nodes start "$P/descriptor.yaml" -q
expect_refused "nodes start on a port served by another deployment (plain)" \
  "127.0.0.1:5721 is served by node 'node1' of another deployment" \
  nodes start "$Q/descriptor.yaml" -q
grep -qF "cannot listen on 127.0.0.1:5721" <<<"$OUT" || fail "the node's own reason is missing: $OUT"
expect_refused "up against another deployment's node (plain)" \
  "is served by node 'node1' of another deployment" up "$Q/descriptor.yaml" -q --wait 60
# Another node of the same deployment under this node's address (ports
# swapped in a copy of the descriptor, same folder, same deployment).
sed 's/5721/5799/; s/5722/5721/; s/5799/5722/' "$P/descriptor.yaml" >"$P/swapped.yaml"
expect_refused "a node of this deployment answering for another (plain)" \
  "127.0.0.1:5722 is served by node 'node2' of this deployment" \
  up "$P/swapped.yaml" -q --wait 60
sed 's/5701/5799/; s/5702/5701/; s/5799/5702/' "$A/descriptor.yaml" >"$A/swapped.yaml"
expect_refused "a node of this deployment answering for another (TLS)" \
  "127.0.0.1:5702 is served by node 'node2' of this deployment" \
  status "$A/swapped.yaml"
"$AEX" nodes stop "$P/descriptor.yaml" -q
echo "ok: foreign and swapped nodes refused"

# --- 8. Descriptors -------------------------------------------------------
"$AEX" up "$A/descriptor.yaml" -q
node_pid=$(cat "$A/.aex/nodes/node1.pid")
for fd in /proc/"$node_pid"/fd/*; do
  [ "$(readlink "$fd")" != "$A/inherited-marker" ] || fail "aex-node inherited fd $(basename "$fd")"
done
module_pids=$("$AEX" status "$A/descriptor.yaml" --json | python3 -c '
import json, sys
for n in json.load(sys.stdin)["nodes"]:
    for m in n["status"]["modules"]:
        print(m["pid"])')
[ -n "$module_pids" ] || fail "no module pid in status"
for pid in $module_pids; do
  fds=$(ls /proc/"$pid"/fd | sort -n | tr '\n' ' ')
  # stdio, the channel's doorbell socket (3) and its rings' memfd (6)
  expect_eq "$fds" "0 1 2 3 6 " "descriptors of module process $pid"
done
echo "ok: modules have exactly fds 0-3 and 6, the node none of aex's"

# --- 2. Stale pid files -----------------------------------------------------
tail -f /dev/null &  # an unrelated process, alive until killed
STRAY=$!
real_pid=$(cat "$A/.aex/nodes/node1.pid")
echo "$STRAY" >"$A/.aex/nodes/node1.pid"
run nodes stop "$A/descriptor.yaml"
expect_eq "$RC" "0" "nodes stop with a stale pid file ($OUT)"
kill -0 "$STRAY" 2>/dev/null || fail "nodes stop killed an unrelated process"
grep -qF "stale pid file" <<<"$OUT" || fail "nodes stop did not report the stale pid file: $OUT"
kill -0 "$real_pid" 2>/dev/null || fail "test set-up: node1 should still run"
kill "$real_pid"
wait_until "node1 (pid $real_pid) to exit" bash -c "! kill -0 $real_pid 2>/dev/null"
echo "$STRAY" >"$A/.aex/nodes/node1.pid"
run nodes start "$A/descriptor.yaml"
expect_eq "$RC" "0" "nodes start with a stale pid file ($OUT)"
grep -qF "node1 listening on 127.0.0.1:5701" <<<"$OUT" ||
  fail "nodes start trusted a stale pid file: $OUT"
kill -0 "$STRAY" 2>/dev/null || fail "nodes start killed an unrelated process"
[ "$(cat "$A/.aex/nodes/node1.pid")" != "$STRAY" ] || fail "pid file still names the stray"
run nodes start "$A/descriptor.yaml"
grep -qF "node1 already running" <<<"$OUT" || fail "a running node was not recognised: $OUT"
echo "ok: stale pid files neither fool nodes start nor make nodes stop kill"

# --- 6 and 7. Interrupting a build; read-only commands beside it ------------
"$AEX" down "$A/descriptor.yaml" -q
# A compiler that blocks until killed: it records its pid and waits.
cat >"$A/slow-cc" <<EOF
#!/bin/sh
echo \$\$ >>"$A/cc.pids"
exec tail -f /dev/null
EOF
chmod +x "$A/slow-cc"
set -m  # the background aex gets SIGINT (not ignored, as without job control)
CC="$A/slow-cc" CXX="$A/slow-cc" "$AEX" up "$A/descriptor.yaml" -q &
up_pid=$!
set +m
wait_until "the compiler to start" test -s "$A/cc.pids"
# 7: the lock is held by that `up`; read-only commands still work.
run status "$A/descriptor.yaml"
expect_eq "$RC" "0" "status while up holds the lock ($OUT)"
grep -q "^node1 " <<<"$OUT" || fail "status printed no node table: $OUT"
run graph "$A/descriptor.yaml"
expect_eq "$RC" "0" "graph while up holds the lock ($OUT)"
run up "$A/descriptor.yaml" -q
expect_eq "$RC" "3" "a second up while the first holds the lock ($OUT)"
# 6: SIGINT.
kill -INT "$up_pid"
set +e
wait "$up_pid"
rc=$?
set -e
expect_eq "$rc" "130" "exit code of an interrupted up"
for pid in $(cat "$A/cc.pids"); do
  ! kill -0 "$pid" 2>/dev/null || fail "the compiler (pid $pid) outlived the interrupted up"
done
left=$(find "$A/.aex/build" -maxdepth 1 -name '*.tmp*')
[ -z "$left" ] || fail "temporary build folders left: $left"
if [ -f "$A/.aex/descriptor.state.json" ]; then
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$A/.aex/descriptor.state.json" ||
    fail "state file corrupt after the interrupt"
fi
# A failed build leaves nothing behind either.
printf '#!/bin/sh\nexit 1\n' >"$A/failing-cc"
chmod +x "$A/failing-cc"
set +e
CC="$A/failing-cc" CXX="$A/failing-cc" "$AEX" build "$A/descriptor.yaml" -q >/dev/null 2>&1
rc=$?
set -e
expect_eq "$rc" "1" "exit code of a failed build"
left=$(find "$A/.aex/build" -maxdepth 1 -name '*.tmp*')
[ -z "$left" ] || fail "temporary build folders left by a failed build: $left"
# The next up completes and the application works.
"$AEX" up "$A/descriptor.yaml" -q
expect_ping_pong_flowing "$AEX" "$A/descriptor.yaml"
echo "ok: interrupted and failed builds leave nothing; status works beside up"
echo "PASS: node control"
