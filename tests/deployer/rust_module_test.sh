#!/usr/bin/env bash
# Rust modules in AE's form (docs/modules.md, "Rust modules"), end to end on
# real aex-node processes started by `aex nodes start`:
#  1. The fixture application testdata/rust-app, a Rust module (`rusty`:
#     every annotation, lazy_static state, the log macros, the cargo feature
#     debug_prints from the descriptor) beside a C module (`counter`), is
#     deployed with `aex up` with rusty on each backend given (counter stays
#     native). An entry of counter emits an event to rusty's input, which
#     requests counter's handler and emits an output back to counter's input;
#     counter requests rusty's handler; rusty's entry answers `aex call`.
#  2. A Rust module that depends on a crate Debian does not package: `aex
#     build` fails and names the crate.
# usage: rust_module_test.sh AEX_BIN BACKEND...
source "$(dirname "$0")/lib.sh"
AEX=$1
shift
# The descriptor is written per backend below (write_descriptor, free ports).
DIR=$(copy_example "$(dirname "$0")/testdata/rust-app")
D="$DIR/descriptor.yaml"
trap teardown_example EXIT

# The node of rusty for one backend, with what that backend's node needs.
rust_node() {  # backend port
  echo "  - {type: $1, name: rust-node, host: 127.0.0.1, reactive_port: $2,"
  case "$1" in
    sgx) echo "     root_ca: keys/rust-node.platform/sgx_root_ca.pem, allow_debug: false," ;;
    sancus | trustzone) echo "     vendor_id: 4660," ;;
  esac
  echo "     node_key_file: keys/rust-node.key}"
}

write_descriptor() {  # backend
  local p1 p2 enc=aes
  p1=$(free_port)
  p2=$(free_port)
  while [ "$p2" = "$p1" ]; do p2=$(free_port); done
  # Sancus modules speak SPONGENT, as in examples/heterogeneous.
  [ "$1" = sancus ] && enc=spongent
  cat >"$D" <<YAML
nodes:
  - {type: native, name: c-node, host: 127.0.0.1, reactive_port: $p1,
     node_key_file: keys/c-node.key}
$(rust_node "$1" "$p2")
modules:
  - {type: native, name: counter, node: c-node, sources: [counter/counter.c]}
  - {type: $1, name: rusty, node: rust-node, folder: rusty, features: [debug_prints]}
connections:
  - {name: ticks, from_module: counter, from_output: tick, to_module: rusty,
     to_input: tick, encryption: $enc}
  - {name: reports, from_module: rusty, from_output: report, to_module: counter,
     to_input: on_report, encryption: $enc}
  - {name: doubling, from_module: rusty, from_request: double_it, to_module: counter,
     to_handler: double_it, encryption: $enc}
  - {name: totals, from_module: counter, from_request: ask_total, to_module: rusty,
     to_handler: get_total, encryption: $enc}
YAML
}

call_hex() {  # module entry [aex call args...]
  local module=$1 entry=$2
  shift 2
  "$AEX" call "$D" --module "$module" --entry "$entry" --json "$@" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["hex"])'
}

for backend in "$@"; do
  echo "== rusty on $backend"
  write_descriptor "$backend"
  "$AEX" nodes start "$D" -q
  "$AEX" up "$D" -q
  # 5, then 7 (u16 LE): rusty doubles each through counter and reports the total.
  call_hex counter start --arg 0500 >/dev/null
  wait_for_output "0a000000" call_hex counter last_report
  call_hex counter start --arg 0700 >/dev/null
  wait_for_output "18000000" call_hex counter last_report
  expect_eq "$(call_hex counter query_total)" "18000000" "counter's request to rusty's handler"
  # rusty's entry: ResultCode Ok (00) and "rusty total 24 29".
  expect_eq "$(call_hex rusty status)" \
    "00$(printf 'rusty total 24 29' | od -An -tx1 | tr -d ' \n')" "rusty's entry"
  expect_eq "$(call_hex rusty status --arg 01)" "02" "IllegalPayload for an argument"
  # The log macros reach the module's log; debug! only with debug_prints.
  wait_until "rusty's log lines" bash -c \
    "'$AEX' logs '$D' --module rusty | grep -q 'INFO: tick 7 doubled 14 total 24'"
  "$AEX" logs "$D" --module rusty | grep -q "DEBUG: tick 5 (debug_prints on)" ||
    fail "no debug! line with debug_prints"
  "$AEX" down "$D" -q
  "$AEX" nodes stop "$D" -q
done

# A dependency Debian does not package: a clear error naming the crate.
echo "== missing crate"
write_descriptor native
cat >>"$DIR/rusty/Cargo.toml" <<'TOML'
aex_test_no_such_crate = "1"
TOML
# The line must land in [dependencies]: move it there.
python3 - "$DIR/rusty/Cargo.toml" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().splitlines()
dep = lines.pop()
lines.insert(lines.index("[dependencies]") + 1, dep)
open(p, "w").write("\n".join(lines) + "\n")
PY
if out=$("$AEX" build "$D" 2>&1); then fail "aex build succeeded with a missing crate"; fi
grep -q "crate 'aex_test_no_such_crate' is not available offline" <<<"$out" ||
  fail "no error naming the missing crate: $out"
grep -q "librust-aex-test-no-such-crate-dev" <<<"$out" || fail "no Debian package named: $out"
echo "PASS"
