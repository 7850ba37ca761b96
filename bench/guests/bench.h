/* Shared helpers for the benchmark guests: a deterministic PRNG, a checksum mixer and the result line. */
#ifndef FRISCY_BENCH_H
#define FRISCY_BENCH_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* splitmix64: the same sequence on every target, so every build prints the same checksum. */
static inline uint64_t bench_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t bench_mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

/* A scale factor from argv[1] (default 1) multiplies the work, for quick or long runs. */
static inline long bench_scale(int argc, char **argv) {
    long s = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
    return s > 0 ? s : 1;
}

static inline void bench_result(const char *name, uint64_t checksum) {
    printf("%s checksum %016llx\n", name, (unsigned long long)checksum);
}
#endif
