#!/usr/bin/env bash
# Rebuilds the committed seed corpora (seeds/<target>/) from the sources in seeds/src with the RISC-V cross toolchain.
set -euo pipefail
cd "$(dirname "$0")"
CC=riscv64-linux-gnu-gcc
OBJCOPY=riscv64-linux-gnu-objcopy
ARCH=rv64gc_zba_zbb_zbs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p decode execute elf

for src in src/*.S; do
    name=$(basename "$src" .S)
    $CC -march=$ARCH -mabi=lp64d -c "$src" -o "$work/$name.o"
    $OBJCOPY -O binary -j .text "$work/$name.o" "decode/$name.bin"
    # execute: [header length 0][code] runs the code with the loader's registers.
    { printf '\0'; cat "decode/$name.bin"; } > "execute/$name"
done

ldflags=(-nostdlib -static -Os -ffreestanding -fno-tree-loop-distribute-patterns -Wl,--build-id=none -march=$ARCH -mabi=lp64d)
for name in hello memory selfmod compressed; do
    $CC "${ldflags[@]}" -s "src/$name.S" -o "elf/$name"
done
$CC "${ldflags[@]}" -s src/hello.c -o elf/hello-c
# Unstripped (has .symtab for Elf::symbol) and position-independent variants.
$CC "${ldflags[@]}" src/hello.S -o elf/hello-symbols
$CC "${ldflags[@]}" src/syscalls.S -o elf/syscalls
$CC "${ldflags[@]/-static/-static-pie}" -fPIE -Wl,--no-dynamic-linker -Wl,-z,norelro \
    -Wl,-z,max-page-size=4096 -Wl,-z,noseparate-code -s src/hello.S -o elf/hello-pie
wc -c decode/* execute/* elf/* | sort -n | tail -4
