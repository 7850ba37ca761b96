#!/usr/bin/env bash
# Long-running fuzzing: runs every target in turn with persistent corpora under fuzz/corpus/, minimising them with -merge=1 now and then.
#
# Usage: fuzz/continuous.sh [HOURS]   (no argument or 0: run until stopped)
# Environment: SLICE=seconds per target per round (default 600), MERGE_EVERY=rounds between merges (default 6).
set -uo pipefail
cd "$(dirname "$0")"
hours=${1:-0}
slice=${SLICE:-600}
merge_every=${MERGE_EVERY:-6}
toolchain=+nightly
if rustc --version | grep -q nightly; then toolchain=; fi

cargo $toolchain fuzz build || exit 1
targets=$(cargo $toolchain fuzz list)
deadline=0
if [ "$hours" != 0 ]; then deadline=$(( $(date +%s) + $(awk "BEGIN{print int($hours*3600)}") )); fi
mkdir -p corpus logs

dict_args() {
    case $1 in
        decode | execute) echo -dict=dict/execute.dict ;;
        elf) echo -dict=dict/elf.dict ;;
    esac
}

round=0
while :; do
    round=$((round + 1))
    for target in $targets; do
        if [ "$deadline" != 0 ] && [ "$(date +%s)" -ge "$deadline" ]; then
            echo "deadline reached after $((round - 1)) full rounds"
            exit 0
        fi
        corpus="corpus/$target"
        if [ ! -d "$corpus" ]; then
            mkdir -p "$corpus"
            if [ -d "seeds/$target" ]; then cp -r "seeds/$target/." "$corpus/"; fi
        fi
        run_for=$slice
        if [ "$deadline" != 0 ]; then
            left=$((deadline - $(date +%s)))
            if [ "$left" -lt "$run_for" ]; then run_for=$left; fi
        fi
        echo "=== round $round: $target for ${run_for}s"
        # A crash stops this target's slice; its input is kept under artifacts/$target/.
        cargo $toolchain fuzz run "$target" "$corpus" -- -max_total_time="$run_for" -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 $(dict_args "$target") \
            >"logs/$target.log" 2>&1 || echo "!!! $target crashed: see fuzz/logs/$target.log and fuzz/artifacts/$target/"
        grep -E '^#[0-9]+[[:space:]]+DONE' "logs/$target.log" || true
        if [ $((round % merge_every)) -eq 0 ]; then
            merged="corpus/.$target.merged"
            rm -rf "$merged" && mkdir -p "$merged"
            if cargo $toolchain fuzz run "$target" "$merged" "$corpus" -- -merge=1 >"logs/$target.merge.log" 2>&1; then
                rm -rf "$corpus" && mv "$merged" "$corpus"
                echo "    merged $target corpus: $(ls "$corpus" | wc -l) inputs"
            fi
        fi
    done
done
