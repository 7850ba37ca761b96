#!/usr/bin/env bash
# Runs the end-to-end proof suites against qemu-riscv64 (difftest, randtest with the CI seed/count, rootfs_e2e, then the gdb session test); exits non-zero on any failure.
#
#   tests/run-all.sh [--friscy PATH]
#
# Environment: FRISCY (friscy binary, default target/release/friscy), RANDTEST_SEED (default 1),
# RANDTEST_COUNT (default 8000), JOBS (default 2).
set -u
cd "$(dirname "$0")/.."

friscy=${FRISCY:-target/release/friscy}
while [ $# -gt 0 ]; do
    case "$1" in
        --friscy) friscy=$2; shift 2 ;;
        --friscy=*) friscy=${1#--friscy=}; shift ;;
        *) echo "usage: tests/run-all.sh [--friscy PATH]" >&2; exit 2 ;;
    esac
done
jobs=${JOBS:-2}
py=${PYTHON:-python3}

status=0
start=$SECONDS
# randtest still runs after a difftest failure: its per-instruction report often explains it.
"$py" tests/difftest.py --friscy "$friscy" --jobs "$jobs" || status=1
"$py" tests/randtest.py --friscy "$friscy" --jobs "$jobs" \
    --seed "${RANDTEST_SEED:-1}" --count "${RANDTEST_COUNT:-8000}" || status=1
# Real Debian riscv64 programs through friscy run --rootfs (builds build/rootfs on first use).
"$py" tests/rootfs_e2e.py --friscy "$friscy" --jobs "$jobs" || status=1
# gdb-multiarch debugging a guest through friscy run --gdb (and qemu-riscv64 -g as reference).
"$py" tests/gdb_session.py --friscy "$friscy" || status=1
if [ $status -eq 0 ]; then
    echo "run-all: PASS ($((SECONDS - start))s)"
else
    echo "run-all: FAIL ($((SECONDS - start))s)"
fi
exit $status
