# Seed guest for the ffi target: write, getpid, a host-API custom call on a string, a brk, an ebreak, then exit(3).
    .globl _start
    .globl message
_start:
    li a0, 1
    la a1, message
    li a2, 6
    li a7, 64          # write(1, message, 6)
    ecall
    li a7, 172         # getpid
    ecall
    la a0, message
    li a1, 6
    li a7, 0x10000     # custom host call: string at a0
    ecall
    li a0, 0
    li a7, 214         # brk(0)
    ecall
    ebreak
    li a0, 3
    li a7, 93          # exit(3)
    ecall
    .data
message:
    .asciz "hello\n"
