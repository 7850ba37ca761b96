/* riscv64 guest for the C host example and its tests: each mode (argv[1]) exercises one host feature. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Host API numbers: the host registers handlers for these with friscy_machine_set_syscall_handler. */
#define HOST_ADD 0x10001  /* a0 + a1 */
#define HOST_LOG 0x10002  /* print the NUL-terminated string at a0; returns its length */
#define HOST_STOP 0x10003 /* asks the host to stop the run; returns 0 */
#define FRISCY_PAUSE 0xff00 /* libfriscy's pause call: ready for guest calls */

/* A symbol the host looks up by name and reads after the run. */
volatile uint64_t guest_counter = 0;

static long host_call(long number, long a0, long a1) {
    register long r_a0 __asm__("a0") = a0;
    register long r_a1 __asm__("a1") = a1;
    register long r_a7 __asm__("a7") = number;
    __asm__ volatile("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a7) : "memory");
    return r_a0;
}

static int mode_hello(int argc, char **argv) {
    printf("hello from riscv64, argc=%d", argc);
    for (int i = 2; i < argc; i++)
        printf(" [%s]", argv[i]);
    const char *who = getenv("WHO");
    char cwd[256];
    printf("\nWHO=%s cwd=%s\n", who ? who : "(unset)", getcwd(cwd, sizeof cwd) ? cwd : "?");
    fprintf(stderr, "to stderr\n");
    return 0;
}

static int mode_syscall(void) {
    long sum = host_call(HOST_ADD, 20, 22);
    long len = host_call(HOST_LOG, (long)"guest log line", 0);
    printf("host_add(20, 22) = %ld, host_log returned %ld\n", sum, len);
    long bad = host_call(HOST_LOG, 8, 0); /* an address outside guest memory */
    printf("host_log(bad pointer) = %ld\n", bad);
    return (int)sum;
}

static int mode_echo(void) {
    /* Upper-cases stdin to stdout line by line; exits with the number of lines. */
    char line[256];
    int lines = 0;
    while (fgets(line, sizeof line, stdin)) {
        for (char *p = line; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        fputs(line, stdout);
        fflush(stdout);
        lines++;
    }
    return lines;
}

static int mode_spin(long n) {
    /* Pure computation without system calls, then one line of output. */
    uint64_t x = 1;
    for (long i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        guest_counter++;
    }
    printf("spin %ld -> %016llx\n", n, (unsigned long long)x);
    return 0;
}

static int mode_stop(void) {
    puts("before stop");
    fflush(stdout);
    long r = host_call(HOST_STOP, 0, 0);
    printf("after stop (%ld)\n", r);
    return 5;
}

static int mode_entropy(void) {
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    unsigned char buf[8];
    ssize_t n = getrandom(buf, sizeof buf, 0);
    printf("realtime %lld.%09ld monotonic %lld.%09ld random(%zd)",
           (long long)rt.tv_sec, rt.tv_nsec, (long long)mono.tv_sec, mono.tv_nsec, n);
    for (size_t i = 0; i < sizeof buf; i++)
        printf(" %02x", buf[i]);
    printf(" tty %d%d%d\n", isatty(0), isatty(1), isatty(2));
    return 0;
}

/* Functions the host calls (friscy_machine_call*) after mode "serve" pauses. */
#define CALLABLE __attribute__((noinline, used))
CALLABLE double guest_scale(long a, double x) {
    guest_counter++;
    return (double)a * x;
}
CALLABLE long guest_sum9(long a, long b, long c, long d, long e, long f, long g, long h, long i) {
    return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i;
}
CALLABLE long guest_host_add(long a, long b) { return host_call(HOST_ADD, a, b); }
volatile uint64_t spin_counter;
CALLABLE void guest_forever(void) {
    for (;;)
        spin_counter++;
}
CALLABLE long guest_null_write(void) {
    *(volatile int *)(uintptr_t)0 = 1;
    return 0;
}

static int mode_serve(void) {
    long r = host_call(FRISCY_PAUSE, 0, 0);
    printf("served %ld %lu\n", r, (unsigned long)guest_counter);
    return 0;
}

/* Counts the fds it can still open (dup of stdin) until the limit. */
static int mode_fds(void) {
    int n = 0;
    while (dup(0) >= 0)
        n++;
    printf("fds %d\n", n);
    return 0;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "hello";
    guest_counter = 0x600d;
    if (!strcmp(mode, "hello"))
        return mode_hello(argc, argv);
    if (!strcmp(mode, "syscall"))
        return mode_syscall();
    if (!strcmp(mode, "echo"))
        return mode_echo();
    if (!strcmp(mode, "spin"))
        return mode_spin(argc > 2 ? atol(argv[2]) : 1000000);
    if (!strcmp(mode, "stop"))
        return mode_stop();
    if (!strcmp(mode, "entropy"))
        return mode_entropy();
    if (!strcmp(mode, "serve"))
        return mode_serve();
    if (!strcmp(mode, "fds"))
        return mode_fds();
    if (!strcmp(mode, "abort"))
        abort();
    if (!strcmp(mode, "segv")) {
        volatile int *volatile bad = (volatile int *)(uintptr_t)8;
        *bad = 1;
        return 1;
    }
    if (!strcmp(mode, "ebreak")) {
        __asm__ volatile("ebreak");
        puts("after ebreak");
        return 9;
    }
    fprintf(stderr, "guest: unknown mode '%s'\n", mode);
    return 2;
}
