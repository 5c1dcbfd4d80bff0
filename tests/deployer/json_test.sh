#!/usr/bin/env bash
# Issue 16 items 4, 5 and 10 (CLI): every command's --json against the shapes
# that docs/operations.md documents (json_shape.py reads them from there);
# descriptor errors with entry, field and every missing file; waits that say
# what they wait for; a failed node start that says why; reset, disable and
# output that say what they did; the recovery after disable that the error
# names; graph -o x.svg|png; status columns sized from the data; plurals.
# usage: json_test.sh AEX_BIN EXAMPLES_DIR DOCS_DIR
source "$(dirname "$0")/lib.sh"
AEX=$1
DOC="$3/operations.md"
SHAPE="$(dirname "$0")/json_shape.py"
setup_example "$AEX" "$2/ping-pong"
BG=()
on_exit() {
  for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
}
NODE1_PORT=${PORTS[0]}
# A 13-character node name: the status table must still line up.
sed -i 's/node2/node-thirteen/' "$D"
# A direct connection to an input, for `aex output`.
python3 - "$D" <<'EOF'
import sys
p = sys.argv[1]
t = open(p).read()
conn = """  - name: operator-ping
    direct: true
    to_module: pong
    to_input: recv_ping
    encryption: aes
"""
t = t.replace("\nperiodic-events:", conn + "\nperiodic-events:", 1)
open(p, "w").write(t)
EOF

run() {  # sets OUT, ERR, RC
  set +e
  "$@" >"$DIR/out" 2>"$DIR/err"
  RC=$?
  set -e
  OUT=$(cat "$DIR/out")
  ERR=$(cat "$DIR/err")
}
shape() {  # name [--lines]: $OUT has that documented shape
  python3 "$SHAPE" "$DOC" "$@" <<<"$OUT" || fail "shape $1 of: $OUT"
}
json_check() {  # what expression (over j = the JSON of $OUT)
  python3 -c 'import json,sys
j = json.loads(sys.stdin.read())
if not eval("(" + sys.argv[1] + ")"): sys.exit("check: " + sys.argv[1] + " fails on " + json.dumps(j)[:3000])' \
    "$2" <<<"$OUT" || fail "$1"
}
expect_rc() { expect_eq "$RC" "$1" "$2 (stderr: $ERR)"; }
# (AEX-NONCE-AUDIT lines are the -DAEX_NONCE_AUDIT=ON build's, docs/threat-model.md: not output.)
no_stderr() {
  local rest
  rest=$(grep -v '^AEX-NONCE-AUDIT ' <<<"$ERR" || true)
  [ -z "$rest" ] || fail "$1 wrote to stderr with --json: $rest"
}
# Runs a never-ending command in the background until its output has a line,
# then stops it with SIGTERM; OUT is its output.
run_until_line() {  # command...
  "$@" >"$DIR/bg" 2>"$DIR/bgerr" &
  local pid=$! end=$((SECONDS + WAIT_DEADLINE_S))
  until [ -s "$DIR/bg" ] && grep -q '}$' "$DIR/bg"; do
    [ "$SECONDS" -lt "$end" ] || { kill "$pid"; fail "no output from $*: $(cat "$DIR/bgerr")"; }
    sleep 0.1
  done
  kill -TERM "$pid"  # (an async job of a script ignores SIGINT)
  wait "$pid" || true
  OUT=$(cat "$DIR/bg")
}

# --- usage errors: JSON too, code USAGE, exit 2.
run "$AEX" statuss "$D" --json
expect_rc 2 "unknown command"
shape Failure
json_check "usage error" 'j["code"] == "USAGE" and "did you mean" in j["errors"][0]["message"]'
run "$AEX" call "$D" --json
expect_rc 2 "call without --module"
shape Failure
run "$AEX" graph "$D" --format dot -o "$DIR/g.svg"
expect_rc 2 "graph: --format dot into an .svg"
grep -q "does not match" <<<"$ERR" || fail "graph format mismatch: $ERR"
[ ! -e "$DIR/g.svg" ] || fail "graph wrote $DIR/g.svg despite the mismatch"

# --- validate; plurals of the summary ("1 node", not "1 nodes").
run "$AEX" validate "$D" --json
expect_rc 0 "validate"
shape validate
no_stderr validate
run "$AEX" validate "$D"
grep -q "valid (2 modules on 2 nodes, 5 connections)" <<<"$OUT" || fail "validate text: $OUT"
mkdir -p "$DIR/one"
cp "$DIR/ping.c" "$DIR/one/"
cat >"$DIR/one/one.yaml" <<'EOF'
nodes:
  - {type: native, name: node1, host: 127.0.0.1, reactive_port: 5763, node_key_file: k/node1.key}
modules:
  - {type: native, name: ping, node: node1, sources: [ping.c]}
EOF
run "$AEX" validate "$DIR/one/one.yaml"
grep -q "valid (1 module on 1 node, 0 connections)" <<<"$OUT" || fail "singular: $OUT"

# --- descriptor errors: index, name, field and reason; every missing file.
cat >"$DIR/bad.yaml" <<'EOF'
nodes:
  - {type: native, name: node1, host: 127.0.0.1, reactive_port: 5764, node_key_file: k/n.key}
modules:
  - {type: native, name: ping, node: node1, sources: [ping.c]}
  - {type: native, name: gone1, node: node1, sources: [missing-a.c, missing-b.c]}
  - {type: native, name: gone2, node: node1, folder: no-such-folder}
  - {type: native, name: gone3, node: node1}
EOF
run "$AEX" validate "$DIR/bad.yaml" --json
expect_rc 2 "validate with missing sources"
shape Failure
json_check "every missing file and folder, with entry, name and field" '
  j["code"] == "INVALID_ARGUMENT" and
  [(e["entry"], e["name"], e["field"]) for e in j["errors"]] == [
    ("modules[1]", "gone1", "sources"), ("modules[1]", "gone1", "sources"),
    ("modules[2]", "gone2", "folder"), ("modules[3]", "gone3", "folder")] and
  all(e["file"].endswith("bad.yaml") for e in j["errors"]) and
  "missing-a.c does not exist" in j["errors"][0]["message"] and
  "missing-b.c does not exist" in j["errors"][1]["message"] and
  "no-such-folder does not exist" in j["errors"][2]["message"] and
  "default folder" in j["errors"][3]["message"]'
run "$AEX" validate "$DIR/bad.yaml"
expect_rc 2 "validate (text) with missing sources"
for want in "modules\[1\] ('gone1'): field 'sources': .*missing-a.c does not exist" \
            "modules\[1\] ('gone1'): field 'sources': .*missing-b.c does not exist" \
            "modules\[2\] ('gone2'): field 'folder'" "modules\[3\] ('gone3'): field 'folder'"; do
  grep -q "$want" <<<"$ERR" || fail "validate text lacks '$want': $ERR"
done
cat >"$DIR/bad2.yaml" <<'EOF'
nodes:
  - {type: native, name: node1, host: 127.0.0.1, reactive_port: 5764, node_key_file: k/n.key}
modules:
  - {type: native, name: ping, node: node9, sources: [ping.c]}
EOF
run "$AEX" validate "$DIR/bad2.yaml" --json
expect_rc 2 "validate with an unknown node"
shape Failure
json_check "a rule error names its entry and field" '
  j["errors"][0]["entry"] == "modules[0]" and j["errors"][0]["name"] == "ping" and
  j["errors"][0]["field"] == "node"'

# --- up with the nodes down: says what it waits for, then how to start them.
run "$AEX" up "$D" --wait 1
expect_rc 1 "up with the nodes down"
grep -q "waiting for node 'node1' at 127.0.0.1:$NODE1_PORT" <<<"$ERR" || fail "no wait line: $ERR"
grep -q "aex nodes start $D" <<<"$ERR" || fail "no nodes start hint: $ERR"
run "$AEX" up "$D" --wait 1 --json
expect_rc 1 "up --json with the nodes down"
shape Failure
no_stderr "up --json (nodes down)"
json_check "runtime errors carry no file, entry or field" '
  j["code"] == "UNAVAILABLE" and
  all(e["file"] is None and e["entry"] is None and e["field"] is None for e in j["errors"]) and
  any("aex nodes start" in e["message"] for e in j["errors"])'
run "$AEX" nodes status "$D" --json
expect_rc 1 "nodes status (stopped)"
shape nodes_status
run "$AEX" up "$D" --plan --json
expect_rc 0 "up --plan"
shape plan

# --- a node that cannot start says why (its log's last line), not only "see LOG".
python3 -c 'import socket, signal, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[2]))); s.listen(1); open(sys.argv[1], "w").close()
signal.pause()' "$DIR/squatting" "$NODE1_PORT" &
SQUAT=$!
BG+=("$SQUAT")
wait_until "the port squatter" test -e "$DIR/squatting"
run "$AEX" nodes start "$D"
expect_rc 1 "nodes start on a taken port"
grep -q "node 'node1' did not start: .*its log says: .*node1.log" <<<"$ERR" ||
  fail "failed start without its reason: $ERR"
run "$AEX" nodes start "$D" --json
expect_rc 1 "nodes start --json on a taken port"
shape nodes_action
no_stderr "nodes start --json (failing)"
json_check "failed start" 'j["ok"] is False and "its log says" in j["errors"][0]["message"]'
kill "$SQUAT"
wait "$SQUAT" 2>/dev/null || true
"$AEX" nodes stop "$D" -q

# --- nodes start: JSON only, nothing on stderr.
run "$AEX" nodes start "$D" --json
expect_rc 0 "nodes start"
shape nodes_action
no_stderr "nodes start --json"
json_check "nodes started" 'j["ok"] and j["action"] == "start" and
  all(n["running"] and n["reachable"] for n in j["nodes"]) and len(j["actions"]) >= 2'
run "$AEX" tls init "$D" --json
expect_rc 0 "tls init"
shape tls

# --- build and up: what was built and what is deployed.
run "$AEX" build "$D" --json
expect_rc 0 "build"
shape build
no_stderr build
json_check "built" 'sorted(b["name"] for b in j["built"]) == ["ping", "pong"] and
  all(len(b["measurement"]) == 64 for b in j["built"])'
run "$AEX" up "$D" --json
expect_rc 0 "up"
shape step
no_stderr up
json_check "up" 'all(m["loaded"] and m["attested"] and isinstance(m["id"], int)
  for m in j["modules"]) and all(c["established"] for c in j["connections"]) and
  all(e["registered"] for e in j["periodic_events"]) and "total" in j["timings"]'
for step in deploy attest connect register; do
  run "$AEX" "$step" "$D" --json
  expect_rc 0 "$step"
  shape step
done
run "$AEX" status "$D" --json
expect_rc 0 status
shape status

# --- status table: every column starts where its header does (13-character names).
run "$AEX" status "$D"
expect_rc 0 "status (text)"
python3 - "$DIR/out" <<'EOF' || fail "status columns misaligned: $OUT"
import re, sys
blocks = open(sys.argv[1]).read().strip().split("\n\n")
for b in blocks:
    lines = b.splitlines()
    starts = [m.start() for m in re.finditer(r"(?<=  )\S", lines[0])]
    for row in lines[1:]:
        for s in starts:
            if row[s - 2:s] != "  " or row[s] == " ":
                sys.exit(f"column at {s} of {lines[0]!r} does not start at {s} in {row!r}")
EOF
grep -q "^node-thirteen  native" <<<"$OUT" || fail "status row of node-thirteen: $OUT"

# --- call, request, output.
run "$AEX" call "$D" --module ping --entry pongs_received --json
expect_rc 0 call
shape response
run "$AEX" call "$D" --module ping --entry pongs_received --out "$DIR/resp" --json
expect_rc 0 "call --out"
shape response_file
[ -f "$DIR/resp" ] || fail "call --out wrote nothing"
run "$AEX" request "$D" --connection operator-reverse --text abc --json
expect_rc 0 request
shape response
json_check "request" 'j["text"] == "cba"'
run "$AEX" output "$D" --connection operator-ping --text x --json
expect_rc 0 output
shape output
no_stderr output
run "$AEX" output "$D" --connection operator-ping --text xy
expect_rc 0 "output (text)"
grep -q "sent 2 bytes on connection 'operator-ping' to pong.recv_ping" <<<"$ERR" ||
  fail "output says nothing: $ERR"
run "$AEX" call "$D" --module ping --entry no_such_entry --json
expect_rc 2 "call of an unknown entry"
shape Failure

# --- graph: DOT, SVG and PNG drawn by Graphviz, never DOT in an .svg.
run "$AEX" graph "$D" --json
expect_rc 0 graph
shape graph
json_check "graph" 'j["format"] == "dot" and j["graph"].startswith("digraph")'
run "$AEX" graph "$D" -o "$DIR/g.svg"
expect_rc 0 "graph -o g.svg"
grep -q "<svg" "$DIR/g.svg" || fail "g.svg is not SVG: $(head -c 200 "$DIR/g.svg")"
run "$AEX" graph "$D" -o "$DIR/g.png" --json
expect_rc 0 "graph -o g.png"
shape graph
[ "$(head -c 4 "$DIR/g.png" | tail -c 3)" = "PNG" ] || fail "g.png is not PNG"
run "$AEX" graph "$D" --format svg --json
expect_rc 0 "graph --format svg"
json_check "svg on stdout" '"<svg" in j["graph"] and j["output"] is None'

# --- logs, watch, dashboard (JSON lines for the ones that never end).
run "$AEX" logs "$D" --json
expect_rc 0 logs
shape logs
run_until_line "$AEX" logs "$D" -f --json
shape LogLine --lines
run_until_line "$AEX" status "$D" --watch --interval 0.2 --json
shape watch_line --lines
run_until_line "$AEX" dashboard "$D" --listen 127.0.0.1:0 --json
shape dashboard_line --lines
run "$AEX" completion bash --json
expect_rc 0 completion
shape completion

# --- update.
run "$AEX" update "$D" --module pong --json
expect_rc 0 update
shape update

# --- disable: says what it did; up then fails naming the recovery, which works.
run "$AEX" disable "$D" --module pong
expect_rc 0 disable
grep -q "module 'pong' (id [0-9]* on node-thirteen) is disabled" <<<"$ERR" ||
  fail "disable says nothing: $ERR"
run "$AEX" up "$D" --json
expect_rc 1 "up after disable"
shape Failure
run "$AEX" up "$D"
expect_rc 1 "up after disable (text)"
grep -q "To recover, run \`aex down $D\` .*then \`aex up $D\`" <<<"$ERR" ||
  fail "up after disable gives no recovery: $ERR"
run "$AEX" down "$D"
expect_rc 0 "down (the recovery)"
grep -q "unloaded" <<<"$ERR" || fail "down says nothing: $ERR"
run "$AEX" up "$D" -q
expect_rc 0 "up (the recovery)"
expect_ping_pong_flowing "$AEX" "$D"
run "$AEX" disable "$D" --module ping --json
expect_rc 0 "disable --json"
shape disable

# --- reset and down say what they did.
run "$AEX" reset "$D"
expect_rc 0 reset
grep -q "aex reset: 2 nodes reset" <<<"$ERR" || fail "reset says nothing: $ERR"
run "$AEX" up "$D" -q
expect_rc 0 "up after reset"
run "$AEX" reset "$D" --json
expect_rc 0 "reset --json"
shape reset
run "$AEX" up "$D" -q
run "$AEX" down "$D" --json
expect_rc 0 "down --json"
shape down
run "$AEX" down "$D" --force --json
expect_rc 0 "down --force --json"
shape down

# --- nodes stop, verify-quote.
run "$AEX" nodes stop "$D" --json
expect_rc 0 "nodes stop"
shape nodes_action
no_stderr "nodes stop --json"
run "$AEX" verify-quote "$DIR/no-such-quote" --json
expect_rc 2 "verify-quote of a missing file"
shape verify_quote_failure
echo "PASS"
