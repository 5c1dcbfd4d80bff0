#!/usr/bin/env bash
# `cmake --install` into a temporary prefix gives a working aex: with only
# the prefix's bin/ (and the system's) on PATH, the ping-pong example builds
# from the installed SDK (headers, archives, aex-gen), deploys and runs; the
# man pages and completions are installed beside it.
# usage: install_test.sh BUILD_DIR EXAMPLES_DIR
source "$(dirname "$0")/lib.sh"
BUILD=$1
PREFIX=$(mktemp -d /tmp/aex-prefix.XXXXXX)
DIR=$(copy_example "$2/ping-pong")
D="$DIR/descriptor.yaml"
cleanup() {
  "$PREFIX/bin/aex" down "$D" -q >/dev/null 2>&1 || true
  "$PREFIX/bin/aex" nodes stop "$D" -q >/dev/null 2>&1 || true
  rm -rf "$DIR" "$PREFIX"
}
trap cleanup EXIT
# Ports of their own (other tests use 5001-5002, 5301-5342, 5501-5622).
sed -i 's/5001/5371/; s/5002/5372/' "$D"

cmake --install "$BUILD" --prefix "$PREFIX" >"$DIR/install.log" ||
  fail "cmake --install failed: $(cat "$DIR/install.log")"
for f in bin/aex bin/aex-node bin/aex-platform bin/aex-gen bin/aex-device \
         include/aex/module.h lib/aex/libaex_runtime.a lib/aex/libaex_platform_native.a \
         share/aex/sdk.txt share/aex/src/manager/manager_module.cc \
         share/man/man1/aex.1 share/man/man1/aex-node.1 share/man/man1/aex-platform.1 \
         share/man/man1/aex-gen.1 share/bash-completion/completions/aex \
         share/zsh/site-functions/_aex share/fish/vendor_completions.d/aex.fish; do
  [ -e "$PREFIX/$f" ] || fail "not installed: $f"
done

# Nothing of the build tree on the path: the installed aex finds its SDK
# and aex-node beside itself.
export PATH="$PREFIX/bin:/usr/bin:/bin"
[ "$(command -v aex)" = "$PREFIX/bin/aex" ] || fail "aex is not the installed one"
aex nodes start "$D" -q
set +e
aex up "$D" -v >"$DIR/up.out" 2>"$DIR/up.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "up from the installed SDK: $(cat "$DIR/up.err")"
grep -qF "SDK: headers $PREFIX/include, libraries $PREFIX/lib/aex, aex-gen $PREFIX/bin/aex-gen" \
  "$DIR/up.err" || fail "the installed aex does not use the installed SDK: $(grep SDK "$DIR/up.err")"
grep -q "build .*ping .*built" "$DIR/up.err" || fail "ping was not built: $(cat "$DIR/up.err")"
expect_ping_pong_flowing aex "$D"
MANPATH="$PREFIX/share/man" man -w aex >/dev/null 2>&1 || fail "man does not find the installed aex(1)"
bash -c 'source "$1"; COMP_WORDS=(aex sta); COMP_CWORD=1; _aex; [ "${COMPREPLY[*]}" = status ]' \
  _ "$PREFIX/share/bash-completion/completions/aex" || fail "installed bash completion"
echo "PASS: install"
