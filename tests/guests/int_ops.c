/* RV64IM integer corner cases: every op runs through inline asm (so nothing is constant-folded)
   over edge operands; also lui/auipc/jalr/branches and compiler idioms (magic division, __int128). */
#include "guest.h"

#define RR(fn, insn)                                                          \
    static u64 fn(u64 a, u64 b)                                               \
    {                                                                         \
        u64 r;                                                                \
        __asm__ volatile(insn " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));      \
        return r;                                                             \
    }

RR(op_add, "add") RR(op_sub, "sub") RR(op_sll, "sll") RR(op_srl, "srl")
RR(op_sra, "sra") RR(op_slt, "slt") RR(op_sltu, "sltu") RR(op_xor, "xor")
RR(op_or, "or") RR(op_and, "and") RR(op_addw, "addw") RR(op_subw, "subw")
RR(op_sllw, "sllw") RR(op_srlw, "srlw") RR(op_sraw, "sraw")
RR(op_mul, "mul") RR(op_mulh, "mulh") RR(op_mulhsu, "mulhsu")
RR(op_mulhu, "mulhu") RR(op_div, "div") RR(op_divu, "divu") RR(op_rem, "rem")
RR(op_remu, "remu") RR(op_mulw, "mulw") RR(op_divw, "divw")
RR(op_divuw, "divuw") RR(op_remw, "remw") RR(op_remuw, "remuw")

static const struct {
    const char *name;
    u64 (*fn)(u64, u64);
} RRS[] = {
    {"add", op_add},     {"sub", op_sub},       {"sll", op_sll},
    {"srl", op_srl},     {"sra", op_sra},       {"slt", op_slt},
    {"sltu", op_sltu},   {"xor", op_xor},       {"or", op_or},
    {"and", op_and},     {"addw", op_addw},     {"subw", op_subw},
    {"sllw", op_sllw},   {"srlw", op_srlw},     {"sraw", op_sraw},
    {"mul", op_mul},     {"mulh", op_mulh},     {"mulhsu", op_mulhsu},
    {"mulhu", op_mulhu}, {"div", op_div},       {"divu", op_divu},
    {"rem", op_rem},     {"remu", op_remu},     {"mulw", op_mulw},
    {"divw", op_divw},   {"divuw", op_divuw},   {"remw", op_remw},
    {"remuw", op_remuw},
};

/* Immediate forms: the immediate is part of the encoding, so each one needs its own function. */
#define RI(fn, insn, imm)                                                     \
    static u64 fn(u64 a)                                                      \
    {                                                                         \
        u64 r;                                                                \
        __asm__ volatile(insn " %0, %1, " #imm : "=r"(r) : "r"(a));           \
        return r;                                                             \
    }
#define RI_LIST(X)                                                            \
    X(addi_m2048, "addi", -2048) X(addi_2047, "addi", 2047)                  \
    X(addi_m1, "addi", -1) X(slti_m1, "slti", -1) X(slti_0, "slti", 0)       \
    X(slti_2047, "slti", 2047) X(sltiu_m1, "sltiu", -1)                      \
    X(sltiu_1, "sltiu", 1) X(sltiu_m2048, "sltiu", -2048)                    \
    X(xori_m1, "xori", -1) X(xori_m2048, "xori", -2048)                      \
    X(ori_m2048, "ori", -2048) X(ori_1365, "ori", 1365)                      \
    X(andi_m1, "andi", -1) X(andi_m16, "andi", -16) X(andi_2047, "andi", 2047) \
    X(slli_0, "slli", 0) X(slli_1, "slli", 1) X(slli_31, "slli", 31)        \
    X(slli_32, "slli", 32) X(slli_63, "slli", 63) X(srli_0, "srli", 0)      \
    X(srli_1, "srli", 1) X(srli_32, "srli", 32) X(srli_63, "srli", 63)      \
    X(srai_0, "srai", 0) X(srai_1, "srai", 1) X(srai_31, "srai", 31)        \
    X(srai_32, "srai", 32) X(srai_63, "srai", 63)                            \
    X(addiw_0, "addiw", 0) X(addiw_1, "addiw", 1) X(addiw_m1, "addiw", -1)   \
    X(addiw_2047, "addiw", 2047) X(addiw_m2048, "addiw", -2048)              \
    X(slliw_0, "slliw", 0) X(slliw_1, "slliw", 1) X(slliw_31, "slliw", 31)   \
    X(srliw_0, "srliw", 0) X(srliw_1, "srliw", 1) X(srliw_31, "srliw", 31)   \
    X(sraiw_0, "sraiw", 0) X(sraiw_1, "sraiw", 1) X(sraiw_31, "sraiw", 31)
RI_LIST(RI)
#define RI_ENTRY(fn, insn, imm) {insn " " #imm, fn},
static const struct {
    const char *name;
    u64 (*fn)(u64);
} RIS[] = {RI_LIST(RI_ENTRY)};

#define BR(fn, insn)                                                          \
    static int fn(u64 a, u64 b)                                               \
    {                                                                         \
        int t;                                                                \
        __asm__ volatile("li %0, 1\n\t" insn " %1, %2, 1f\n\tli %0, 0\n1:"     \
                         : "=&r"(t) : "r"(a), "r"(b));                        \
        return t;                                                             \
    }
BR(br_beq, "beq") BR(br_bne, "bne") BR(br_blt, "blt") BR(br_bge, "bge")
BR(br_bltu, "bltu") BR(br_bgeu, "bgeu")

static void lui_auipc_jalr(void)
{
    u64 r;
#define LUI(imm)                                                              \
    __asm__ volatile("lui %0, " #imm : "=r"(r));                              \
    printf("lui %s = %016lx\n", #imm, r);
    LUI(0) LUI(1) LUI(0x7ffff) LUI(0x80000) LUI(0xfffff) LUI(0x12345)
#undef LUI
    /* auipc depends on pc, so print it relative to its own address. */
#define AUIPC(imm)                                                            \
    {                                                                         \
        u64 here;                                                             \
        __asm__ volatile("1: auipc %0, " #imm "\n\tlla %1, 1b"                \
                         : "=&r"(r), "=&r"(here));                            \
        printf("auipc %s = pc+%016lx\n", #imm, r - here);                     \
    }
    AUIPC(0) AUIPC(1) AUIPC(0x7ffff) AUIPC(0x80000) AUIPC(0xfffff)
#undef AUIPC
    /* jalr clears bit 0 of the target and links pc+4. */
    u64 link, here, out;
    __asm__ volatile("lla %1, 1f\n\t"
                     "addi %1, %1, 1\n\t"
                     "li %2, 0\n\t"
                     "2: jalr %0, 0(%1)\n\t"
                     "li %2, 99\n"
                     "1: addi %2, %2, 7\n\t"
                     "lla %1, 2b\n\t"
                     : "=&r"(link), "=&r"(here), "=&r"(out));
    printf("jalr odd target: out=%lu link=here+%lu\n", out, link - here);
    /* jalr with rd == rs1 must read the base before writing the link. */
    __asm__ volatile("lla %0, 1f\n\t"
                     "li %1, 0\n\t"
                     "jalr %0, 0(%0)\n\t"
                     "li %1, 99\n"
                     "1: addi %1, %1, 5\n\t"
                     : "=&r"(link), "=&r"(out));
    printf("jalr rd==rs1: out=%lu\n", out);
}

/* Idioms the compiler lowers to mulh/mulhu magic-number sequences and __int128 helpers. */
static void compiler_idioms(void)
{
    u64 h = FNV_INIT;
    for (size_t i = 0; i < NELEM(EDGE64); i++) {
        volatile i64 a = (i64)EDGE64[i];
        volatile u64 u = EDGE64[i];
        i64 s7 = a / 7, r7 = a % 7, sm3 = a / -3, rm3 = a % -3;
        u64 u10 = u / 10, ur10 = u % 10, u1e9 = u / 1000000000u;
        i32 w = (i32)a;
        i32 w1000 = w / 1000, wr1000 = w % 1000;
        u32 uw = (u32)u;
        u32 uw7 = uw / 7;
        unsigned __int128 p = (unsigned __int128)u * 0x9e3779b97f4a7c15ull;
        __int128 sp = (__int128)a * -12345;
        printf("idiom %016lx: %ld %ld %ld %ld %lu %lu %lu %d %d %u %016lx%016lx "
               "%016lx%016lx\n",
               (u64)a, s7, r7, sm3, rm3, u10, ur10, u1e9, w1000, wr1000, uw7,
               (u64)(p >> 64), (u64)p, (u64)((unsigned __int128)sp >> 64),
               (u64)sp);
        if (u != 0) {
            unsigned __int128 big = ((unsigned __int128)u << 64) | (u ^ 0x5555);
            unsigned __int128 q = big / u, rr = big % u;
            __int128 sq = (__int128)big / (__int128)(i64)u;
            printf("div128 %016lx%016lx %016lx%016lx %016lx%016lx\n",
                   (u64)(q >> 64), (u64)q, (u64)(rr >> 64), (u64)rr,
                   (u64)((unsigned __int128)sq >> 64), (u64)sq);
        }
        /* 32-bit wrap-around arithmetic, done unsigned to stay defined in C. */
        u32 x = (u32)u;
        h = fnv1a(&x, sizeof x, h);
        x = x * 2654435761u + 0x7fffffffu;
        i64 sx = (i64)(i32)x;
        h = fnv1a(&sx, sizeof sx, h);
    }
    printf("idiom hash %016lx\n", h);
}

int main(void)
{
    for (size_t k = 0; k < NELEM(RRS); k++)
        for (size_t i = 0; i < NELEM(EDGE64); i++)
            for (size_t j = 0; j < NELEM(EDGE64); j++)
                printf("%s %lx %lx = %lx\n", RRS[k].name, EDGE64[i], EDGE64[j],
                       RRS[k].fn(EDGE64[i], EDGE64[j]));
    for (size_t k = 0; k < NELEM(RIS); k++)
        for (size_t i = 0; i < NELEM(EDGE64); i++)
            printf("%s %lx = %lx\n", RIS[k].name, EDGE64[i], RIS[k].fn(EDGE64[i]));
    for (size_t i = 0; i < NELEM(EDGE64); i++) {
        printf("br %lx:", EDGE64[i]);
        for (size_t j = 0; j < NELEM(EDGE64); j++) {
            u64 a = EDGE64[i], b = EDGE64[j];
            printf(" %d%d%d%d%d%d", br_beq(a, b), br_bne(a, b), br_blt(a, b),
                   br_bge(a, b), br_bltu(a, b), br_bgeu(a, b));
        }
        printf("\n");
    }
    lui_auipc_jalr();
    compiler_idioms();
    return 0;
}
