/* Every F and D instruction under every rounding mode (5 static, plus dyn under each frm set with
   fsrm), with fflags read back after each, over special values; NaN-boxing, fcsr behaviour.
   Usage: fp_ops GROUP, GROUP in s-arith d-arith fma cvt misc csr illegal-frm.
   Operands travel as raw bits (fmv.d.x) so sNaN payloads and unboxed singles survive. */
#include "guest.h"
#include <stdlib.h>
#include <unistd.h>

typedef u64 (*fpfn)(u64, u64, u64, u64 *);

#define RMN_rne "0"
#define RMN_rtz "1"
#define RMN_rdn "2"
#define RMN_rup "3"
#define RMN_rmm "4"
#define RMN_dyn "7"
#define RMN(rm) RMN_##rm

/* Result in ft3, operands in ft0..ft2 / an integer register. */
#define K_FF2(fn, insn, rm)                                                   \
    static u64 fn##_##rm(u64 a, u64 b, u64 c, u64 *fl)                        \
    {                                                                         \
        u64 r, f;                                                             \
        (void)c;                                                              \
        __asm__ volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\tfsflags zero\n\t" insn \
                         " ft3, ft0, ft1, " #rm "\n\tfrflags %1\n\tfmv.x.d %0, ft3" \
                         : "=r"(r), "=r"(f) : "r"(a), "r"(b) : "ft0", "ft1", "ft3"); \
        *fl = f;                                                              \
        return r;                                                             \
    }
#define K_FF3(fn, insn, rm)                                                   \
    static u64 fn##_##rm(u64 a, u64 b, u64 c, u64 *fl)                        \
    {                                                                         \
        u64 r, f;                                                             \
        __asm__ volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\tfmv.d.x ft2, %4\n\t" \
                         "fsflags zero\n\t" insn " ft3, ft0, ft1, ft2, " #rm "\n\t" \
                         "frflags %1\n\tfmv.x.d %0, ft3"                      \
                         : "=r"(r), "=r"(f) : "r"(a), "r"(b), "r"(c)           \
                         : "ft0", "ft1", "ft2", "ft3");                         \
        *fl = f;                                                              \
        return r;                                                             \
    }
#define K_FF1(fn, insn, rm)                                                   \
    static u64 fn##_##rm(u64 a, u64 b, u64 c, u64 *fl)                        \
    {                                                                         \
        u64 r, f;                                                             \
        (void)b, (void)c;                                                     \
        __asm__ volatile("fmv.d.x ft0, %2\n\tfsflags zero\n\t" insn " ft3, ft0, " #rm \
                         "\n\tfrflags %1\n\tfmv.x.d %0, ft3"                  \
                         : "=r"(r), "=r"(f) : "r"(a) : "ft0", "ft3");           \
        *fl = f;                                                              \
        return r;                                                             \
    }
/* binutils 2.40 refuses a rounding mode on the exact conversions (fcvt.d.s, fcvt.d.w[u]) but the
   field exists and compilers of other vintages set it, so encode it by hand. */
#define K_FF1_INSN(fn, f7, rs2, rm)                                           \
    static u64 fn##_##rm(u64 a, u64 b, u64 c, u64 *fl)                        \
    {                                                                         \
        u64 r, f;                                                             \
        (void)b, (void)c;                                                     \
        __asm__ volatile("fmv.d.x ft0, %2\n\tfsflags zero\n\t.insn r 0x53, " RMN(rm) \
                         ", " #f7 ", ft3, ft0, " #rs2 "\n\tfrflags %1\n\tfmv.x.d %0, ft3" \
                         : "=r"(r), "=r"(f) : "r"(a) : "ft0", "ft3");           \
        *fl = f;                                                              \
        return r;                                                             \
    }
#define K_XF1_INSN(fn, f7, rs2, rm)                                           \
    static u64 fn##_##rm(u64 a, u64 b, u64 c, u64 *fl)                        \
    {                                                                         \
        u64 r, f;                                                             \
        (void)b, (void)c;                                                     \
        __asm__ volatile("fsflags zero\n\t.insn r 0x53, " RMN(rm) ", " #f7      \
                         ", ft3, %2, " #rs2 "\n\tfrflags %1\n\tfmv.x.d %0, ft3" \
                         : "=r"(r), "=r"(f) : "r"(a) : "ft3");                 \
        *fl = f;                                                              \
        return r;                                                             \
    }
#define K_FX1(fn, insn, rm)                                                   \
    static u64 fn##_##rm(u64 a, u64 b, u64 c, u64 *fl)                        \
    {                                                                         \
        u64 r, f;                                                             \
        (void)b, (void)c;                                                     \
        __asm__ volatile("fmv.d.x ft0, %2\n\tfsflags zero\n\t" insn " %0, ft0, " #rm \
                         "\n\tfrflags %1"                                     \
                         : "=&r"(r), "=r"(f) : "r"(a) : "ft0");                 \
        *fl = f;                                                              \
        return r;                                                             \
    }
#define K_XF1(fn, insn, rm)                                                   \
    static u64 fn##_##rm(u64 a, u64 b, u64 c, u64 *fl)                        \
    {                                                                         \
        u64 r, f;                                                             \
        (void)b, (void)c;                                                     \
        __asm__ volatile("fsflags zero\n\t" insn " ft3, %2, " #rm "\n\tfrflags %1\n\t" \
                         "fmv.x.d %0, ft3"                                    \
                         : "=r"(r), "=r"(f) : "r"(a) : "ft3");                 \
        *fl = f;                                                              \
        return r;                                                             \
    }

#define DEF6(KIND, fn, ...)                                                   \
    KIND(fn, __VA_ARGS__, rne) KIND(fn, __VA_ARGS__, rtz)                     \
    KIND(fn, __VA_ARGS__, rdn) KIND(fn, __VA_ARGS__, rup)                     \
    KIND(fn, __VA_ARGS__, rmm) KIND(fn, __VA_ARGS__, dyn)                     \
    static const fpfn fn[6] = {fn##_rne, fn##_rtz, fn##_rdn, fn##_rup, fn##_rmm, fn##_dyn};

DEF6(K_FF2, fadd_s, "fadd.s") DEF6(K_FF2, fsub_s, "fsub.s")
DEF6(K_FF2, fmul_s, "fmul.s") DEF6(K_FF2, fdiv_s, "fdiv.s")
DEF6(K_FF2, fadd_d, "fadd.d") DEF6(K_FF2, fsub_d, "fsub.d")
DEF6(K_FF2, fmul_d, "fmul.d") DEF6(K_FF2, fdiv_d, "fdiv.d")
DEF6(K_FF1, fsqrt_s, "fsqrt.s") DEF6(K_FF1, fsqrt_d, "fsqrt.d")
DEF6(K_FF1, fcvt_s_d, "fcvt.s.d") DEF6(K_FF1_INSN, fcvt_d_s, 0x21, f0)
DEF6(K_FF3, fmadd_s, "fmadd.s") DEF6(K_FF3, fmsub_s, "fmsub.s")
DEF6(K_FF3, fnmsub_s, "fnmsub.s") DEF6(K_FF3, fnmadd_s, "fnmadd.s")
DEF6(K_FF3, fmadd_d, "fmadd.d") DEF6(K_FF3, fmsub_d, "fmsub.d")
DEF6(K_FF3, fnmsub_d, "fnmsub.d") DEF6(K_FF3, fnmadd_d, "fnmadd.d")
DEF6(K_FX1, fcvt_w_s, "fcvt.w.s") DEF6(K_FX1, fcvt_wu_s, "fcvt.wu.s")
DEF6(K_FX1, fcvt_l_s, "fcvt.l.s") DEF6(K_FX1, fcvt_lu_s, "fcvt.lu.s")
DEF6(K_FX1, fcvt_w_d, "fcvt.w.d") DEF6(K_FX1, fcvt_wu_d, "fcvt.wu.d")
DEF6(K_FX1, fcvt_l_d, "fcvt.l.d") DEF6(K_FX1, fcvt_lu_d, "fcvt.lu.d")
DEF6(K_XF1, fcvt_s_w, "fcvt.s.w") DEF6(K_XF1, fcvt_s_wu, "fcvt.s.wu")
DEF6(K_XF1, fcvt_s_l, "fcvt.s.l") DEF6(K_XF1, fcvt_s_lu, "fcvt.s.lu")
DEF6(K_XF1_INSN, fcvt_d_w, 0x69, x0) DEF6(K_XF1_INSN, fcvt_d_wu, 0x69, x1)
DEF6(K_XF1, fcvt_d_l, "fcvt.d.l") DEF6(K_XF1, fcvt_d_lu, "fcvt.d.lu")

/* Operations without a rounding mode. */
#define N_FF2(fn, insn)                                                       \
    static u64 fn(u64 a, u64 b, u64 *fl)                                      \
    {                                                                         \
        u64 r, f;                                                             \
        __asm__ volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\tfsflags zero\n\t" insn \
                         " ft3, ft0, ft1\n\tfrflags %1\n\tfmv.x.d %0, ft3"     \
                         : "=r"(r), "=r"(f) : "r"(a), "r"(b) : "ft0", "ft1", "ft3"); \
        *fl = f;                                                              \
        return r;                                                             \
    }
#define N_FX2(fn, insn)                                                       \
    static u64 fn(u64 a, u64 b, u64 *fl)                                      \
    {                                                                         \
        u64 r, f;                                                             \
        __asm__ volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\tfsflags zero\n\t" insn \
                         " %0, ft0, ft1\n\tfrflags %1"                        \
                         : "=&r"(r), "=r"(f) : "r"(a), "r"(b) : "ft0", "ft1"); \
        *fl = f;                                                              \
        return r;                                                             \
    }
#define N_FX1(fn, insn)                                                       \
    static u64 fn(u64 a, u64 *fl)                                             \
    {                                                                         \
        u64 r, f;                                                             \
        __asm__ volatile("fmv.d.x ft0, %2\n\tfsflags zero\n\t" insn " %0, ft0\n\t" \
                         "frflags %1"                                         \
                         : "=&r"(r), "=r"(f) : "r"(a) : "ft0");                 \
        *fl = f;                                                              \
        return r;                                                             \
    }
#define N_XF1(fn, insn)                                                       \
    static u64 fn(u64 a, u64 *fl)                                             \
    {                                                                         \
        u64 r, f;                                                             \
        __asm__ volatile("fsflags zero\n\t" insn " ft3, %2\n\tfrflags %1\n\t"   \
                         "fmv.x.d %0, ft3"                                    \
                         : "=r"(r), "=r"(f) : "r"(a) : "ft3");                 \
        *fl = f;                                                              \
        return r;                                                             \
    }
N_FF2(fsgnj_s, "fsgnj.s") N_FF2(fsgnjn_s, "fsgnjn.s") N_FF2(fsgnjx_s, "fsgnjx.s")
N_FF2(fmin_s, "fmin.s") N_FF2(fmax_s, "fmax.s")
N_FF2(fsgnj_d, "fsgnj.d") N_FF2(fsgnjn_d, "fsgnjn.d") N_FF2(fsgnjx_d, "fsgnjx.d")
N_FF2(fmin_d, "fmin.d") N_FF2(fmax_d, "fmax.d")
N_FX2(feq_s, "feq.s") N_FX2(flt_s, "flt.s") N_FX2(fle_s, "fle.s")
N_FX2(feq_d, "feq.d") N_FX2(flt_d, "flt.d") N_FX2(fle_d, "fle.d")
N_FX1(fclass_s, "fclass.s") N_FX1(fclass_d, "fclass.d")
N_FX1(fmv_x_w, "fmv.x.w") N_FX1(fmv_x_d, "fmv.x.d")
N_XF1(fmv_w_x, "fmv.w.x") N_XF1(fmv_d_x, "fmv.d.x")

static void set_frm(u64 m) { __asm__ volatile("fsrm %0" : : "r"(m)); }

/* Runs one op under the 5 static modes (with frm deliberately set to something else, so a static
   mode that wrongly reads frm shows up) and under dyn with each frm. */
static void all_rm(const char *name, const fpfn *fn, int nin, u64 a, u64 b, u64 c)
{
    printf("%s %lx", name, a);
    if (nin > 1)
        printf(" %lx", b);
    if (nin > 2)
        printf(" %lx", c);
    printf(":");
    for (int m = 0; m < 5; m++) {
        u64 fl;
        set_frm((u64)(m + 2) % 5);
        u64 r = fn[m](a, b, c, &fl);
        printf(" %lx/%lx", r, fl);
    }
    printf(" |");
    for (int m = 0; m < 5; m++) {
        u64 fl;
        set_frm((u64)m);
        u64 r = fn[5](a, b, c, &fl);
        printf(" %lx/%lx", r, fl);
    }
    printf("\n");
    set_frm(0);
}

#define BOX(x) (0xffffffff00000000ull | (u32)(x))
static const u64 SVALS[] = {
    BOX(0x00000000), BOX(0x80000000), BOX(0x7f800000), BOX(0xff800000),
    BOX(0x7fc00000), BOX(0xffc00000), BOX(0x7fc0dead), BOX(0x7f800001),
    BOX(0xffa00000), BOX(0x00000001), BOX(0x807fffff), BOX(0x00800000),
    BOX(0x7f7fffff), BOX(0xff7fffff), BOX(0x3f800000), BOX(0xbf800000),
    BOX(0x3eaaaaab), BOX(0x3f800001), BOX(0x33800000), BOX(0x3f000000),
    BOX(0x40200000), BOX(0xc0600000), BOX(0x4f000000), BOX(0x5f000000),
    BOX(0x40000000), BOX(0x7f000000),
    /* Improperly NaN-boxed: must read as the canonical NaN. */
    0x000000003f800000ull, 0x7ff8000000000000ull, 0xfffffffe3f800000ull,
};
static const u64 DVALS[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x7ff0000000000000ull,
    0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000000ull,
    0x7ff800000000deadull, 0x7ff0000000000001ull, 0xfff4000000000000ull,
    0x0000000000000001ull, 0x800fffffffffffffull, 0x0010000000000000ull,
    0x7fefffffffffffffull, 0xffefffffffffffffull, 0x3ff0000000000000ull,
    0xbff0000000000000ull, 0x3fd5555555555555ull, 0x3ff0000000000001ull,
    0x3ca0000000000000ull, 0x3fe0000000000000ull, 0x4004000000000000ull,
    0xc00c000000000000ull, 0x41e0000000000000ull, 0x43e0000000000000ull,
    0x4000000000000000ull, 0x7fe0000000000000ull,
};
/* Smaller sets for the three-operand ops, whose combinations grow cubically. */
static const u64 SVALS3[] = {
    BOX(0x00000000), BOX(0x80000000), BOX(0x7f800000), BOX(0x7fc00000),
    BOX(0x7f800001), BOX(0x00000001), BOX(0x7f7fffff), BOX(0x3f800000),
    BOX(0xbeaaaaab), BOX(0x3f800001), 0x000000003f800000ull,
};
static const u64 DVALS3[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x7ff0000000000000ull,
    0x7ff8000000000000ull, 0x7ff0000000000001ull, 0x0000000000000001ull,
    0x7fefffffffffffffull, 0x3ff0000000000000ull, 0xbfd5555555555555ull,
    0x3ff0000000000001ull, 0xfff0000000000000ull,
};

static u64 dbits(double d) { u64 u; memcpy(&u, &d, 8); return u; }
static u64 sbits(float f) { u32 u; memcpy(&u, &f, 4); return BOX(u); }

/* Conversion inputs: integer boundaries, ties, and just-outside-range values for saturation. */
static const double CVT_D[] = {
    0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.9, -0.9, 1.0 / 3, -1.0, 3.5,
    2147483647.0, 2147483647.5, 2147483648.0, -2147483648.0, -2147483648.5,
    -2147483649.0, 4294967295.0, 4294967295.5, 4294967296.0, -4294967296.0,
    9223372036854775808.0, 9223372036854774784.0, -9223372036854775808.0,
    -9223372036854777856.0, 18446744073709551616.0, 18446744073709549568.0,
    1e300, -1e300, 4.9e-324, -4.9e-324, 1e-310,
};
static const u64 CVT_DSPECIAL[] = {
    0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull,
    0xfff8000000000000ull, 0x7ff0000000000001ull, 0xfff4000000000000ull,
};
static const float CVT_S[] = {
    0.0f, -0.0f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 0.9f, -0.9f, 1.0f / 3, -1.0f,
    3.5f, 2147483648.0f, 2147483520.0f, -2147483648.0f, -2147483904.0f,
    4294967296.0f, 4294967040.0f, 9223372036854775808.0f, 9223371487098961920.0f,
    -9223372036854775808.0f, -9223373136366403584.0f, 18446744073709551616.0f,
    18446742974197923840.0f, 3e38f, -3e38f, 1e-45f, 1e-40f, 16777217.0f,
};
static const u32 CVT_SSPECIAL[] = {
    0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xffa00000,
};
static const u64 CVT_INT[] = {
    0x0000000000000001ull, 0x0000000001000001ull, 0x0000000001000003ull,
    0x0020000000000001ull, 0x0020000000000003ull, 0x7ffffffffffffdffull,
    0xfffffffffffffffdull, 0x0000000123456789ull, 0xffffffff00000005ull,
    0x0000000100000000ull, 0x8000000000000001ull, 0xfffffffffffffc01ull,
};

static void group_arith(const u64 *v, size_t n, const fpfn *ops[4], const char *names[4])
{
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                all_rm(names[k], ops[k], 2, v[i], v[j], 0);
}

static void group_s_arith(void)
{
    const fpfn *ops[4] = {fadd_s, fsub_s, fmul_s, fdiv_s};
    const char *names[4] = {"fadd.s", "fsub.s", "fmul.s", "fdiv.s"};
    group_arith(SVALS, NELEM(SVALS), ops, names);
    for (size_t i = 0; i < NELEM(SVALS); i++)
        all_rm("fsqrt.s", fsqrt_s, 1, SVALS[i], 0, 0);
    for (int i = 0; i < 300; i++) {
        u64 a = BOX(guest_rand()), b = BOX(guest_rand() & 0xc3ffffffull);
        for (int k = 0; k < 4; k++)
            all_rm(names[k], ops[k], 2, a, b, 0);
        all_rm("fsqrt.s", fsqrt_s, 1, a & ~0x80000000ull, 0, 0);
    }
}

static void group_d_arith(void)
{
    const fpfn *ops[4] = {fadd_d, fsub_d, fmul_d, fdiv_d};
    const char *names[4] = {"fadd.d", "fsub.d", "fmul.d", "fdiv.d"};
    group_arith(DVALS, NELEM(DVALS), ops, names);
    for (size_t i = 0; i < NELEM(DVALS); i++)
        all_rm("fsqrt.d", fsqrt_d, 1, DVALS[i], 0, 0);
    for (int i = 0; i < 300; i++) {
        u64 a = guest_rand(), b = guest_rand() & 0xc07fffffffffffffull;
        for (int k = 0; k < 4; k++)
            all_rm(names[k], ops[k], 2, a, b, 0);
        all_rm("fsqrt.d", fsqrt_d, 1, a & ~(1ull << 63), 0, 0);
    }
}

static void group_fma(void)
{
    const fpfn *sops[4] = {fmadd_s, fmsub_s, fnmsub_s, fnmadd_s};
    const fpfn *dops[4] = {fmadd_d, fmsub_d, fnmsub_d, fnmadd_d};
    const char *snames[4] = {"fmadd.s", "fmsub.s", "fnmsub.s", "fnmadd.s"};
    const char *dnames[4] = {"fmadd.d", "fmsub.d", "fnmsub.d", "fnmadd.d"};
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < NELEM(SVALS3); i++)
            for (size_t j = 0; j < NELEM(SVALS3); j++)
                for (size_t l = 0; l < NELEM(SVALS3); l++)
                    all_rm(snames[k], sops[k], 3, SVALS3[i], SVALS3[j], SVALS3[l]);
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < NELEM(DVALS3); i++)
            for (size_t j = 0; j < NELEM(DVALS3); j++)
                for (size_t l = 0; l < NELEM(DVALS3); l++)
                    all_rm(dnames[k], dops[k], 3, DVALS3[i], DVALS3[j], DVALS3[l]);
    /* a*b - round(a*b): only a fused operation sees the low half of the product. */
    for (int i = 0; i < 200; i++) {
        u64 e = (u64)(1023 + (i64)(guest_rand() % 64) - 32) << 52;
        u64 a = (guest_rand() & 0x800fffffffffffffull) | e;
        u64 b = (guest_rand() & 0x800fffffffffffffull) | (0x3ffull << 52);
        u64 fl, p = fmul_d[0](a, b, 0, &fl) ^ (1ull << 63);
        u64 c = (i & 1) ? p : guest_rand();
        for (int k = 0; k < 4; k++)
            all_rm(dnames[k], dops[k], 3, a, b, c);
        u64 sa = BOX((u32)a ^ ((u32)(guest_rand() & 0x3f) << 23));
        u64 sb = BOX((guest_rand() & 0x807fffffu) | 0x3f800000u);
        u64 sp = fmul_s[0](sa, sb, 0, &fl) ^ 0x80000000ull;
        u64 sc = (i & 1) ? sp : BOX(guest_rand());
        for (int k = 0; k < 4; k++)
            all_rm(snames[k], sops[k], 3, sa, sb, sc);
    }
}

static void group_cvt(void)
{
    const fpfn *fx_s[4] = {fcvt_w_s, fcvt_wu_s, fcvt_l_s, fcvt_lu_s};
    const fpfn *fx_d[4] = {fcvt_w_d, fcvt_wu_d, fcvt_l_d, fcvt_lu_d};
    const char *fx_sn[4] = {"fcvt.w.s", "fcvt.wu.s", "fcvt.l.s", "fcvt.lu.s"};
    const char *fx_dn[4] = {"fcvt.w.d", "fcvt.wu.d", "fcvt.l.d", "fcvt.lu.d"};
    const fpfn *xf[8] = {fcvt_s_w, fcvt_s_wu, fcvt_s_l, fcvt_s_lu,
                         fcvt_d_w, fcvt_d_wu, fcvt_d_l, fcvt_d_lu};
    const char *xfn[8] = {"fcvt.s.w", "fcvt.s.wu", "fcvt.s.l", "fcvt.s.lu",
                          "fcvt.d.w", "fcvt.d.wu", "fcvt.d.l", "fcvt.d.lu"};
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < NELEM(CVT_D); i++)
            all_rm(fx_dn[k], fx_d[k], 1, dbits(CVT_D[i]), 0, 0);
        for (size_t i = 0; i < NELEM(CVT_DSPECIAL); i++)
            all_rm(fx_dn[k], fx_d[k], 1, CVT_DSPECIAL[i], 0, 0);
        for (size_t i = 0; i < NELEM(CVT_S); i++)
            all_rm(fx_sn[k], fx_s[k], 1, sbits(CVT_S[i]), 0, 0);
        for (size_t i = 0; i < NELEM(CVT_SSPECIAL); i++)
            all_rm(fx_sn[k], fx_s[k], 1, BOX(CVT_SSPECIAL[i]), 0, 0);
        all_rm(fx_sn[k], fx_s[k], 1, 0x000000003f800000ull, 0, 0);
    }
    for (int k = 0; k < 8; k++) {
        for (size_t i = 0; i < NELEM(EDGE64); i++)
            all_rm(xfn[k], xf[k], 1, EDGE64[i], 0, 0);
        for (size_t i = 0; i < NELEM(CVT_INT); i++)
            all_rm(xfn[k], xf[k], 1, CVT_INT[i], 0, 0);
    }
    for (size_t i = 0; i < NELEM(DVALS); i++)
        all_rm("fcvt.s.d", fcvt_s_d, 1, DVALS[i], 0, 0);
    for (size_t i = 0; i < NELEM(CVT_D); i++)
        all_rm("fcvt.s.d", fcvt_s_d, 1, dbits(CVT_D[i]), 0, 0);
    for (size_t i = 0; i < NELEM(SVALS); i++)
        all_rm("fcvt.d.s", fcvt_d_s, 1, SVALS[i], 0, 0);
    for (int i = 0; i < 200; i++) {
        u64 r = guest_rand();
        u64 e = (u64)(1023 + (i64)(r % 140) - 70) << 52;
        u64 d = (guest_rand() & 0x800fffffffffffffull) | e;
        all_rm("fcvt.s.d", fcvt_s_d, 1, d, 0, 0);
        for (int k = 0; k < 4; k++)
            all_rm(fx_dn[k], fx_d[k], 1, d, 0, 0);
        u64 x = guest_rand() >> (r & 63);
        for (int k = 0; k < 8; k++)
            all_rm(xfn[k], xf[k], 1, (r & 64) ? (u64)-(i64)x : x, 0, 0);
    }
}

static void group_misc(void)
{
    for (size_t i = 0; i < NELEM(SVALS); i++)
        for (size_t j = 0; j < NELEM(SVALS); j++) {
            u64 a = SVALS[i], b = SVALS[j], f1, f2, f3, f4, f5, f6, f7, f8;
            u64 r1 = fsgnj_s(a, b, &f1), r2 = fsgnjn_s(a, b, &f2), r3 = fsgnjx_s(a, b, &f3);
            u64 r4 = fmin_s(a, b, &f4), r5 = fmax_s(a, b, &f5);
            u64 r6 = feq_s(a, b, &f6), r7 = flt_s(a, b, &f7), r8 = fle_s(a, b, &f8);
            printf("s %lx %lx: sgnj %lx/%lx sgnjn %lx/%lx sgnjx %lx/%lx min %lx/%lx "
                   "max %lx/%lx eq %lx/%lx lt %lx/%lx le %lx/%lx\n",
                   a, b, r1, f1, r2, f2, r3, f3, r4, f4, r5, f5, r6, f6, r7, f7, r8, f8);
        }
    for (size_t i = 0; i < NELEM(DVALS); i++)
        for (size_t j = 0; j < NELEM(DVALS); j++) {
            u64 a = DVALS[i], b = DVALS[j], f1, f2, f3, f4, f5, f6, f7, f8;
            u64 r1 = fsgnj_d(a, b, &f1), r2 = fsgnjn_d(a, b, &f2), r3 = fsgnjx_d(a, b, &f3);
            u64 r4 = fmin_d(a, b, &f4), r5 = fmax_d(a, b, &f5);
            u64 r6 = feq_d(a, b, &f6), r7 = flt_d(a, b, &f7), r8 = fle_d(a, b, &f8);
            printf("d %lx %lx: sgnj %lx/%lx sgnjn %lx/%lx sgnjx %lx/%lx min %lx/%lx "
                   "max %lx/%lx eq %lx/%lx lt %lx/%lx le %lx/%lx\n",
                   a, b, r1, f1, r2, f2, r3, f3, r4, f4, r5, f5, r6, f6, r7, f7, r8, f8);
        }
    for (size_t i = 0; i < NELEM(SVALS); i++) {
        u64 f1, f2, f3, f4, a = SVALS[i];
        u64 c = fclass_s(a, &f1), x = fmv_x_w(a, &f2), d = fmv_x_d(a, &f3);
        u64 w = fmv_w_x(a, &f4);
        printf("s %lx: class %lx/%lx fmv.x.w %lx/%lx fmv.x.d %lx/%lx fmv.w.x %lx/%lx\n", a,
               c, f1, x, f2, d, f3, w, f4);
    }
    for (size_t i = 0; i < NELEM(DVALS); i++) {
        u64 f1, f2, f3, f4, a = DVALS[i];
        u64 c = fclass_d(a, &f1), x = fmv_x_w(a, &f2), d = fmv_x_d(a, &f3);
        u64 w = fmv_d_x(a, &f4);
        printf("d %lx: class %lx/%lx fmv.x.w %lx/%lx fmv.x.d %lx/%lx fmv.d.x %lx/%lx\n", a,
               c, f1, x, f2, d, f3, w, f4);
    }
    for (size_t i = 0; i < NELEM(EDGE64); i++) {
        u64 f1, f2;
        u64 w = fmv_w_x(EDGE64[i], &f1), d = fmv_d_x(EDGE64[i], &f2);
        printf("x %lx: fmv.w.x %lx/%lx fmv.d.x %lx/%lx\n", EDGE64[i], w, f1, d, f2);
    }

    /* NaN-boxing through registers and memory. */
    u64 r, r2, fl;
    __asm__ volatile("li t0, 0x3f800000\n\tfmv.w.x ft0, t0\n\tfmv.x.d %0, ft0\n\t"
                     "fsflags zero\n\tfadd.d ft1, ft0, ft0\n\tfmv.x.d %1, ft1\n\tfrflags %2"
                     : "=r"(r), "=r"(r2), "=r"(fl) : : "t0", "ft0", "ft1");
    printf("fmv.w.x then as double: bits %lx fadd.d %lx/%lx\n", r, r2, fl);
    static volatile u64 mem[4] = {0x123456789abcdef0ull, 0x40000000c0000000ull, 0, 0};
    __asm__ volatile("fld ft0, 0(%3)\n\tfsflags zero\n\tfadd.s ft1, ft0, ft0\n\t"
                     "fmv.x.d %0, ft1\n\tfrflags %2\n\tflw ft0, 8(%3)\n\tfmv.x.d %1, ft0"
                     : "=&r"(r), "=&r"(r2), "=&r"(fl) : "r"(mem) : "ft0", "ft1", "memory");
    printf("fld garbage, fadd.s: %lx/%lx; flw after: %lx\n", r, fl, r2);
    __asm__ volatile("fld ft0, 0(%2)\n\tfsw ft0, 16(%2)\n\tfmv.x.w %0, ft0\n\t"
                     "flw ft1, 12(%2)\n\tfsd ft1, 24(%2)\n\tfmv.x.d %1, ft1"
                     : "=&r"(r), "=&r"(r2) : "r"(mem) : "ft0", "ft1", "memory");
    printf("fsw unboxed stores low half: mem %lx fmv.x.w %lx; fsd of flw: %lx %lx\n",
           mem[2], r, mem[3], r2);
    __asm__ volatile("fld ft0, 0(%2)\n\tfcvt.d.s ft1, ft0\n\tfmv.x.d %0, ft1\n\t"
                     "fclass.s %1, ft0"
                     : "=&r"(r), "=&r"(r2) : "r"(mem) : "ft0", "ft1");
    printf("unboxed: fcvt.d.s %lx fclass.s %lx\n", r, r2);
}

static u64 rd_fcsr(void) { u64 v; __asm__ volatile("frcsr %0" : "=r"(v)); return v; }

static void group_csr(void)
{
    u64 a, b, c;
    __asm__ volatile("fscsr %0" : : "r"(0x1ffull));
    printf("fscsr 0x1ff -> fcsr %lx\n", rd_fcsr());
    __asm__ volatile("fscsr %1, %2\n\tfrcsr %0" : "=r"(a), "=r"(b) : "r"(0x45ull));
    printf("fscsr swap: old %lx new %lx\n", b, a);
    __asm__ volatile("fsrm %1, %2\n\tfrrm %0" : "=r"(a), "=r"(b) : "r"(0xfcull));
    printf("fsrm 0xfc: old %lx frm %lx fcsr %lx\n", b, a, rd_fcsr());
    __asm__ volatile("fsflags %1, %2\n\tfrflags %0" : "=r"(a), "=r"(b) : "r"(0xffull));
    printf("fsflags 0xff: old %lx flags %lx fcsr %lx\n", b, a, rd_fcsr());
    __asm__ volatile("fsrmi %1, 7\n\tfrrm %0" : "=r"(a), "=r"(b));
    printf("fsrmi 7: old %lx frm %lx\n", b, a);
    /* A static rounding mode must work even while frm holds a reserved value. */
    __asm__ volatile("li t0, 1\n\tfcvt.d.l ft0, t0, rtz\n\tli t0, 3\n\tfcvt.d.l ft1, t0, rne\n\t"
                     "fdiv.d ft2, ft0, ft1, rup\n\tfmv.x.d %0, ft2"
                     : "=r"(a) : : "t0", "ft0", "ft1", "ft2");
    printf("static rup with frm=7: %lx\n", a);
    __asm__ volatile("fsrmi 2\n\tfsflagsi 0\n\tcsrrsi %0, fflags, 5\n\t"
                     "csrrci %1, fflags, 4\n\tcsrrs %2, fcsr, zero"
                     : "=r"(a), "=r"(b), "=r"(c));
    printf("csrrsi/csrrci: %lx %lx %lx\n", a, b, c);
    __asm__ volatile("li t0, 0xe0\n\tcsrrc %0, fcsr, t0\n\tli t0, 0x3\n\tcsrrs %1, fcsr, t0\n\t"
                     "csrrw %2, frm, t0"
                     : "=r"(a), "=r"(b), "=r"(c) : : "t0");
    printf("csrrc/csrrs/csrrw: %lx %lx %lx fcsr %lx\n", a, b, c, rd_fcsr());
    /* Flags accrue until cleared. */
    __asm__ volatile("fscsr zero\n\tli t0, 1\n\tfcvt.d.l ft0, t0\n\tli t0, 3\n\t"
                     "fcvt.d.l ft1, t0\n\tfdiv.d ft2, ft0, ft1\n\tfrflags %0\n\t"
                     "fmv.d.x ft3, zero\n\tfdiv.d ft2, ft0, ft3\n\tfrflags %1\n\t"
                     "fdiv.d ft2, ft3, ft3\n\tfrflags %2"
                     : "=r"(a), "=r"(b), "=r"(c) : : "t0", "ft0", "ft1", "ft2", "ft3");
    printf("accrued: %lx %lx %lx\n", a, b, c);
    __asm__ volatile("fscsr zero");
}

/* frm holding a reserved value makes any dyn-mode FP op an illegal instruction: SIGILL. */
static void group_illegal_frm(void)
{
    static const char msg[] = "about to use dyn with frm=5\n";
    fflush(stdout);
    write(1, msg, sizeof msg - 1);
    __asm__ volatile("fsrmi 5\n\tfadd.d ft0, ft0, ft0, dyn" : : : "ft0");
    printf("not reached\n");
}

int main(int argc, char **argv)
{
    const char *g = argc > 1 ? argv[1] : "";
    if (!strcmp(g, "s-arith"))
        group_s_arith();
    else if (!strcmp(g, "d-arith"))
        group_d_arith();
    else if (!strcmp(g, "fma"))
        group_fma();
    else if (!strcmp(g, "cvt"))
        group_cvt();
    else if (!strcmp(g, "misc"))
        group_misc();
    else if (!strcmp(g, "csr"))
        group_csr();
    else if (!strcmp(g, "illegal-frm"))
        group_illegal_frm();
    else {
        fprintf(stderr, "usage: fp_ops s-arith|d-arith|fma|cvt|misc|csr|illegal-frm\n");
        return 2;
    }
    return 0;
}
