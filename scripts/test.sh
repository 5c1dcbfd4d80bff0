#!/usr/bin/env bash
# The whole test suite: builds aex once per configuration and runs every test.
#   1. Release build (build/; -O3, what a package is made from, and where
#      GCC warns most): unit, integration, multi-host, attack, robustness and
#      example tests.
#   2. Debug + AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/):
#      the same tests again.
#   3. clang + libFuzzer (build-fuzz/): every parser fuzzed for a bounded time
#      from its checked-in corpus.
# Set AEX_TEST_CONFIGS to a subset ("release asan fuzz") to run fewer.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1

CONFIGS=${AEX_TEST_CONFIGS:-"release asan fuzz"}
JOBS=$(nproc)
passed=0
failed=0
status=0

run_ctest() {  # name build-dir [ctest args...]
  local name=$1 dir=$2
  shift 2
  echo "=== ctest ($name)"
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "$@" 2>&1 | tee "$dir/ctest.log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$dir/ctest.log" | tail -1)
  if [ -n "$line" ]; then
    local total fails
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    fails=$(sed -E 's/.*tests passed, ([0-9]+) tests failed.*/\1/' <<<"$line")
    passed=$((passed + total - fails))
    failed=$((failed + fails))
  fi
  [ "$rc" -eq 0 ] || status=1
}

build() {  # dir cmake-args...   (BUILD_TARGET: build only this target)
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null || { status=1; return 1; }
  cmake --build "$dir" -j "$JOBS" ${BUILD_TARGET:+--target "$BUILD_TARGET"} ||
    { status=1; return 1; }
}

if [[ " $CONFIGS " == *" release "* ]]; then
  echo "=== build (Release)"
  build build -DCMAKE_BUILD_TYPE=Release -DAEX_NONCE_AUDIT=ON && run_ctest release build
fi
if [[ " $CONFIGS " == *" asan "* ]]; then
  echo "=== build (Debug, ASan + UBSan)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  build build-asan -DCMAKE_BUILD_TYPE=Debug -DAEX_SANITIZE=ON -DAEX_BUILD_BENCH=OFF \
    -DAEX_NONCE_AUDIT=ON &&
    run_ctest asan build-asan -LE nosan
fi
if [[ " $CONFIGS " == *" fuzz "* ]]; then
  echo "=== build (clang, libFuzzer)"
  BUILD_TARGET=aex_fuzz_all build build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DCMAKE_CXX_COMPILER=clang++ -DAEX_FUZZ=ON -DAEX_BUILD_TESTS=OFF -DAEX_BUILD_BENCH=OFF &&
    run_ctest fuzz build-fuzz -L fuzz
fi

echo "=== trusted computing base"
bash scripts/tcb-size
echo
echo "total: $passed passed, $failed failed"
exit $status
