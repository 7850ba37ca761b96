/* Benchmark guest: memcpy/memmove/memset/strlen/memchr/memcmp traffic over buffers of mixed sizes (libc string routines). */
#include "bench.h"
#include <string.h>

#define BUF (1u << 20)

static char src[BUF + 4096], dst[BUF + 4096];

int main(int argc, char **argv) {
    long scale = bench_scale(argc, argv);
    uint64_t seed = 99, sum = 0;
    /* letters with a NUL about every 1..2000 bytes: strings of mixed lengths */
    for (unsigned i = 0; i < BUF; i++)
        src[i] = (char)('a' + bench_next(&seed) % 26);
    for (unsigned i = 0; i < BUF;) {
        i += 1 + (unsigned)(bench_next(&seed) % 2000);
        if (i < BUF)
            src[i] = 0;
    }
    src[BUF] = 0;
    for (long r = 0; r < 1500 * scale; r++) {
        /* copies of sizes 8 B .. 64 KiB at varying alignments */
        for (unsigned k = 0; k < 64; k++) {
            size_t len = (size_t)8 << (k % 14);
            size_t from = (size_t)(bench_next(&seed) % (BUF - len));
            size_t to = (size_t)(bench_next(&seed) % (BUF - len));
            memcpy(dst + to, src + from, len);
            sum = bench_mix(sum, (uint8_t)dst[to + len / 2]);
        }
        memmove(dst + 1, dst, BUF / 4);
        memset(dst + BUF / 2, (int)r, BUF / 8);
        /* walk every string of src */
        for (size_t pos = 0; pos < BUF;) {
            size_t n = strlen(src + pos);
            sum += n;
            pos += n + 1;
        }
        /* search and compare */
        for (unsigned k = 0; k < 32; k++) {
            const char *p = memchr(src + k * 1024, 'z' - (int)(k % 26), BUF / 2);
            sum = bench_mix(sum, p ? (uint64_t)(p - src) : 0);
        }
        memcpy(dst, src, BUF);
        sum = bench_mix(sum, (uint64_t)(memcmp(dst, src, BUF) == 0));
        dst[BUF - 1 - (size_t)r] ^= 1;
        sum = bench_mix(sum, (uint64_t)(memcmp(dst, src, BUF) < 0));
    }
    bench_result("memstr", sum);
    return 0;
}
