/* Benchmark guest: integer hashing — 64-bit mixing hashes over a buffer and an open-addressing hash table. */
#include "bench.h"
#include <string.h>

#define KEYS (1u << 16)
#define TABLE (1u << 17) /* power of two, load factor 0.5 */

static uint64_t murmur_mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t keys[KEYS];
static uint64_t table_key[TABLE];
static uint32_t table_val[TABLE];

int main(int argc, char **argv) {
    long scale = bench_scale(argc, argv);
    uint64_t seed = 42, sum = 0;
    for (unsigned i = 0; i < KEYS; i++)
        keys[i] = bench_next(&seed) | 1; /* 0 marks an empty slot */
    for (long round = 0; round < 140 * scale; round++) {
        memset(table_key, 0, sizeof table_key);
        /* insert every key (value = round-dependent), then look each one up twice */
        for (unsigned i = 0; i < KEYS; i++) {
            uint64_t k = keys[i] ^ (uint64_t)round << 1;
            uint32_t h = (uint32_t)murmur_mix(k) & (TABLE - 1);
            while (table_key[h] != 0 && table_key[h] != k)
                h = (h + 1) & (TABLE - 1);
            table_key[h] = k;
            table_val[h] = i * 2654435761u;
        }
        for (unsigned rep = 0; rep < 2; rep++) {
            for (unsigned i = 0; i < KEYS; i++) {
                uint64_t k = keys[(i * 7919u + rep) & (KEYS - 1)] ^ (uint64_t)round << 1;
                uint32_t h = (uint32_t)murmur_mix(k) & (TABLE - 1);
                while (table_key[h] != k)
                    h = (h + 1) & (TABLE - 1);
                sum += table_val[h];
            }
        }
        /* byte-wise hashing over the key array */
        sum = bench_mix(sum, fnv1a((const uint8_t *)keys, sizeof keys / 4));
    }
    bench_result("hash", sum);
    return 0;
}
