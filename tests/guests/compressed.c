/* Explicit RVC encodings whose immediates/registers are easy to decode wrongly: 6-bit shifts,
   negative c.lui/c.li/c.andi, c.addiw, c.addi16sp/c.addi4spn, sp-relative loads/stores, c.jr/c.jalr,
   c.beqz/c.bnez. The rest of the suite gets compressed code everywhere from -march=rv64gc. */
#include "guest.h"

#define ONE(name, body)                                                       \
    static u64 name(u64 in)                                                   \
    {                                                                         \
        register u64 a0 __asm__("a0") = in;                                   \
        __asm__ volatile(".option push\n\t.option rvc\n\t" body "\n\t.option pop" \
                         : "+r"(a0) : : "a1", "a2", "a3", "fa0", "memory");          \
        return a0;                                                            \
    }
ONE(c_slli1, "c.slli a0, 1") ONE(c_slli63, "c.slli a0, 63") ONE(c_slli32, "c.slli a0, 32")
ONE(c_srli1, "c.srli a0, 1") ONE(c_srli33, "c.srli a0, 33") ONE(c_srli63, "c.srli a0, 63")
ONE(c_srai1, "c.srai a0, 1") ONE(c_srai40, "c.srai a0, 40") ONE(c_srai63, "c.srai a0, 63")
ONE(c_andi_m1, "c.andi a0, -1") ONE(c_andi_m32, "c.andi a0, -32") ONE(c_andi_31, "c.andi a0, 31")
ONE(c_addi_m32, "c.addi a0, -32") ONE(c_addi_31, "c.addi a0, 31")
ONE(c_addiw_m1, "c.addiw a0, -1") ONE(c_addiw_0, "c.addiw a0, 0") ONE(c_addiw_31, "c.addiw a0, 31")
ONE(c_li_m32, "c.li a0, -32") ONE(c_li_31, "c.li a0, 31")
ONE(c_lui_1, "c.lui a0, 1") ONE(c_lui_31, "c.lui a0, 31") ONE(c_lui_neg, "c.lui a0, 0xfffe0")
ONE(c_lui_m1, "c.lui a0, 0xfffff")
ONE(c_mv, "c.li a1, 7\n\tc.mv a1, a0\n\tc.add a0, a1")
ONE(c_sub, "c.li a1, 5\n\tc.sub a1, a0\n\tc.mv a0, a1")
ONE(c_and, "c.li a1, -7\n\tc.and a0, a1") ONE(c_or, "c.li a1, 9\n\tc.or a0, a1")
ONE(c_xor, "c.li a1, -1\n\tc.xor a0, a1")
ONE(c_addw, "c.li a1, 1\n\tc.addw a0, a1") ONE(c_subw, "c.li a1, 1\n\tc.subw a0, a1")
ONE(c_beqz, "c.li a1, 0\n\tc.beqz a0, 1f\n\tc.li a1, 1\n1:\n\tc.mv a0, a1")
ONE(c_bnez, "c.li a1, 0\n\tc.bnez a0, 1f\n\tc.li a1, 1\n1:\n\tc.mv a0, a1")
ONE(c_j, "c.li a1, 3\n\tc.j 1f\n\tc.li a1, 4\n1:\n\tc.add a0, a1")
ONE(c_jr, "lla a2, 1f\n\tc.li a1, 3\n\tc.jr a2\n\tc.li a1, 4\n1:\n\tc.add a0, a1")
/* c.jalr links pc+2 into ra; print ra minus the address of the c.jalr itself. */
ONE(c_jalr, "mv a3, ra\n\tlla a2, 2f\n4:\n\tc.jalr a2\n1:\n\tc.j 3f\n2:\n\tlla a1, 4b\n\tsub a0, ra, a1\n\t"
            "c.jr ra\n3:\n\tmv ra, a3")
ONE(c_sp, "c.addi16sp sp, -64\n\tc.sdsp a0, 8(sp)\n\tc.sdsp a0, 16(sp)\n\tc.swsp a0, 20(sp)\n\t"
          "c.lwsp a1, 8(sp)\n\tc.ldsp a2, 16(sp)\n\tc.addi4spn a3, sp, 8\n\tc.fldsp fa0, 8(sp)\n\t"
          "c.fsdsp fa0, 24(sp)\n\tc.ld a0, 16(a3)\n\tsub a3, a3, sp\n\tc.addi16sp sp, 64\n\t"
          "xor a0, a0, a1\n\tslli a2, a2, 1\n\txor a0, a0, a2\n\tslli a3, a3, 60\n\txor a0, a0, a3")

static const struct {
    const char *name;
    u64 (*fn)(u64);
} OPS[] = {
#define E(f) {#f, f},
    E(c_slli1) E(c_slli63) E(c_slli32) E(c_srli1) E(c_srli33) E(c_srli63) E(c_srai1)
    E(c_srai40) E(c_srai63) E(c_andi_m1) E(c_andi_m32) E(c_andi_31) E(c_addi_m32)
    E(c_addi_31) E(c_addiw_m1) E(c_addiw_0) E(c_addiw_31) E(c_li_m32) E(c_li_31) E(c_lui_1)
    E(c_lui_31) E(c_lui_neg) E(c_lui_m1) E(c_mv) E(c_sub) E(c_and) E(c_or) E(c_xor) E(c_addw)
    E(c_subw) E(c_beqz) E(c_bnez) E(c_j) E(c_jr) E(c_jalr) E(c_sp)
#undef E
};

int main(void)
{
    for (size_t k = 0; k < NELEM(OPS); k++)
        for (size_t i = 0; i < NELEM(EDGE64); i++)
            printf("%s %lx = %lx\n", OPS[k].name, EDGE64[i], OPS[k].fn(EDGE64[i]));
    return 0;
}
