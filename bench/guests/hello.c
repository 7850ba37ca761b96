/* Benchmark guest: start-up cost — a static hello world that prints one line and exits. */
#include <stdio.h>

int main(void) {
    puts("hello checksum 0");
    return 0;
}
