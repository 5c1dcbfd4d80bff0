# Shared helpers for the deployer's end-to-end tests (sourced).
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() {  # actual expected what
  [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}
# Polls a command until its output equals the expected value (10 s at most).
wait_for_output() {  # expected command...
  local expected=$1 got=""
  shift
  for _ in $(seq 1 100); do
    got=$("$@" 2>/dev/null || true)
    [ "$got" = "$expected" ] && return 0
    sleep 0.1
  done
  fail "waited for '$*' to print '$expected', last got '$got'"
}
# Copies an example into a fresh temporary directory and prints its path.
copy_example() {  # source-dir
  local dir
  dir=$(mktemp -d /tmp/aex-test.XXXXXX)
  cp -r "$1"/. "$dir"/
  rm -rf "$dir/.aex" "$dir/keys"
  echo "$dir"
}
# Fails if any process still runs a binary from under the directory.
expect_no_processes_under() {  # dir
  local left
  left=$(pgrep -af "$1" | grep -v -e pgrep -e "$$" || true)
  [ -z "$left" ] || fail "processes left behind: $left"
}
