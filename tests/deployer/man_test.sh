#!/usr/bin/env bash
# The man pages the build generates from the CLI definitions (aex --man and
# the other binaries'): each renders with groff without a warning and with
# `man -l`, and names every command and option the binary's --help names.
# usage: man_test.sh MAN_DIR BIN_DIR
source "$(dirname "$0")/lib.sh"
MAN_DIR=$1
BIN_DIR=$2
command -v groff >/dev/null || { echo "SKIP: no groff"; exit 77; }
for tool in aex aex-node aex-platform aex-gen; do
  page="$MAN_DIR/$tool.1"
  [ -s "$page" ] || fail "no man page $page"
  cmp -s "$page" <("$BIN_DIR/$tool" --man) || fail "$page differs from $tool --man"
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  [ -z "$warnings" ] || fail "groff warns on $page: $warnings"
  text=$(groff -man -Tascii -P-cbou "$page")
  grep -q "^NAME" <<<"$text" || fail "$page has no NAME section"
  grep -qE "^ *$tool +- " <<<"$text" || fail "$page NAME does not name $tool"
  # Every long option --help lists is in the page.
  for opt in $("$BIN_DIR/$tool" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
    grep -q -- "$opt" <<<"$text" || fail "$page lacks $opt"
  done
  if command -v man >/dev/null; then
    MANPAGER=cat man -l "$page" >/dev/null 2>&1 || fail "man -l $page fails"
  fi
done
text=$(groff -man -Tascii -P-cbou "$MAN_DIR/aex.1")
for cmd in up status logs nodes completion down; do
  grep -q "^ *aex $cmd" <<<"$text" || fail "aex.1 has no section for aex $cmd"
done
grep -q -- "--plan" <<<"$text" || fail "aex.1 lacks up --plan"
echo "PASS: man pages"
