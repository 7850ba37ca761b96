#!/usr/bin/env bash
# Runs every check libfriscy ships with: format, lints, unit tests, no_std builds, and the qemu-riscv64 differential suites.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (deny warnings)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p friscy-core --no-default-features -- -D warnings

step "unit and integration tests"
cargo test --workspace
cargo test -p friscy-core --no-default-features --lib

step "core builds without std and without alloc (host target)"
cargo build -p friscy-core --no-default-features
cargo build -p friscy-core --no-default-features --features alloc

step "core builds for wasm32-unknown-unknown, a target with no std at all"
scripts/build-nostd-wasm.sh

step "release build of the friscy CLI (static, as the demo and the benchmark build it)"
friscy=$(scripts/build-cli.sh)

step "C header is what cbindgen generates"
scripts/check-header.sh

step "C ABI: native C host and API tests under ASan/UBSan"
make -C examples/c-host check

step "C ABI: engine-host example (guest calls every frame, budget and fault recovery)"
make -C examples/engine-host check

step "differential, randomised and rootfs end-to-end suites against qemu-riscv64"
tests/run-all.sh --friscy "$friscy"

step "fuzz targets: build each and run it for ${FUZZ_SECONDS:-20}s from the committed seeds"
fuzz/run-ci.sh "${FUZZ_SECONDS:-20}"

step "browser build: Emscripten wasm, node test and headless-chromium test of the web terminal"
# The page boots the same default root the rootfs suite built above: one download, not two
# (a mirror caught mid-sync between them once failed a run).
web_rootfs=()
if [ -f build/rootfs/rootfs.tar ]; then web_rootfs=(ROOTFS="$PWD/build/rootfs/rootfs.tar"); fi
make -C examples/web check "${web_rootfs[@]}"

step "determinism: the same guest natively (two budget slicings) and on the wasm build gives the same output, status and instruction count"
scripts/determinism-check.sh
