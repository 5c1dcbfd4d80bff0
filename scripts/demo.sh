#!/usr/bin/env bash
# The demo: builds everything (scripts/build.sh: the tools, the module SDK,
# the tests and benchmarks, as the README says), starts two nodes on
# localhost, deploys the ping-pong application (examples/ping-pong) with one
# `aex up`, and shows authenticated, encrypted events flowing between the two
# nodes; then takes everything down again.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== building everything into build/ (only what changed, after the first time)"
bash scripts/build.sh >/dev/null
AEX=build/bin/aex
EX=examples/ping-pong/descriptor.yaml
LOGS=examples/ping-pong/.aex/logs

cleanup() {
  $AEX down "$EX" -q >/dev/null 2>&1 || true
  $AEX nodes stop "$EX" -q >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "== starting two aex-node processes on 127.0.0.1:5001 and :5002"
$AEX nodes start "$EX"
echo
echo "== aex up: build, deploy, attest, connect, register"
$AEX up "$EX"
echo
echo "== events flowing (module logs from both nodes, 4 seconds)"
tail -q -n0 -F "$LOGS/node1.log" "$LOGS/node2.log" 2>/dev/null | grep --line-buffered '\[ping\|\[pong' &
TAIL=$!
sleep 4
kill "$TAIL" 2>/dev/null || true
wait "$TAIL" 2>/dev/null || true
echo
echo "== aex status"
$AEX status "$EX"
echo
echo "== a request from the operator to pong over an encrypted direct connection"
$AEX request "$EX" --connection operator-reverse --text "hello, enclave"
echo
echo "== aex down"
cleanup
trap - EXIT
echo "demo finished"
