/* Benchmark guest: sorting — libc qsort ("qsort" argument) or a hand-written merge sort ("merge"), over 64-bit keys. */
#include "bench.h"
#include <string.h>

#define N (1u << 18)

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Top-down merge sort of a[lo, hi) using tmp as scratch. */
static void merge_sort(uint64_t *a, uint64_t *tmp, size_t lo, size_t hi) {
    if (hi - lo < 16) {
        for (size_t i = lo + 1; i < hi; i++) {
            uint64_t v = a[i];
            size_t j = i;
            while (j > lo && a[j - 1] > v) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = v;
        }
        return;
    }
    size_t mid = lo + (hi - lo) / 2;
    merge_sort(a, tmp, lo, mid);
    merge_sort(a, tmp, mid, hi);
    if (a[mid - 1] <= a[mid])
        return;
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
        tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
    while (i < mid)
        tmp[k++] = a[i++];
    while (j < hi)
        tmp[k++] = a[j++];
    memcpy(a + lo, tmp + lo, (hi - lo) * sizeof *a);
}

int main(int argc, char **argv) {
    int use_qsort = argc > 1 && strcmp(argv[1], "qsort") == 0;
    long scale = bench_scale(argc - 1, argv + 1);
    uint64_t *a = malloc(N * sizeof *a), *tmp = malloc(N * sizeof *tmp);
    if (!a || !tmp)
        return 1;
    uint64_t seed = 7, sum = 0;
    long rounds = (use_qsort ? 10 : 16) * scale;
    for (long r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < N; i++)
            a[i] = bench_next(&seed) >> (r & 7) * 4; /* some rounds have many duplicates */
        if (use_qsort)
            qsort(a, N, sizeof *a, cmp_u64);
        else
            merge_sort(a, tmp, 0, N);
        for (unsigned i = 1; i < N; i++)
            if (a[i - 1] > a[i])
                return 2; /* not sorted: never a valid checksum */
        for (unsigned i = 0; i < N; i += 97)
            sum = bench_mix(sum, a[i]);
    }
    bench_result(use_qsort ? "qsort" : "mergesort", sum);
    free(a);
    free(tmp);
    return 0;
}
