#!/usr/bin/env bash
# examples/ae-button-led, the original framework's button-led application with
# its modules in the original forms, end to end on real aex-node processes:
# a Sancus-style button driver, a TrustZone-style gateway, a C database on
# sgx and a pre-installed Sancus LED driver that aex attests and connects but
# never loads. Also checks the descriptor's warnings for the original fields.
# usage: ae_example_test.sh AEX_BIN EXAMPLE_DIR
source "$(dirname "$0")/lib.sh"
setup_example "$1" "$2" descriptor.json

# `aex validate` checks what `up` needs: the pre-installed module's binary.
"$AEX" validate "$D" 2>"$DIR/warnings.txt" >/dev/null && fail "validate without the binary"
grep -q "field 'binary': no file '$DIR/firmware/led_driver.bin'" "$DIR/warnings.txt" ||
  fail "validate did not name the missing binary: $(cat "$DIR/warnings.txt")"

# The board's firmware: the LED driver, built once as any module.
"$AEX" build "$DIR/firmware.json" -q
cp "$DIR"/.aex/build/led_driver-sancus-*/led_driver "$DIR/firmware/led_driver.bin"

# Every field of the original that aex does not use is named, with why.
"$AEX" validate "$D" 2>"$DIR/warnings.txt" >/dev/null
for expected in \
    "field 'manager': ignored: the original's manager service file" \
    "nodes\[0\] ('node_sgx'): field 'aesm_host': ignored: aex's sgx platform attests without AESM" \
    "modules\[0\] ('db'): field 'vendor_key': ignored" \
    "modules\[0\] ('db'): field 'ra_settings': ignored" \
    "modules\[2\] ('led_driver'): field 'id': ignored: aex finds a pre-installed module by its name" \
    "modules\[2\] ('led_driver'): field 'symtab': ignored" \
    "modules\[2\] ('led_driver'): field 'nonce': ignored: deployment state"; do
  grep -q "aex: warning: .*$expected" "$DIR/warnings.txt" ||
    fail "no warning '$expected' in: $(cat "$DIR/warnings.txt")"
done
# 'binary' is used by the pre-installed module: no warning for it.
! grep -q "'binary'" "$DIR/warnings.txt" || fail "'binary' warned about: it is used"
warnings=$("$AEX" validate "$D" --json 2>/dev/null |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["warnings"]))')
expect_eq "$warnings" "$(grep -c 'aex: warning:' "$DIR/warnings.txt")" "--json warnings"


"$AEX" nodes start "$D" -q
"$AEX" up "$D" -q 2>/dev/null
"$AEX" status "$D" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
bad = [m["name"] for m in r["modules"] if m.get("state") != "running" or not m["attested"]]
sys.exit("not running and attested: %s" % bad if bad else 0)' || fail "modules not attested"

led_log() { "$AEX" logs "$D" --module led_driver 2>/dev/null || true; }
led_says() { led_log | grep -c "$1" || true; }

"$AEX" output "$D" --connection init-led -q
wait_for_output 1 led_says "initialised, LED off"
# Three presses through the deployer's connection, one through the entry.
for _ in 1 2 3; do "$AEX" output "$D" --connection trigger-btn --arg 0000 -q; done
"$AEX" call "$D" --module button_driver --entry press -q >/dev/null
"$AEX" call "$D" --module button_driver --entry hello -q >/dev/null
count() {
  "$AEX" request "$D" --connection get-presses --json | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["hex"])'
}
wait_for_output 00000004 count
# Each press toggled the pre-installed LED driver over its connection.
wait_for_output 2 led_says "] LED on$"
wait_for_output 2 led_says "] LED off$"

"$AEX" call "$D" --module gateway --entry report -q >/dev/null
gateway_says() { "$AEX" logs "$D" --module gateway 2>/dev/null | grep -c "$1" || true; }
wait_for_output 1 gateway_says "I/TA: gateway: 4 presses so far"
expect_eq "$(gateway_says 'D/TA: Remote button has been pressed$')" "4" "gateway DMSG lines"
button_says() { "$AEX" logs "$D" --module button_driver 2>/dev/null | grep -c "$1" || true; }
wait_for_output 1 button_says "ready"
expect_eq "$(button_says 'press 4 (entry), sending output$')" "1" "button_driver printf"

# `aex down` leaves the pre-installed module on its node, and a new `up`
# finds, attests and connects it again.
"$AEX" down "$D" -q 2>/dev/null
"$AEX" up "$D" -q 2>/dev/null
"$AEX" output "$D" --connection toggle-led -q
wait_for_output 3 led_says "] LED on$"
"$AEX" down "$D" -q 2>/dev/null
"$AEX" nodes stop "$D" -q
echo "PASS"
