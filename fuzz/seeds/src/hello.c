/* Seed ELF: a freestanding C program (no libc) that writes a line and exits, with a .bss array. */
static char scratch[256];

static long sys3(long n, long a, long b, long c) {
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

void _start(void) {
    static const char msg[] = "hello from C\n";
    for (unsigned i = 0; i < sizeof msg; i++)
        scratch[i] = msg[i];
    sys3(64, 1, (long)scratch, sizeof msg - 1);
    sys3(93, 0, 0, 0);
    for (;;) {
    }
}
