#!/usr/bin/env bash
# bench/ae_compare.sh: aex side by side with the original Authentic Execution
# framework (AE): AE's native event manager and native modules, built here
# offline and run on loopback next to aex's latency benchmark and a bare TCP
# ping-pong, all in one run on the same machine (docs/performance.md, "Side
# by side with the original framework").
#
#   AE_SRC=DIR bench/ae_compare.sh [--iterations N] [--rounds R] [--size S]
#                                  [--blast N] [--aex-build DIR] [--no-aex-build]
#
# AE_SRC holds checkouts of AE's repositories (GitHub organisation
# AuthenticExecution), each in a folder of its name: event-manager-sgx,
# rust-sgx-libs, rust-sgx-gen, spongent-cpp-rs. This repository holds none of
# their code and the script fetches nothing: it copies them into a scratch
# folder (AE_BUILD, default /tmp/ae-build), adapts what Debian 12 cannot
# satisfy offline (printed as it goes; docs/performance.md lists it), builds
# with Debian's cargo/rustc and crates (/usr/share/cargo/registry), and runs.
#
# Needs (Debian packages): cargo rustc clang libssl-dev python3-toml
# python3-colorlog python3-cryptography librust-{base64,threadpool,log,
# simple-logger,ctrlc,tempfile,lazy-static,openssl,generic-array,bindgen,cc}-dev.
#
# --iterations N  measured round trips per round (default 2000, at most 16380)
# --rounds R      rounds (default 5), split around aex's run; pooled
# --size S        AE's event payload in bytes (default 32: aex's benchmark
#                 always sends 32)
# --blast N       events of AE's throughput burst (default 5000; aex's: 20000)
# --aex-build DIR aex build tree with aex_latency_bench (default
#                 $AEX_BENCH_BUILD_DIR or <repo>/build-bench, as bench/run)
# --no-aex-build  do not configure/build that tree if the binary is missing
#
# Not part of the test suite: it needs AE's sources, which CI does not have.

set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$SRC/bench/ae_compare"
AE_BUILD="${AE_BUILD:-/tmp/ae-build}"
AEX_BUILD="${AEX_BENCH_BUILD_DIR:-$SRC/build-bench}"
ITERATIONS=2000
ROUNDS=5
SIZE=32
AEX_DO_BUILD=1
BLAST=5000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --iterations) ITERATIONS="$2"; shift ;;
    --rounds) ROUNDS="$2"; shift ;;
    --size) SIZE="$2"; shift ;;
    --blast) BLAST="$2"; shift ;;
    --aex-build) AEX_BUILD="$2"; shift ;;
    --no-aex-build) AEX_DO_BUILD=0 ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "ae_compare: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
die() { echo "ae_compare: $*" >&2; exit 1; }

: "${AE_SRC:?set AE_SRC to the folder holding the AE checkouts, see --help}"
AE_REPOS=(event-manager-sgx rust-sgx-libs rust-sgx-gen spongent-cpp-rs)
for r in "${AE_REPOS[@]}"; do
  [[ -d "$AE_SRC/$r" ]] || die "$AE_SRC/$r is missing (see --help)"
done
PY=/usr/bin/python3  # Debian's: the generator's and driver's modules are Debian packages
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ next to the sources
for tool in /usr/bin/cargo /usr/bin/rustc "$PY"; do
  [[ -x "$tool" ]] || die "$tool is missing (apt-get install cargo rustc python3)"
done
"$PY" -c 'import toml, colorlog, cryptography' 2>/dev/null ||
  die "needs python3-toml python3-colorlog python3-cryptography (apt-get install)"

# ------------------------------------------------------------ scratch copy
say "copying AE's sources into $AE_BUILD/src"
rm -rf "$AE_BUILD/src" "$AE_BUILD/gen"
mkdir -p "$AE_BUILD/src" "$AE_BUILD/gen"
for r in "${AE_REPOS[@]}"; do
  cp -a "$AE_SRC/$r" "$AE_BUILD/src/$r"
  rm -rf "$AE_BUILD/src/$r/.git" "$AE_BUILD/src/$r/target" "$AE_BUILD/src/$r/Cargo.lock"
  printf '  %-18s %s\n' "$r" "$(git -C "$AE_SRC/$r" log -1 --format='%H (%cs)' 2>/dev/null ||
                                 echo 'not a git checkout')" >&2
done
for m in aes_gcm_openssl ping pong; do cp -a "$HERE/$m" "$AE_BUILD/src/$m"; done

# edit FILE REGEX REPLACEMENT WHY: one multiline regex substitution that must
# match (an upstream change then stops the script instead of going unnoticed).
edit() {
  "$PY" - "$@" <<'EOF'
import re, sys
path, pattern, repl, why = sys.argv[1:5]
text = open(path).read()
new, n = re.subn(pattern, repl, text, flags=re.M)
if n == 0:
    sys.exit(f"ae_compare: {path}: no match for {pattern!r}")
open(path, "w").write(new)
print(f"  edit {path.split('/src/', 1)[-1]}: {why}", file=sys.stderr)
EOF
}

S="$AE_BUILD/src"
say "adapting the scratch copy (no network, Debian's crates)"
edit "$S/event-manager-sgx/Cargo.toml" '^reactive_net\s*=.*$' \
  'reactive_net = { path = "../rust-sgx-libs/reactive_net" }' "git dependency -> local copy"
edit "$S/event-manager-sgx/src/main.rs" '"0\.0\.0\.0:\{\}"' '"127.0.0.1:{}"' \
  "listen on loopback only (was all interfaces)"
edit "$S/rust-sgx-libs/reactive_crypto/Cargo.toml" '^aes-gcm\s*=.*$' \
  'aes-gcm = { path = "../../aes_gcm_openssl" }' \
  "aes-gcm 0.9 (not in Debian 12) -> stand-in on OpenSSL AES-128-GCM (bench/ae_compare/aes_gcm_openssl)"
edit "$S/rust-sgx-libs/reactive_crypto/Cargo.toml" '^spongent_cpp_rs\s*=.*$' \
  'spongent_cpp_rs = { path = "../../spongent-cpp-rs" }' "git dependency -> local copy"
edit "$S/spongent-cpp-rs/Cargo.toml" '^bindgen\s*=\s*"0\.58[^"]*"' 'bindgen = "0.60"' \
  "bindgen 0.58 -> Debian's 0.60 (build-time only)"

# --------------------------------------------------------------- toolchain
export CARGO_HOME="$AE_BUILD/cargo-home" CARGO_TARGET_DIR="$AE_BUILD/target"
export PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc CARGO_TERM_COLOR=never
unset RUSTUP_TOOLCHAIN
mkdir -p "$CARGO_HOME"
cat >"$CARGO_HOME/config.toml" <<'EOF'
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "/usr/share/cargo/registry"

[net]
offline = true
EOF
cargo_build() {  # cargo_build CRATE_DIR [cargo args...]
  local dir="$1"; shift
  nice -n 15 /usr/bin/cargo "${1:-build}" --release --offline --quiet \
    --manifest-path "$dir/Cargo.toml" "${@:2}" >&2
}

# ------------------------------------------- ports, modules (rust-sgx-gen)
# rust-sgx-gen bakes the event manager's port into the module (the module
# listens on EM port + module id), so the ports are chosen before generating.
read -r EM1 EM2 < <("$PY" "$HERE/driver.py" ports)
say "event managers on 127.0.0.1:$EM1 and 127.0.0.1:$EM2; generating ping and pong (rust-sgx-gen, runner native)"
gen_module() {  # gen_module NAME EM_PORT
  local name="$1" port="$2" out="$AE_BUILD/gen/$1"
  (cd "$S/rust-sgx-gen" && PYTHONPATH=. "$PY" -c 'from rustsgxgen import generator; generator.__main()' -l warning \
     -i "$S/$name" -o "$out" -m 1 -e "$port" -r native -p "$AE_BUILD/gen/$name.json")
  # (rust-sgx-gen writes the Cargo.toml with python-toml: one table per git dependency)
  local crate
  for crate in reactive_crypto reactive_net; do
    edit "$out/Cargo.toml" "^\\[dependencies\\.$crate\\]\\ngit\\s*=.*$" \
      "[dependencies.$crate]\npath = \"../../src/rust-sgx-libs/$crate\"" "git dependency -> local copy"
  done
  edit "$out/Cargo.toml" '^base64\s*=\s*"0\.12[^"]*"' 'base64 = "0.13"' \
    "base64 0.12 -> Debian's 0.13 (same decode API)"
  edit "$out/Cargo.toml" '^\[dependencies\.sgx_attestation\]\n(\w+\s*=.*\n?)*' '' \
    "drop sgx_attestation: only the SGX runner calls it; it pulls sgxs and mbedtls"
  edit "$out/src/__authentic_execution.rs" '^\s*extern crate sgx_attestation;\n' '' \
    "drop the unused extern crate sgx_attestation (native runner)"
}
gen_module ping "$EM1"
gen_module pong "$EM2"

say "building (Debian cargo $(/usr/bin/cargo --version | cut -d' ' -f2), rustc $(/usr/bin/rustc --version | cut -d' ' -f2)): first run about 3-5 min"
cargo_build "$S/aes_gcm_openssl" test  # NIST vector: the stand-in is AES-GCM
cargo_build "$S/event-manager-sgx"
cargo_build "$AE_BUILD/gen/ping"
cargo_build "$AE_BUILD/gen/pong"
BIN="$CARGO_TARGET_DIR/release"
cc -O2 -Wall -Wextra -Werror -o "$AE_BUILD/conn_chain" "$HERE/conn_chain.c"

if [[ ! -x "$AEX_BUILD/bin/aex_latency_bench" ]]; then
  [[ $AEX_DO_BUILD == 1 ]] || die "$AEX_BUILD/bin/aex_latency_bench is missing"
  say "building aex_latency_bench in $AEX_BUILD"
  [[ -f "$AEX_BUILD/build.ninja" ]] ||
    cmake -S "$SRC" -B "$AEX_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DAEX_BUILD_TESTS=ON -DAEX_BUILD_BENCH=ON >/dev/null
  nice -n 15 cmake --build "$AEX_BUILD" --target aex_latency_bench >&2
fi

# -------------------------------------------------------------------- run
# AE's rounds are split around aex's benchmark (which interleaves bare TCP,
# aex on 2 nodes and on 1 node by itself), so that both see the same load.
PIDS=()
cleanup() {
  for port in "$EM1" "$EM2"; do  # Reset kills the modules the manager spawned
    "$PY" "$HERE/driver.py" reset --em "$port" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
OUT="$AE_BUILD/results"
mkdir -p "$OUT"
rm -f "$OUT/ae-samples.txt"
LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
start_ae() {  # start_ae EM_THREADS: both event managers, then deploy as reactive-tools
  local i port
  for i in 1 2; do
    port=$([[ $i == 1 ]] && echo "$EM1" || echo "$EM2")
    EM_PORT="$port" EM_SGX=false EM_LOG=warn EM_THREADS="$1" nice -n 15 \
      "$BIN/event_manager" >>"$OUT/em$i.log" 2>&1 &
    PIDS+=($!)
  done
  say "AE: deploy ping and pong (LoadSM, set_key, AddConnection), EM_THREADS=$1"
  "$PY" "$HERE/driver.py" deploy --em1 "$EM1" --em2 "$EM2" \
    --ping-bin "$BIN/ping" --ping-info "$AE_BUILD/gen/ping.json" \
    --pong-bin "$BIN/pong" --pong-info "$AE_BUILD/gen/pong.json"
}
ae_throughput() {  # ae_throughput LABEL
  say "AE: throughput, a burst of $BLAST 64-byte events ($1)"
  "$PY" "$HERE/driver.py" throughput --em1 "$EM1" --em2 "$EM2" --events "$BLAST" \
    --label "$1" --ping-info "$AE_BUILD/gen/ping.json" \
    --pong-info "$AE_BUILD/gen/pong.json" | tee -a "$OUT/ae-tput.txt" >&2
}
rm -f "$OUT/em1.log" "$OUT/em2.log" "$OUT/ae-tput.txt"
start_ae 16  # the event manager's default
ae_measure() {  # ae_measure ROUNDS
  nice -n 15 "$PY" "$HERE/driver.py" measure --em1 "$EM1" \
    --ping-info "$AE_BUILD/gen/ping.json" --samples "$OUT/ae-samples.txt" \
    --iterations "$ITERATIONS" --rounds "$1" --size "$SIZE"
}
say "AE: $(( (ROUNDS + 1) / 2 )) x $ITERATIONS round trips"
ae_measure $(( (ROUNDS + 1) / 2 ))
say "bare chain with AE's topology, a new TCP connection per hop"
nice -n 15 "$AE_BUILD/conn_chain" $((ITERATIONS * ROUNDS)) "$SIZE" | tee "$OUT/chain.txt" >&2
say "aex: aex_latency_bench (bare TCP, aex two nodes and one node, interleaved)"
nice -n 15 "$AEX_BUILD/bin/aex_latency_bench" --iterations $((ITERATIONS * ROUNDS)) \
  --blast 20000 --repeat 1 >"$OUT/aex.txt"
grep -E 'bare TCP|event round trip' "$OUT/aex.txt" >&2 || true
if (( ROUNDS / 2 > 0 )); then
  say "AE: $(( ROUNDS / 2 )) x $ITERATIONS round trips"
  ae_measure $(( ROUNDS / 2 ))
fi
ae_throughput pool
# Again with one worker per event manager: connections are then handled in
# the order they were accepted.
cleanup
PIDS=()
start_ae 1
ae_throughput 1thread
cleanup
trap - EXIT
"$PY" "$HERE/driver.py" summarize --samples "$OUT/ae-samples.txt" | tee "$OUT/ae.txt" >&2

# ------------------------------------------------------------------ table
T=("$OUT/ae.txt" "$OUT/chain.txt" "$OUT/aex.txt" "$OUT/ae-tput.txt")
"$PY" - "${T[@]}" "$LOAD" "$SIZE" <<'EOF' | tee "$OUT/table.txt"
import re, sys
r = {}
for path in sys.argv[1:5]:
    for line in open(path):
        # (a node's log line may run into a RESULT line: take the well-formed ones)
        m = re.fullmatch(r"RESULT (\S+) ([-+0-9.e]+)\n?", line)
        if m:
            r[m[1]] = float(m[2])
        # aex_latency_bench prints the minimum only in its text lines
        m = re.search(r"(bare TCP ping-pong|unix-tcp-unix|event round trip, (two|one) node)"
                      r".* min +([0-9.]+) us", line)
        if m:
            key = {"two": "lat.cross.rtt", "one": "lat.local.rtt"}.get(m[2]) or \
                ("lat.tcp.rtt" if m[1].startswith("bare") else "lat.chain2.rtt")
            r[key + ".min_us"] = float(m[3])
load, size = sys.argv[5], sys.argv[6]
rows = [("AE native, 2 event managers", "ae.rtt"),
        ("  its floor: bare chain, conn. per hop", "chain_conn.rtt"),
        ("aex, 2 nodes", "lat.cross.rtt"),
        ("  its floor: bare chain unix-tcp-unix", "lat.chain2.rtt"),
        ("aex, 1 node", "lat.local.rtt"),
        ("bare TCP ping-pong, 2 processes", "lat.tcp.rtt")]
print(f"AE native vs aex, event round trip, {size}-byte events, loopback "
      f"(load average before: {load})\n")
cols = ("p50", "p99", "min")
print(f"| {'round trip':38} | " + " | ".join(f"{c:>9}" for c in cols) +
      " | p50 / aex 2 nodes | p50 / TCP | min / aex 2 nodes |")
print(f"|{'-' * 40}|" + "|".join("-" * 11 for _ in cols) + f"|{'-' * 19}|{'-' * 11}|{'-' * 19}|")
for label, k in rows:
    v = [r.get(f"{k}.{c}_us", float("nan")) for c in cols]
    vs_aex = v[0] / r["lat.cross.rtt.p50_us"]
    vs_tcp = v[0] / r["lat.tcp.rtt.p50_us"]
    min_vs_aex = v[2] / r.get("lat.cross.rtt.min_us", float("nan"))
    print(f"| {label:38} | " + " | ".join(f"{x:6.1f} us" for x in v) +
          f" | {vs_aex:16.2f}x | {vs_tcp:8.2f}x | {min_vs_aex:16.2f}x |")
print(f"\np99 AE / aex 2 nodes: {r['ae.rtt.p99_us'] / r['lat.cross.rtt.p99_us']:.2f}x; "
      f"TCP connections opened per AE round trip (system-wide count): "
      f"{r['ae.tcp_opens_per_rtt']:.2f}")
print(f"\nThroughput, 64-byte events, 2 nodes: aex {r['tput.cross.events_per_s']:.0f} events/s")
for label, what in (("pool", "16 workers, default"), ("1thread", "EM_THREADS=1")):
    k = f"ae.tput.{label}."
    print(f"  AE, {what}: {r[k + 'events_per_s']:.0f} events/s, "
          f"{r[k + 'delivered']:.0f} of {r[k + 'sent']:.0f} delivered "
          f"(sender {r[k + 'sender_per_s']:.0f}/s); single events after the burst: "
          f"{r[k + 'alone_after']:.0f} of 3 delivered")
EOF
