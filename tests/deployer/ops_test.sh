#!/usr/bin/env bash
# The operator commands (issue 16) on real nodes: nodes status/restart,
# up --plan, status --watch, logs (-f), -v/--debug, down --force and
# completion. Exit codes, stdout/stderr and the documented JSON shapes are
# checked; nothing waits a fixed time (polls with lib.sh's deadline).
# usage: ops_test.sh AEX_BIN EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
setup_example "$1" "$2/ping-pong"
BG=()
on_exit() { for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done; }

# Runs a command; sets OUT, ERR and RC (never fails by itself).
run() {
  set +e
  "$@" >"$DIR/out" 2>"$DIR/err"
  RC=$?
  set -e
  OUT=$(cat "$DIR/out")
  ERR=$(cat "$DIR/err")
}
# Checks JSON on stdin with a Python expression over `j` that must be true.
json_check() {  # what expression
  python3 -c 'import json,sys
j = json.load(sys.stdin)
if not eval("(" + sys.argv[1] + ")"): sys.exit("shape: " + sys.argv[1] + " fails on " + json.dumps(j)[:2000])' \
    "$2" || fail "$1"
}

# --- nodes status before start: every node stopped and unreachable, rc 1.
run "$AEX" nodes status "$D" --json
expect_eq "$RC" "1" "nodes status with the nodes stopped"
json_check "nodes status json (stopped)" '
  j["ok"] is False and [n["name"] for n in j["nodes"]] == ["node1", "node2"] and
  all(n["local"] and not n["running"] and n["pid"] is None and not n["reachable"] and
      isinstance(n["error"], str) and n["log"].endswith(".log") for n in j["nodes"]) and
  [n["address"] for n in j["nodes"]] == ["127.0.0.1:'"${PORTS[0]}"'", "127.0.0.1:'"${PORTS[1]}"'"]' <<<"$OUT"
run "$AEX" nodes status "$D"
expect_eq "$RC" "1" "nodes status (text) with the nodes stopped"
grep -q "node1 .*stopped .*NO" <<<"$OUT" || fail "nodes status text: $OUT"
grep -q "aex nodes start" <<<"$ERR" || fail "nodes status gives no hint: $ERR"

# --- up --plan on a fresh deployment: everything, nothing changed.
run "$AEX" up "$D" --plan --json
expect_eq "$RC" "0" "up --plan (fresh)"
json_check "plan on a fresh deployment lists every step" '
  j["ok"] is True and j["up_to_date"] is False and
  all(set(s) == {"step", "target", "reason"} for s in j["steps"]) and
  {(s["step"], s["target"]) for s in j["steps"]} >= {
    ("wait", "node1"), ("wait", "node2"), ("build", "ping"), ("build", "pong"),
    ("load", "ping"), ("load", "pong"), ("attest", "ping"), ("attest", "pong"),
    ("connect", "ping-to-pong"), ("connect", "pong-to-ping"), ("connect", "ping-asks-count"),
    ("connect", "operator-reverse"), ("register", "ping-every-500ms")}' <<<"$OUT"
[ ! -e "$DIR/.aex/descriptor.state.json" ] || fail "up --plan wrote a state file"
[ -z "$(ls "$DIR/.aex/build" 2>/dev/null)" ] || fail "up --plan built something"

# --- nodes start; status: running, pids, reachable.
"$AEX" nodes start "$D" -q
run "$AEX" nodes status "$D" --json
expect_eq "$RC" "0" "nodes status with the nodes running"
json_check "nodes status json (running)" '
  j["ok"] is True and all(n["running"] and n["reachable"] and isinstance(n["pid"], int) and
                          n["pid"] > 1 and "error" not in n for n in j["nodes"])' <<<"$OUT"
pid1=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"][0]["pid"])' <<<"$OUT")
kill -0 "$pid1" || fail "nodes status reports a pid that is not running"

# --- up -v: context and per-phase timings on stderr; --debug logs frames
# without payloads.
run "$AEX" up "$D" -v
expect_eq "$RC" "0" "up -v"
grep -q "2 modules on 2 nodes" <<<"$ERR" || fail "up -v gives no context: $ERR"
grep -qE "aex: (attest|connect) +[0-9.]+ s" <<<"$ERR" || fail "up -v gives no timings: $ERR"
run "$AEX" status "$D" --debug --json
expect_eq "$RC" "0" "status --debug"
json_check "status --debug keeps stdout JSON" '"nodes" in j and "modules" in j' <<<"$OUT"
grep -qE "debug: 127.0.0.1:${PORTS[0]} -> STATUS id [0-9]+ \(0 bytes\)" <<<"$ERR" ||
  fail "--debug logs no frame sent: $ERR"
grep -qE "debug: 127.0.0.1:${PORTS[0]} <- RESULT id [0-9]+ OK" <<<"$ERR" ||
  fail "--debug logs no frame received: $ERR"
run "$AEX" call "$D" --module ping --entry pongs_received
[ -z "$ERR" ] || fail "without --debug, frames are logged: $ERR"

# --- plan after up: nothing to do.
run "$AEX" up "$D" --plan --json
expect_eq "$RC" "0" "up --plan after up"
json_check "plan after up is empty" 'j["up_to_date"] is True and j["steps"] == []' <<<"$OUT"
run "$AEX" up "$D" --plan
grep -q "nothing to do" <<<"$OUT" || fail "plan text after up: $OUT"

# --- status --watch --json: JSON lines with rates; stops cleanly on SIGINT.
# Job control on for this one: without it a script's background job starts
# with SIGINT ignored, and aex keeps an inherited "ignore" (docs/reliability.md).
set -m
"$AEX" status "$D" --watch --interval 0.5 --json >"$DIR/watch" 2>"$DIR/watch.err" &
WATCH=$!
set +m
BG+=("$WATCH")
# ping ticks every 500 ms: a refresh shows pong receiving events.
pong_rate_seen() {
  python3 - "$DIR/watch" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.endswith("\n")]
sys.exit(0 if len(lines) >= 3 and any(
    l["rates"] and l["rates"]["modules"]["pong"]["in_per_s"] > 0 for l in lines[1:]) else 1)
EOF
}
wait_until "a status refresh with pong's event rate" pong_rate_seen
kill -INT "$WATCH"
set +e
wait "$WATCH"
rc=$?
set -e
expect_eq "$rc" "0" "status --watch after SIGINT"
head -n 1 "$DIR/watch" | json_check "first watch line" '
  j["rates"] is None and isinstance(j["time"], float) and "modules" in j["status"]'
sed -n 3p "$DIR/watch" | json_check "watch line with rates" '
  j["rates"]["interval_s"] > 0 and
  set(j["rates"]["modules"]) == {"ping", "pong"} and
  set(j["rates"]["modules"]["pong"]) == {"in_per_s", "out_per_s"} and
  set(j["rates"]["nodes"]) == {"node1", "node2"}'
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$DIR/watch" ||
  fail "status --watch left a partial line"

# --- a module's source changes: plan lists its rebuild, and nothing of ping's.
sed -i 's|^SM_INPUT(recv_ping, data, len) {|#include <cstdio>\nSM_INPUT(recv_ping, data, len) {\n  printf("pong: ping %u\\n", pings_seen + 1);\n  fflush(stdout);|' "$DIR/pong.cc"
grep -q 'printf("pong: ping' "$DIR/pong.cc" || fail "test could not edit pong.cc"
run "$AEX" up "$D" --plan --json
expect_eq "$RC" "0" "up --plan after a source change"
json_check "plan after pong.cc changed" '
  {(s["step"], s["target"]) for s in j["steps"]} == {
    ("build", "pong"), ("load", "pong"), ("attest", "pong"), ("connect", "ping-to-pong"),
    ("connect", "pong-to-ping"), ("connect", "ping-asks-count"),
    ("connect", "operator-reverse")}' <<<"$OUT"
"$AEX" up "$D" -q
run "$AEX" up "$D" --plan --json
json_check "plan after the second up is empty" 'j["up_to_date"] is True' <<<"$OUT"

# --- logs: the node's log, a module's output, followed.
run "$AEX" logs "$D" --node node2
expect_eq "$RC" "0" "logs --node"
grep -q "loaded module .* 'pong'" <<<"$OUT" || fail "node2's log lacks the load: $OUT"
"$AEX" logs "$D" --module pong -f --json >"$DIR/follow" 2>"$DIR/follow.err" &
FOLLOW=$!
BG+=("$FOLLOW")
wait_until "a line of pong's output" grep -q '"line":"pong: ping' "$DIR/follow"
n=$(grep -c "pong: ping" "$DIR/follow")
wait_until "a new line while following" bash -c "[ \$(grep -c 'pong: ping' '$DIR/follow') -gt $n ]"
kill -TERM "$FOLLOW"
set +e
wait "$FOLLOW"
rc=$?
set -e
expect_eq "$rc" "0" "logs -f after SIGTERM"
# (AEX_NONCE_AUDIT builds print audit lines too: pick pong's own.)
grep -m 1 '"line":"pong: ping' "$DIR/follow" | json_check "logs json line" \
  'j["source"] == "node2/pong" and j["line"].startswith("pong: ping")'
run "$AEX" logs "$D"
grep -q "^node2/pong | pong: ping" <<<"$OUT" || fail "logs of everything lacks pong's output"
grep -q "^node1 | " <<<"$OUT" || fail "logs of everything lacks node1"
run "$AEX" logs "$D" --module nosuch
expect_eq "$RC" "2" "logs of an unknown module"
grep -q "no module named 'nosuch'" <<<"$ERR" || fail "logs --module nosuch: $ERR"

# --- nodes restart: new processes; up loads the modules again.
run "$AEX" nodes restart "$D"
expect_eq "$RC" "0" "nodes restart"
grep -q "node1 stopped" <<<"$ERR" || fail "nodes restart did not stop node1: $ERR"
grep -q "node1 listening" <<<"$ERR" || fail "nodes restart did not start node1: $ERR"
pid1b=$("$AEX" nodes status "$D" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["nodes"][0]["pid"])')
[ "$pid1b" != "$pid1" ] || fail "nodes restart kept pid $pid1"
run "$AEX" up "$D" --plan --json
json_check "plan after a node restart reloads both" '
  {("load", "ping"), ("load", "pong")} <= {(s["step"], s["target"]) for s in j["steps"]}' <<<"$OUT"
"$AEX" up "$D" -q
expect_ping_pong_flowing "$AEX" "$D"

# --- down with the nodes gone: plain down fails, --force forgets and reports.
"$AEX" nodes stop "$D" -q
run "$AEX" down "$D" -q
expect_eq "$RC" "1" "down with the nodes gone"
[ -f "$DIR/.aex/descriptor.state.json" ] || fail "a failed down removed the state"
run "$AEX" down "$D" --force --json
expect_eq "$RC" "0" "down --force"
json_check "down --force json" '
  j["ok"] is True and
  sorted((l["module"], l["node"]) for l in j["left_behind"] if l["module"]) ==
    [("ping", "node1"), ("pong", "node2")] and
  all(isinstance(l["error"], str) and l["error"] for l in j["left_behind"])' <<<"$OUT"
[ ! -f "$DIR/.aex/descriptor.state.json" ] || fail "down --force kept the state file"

# --- completion: the bash script sources and completes `aex sta<TAB>`.
run "$AEX" completion bash
expect_eq "$RC" "0" "completion bash"
completed=$(bash -c 'source "$1"; COMP_WORDS=(aex sta); COMP_CWORD=1; _aex; echo "${COMPREPLY[*]}"' \
  _ "$DIR/out")
expect_eq "$completed" "status" "bash completion of 'aex sta'"
completed=$(bash -c 'source "$1"; COMP_WORDS=(aex nodes re); COMP_CWORD=2; _aex; echo "${COMPREPLY[*]}"' \
  _ "$DIR/out")
grep -qw restart <<<"$completed" || fail "bash completion of 'aex nodes re': $completed"
completed=$(bash -c 'source "$1"; COMP_WORDS=(aex status --wa); COMP_CWORD=2; _aex; echo "${COMPREPLY[*]}"' \
  _ "$DIR/out")
expect_eq "$completed" "--watch" "bash completion of 'aex status --wa'"
for sh in zsh fish; do
  run "$AEX" completion "$sh"
  expect_eq "$RC" "0" "completion $sh"
  grep -q "status" <<<"$OUT" || fail "completion $sh names no status"
  if command -v "$sh" >/dev/null; then "$sh" -n "$DIR/out" || fail "$sh completion does not parse"; fi
done
run "$AEX" completion tcsh
expect_eq "$RC" "2" "completion of an unknown shell"
echo "PASS: ops"
