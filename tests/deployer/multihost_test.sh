#!/usr/bin/env bash
# Multi-host deployment: three nodes, each aex-node in its own network
# namespace with its own address on a private bridge that this test creates
# and removes. The deployer runs outside the namespaces. Requires root.
# Off loopback TLS is on by default: `aex tls init` makes the certificates,
# each node is started with its own, and a node started without TLS on its
# network address refuses to run.
# usage: multihost_test.sh AEX_BIN AEX_NODE_BIN EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
AEX=$1
NODE=$2
SRC=$3/button-led
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
  echo "SKIP: needs root and iproute2"
  exit 77
fi
TAG=aex$$
NET=10.231.$((RANDOM % 200 + 20))
DIR=$(copy_example "$SRC")
D="$DIR/descriptor.yaml"
BR=br$TAG
PIDS=()

cleanup() {
  "$AEX" down "$D" -q >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  for i in 1 2 3; do
    ip netns del "$TAG-$i" 2>/dev/null || true
    ip link del "v$TAG$i" 2>/dev/null || true
  done
  ip link del "$BR" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT

ip link add "$BR" type bridge
ip addr add "$NET.1/24" dev "$BR"
ip link set "$BR" up
for i in 1 2 3; do
  ns="$TAG-$i"
  ip netns add "$ns"
  ip link add "v$TAG$i" type veth peer name eth0 netns "$ns"
  ip link set "v$TAG$i" master "$BR" up
  ip -n "$ns" addr add "$NET.$((10 + i))/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done

# The button-led application, with each node on its own host.
cat >"$D" <<YAML
nodes:
  - {type: native, name: board, host: $NET.11, reactive_port: 7000,
     node_key_file: keys/n1.key, devices: [button, led]}
  - {type: native, name: gateway, host: $NET.12, reactive_port: 7000, node_key_file: keys/n2.key}
  - {type: native, name: server, host: $NET.13, reactive_port: 7000, node_key_file: keys/n3.key}
modules:
  - {type: native, name: button_driver, node: board, sources: [button_driver.c], device: button}
  - {type: native, name: led_driver, node: board, sources: [led_driver.c], device: led}
  - {type: native, name: gateway, node: gateway, sources: [gateway.c]}
  - {type: native, name: db, node: server, sources: [db.c]}
connections:
  - {name: press, from_module: button_driver, from_output: button_pressed,
     to_module: gateway, to_input: button_pressed, encryption: aes}
  - {name: toggle, from_module: gateway, from_output: toggle_led,
     to_module: led_driver, to_input: toggle_led, encryption: aes}
  - {name: count, from_module: gateway, from_output: increment_presses,
     to_module: db, to_input: increment_presses, encryption: aes}
  - {name: read-count, from_module: gateway, from_request: read_presses,
     to_module: db, to_handler: get_presses, encryption: aes}
  - {name: operator-count, direct: true, to_module: db, to_handler: get_presses,
     encryption: aes}
YAML

"$AEX" tls init "$D" -q
mkdir -p "$DIR/keys"
name=(board gateway server)
for i in 1 2 3; do
  ns="$TAG-$i"
  tls_dir="$DIR/.aex/tls"
  node_tls=(--tls-cert "$tls_dir/nodes/${name[$((i - 1))]}.pem"
            --tls-key "$tls_dir/nodes/${name[$((i - 1))]}.key" --tls-ca "$tls_dir/ca.pem")
  if [ "$i" = 1 ]; then
    # Plain TCP on a network address is refused, with a clear message.
    rc=0
    out=$(ip netns exec "$ns" "$NODE" --host "$NET.11" --port 7000 \
      --platform-socket "$DIR/n1.sock" --work-dir "$DIR/work1" 2>&1) || rc=$?
    expect_eq "$rc" "2" "exit code of aex-node without TLS off loopback"
    grep -q "without TLS" <<<"$out" || fail "no clear refusal: $out"
  fi
  # The platform service is a local Unix socket: no network namespace needed.
  start_platform "$DIR/keys/n$i.key" "$DIR/n$i.sock"
  PIDS+=("$PLATFORM_PID")
  ip netns exec "$ns" "$NODE" --host "$NET.$((10 + i))" --port 7000 \
    --platform-socket "$DIR/n$i.sock" --name "n$i" --work-dir "$DIR/work$i" \
    "${node_tls[@]}" --log-level warn >"$DIR/n$i.log" 2>&1 &
  PIDS+=($!)
done

"$AEX" up "$D" -q --wait 10
for _ in 1 2 3 4 5; do "$AEX" call "$D" --module button_driver --entry press -q; done
wait_for_output "5" "$AEX" call "$D" --module gateway --entry report --out /dev/stdout
expect_eq "$("$AEX" request "$D" --connection operator-count --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["hex"])')" "00000005" "count"
# Events crossed hosts: the board's node routed them to the gateway's address.
peer=$("$AEX" status "$D" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
board = [n for n in r["nodes"] if n["name"] == "board"][0]
print(",".join(p["peer"] for p in board["status"]["peers"] if p["connected"]))')
expect_eq "$peer" "$NET.12:7000" "board's persistent peer connection"
expect_eq "$("$AEX" status "$D" --json | python3 -c '
import json, sys
print(all(n["tls"] and n["status"]["tls"] for n in json.load(sys.stdin)["nodes"]))')" "True" \
  "every node managed over TLS"
"$AEX" down "$D" -q
echo "PASS: multi-host (3 namespaces, mutual TLS)"
