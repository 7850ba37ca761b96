# Seed: F/D instructions with every rounding mode, conversions, moves, compares and fused forms.
    .option norvc
    .globl _start
_start:
    li      t0, 0x40490fdb
    fmv.w.x ft0, t0
    li      t1, 0x400921fb54442d18
    fmv.d.x ft1, t1
    fcvt.s.w ft2, t0, rne
    fcvt.d.l ft3, t1, rtz
    fadd.s  ft4, ft0, ft2, rdn
    fsub.d  ft5, ft1, ft3, rup
    fmul.s  ft6, ft0, ft0, rmm
    fdiv.d  ft7, ft1, ft3
    fsqrt.s fa0, ft0
    fsqrt.d fa1, ft1
    fmadd.s fa2, ft0, ft2, ft4
    fmsub.d fa3, ft1, ft3, ft5
    fnmsub.s fa4, ft0, ft2, ft4
    fnmadd.d fa5, ft1, ft3, ft5
    fsgnj.s fa6, ft0, ft2
    fsgnjn.d fa7, ft1, ft3
    fsgnjx.s fs0, ft0, ft2
    fmin.s  fs1, ft0, ft2
    fmax.d  fs2, ft1, ft3
    fcvt.w.s a0, ft0, rtz
    fcvt.wu.d a1, ft1
    fcvt.l.s a2, ft0
    fcvt.lu.d a3, ft1, rup
    fcvt.s.d fs3, ft1
    fcvt.d.s fs4, ft0
    feq.s   a4, ft0, ft2
    flt.d   a5, ft1, ft3
    fle.s   a6, ft0, ft2
    fclass.s a7, ft0
    fclass.d a7, ft1
    fmv.x.w a0, ft0
    fmv.x.d a1, ft1
    frflags a2
    fsrm    a3, a4
    frcsr   a5
    addi    sp, sp, -16
    fsw     ft0, 0(sp)
    fsd     ft1, 8(sp)
    flw     ft8, 0(sp)
    fld     ft9, 8(sp)
    ebreak
