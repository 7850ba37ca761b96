/* Benchmark guest: nbody.c in single precision, the arithmetic of game and engine code. Built without fused multiply-adds, which change float results in the decimals the checksum prints (fused and unfused double results agree there). */
#pragma GCC optimize("fp-contract=off")
#define REAL float
#define SQRT sqrtf
#include "nbody.c"
