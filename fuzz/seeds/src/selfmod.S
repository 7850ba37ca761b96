# Seed: code that rewrites an instruction, runs fence.i, and executes the new one (then loops on a counter).
    .option norvc
    .globl _start
_start:
    lla     t0, patch
    li      t1, 0x02a00513  # li a0, 42
    sw      t1, 0(t0)
    fence.i
patch:
    li      a0, 0
    li      t2, 100
1:  addi    t2, t2, -1
    bnez    t2, 1b
    li      a7, 93
    ecall
