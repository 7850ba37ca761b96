/*
 * Reference oracle for the fpu differential test: runs one RISC-V F/D instruction per input
 * record under qemu-riscv64 (or real hardware) and reports the result register and fflags.
 *
 * Build: riscv64-linux-gnu-gcc -O2 -static -o fpu_oracle fpu_oracle.c
 * Input (stdin), little-endian records of 32 bytes: u32 op, u32 rm, u64 a, u64 b, u64 c.
 * Output (stdout), 16 bytes per record: u64 destination register, u64 fflags.
 * Op numbers are shared with core/src/fpu/qemu_diff.rs: base op + 32 for double precision.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct input { uint32_t op, rm; uint64_t a, b, c; };
struct output { uint64_t result, flags; };

/* Each asm block clears fflags, runs one instruction and reads fflags back, so nothing the
 * compiler schedules around it can disturb the flags. */
#define RUN(body, ...) \
    __asm__ volatile("csrw fflags, zero\n\t" body "\n\tcsrr %1, fflags" \
                     : "=&r"(res), "=&r"(fl) : "r"(a), "r"(b), "r"(c) \
                     : "ft0", "ft1", "ft2", "ft3" __VA_ARGS__)

/* Operands arrive in integer registers and move bit-exactly into f registers (fmv keeps
 * signaling NaNs and boxes singles); results move back the same way. */
#define IN3(W) "fmv." W ".x ft0, %2\n\tfmv." W ".x ft1, %3\n\tfmv." W ".x ft2, %4\n\t"
#define OUT(W) "\n\tfmv.x." W " %0, ft3"

#define BIN(W, insn, RM)   RUN(IN3(W) insn " ft3, ft0, ft1, " RM OUT(W))
#define BIN_NORM(W, insn)  RUN(IN3(W) insn " ft3, ft0, ft1" OUT(W))
#define UN(W, insn, RM)    RUN(IN3(W) insn " ft3, ft0, " RM OUT(W))
#define TERN(W, insn, RM)  RUN(IN3(W) insn " ft3, ft0, ft1, ft2, " RM OUT(W))
#define CMP(W, insn)       RUN(IN3(W) insn " %0, ft0, ft1")
#define CLASS(W, insn)     RUN(IN3(W) insn " %0, ft0")
#define TO_INT(W, insn, RM)   RUN(IN3(W) insn " %0, ft0, " RM)
#define FROM_INT(W, insn, RM) RUN(insn " ft3, %2, " RM OUT(W))
#define FROM_INT_EXACT(W, insn) RUN(insn " ft3, %2" OUT(W))

#define WITH_RM(M, ...) \
    switch (in->rm) { \
    case 0: M(__VA_ARGS__, "rne"); break; \
    case 1: M(__VA_ARGS__, "rtz"); break; \
    case 2: M(__VA_ARGS__, "rdn"); break; \
    case 3: M(__VA_ARGS__, "rup"); break; \
    default: M(__VA_ARGS__, "rmm"); break; \
    }

static void run(const struct input *in, struct output *out) {
    uint64_t a = in->a, b = in->b, c = in->c, res = 0, fl = 0;
    switch (in->op) {
    case 0: WITH_RM(BIN, "w", "fadd.s") break;
    case 1: WITH_RM(BIN, "w", "fsub.s") break;
    case 2: WITH_RM(BIN, "w", "fmul.s") break;
    case 3: WITH_RM(BIN, "w", "fdiv.s") break;
    case 4: WITH_RM(UN, "w", "fsqrt.s") break;
    case 5: WITH_RM(TERN, "w", "fmadd.s") break;
    case 6: WITH_RM(TERN, "w", "fmsub.s") break;
    case 7: WITH_RM(TERN, "w", "fnmsub.s") break;
    case 8: WITH_RM(TERN, "w", "fnmadd.s") break;
    case 9: BIN_NORM("w", "fmin.s"); break;
    case 10: BIN_NORM("w", "fmax.s"); break;
    case 11: CMP("w", "feq.s"); break;
    case 12: CMP("w", "flt.s"); break;
    case 13: CMP("w", "fle.s"); break;
    case 14: CLASS("w", "fclass.s"); break;
    case 15: WITH_RM(TO_INT, "w", "fcvt.w.s") break;
    case 16: WITH_RM(TO_INT, "w", "fcvt.wu.s") break;
    case 17: WITH_RM(TO_INT, "w", "fcvt.l.s") break;
    case 18: WITH_RM(TO_INT, "w", "fcvt.lu.s") break;
    case 19: WITH_RM(FROM_INT, "w", "fcvt.s.w") break;
    case 20: WITH_RM(FROM_INT, "w", "fcvt.s.wu") break;
    case 21: WITH_RM(FROM_INT, "w", "fcvt.s.l") break;
    case 22: WITH_RM(FROM_INT, "w", "fcvt.s.lu") break;
    case 23: RUN(IN3("w") "fcvt.d.s ft3, ft0" OUT("d")); break;

    case 32 + 0: WITH_RM(BIN, "d", "fadd.d") break;
    case 32 + 1: WITH_RM(BIN, "d", "fsub.d") break;
    case 32 + 2: WITH_RM(BIN, "d", "fmul.d") break;
    case 32 + 3: WITH_RM(BIN, "d", "fdiv.d") break;
    case 32 + 4: WITH_RM(UN, "d", "fsqrt.d") break;
    case 32 + 5: WITH_RM(TERN, "d", "fmadd.d") break;
    case 32 + 6: WITH_RM(TERN, "d", "fmsub.d") break;
    case 32 + 7: WITH_RM(TERN, "d", "fnmsub.d") break;
    case 32 + 8: WITH_RM(TERN, "d", "fnmadd.d") break;
    case 32 + 9: BIN_NORM("d", "fmin.d"); break;
    case 32 + 10: BIN_NORM("d", "fmax.d"); break;
    case 32 + 11: CMP("d", "feq.d"); break;
    case 32 + 12: CMP("d", "flt.d"); break;
    case 32 + 13: CMP("d", "fle.d"); break;
    case 32 + 14: CLASS("d", "fclass.d"); break;
    case 32 + 15: WITH_RM(TO_INT, "d", "fcvt.w.d") break;
    case 32 + 16: WITH_RM(TO_INT, "d", "fcvt.wu.d") break;
    case 32 + 17: WITH_RM(TO_INT, "d", "fcvt.l.d") break;
    case 32 + 18: WITH_RM(TO_INT, "d", "fcvt.lu.d") break;
    case 32 + 19: FROM_INT_EXACT("d", "fcvt.d.w"); break;
    case 32 + 20: FROM_INT_EXACT("d", "fcvt.d.wu"); break;
    case 32 + 21: WITH_RM(FROM_INT, "d", "fcvt.d.l") break;
    case 32 + 22: WITH_RM(FROM_INT, "d", "fcvt.d.lu") break;
    case 32 + 23: WITH_RM(UN, "d", "fcvt.s.d") break;
    default: res = ~0ull; fl = ~0ull; break;
    }
    out->result = res;
    out->flags = fl;
}

int main(void) {
    enum { CHUNK = 4096 };
    static struct input in[CHUNK];
    static struct output out[CHUNK];
    size_t n;
    while ((n = fread(in, sizeof in[0], CHUNK, stdin)) > 0) {
        for (size_t i = 0; i < n; i++) run(&in[i], &out[i]);
        if (fwrite(out, sizeof out[0], n, stdout) != n) return 1;
    }
    return 0;
}
