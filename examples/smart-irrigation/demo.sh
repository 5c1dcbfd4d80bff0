#!/usr/bin/env bash
# The smart-irrigation demo: four nodes on this machine, the application
# deployed with `aex up`, then the soil dries out and the valve opens, it gets
# wet and the valve closes, an aerial survey makes the cloud irrigate earlier,
# and the status page is served over HTTPS from inside AppB.
#   ./demo.sh            run it (Ctrl-C or `./demo.sh stop` to tear down)
# env: AEX (default ../../build/bin/aex)
set -euo pipefail
cd "$(dirname "$0")"
AEX=${AEX:-../../build/bin/aex}
DEV=$(dirname "$AEX")/aex-device
D=descriptor.yaml
SOIL=.aex/devices/field1/soil.sock
VALVE=.aex/devices/field2/valve.sock
if [ "${1:-}" = stop ]; then
  "$AEX" down "$D" -q || true
  "$AEX" nodes stop "$D"
  exit 0
fi
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Nodes: two Sancus field nodes (with the soil sensor and the valve), a TrustZone gateway, an SGX cloud node"
"$AEX" nodes start "$D"
say "Deploy: build, load, attest every module, key every connection"
"$AEX" up "$D"
"$DEV" set "$SOIL" 50
"$AEX" graph "$D" --format svg -o smart-irrigation.svg 2>/dev/null && echo "(graph: smart-irrigation.svg)"

"$DEV" watch "$VALVE" > >(sed -u 's/^/   [valve device] /') &
WATCH=$!
trap 'kill $WATCH 2>/dev/null || true' EXIT
sleep 1

say "The soil dries out: 20%"
"$DEV" set "$SOIL" 20
"$DEV" wait "$VALVE" open --timeout 15
sleep 1
say "Irrigation works: the soil is wet again, 60%"
"$DEV" set "$SOIL" 60
"$DEV" wait "$VALVE" closed --timeout 15
sleep 1

say "Aerial survey (the survey provider feeds AppB over an authenticated connection): field1 is stressed"
"$AEX" output "$D" --connection survey-feed --text "field2=41 field3=22 field4=55 stress1=80"
say "Soil at 35%: the gateway alone would wait; the cloud, with the survey, opens the valve"
"$DEV" set "$SOIL" 35
"$DEV" wait "$VALVE" open --timeout 15
echo "   gateway (AppA) state: $("$AEX" call "$D" --module irrigation_gateway --entry state --out /dev/stdout)"
sleep 1
"$DEV" set "$SOIL" 60
"$DEV" wait "$VALVE" closed --timeout 15
sleep 2

say "Status page, over HTTPS from inside AppB's enclave; its certificate, over an authenticated request"
FP=$("$AEX" request "$D" --connection status-certificate --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["text"])')
echo "   AppB vouches for certificate sha256 $FP"
python3 - "$FP" <<'PY'
import hashlib, json, ssl, sys, urllib.request
pem = ssl.get_server_certificate(("127.0.0.1", 6243))
fp = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()
assert fp == sys.argv[1], "certificate mismatch: " + fp
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
r = json.loads(urllib.request.urlopen("https://127.0.0.1:6243/status.json", context=ctx).read())
print("   https://127.0.0.1:6243/ (pinned):", json.dumps(r, indent=2).replace("\n", "\n   "))
PY
say "Done. Open https://127.0.0.1:6243/ in a browser (self-signed, pinned above); './demo.sh stop' tears down"
