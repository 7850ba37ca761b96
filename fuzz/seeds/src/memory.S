# Seed: brk and mmap/munmap/mremap calls, with stores into the memory they return, then exit.
    .globl _start
_start:
    li      a0, 0
    li      a7, 214         # brk(0)
    ecall
    mv      s0, a0
    li      t0, 8192
    add     a0, s0, t0
    li      a7, 214         # brk(+8 KiB)
    ecall
    sd      a0, 0(s0)
    li      a0, 0
    li      a1, 16384
    li      a2, 3
    li      a3, 0x22
    li      a4, -1
    li      a5, 0
    li      a7, 222         # mmap(0, 16 KiB, RW, PRIVATE|ANONYMOUS)
    ecall
    mv      s1, a0
    sd      s0, 8(s1)
    mv      a0, s1
    li      a1, 16384
    li      a2, 32768
    li      a3, 1
    li      a7, 216         # mremap(.., 32 KiB, MAYMOVE)
    ecall
    mv      s1, a0
    ld      t1, 8(s1)
    li      a1, 32768
    li      a7, 215         # munmap
    ecall
    addi    sp, sp, -16
    mv      a0, sp
    li      a1, 16
    li      a2, 0
    li      a7, 278         # getrandom(sp, 16, 0)
    ecall
    li      a0, 1
    mv      a1, sp
    li      a7, 113         # clock_gettime(MONOTONIC, sp)
    ecall
    li      a0, 0
    li      a7, 94          # exit_group(0)
    ecall
