# Seed: RVC forms (the assembler compresses whatever it can), including a loop and stack traffic.
    .option rvc
    .globl _start
_start:
    c.addi16sp sp, -64
    c.addi4spn a0, sp, 16
    c.li    a1, 31
    c.lui   a2, 0x1f
    c.addi  a1, -1
    c.addiw a1, 3
    c.slli  a1, 2
    c.srli  a1, 1
    c.srai  a1, 1
    c.andi  a1, 15
    c.mv    a3, a1
    c.add   a3, a1
    c.sub   a3, a1
    c.xor   a3, a1
    c.or    a3, a1
    c.and   a3, a1
    c.subw  a3, a1
    c.addw  a3, a1
    c.sdsp  a1, 0(sp)
    c.swsp  a1, 8(sp)
    c.fsdsp fa0, 16(sp)
    c.ldsp  a4, 0(sp)
    c.lwsp  a4, 8(sp)
    c.fldsp fa1, 16(sp)
    c.sd    a1, 24(a0)
    c.sw    a1, 32(a0)
    c.fsd   fa0, 40(a0)
    c.ld    a4, 24(a0)
    c.lw    a4, 32(a0)
    c.fld   fa1, 40(a0)
    c.li    a5, 10
1:  c.addi  a5, -1
    c.bnez  a5, 1b
    c.beqz  a5, 2f
2:  c.j     3f
3:  auipc   a6, 0
    c.addi  a6, 12
    c.jalr  a6
    c.nop
    c.jr    ra
    c.ebreak
