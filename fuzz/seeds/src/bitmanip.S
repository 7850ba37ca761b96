# Seed: Zba, Zbb and Zbs instructions.
    .option norvc
    .globl _start
_start:
    li      a1, 0x0123456789abcdef
    li      a2, 13
    add.uw  a0, a1, a2
    sh1add  a0, a1, a2
    sh2add  a0, a1, a2
    sh3add  a0, a1, a2
    sh1add.uw a0, a1, a2
    sh2add.uw a0, a1, a2
    sh3add.uw a0, a1, a2
    slli.uw a0, a1, 40
    andn    a0, a1, a2
    orn     a0, a1, a2
    xnor    a0, a1, a2
    clz     a0, a1
    clzw    a0, a1
    ctz     a0, a1
    ctzw    a0, a1
    cpop    a0, a1
    cpopw   a0, a1
    max     a0, a1, a2
    maxu    a0, a1, a2
    min     a0, a1, a2
    minu    a0, a1, a2
    sext.b  a0, a1
    sext.h  a0, a1
    zext.h  a0, a1
    rol     a0, a1, a2
    rolw    a0, a1, a2
    ror     a0, a1, a2
    rori    a0, a1, 7
    roriw   a0, a1, 7
    rorw    a0, a1, a2
    orc.b   a0, a1
    rev8    a0, a1
    bclr    a0, a1, a2
    bclri   a0, a1, 63
    bext    a0, a1, a2
    bexti   a0, a1, 3
    binv    a0, a1, a2
    binvi   a0, a1, 31
    bset    a0, a1, a2
    bseti   a0, a1, 32
    .insn r 0x33, 5, 7, a0, a1, a2
    .insn r 0x33, 7, 7, a0, a1, a2
    ebreak
