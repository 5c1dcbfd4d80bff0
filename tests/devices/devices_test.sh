#!/usr/bin/env bash
# Secure I/O: exclusive device assignment, end to end. `aex nodes start`
# starts the board's sensor simulator and attaches it to the board's node;
# the driver module gets the device at load, and then:
#  - values flow only over authenticated connections (device -> driver ->
#    app, app -> driver -> device, operator -> driver request);
#  - a second claim on the device is refused by the node, a claim on a device
#    the node does not have too;
#  - a module on the same node that does not own the device has no descriptor
#    for it and is refused by the device itself (under a root node it cannot
#    even reach the device's socket: it runs under a uid of its own);
#  - no message of the node's command interface reads the device;
#  - the node keeps no copy: once the driver is unloaded the device is free,
#    and a new driver instance gets it.
# usage: devices_test.sh AEX_BIN AEX_DEVICE_BIN
source "$(dirname "$0")/../deployer/lib.sh"
DEV=$2
PROBE="python3 $(cd "$(dirname "$0")" && pwd)/node_probe.py"
setup_example "$1" "$(dirname "$0")/app"
# The nodes use TLS (the default): the probe presents the deployer's certificate.
export PROBE_TLS_DIR="$DIR/.aex/tls"
SOCK="$DIR/.aex/devices/board/sensor.sock"
status_field() {  # field
  "$DEV" status "$SOCK" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
call_text() {  # module entry [text]
  "$AEX" call "$D" --module "$1" --entry "$2" ${3:+--text "$3"} --out /dev/stdout
}
read_device() {
  "$AEX" request "$D" --connection operator-read --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("text", ""))'
}

"$AEX" nodes start "$D" -q
[ -S "$SOCK" ] || fail "no device socket at $SOCK"
expect_eq "$(status_field driver)" "0" "no driver before deployment"
"$AEX" up "$D" -q
expect_eq "$(status_field driver)" "1" "the driver module holds the device"

# Device -> driver -> app (an event), operator -> driver (a request).
expect_eq "$(read_device)" "0" "initial value through the driver"
"$DEV" set "$SOCK" 42
wait_for_output "42" call_text app last_value
expect_eq "$(read_device)" "42" "value read through an authenticated request"
# App -> driver -> device.
call_text app send_command 7 >/dev/null
"$DEV" wait "$SOCK" 7 --timeout 60 || fail "the command did not reach the device"
echo "flows: device->driver->app, app->driver->device, operator->driver: ok"

# A second claim, and a claim on a device the board does not have.
PORT=${PORTS[0]}  # the board
expect_eq "$($PROBE claim 127.0.0.1 $PORT sensor)" "PERMISSION_DENIED" "second claim on sensor"
expect_eq "$($PROBE claim 127.0.0.1 $PORT camera)" "NOT_FOUND" "claim on an absent device"
expect_eq "$(status_field refused)" "0" "the node never even tried to connect a second driver"

# A module on the same node without the device.
if [ "$(id -u)" = 0 ]; then
  # A root node runs each module under a uid of its own: the device's socket
  # (in this test's private directory) is out of the neighbour's reach.
  expect_eq "$(call_text neighbour probe "$SOCK")" "device_fd=-1 fd4=EBADF socket=connect failed" \
    "what a non-owner module on the board gets"
  expect_eq "$(status_field refused)" "0" "the neighbour never reached the device"
else
  expect_eq "$(call_text neighbour probe "$SOCK")" "device_fd=-1 fd4=EBADF socket=ERR busy" \
    "what a non-owner module on the board gets"
  expect_eq "$(status_field refused)" "1" "the device refused the neighbour"
fi

# The node's command interface: every message type, none reads the device.
SECRET=reading-x9q4
call_text app send_command "$SECRET" >/dev/null
"$DEV" wait "$SOCK" "$SECRET" --timeout 60 || fail "the command did not reach the device"
gets=$(status_field driver_gets)
driver_id=$("$AEX" status "$D" --json | python3 -c '
import json, sys
print([m for m in json.load(sys.stdin)["modules"] if m["name"] == "driver"][0]["id"])')
sweep=$($PROBE sweep 127.0.0.1 $PORT "$driver_id" "$SECRET") || fail "$sweep"
echo "command interface sweep (answers per code): $sweep"
expect_eq "$(status_field driver_gets)" "$gets" "device reads during the sweep"
expect_eq "$("$DEV" get "$SOCK")" "$SECRET" "device value untouched by the sweep"

# A driver cannot be updated in place of its device (docs/update.md).
out=$("$AEX" update "$D" --module driver 2>&1) && fail "update of a driver module accepted"
case "$out" in *"drives device 'sensor'"*) ;; *) fail "unexpected refusal: $out" ;; esac

# The node kept no copy: unloading the driver frees the device.
"$AEX" down "$D" -q
wait_for_output "0" status_field driver
"$AEX" up "$D" -q
expect_eq "$(status_field driver)" "1" "a new driver instance holds the device"
expect_eq "$(read_device)" "$SECRET" "the new driver reads the device"

"$AEX" down "$D" -q
"$AEX" nodes stop "$D" -q
[ ! -e "$SOCK" ] || fail "device socket left after nodes stop"
expect_no_processes_under "$DIR"
echo "PASS: exclusive device assignment"
