/* hello: the smallest web-demo guest; prints a greeting and its arguments, exits 0 (the node test checks the output). */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("Hello from RISC-V in WebAssembly!\n");
    for (int i = 1; i < argc; i++)
        printf("arg %d: %s\n", i, argv[i]);
    return 0;
}
