/* Benchmark guest: a tiny stack bytecode VM with switch dispatch, running a hand-assembled loop of arithmetic and branches. */
#include "bench.h"

enum {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_AND,
    OP_XOR, OP_SHR, OP_LT, OP_JMP, OP_JZ, OP_DUP, OP_POP, OP_INC,
};

/* Locals: 0 = i, 1 = n, 2 = x (LCG state), 3 = acc. Offsets are word indices. */
static const int32_t program[] = {
    /* 0 */ OP_PUSH, 0, OP_STORE, 0,
    /* 4: loop: if !(i < n) goto end */
    OP_LOAD, 0, OP_LOAD, 1, OP_LT, OP_JZ, 52,
    /* 11: x = (x * 1103515245 + 12345) & 0x7fffffff */
    OP_LOAD, 2, OP_PUSH, 1103515245, OP_MUL, OP_PUSH, 12345, OP_ADD,
    OP_PUSH, 0x7fffffff, OP_AND, OP_DUP, OP_STORE, 2,
    /* 25: if (x & 1) acc += x >> 3 */
    OP_PUSH, 1, OP_AND, OP_JZ, 41,
    /* 30 */ OP_LOAD, 3, OP_LOAD, 2, OP_SHR, 3, OP_ADD, OP_STORE, 3, OP_JMP, 48,
    /* 41: else acc ^= i */
    OP_LOAD, 3, OP_LOAD, 0, OP_XOR, OP_STORE, 3,
    /* 48: i++ */
    OP_INC, 0, OP_JMP, 4,
    /* 52: end */
    OP_HALT,
};

static int64_t run(const int32_t *code, int64_t *locals) {
    int64_t stack[64];
    int sp = 0;
    int pc = 0;
    for (;;) {
        int32_t op = code[pc++];
        switch (op) {
        case OP_HALT: return sp > 0 ? stack[sp - 1] : 0;
        case OP_PUSH: stack[sp++] = code[pc++]; break;
        case OP_LOAD: stack[sp++] = locals[code[pc++]]; break;
        case OP_STORE: locals[code[pc++]] = stack[--sp]; break;
        case OP_ADD: sp--; stack[sp - 1] += stack[sp]; break;
        case OP_SUB: sp--; stack[sp - 1] -= stack[sp]; break;
        case OP_MUL: sp--; stack[sp - 1] = (int64_t)((uint64_t)stack[sp - 1] * (uint64_t)stack[sp]); break;
        case OP_AND: sp--; stack[sp - 1] &= stack[sp]; break;
        case OP_XOR: sp--; stack[sp - 1] ^= stack[sp]; break;
        case OP_SHR: stack[sp - 1] = (int64_t)((uint64_t)stack[sp - 1] >> code[pc++]); break;
        case OP_LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
        case OP_JMP: pc = code[pc]; break;
        case OP_JZ: if (stack[--sp] == 0) pc = code[pc]; else pc++; break;
        case OP_DUP: stack[sp] = stack[sp - 1]; sp++; break;
        case OP_POP: sp--; break;
        case OP_INC: locals[code[pc++]]++; break;
        default: return -1;
        }
    }
}

int main(int argc, char **argv) {
    long scale = bench_scale(argc, argv);
    uint64_t sum = 0;
    for (long r = 0; r < 3 * scale; r++) {
        int64_t locals[4] = {0, 2500000, r + 1, 0};
        run(program, locals);
        sum = bench_mix(sum, (uint64_t)locals[3]);
        sum = bench_mix(sum, (uint64_t)locals[2]);
    }
    bench_result("vm", sum);
    return 0;
}
