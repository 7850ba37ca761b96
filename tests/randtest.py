#!/usr/bin/env python3
# Randomised instruction test: seeded straight-line RV64 sequences run under qemu-riscv64 and friscy, full register state compared.
"""
Each sequence is 20-60 random instructions (RV64I ALU incl. *w, lui/auipc, M, Zba/Zbb/Zbs, Zicond,
F and D arithmetic/fma/sqrt/conversion/compare/sign-injection/min/max/classify/moves, fflags/frm
CSR accesses, loads/stores of every width incl. misaligned, AMOs, LR/SC pairs) with random static
rounding modes, and dyn under a random frm. Before a sequence the program loads every integer
register except sp, all 32 FP registers, fcsr (frm+fflags) and 64 bytes of scratch memory from a
table; afterwards it dumps them all as hex through write(2). Many sequences share one program
(no libc: -nostdlib, only the write and exit syscalls), so process start-up is amortised. The
assembler compresses what it can (75% of sequences; the rest are .option norvc).

sp (x2) is reserved: it points at the sequence's state record while the sequence runs. Random
instructions never write it and use it only as the base address of memory accesses (which all
land in the record's scratch words). Every other register is random input.

  tests/randtest.py [--seed S] [--count N] [--friscy PATH] [--jobs 2] [--only INDEX]

Sequence INDEX of seed S is generated from (S, INDEX) alone, so --only INDEX reproduces it with
any --count. On a mismatch the sequence, its inputs and the differing registers are printed, and
the sequence's prefixes are re-run to name the first instruction after which the states differ.
"""
import argparse
import concurrent.futures
import random
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

OUT = harness.BUILD / "randtest"
MARCH = "-march=rv64gc_zba_zbb_zbs"

XN = ("zero ra sp gp tp t0 t1 t2 s0 s1 a0 a1 a2 a3 a4 a5 a6 a7 "
      "s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 t3 t4 t5 t6").split()
FN = ("ft0 ft1 ft2 ft3 ft4 ft5 ft6 ft7 fs0 fs1 fa0 fa1 fa2 fa3 fa4 fa5 fa6 fa7 "
      "fs2 fs3 fs4 fs5 fs6 fs7 fs8 fs9 fs10 fs11 ft8 ft9 ft10 ft11").split()
RMS = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"]
RM_BITS = {"rne": 0, "rtz": 1, "rdn": 2, "rup": 3, "rmm": 4, "dyn": 7}
FRM_NAMES = ["rne", "rtz", "rdn", "rup", "rmm", "rsv5", "rsv6", "rsv7"]
M64 = (1 << 64) - 1
# A sequence's state record, in 64-bit slots: scratch memory that load/store/AMO instructions use
# (addressed off sp, which points at the record), then fcsr, x1..x31 (the x2 slot is unused) and
# f0..f31. The scratch words come first so that sp-relative offsets fit the compressed
# c.lwsp/c.ldsp/c.fldsp/c.swsp/c.sdsp/c.fsdsp encodings.
MEM_WORDS = 8
MEM_BYTES = 8 * MEM_WORDS
FCSR_SLOT = MEM_WORDS
NSLOTS = MEM_WORDS + 64
LINE_LEN = NSLOTS * 17


def xslot(n):
    return MEM_WORDS + n


def fslot(n):
    return MEM_WORDS + 32 + n


SP_SLOT = xslot(2)


def slot_name(i):
    if i < MEM_WORDS:
        return f"mem[{8 * i}..{8 * i + 7}]"
    if i == FCSR_SLOT:
        return "fcsr"
    if i < fslot(0):
        n = i - MEM_WORDS
        return f"{XN[n]}(x{n})"
    n = i - fslot(0)
    return f"{FN[n]}(f{n})"


# ---------------------------------------------------------------- operand values

EDGE_INTS = [
    0, 1, 2, 3, M64, M64 - 1, 1 << 63, (1 << 63) - 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
    0xFFFFFFFF80000000, 0xFFFFFFFF7FFFFFFF, 0x100000000, 0xFFFFFFFF00000000, 31, 32, 33, 63, 64,
    65, 127, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0xFFFFFFFFFFFF8000, 0xFFFFFFFFFFFFFF80,
    0x5555555555555555, 0xAAAAAAAAAAAAAAAA, 0x0101010101010101, 0x8080808080808080,
    0x00FF00FF00FF00FF,
]
D_SPECIAL = [
    0, 1 << 63, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000, 0xFFF8000000000000,
    0x7FF8000000000001, 0x7FF0000000000001, 0x7FF4000000000000, 0xFFF0000000000001, 1,
    0x800FFFFFFFFFFFFF, 0x000FFFFFFFFFFFFF, 0x0010000000000000, 0x8010000000000000,
    0x7FEFFFFFFFFFFFFF, 0xFFEFFFFFFFFFFFFF, 0x3FF0000000000000, 0xBFF0000000000000,
    0x3FD5555555555555, 0x3FF0000000000001, 0x3CA0000000000000, 0x3FE0000000000000,
    0x3FF8000000000000, 0x4004000000000000, 0xC004000000000000, 0x41DFFFFFFFC00000,
    0x41E0000000000000, 0xC1E0000000000000, 0x41EFFFFFFFE00000, 0x43E0000000000000,
    0xC3E0000000000000, 0x43F0000000000000, 0x43DFFFFFFFFFFFFF, 0x4340000000000000,
    0x4340000000000001, 0x7FE0000000000000,
]
S_SPECIAL = [
    0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FC00001, 0x7F800001,
    0x7FA00000, 0xFF800001, 1, 0x807FFFFF, 0x007FFFFF, 0x00800000, 0x80800000, 0x7F7FFFFF,
    0xFF7FFFFF, 0x3F800000, 0xBF800000, 0x3EAAAAAB, 0x3F800001, 0x33800000, 0x3F000000,
    0x3FC00000, 0x40200000, 0xC0200000, 0x4F000000, 0xCF000000, 0x4F800000, 0x5F000000,
    0xDF000000, 0x5F800000, 0x4B800000, 0x4B800001, 0x7F000000,
]
BOX = 0xFFFFFFFF00000000


def rand_double(r):
    k = r.random()
    if k < 0.7:  # near 1, where most rounding happens
        e = 1023 + r.randint(-40, 40)
    elif k < 0.85:  # around conversion limits (2^31, 2^32, 2^63, 2^64)
        e = 1023 + r.choice([30, 31, 32, 52, 53, 62, 63, 64])
    else:  # overflow / underflow / subnormal territory
        e = r.choice([0, 1, 2, 2045, 2046])
    return (r.getrandbits(1) << 63) | (e << 52) | r.getrandbits(52)


def rand_single(r):
    k = r.random()
    if k < 0.7:
        e = 127 + r.randint(-20, 20)
    elif k < 0.85:
        e = 127 + r.choice([23, 24, 30, 31, 32, 62, 63, 64])
    else:
        e = r.choice([0, 1, 2, 253, 254])
    return (r.getrandbits(1) << 31) | (e << 23) | r.getrandbits(23)


def float_bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def single_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def rand_fp(r):
    k = r.random()
    if k < 0.22:
        return r.choice(D_SPECIAL)
    if k < 0.40:
        return rand_double(r)
    if k < 0.60:
        return BOX | r.choice(S_SPECIAL)
    if k < 0.80:
        return BOX | rand_single(r)
    if k < 0.88:  # integers and ties, so conversions round
        n = r.choice([r.randint(-100, 100), r.randint(-(1 << 40), 1 << 40)]) + r.choice([0, 0.5, 0.25])
        return float_bits(n) if r.random() < 0.5 else BOX | single_bits(float(n))
    if k < 0.94:  # not NaN-boxed: single-precision ops must see the canonical NaN
        return r.getrandbits(64)
    return r.choice([0xFFFFFFFE00000000, 0x7FFFFFFF00000000, 0]) | rand_single(r)


def rand_int(r):
    k = r.random()
    if k < 0.28:
        return r.choice(EDGE_INTS)
    if k < 0.43:
        return r.randint(-300, 300) & M64
    if k < 0.53:
        return ((1 << r.randint(0, 63)) + r.choice([-1, 0, 0, 1])) & M64
    if k < 0.63:
        v = r.getrandbits(32)
        return v | (BOX if v & 0x80000000 else 0)
    if k < 0.70:
        return r.getrandbits(32)
    if k < 0.78:
        return rand_fp(r)  # FP bit patterns, for fmv.d.x / fmv.w.x
    return r.getrandbits(64)


def rand_imm12(r):
    k = r.random()
    if k < 0.3:
        return r.choice([-2048, 2047, -1, 0, 1, -2, 31, 32, 63, 64, -64, 1024, -1024])
    if k < 0.6:
        return r.randint(-64, 64)
    return r.randint(-2048, 2047)


def rand_shamt(r, width):
    if r.random() < 0.4:
        return r.choice([0, 1, width - 1, width // 2, width // 2 - 1] + ([31, 32, 33] if width == 64 else []))
    return r.randrange(width)


# ---------------------------------------------------------------- instruction generation

@dataclass
class Insn:
    text: str  # what a reader sees (standard mnemonic)
    asm: str  # what the friscy program contains
    asm_ref: str  # what the qemu program contains (differs only for Zicond)
    dst: tuple = None  # ("x"|"f", n)
    srcs: list = field(default_factory=list)
    touches_fcsr: bool = False


def plain(text, dst=None, srcs=(), fcsr=False):
    return Insn(text, text, text, dst, list(srcs), fcsr)


R_OPS = "add sub sll srl sra slt sltu xor or and addw subw sllw srlw sraw".split()
I_OPS = "addi slti sltiu xori ori andi addiw".split()
SHI_OPS = {"slli": 64, "srli": 64, "srai": 64, "slliw": 32, "srliw": 32, "sraiw": 32}
M_OPS = "mul mulh mulhsu mulhu div divu rem remu mulw divw divuw remw remuw".split()
ZBA_OPS = "add.uw sh1add sh2add sh3add sh1add.uw sh2add.uw sh3add.uw".split()
ZBB_R = "andn orn xnor max maxu min minu rol rolw ror rorw".split()
ZBB_1 = "clz clzw ctz ctzw cpop cpopw sext.b sext.h zext.h orc.b rev8 zext.w".split()
ZBS_R = "bclr bext binv bset".split()
ZBS_I = "bclri bexti binvi bseti".split()
F_BIN_RM = ["fadd", "fsub", "fmul", "fdiv"]
F_FMA = ["fmadd", "fmsub", "fnmsub", "fnmadd"]
F_SGN = ["fsgnj", "fsgnjn", "fsgnjx", "fmin", "fmax"]
F_CMP = ["feq", "flt", "fle"]
LOADS = {"lb": 1, "lbu": 1, "lh": 2, "lhu": 2, "lw": 4, "lwu": 4, "ld": 8}
STORES = {"sb": 1, "sh": 2, "sw": 4, "sd": 8}
AMO_OPS = "amoswap amoadd amoxor amoand amoor amomin amomax amominu amomaxu".split()
AMO_ORDER = ["", ".aq", ".rl", ".aqrl"]


class Gen:
    def __init__(self, r):
        self.r = r
        self.recent_x = []
        self.recent_f = []

    def xd(self):
        r = self.r
        if r.random() < 0.03:
            return 0  # writes to x0 must vanish
        n = r.choice([1] + list(range(3, 32)))
        self.recent_x = (self.recent_x + [n])[-6:]
        return n

    def xs(self):
        r = self.r
        if self.recent_x and r.random() < 0.45:
            return r.choice(self.recent_x)
        if r.random() < 0.04:
            return 0
        return r.choice([1] + list(range(3, 32)))

    def fd(self):
        n = self.r.randrange(32)
        self.recent_f = (self.recent_f + [n])[-6:]
        return n

    def fs(self):
        if self.recent_f and self.r.random() < 0.45:
            return self.r.choice(self.recent_f)
        return self.r.randrange(32)

    def rm(self):
        return self.r.choice(RMS)

    # Each generator returns one Insn; the weights in `make` decide the mix.
    def dst_src(self):
        """rd and rs1. Often the same register, and often one of x8-x15: that is what lets the
        assembler choose the two-operand compressed encodings (c.addiw, c.srai, c.subw, ...)."""
        r = self.r
        if r.random() < 0.4:
            d = r.choice(range(8, 16)) if r.random() < 0.6 else r.choice([1] + list(range(3, 32)))
            self.recent_x = (self.recent_x + [d])[-6:]
            return d, d
        return self.xd(), self.xs()

    def alu_r(self):
        op = self.r.choice(R_OPS)
        (d, a), b = self.dst_src(), self.xs()
        if op in ("add", "or", "xor", "and", "addw") and self.r.random() < 0.3:
            a, b = b, a  # commutative ops compress with rd == rs2 too
        if op == "add" and self.r.random() < 0.1:
            a = 0  # c.mv
        return plain(f"{op} {XN[d]}, {XN[a]}, {XN[b]}", ("x", d), [("x", a), ("x", b)])

    def alu_i(self):
        r = self.r
        d, a = self.dst_src()
        if r.random() < 0.5:
            op = r.choice(I_OPS)
            imm = rand_imm12(r) if r.random() < 0.5 else r.randint(-32, 31)  # c.addi/c.andi range
            if op == "addi" and r.random() < 0.15:
                a = 0  # c.li
            return plain(f"{op} {XN[d]}, {XN[a]}, {imm}", ("x", d), [("x", a)])
        op = r.choice(list(SHI_OPS))
        return plain(f"{op} {XN[d]}, {XN[a]}, {rand_shamt(r, SHI_OPS[op])}", ("x", d), [("x", a)])

    def upper(self):
        r = self.r
        op = r.choice(["lui", "auipc"])
        # Small and "negative" 6-bit values are the ones c.lui can encode.
        imm = r.choice([0, 1, 0x7FFFF, 0x80000, 0xFFFFF, r.getrandbits(20), r.randint(1, 31),
                        r.randint(0xFFFE0, 0xFFFFF)])
        d = self.xd()
        return plain(f"{op} {XN[d]}, {imm:#x}", ("x", d))

    def muldiv(self):
        op = self.r.choice(M_OPS)
        d, a, b = self.xd(), self.xs(), self.xs()
        return plain(f"{op} {XN[d]}, {XN[a]}, {XN[b]}", ("x", d), [("x", a), ("x", b)])

    def bitmanip(self):
        r = self.r
        k = r.random()
        d = self.xd()
        if k < 0.25:
            op = r.choice(ZBA_OPS)
        elif k < 0.5:
            op = r.choice(ZBB_R)
        elif k < 0.62:
            op = r.choice(ZBS_R)
        elif k < 0.85:
            op, a = r.choice(ZBB_1), self.xs()
            if op == "ctzw":
                # qemu 7.2's ctzw counts on past bit 31 when the low word is zero (ctzw of 1<<63
                # gives 63, not 32), so the qemu build computes it as ctz(rs | 1<<32) instead.
                # The friscy build pads with a 4-byte nop to keep both layouts (and auipc) equal.
                txt = f"ctzw {XN[d]}, {XN[a]}"
                return Insn(txt, f"{txt}\n    .insn i 0x13, 0, zero, zero, 0",
                            f"bseti {XN[d]}, {XN[a]}, 32\n    ctz {XN[d]}, {XN[d]}", ("x", d), [("x", a)])
            return plain(f"{op} {XN[d]}, {XN[a]}", ("x", d), [("x", a)])
        else:
            op = r.choice(ZBS_I + ["rori", "roriw", "slli.uw"])
            width = 32 if op == "roriw" else 64
            a = self.xs()
            return plain(f"{op} {XN[d]}, {XN[a]}, {rand_shamt(r, width)}", ("x", d), [("x", a)])
        a, b = self.xs(), self.xs()
        return plain(f"{op} {XN[d]}, {XN[a]}, {XN[b]}", ("x", d), [("x", a), ("x", b)])

    def zicond(self):
        nez = self.r.random() < 0.5
        d, a, b = self.xd(), self.xs(), self.xs()
        op = "czero.nez" if nez else "czero.eqz"
        f3 = 7 if nez else 5
        # binutils 2.40 predates Zicond; qemu 7.2 only has the equivalent XVentanaCondOps
        # (same size, so both builds have the same layout).
        asm = f".insn r 0x33, {f3}, 7, {XN[d]}, {XN[a]}, {XN[b]}"
        ref = f".insn r 0x7b, {6 if not nez else 7}, 0, {XN[d]}, {XN[a]}, {XN[b]}"
        return Insn(f"{op} {XN[d]}, {XN[a]}, {XN[b]}", asm, ref, ("x", d), [("x", a), ("x", b)])

    def fp(self):
        r = self.r
        p = r.choice(["s", "d"])
        k = r.random()
        if k < 0.24:
            op, d, a, b, rm = r.choice(F_BIN_RM), self.fd(), self.fs(), self.fs(), self.rm()
            return plain(f"{op}.{p} {FN[d]}, {FN[a]}, {FN[b]}, {rm}", ("f", d), [("f", a), ("f", b)], True)
        if k < 0.38:
            op, d, a, b, c, rm = r.choice(F_FMA), self.fd(), self.fs(), self.fs(), self.fs(), self.rm()
            return plain(f"{op}.{p} {FN[d]}, {FN[a]}, {FN[b]}, {FN[c]}, {rm}", ("f", d),
                         [("f", a), ("f", b), ("f", c)], True)
        if k < 0.43:
            d, a, rm = self.fd(), self.fs(), self.rm()
            return plain(f"fsqrt.{p} {FN[d]}, {FN[a]}, {rm}", ("f", d), [("f", a)], True)
        if k < 0.53:
            op, d, a, b = r.choice(F_SGN), self.fd(), self.fs(), self.fs()
            return plain(f"{op}.{p} {FN[d]}, {FN[a]}, {FN[b]}", ("f", d), [("f", a), ("f", b)], True)
        if k < 0.60:
            op, d, a, b = r.choice(F_CMP), self.xd(), self.fs(), self.fs()
            return plain(f"{op}.{p} {XN[d]}, {FN[a]}, {FN[b]}", ("x", d), [("f", a), ("f", b)], True)
        if k < 0.64:
            d, a = self.xd(), self.fs()
            return plain(f"fclass.{p} {XN[d]}, {FN[a]}", ("x", d), [("f", a)])
        if k < 0.74:  # float -> integer
            t, d, a, rm = r.choice(["w", "wu", "l", "lu"]), self.xd(), self.fs(), self.rm()
            return plain(f"fcvt.{t}.{p} {XN[d]}, {FN[a]}, {rm}", ("x", d), [("f", a)], True)
        if k < 0.83:  # integer -> float
            t, d, a, rm = r.choice(["w", "wu", "l", "lu"]), self.fd(), self.xs(), self.rm()
            if p == "d" and t in ("w", "wu"):
                # Exact conversion: binutils 2.40 will not take a rounding mode, the encoding has one.
                rs2 = "x0" if t == "w" else "x1"
                txt = f"fcvt.d.{t} {FN[d]}, {XN[a]}, {rm}"
                asm = f".insn r 0x53, {RM_BITS[rm]}, 0x69, {FN[d]}, {XN[a]}, {rs2}"
                return Insn(txt, asm, asm, ("f", d), [("x", a)], True)
            return plain(f"fcvt.{p}.{t} {FN[d]}, {XN[a]}, {rm}", ("f", d), [("x", a)], True)
        if k < 0.89:  # precision change
            d, a, rm = self.fd(), self.fs(), self.rm()
            if p == "s":
                return plain(f"fcvt.s.d {FN[d]}, {FN[a]}, {rm}", ("f", d), [("f", a)], True)
            txt = f"fcvt.d.s {FN[d]}, {FN[a]}, {rm}"
            asm = f".insn r 0x53, {RM_BITS[rm]}, 0x21, {FN[d]}, {FN[a]}, f0"
            return Insn(txt, asm, asm, ("f", d), [("f", a)], True)
        w = "w" if p == "s" else "d"
        if k < 0.945:
            d, a = self.xd(), self.fs()
            return plain(f"fmv.x.{w} {XN[d]}, {FN[a]}", ("x", d), [("f", a)])
        d, a = self.fd(), self.xs()
        return plain(f"fmv.{w}.x {FN[d]}, {XN[a]}", ("f", d), [("x", a)])

    def csr(self):
        # Only accesses that keep frm valid: a reserved frm would make later dyn ops trap.
        r = self.r
        k = r.random()
        d = self.xd()
        if k < 0.2:
            op = r.choice(["frflags", "frrm", "frcsr"])
            return plain(f"{op} {XN[d]}", ("x", d), [], True)
        if k < 0.4:
            return plain(f"fsrmi {XN[d]}, {r.randrange(5)}", ("x", d), [], True)
        if k < 0.6:
            op = r.choice(["csrrsi", "csrrci", "csrrwi"])
            return plain(f"{op} {XN[d]}, fflags, {r.randrange(32)}", ("x", d), [], True)
        a = self.xs()
        op, csr = r.choice([("fsflags", None), ("csrrc", "frm"), ("csrrc", "fcsr"), ("csrrs", "fflags"),
                            ("csrrw", "fflags"), ("csrrc", "fflags")])
        if csr is None:
            return plain(f"{op} {XN[d]}, {XN[a]}", ("x", d), [("x", a)], True)
        return plain(f"{op} {XN[d]}, {csr}, {XN[a]}", ("x", d), [("x", a)], True)

    def mem_off(self, width):
        r = self.r
        if r.random() < 0.6:
            return r.randrange(0, MEM_BYTES - width + 1, width)
        return r.randint(0, MEM_BYTES - width)  # misaligned: Linux user space allows it

    @staticmethod
    def words(off, width):
        return [("m", w) for w in range(off // 8, (off + width - 1) // 8 + 1)]

    def memory(self):
        """Loads/stores of every width on the scratch words (aligned or not), AMOs, LR/SC pairs.
        The only base register is sp, the state record, which sequences never modify."""
        r = self.r
        k = r.random()
        if k < 0.3:
            op = r.choice(list(LOADS))
            w, d, off = LOADS[op], self.xd(), self.mem_off(LOADS[op])
            return plain(f"{op} {XN[d]}, {off}(sp)", ("x", d), self.words(off, w))
        if k < 0.42:
            op = r.choice(["flw", "fld"])
            w = 4 if op == "flw" else 8
            d, off = self.fd(), self.mem_off(w)
            return plain(f"{op} {FN[d]}, {off}(sp)", ("f", d), self.words(off, w))
        if k < 0.65:
            op = r.choice(list(STORES))
            w, a, off = STORES[op], self.xs(), self.mem_off(STORES[op])
            return plain(f"{op} {XN[a]}, {off}(sp)", ("m", off // 8), [("x", a)])
        if k < 0.75:
            op = r.choice(["fsw", "fsd"])
            w = 4 if op == "fsw" else 8
            a, off = self.fs(), self.mem_off(w)
            return plain(f"{op} {FN[a]}, {off}(sp)", ("m", off // 8), [("f", a)])
        size, order = r.choice(["w", "d"]), r.choice(AMO_ORDER)
        if k < 0.92:
            op, d, b = r.choice(AMO_OPS), self.xd(), self.xs()
            return plain(f"{op}.{size}{order} {XN[d]}, {XN[b]}, (sp)", ("x", d), [("x", b), ("m", 0)])
        # LR then SC to the same address with at most two ALU instructions between: the SC must
        # succeed. (Anything touching memory in between would make the outcome implementation-defined.)
        d = self.xd()
        seq = [plain(f"lr.{size}{order} {XN[d]}, (sp)", ("x", d), [("m", 0)])]
        seq += [r.choice([self.alu_r, self.alu_i, self.bitmanip])() for _ in range(r.randint(0, 2))]
        d2, b = self.xd(), self.xs()
        seq.append(plain(f"sc.{size}{r.choice(AMO_ORDER)} {XN[d2]}, {XN[b]}, (sp)", ("x", d2), [("x", b)]))
        return seq

    def make(self, n):
        gens = [
            (14, self.alu_r), (12, self.alu_i), (3, self.upper), (12, self.muldiv),
            (14, self.bitmanip), (3, self.zicond), (40, self.fp), (3, self.csr), (9, self.memory),
        ]
        funcs = [g for _, g in gens]
        picks = self.r.choices(funcs, [w for w, _ in gens], k=n)
        body = []
        for g in picks:
            i = g()
            body.extend(i if isinstance(i, list) else [i])
        return body


@dataclass
class Sequence:
    index: int
    state: list  # NSLOTS input values
    body: list
    rvc: bool


def make_sequence(seed, index):
    # A string seed is hashed (SHA-512) by random.seed, stable across Python versions and runs.
    r = random.Random(f"friscy-randtest:{seed}:{index}")
    state = [0] * NSLOTS
    for i in range(MEM_WORDS):
        state[i] = rand_int(r) if r.random() < 0.6 else rand_fp(r)
    state[FCSR_SLOT] = (r.randrange(5) << 5) | r.getrandbits(5)
    for i in range(1, 32):
        state[xslot(i)] = 0 if i == 2 else rand_int(r)
    for i in range(32):
        state[fslot(i)] = rand_fp(r)
    body = Gen(r).make(r.randint(20, 60))
    return Sequence(index, state, body, rvc=r.random() < 0.75)


# ---------------------------------------------------------------- program text

PROLOGUE = """\
    .option norelax     # gp/tp are random data here; no gp-relative relaxation
    .section .rodata
hexdigits:
    .ascii "0123456789abcdef"
    .bss
    .balign 8
outbuf:
    .space {line_len}
    .text
    .globl _start
_start:
"""

DUMP = """\
    li a7, 93           # exit(0)
    li a0, 0
    ecall

# Writes the record at sp as one line of {nslots} 16-digit hex words.
dump:
    sd zero, {sp_off}(sp)     # the sp slot would only show the record's address
    lla a1, outbuf
    mv a2, sp
    li a3, {nslots}
    lla a5, hexdigits
1:  ld t0, 0(a2)
    li t1, 60
2:  srl t2, t0, t1
    andi t2, t2, 15
    add t2, t2, a5
    lbu t2, 0(t2)
    sb t2, 0(a1)
    addi a1, a1, 1
    addi t1, t1, -4
    bgez t1, 2b
    li t2, ' '
    sb t2, 0(a1)
    addi a1, a1, 1
    addi a2, a2, 8
    addi a3, a3, -1
    bnez a3, 1b
    li t2, '\\n'
    sb t2, -1(a1)
    li a0, 1
    lla a1, outbuf
    li a2, {line_len}
    li a7, 64           # write(1, outbuf, line_len)
    ecall
    ret
"""


def program_text(items, ref):
    """items: list of (label, state, body, rvc). One state record per item, loaded, run, dumped."""
    out = [PROLOGUE.format(line_len=LINE_LEN)]
    data = ["    .data\n    .balign 8\n"]
    for k, (label, state, body, rvc) in enumerate(items):
        out.append(f"# {label}\n")
        out.append(f"    lla sp, rec{k}\n    ld ra, {8 * FCSR_SLOT}(sp)\n    fscsr ra\n")
        out.extend(f"    fld {FN[i]}, {8 * fslot(i)}(sp)\n" for i in range(32))
        out.extend(f"    ld {XN[i]}, {8 * xslot(i)}(sp)\n" for i in range(1, 32) if i != 2)
        out.append("    .option push\n" + ("" if rvc else "    .option norvc\n"))
        out.extend(f"    {(i.asm_ref if ref else i.asm)}\n" for i in body)
        out.append("    .option pop\n")
        out.extend(f"    sd {XN[i]}, {8 * xslot(i)}(sp)\n" for i in range(1, 32) if i != 2)
        out.extend(f"    fsd {FN[i]}, {8 * fslot(i)}(sp)\n" for i in range(32))
        out.append(f"    frcsr ra\n    sd ra, {8 * FCSR_SLOT}(sp)\n    call dump\n")
        data.append(f"rec{k}:\n")
        data.extend(f"    .dword {v:#018x}\n" for v in state)
    out.append(DUMP.format(nslots=NSLOTS, line_len=LINE_LEN, sp_off=8 * SP_SLOT))
    return "".join(out + data)


def build_program(name, items, keep_asm=False):
    """Returns (friscy program, qemu program, qemu cpu)."""
    OUT.mkdir(parents=True, exist_ok=True)
    paths = []
    for ref in (False, True):
        src = OUT / f"{name}{'.ref' if ref else ''}.s"
        exe = OUT / f"{name}{'.ref' if ref else ''}"
        cmd = [harness.CC, "-nostdlib", "-static", MARCH, "-Wl,--no-relax", "-o", str(exe), str(src)]
        text = program_text(items, ref)
        try:
            harness.build_if_needed(exe, cmd, sources={src: text})
        finally:
            if keep_asm:
                src.write_text(text)
            else:  # ~1.3 MB each; the binaries and stamps are what caching needs
                src.unlink(missing_ok=True)
        paths.append(exe)
    return paths[0], paths[1], harness.QEMU_REF_CPU


def run_pair(prog, ref_prog, cpu, friscy, timeout):
    env = dict(harness.STD_ENV)
    ref = harness.run(harness.qemu_cmd(ref_prog, [], cpu), env=env, timeout=timeout)
    sub = harness.run(harness.friscy_cmd(friscy, prog, [], env), env=None, timeout=timeout)
    return ref, sub


def parse_dump(out: bytes):
    rows = []
    for line in out.decode("ascii", "replace").split("\n"):
        words = line.split()
        if len(words) != NSLOTS:
            break
        try:
            rows.append([int(w, 16) for w in words])
        except ValueError:
            break
    return rows


# ---------------------------------------------------------------- reporting

def fmt_state(state, only=None):
    parts = []
    for i in range(NSLOTS):
        if i == SP_SLOT or (only is not None and i not in only):
            continue
        v = state[i]
        if i == FCSR_SLOT:
            parts.append(f"fcsr={v:#x} (frm={FRM_NAMES[(v >> 5) & 7]} fflags={v & 31:#x})")
        else:
            parts.append(f"{slot_name(i)}={v:016x}")
    return parts


def slot_of(reg):
    kind, n = reg
    return {"x": xslot, "f": fslot, "m": lambda w: w}[kind](n)


def explain_mismatch(seq, seed, ref_row, sub_row, friscy, timeout, ctx):
    lines = [f"MISMATCH seed={seed} sequence={seq.index} ({len(seq.body)} instructions, "
             f"{'compressed allowed' if seq.rvc else 'norvc'})",
             f"  reproduce: tests/randtest.py --seed {seed} --only {seq.index} --friscy {ctx['friscy_arg']}",
             "  instructions:"]
    lines += [f"    {n:2d}: {i.text}" for n, i in enumerate(seq.body)]
    lines.append("  inputs:")
    st = fmt_state(seq.state)
    lines += ["    " + "  ".join(st[i:i + 4]) for i in range(0, len(st), 4)]
    if sub_row is None:
        lines.append("  friscy produced no (well-formed) state dump for this sequence")
    else:
        lines.append("  final state, differing slots (qemu vs friscy):")
        for i in range(NSLOTS):
            if ref_row[i] != sub_row[i]:
                lines.append(f"    {slot_name(i)}: {ref_row[i]:016x} vs {sub_row[i]:016x}")
    lines += shrink(seq, friscy, timeout)
    return "\n".join(lines)


def shrink(seq, friscy, timeout):
    """Runs every prefix of the sequence from the same inputs in one program; the first prefix
    whose end states differ pins the instruction that went wrong."""
    items = [(f"prefix {n}", seq.state, seq.body[:n], seq.rvc) for n in range(len(seq.body) + 1)]
    try:
        prog, ref_prog, cpu = build_program(f"shrink-{seq.index}", items, keep_asm=True)
        ref, sub = run_pair(prog, ref_prog, cpu, friscy, timeout)
    except harness.BuildError as e:
        return [f"  shrink: build failed: {e}"]
    rr, sr = parse_dump(ref.stdout), parse_dump(sub.stdout)
    if len(rr) != len(items):
        return [f"  shrink: qemu run of the prefixes failed (status {ref.status})"]
    if sub.timed_out:
        note = [f"  shrink: friscy timed out after {timeout}s on the prefix program, having dumped "
                f"{len(sr)} of {len(items)} prefixes"]
    else:
        note = []
    for n in range(len(items)):
        if n >= len(sr) or rr[n] != sr[n]:
            break
    else:
        return ["  shrink: every prefix agrees when run alone (the difference depends on earlier "
                "sequences in the batch: look for state leaking between sequences)"]
    if n == 0:
        return note + ["  shrink: states differ with no instruction executed: loading or dumping the "
                "register state (ld/fld/fscsr/sd/fsd/frcsr/the hex dump) is broken"]
    bad = seq.body[n - 1]
    before = rr[n - 1]
    out = note + [f"  first divergent instruction: #{n - 1}: {bad.text}"]
    if bad.asm != bad.text:
        out.append(f"    encoded as: {bad.asm}")
    srcs = sorted({slot_of(s) for s in bad.srcs if s != ("x", 0)} | ({FCSR_SLOT} if bad.touches_fcsr else set()))
    if srcs:
        out.append("    operands before it (qemu state): " + "  ".join(fmt_state(before, set(srcs))))
    if n < len(sr):
        for i in range(NSLOTS):
            if rr[n][i] != sr[n][i]:
                out.append(f"    after it {slot_name(i)}: qemu {rr[n][i]:016x} friscy {sr[n][i]:016x}")
    else:
        out.append(f"    friscy produced no state after it (status {sub.status}, stderr "
                   f"{sub.stderr.decode('utf-8', 'replace')[-300:]!r})")
    return out


# ---------------------------------------------------------------- driver

def run_batch(pno, indices, seed, friscy, timeout, ctx):
    seqs = [make_sequence(seed, i) for i in indices]
    items = [(f"sequence {s.index}", s.state, s.body, s.rvc) for s in seqs]
    name = f"s{seed}-{indices[0]}-{len(indices)}" if len(indices) > 1 else f"s{seed}-only{indices[0]}"
    prog, ref_prog, cpu = build_program(name, items, keep_asm=ctx["keep_asm"])
    ref, sub = run_pair(prog, ref_prog, cpu, friscy, timeout)
    rr, sr = parse_dump(ref.stdout), parse_dump(sub.stdout)
    reports = []
    if ref.status != 0 or len(rr) != len(seqs):
        return [f"qemu failed on batch {pno} (status {ref.status}, {len(rr)}/{len(seqs)} dumps): "
                f"{ref.stderr.decode('utf-8', 'replace')[-500:]}"], 0
    mism = 0
    for k, s in enumerate(seqs):
        srow = sr[k] if k < len(sr) else None
        if srow != rr[k]:
            mism += 1
            with ctx["lock"]:
                explain = ctx["reported"] < ctx["max_reports"]
                ctx["reported"] += explain
            if explain:
                reports.append(explain_mismatch(s, seed, rr[k], srow, friscy, timeout, ctx))
            if srow is None:
                # Everything after a crash is missing too; one report is enough.
                reports.append(f"friscy stopped after {len(sr)} of {len(seqs)} sequences of batch {pno} "
                               f"(status {sub.status}, timed out {sub.timed_out}); stderr: "
                               f"{sub.stderr.decode('utf-8', 'replace')[-500:]!r}")
                mism += len(seqs) - k - 1
                break
    if mism == 0 and (sub.status != 0 or sub.stdout != ref.stdout):
        reports.append(f"batch {pno}: states agree but friscy exit status {sub.status} / raw output differs")
        mism = 1
    return reports, mism


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default: %(default)s)")
    ap.add_argument("--count", type=int, default=8000, help="number of sequences (default: %(default)s)")
    ap.add_argument("--per-program", type=int, default=250, help="sequences per program (default: %(default)s)")
    ap.add_argument("--friscy", default=harness.DEFAULT_FRISCY, help="friscy binary (default: %(default)s)")
    ap.add_argument("--jobs", "-j", type=int, default=2, help="parallel programs (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per run (default: %(default)s)")
    ap.add_argument("--only", type=int, action="append", metavar="INDEX",
                    help="run just these sequence indices (repeatable)")
    ap.add_argument("--show", type=int, metavar="INDEX", help="print a sequence and its inputs, run nothing")
    ap.add_argument("--max-reports", type=int, default=5, help="mismatches explained in full")
    ap.add_argument("--keep-asm", action="store_true", help=f"keep the generated assembly in {OUT}")
    opts = ap.parse_args()

    if opts.show is not None:
        s = make_sequence(opts.seed, opts.show)
        print(f"seed {opts.seed} sequence {s.index} ({'rvc' if s.rvc else 'norvc'}):")
        for n, i in enumerate(s.body):
            print(f"  {n:2d}: {i.text}")
        for p in fmt_state(s.state):
            print("  " + p)
        return 0
    harness.check_tools(opts.friscy)
    friscy = str(Path(opts.friscy).resolve())
    indices = opts.only if opts.only else list(range(opts.count))
    t0 = time.monotonic()
    batches = [indices[i:i + opts.per_program] for i in range(0, len(indices), opts.per_program)]
    print(f"randtest: seed {opts.seed}, {len(indices)} sequences in {len(batches)} programs, "
          f"friscy={friscy}", flush=True)
    ctx = {"lock": threading.Lock(), "reported": 0, "max_reports": opts.max_reports,
           "friscy_arg": opts.friscy, "keep_asm": opts.keep_asm}
    total_mism = 0
    plock = threading.Lock()

    def one(args):
        pno, b = args
        try:
            return run_batch(pno, b, opts.seed, friscy, opts.timeout, ctx)
        except Exception as e:  # harness trouble is a failure, never a silent pass
            return [f"batch {pno}: harness error: {e!r}"], len(b)

    with concurrent.futures.ThreadPoolExecutor(opts.jobs) as ex:
        for reports, mism in ex.map(one, enumerate(batches)):
            total_mism += mism
            with plock:
                for rep in reports:
                    print(rep, flush=True)
    dt = time.monotonic() - t0
    if total_mism:
        print(f"randtest: FAILED: {total_mism} of {len(indices)} sequences differ (seed {opts.seed}) in {dt:.1f}s")
        return 1
    print(f"randtest: all {len(indices)} sequences agree (seed {opts.seed}) in {dt:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
