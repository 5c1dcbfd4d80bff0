#!/usr/bin/env bash
# An installed aex works with nothing from the build tree: `cmake --install`
# into a temporary prefix (mode install), or the .deb `cpack` makes,
# unpacked with `dpkg -x` into a temporary root (mode deb, which also checks
# the package's dependencies). With only the prefix's bin/ (and the
# system's) on PATH, the ping-pong example builds from the installed SDK
# (headers, archives, aex-gen), deploys and runs; the man pages and
# completions are installed beside it.
# usage: install_test.sh BUILD_DIR EXAMPLES_DIR install|deb
source "$(dirname "$0")/lib.sh"
BUILD=$1
MODE=$3
ROOT=$(mktemp -d /tmp/aex-prefix.XXXXXX)
PREFIX=$ROOT
[ "$MODE" = deb ] && PREFIX=$ROOT/usr
setup_example "$PREFIX/bin/aex" "$2/ping-pong"
on_exit() { rm -rf "$ROOT"; }

if [ "$MODE" = deb ]; then
  command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null ||
    { echo "SKIP: no dpkg-deb or dpkg-shlibdeps"; exit 77; }
  (cd "$DIR" && cpack --config "$BUILD/CPackConfig.cmake" -B "$DIR/pkg" >"$DIR/cpack.log" 2>&1) ||
    fail "cpack failed: $(tail -20 "$DIR/cpack.log")"
  deb=$(ls "$DIR"/pkg/aex_*.deb)
  depends=$(dpkg-deb -f "$deb" Depends)
  for dep in libssl3 libyaml-cpp libspdlog libfmt libstdc++6 libc6 "g++" libssl-dev; do
    grep -qF "$dep" <<<"$depends" || fail "the .deb does not depend on $dep: $depends"
  done
  dpkg -x "$deb" "$ROOT"
else
  cmake --install "$BUILD" --prefix "$PREFIX" >"$DIR/install.log" ||
    fail "cmake --install failed: $(cat "$DIR/install.log")"
fi
for f in bin/aex bin/aex-node bin/aex-platform bin/aex-gen bin/aex-device \
         include/aex/module.h lib/aex/libaex_runtime.a lib/aex/libaex_platform_native.a \
         share/aex/sdk.txt share/aex/src/manager/manager_module.cc \
         share/aex/sdk/rust/Cargo.toml share/aex/sdk/rust/src/lib.rs \
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
echo "PASS: $MODE"
