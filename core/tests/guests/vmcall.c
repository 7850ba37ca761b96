/* Guest for core/tests/vmcall.rs: functions the host calls after main pauses.
 * Each argument-passing function stores what it received in a global the test reads back,
 * so a wrong register or stack slot shows up as a wrong value, not just a wrong sum. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define FRISCY_PAUSE 0xff00
#define HOST_TWICE 0x10001

#define API __attribute__((noinline, used))

static long raw_syscall1(long number, long arg) {
    register long a7 __asm__("a7") = number;
    register long a0 __asm__("a0") = arg;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    return a0;
}

uint64_t seen_int[16];
double seen_fp[16];
float seen_f32[16];
volatile long counter;
long initialised;

API void empty(void) {}

API long add2(long a, long b) { return a + b; }

/* Returns its argument register whole: shows how a 32-bit argument was widened. */
API long whole_register(long x) { return x; }

API long ints12(long a, long b, long c, long d, long e, long f, long g, long h, long i, long j,
                long k, long l) {
    long v[12] = {a, b, c, d, e, f, g, h, i, j, k, l};
    for (int n = 0; n < 12; n++) seen_int[n] = v[n];
    return a - b + c - d + e - f + g - h + i - j + k - l;
}

/* Ten doubles: LP64D passes the 9th and 10th in integer registers a0 and a1. */
API double doubles10(double a, double b, double c, double d, double e, double f, double g,
                     double h, double i, double j) {
    double v[10] = {a, b, c, d, e, f, g, h, i, j};
    double s = 0;
    for (int n = 0; n < 10; n++) {
        seen_fp[n] = v[n];
        s += v[n] * (n + 1);
    }
    return s;
}

API float floats10(float a, float b, float c, float d, float e, float f, float g, float h,
                   float i, float j) {
    float v[10] = {a, b, c, d, e, f, g, h, i, j};
    float s = 0;
    for (int n = 0; n < 10; n++) {
        seen_f32[n] = v[n];
        s += v[n];
    }
    return s;
}

/* 9 ints, 9 doubles and an int: i8, d8 and last go to the stack in argument order. */
API long mixed19(long i0, double d0, long i1, double d1, long i2, double d2, long i3, double d3,
                 long i4, double d4, long i5, double d5, long i6, double d6, long i7, double d7,
                 long i8, double d8, int last) {
    long iv[9] = {i0, i1, i2, i3, i4, i5, i6, i7, i8};
    double dv[9] = {d0, d1, d2, d3, d4, d5, d6, d7, d8};
    for (int n = 0; n < 9; n++) {
        seen_int[n] = iv[n];
        seen_fp[n] = dv[n];
    }
    seen_int[9] = (uint64_t)(int64_t)last;
    return i0 + i8 + last;
}

API double mix_small(int a, double x, long b, float y, double z) {
    return a * 1000.0 + x * 100 + b * 10 + y + z / 10;
}

/* Makes system calls during the call: write, getpid, and a host custom call. */
API long with_syscalls(long n) {
    char buf[64];
    int len = snprintf(buf, sizeof buf, "called with %ld\n", n);
    write(1, buf, len);
    return getpid() * 1000 + raw_syscall1(HOST_TWICE, n);
}

API long sum_to(long n) {
    long s = 0;
    for (long i = 1; i <= n; i++) s += i;
    return s;
}

API void spin(void) {
    for (;;) counter++;
}

API long null_write(void) {
    *(volatile int *)0 = 1;
    return 1;
}

API long try_fork(void) {
    long r = syscall(SYS_clone, 17 /* SIGCHLD */, 0, 0, 0, 0);
    return r < 0 ? -errno : r;
}

API long pause_inside(long n) {
    raw_syscall1(FRISCY_PAUSE, 0);
    return n + 1;
}

API long set_initialised(long v) {
    long old = initialised;
    initialised = v;
    return old;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "fork-spin") == 0) {
        /* The parent waits for a child that never ends: the child holds the hart. */
        if (fork() == 0)
            for (;;) counter++;
        wait(0);
    }
    if (argc > 1 && strcmp(argv[1], "read-first") == 0) {
        char c;
        read(0, &c, 1);
    }
    initialised = 42;
    printf("ready\n");
    fflush(stdout);
    long r = raw_syscall1(FRISCY_PAUSE, 0);
    printf("resumed %ld %ld\n", r, initialised);
    return (int)(initialised & 0x7f);
}
