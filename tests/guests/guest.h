/* Shared helpers for the difftest guest programs (built for riscv64 with glibc, -static). */
#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint64_t u64;
typedef int64_t i64;
typedef uint32_t u32;
typedef int32_t i32;

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Integer operands that sit on the edges of 8/16/32/64-bit signed and unsigned ranges,
   plus shift counts at and beyond the operand width (register shifts mask the count). */
static const u64 EDGE64[] = {
    0x0000000000000000ull, 0x0000000000000001ull, 0x0000000000000002ull,
    0x0000000000000003ull, 0x000000000000001full, 0x0000000000000020ull,
    0x000000000000003full, 0x0000000000000040ull, 0x0000000000000041ull,
    0x0000000000000080ull, 0x0000000000008000ull, 0x000000007fffffffull,
    0x0000000080000000ull, 0x00000000ffffffffull, 0x0000000100000000ull,
    0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
    0xfffffffffffffffeull, 0xffffffff80000000ull, 0xffffffff7fffffffull,
    0x123456789abcdef0ull, 0xfedcba9876543210ull, 0xffffffffdeadbeefull,
    0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull,
};

/* A tiny deterministic generator so guests can make "random" data identically everywhere. */
static u64 guest_rng_state = 0x9e3779b97f4a7c15ull;
static inline u64 guest_rand(void)
{
    u64 x = guest_rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    guest_rng_state = x;
    return x;
}

static inline u64 fnv1a(const void *p, size_t n, u64 h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

#endif
