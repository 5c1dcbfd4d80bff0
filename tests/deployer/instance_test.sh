#!/usr/bin/env bash
# A module instance that changed behind the deployer's back (issue 11): both
# nodes restart and someone loads the same binaries again, under the module
# ids the state file records. `aex status` must show the modules as needing
# attestation (their instance ids differ from the attested ones), and
# `aex up` must attest them again and key every connection anew, after which
# the application works.
# usage: instance_test.sh AEX_BIN EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
setup_example "$1" "$2/ping-pong"
# Plain TCP (tls: false) so that the "stranger" below can load modules with a
# few lines of Python; it stands for the node itself, which can load anything.
sed -i "s/^    reactive_port: \([0-9]*\)$/    reactive_port: \1\n    tls: false/" "$D"
grep -c "tls: false" "$D" | grep -qx 2 || fail "could not mark the nodes tls: false"
# A descriptor-fixed connection key (original tool): only an input to a
# per-establishment derivation, with a warning.
sed -i 's/^    to_input: recv_ping$/    to_input: recv_ping\n    key: 00112233445566778899aabbccddeeff/' "$D"
grep -q "key: 0011" "$D" || fail "could not add a fixed key"
"$AEX" nodes start "$D" -q
out=$("$AEX" up "$D" 2>&1)
grep -q "fixed .key. is only an input" <<<"$out" || fail "no warning for the fixed key: $out"
expect_ping_pong_flowing "$AEX" "$D"

# Both nodes restart (their modules are gone) and a stranger loads the same
# binaries: on a fresh node ids start at 1 again, the ids in the state file.
"$AEX" nodes stop "$D" -q
"$AEX" nodes start "$D" -q
python3 - "$STATE" "${PORTS[0]}" "${PORTS[1]}" <<'PY'
import json, socket, struct, sys
state = json.load(open(sys.argv[1]))
ports = {"node1": int(sys.argv[2]), "node2": int(sys.argv[3])}
def frame(t, rid, payload):
    return struct.pack(">IBI", 5 + len(payload), t, rid) + payload
def read(s):
    head = b""
    while len(head) < 4:
        head += s.recv(4 - len(head))
    (n,) = struct.unpack(">I", head)
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    return body
for name, m in sorted(state["modules"].items(), key=lambda kv: kv[1]["id"]):
    s = socket.create_connection(("127.0.0.1", ports[m["node"]]), timeout=10)
    s.sendall(frame(0x01, 1, struct.pack(">IHHB", 0x41455831, 1, 1, 0)))
    assert read(s)[0] == 0x02
    binary = open(m["binary"], "rb").read()
    payload = (struct.pack(">H", len(name)) + name.encode() + b"\x00" + struct.pack(">H", 0) +
               struct.pack(">I", len(binary)) + binary)
    s.sendall(frame(0x10, 2, payload))
    body = read(s)
    code = struct.unpack(">H", body[5:7])[0]
    new_id = struct.unpack(">I", body[-4:])[0]
    assert code == 0 and new_id == m["id"], (name, code, new_id, m["id"])
PY

status=$("$AEX" status "$D" --json)
python3 - "$status" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
for m in r["modules"]:
    assert m["state"] == "needs attestation" and not m["attested"], m
    assert m.get("needs_attestation"), m
PY
echo "status shows both restarted modules as needing attestation"

out=$("$AEX" up "$D" 2>&1)
grep -q "instance changed" <<<"$out" || fail "up did not notice the new instances: $out"
expect_ping_pong_flowing "$AEX" "$D"
python3 - "$("$AEX" status "$D" --json)" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
for m in r["modules"]:
    assert m["state"] == "running" and m["attested"], m
PY
echo "PASS: instance"
