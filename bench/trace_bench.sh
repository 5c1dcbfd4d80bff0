#!/usr/bin/env bash
# bench/trace_bench.sh BIN_DIR EXAMPLES_DIR COUNT: `aex trace` on the
# ping-pong example (two local native nodes started by `aex nodes start`,
# loopback, random ports): prints the trace's table and one RESULT line per
# hop (median and p99, us) and for the measured end-to-end time, for
# bench/run's table.
set -euo pipefail
BIN=$1 EXAMPLES=$2 COUNT=$3
AEX="$BIN/aex"
source "$(dirname "${BASH_SOURCE[0]}")/../tests/deployer/lib.sh"  # copy_example
DIR=$(copy_example "$EXAMPLES/ping-pong")
D="$DIR/descriptor.yaml"
# Below the kernel's ephemeral range, away from the example's fixed ports.
BASE=$((20000 + RANDOM % 12000))
sed -i "s/reactive_port: 5001/reactive_port: $BASE/; s/reactive_port: 5002/reactive_port: $((BASE + 1))/" "$D"
trap '"$AEX" down "$D" -q >/dev/null 2>&1; "$AEX" nodes stop "$D" -q >/dev/null 2>&1; rm -rf "$DIR"' EXIT
"$AEX" nodes start "$D" -q
"$AEX" up "$D" -q --wait 60
"$AEX" trace "$D" --connection ping-to-pong --count 20 >/dev/null  # warm-up
"$AEX" trace "$D" --connection ping-to-pong --count "$COUNT" --json >"$DIR/trace.json"
python3 - "$DIR/trace.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
print(f"aex trace ping-to-pong: {t['events']} events ({t['discarded']} discarded)")
for h in t["hops"]:
    print(f"  {h['hop']:<22} median {h['median_us']:8.1f} us  p99 {h['p99_us']:8.1f} us")
print(f"  {'sum of the medians':<22} {t['sum_of_medians_us']:8.1f} us")
e = t["end_to_end"]
print(f"  {'end to end':<22} median {e['median_us']:8.1f} us  p99 {e['p99_us']:8.1f} us")
key = lambda hop: hop.replace(" -> ", "_to_").replace(" ", "_")
for h in t["hops"]:
    print(f"RESULT trace.{key(h['hop'])}.p50_us {h['median_us']}")
    print(f"RESULT trace.{key(h['hop'])}.p99_us {h['p99_us']}")
print(f"RESULT trace.sum.p50_us {t['sum_of_medians_us']}")
print(f"RESULT trace.e2e.p50_us {e['median_us']}")
print(f"RESULT trace.e2e.p99_us {e['p99_us']}")
PY
