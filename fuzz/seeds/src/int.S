# Seed: RV64I/M integer instructions (loads, stores, branches, ALU, shifts, mul/div, word forms).
    .option norvc
    .globl _start
_start:
    lui     a0, 0x12345
    auipc   a1, 0x1
    addi    a2, a0, -1
    slti    a3, a2, 100
    sltiu   a4, a2, -1
    xori    a5, a4, 0x55
    ori     a6, a5, 0x7ff
    andi    a7, a6, -256
    slli    t0, a0, 63
    srli    t1, a0, 1
    srai    t2, t0, 32
    add     s0, a0, a1
    sub     s1, a0, a1
    sll     s2, a0, a2
    slt     s3, a1, a2
    sltu    s4, a1, a2
    xor     s5, a0, a1
    srl     s6, a0, a3
    sra     s7, t0, a3
    or      s8, a0, a1
    and     s9, a0, a1
    addiw   s10, a0, 2047
    slliw   s11, a0, 31
    srliw   t3, a0, 5
    sraiw   t4, a0, 17
    addw    t5, a0, a1
    subw    t6, a0, a1
    sllw    a0, a1, a2
    srlw    a0, a1, a2
    sraw    a0, a1, a2
    mul     a0, a1, a2
    mulh    a0, a1, a2
    mulhsu  a0, a1, a2
    mulhu   a0, a1, a2
    div     a0, a1, a2
    divu    a0, a1, zero
    rem     a0, a1, a2
    remu    a0, a1, zero
    mulw    a0, a1, a2
    divw    a0, a1, a2
    divuw   a0, a1, a2
    remw    a0, a1, a2
    remuw   a0, a1, a2
    addi    sp, sp, -64
    sd      a0, 0(sp)
    sw      a1, 8(sp)
    sh      a2, 12(sp)
    sb      a3, 14(sp)
    ld      a0, 0(sp)
    lw      a1, 8(sp)
    lwu     a1, 8(sp)
    lh      a2, 12(sp)
    lhu     a2, 12(sp)
    lb      a3, 14(sp)
    lbu     a3, 14(sp)
    beq     a0, a0, 1f
1:  bne     a0, a1, 1f
1:  blt     a0, a1, 1f
1:  bge     a0, a1, 1f
1:  bltu    a0, a1, 1f
1:  bgeu    a0, a1, 1f
1:  jal     ra, 1f
1:  auipc   t0, 0
    jalr    zero, 12(t0)
    ebreak
