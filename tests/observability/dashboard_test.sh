#!/usr/bin/env bash
# `aex dashboard` on the ping-pong example, on two local nodes, looked at by
# Debian's headless Chromium:
#   1. the page's DOM (chromium --dump-dom) shows every module with its state
#      and attestation label, and a counter that changes between two loads;
#      a screenshot is a non-trivial PNG of the requested size;
#   2. /events is a server-sent event stream whose snapshots keep coming, and
#      the page, loaded once in Chromium (DevTools protocol), applies them:
#      it shows newer snapshots and a growing counter without a reload;
#   3. without the token, or with a wrong one, every path answers 403; a
#      malformed, oversized or non-GET request is refused and the server
#      keeps serving;
#   4. no key (node keys, TLS private keys) and not the state file's
#      deployment tag appears in the page, a snapshot or the event stream;
#   5. other aex runs go on while it runs (it does not hold the state
#      lock), and what they do shows: `aex disable` turns pong's label to
#      disabled;
#   6. a non-loopback --listen is refused without --allow-remote;
#   7. SIGTERM stops it with status 0 and its port is free again.
# No step waits a fixed time: each polls for its condition.
# usage: dashboard_test.sh AEX_BIN EXAMPLES_DIR
source "$(dirname "$0")/../deployer/lib.sh"
source "$(dirname "$0")/http.sh"
command -v chromium >/dev/null || fail "chromium is not installed (scripts/install-deps.sh installs it)"
setup_example "$1" "$2/ping-pong"
DP=$(free_port)
DASH_PID=""
on_exit() {
  [ -n "$DASH_PID" ] && kill "$DASH_PID" 2>/dev/null
  [ "$1" -ne 0 ] && tail -n 30 "$DIR/dashboard.log" >&2
  wait 2>/dev/null || true
}

"$AEX" nodes start "$D" -q
"$AEX" up "$D" -q --wait 60
"$AEX" dashboard "$D" --listen "127.0.0.1:$DP" >"$DIR/dashboard.log" 2>&1 &
DASH_PID=$!
wait_until "the dashboard's URL" grep -q "token=" "$DIR/dashboard.log"
URL=$(grep -o "http://127.0.0.1:$DP/?token=[0-9a-f]*" "$DIR/dashboard.log")
TOKEN=${URL##*token=}
[ "${#TOKEN}" -eq 32 ] || fail "token of 128 bits expected in '$URL'"

chrome() {  # chromium options...  (a fresh profile each time)
  local profile
  profile=$(mktemp -d "$DIR/chromium.XXXXXX")
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "$@" 2>>"$DIR/chromium.log"
}
# From a dumped DOM: "name state attestation events" per module row.
module_rows() {  # dom-file
  python3 - "$1" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
for m in re.finditer(r'<tr id="module-([^"]+)" data-state="([^"]*)" data-attestation="([^"]*)" data-events="(\d+)"', dom):
    print(*m.groups())
PY
}
ping_events() {  # dom-file
  module_rows "$1" | awk '$1 == "ping" { print $4 }'
}

# 1. The DOM in a real browser, twice, and a screenshot.
chrome --dump-dom "$URL" >"$DIR/dom1.html"
expect_eq "$(module_rows "$DIR/dom1.html" | awk '{ print $1, $2, $3 }')" \
  "$(printf 'ping running attested\npong running attested')" "module rows of the page"
for m in ping pong; do
  grep -q "<title>m_$m</title>" "$DIR/dom1.html" || fail "module $m not in the page's graph"
done
first=$(ping_events "$DIR/dom1.html")
end=$((SECONDS + WAIT_DEADLINE_S))
while :; do
  chrome --dump-dom "$URL" >"$DIR/dom2.html"
  second=$(ping_events "$DIR/dom2.html")
  [ -n "$second" ] && [ "$second" -gt "$first" ] && break
  [ "$SECONDS" -lt "$end" ] || fail "ping's counter stayed at $first (last '$second') for ${WAIT_DEADLINE_S} s"
done
chrome --screenshot="$DIR/shot.png" --window-size=1280,900 "$URL" >/dev/null
python3 - "$DIR/shot.png" <<'PY' || fail "screenshot is not a non-trivial 1280x900 PNG"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
width, height = struct.unpack(">II", data[16:24])
assert (width, height) == (1280, 900), (width, height)
# A blank page compresses to a few KiB; the graph and tables do not.
assert len(data) > 30000, len(data)
PY
echo "1: the DOM shows ping and pong running and attested; ping's counter went from $first to $second; screenshot ok"

# The event stream: the first N snapshots' "seq", after checking the type.
events() {  # n
  python3 - "$DP" "$TOKEN" "$1" <<'PY'
import json, sys, urllib.request
port, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = urllib.request.urlopen(f"http://127.0.0.1:{port}/events?token={token}", timeout=60)
assert r.headers["Content-Type"] == "text/event-stream", r.headers["Content-Type"]
seqs = []
for line in r:
    if line.startswith(b"data: "):
        seqs.append(json.loads(line[6:])["seq"])
        if len(seqs) == n:
            break
print(*seqs)
PY
}

# 2. Server-sent events.
read -r -a seqs <<<"$(events 3)"
[ "${#seqs[@]}" -eq 3 ] && [ "${seqs[0]}" -lt "${seqs[1]}" ] && [ "${seqs[1]}" -lt "${seqs[2]}" ] ||
  fail "expected 3 snapshots with growing seq, got '${seqs[*]}'"
read -r initial shown before after navigations <<<"$(python3 "$(dirname "$0")/live_page.py" \
  "$URL" "$(mktemp -d "$DIR/chromium.XXXXXX")" ping)"
expect_eq "$navigations" 1 "page loads while it updated itself"
echo "2: /events streamed snapshots ${seqs[*]}; the page went from snapshot $initial to $shown" \
  "and ping's count from $before to $after without reloading"

# 3. The token, and hostile requests.
for path in "/" "/events" "/snapshot" "/other" "/?token=" "/?token=${TOKEN:0:31}" \
  "/?token=${TOKEN}0" "/?x=$TOKEN" "/snapshot?tokenx=$TOKEN"; do
  expect_eq "$(http GET "$DP" "$path" | head -1)" "HTTP/1.1 403 Forbidden" "GET $path"
done
expect_eq "$(http GET "$DP" "/other?token=$TOKEN" | head -1)" "HTTP/1.1 404 Not Found" "GET /other with the token"
expect_eq "$(http POST "$DP" / "POST /?token=$TOKEN HTTP/1.1"$'\r\n\r\n' | head -1)" \
  "HTTP/1.1 405 Method Not Allowed" "POST"
expect_eq "$(http GET "$DP" / $'GARBAGE\r\n\r\n' | head -1)" "HTTP/1.1 400 Bad Request" "a garbage request"
long="GET /?token=$TOKEN HTTP/1.1"$'\r\n'"X: $(head -c 9000 /dev/zero | tr '\0' a)"$'\r\n\r\n'
expect_eq "$(http GET "$DP" / "$long" | head -1)" "HTTP/1.1 400 Bad Request" "a request head over 8 KiB"
expect_eq "$(http GET "$DP" "/snapshot?a=b&token=$TOKEN" | head -1)" "HTTP/1.1 200 OK" "GET /snapshot afterwards"
echo "3: no or a wrong token: 403 on every path; bad requests refused; still serving"

# 4. No key reaches the browser.
{
  http GET "$DP" "/?token=$TOKEN"
  http GET "$DP" "/snapshot?token=$TOKEN"
  python3 - "$DP" "$TOKEN" <<'PY'
import sys, urllib.request
r = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/events?token={sys.argv[2]}", timeout=60)
n = 0
for line in r:
    sys.stdout.write(line.decode())
    n += line.startswith(b"data: ")
    if n == 3:
        break
PY
  cat "$DIR/dom1.html" "$DIR/dom2.html"
} >"$DIR/served.txt"
python3 - "$DIR" "$DIR/served.txt" <<'PY' || fail "key material reached the page"
import base64, json, pathlib, re, sys
root, served = pathlib.Path(sys.argv[1]), open(sys.argv[2], errors="replace").read()
secrets = {}
def add(name, raw):  # key bytes: as hex (both cases), base64 and raw
    secrets[f"{name} (hex)"] = raw.hex()[:32]
    secrets[f"{name} (HEX)"] = raw.hex().upper()[:32]
    secrets[f"{name} (base64)"] = base64.b64encode(raw).decode()[:20]
    secrets[f"{name} (raw)"] = raw[:16].decode("latin-1")
# Private keys only: certificates are public.
for f in list(root.glob("keys/**/*.key")) + list(root.glob("keys/**/*_key.der")) + \
        list(root.glob(".aex/tls/**/*.key")):
    data = f.read_bytes()
    text = data.decode("latin-1").strip()
    if "PRIVATE KEY" in text:  # PEM: every base64 line of the body
        for i, line in enumerate(text.splitlines()):
            if len(line) >= 16 and "-----" not in line:
                secrets[f"{f.name} (PEM line {i})"] = line
    elif re.fullmatch(r"[0-9a-fA-F]{32,}", text):  # a key file in hex
        add(f.name, bytes.fromhex(text))
    else:
        add(f.name, data)
state = json.load(open(root / ".aex/descriptor.state.json"))
secrets["deployment_tag"] = state["deployment_tag"]
assert len(secrets) >= 20, f"too few secrets found to check: {list(secrets)}"
leaks = [name for name, s in secrets.items() if s in served]
assert not leaks, f"found in what the dashboard served: {leaks}"
assert "PRIVATE KEY" not in served
print(f"checked {len(secrets)} secrets against {len(served)} bytes served")
PY
echo "4: no key material and no deployment tag in the page, snapshots or events"

# 5. Other runs go on, and show.
expect_ping_pong_flowing "$AEX" "$D"
"$AEX" disable "$D" --module pong -q
snapshot_attestation() {  # module
  http GET "$DP" "/snapshot?token=$TOKEN" | tail -n +2 | python3 -c "
import json, sys
print([m['attestation'] for m in json.load(sys.stdin)['modules'] if m['name'] == '$1'][0])"
}
wait_for_output disabled snapshot_attestation pong
chrome --dump-dom "$URL" >"$DIR/dom3.html"
expect_eq "$(module_rows "$DIR/dom3.html" | awk '$1 == "pong" { print $3 }')" "disabled" \
  "pong's label in the page after aex disable"
echo "5: aex call, request and disable ran beside the dashboard; pong shows disabled"

# 6. Loopback only, unless asked.
out=$("$AEX" dashboard "$D" --listen "0.0.0.0:$(free_port)" 2>&1) &&
  fail "aex dashboard served on 0.0.0.0 without --allow-remote"
grep -q "allow-remote" <<<"$out" || fail "unclear refusal: $out"
echo "6: --listen 0.0.0.0 refused: $out"

# 7. Stops cleanly.
kill -TERM "$DASH_PID"
status=0
wait "$DASH_PID" || status=$?
DASH_PID=""
expect_eq "$status" 0 "exit status after SIGTERM"
python3 - "$DP" <<'PY' || fail "port $DP still has a listener after the dashboard stopped"
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # its closed connections may linger
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
PY
echo "7: SIGTERM: exit status 0, port free"
echo "PASS: dashboard"
