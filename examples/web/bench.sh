#!/usr/bin/env bash
# bench.sh: measures the web build: wasm size (raw/gzip), page load-to-shell-prompt time (headless chromium, rootfs cached or not), and CPU time of the CPU-bound guest and of bc (from the rootfs) under node vs the native friscy CLI.
# usage: examples/web/bench.sh   (env: SCALE=work multiplier for the cpu guest, default 5; BC_SCALE=digits of pi for bc, default 600; RUNS=repetitions, default 3)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
SCALE=${SCALE:-5}
RUNS=${RUNS:-3}
BC_SCALE=${BC_SCALE:-600}

if [ ! -f build/friscy.wasm ] || [ ! -f build/cpu ] || [ ! -f build/rootfs.tar ] || [ ! -d node_modules/playwright-core ]; then
    make build
fi
echo "== native friscy CLI (cargo build --release)"
(cd "$ROOT" && cargo build --release -q -p friscy-cli)
NATIVE="$ROOT/target/release/friscy"

min() { sort -g | head -1; }
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

raw=$(stat -c %s build/friscy.wasm)
gz=$(gzip -9 -c build/friscy.wasm | wc -c)
js=$(stat -c %s build/friscy.js)
jsgz=$(gzip -9 -c build/friscy.js | wc -c)

echo "== load to prompt (browser test, $RUNS runs)"
loads=()
cached_loads=()
calc_loads=()
timing() { node -e "console.log(require('./build/browser-timing.json').$1.toFixed(0))"; }
for _ in $(seq "$RUNS"); do
    node test/browser-test.mjs >/dev/null
    loads+=("$(timing loadToPromptMs)")
    cached_loads+=("$(timing cachedLoadToPromptMs)")
    calc_loads+=("$(timing calcLoadToPromptMs)")
done

echo "== cpu guest, scale $SCALE: native friscy vs node on friscy.wasm ($RUNS runs each, best CPU time)"
native=()
wasm=()
TIMEFORMAT='%U %S'
expected=$("$NATIVE" run build/cpu "$SCALE")
for _ in $(seq "$RUNS"); do
    t=$( { time "$NATIVE" run build/cpu "$SCALE" >/dev/null; } 2>&1 )
    native+=("$(echo "$t" | awk '{ printf "%.0f", ($1 + $2) * 1000 }')")
    json=$(node bench-node.mjs build/cpu "$SCALE")
    out=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).output)' "$json")
    if [ "$out" != "$expected" ]; then
        echo "bench: output under node differs from native:" >&2
        echo "$out" >&2
        exit 1
    fi
    wasm+=("$(node -e 'console.log(JSON.parse(process.argv[1]).cpuMs.toFixed(0))' "$json")")
    instructions=$(node -e 'console.log(JSON.parse(process.argv[1]).instructions)' "$json")
done
warm=()
for _ in $(seq "$RUNS"); do
    warm+=("$(node bench-node.mjs build/cpu "$SCALE" --warm | node -e \
        'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).cpuMs.toFixed(0)))')")
done
liftoff=$(node bench-node.mjs build/cpu "$SCALE" --budget 100000000000 | node -e \
    'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).cpuMs.toFixed(0)))')

echo "== bc from the rootfs (pi to $BC_SCALE digits): native friscy vs node on friscy.wasm"
BC_CMD="echo 'scale=$BC_SCALE; 4*a(1)' | bc -lq"
bc_native=()
bc_wasm=()
bc_expected=$("$NATIVE" run --rootfs build/rootfs.tar -- sh -c "$BC_CMD")
for _ in $(seq "$RUNS"); do
    t=$( { time "$NATIVE" run --rootfs build/rootfs.tar -- sh -c "$BC_CMD" >/dev/null; } 2>&1 )
    bc_native+=("$(echo "$t" | awk '{ printf "%.0f", ($1 + $2) * 1000 }')")
    json=$(node bench-node.mjs sh -c "$BC_CMD" --rootfs build/rootfs.tar)
    out=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).output)' "$json")
    if [ "$out" != "$bc_expected" ]; then
        echo "bench: bc output under node differs from native" >&2
        exit 1
    fi
    bc_wasm+=("$(node -e 'console.log(JSON.parse(process.argv[1]).cpuMs.toFixed(0))' "$json")")
    bc_instructions=$(node -e 'console.log(JSON.parse(process.argv[1]).instructions)' "$json")
done

native_ms=$(printf '%s\n' "${native[@]}" | min)
wasm_ms=$(printf '%s\n' "${wasm[@]}" | min)
warm_ms=$(printf '%s\n' "${warm[@]}" | min)
warm_ratio=$(awk -v w="$warm_ms" -v n="$native_ms" 'BEGIN { printf "%.2f", w / n }')
load_ms=$(printf '%s\n' "${loads[@]}" | median)
cached_load_ms=$(printf '%s\n' "${cached_loads[@]}" | median)
calc_load_ms=$(printf '%s\n' "${calc_loads[@]}" | median)
bc_native_ms=$(printf '%s\n' "${bc_native[@]}" | min)
bc_wasm_ms=$(printf '%s\n' "${bc_wasm[@]}" | min)
bc_ratio=$(awk -v w="$bc_wasm_ms" -v n="$bc_native_ms" 'BEGIN { printf "%.2f", w / n }')
ratio=$(awk -v w="$wasm_ms" -v n="$native_ms" 'BEGIN { printf "%.2f", w / n }')
liftoff_ratio=$(awk -v w="$liftoff" -v n="$native_ms" 'BEGIN { printf "%.2f", w / n }')
mips_native=$(awk -v i="$instructions" -v t="$native_ms" 'BEGIN { printf "%.0f", i / t / 1000 }')
mips_wasm=$(awk -v i="$instructions" -v t="$wasm_ms" 'BEGIN { printf "%.0f", i / t / 1000 }')

cat <<EOF

libfriscy web build ($(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg))
  friscy.wasm            $raw bytes raw, $gz bytes gzip -9
  friscy.js (glue)       $js bytes raw, $jsgz bytes gzip -9
  load to shell prompt   $load_ms ms median of ${loads[*]} (navigation start to sh's first stdin wait; fresh profile, rootfs downloaded)
    rootfs cached        $cached_load_ms ms median of ${cached_loads[*]} (second load in the same browser: wasm and rootfs revalidated, 304)
  load to calc prompt    $calc_load_ms ms median of ${calc_loads[*]} (?elf=build/calc, after the loads above)
  cpu guest (scale $SCALE)    $instructions instructions
    native friscy CLI    $native_ms ms CPU ($mips_native MIPS), runs: ${native[*]}
    node, friscy.wasm    $wasm_ms ms CPU ($mips_wasm MIPS), runs: ${wasm[*]}   (1M-instruction slices)
    wasm / native        $ratio   (includes V8's optimising compile of the interpreter)
    node, warm           $warm_ms ms CPU, runs: ${warm[*]}   (second run in the process), ratio $warm_ratio
    one unsliced call    $liftoff ms CPU, ratio $liftoff_ratio (stays in Liftoff: V8 has no OSR for wasm)
  bc, pi to $BC_SCALE digits  $bc_instructions instructions by friscy_machine_instructions, which seems to count the first process only (sh -c "$BC_CMD" from build/rootfs.tar)
    native friscy CLI    $bc_native_ms ms CPU, runs: ${bc_native[*]}   (includes reading the tar)
    node, friscy.wasm    $bc_wasm_ms ms CPU, runs: ${bc_wasm[*]}   (includes copying and reading the tar)
    wasm / native        $bc_ratio
EOF
cat > build/bench.json <<EOF
{"wasmBytes": $raw, "wasmGzipBytes": $gz, "jsBytes": $js, "jsGzipBytes": $jsgz, "loadToPromptMs": $load_ms,
 "cachedLoadToPromptMs": $cached_load_ms, "calcLoadToPromptMs": $calc_load_ms,
 "bcScale": $BC_SCALE, "bcInstructions": $bc_instructions, "bcNativeCpuMs": $bc_native_ms, "bcWasmCpuMs": $bc_wasm_ms, "bcWasmNativeRatio": $bc_ratio,
 "cpuScale": $SCALE, "instructions": $instructions, "nativeCpuMs": $native_ms, "wasmCpuMs": $wasm_ms,
 "wasmNativeRatio": $ratio, "warmWasmCpuMs": $warm_ms, "warmWasmNativeRatio": $warm_ratio,
 "unslicedCpuMs": $liftoff}
EOF
