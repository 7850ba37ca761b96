/* Static-PIE guest (ET_DYN, no PT_INTERP): pc-relative data access and a relocated entry point. */
    .globl _start
_start:
    li a0, 1
    lla a1, msg
    li a2, 34
    li a7, 64
    ecall
    /* Print the distance between two code labels: position independent by construction. */
    lla t0, _start
    lla t1, msg
    sub t2, t1, t0
    li a0, 0
    beqz t2, 1f
    li a0, 5
1:  li a7, 93
    ecall

    .section .rodata
msg:
    .ascii "static-pie guest runs at any base\n"
msg_end:
