#!/usr/bin/env bash
# Installs every build and test dependency of aex from Debian 12's repositories.
# Idempotent: packages already present are left alone, and apt is only consulted
# when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang llvm libclang-rt-14-dev
  libssl-dev libasio-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  graphviz iproute2 procps python3 prometheus chromium
  # Rust modules: Debian's toolchain and the crates the SDK uses (offline).
  rustc cargo librust-lazy-static-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
