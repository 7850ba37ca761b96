/* Guest for tests/gdb_session.py: a debugger sets breakpoints in it, reads and changes its
   variables and watches the exit status follow. Built with -g -O0 -static.
   Arguments: none (the normal run), `spin` (loops until interrupted), `crash` (SIGSEGV). */
#include <stdio.h>
#include <string.h>

static const char greeting[] = "hello from the guest";
volatile double scale = 2.5;

/* noinline: the test breaks here and reads the arguments. */
__attribute__((noinline)) int combine(int base, double factor) {
    int result = base * 3;
    result += (int)(factor * scale);
    return result;
}

/* Runs until the debugger interrupts it (the test's Ctrl-C). */
__attribute__((noinline)) void spin(void) {
    volatile unsigned long n = 0;
    for (;;) n++;
}

/* Dies of SIGSEGV: a store through a null pointer. */
__attribute__((noinline)) void crash(volatile int *where) {
    *where = 1;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "spin") == 0) spin();
    if (argc > 1 && strcmp(argv[1], "crash") == 0) crash(0);
    int counter = 7;
    double factor = 1.75;
    int total = combine(counter, factor);
    printf("%s\n", greeting);
    printf("counter=%d total=%d\n", counter, total);
    return counter + (int)strlen(greeting) % 2;
}
