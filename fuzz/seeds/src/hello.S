# Seed: write(1, "hello\n") then exit(0); the smallest complete program.
    .globl _start
_start:
    li      a0, 1
    lla     a1, msg
    li      a2, 6
    li      a7, 64
    ecall
    li      a0, 0
    li      a7, 93
    ecall
msg:
    .ascii  "hello\n"
