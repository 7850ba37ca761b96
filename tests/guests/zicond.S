/* Zicond czero.eqz/czero.nez over edge operands, including rd aliasing and x0 operands.
   binutils 2.40 does not know Zicond, so the instructions are spelled with .insn. */

#ifdef FRISCY_QEMU_REF
/* qemu 7.2 has no Zicond, but its XVentanaCondOps vt.maskc/vt.maskcn compute exactly
   czero.eqz/czero.nez; the reference build (run with -cpu rv64,xventanacondops=true)
   encodes those instead, with identical instruction sizes so the layout does not change. */
#define CZERO_EQZ(rd, rs1, rs2) .insn r 0x7b, 6, 0, rd, rs1, rs2
#define CZERO_NEZ(rd, rs1, rs2) .insn r 0x7b, 7, 0, rd, rs1, rs2
#else
#define CZERO_EQZ(rd, rs1, rs2) .insn r 0x33, 5, 7, rd, rs1, rs2
#define CZERO_NEZ(rd, rs1, rs2) .insn r 0x33, 7, 7, rd, rs1, rs2
#endif

    .section .rodata
vals:
    .dword 0, 1, -1, 0x8000000000000000, 0x100000000, 0x80000000, 2, 0xdeadbeef
    .dword 0x7fffffffffffffff, 0xffffffff00000000
    .equ NVALS, 10
fmt_pair:
    .string "a=%016lx b=%016lx eqz=%016lx nez=%016lx sel=%016lx eqz_rd=rs1:%016lx nez_rd=rs2:%016lx\n"
fmt_zero:
    .string "a=%016lx eqz(a,x0)=%016lx nez(a,x0)=%016lx eqz(x0,a)=%016lx nez(x0,a)=%016lx\n"

    .text
    .globl main
main:
    addi sp, sp, -64
    sd ra, 56(sp)
    sd s0, 48(sp)
    sd s1, 40(sp)
    sd s2, 32(sp)
    sd s3, 24(sp)
    sd s4, 16(sp)
    la s0, vals
    li s1, 0                    /* index of a */
1:
    slli t0, s1, 3
    add t0, s0, t0
    ld s3, 0(t0)
    li s2, 0                    /* index of b */
2:
    slli t0, s2, 3
    add t0, s0, t0
    ld s4, 0(t0)
    mv a1, s3
    mv a2, s4
    CZERO_EQZ(a3, s3, s4)
    CZERO_NEZ(a4, s3, s4)
    /* The branch-free select the compiler builds from the pair: b ? a : ~a. */
    CZERO_EQZ(t1, s3, s4)
    not t2, s3
    CZERO_NEZ(t2, t2, s4)
    or a5, t1, t2
    mv a6, s3
    CZERO_EQZ(a6, a6, s4)
    mv a7, s4
    CZERO_NEZ(a7, s3, a7)
    la a0, fmt_pair
    call printf
    addi s2, s2, 1
    li t0, NVALS
    blt s2, t0, 2b

    mv a1, s3
    CZERO_EQZ(a2, s3, zero)
    CZERO_NEZ(a3, s3, zero)
    CZERO_EQZ(a4, zero, s3)
    CZERO_NEZ(a5, zero, s3)
    la a0, fmt_zero
    call printf
    addi s1, s1, 1
    li t0, NVALS
    blt s1, t0, 1b

    li a0, 0
    ld ra, 56(sp)
    ld s0, 48(sp)
    ld s1, 40(sp)
    ld s2, 32(sp)
    ld s3, 24(sp)
    ld s4, 16(sp)
    addi sp, sp, 64
    ret
    .section .note.GNU-stack,"",@progbits
