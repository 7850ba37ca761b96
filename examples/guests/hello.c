/* A small static riscv64 guest for the quick start: prints its arguments, does some maths, exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

int main(int argc, char **argv) {
    printf("Hello from RISC-V! argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("  argv[%d] = %s\n", i, argv[i]);
    double sum = 0;
    for (int k = 0; k < 1000000; k++)
        sum += (k % 2 ? -4.0 : 4.0) / (2 * k + 1);
    printf("pi ~ %.6f (Leibniz, 1e6 terms), sqrt(2) = %.12f\n", sum, sqrt(2.0));
    const char *home = getenv("HOME");
    printf("HOME=%s\n", home ? home : "(unset)");
    return 0;
}
