/* General libc and compiled-code exercise: qsort/bsearch, string functions, setjmp/longjmp, deep and
   mutual recursion, libm, struct copies, function pointers, computed switch tables. */
#include "guest.h"
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>

static int cmp_i64(const void *a, const void *b)
{
    i64 x = *(const i64 *)a, y = *(const i64 *)b;
    return (x > y) - (x < y);
}
static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sorting(void)
{
    enum { N = 50000 };
    static i64 v[N];
    static double dv[N];
    for (int i = 0; i < N; i++) {
        v[i] = (i64)guest_rand();
        dv[i] = (double)(i64)guest_rand() / 3.0e9;
    }
    qsort(v, N, sizeof v[0], cmp_i64);
    qsort(dv, N, sizeof dv[0], cmp_dbl);
    int sorted = 1;
    for (int i = 1; i < N; i++)
        sorted &= v[i - 1] <= v[i] && dv[i - 1] <= dv[i];
    printf("qsort sorted=%d min=%ld max=%ld hash=%016lx dhash=%016lx\n", sorted, v[0], v[N - 1],
           fnv1a(v, sizeof v, FNV_INIT), fnv1a(dv, sizeof dv, FNV_INIT));
    i64 key = v[12345];
    i64 *hit = bsearch(&key, v, N, sizeof v[0], cmp_i64);
    printf("bsearch found index %ld\n", hit ? (long)(hit - v) : -1L);
    char *words[] = {"pear", "apple", "fig", "banana", "Cherry", "apple pie", "", "zebra", "a"};
    qsort(words, NELEM(words), sizeof words[0], cmp_str);
    for (size_t i = 0; i < NELEM(words); i++)
        printf("[%s]", words[i]);
    printf("\n");
}

static void strings(void)
{
    char buf[256];
    strcpy(buf, "The quick brown fox jumps over the lazy dog");
    printf("strlen %zu strchr %s strrchr %s strstr %s\n", strlen(buf), strchr(buf, 'q'),
           strrchr(buf, 'o'), strstr(buf, "lazy"));
    printf("strcmp %d %d %d strncmp %d memcmp %d\n", strcmp("abc", "abd") < 0,
           strcmp("b", "a") > 0, strcmp("same", "same"), strncmp("abcdef", "abcxyz", 3),
           memcmp("\x01\xff", "\x01\x00", 2) > 0);
    char tok[] = "a,b;;c, d";
    for (char *save, *t = strtok_r(tok, ",; ", &save); t; t = strtok_r(NULL, ",; ", &save))
        printf("tok[%s] ", t);
    printf("\n");
    memmove(buf + 4, buf, 20);
    buf[30] = 0;
    printf("memmove overlap [%s]\n", buf);
    for (char *p = buf; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    printf("upper [%s]\n", buf);
    char cat[64] = "abc";
    const char *volatile src = "defghij"; /* opaque, so -Wstringop-truncation stays quiet */
    strncat(cat, src, 3);
    strncpy(buf, "xy", 5);
    printf("strncat [%s] strncpy pad %d%d%d strspn %zu strcspn %zu\n", cat, buf[2], buf[3],
           buf[4], strspn("aabbc", "ab"), strcspn("hello world", " "));
    char *dup = strdup("duplicate me");
    printf("strdup [%s] %d\n", dup, atoi("  -1234xyz"));
    free(dup);
    /* Long strings make glibc take its word-at-a-time paths, at every alignment. */
    static char big[70000];
    for (size_t i = 0; i < sizeof big - 1; i++)
        big[i] = (char)('a' + i % 26);
    u64 h = FNV_INIT;
    for (int off = 0; off < 16; off++) {
        size_t len = strlen(big + off);
        char *c = strchr(big + off, 'z');
        char *r = memchr(big + off, 'q', 5000);
        h = fnv1a(&len, sizeof len, h);
        size_t d1 = (size_t)(c - big), d2 = (size_t)(r - big);
        h = fnv1a(&d1, sizeof d1, h);
        h = fnv1a(&d2, sizeof d2, h);
        memset(big + 60000 + off, 'A' + off, 1000);
        h = fnv1a(big + 60000, 1100, h);
    }
    printf("big strings hash %016lx\n", h);
}

static jmp_buf jb;
static int depth_reached;

static void dive(int depth)
{
    volatile char pad[64];
    pad[0] = (char)depth;
    depth_reached = depth + pad[0] - (char)depth;
    if (depth >= 500)
        longjmp(jb, depth);
    if (depth < 1000) /* never false; gives -Winfinite-recursion its way out */
        dive(depth + 1);
}

static void jumps(void)
{
    volatile int count = 0;
    int v = setjmp(jb);
    count++;
    if (v == 0)
        dive(0);
    printf("longjmp returned %d after depth %d, count %d\n", v, depth_reached, count);
    jmp_buf j2;
    volatile double fpv = 1.25;
    if (setjmp(j2) == 0) {
        fpv = 2.5;
        longjmp(j2, 0); /* longjmp with 0 must make setjmp return 1. */
    } else {
        printf("longjmp(0) gives nonzero; fp preserved %g\n", fpv);
    }
}

static u64 ackermann(u64 m, u64 n)
{
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}
static int is_even(unsigned n);
static int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1); }
static int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1); }
static int queens(int n, int row, unsigned cols, unsigned d1, unsigned d2)
{
    if (row == n)
        return 1;
    int total = 0;
    for (int c = 0; c < n; c++) {
        unsigned a = 1u << c, b = 1u << (row + c), e = 1u << (row - c + n);
        if (!(cols & a) && !(d1 & b) && !(d2 & e))
            total += queens(n, row + 1, cols | a, d1 | b, d2 | e);
    }
    return total;
}
static u64 fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

struct big {
    double d[5];
    int i[7];
    char name[13];
};
static struct big make_big(int k)
{
    struct big b;
    for (int i = 0; i < 5; i++)
        b.d[i] = k * 1.5 + i;
    for (int i = 0; i < 7; i++)
        b.i[i] = k * i - 3;
    snprintf(b.name, sizeof b.name, "big%d", k);
    return b;
}

static int classify(int x)
{
    switch (x) {
    case 0: return 10;
    case 1: return 31;
    case 2: return 7;
    case 3: return 99;
    case 4: return -5;
    case 5: return 12;
    case 6: return 1000;
    case 7: return 64;
    case 9: return 3;
    default: return -1;
    }
}

int main(void)
{
    sorting();
    strings();
    jumps();
    printf("ackermann(2,3)=%lu ackermann(3,5)=%lu\n", ackermann(2, 3), ackermann(3, 5));
    printf("is_even(100001)=%d queens(8)=%d queens(9)=%d fib(27)=%lu\n", is_even(100001),
           queens(8, 0, 0, 0, 0), queens(9, 0, 0, 0, 0), fib(27));
    struct big b = make_big(7), c;
    c = b;
    c.d[4] += 0.25;
    printf("struct %s %g %g %d\n", c.name, c.d[0], c.d[4], c.i[6]);
    int sum = 0;
    for (int i = -3; i < 14; i++)
        sum = sum * 3 + classify(i);
    printf("switch %d\n", sum);
    double (*fns[])(double) = {sin, cos, tan, exp, log, sqrt, cbrt, atan, log1p, expm1};
    const char *names[] = {"sin", "cos", "tan", "exp", "log", "sqrt", "cbrt", "atan", "log1p",
                           "expm1"};
    for (size_t k = 0; k < NELEM(fns); k++) {
        printf("%s:", names[k]);
        for (double x = 0.125; x < 40; x = x * 1.7 + 0.3)
            printf(" %a", fns[k](x));
        printf("\n");
    }
    printf("pow %a %a fmod %a hypot %a atan2 %a lround %ld\n", pow(2.5, 7.25), pow(-8, 1.0 / 3),
           fmod(1e10, 3.7), hypot(3e200, 4e200), atan2(-1, -0.0), lround(-2.5));
    float fs = 0;
    for (int i = 1; i < 1000; i++)
        fs += sinf((float)i) / (float)i;
    printf("sinf sum %a\n", fs);
    return 0;
}
