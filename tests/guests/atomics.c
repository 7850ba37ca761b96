/* RV64A, single-threaded, only what is architecturally deterministic: every AMO (.w/.d, plain/aq/rl/aqrl)
   returns the old value and updates memory; LR/SC pairs succeed; SC without a reservation fails;
   plus the lr/sc loops gcc emits for C11 atomics (including 8/16-bit ones built from lr.w/sc.w). */
#include "guest.h"
#include <stdatomic.h>

#define AMO(fn, insn)                                                         \
    static u64 fn(volatile void *p, u64 v)                                    \
    {                                                                         \
        u64 old;                                                              \
        __asm__ volatile(insn " %0, %2, (%1)" : "=&r"(old) : "r"(p), "r"(v) : "memory"); \
        return old;                                                           \
    }
#define AMO_OPS(X)                                                            \
    X(amoswap) X(amoadd) X(amoxor) X(amoand) X(amoor) X(amomin) X(amomax)    \
    X(amominu) X(amomaxu)
/* Token pasting cannot produce "amoadd.w", so the instruction names are spelled separately. */
#define AMO4(X, base, str) X(base, str) X(base##_aq, str ".aq") X(base##_rl, str ".rl") \
    X(base##_aqrl, str ".aqrl")
#define DEF_W(op) AMO4(AMO, op##_w, #op ".w")
#define DEF_D(op) AMO4(AMO, op##_d, #op ".d")
AMO_OPS(DEF_W)
AMO_OPS(DEF_D)

typedef u64 (*amofn)(volatile void *, u64);
#define ENT(op)                                                               \
    {#op, {op##_w, op##_w_aq, op##_w_rl, op##_w_aqrl},                        \
     {op##_d, op##_d_aq, op##_d_rl, op##_d_aqrl}},
static const struct {
    const char *name;
    amofn w[4], d[4];
} AMOS[] = {AMO_OPS(ENT)};
static const char *ORD[4] = {"", ".aq", ".rl", ".aqrl"};

static void amo_tests(void)
{
    static volatile u64 mem[2];
    for (size_t k = 0; k < NELEM(AMOS); k++)
        for (int o = 0; o < 4; o++)
            for (size_t i = 0; i < NELEM(EDGE64); i += 3)
                for (size_t j = 0; j < NELEM(EDGE64); j += 2) {
                    u64 a = EDGE64[i], b = EDGE64[j];
                    mem[0] = a;
                    mem[1] = 0x1111111111111111ull;
                    u64 oldd = AMOS[k].d[o](&mem[0], b);
                    u64 memd = mem[0];
                    /* The .w forms touch only the low word and sign-extend the old value. */
                    mem[0] = a;
                    u64 oldw = AMOS[k].w[o](&mem[0], b);
                    u64 memw = mem[0];
                    u64 oldw_hi = AMOS[k].w[o]((volatile char *)&mem[0] + 4, b);
                    printf("%s%s %lx %lx: d old %lx mem %lx; w old %lx mem %lx; w@+4 old %lx "
                           "mem %lx guard %lx\n",
                           AMOS[k].name, ORD[o], a, b, oldd, memd, oldw, memw, oldw_hi,
                           mem[0], mem[1]);
                }
    /* rd = x0 discards the old value but still updates memory. */
    mem[0] = 5;
    __asm__ volatile("li t0, 7\n\tamoadd.d zero, t0, (%0)\n\tamoswap.w.aqrl zero, t0, (%0)"
                     : : "r"(&mem[0]) : "t0", "memory");
    printf("amo rd=x0: mem %lx\n", mem[0]);
}

static void lrsc_tests(void)
{
    static volatile u64 mem[4] = {0x8000000012345678ull, 0xffffffff80000001ull, 0, 0};
    u64 v, sc, v2, sc2;
    __asm__ volatile("lr.d %0, (%4)\n\taddi %0, %0, 1\n\tsc.d %1, %0, (%4)\n\t"
                     "lr.d.aq %2, (%4)\n\tsc.d.rl %3, %2, (%4)"
                     : "=&r"(v), "=&r"(sc), "=&r"(v2), "=&r"(sc2) : "r"(&mem[0]) : "memory");
    printf("lr.d/sc.d: v %lx sc %d; again v %lx sc %d; mem %lx\n", v, sc != 0, v2, sc2 != 0,
           mem[0]);
    __asm__ volatile("lr.w %0, (%4)\n\txori %0, %0, 3\n\tsc.w %1, %0, (%4)\n\t"
                     "lr.w.aqrl %2, (%4)\n\tsc.w.aqrl %3, %2, (%4)"
                     : "=&r"(v), "=&r"(sc), "=&r"(v2), "=&r"(sc2) : "r"(&mem[1]) : "memory");
    printf("lr.w/sc.w (sign-extends): v %lx sc %d; v %lx sc %d; mem %lx\n", v, sc != 0, v2,
           sc2 != 0, mem[1]);
    /* A successful SC consumes the reservation, so a second SC must fail and not store. */
    __asm__ volatile("lr.d %0, (%2)\n\tsc.d %1, %0, (%2)\n\tli %0, 99\n\tsc.d %1, %0, (%2)"
                     : "=&r"(v), "=&r"(sc) : "r"(&mem[2]) : "memory");
    printf("second sc.d without lr: fails %d mem %lx\n", sc != 0, mem[2]);
    /* SC to an address outside the reservation set must fail. */
    __asm__ volatile("lr.w %0, (%2)\n\tli %0, 77\n\tsc.w %1, %0, (%3)"
                     : "=&r"(v), "=&r"(sc) : "r"(&mem[2]), "r"(&mem[3]) : "memory");
    printf("sc.w to other address: fails %d mem %lx\n", sc != 0, mem[3]);
}

static void c11_tests(void)
{
    static _Atomic u64 a64 = 10;
    static _Atomic u32 a32 = 0xfffffff0u;
    static _Atomic unsigned short a16 = 0xfff0;
    static _Atomic unsigned char a8 = 0xf0;
    static volatile unsigned char bytes[8];
    u64 e64 = 10, e64bad = 3;
    printf("fetch_add64 %lx ", atomic_fetch_add(&a64, 5));
    printf("cas64 ok %d ", atomic_compare_exchange_strong(&a64, &e64bad, 1));
    printf("expected now %lx ", e64bad);
    e64 = 15;
    printf("cas64 ok %d val %lx\n", atomic_compare_exchange_strong(&a64, &e64, 0x8000000000000000ull),
           (u64)atomic_load(&a64));
    printf("fetch_add32 %x ", atomic_fetch_add(&a32, 0x20));
    printf("fetch_or32 %x ", atomic_fetch_or(&a32, 0x80000000u));
    printf("xchg32 %x val %x\n", atomic_exchange(&a32, 7), atomic_load(&a32));
    printf("fetch_add16 %x ", atomic_fetch_add(&a16, 0x20));
    printf("fetch_sub16 %x ", atomic_fetch_sub(&a16, 1));
    unsigned short e16 = 0xffff;
    printf("cas16 ok %d expected %x val %x\n", atomic_compare_exchange_strong(&a16, &e16, 1),
           e16, atomic_load(&a16));
    printf("fetch_add8 %x ", atomic_fetch_add(&a8, 0x20));
    printf("fetch_and8 %x ", atomic_fetch_and(&a8, 0x3c));
    unsigned char e8 = 0x10;
    printf("cas8 ok %d val %x\n", atomic_compare_exchange_strong(&a8, &e8, 0xaa),
           atomic_load(&a8));
    /* Sub-word atomics must leave neighbouring bytes alone. */
    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)(0x11 * i);
    __atomic_fetch_add((unsigned char *)&bytes[3], 0xff, __ATOMIC_SEQ_CST);
    __atomic_exchange_n((unsigned short *)&bytes[6], 0xbeef, __ATOMIC_SEQ_CST);
    printf("neighbours:");
    for (int i = 0; i < 8; i++)
        printf(" %02x", bytes[i]);
    printf("\n");
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    __asm__ volatile("fence rw, rw\n\tfence.i\n\tfence r, r\n\tfence.tso" ::: "memory");
    printf("fences ok\n");
}

int main(void)
{
    amo_tests();
    lrsc_tests();
    c11_tests();
    return 0;
}
