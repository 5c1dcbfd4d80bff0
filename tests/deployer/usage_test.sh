#!/usr/bin/env bash
# Usage errors of every binary (issue 16 item 3): a missing or mistyped
# command, option or name gives exit code 2 and a suggestion; `help
# [command]` and `--version` answer on stdout with 0. Needs no node: every
# case is refused before any node is contacted.
# usage: usage_test.sh AEX_BIN EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
AEX=$1
BIN=$(dirname "$AEX")
DIR=$(copy_example "$2/ping-pong")
D="$DIR/descriptor.yaml"
trap 'rm -rf "$DIR"' EXIT

cases=0
expect() {  # rc stream(out|err) substring command...
  local want_rc=$1 stream=$2 substring=$3 rc
  shift 3
  set +e
  "$@" >"$DIR/out" 2>"$DIR/err"
  rc=$?
  set -e
  [ "$rc" = "$want_rc" ] || fail "$*: exit code $rc, expected $want_rc: $(cat "$DIR/out" "$DIR/err")"
  grep -qF -- "$substring" "$DIR/$stream" ||
    fail "$*: expected [$substring] on std$stream, got: $(cat "$DIR/$stream")"
  cases=$((cases + 1))
}

# Commands.
expect 2 err "a command is required" "$AEX"
expect 2 err "a command is required" "$AEX" --json -q
expect 2 err "unknown command 'statuss' (did you mean 'status'?)" "$AEX" statuss "$D"
expect 2 err "unknown command 'dwon' (did you mean 'down'?)" "$AEX" -q dwon "$D"
expect 2 err "unknown command 'frobnicate'; \`aex help\` lists the commands" "$AEX" frobnicate
expect 0 out "Subcommands:" "$AEX" help
expect 0 out "status" "$AEX" help
expect 0 out "--entry" "$AEX" help call
expect 2 err "unknown command 'stat' (did you mean 'status'?)" "$AEX" help stat
expect 0 out "Subcommands:" "$AEX" --help
for bin in aex aex-node aex-platform aex-gen; do
  expect 0 out "$bin " "$BIN/$bin" --version
  grep -qE "^$bin [0-9]+\.[0-9]+\.[0-9]+$" "$DIR/out" || fail "$bin --version: $(cat "$DIR/out")"
done

# Options and arguments (CLI11's own errors, mapped to 2).
expect 2 err "descriptor is required" "$AEX" status
expect 2 err "--module is required" "$AEX" call "$D" --entry tick
expect 2 err "strat" "$AEX" nodes strat "$D"
expect 2 err "--bogus" "$AEX" status "$D" --bogus
expect 2 err "--port is required" "$BIN/aex-node" --platform-socket /nonexistent
expect 2 err "Run with --help" "$BIN/aex-platform" --no-such-option

# Names from the descriptor.
expect 2 err "module 'thermometr' does not exist" "$AEX" call "$D" --module thermometr --entry x
expect 2 err "module 'pnog' does not exist in" "$AEX" call "$D" --module pnog --entry tick
grep -qF "(did you mean 'pong'?)" "$DIR/err" || fail "no suggestion: $(cat "$DIR/err")"
expect 2 err "connection 'operator-revers' does not exist" \
  "$AEX" request "$D" --connection operator-revers --text x
grep -qF "(did you mean 'operator-reverse'?)" "$DIR/err" || fail "no suggestion: $(cat "$DIR/err")"
expect 2 err "connection 'operator-stat' does not exist" \
  "$AEX" request "$D" --connection operator-stat --text x
expect 2 err "connection 'ping-to-pogn' does not exist" \
  "$AEX" connect "$D" --connection ping-to-pogn
expect 2 err "module 'pin' does not exist" "$AEX" build "$D" --module pin
expect 2 err "node 'node3' does not exist" "$AEX" update "$D" --module ping --node node3
expect 2 err "module 'ping' has no entry 'tik' (did you mean 'tick'?)" \
  "$AEX" call "$D" --module ping --entry tik
expect 2 err "did you mean 'pongs_received'" "$AEX" call "$D" --module ping --entry pongs_recieved
# A connection that exists but is not a direct one to a handler.
expect 2 err "'ping-to-pong' is not a direct connection to a handler" \
  "$AEX" request "$D" --connection ping-to-pong --text x
# No usage error ever wrote a state file.
[ ! -e "$DIR/.aex/descriptor.state.json" ] || fail "a usage error wrote the state file"
echo "PASS: usage ($cases cases)"
