/* Heap behaviour through glibc malloc: small to multi-megabyte blocks (brk and mmap paths), realloc
   growth/shrink keeping contents, calloc zeroing, many live blocks, plus raw mmap/munmap/mprotect.
   Only contents and checksums are printed, never addresses. */
#include "guest.h"
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static void pattern(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

static int check(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7 + (i >> 8)))
            return 0;
    return 1;
}

int main(void)
{
    static const size_t sizes[] = {1, 7, 16, 24, 100, 1000, 4095, 4096, 4097, 65536,
                                   131071, 131072, 200000, 1 << 20, 3 << 20, 8 << 20};
    for (size_t i = 0; i < NELEM(sizes); i++) {
        size_t n = sizes[i];
        unsigned char *p = malloc(n);
        if (!p) {
            printf("malloc %zu failed\n", n);
            continue;
        }
        pattern(p, n, (unsigned)i);
        printf("malloc %zu ok=%d aligned16=%d hash=%016lx\n", n, check(p, n, (unsigned)i),
               ((uintptr_t)p & 15) == 0, fnv1a(p, n, FNV_INIT));
        free(p);
    }
    /* realloc across the brk/mmap threshold in both directions keeps the common prefix. */
    size_t cur = 10;
    unsigned char *r = malloc(cur);
    pattern(r, cur, 3);
    static const size_t steps[] = {100, 5000, 300000, 6 << 20, 1000, 40, 2 << 20, 1};
    for (size_t i = 0; i < NELEM(steps); i++) {
        size_t next = steps[i];
        unsigned char *q = realloc(r, next);
        if (!q) {
            printf("realloc %zu failed\n", next);
            break;
        }
        size_t keep = cur < next ? cur : next;
        printf("realloc %zu -> %zu prefix ok=%d\n", cur, next, check(q, keep, 3));
        pattern(q, next, 3);
        r = q;
        cur = next;
    }
    free(r);
    unsigned char *z = calloc(3 << 20, 1);
    size_t nz = 0;
    for (size_t i = 0; i < (3u << 20); i++)
        nz += z[i] != 0;
    printf("calloc 3MiB nonzero=%zu\n", nz);
    free(z);
    /* Many small live blocks of varied sizes, freed in a scrambled order. */
    enum { N = 20000 };
    static unsigned char *blocks[N];
    static size_t bsz[N];
    u64 total = 0;
    for (int i = 0; i < N; i++) {
        bsz[i] = 1 + guest_rand() % 600;
        blocks[i] = malloc(bsz[i]);
        pattern(blocks[i], bsz[i], (unsigned)i);
        total += bsz[i];
    }
    int bad = 0;
    for (int i = 0; i < N; i++) {
        int j = (int)((u64)i * 7919 % N);
        bad += !check(blocks[j], bsz[j], (unsigned)j);
        free(blocks[j]);
        blocks[j] = NULL;
    }
    printf("small blocks total=%lu bad=%d\n", total, bad);

    long page = sysconf(_SC_PAGESIZE);
    printf("pagesize %ld\n", page);
    size_t mlen = 5 * (size_t)page + 123;
    unsigned char *m = mmap(NULL, mlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        printf("mmap failed\n");
        return 1;
    }
    size_t mz = 0;
    for (size_t i = 0; i < mlen; i++)
        mz += m[i] != 0;
    pattern(m, mlen, 9);
    printf("mmap zeroed=%d page-aligned=%d ok=%d\n", mz == 0, ((uintptr_t)m % (uintptr_t)page) == 0,
           check(m, mlen, 9));
    printf("mprotect ro %d\n", mprotect(m, (size_t)page, PROT_READ));
    printf("munmap tail %d\n", munmap(m + 2 * page, 3 * (size_t)page));
    printf("munmap rest %d\n", munmap(m, 2 * (size_t)page));
    void *before = sbrk(0);
    void *grown = sbrk(1 << 16);
    void *after = sbrk(0);
    printf("sbrk grew by %ld, returned old break %d\n", (long)((char *)after - (char *)before),
           grown == before);
    memset(grown, 0x5a, 1 << 16);
    sbrk(-(1 << 16));
    printf("sbrk shrink back %d\n", sbrk(0) == before);
    return 0;
}
