#!/usr/bin/env bash
# OSS-Fuzz-style build: compiles every fuzz target with `cargo fuzz build -O` and copies binaries, seed corpora and dictionaries to $OUT.
#
# Usage: fuzz/build.sh   (OUT unset: build only; FUZZ_SANITIZER=none|address|memory|thread overrides ASan)
set -euo pipefail
cd "$(dirname "$0")"
toolchain=+nightly
if rustc --version | grep -q nightly; then toolchain=; fi
sanitizer=()
if [ -n "${FUZZ_SANITIZER:-}" ]; then sanitizer=(--sanitizer "$FUZZ_SANITIZER"); fi

# -O: optimised; --debug-assertions keeps integer-overflow checks, which found real bugs.
cargo $toolchain fuzz build -O --debug-assertions "${sanitizer[@]}"
triple=$(rustc $toolchain -vV | sed -n 's/^host: //p')
bin_dir="target/$triple/release"

if [ -n "${OUT:-}" ]; then
    mkdir -p "$OUT"
    for target in $(cargo $toolchain fuzz list); do
        cp "$bin_dir/$target" "$OUT/"
        if [ -d "seeds/$target" ]; then
            python3 -c 'import sys, zipfile, pathlib
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for p in sorted(pathlib.Path(sys.argv[2]).iterdir()):
        z.write(p, p.name)' "$OUT/${target}_seed_corpus.zip" "seeds/$target"
        fi
        case $target in
            decode | execute) cp dict/execute.dict "$OUT/$target.dict" ;;
            elf) cp dict/elf.dict "$OUT/$target.dict" ;;
        esac
    done
    echo "fuzzers in $OUT: $(cargo $toolchain fuzz list | tr '\n' ' ')"
fi
