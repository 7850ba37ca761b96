#!/usr/bin/env bash
# Builds the friscy CLI for this host as a static executable and prints its path.
#
# On glibc hosts the CLI is linked statically (crt-static): a dynamically linked friscy spends
# ~0.6 ms of a static hello world's ~3.7 ms in the dynamic loader (measured on a 2-core KVM
# machine), and start-up is one of the things the benchmark measures. The explicit --target
# keeps the flag off build scripts and proc-macros (gdbstub uses one), which cannot be static.
set -euo pipefail
cd "$(dirname "$0")/.."
triple=$(rustc -vV | sed -n 's/^host: //p')
case "$triple" in
*-linux-gnu)
    RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
        cargo build --release -p friscy-cli --target "$triple" "$@" >&2
    echo "$PWD/target/$triple/release/friscy"
    ;;
*)
    cargo build --release -p friscy-cli "$@" >&2
    echo "$PWD/target/release/friscy"
    ;;
esac
