#!/usr/bin/env bash
# Fails if include/friscy.h differs from what the pinned cbindgen generates from ffi/src (CI runs this).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
scripts/gen-header.sh "$tmp/friscy.h"
if ! diff -u include/friscy.h "$tmp/friscy.h"; then
    echo "check-header: include/friscy.h is stale; run scripts/gen-header.sh and commit the result" >&2
    exit 1
fi
echo "check-header: include/friscy.h is up to date"
