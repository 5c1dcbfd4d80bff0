#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang and runs each for a bounded
# time on a copy of its checked-in corpus.
#
#   scripts/run-fuzz.sh [SECONDS] [BUILD_DIR] [TARGET...]
#
#   SECONDS    per target (default 60)
#   BUILD_DIR  clang build directory, configured here if needed
#              (default: build-fuzz in the repository)
#   TARGET     which targets (default: every fuzz/*_fuzz.cc that has a target)
#
# Environment: AEX_FUZZ_JOBS=N runs N libFuzzer workers per target (default 1);
# AEX_FUZZ_ARGS adds libFuzzer flags (e.g. "-max_len=65536").
#
# New interesting inputs go to BUILD_DIR/fuzz/corpus/<target>, crash inputs to
# BUILD_DIR/fuzz/<target>-crash-* (reproduce: BUILD_DIR/bin/<target> <file>).
# To keep a new input as a seed, copy it into fuzz/corpus/<target>/ (keep the
# corpus small; `<target> -merge=1 NEW_DIR OLD_DIR` minimises).
# Exits non-zero if any target crashed, leaked, timed out or failed to build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
build="${2:-$root/build-fuzz}"
shift $(($# < 2 ? $# : 2))
jobs="${AEX_FUZZ_JOBS:-1}"
read -r -a extra_args <<<"${AEX_FUZZ_ARGS:-}"

if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "usage: $0 [SECONDS] [BUILD_DIR] [TARGET...]" >&2
  exit 2
fi
command -v clang++ >/dev/null || { echo "clang++ not found (scripts/install-deps.sh)" >&2; exit 2; }

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DAEX_FUZZ=ON \
    -DAEX_BUILD_TESTS=OFF -DAEX_BUILD_BENCH=OFF
elif ! grep -q '^AEX_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  echo "$build is not a fuzz build (configure it with -DAEX_FUZZ=ON and clang)" >&2
  exit 2
fi

# Every fuzz/*_fuzz.cc is a target (fuzz/CMakeLists.txt adds those it can build).
targets=("$@")
if ((${#targets[@]} == 0)); then
  available="$(cmake --build "$build" --target help 2>/dev/null || true)"
  for src in "$root"/fuzz/*_fuzz.cc; do
    name="$(basename "$src" .cc)"
    if grep -q "^$name:" <<<"$available"; then
      targets+=("$name")
    else
      echo "note: $name has no target in $build (skipped)"
    fi
  done
fi
((${#targets[@]})) || { echo "no fuzz targets" >&2; exit 2; }

echo "== building: ${targets[*]}"
cmake --build "$build" --target "${targets[@]}"

failed=()
for t in "${targets[@]}"; do
  bin="$build/bin/$t"
  [[ -x "$bin" ]] || bin="$build/fuzz/$t"
  work="$build/fuzz/corpus/$t"
  mkdir -p "$work"
  if [[ -d "$root/fuzz/corpus/$t" ]]; then
    cp -R "$root/fuzz/corpus/$t/." "$work/"
  fi
  log="$build/fuzz/$t.log"
  echo "== $t: ${seconds}s on $work ($(find "$work" -type f | wc -l) inputs), log $log"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1
        -artifact_prefix="$build/fuzz/$t-" "${extra_args[@]}")
  if ((jobs > 1)); then
    args+=(-jobs="$jobs" -workers="$jobs")
  fi
  set +e
  (cd "$build/fuzz" && "$bin" "${args[@]}" "$work") >"$log" 2>&1
  rc=$?
  set -e
  if ((jobs > 1)); then
    cat "$build"/fuzz/fuzz-*.log >>"$log" 2>/dev/null || true
    rm -f "$build"/fuzz/fuzz-*.log
  fi
  grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb' "$log" | sed 's/^/   /' || true
  if ((rc != 0)); then
    echo "   FAILED (exit $rc):"
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 8 | sed 's/^/   /' || true
    failed+=("$t")
  else
    echo "   ok"
  fi
done

if ((${#failed[@]})); then
  echo "== FAILED: ${failed[*]}"
  exit 1
fi
echo "== all ${#targets[@]} fuzz targets ran ${seconds}s clean"
