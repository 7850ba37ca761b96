#!/usr/bin/env bash
# CI smoke fuzzing: builds every fuzz target, runs each for SECONDS (default 30) from the committed seeds, fails on any crash.
#
# Usage: fuzz/run-ci.sh [SECONDS]   (needs a nightly toolchain and cargo-fuzz; installs cargo-fuzz if missing)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-30}

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
toolchain=+nightly
if rustc --version | grep -q nightly; then toolchain=; fi

# Default cargo-fuzz profile: optimised, with debug assertions (overflow checks) and ASan.
cargo $toolchain fuzz build
targets=$(cargo $toolchain fuzz list)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for target in $targets; do
    corpus="$work/$target"
    mkdir -p "$corpus"
    if [ -d "seeds/$target" ]; then cp -r "seeds/$target/." "$corpus/"; fi
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
    case $target in
        decode | execute) args+=(-dict=dict/execute.dict) ;;
        elf) args+=(-dict=dict/elf.dict) ;;
    esac
    echo "=== fuzz $target for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
    log="$work/$target.log"
    if cargo $toolchain fuzz run "$target" "$corpus" -- "${args[@]}" >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | sed 's/^/    /' || true
        grep -E 'stat::(number_of_executed_units|average_exec_per_sec)' "$log" | sed 's/^/    /' || true
    else
        echo "!!! $target FAILED"
        tail -n 80 "$log"
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]} (inputs under fuzz/artifacts/)"
    exit 1
fi
echo "fuzzing: $(echo $targets | wc -w) targets ran ${seconds}s each without a crash"
