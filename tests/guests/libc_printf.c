/* printf/scanf/strtod through glibc: integer, float, double and long double (binary128, all soft-float
   in libgcc) conversions with widths, precisions and flags; round trips of text and numbers. */
#include "guest.h"
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

static const double DBL[] = {
    0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 2.5, -2.5, 1.0 / 3, 2.0 / 3, 123456.789,
    1e-5, 1e-300, 4.9e-324, 2.2250738585072014e-308, DBL_MAX, 1e15, 1e16, 1e17,
    9007199254740993.0, 0.000123456789, 6.02214076e23, 1.7976931348623157e308,
    INFINITY, -INFINITY, NAN, 0.125, 999.9999, 0.05, 0.15, 0.25, 0.35, 1e21, 1e22,
};
static const char *DFMT[] = {
    "%f", "%.0f", "%.1f", "%.3f", "%.17f", "%e", "%.0e", "%.3e", "%.16e", "%E",
    "%g", "%.0g", "%.1g", "%.10g", "%.17g", "%G", "%a", "%.0a", "%.3a", "%A",
    "%10.3f", "%-12.4e|", "%+g", "% g", "%#g", "%#.0f", "%#x", "%012.3f", "%+.3a",
};

int main(void)
{
    for (size_t i = 0; i < NELEM(DBL); i++) {
        printf("[%zu]", i);
        for (size_t f = 0; f < NELEM(DFMT); f++) {
            if (!strcmp(DFMT[f], "%#x"))
                continue;
            printf(" ");
            printf(DFMT[f], DBL[i]);
        }
        float fl = (float)DBL[i];
        printf(" | float %g %a %.9g\n", fl, fl, fl);
    }
    long double ld[] = {1.0L / 3, -2.5L, 1e-4000L, 1e4000L, LDBL_MAX, LDBL_MIN, 0.1L,
                        3.14159265358979323846264338327950288L};
    for (size_t i = 0; i < NELEM(ld); i++) {
        long double x = ld[i];
        long double y = x * 3 - 1 / (x + 1);
        printf("ld %.36Lg %La %Le %.10Lf %.20Lg\n", x, x, x, y, sqrtl(fabsl(x)));
    }

    static const long long INTS[] = {0, 1, -1, 42, -42, INT_MAX, INT_MIN, LLONG_MAX, LLONG_MIN,
                                     255, 65535, 0x12345678, -1000000007};
    for (size_t i = 0; i < NELEM(INTS); i++) {
        long long v = INTS[i];
        printf("int %d %i %u %x %X %o %ld %lld %llu %llx %hd %hhd %hu %hhu %jd %zd %c|\n",
               (int)v, (int)v, (unsigned)v, (unsigned)v, (unsigned)v, (unsigned)v, (long)v, v,
               (unsigned long long)v, (unsigned long long)v, (short)v, (signed char)v,
               (unsigned short)v, (unsigned char)v, (intmax_t)v, (ssize_t)v,
               (int)(32 + ((unsigned long long)v % 95)));
        printf("widths [%8d] [%-8d] [%08d] [%+d] [% d] [%.5d] [%8.5d] [%#o] [%#x] [%#X] "
               "[%*d] [%-*d] [%.*d]\n",
               (int)v, (int)v, (int)v, (int)v, (int)v, (int)v, (int)v, (unsigned)v, (unsigned)v,
               (unsigned)v, 6, (int)v, 6, (int)v, 3, (int)v);
        printf("inttypes %" PRId64 " %" PRIx64 " %" PRIu32 " %" PRIo16 "\n", (int64_t)v,
               (uint64_t)v, (uint32_t)v, (uint16_t)v);
    }
    printf("strings [%s] [%10s] [%-10s] [%.3s] [%10.2s] [%c%c%c] [%%] [%p] [%p]\n", "hello",
           "hi", "hi", "truncate", "xyz", 'a', 'b', 'c', (void *)0x1234, (void *)0);
    int n1 = 0, n2 = 0;
    printf("count%n this%n\n", &n1, &n2);
    printf("n %d %d\n", n1, n2);
    char small[8];
    volatile size_t small_len = sizeof small; /* hides the truncation from -Wformat-truncation */
    int want = snprintf(small, small_len, "%s-%d", "truncated", 12345);
    printf("snprintf %d [%s]\n", want, small);

    /* Round trips: text -> number -> text must be exact with %.17g / %a. */
    u64 h = FNV_INIT;
    for (int i = 0; i < 3000; i++) {
        u64 bits = guest_rand();
        double d;
        memcpy(&d, &bits, 8);
        if (isnan(d))
            continue;
        char s1[64], s2[64];
        snprintf(s1, sizeof s1, "%.17g", d);
        double back = strtod(s1, NULL);
        snprintf(s2, sizeof s2, "%a", d);
        double back2 = strtod(s2, NULL);
        if (memcmp(&back, &d, 8) || memcmp(&back2, &d, 8))
            printf("round trip mismatch %s %s\n", s1, s2);
        h = fnv1a(s1, strlen(s1), h);
        h = fnv1a(s2, strlen(s2), h);
        if (i % 300 == 0)
            printf("rt %s %s\n", s1, s2);
    }
    printf("roundtrip hash %016lx\n", h);
    const char *nums[] = {"0x1p-1074", "1e-400", "  -12.5e3xyz", "inf", "-nan", "1e309",
                          "0.1", "123456789012345678901234567890", "4.9406564584124654e-324",
                          "2.4703282292062327e-324", "2.4703282292062328e-324"};
    for (size_t i = 0; i < NELEM(nums); i++) {
        char *end;
        double d = strtod(nums[i], &end);
        float f = strtof(nums[i], NULL);
        long long l = strtoll(nums[i], NULL, 0);
        printf("strto [%s] %a rest[%s] %a %lld\n", nums[i], d, end, f, l);
    }
    int a, b;
    unsigned x;
    double d;
    char word[16];
    int got = sscanf("  17 -4 ff 2.5e-3 word rest", "%d %d %x %lf %15s", &a, &b, &x, &d, word);
    printf("sscanf %d: %d %d %x %a %s\n", got, a, b, x, d, word);
    printf("strtoul %lu %lx %ld\n", strtoul("18446744073709551615", NULL, 10),
           strtoul("-1", NULL, 16), strtol("-9223372036854775809", NULL, 10));
    return 0;
}
