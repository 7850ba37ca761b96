/* Benchmark guest: double-precision matrix multiply (i-k-j order); entries are small dyadic rationals so every sum is exact and the checksum is the same with or without fused multiply-add. */
#include "bench.h"

#define N 320

static double a[N][N], b[N][N], c[N][N];

static void matmul(void) {
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++)
            c[i][j] = 0.0;
        for (int k = 0; k < N; k++) {
            double aik = a[i][k];
            for (int j = 0; j < N; j++)
                c[i][j] += aik * b[k][j];
        }
    }
}

int main(int argc, char **argv) {
    long scale = bench_scale(argc, argv);
    uint64_t sum = 0;
    for (long r = 0; r < 16 * scale; r++) {
        /* multiples of 1/8 in [-1, 1]: products are multiples of 1/64, |sums| <= N, all exact */
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                a[i][j] = (double)((i * 7 + j * 3 + (int)r) % 17 - 8) / 8.0;
                b[i][j] = (double)((i * 5 + j * 11 + 3 * (int)r) % 17 - 8) / 8.0;
            }
        matmul();
        double trace = 0.0;
        for (int i = 0; i < N; i++) {
            trace += c[i][i];
            for (int j = 0; j < N; j += 7)
                sum = bench_mix(sum, (uint64_t)(int64_t)(c[i][j] * 64.0));
        }
        sum = bench_mix(sum, (uint64_t)(int64_t)(trace * 64.0));
    }
    bench_result("matmul", sum);
    return 0;
}
