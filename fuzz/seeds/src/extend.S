# Seed: the shift pairs rv64gc code extends registers with (zext.w, slli.uw, sext.b/h/w, zext.h; word and compressed forms), which the code cache runs as one operation, and near misses it must not.
    .globl _start
_start:
    li      a0, -1234567
    li      a5, 40
loop:
    slli    a1, a0, 32              # zext.w
    srli    a1, a1, 32
    slli    a2, a0, 32              # slli.uw 3
    srli    a2, a2, 29
    slli    a3, a0, 56              # sext.b
    srai    a3, a3, 56
    slliw   a4, a0, 24              # sext.b, word forms
    sraiw   a4, a4, 24
    slliw   a6, a0, 16              # sext.h, word forms
    sraiw   a6, a6, 16
    slli    t0, a0, 48              # zext.h
    srli    t0, t0, 48
    slliw   t1, a0, 16              # zext.h, word forms
    srliw   t1, t1, 16
    slli    t2, a0, 32              # sext.w
    srai    t2, t2, 32
    .option push
    .option rvc
    mv      s1, a0
    c.slli  s1, 32                  # compressed zext.w
    c.srli  s1, 32
    .option pop
    slli    s2, a0, 32              # not an extension: shifts right by 33
    srli    s2, s2, 33
    slli    s3, a0, 24              # not in place
    srai    s3, a0, 24
    slli    zero, a0, 32            # into x0
    srli    s4, zero, 32
    add     a0, a0, a1
    xor     a0, a0, a3
    addi    a5, a5, -1
    bnez    a5, loop
    ebreak
