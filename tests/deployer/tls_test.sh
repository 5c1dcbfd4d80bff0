#!/usr/bin/env bash
# An application deployed over mutual TLS to real nodes on loopback: ping-pong
# with `tls: true` on both nodes. `aex nodes start` creates the deployment's
# certificates and starts the nodes with theirs; `aex up` deploys over TLS;
# ping and pong exchange events across the nodes over a TLS peer link;
# `aex status` and `aex down` work. Then plain TCP management is refused.
# usage: tls_test.sh AEX_BIN EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
setup_example "$1" "$2/ping-pong"
# TLS on, explicitly.
sed -i 's/^\(    reactive_port: [0-9]*\)$/\1\n    tls: true/' "$D"
grep -c "tls: true" "$D" | grep -qx 2 || fail "descriptor not rewritten"

"$AEX" nodes start "$D" -q
for f in ca.pem ca.key deployer.pem deployer.key nodes/node1.pem nodes/node1.key; do
  [ -f "$DIR/.aex/tls/$f" ] || fail "missing .aex/tls/$f"
done
expect_eq "$(stat -c %a "$DIR/.aex/tls/ca.key")" "600" "CA key mode"
"$AEX" up "$D" -q

# Events cross the nodes over TLS peer links: ping (node1) -> pong (node2) -> ping.
expect_ping_pong_flowing "$AEX" "$D"
n=$(pongs_received "$AEX" "$D")

report=$("$AEX" status "$D" --json)
python3 - "$report" <<'PY' || fail "status over TLS"
import json, sys
r = json.loads(sys.argv[1])
for n in r["nodes"]:
    assert n["reachable"] and n["tls"] and n["status"]["tls"], n
    assert n["status"]["counters"]["handshakes_rejected"] == 0, n
peers = [p for n in r["nodes"] for p in n["status"]["peers"] if p["connected"]]
assert len(peers) == 2, peers  # one TLS peer link each way
assert all(m["state"] == "running" and m["attested"] for m in r["modules"]), r["modules"]
PY
"$AEX" status "$D" | grep -q "127.0.0.1:${PORTS[0]} *yes" || fail "human status shows TLS"

# A deployer without TLS (same nodes, tls: false) cannot manage them: the
# node drops the plain connection at the handshake and counts it.
sed 's/tls: true/tls: false/' "$D" >"$DIR/plain.yaml"
if "$AEX" reset "$DIR/plain.yaml" --state "$DIR/plain.state.json" -q 2>/dev/null; then
  fail "plain TCP reset accepted by a TLS node"
fi
rejected=$("$AEX" status "$D" --json | python3 -c '
import json, sys
print(sum(n["status"]["counters"]["handshakes_rejected"] for n in json.load(sys.stdin)["nodes"]))')
[ "$rejected" -ge 2 ] || fail "plain connections not counted as rejected ($rejected)"
n2=$(pongs_received "$AEX" "$D")
[ "$n2" -ge "$n" ] || fail "modules lost after the refused reset"

"$AEX" down "$D" -q
expect_eq "$("$AEX" status "$D" --json | python3 -c '
import json, sys
print(sum(len(n["status"]["modules"]) for n in json.load(sys.stdin)["nodes"]))')" "0" \
  "modules left after down"
"$AEX" nodes stop "$D" -q
expect_no_processes_under "$DIR"
echo "PASS: deployment over mutual TLS"
