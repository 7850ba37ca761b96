#!/usr/bin/env bash
# Proves friscy-core is no_std: builds it for wasm32-unknown-unknown with Debian's rustc-web and -Zbuild-std=core,alloc.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/rustc ] || [ ! -d /usr/lib/rustlib/src/rust/library ]; then
    echo "build-nostd-wasm: needs Debian's rustc-web, cargo-web and rust-web-src (apt-get install rustc-web cargo-web rust-web-src)" >&2
    exit 1
fi
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/nostd-wasm"
for features in "--no-default-features" "--no-default-features --features alloc"; do
    echo "friscy-core $features (wasm32-unknown-unknown)"
    # shellcheck disable=SC2086
    /usr/bin/cargo build --release --target wasm32-unknown-unknown -Zbuild-std=core,alloc \
        -p friscy-core $features
done
