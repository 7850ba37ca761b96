#!/usr/bin/env bash
# Builds a Debian trixie riscv64 root file system (OUTDIR/root and OUTDIR/rootfs.tar) from apt packages, for running real programs in libfriscy.
#
# Usage: scripts/debian-rootfs.sh OUTDIR [PACKAGE...]
#   PACKAGE...  Debian package names; they replace the default set
#               (busybox bc coreutils lua5.4 python3); a root for bc alone:
#               scripts/debian-rootfs.sh OUTDIR bc
#
# The mirror is read from this machine's own apt configuration, so no host name lives in the
# repository. apt runs as an unprivileged resolver in a private state directory under
# OUTDIR/.apt (never touching the host's package database); downloaded .debs are cached in
# OUTDIR/.apt/debs, so a rerun only unpacks and packs. Set FRISCY_ROOTFS_REFRESH=1 to force a
# fresh package index (otherwise one less than a day old is reused), and FRISCY_DEBIAN_MIRROR=URI
# to use another mirror than the machine's.
# Needs: apt-get, dpkg-deb, GNU tar, xz; qemu-riscv64 (optional) for the smoke test at the end.
set -euo pipefail

if [ $# -lt 1 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi

OUTDIR=$1
shift
PACKAGES=("$@")
if [ ${#PACKAGES[@]} -eq 0 ]; then
    PACKAGES=(busybox bc coreutils lua5.4 python3)
fi
SUITE=trixie
ARCH=riscv64

started=$(date +%s)
progress() { printf '[debian-rootfs %3ss] %s\n' "$(($(date +%s) - started))" "$*"; }
die() {
    printf 'debian-rootfs: error: %s\n' "$*" >&2
    exit 1
}

# The first URI of the machine's configured Debian archive (deb822 sources first, then the
# one-line format). Only a plain archive URI is wanted, not the security or updates suites.
mirror_uri() {
    local file uri
    for file in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
        [ -r "$file" ] || continue
        uri=$(awk 'tolower($1) == "uris:" { print $2; exit }' "$file")
        if [ -n "$uri" ]; then
            echo "$uri"
            return
        fi
    done
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$file" ] || continue
        # "deb [options] URI suite components": skip an optional bracketed option block.
        uri=$(awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $i; exit }' "$file")
        if [ -n "$uri" ]; then
            echo "$uri"
            return
        fi
    done
}

for tool in apt-get dpkg-deb tar xz; do
    command -v "$tool" >/dev/null ||
        die "'$tool' is required (Debian's apt, dpkg, tar and xz-utils packages)"
done

MIRROR=${FRISCY_DEBIAN_MIRROR:-$(mirror_uri)}
[ -n "$MIRROR" ] || die "no Debian mirror URI found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
APTDIR=$OUTDIR/.apt
DEBS=$APTDIR/debs
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache" "$DEBS/partial" "$APTDIR/state" "$APTDIR/log"
# Created once: rewriting it would invalidate apt's binary cache and slow every rerun.
[ -e "$APTDIR/status" ] || : >"$APTDIR/status"
source_line="deb [arch=$ARCH trusted=yes] $MIRROR $SUITE main"
if [ "$(cat "$APTDIR/sources.list" 2>/dev/null)" != "$source_line" ]; then
    echo "$source_line" >"$APTDIR/sources.list"
fi

APT_OPTS=(
    -o "APT::Architecture=$ARCH"
    -o "APT::Architectures=$ARCH"
    -o "Dir::State=$APTDIR/state"
    -o "Dir::State::Lists=$APTDIR/lists"
    -o "Dir::State::Status=$APTDIR/status"
    -o "Dir::Cache=$APTDIR/cache"
    -o "Dir::Cache::Archives=$DEBS"
    # Container images often disable apt's binary cache; keep it here so reruns skip
    # re-parsing the whole package index.
    -o "Dir::Cache::pkgcache=pkgcache.bin"
    -o "Dir::Cache::srcpkgcache=srcpkgcache.bin"
    -o "Dir::Etc::SourceList=$APTDIR/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=/dev/null"
    -o "Dir::Log=$APTDIR/log"
    -o "APT::Install-Recommends=false"
    -o "APT::Install-Suggests=false"
    -o "Acquire::Languages=none"
    -o "Debug::NoLocking=true"
    -o "APT::Sandbox::User=root"
)

progress "mirror $MIRROR, suite $SUITE/$ARCH, packages: ${PACKAGES[*]}"

# apt-get with its output in LOG, tried again after a pause when it fails: a mirror in the
# middle of a sync serves index files whose size disagrees with its Release file for a while
# ("Mirror sync in progress?"), which once failed a CI run.
apt_retrying() {
    local log=$1 attempt
    shift
    for attempt in 1 2 3 4; do
        if apt-get "${APT_OPTS[@]}" "$@" >"$log" 2>&1; then
            return 0
        fi
        [ $attempt -lt 4 ] || break
        progress "apt-get $* failed (attempt $attempt of 4); trying again in $((attempt * 15))s"
        sleep $((attempt * 15))
    done
    return 1
}

# When the mirror's Release file and package index disagree for longer than the retries
# wait (a mirror mid-sync, or a cache in front of it holding an older Release), fetch the
# index alone and describe it in a Release file of our own, as `apt-get update` would have
# left them: the .debs are then still checked against the index's hashes.
index_by_hand() {
    local name base packages
    name=$(printf '%s' "${MIRROR#*://}" | sed 's|/*$||; s|:|%3a|g; s|/|_|g')
    base="$APTDIR/lists/${name}_dists_${SUITE}"
    packages="${base}_main_binary-${ARCH}_Packages"
    progress "apt-get update kept failing; fetching the package index alone"
    rm -f "$APTDIR/lists/${name}_"*
    /usr/lib/apt/apt-helper download-file "$MIRROR/dists/$SUITE/main/binary-$ARCH/Packages.xz" \
        "$APTDIR/Packages.xz" >>"$APTDIR/log/update.log" 2>&1 || return 1
    xz -dc "$APTDIR/Packages.xz" >"$packages" || return 1
    {
        printf 'Origin: Debian\nSuite: %s\nCodename: %s\nArchitectures: %s\nComponents: main\n' \
            "$SUITE" "$SUITE" "$ARCH"
        printf 'Date: %s\nSHA256:\n %s %s main/binary-%s/Packages\n' "$(date -Ru)" \
            "$(sha256sum <"$packages" | cut -d' ' -f1)" "$(stat -c %s "$packages")" "$ARCH"
    } >"${base}_Release"
}

lists_fresh() {
    [ "${FRISCY_ROOTFS_REFRESH:-0}" != 1 ] &&
        [ -n "$(find "$APTDIR/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit)" ]
}
if lists_fresh; then
    progress "reusing package index (less than a day old)"
else
    progress "downloading package index"
    if ! apt_retrying "$APTDIR/log/update.log" -q update && ! index_by_hand; then
        cat "$APTDIR/log/update.log" >&2
        die "cannot read $SUITE/$ARCH from the mirror $MIRROR (see the apt output above)"
    fi
    if [ -z "$(find "$APTDIR/lists" -maxdepth 1 -name '*_Packages*' -print -quit)" ]; then
        cat "$APTDIR/log/update.log" >&2
        die "the mirror $MIRROR has no $SUITE $ARCH package index"
    fi
fi

# With an empty status file apt treats nothing as installed, so the simulated install lists the
# full Depends/Pre-Depends closure the programs need to run (recommends stay out). Only that
# exact set is unpacked, so stale cached .debs of other versions never leak into the tree.
progress "resolving dependencies"
if ! apt-get "${APT_OPTS[@]}" -q -s install "${PACKAGES[@]}" >"$APTDIR/log/resolve.log" 2>&1; then
    cat "$APTDIR/log/resolve.log" >&2
    die "apt could not resolve: ${PACKAGES[*]}"
fi
mapfile -t WANTED < <(awk '$1 == "Inst" { gsub(/[()]/, "", $3); print $2 "_" $3 }' "$APTDIR/log/resolve.log")
[ ${#WANTED[@]} -gt 0 ] || die "apt resolved no packages for: ${PACKAGES[*]}"
progress "${#WANTED[@]} packages in the closure"

# The cached archive of NAME_VERSION (apt escapes ':' of epochs as %3a in file names).
cached_deb() {
    local name=${1%%_*} version=${1#*_}
    find "$DEBS" -maxdepth 1 -name "${name}_${version//:/%3a}_*.deb" -print -quit
}
missing=0
for name_version in "${WANTED[@]}"; do
    [ -n "$(cached_deb "$name_version")" ] || missing=$((missing + 1))
done
if [ $missing -gt 0 ]; then
    progress "downloading $missing .debs into $DEBS"
    if ! apt_retrying "$APTDIR/log/install.log" -q -y --download-only install "${PACKAGES[@]}"; then
        cat "$APTDIR/log/install.log" >&2
        die "apt could not download: ${PACKAGES[*]}"
    fi
else
    progress "all .debs already cached in $DEBS"
fi

ROOT=$OUTDIR/root
rm -rf "$ROOT"
mkdir -p "$ROOT/usr/bin" "$ROOT/usr/sbin" "$ROOT/usr/lib"
# trixie is merged-/usr: the top-level directories are symlinks into /usr.
ln -s usr/bin "$ROOT/bin"
ln -s usr/sbin "$ROOT/sbin"
ln -s usr/lib "$ROOT/lib"

progress "unpacking into $ROOT"
for name_version in "${WANTED[@]}"; do
    deb=$(cached_deb "$name_version")
    [ -n "$deb" ] || die "downloaded archive for $name_version not found in $DEBS"
    # tar keeps the merged-/usr symlinks instead of replacing them with directories when a
    # package still ships files under /bin or /lib.
    dpkg-deb --fsys-tarfile "$deb" |
        tar -x -C "$ROOT" --keep-directory-symlink --no-same-owner --preserve-permissions ||
        die "unpacking $deb failed"
done

mkdir -p "$ROOT/etc" "$ROOT/tmp" "$ROOT/root" "$ROOT/proc" "$ROOT/dev" "$ROOT/home"
chmod 1777 "$ROOT/tmp"
chmod 0700 "$ROOT/root"
cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
# busybox's sh is the only shell in the default set; give /bin/sh to it unless a package did.
if [ ! -e "$ROOT/usr/bin/sh" ] && [ -x "$ROOT/usr/bin/busybox" ]; then
    ln -s busybox "$ROOT/usr/bin/sh"
fi

progress "packing $OUTDIR/rootfs.tar"
LC_ALL=C tar --create --file "$OUTDIR/rootfs.tar.tmp" --directory "$ROOT" \
    --format=gnu --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner .
mv "$OUTDIR/rootfs.tar.tmp" "$OUTDIR/rootfs.tar"

size=$(du -h "$OUTDIR/rootfs.tar" | cut -f1)
entries=$(tar -tf "$OUTDIR/rootfs.tar" | wc -l)
progress "done: $OUTDIR/rootfs.tar ($size, $entries entries), tree in $ROOT"

if command -v qemu-riscv64 >/dev/null; then
    progress "smoke test under qemu-riscv64 -L $ROOT"
    if [ -x "$ROOT/usr/bin/bc" ]; then
        out=$(echo 2+2 | qemu-riscv64 -L "$ROOT" "$ROOT/usr/bin/bc") || die "bc failed under qemu"
        [ "$out" = 4 ] || die "bc printed '$out' for 2+2"
        progress "  bc: 2+2 = $out"
    fi
    if [ -x "$ROOT/usr/bin/busybox" ]; then
        out=$(qemu-riscv64 -L "$ROOT" "$ROOT/usr/bin/busybox" sh -c 'echo hi | wc -c') ||
            die "busybox sh failed under qemu"
        [ "$out" = 3 ] || die "busybox printed '$out' for echo hi | wc -c"
        progress "  busybox sh: echo hi | wc -c = $out"
    fi
    if [ -x "$ROOT/usr/bin/lua5.4" ]; then
        out=$(qemu-riscv64 -L "$ROOT" "$ROOT/usr/bin/lua5.4" -e 'print(6*7)') || die "lua5.4 failed under qemu"
        progress "  lua5.4: 6*7 = $out"
    fi
    python=$(find "$ROOT/usr/bin" -maxdepth 1 -name 'python3.[0-9]*' -type f -print -quit)
    if [ -n "$python" ]; then
        out=$(qemu-riscv64 -L "$ROOT" "$python" -c 'import json; print(json.dumps([6*7]))') ||
            die "python3 failed under qemu"
        progress "  $(basename "$python"): json.dumps([6*7]) = $out"
    fi
fi
