#!/usr/bin/env bash
# Regenerates seeds/tar_vfs/: small GNU tar images (links, long names, PAX, hostile `../` names), each prefixed with its length and followed by operation bytes.
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD/tar_vfs
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir -p tree/dir/sub tree/empty
printf 'hello\n' >tree/dir/file.txt
printf 'deep' >tree/dir/sub/deep
ln -s dir/file.txt tree/rel
ln -s /dir/sub tree/abs
ln -s loop2 tree/loop1
ln -s loop1 tree/loop2
ln -s self tree/self
ln -s ../../.. tree/up
ln tree/dir/file.txt tree/hard
long=$(printf 'n%.0s' $(seq 120))
printf 'long' >"tree/dir/$long"
opts=(--blocking-factor=1 --owner=0 --group=0 --numeric-owner --mtime=@1700000000 --sort=name)
tar "${opts[@]}" --format=gnu -C tree -cf basic.tar .
tar "${opts[@]}" --format=gnu -C tree -cf links.tar rel abs loop1 loop2 self up hard dir/file.txt
tar "${opts[@]}" --format=pax -C tree -cf pax.tar "dir/$long" dir/sub
tar "${opts[@]}" --format=ustar -C tree -cf ustar.tar dir/sub/deep empty
# Hostile names kept verbatim (-P): climbing out, absolute, a link pointing above the root.
tar "${opts[@]}" --format=gnu -P -C tree --transform 's,^,../../,' -cf hostile.tar dir/file.txt up
tar "${opts[@]}" --format=gnu -P -C tree --transform 's,^dir,/abs/../../escape,' -cf hostile2.tar dir/sub/deep hard
# Each seed: [u32 LE tar length][tar][operation bytes].
i=0
for t in *.tar; do
    for ops in 0 1; do
        {
            python3 -c "import struct,sys; sys.stdout.buffer.write(struct.pack('<I', $(stat -c %s "$t")))"
            cat "$t"
            if [ $ops = 1 ]; then head -c 200 /dev/urandom; fi
        } >"$out/${t%.tar}-$ops"
        i=$((i + 1))
    done
done
echo "$i seeds in $out"
