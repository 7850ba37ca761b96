# Seed: the shapes the code cache decodes through or fuses: loops closed by a jump or a backward branch of each kind, a jump to a jump, a pair across a jump, indexed loads, a switch through a table of jumps.
    .globl _start
_start:
    addi    sp, sp, -128
    mv      a2, sp
    li      t0, 16
fill:                               # stores an index table (backward bnez)
    addi    t0, t0, -1
    slli    t1, t0, 2
    add     t1, t1, a2
    andi    t2, t0, 1
    sw      t2, 0(t1)
    bnez    t0, fill
    li      a1, 6
loop:                               # closed by a plain jump
    beqz    a1, done
    addi    a0, a0, 3
    addi    a1, a1, -1
    j       loop
done:
    j       next                    # a jump to a jump
    ebreak
next:
    j       counted
    ebreak
counted:
    li      a3, 5
    li      a4, 0
blt_loop:                           # blt, bge, bltu, bgeu, beq closing loops
    addi    a4, a4, 1
    blt     a4, a3, blt_loop
bge_loop:
    addi    a4, a4, -1
    bge     a4, zero, bge_loop
    li      a4, 0
bltu_loop:
    addi    a4, a4, 1
    bltu    a4, a3, bltu_loop
bgeu_loop:
    addi    a4, a4, -1
    bgeu    a4, a3, bgeu_loop
    li      a5, 3
    li      a6, 1
beq_loop:
    addi    a5, a5, -1
    snez    t3, a5
    beq     t3, a6, beq_loop
    li      a1, 8
switch:                             # indexed load + jump table, as GCC emits a switch
    addi    a1, a1, -1
    slli    t4, a1, 2
    add     t4, t4, a2
    lw      t5, 0(t4)
    slli    t5, t5, 2
    .option push
    .option norvc
    auipc   t6, 0                   # a table of jumps (no relocations: seeds are not linked)
    add     t5, t5, t6
    jr      12(t5)
    j       case0
    j       case1
    .option pop
case0:
    addi    a0, a0, 1
    j       join
case1:
    addi    a0, a0, 2
join:
    bnez    a1, switch
    slli    s1, a1, 3               # doubleword index, add operands swapped
    add     s1, a2, s1
    ld      s2, 8(s1)
    add     s3, a2, a1              # a pair across a jump
    j       across
    ebreak
across:
    ld      s4, 0(s3)
    li      s1, 1
    .option push
    .option rvc
    c.slli  s1, 2                   # compressed indexed load
    c.add   s1, a2
    c.lw    a0, 0(s1)
    .option pop
spin:
    j       spin
