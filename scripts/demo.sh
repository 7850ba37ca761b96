#!/usr/bin/env bash
# Quick start: installs the riscv64 cross compiler if missing, builds the friscy CLI and a guest, and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v riscv64-linux-gnu-gcc >/dev/null; then
    SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends gcc-riscv64-linux-gnu libc6-dev-riscv64-cross
fi
friscy=$(scripts/build-cli.sh)
mkdir -p build
riscv64-linux-gnu-gcc -O2 -static -o build/hello examples/guests/hello.c -lm
exec "$friscy" run build/hello "$@"
