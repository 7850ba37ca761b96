/* Misaligned loads and stores of every width, integer and FP, at every offset within a doubleword
   and across a page boundary (Linux lets user space do these; they must behave like aligned ones). */
#include "guest.h"
#include <stdlib.h>
#include <unistd.h>

#define LD(fn, insn)                                                          \
    static u64 fn(const void *p)                                              \
    {                                                                         \
        u64 r;                                                                \
        __asm__ volatile(insn " %0, 0(%1)" : "=r"(r) : "r"(p) : "memory");    \
        return r;                                                             \
    }
#define ST(fn, insn)                                                          \
    static void fn(void *p, u64 v)                                            \
    {                                                                         \
        __asm__ volatile(insn " %1, 0(%0)" : : "r"(p), "r"(v) : "memory");    \
    }
LD(ld_lb, "lb") LD(ld_lbu, "lbu") LD(ld_lh, "lh") LD(ld_lhu, "lhu") LD(ld_lw, "lw")
LD(ld_lwu, "lwu") LD(ld_ld, "ld")
ST(st_sb, "sb") ST(st_sh, "sh") ST(st_sw, "sw") ST(st_sd, "sd")

/* FP forms go through a register so NaN-boxing of flw is visible too. */
static u64 ld_flw(const void *p)
{
    u64 r;
    __asm__ volatile("flw ft0, 0(%1)\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(p) : "ft0", "memory");
    return r;
}
static u64 ld_fld(const void *p)
{
    u64 r;
    __asm__ volatile("fld ft0, 0(%1)\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(p) : "ft0", "memory");
    return r;
}
static void st_fsw(void *p, u64 v)
{
    __asm__ volatile("fmv.d.x ft0, %1\n\tfsw ft0, 0(%0)" : : "r"(p), "r"(v) : "ft0", "memory");
}
static void st_fsd(void *p, u64 v)
{
    __asm__ volatile("fmv.d.x ft0, %1\n\tfsd ft0, 0(%0)" : : "r"(p), "r"(v) : "ft0", "memory");
}
/* Compressed encodings (c.lw/c.ld/c.sw/c.sd/c.fld/c.fsd need registers from x8..x15/f8..f15). */
static u64 ld_c(const void *p, u64 v)
{
    register const void *base __asm__("a0") = p;
    register u64 val __asm__("a1") = v;
    register u64 r1 __asm__("a2");
    register u64 r2 __asm__("a3");
    register u64 r3 __asm__("a4");
    __asm__ volatile(".option push\n\t.option rvc\n\t"
                     "c.lw a2, 4(a0)\n\tc.ld a3, 8(a0)\n\tc.sw a1, 16(a0)\n\tc.sd a1, 24(a0)\n\t"
                     "c.fld fa0, 0(a0)\n\tc.fsd fa0, 32(a0)\n\tfmv.x.d a4, fa0\n\t"
                     ".option pop"
                     : "=&r"(r1), "=&r"(r2), "=&r"(r3)
                     : "r"(base), "r"(val)
                     : "fa0", "memory");
    return r1 ^ (r2 << 1) ^ (r3 << 2);
}

static unsigned char *buf;

static void fill(unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(0x81 + i * 0x3b);
}

static void dump(const char *what, const unsigned char *b, size_t n)
{
    printf("%s:", what);
    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
    printf("\n");
}

static void at(unsigned char *base, size_t off, const char *where)
{
    unsigned char *p = base + off;
    fill(base - 16, 48);
    printf("%s+%zu loads: lb %lx lbu %lx lh %lx lhu %lx lw %lx lwu %lx ld %lx flw %lx fld %lx\n",
           where, off, ld_lb(p), ld_lbu(p), ld_lh(p), ld_lhu(p), ld_lw(p), ld_lwu(p), ld_ld(p),
           ld_flw(p), ld_fld(p));
    static const struct {
        const char *n;
        void (*f)(void *, u64);
    } stores[] = {{"sb", st_sb}, {"sh", st_sh}, {"sw", st_sw}, {"sd", st_sd},
                  {"fsw", st_fsw}, {"fsd", st_fsd}};
    for (size_t k = 0; k < NELEM(stores); k++) {
        fill(base - 16, 48);
        stores[k].f(p, 0xf1e2d3c4b5a69788ull);
        char what[64];
        snprintf(what, sizeof what, "%s+%zu %s", where, off, stores[k].n);
        dump(what, base - 8, 24);
    }
}

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    buf = aligned_alloc((size_t)page, (size_t)page * 3);
    if (!buf)
        return 1;
    for (size_t off = 0; off < 16; off++)
        at(buf + 64, off, "mid");
    /* Accesses straddling a page boundary: both pages are mapped, so they must just work. */
    for (size_t off = 1; off < 8; off++)
        at(buf + page - 8, off, "page-8");
    for (size_t off = 0; off < 16; off++) {
        fill(buf + 64, 64);
        u64 r = ld_c(buf + 64 + off, 0x0102030405060708ull);
        char what[64];
        snprintf(what, sizeof what, "compressed+%zu %lx", off, r);
        dump(what, buf + 64 + off, 40);
    }
    /* memcpy/memmove between misaligned buffers, the way real programs hit this. */
    fill(buf, 512);
    u64 h = FNV_INIT;
    for (size_t s = 0; s < 8; s++)
        for (size_t d = 0; d < 8; d++) {
            memmove(buf + 1024 + d, buf + s, 300);
            h = fnv1a(buf + 1024, 320, h);
            memmove(buf + 3 + d, buf + 5 + s, 200);
            h = fnv1a(buf, 512, h);
        }
    printf("memmove hash %016lx\n", h);
    free(buf);
    return 0;
}
