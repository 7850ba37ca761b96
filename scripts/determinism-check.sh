#!/usr/bin/env bash
# Runs the determinism guest (core/src/snapshot/testdata/determinism.c) in deterministic mode natively (friscy-run) and on the wasm build (node), and fails unless stdout, exit status and instruction count are identical.
#
# Usage: scripts/determinism-check.sh   (needs riscv64-linux-gnu-gcc, node, and the web build:
#        make -C examples/web build/friscy.js; builds examples/c-host's friscy-run itself)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seed=0x123456789abc
riscv64-linux-gnu-gcc -O2 -static -Wall -o "$work/det" core/src/snapshot/testdata/determinism.c
make -s -C examples/c-host build/friscy-run >/dev/null
status=0
for slice in 100000 777; do
    native_status=0
    examples/c-host/build/friscy-run -d -i -r "$seed" -m 64 -s "$slice" "$work/det" 3 </dev/null \
        >"$work/native.out" 2>"$work/native.err" || native_status=$?
    grep -o '[0-9]* instructions' "$work/native.err" | sed 's/ instructions//' >"$work/native.count"
    echo "$native_status" >"$work/native.status"
    (cd examples/web && node test/determinism.mjs "$((seed))" "$work/det" 3) \
        >"$work/wasm.out" 2>"$work/wasm.err"
    sed -n 's/^instructions //p' "$work/wasm.err" >"$work/wasm.count"
    sed -n 's/^exit //p' "$work/wasm.err" >"$work/wasm.status"
    for part in out status count; do
        if ! cmp -s "$work/native.$part" "$work/wasm.$part"; then
            echo "determinism-check: native (slice $slice) and wasm differ in $part:"
            diff "$work/native.$part" "$work/wasm.$part" | head -20 || true
            status=1
        fi
    done
done
if [ "$status" = 0 ]; then
    echo "determinism-check: native and wasm agree: $(wc -l <"$work/native.out") lines of output, exit $(cat "$work/native.status"), $(cat "$work/native.count") instructions"
fi
exit "$status"
