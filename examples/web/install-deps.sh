#!/usr/bin/env bash
# Installs what the web build and its tests need on Debian, only what is missing (apt; sudo only when not root).
# Usage: install-deps.sh [--test]   (--test adds chromium for the browser test)
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
packages=(emscripten rustc-web cargo-web rust-web-src gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
          python3 make gzip)
# node and npm: keep an existing installation (e.g. one that bundles npm, which Debian's npm conflicts with).
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
if [ "${1:-}" = "--test" ]; then packages+=(chromium); fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
