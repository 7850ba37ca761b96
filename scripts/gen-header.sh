#!/usr/bin/env bash
# Regenerates include/friscy.h from ffi/src with the pinned cbindgen (or writes it to the path given as $1).
set -euo pipefail
cd "$(dirname "$0")/.."
CBINDGEN_VERSION=0.29.4
if ! command -v cbindgen >/dev/null || [ "$(cbindgen --version)" != "cbindgen $CBINDGEN_VERSION" ]; then
    echo "gen-header: needs cbindgen $CBINDGEN_VERSION: cargo install cbindgen --version $CBINDGEN_VERSION --locked" >&2
    exit 1
fi
out="${1:-include/friscy.h}"
cbindgen --quiet --config cbindgen.toml --crate friscy-ffi --output "$out" ffi
