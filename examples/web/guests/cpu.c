/* cpu: a CPU-bound guest (sieve, N-queens, hashing) with a fixed answer; used by the node test and bench.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Number of primes below n (sieve of Eratosthenes over a byte array). */
static unsigned primes_below(unsigned n) {
    unsigned char *composite = calloc(n, 1);
    if (!composite)
        return 0;
    unsigned count = 0;
    for (unsigned i = 2; i < n; i++) {
        if (composite[i])
            continue;
        count++;
        for (uint64_t j = (uint64_t)i * i; j < n; j += i)
            composite[j] = 1;
    }
    free(composite);
    return count;
}

/* Solutions of the n-queens problem (bitmask backtracking). */
static unsigned queens(unsigned n, uint32_t cols, uint32_t d1, uint32_t d2) {
    uint32_t all = (1u << n) - 1;
    if (cols == all)
        return 1;
    unsigned count = 0;
    for (uint32_t free_ = all & ~(cols | d1 | d2); free_; free_ &= free_ - 1) {
        uint32_t bit = free_ & -free_;
        count += queens(n, cols | bit, ((d1 | bit) << 1) & all, (d2 | bit) >> 1);
    }
    return count;
}

/* FNV-1a over a buffer mutated by an xorshift generator: loads, stores and multiplies. */
static uint64_t hash_rounds(unsigned rounds) {
    static uint8_t buf[1 << 16];
    uint64_t x = 88172645463325252ull, h = 1469598103934665603ull;
    for (unsigned r = 0; r < rounds; r++) {
        for (size_t i = 0; i < sizeof buf; i += 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            memcpy(buf + i, &x, 8);
        }
        for (size_t i = 0; i < sizeof buf; i++)
            h = (h ^ buf[i]) * 1099511628211ull;
    }
    return h;
}

int main(int argc, char **argv) {
    /* The scale multiplies the work; 1 takes well under a second natively under friscy. */
    unsigned scale = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 1;
    if (scale == 0)
        scale = 1;
    unsigned p = 0, q = 0;
    uint64_t h = 0;
    for (unsigned s = 0; s < scale; s++) {
        p = primes_below(2000000);
        q = queens(9, 0, 0, 0);
        h = hash_rounds(40);
    }
    printf("primes below 2000000: %u\n", p);
    printf("9-queens solutions: %u\n", q);
    printf("hash: %016llx\n", (unsigned long long)h);
    printf("scale %u done\n", scale);
    return 0;
}
