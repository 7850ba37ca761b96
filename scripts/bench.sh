#!/usr/bin/env bash
# Benchmarks libfriscy against native and qemu-riscv64 (CPU-bound C guests, Debian's bc, start-up): interleaved medians, a table and a one-line summary.
#
# Usage: scripts/bench.sh            (from anywhere; builds what it needs into build/bench)
# Settings (environment):
#   RUNS=3          timed runs per benchmark and runner (the median is reported; at least 1)
#   HELLO_RUNS=100  runs of the start-up benchmark per runner (a few milliseconds each)
#   SCALE=1         work multiplier passed to the guests (2 = twice the work)
#   ONLY="hash vm"  run only these rows (hash qsort mergesort vm matmul nbody nbodyf memstr bc hello)
#   ROOTFS=build/rootfs   the riscv64 Debian root for bc: the OUTDIR of scripts/debian-rootfs.sh
#                   (holding root/ and rootfs.tar) or an unpacked tree; built with that script
#                   when it is the default, missing, and the script exists
#   FRISCY=...      the friscy binary (default: built by scripts/build-cli.sh, statically linked)
#   QEMU=qemu-riscv64
#   EXTRA_NAME=name EXTRA_RUN="cmd args"   an extra runner column, e.g. another interpreter
#                   built out of tree; the riscv64 program and its arguments follow EXTRA_RUN
#   EXTRA_FRISCY=path   instead, another friscy build as the extra runner (EXTRA_NAME defaults to
#                   its file name): run exactly as friscy is, so it runs bc from the root too
#
# CPU time is user+sys from /usr/bin/time, memory is max RSS. Runs are interleaved (for each
# round, every benchmark on every runner in turn, the runners' order rotating from round to
# round) so that load from other users of a shared machine, and whatever favours the first
# or last of a sequence, spreads over all runners alike. Every run's stdout must equal the
# native run's: a wrong answer never counts as a fast one. The exit status is 0 unless
# something is broken (a build fails, a checksum differs, a guest that every runner should
# run fails); rows that friscy cannot run yet (bc needs a root file system) are reported as
# n/a.
set -euo pipefail
# Paths given in the environment are relative to where the script was started.
CALLER_DIR=$PWD
absolute() { case $1 in /*) echo "$1" ;; *) echo "$CALLER_DIR/$1" ;; esac; }
[ -n "${ROOTFS:-}" ] && ROOTFS=$(absolute "$ROOTFS")
[ -n "${FRISCY:-}" ] && FRISCY=$(absolute "$FRISCY")
cd "$(dirname "$0")/.."
ROOT_DIR=$PWD

RUNS=${RUNS:-3}
HELLO_RUNS=${HELLO_RUNS:-100}
SCALE=${SCALE:-1}
ONLY=${ONLY:-}
DEFAULT_ROOTFS=build/rootfs
ROOTFS=${ROOTFS:-$DEFAULT_ROOTFS}
QEMU=${QEMU:-qemu-riscv64}
EXTRA_NAME=${EXTRA_NAME:-}
EXTRA_RUN=${EXTRA_RUN:-}
EXTRA_FRISCY=${EXTRA_FRISCY:-}
OUT=$ROOT_DIR/build/bench
GUESTS=$ROOT_DIR/bench/guests

die() {
    printf 'bench: error: %s\n' "$*" >&2
    exit 1
}
note() { printf '[bench] %s\n' "$*" >&2; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ $HELLO_RUNS =~ ^[1-9][0-9]*$ ]] || die "HELLO_RUNS must be a positive integer"
[[ $SCALE =~ ^[1-9][0-9]*$ ]] || die "SCALE must be a positive integer"
if [ -n "$EXTRA_FRISCY" ]; then
    EXTRA_FRISCY=$(absolute "$EXTRA_FRISCY")
    [ -z "$EXTRA_RUN" ] || die "set EXTRA_RUN or EXTRA_FRISCY, not both"
    [ -x "$EXTRA_FRISCY" ] || die "EXTRA_FRISCY $EXTRA_FRISCY is not an executable"
    EXTRA_NAME=${EXTRA_NAME:-$(basename "$EXTRA_FRISCY")}
    EXTRA_RUN="$EXTRA_FRISCY run"
fi

wanted() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# --- tools: install what a fresh Debian machine lacks (as .ci/run does) -----------------------
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
packages=(gcc libc6-dev gcc-riscv64-linux-gnu libc6-dev-riscv64-cross qemu-user time bc)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    note "installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
TIME=/usr/bin/time
[ -x "$TIME" ] || die "$TIME is missing (Debian's time package)"
command -v "$QEMU" >/dev/null || die "$QEMU not found"

# --- build -----------------------------------------------------------------------------------
if [ -z "${FRISCY:-}" ]; then
    note "building friscy (scripts/build-cli.sh: release, statically linked)"
    FRISCY=$("$ROOT_DIR/scripts/build-cli.sh" -q) || die "cargo build failed"
fi
[ -x "$FRISCY" ] || die "friscy binary $FRISCY not found"
FRISCY=$(cd "$(dirname "$FRISCY")" && pwd)/$(basename "$FRISCY")

mkdir -p "$OUT/rv" "$OUT/native" "$OUT/runs"
note "building guests (riscv64-linux-gnu-gcc -O2 -static, gcc -O2)"
for src in "$GUESTS"/*.c; do
    name=$(basename "$src" .c)
    extra=()
    # Start-up is measured for static programs on every runner.
    [ "$name" = hello ] && extra=(-static)
    riscv64-linux-gnu-gcc -O2 -static -o "$OUT/rv/$name" "$src" -lm || die "riscv64 build of $src failed"
    gcc -O2 "${extra[@]}" -o "$OUT/native/$name" "$src" -lm || die "native build of $src failed"
done

# --- runners ---------------------------------------------------------------------------------
RUNNERS=(native friscy qemu)
if [ -n "$EXTRA_NAME" ]; then
    [ -n "$EXTRA_RUN" ] || die "EXTRA_NAME needs EXTRA_RUN"
    RUNNERS+=("$EXTRA_NAME")
fi

# Command line of a CPU-bound guest on a runner: guest binary name, then its arguments.
guest_cmd() {
    local runner=$1 bin=$2
    shift 2
    case $runner in
        native) echo "$OUT/native/$bin" "$@" ;;
        friscy) echo "$FRISCY" run "$OUT/rv/$bin" "$@" ;;
        qemu) echo "$QEMU" "$OUT/rv/$bin" "$@" ;;
        *) echo "$EXTRA_RUN" "$OUT/rv/$bin" "$@" ;;
    esac
}

# row id -> "binary args..."
declare -A GUEST=(
    [hash]="hash $SCALE"
    [qsort]="sort qsort $SCALE"
    [mergesort]="sort merge $SCALE"
    [vm]="vm $SCALE"
    [matmul]="matmul $SCALE"
    [nbody]="nbody $SCALE"
    [nbodyf]="nbodyf $SCALE"
    [memstr]="memstr $SCALE"
)
CPU_ROWS=()
for row in hash qsort mergesort vm matmul nbody nbodyf memstr; do
    wanted "$row" && CPU_ROWS+=("$row")
done

# --- bc from a riscv64 Debian root -------------------------------------------------------------
BC_INPUT='scale=1000; 4*a(1)'
BC_ROOT=""
BC_NOTE=""
find_bc_root() {
    if [ -x "$ROOTFS/root/usr/bin/bc" ]; then
        BC_ROOT=$ROOTFS/root
    elif [ -x "$ROOTFS/usr/bin/bc" ]; then
        BC_ROOT=$ROOTFS
    fi
}
if wanted bc; then
    find_bc_root
    if [ -z "$BC_ROOT" ] && [ "$ROOTFS" = "$DEFAULT_ROOTFS" ] && [ -x scripts/debian-rootfs.sh ]; then
        note "building the riscv64 root file system (scripts/debian-rootfs.sh $ROOTFS)"
        scripts/debian-rootfs.sh "$ROOTFS" >&2 || note "scripts/debian-rootfs.sh failed"
        find_bc_root
    fi
    if [ -n "$BC_ROOT" ]; then
        BC_ROOT=$(cd "$BC_ROOT" && pwd)
        # friscy gets the packed image when there is one, else the tree.
        BC_FRISCY_ROOTFS=$BC_ROOT
        if [ -f "$BC_ROOT/../rootfs.tar" ]; then
            BC_FRISCY_ROOTFS=$(cd "$BC_ROOT/.." && pwd)/rootfs.tar
        fi
    else
        BC_NOTE="n/a (no riscv64 root: set ROOTFS= to the output of scripts/debian-rootfs.sh)"
    fi
fi

bc_cmd() {
    case $1 in
        native) echo bc -lq ;;
        friscy) echo "$FRISCY" run --rootfs "$BC_FRISCY_ROOTFS" /usr/bin/bc -lq ;;
        qemu) echo "$QEMU" -L "$BC_ROOT" "$BC_ROOT/usr/bin/bc" -lq ;;
        *) if [ -n "$EXTRA_FRISCY" ]; then
            FRISCY=$EXTRA_FRISCY bc_cmd friscy
        else
            echo "$EXTRA_RUN" "$BC_ROOT/usr/bin/bc" -lq
        fi ;;
    esac
}

# --- measurement -----------------------------------------------------------------------------
# run_once KEY STDIN-TEXT CMD...: one timed run; appends "user+sys maxrss_kb" to $OUT/runs/KEY.t
# if stdout equals $OUT/runs/KEY's reference, else records the failure in $OUT/runs/KEY.bad.
run_once() {
    local key=$1 input=$2
    shift 2
    local out=$OUT/runs/$key.out tf=$OUT/runs/$key.time status=0
    if [ -n "$input" ]; then
        printf '%s\n' "$input" | $TIME -f '%U %S %M' -o "$tf" "$@" >"$out" 2>"$OUT/runs/$key.err" || status=$?
    else
        $TIME -f '%U %S %M' -o "$tf" "$@" </dev/null >"$out" 2>"$OUT/runs/$key.err" || status=$?
    fi
    if [ $status -ne 0 ]; then
        echo "exit status $status" >"$OUT/runs/$key.bad"
        return
    fi
    if [ ! -s "$out" ]; then
        echo "no output" >"$OUT/runs/$key.bad"
        return
    fi
    # Guests are judged by their checksum lines (a runner may add its own diagnostics to
    # stdout); bc by its whole output.
    if [ "$COMPARE" = checksum ]; then
        grep ' checksum ' "$out" >"$out.sum" || true
        grep ' checksum ' "$REF" >"$out.want"
        if ! cmp -s "$out.sum" "$out.want"; then
            echo "checksum differs from native: $(head -c 200 "$out" | tr '\n' ' ')" >"$OUT/runs/$key.bad"
            return
        fi
    elif ! cmp -s "$out" "$REF"; then
        echo "output differs from native: $(head -c 200 "$out" | tr '\n' ' ')" >"$OUT/runs/$key.bad"
        return
    fi
    # /usr/bin/time's last line (earlier lines say "Command exited ...", never here)
    tail -n 1 "$tf" | awk '{ printf "%.3f %d\n", $1 + $2, $3 }' >>"$OUT/runs/$key.t"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

rm -f "$OUT"/runs/*

# Reference outputs: one native run of each CPU guest (it also warms caches and page tables).
for row in "${CPU_ROWS[@]}"; do
    # shellcheck disable=SC2046
    $(guest_cmd native ${GUEST[$row]}) >"$OUT/runs/$row.ref" </dev/null || die "native $row failed"
    grep -q ' checksum ' "$OUT/runs/$row.ref" || die "native $row printed no checksum"
done
BC_RUNNERS=()
if wanted bc && [ -n "$BC_ROOT" ]; then
    printf '%s\n' "$BC_INPUT" | bc -lq >"$OUT/runs/bc.ref" || die "native bc failed"
    # Probe each runner once; one that cannot run bc (or gets it wrong) is n/a, not broken.
    for r in "${RUNNERS[@]}"; do
        [ "$r" = native ] && { BC_RUNNERS+=(native); continue; }
        # shellcheck disable=SC2046
        if printf '%s\n' "$BC_INPUT" | timeout 600 $(bc_cmd "$r") >"$OUT/runs/bc.probe.$r" 2>"$OUT/runs/bc.probe.$r.err" &&
            cmp -s "$OUT/runs/bc.probe.$r" "$OUT/runs/bc.ref"; then
            BC_RUNNERS+=("$r")
        else
            note "$r cannot run bc: $(head -c 160 "$OUT/runs/bc.probe.$r.err" | tr '\n' ' ')"
            echo "$r cannot run it yet" >"$OUT/runs/bc.$r.na"
        fi
    done
fi

# The elements of the array named $1, rotated left by $2 (the order runners take in a round).
rotated() {
    local -n list=$1
    local n=${#list[@]} i
    for ((i = 0; i < n; i++)); do echo "${list[(i + $2) % n]}"; done
}

total_rounds=$RUNS
for ((round = 1; round <= total_rounds; round++)); do
    note "round $round/$total_rounds"
    mapfile -t order < <(rotated RUNNERS $((round - 1)))
    mapfile -t bc_order < <(rotated BC_RUNNERS $((round - 1)))
    for row in "${CPU_ROWS[@]}"; do
        for r in "${order[@]}"; do
            REF=$OUT/runs/$row.ref COMPARE=checksum
            # shellcheck disable=SC2046
            run_once "$row.$r" "" $(guest_cmd "$r" ${GUEST[$row]})
        done
    done
    for r in "${bc_order[@]}"; do
        REF=$OUT/runs/bc.ref COMPARE=all
        # shellcheck disable=SC2046
        run_once "bc.$r" "$BC_INPUT" $(bc_cmd "$r")
    done
done

# Start-up: wall-clock time of a whole process (fork, exec, load, print, exit), interleaved.
hello_cmd() {
    case $1 in
        native) echo "$OUT/native/hello" ;;
        friscy) echo "$FRISCY" run "$OUT/rv/hello" ;;
        qemu) echo "$QEMU" "$OUT/rv/hello" ;;
        *) echo "$EXTRA_RUN" "$OUT/rv/hello" ;;
    esac
}
HELLO_RUNNERS=()
if wanted hello; then
    note "start-up: $HELLO_RUNS runs per runner"
    "$OUT/native/hello" >"$OUT/runs/hello.ref"
    for r in "${RUNNERS[@]}"; do
        # shellcheck disable=SC2046
        if $(hello_cmd "$r") >"$OUT/runs/hello.out" 2>/dev/null && cmp -s "$OUT/runs/hello.out" "$OUT/runs/hello.ref"; then
            HELLO_RUNNERS+=("$r")
            # shellcheck disable=SC2046
            $TIME -f '%M' -o "$OUT/runs/hello.$r.rss" $(hello_cmd "$r") >/dev/null
        else
            echo "hello failed or printed something else" >"$OUT/runs/hello.$r.bad"
        fi
    done
    for ((i = 0; i < HELLO_RUNS; i++)); do
        mapfile -t hello_order < <(rotated HELLO_RUNNERS "$i")
        for r in "${hello_order[@]}"; do
            # shellcheck disable=SC2046
            set -- $(hello_cmd "$r")
            t0=$EPOCHREALTIME
            "$@" >/dev/null
            t1=$EPOCHREALTIME
            echo "$t0 $t1" | awk '{ printf "%.3f\n", ($2 - $1) * 1000 }' >>"$OUT/runs/hello.$r.ms"
        done
    done
fi

# --- report ----------------------------------------------------------------------------------
broken=0
declare -A MED RSS
# cell KEY: sets MED[KEY] and RSS[KEY] from the recorded runs, or marks the key as failed.
collect() {
    local key=$1
    if [ -s "$OUT/runs/$key.t" ] && [ ! -e "$OUT/runs/$key.bad" ]; then
        MED[$key]=$(awk '{ print $1 }' "$OUT/runs/$key.t" | median)
        RSS[$key]=$(awk '{ print $2 }' "$OUT/runs/$key.t" | median)
    fi
}
fmt_s() {
    if [ -e "$OUT/runs/$1.na" ]; then
        printf 'n/a (%s)' "$(cat "$OUT/runs/$1.na")"
    elif [ -e "$OUT/runs/$1.bad" ]; then
        printf 'failed'
    elif [ -n "${MED[$1]:-}" ]; then
        printf '%.2f' "${MED[$1]}"
    else
        printf -- '-'
    fi
}
fmt_mib() { if [ -n "${RSS[$1]:-}" ]; then awk -v k="${RSS[$1]}" 'BEGIN { printf "%.1f", k / 1024 }'; else printf -- '-'; fi; }
ratio() {
    local a=${MED[$1]:-} b=${MED[$2]:-}
    if [ -e "$OUT/runs/$1.na" ] || [ -e "$OUT/runs/$2.na" ]; then
        printf 'n/a'
        return
    fi
    if [ -n "$a" ] && [ -n "$b" ]; then awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else printf "-" }'; else printf -- '-'; fi
}

header="| benchmark | native s | friscy s | qemu s |"
sep="| --- | ---: | ---: | ---: |"
[ -n "$EXTRA_NAME" ] && header+=" $EXTRA_NAME s |" && sep+=" ---: |"
header+=" friscy/native | friscy/qemu | qemu/native |"
sep+=" ---: | ---: | ---: |"
[ -n "$EXTRA_NAME" ] && header+=" $EXTRA_NAME/native |" && sep+=" ---: |"
header+=" max RSS MiB (native / friscy / qemu"
[ -n "$EXTRA_NAME" ] && header+=" / $EXTRA_NAME"
header+=") |"
sep+=" --- |"

REPORT=$OUT/report.md
{
    echo "CPU time (user+sys), median of $RUNS interleaved runs; SCALE=$SCALE"
    echo
    echo "$header"
    echo "$sep"
} >"$REPORT"

geo_native=""
geo_qemu=""
geo_extra=""
row_line() {
    local row=$1 label=$2 r
    for r in "${RUNNERS[@]}"; do collect "$row.$r"; done
    local line="| $label | $(fmt_s "$row.native") | $(fmt_s "$row.friscy") | $(fmt_s "$row.qemu") |"
    [ -n "$EXTRA_NAME" ] && line+=" $(fmt_s "$row.$EXTRA_NAME") |"
    line+=" $(ratio "$row.friscy" "$row.native") | $(ratio "$row.friscy" "$row.qemu") | $(ratio "$row.qemu" "$row.native") |"
    [ -n "$EXTRA_NAME" ] && line+=" $(ratio "$row.$EXTRA_NAME" "$row.native") |"
    local mem="$(fmt_mib "$row.native") / $(fmt_mib "$row.friscy") / $(fmt_mib "$row.qemu")"
    [ -n "$EXTRA_NAME" ] && mem+=" / $(fmt_mib "$row.$EXTRA_NAME")"
    echo "$line $mem |"
}

for row in "${CPU_ROWS[@]}"; do
    row_line "$row" "$row" >>"$REPORT"
    for r in "${RUNNERS[@]}"; do
        if [ -e "$OUT/runs/$row.$r.bad" ]; then
            if [ "$r" = "$EXTRA_NAME" ]; then
                note "$row on $r failed: $(cat "$OUT/runs/$row.$r.bad")"
            else
                note "BROKEN: $row on $r: $(cat "$OUT/runs/$row.$r.bad")"
                broken=1
            fi
        fi
    done
    # Geometric means over the CPU-bound rows (natural logs, summed; n counted alongside).
    if [ -n "${MED[$row.friscy]:-}" ] && [ -n "${MED[$row.native]:-}" ]; then
        geo_native+=" $(awk -v a="${MED[$row.friscy]}" -v b="${MED[$row.native]}" 'BEGIN { print log(a / b) }')"
    fi
    if [ -n "${MED[$row.friscy]:-}" ] && [ -n "${MED[$row.qemu]:-}" ]; then
        geo_qemu+=" $(awk -v a="${MED[$row.friscy]}" -v b="${MED[$row.qemu]}" 'BEGIN { print log(a / b) }')"
    fi
    if [ -n "$EXTRA_NAME" ] && [ -n "${MED[$row.$EXTRA_NAME]:-}" ] && [ -n "${MED[$row.native]:-}" ]; then
        geo_extra+=" $(awk -v a="${MED[$row.$EXTRA_NAME]}" -v b="${MED[$row.native]}" 'BEGIN { print log(a / b) }')"
    fi
done
# Geometric mean of the ratios whose logs are in $1; says over how many rows if not all.
geomean() {
    echo "$1" | awk -v all="${#CPU_ROWS[@]}" '{ s = 0; for (i = 1; i <= NF; i++) s += $i
        if (NF) printf "%.1fx", exp(s / NF); else printf "-"
        if (NF && NF != all) printf " (%d of %d rows)", NF, all }'
}

bc_summary="n/a"
if wanted bc; then
    if [ -n "$BC_NOTE" ]; then
        echo "| bc (scale=1000 pi) | $BC_NOTE |" >>"$REPORT"
        bc_summary="n/a"
    else
        row_line bc "bc (scale=1000 pi)" >>"$REPORT"
        for r in "${BC_RUNNERS[@]}"; do
            if [ -e "$OUT/runs/bc.$r.bad" ]; then
                note "bc on $r failed in a timed run: $(cat "$OUT/runs/bc.$r.bad")"
                [ "$r" = native ] && broken=1
            fi
        done
        if [[ " ${BC_RUNNERS[*]} " == *" friscy "* ]]; then
            bc_summary="$(ratio bc.friscy bc.native) native"
        else
            bc_summary="n/a (friscy cannot run it yet)"
        fi
    fi
fi

hello_summary="n/a"
if wanted hello; then
    {
        echo
        echo "Start-up (static hello world, whole process, wall clock), median of $HELLO_RUNS interleaved runs"
        echo
        echo "| runner | ms | max RSS MiB |"
        echo "| --- | ---: | ---: |"
    } >>"$REPORT"
    hello_summary=""
    for r in "${RUNNERS[@]}"; do
        if [ -s "$OUT/runs/hello.$r.ms" ]; then
            ms=$(median <"$OUT/runs/hello.$r.ms")
            rss=$(awk '{ printf "%.1f", $1 / 1024 }' "$OUT/runs/hello.$r.rss")
            printf '| %s | %.2f | %s |\n' "$r" "$ms" "$rss" >>"$REPORT"
            hello_summary+="$(printf '%s %.1f ms, ' "$r" "$ms")"
        else
            echo "| $r | n/a ($(cat "$OUT/runs/hello.$r.bad" 2>/dev/null)) | |" >>"$REPORT"
            [ "$r" = "$EXTRA_NAME" ] || broken=1
        fi
    done
    hello_summary=${hello_summary%, }
fi

summary="summary: friscy/native geomean $(geomean "$geo_native") over ${#CPU_ROWS[@]} CPU-bound guests"
summary+=" (friscy/qemu $(geomean "$geo_qemu")"
[ -n "$EXTRA_NAME" ] && summary+=", $EXTRA_NAME/native $(geomean "$geo_extra")"
summary+="); bc friscy/native: $bc_summary; hello: $hello_summary"
{
    echo
    echo "$summary"
} >>"$REPORT"
cat "$REPORT"
if [ $broken -ne 0 ]; then
    echo "bench: something is broken (see the BROKEN lines above)" >&2
    exit 1
fi
