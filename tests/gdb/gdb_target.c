/* Guest for tests/gdb_session.py: a debugger sets breakpoints in it, reads and changes its
   variables and watches the exit status follow. Built with -g -O0 -static. */
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

int main(void) {
    int counter = 7;
    double factor = 1.75;
    int total = combine(counter, factor);
    printf("%s\n", greeting);
    printf("counter=%d total=%d\n", counter, total);
    return counter + (int)strlen(greeting) % 2;
}
