# Seed: A extension, Zicsr counters, fences, and the system instructions.
    .option norvc
    .globl _start
_start:
    addi    sp, sp, -32
    li      t0, 5
    sd      t0, 0(sp)
    lr.d    a0, (sp)
    sc.d    a1, t0, (sp)
    lr.w.aq a0, (sp)
    sc.w.rl a1, t0, (sp)
    amoswap.d a2, t0, (sp)
    amoadd.w.aqrl a2, t0, (sp)
    amoxor.d a2, t0, (sp)
    amoand.w a2, t0, (sp)
    amoor.d a2, t0, (sp)
    amomin.w a2, t0, (sp)
    amomax.d a2, t0, (sp)
    amominu.w a2, t0, (sp)
    amomaxu.d a2, t0, (sp)
    rdcycle a3
    rdtime  a4
    rdinstret a5
    csrrw   a6, fcsr, zero
    csrrsi  a6, fflags, 1
    csrrci  a6, frm, 7
    fence
    fence   r, w
    fence.tso
    fence.i
    li      a7, 172
    ecall
    ebreak
