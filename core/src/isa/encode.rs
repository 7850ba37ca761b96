//! Encoder: the canonical 32-bit word of a decoded instruction, the inverse of `decode_word`.
//!
//! `encode(&insn)` gives a word `w` with `decode_word(w) == Insn { len: 4, ..insn }`, or
//! `None` when no 32-bit word decodes to `insn` (a field out of range, an operand the
//! operation does not have set to non-zero, `Illegal`/`Undecoded`). `len` is ignored, so a
//! compressed instruction encodes to its 32-bit expansion. Fields the decoder drops (the
//! rd/rs1 of `fence`, everything of `fence.i`) encode as zero.
use super::{Insn, Op};

const OP_LOAD: u32 = 0x03;
const OP_LOAD_FP: u32 = 0x07;
const OP_MISC_MEM: u32 = 0x0f;
const OP_IMM: u32 = 0x13;
const OP_AUIPC: u32 = 0x17;
const OP_IMM_32: u32 = 0x1b;
const OP_STORE: u32 = 0x23;
const OP_STORE_FP: u32 = 0x27;
const OP_AMO: u32 = 0x2f;
const OP_OP: u32 = 0x33;
const OP_LUI: u32 = 0x37;
const OP_OP_32: u32 = 0x3b;
const OP_FP: u32 = 0x53;
const OP_BRANCH: u32 = 0x63;
const OP_JALR: u32 = 0x67;
const OP_JAL: u32 = 0x6f;
const OP_SYSTEM: u32 = 0x73;

/// How an operation lays out its fields.
#[derive(Clone, Copy)]
enum Format {
    /// rd, rs1, rs2 with fixed funct7/funct3.
    R {
        opcode: u32,
        funct3: u32,
        funct7: u32,
    },
    /// rd, rs1; the rs2 field is a fixed minor opcode.
    Unary {
        opcode: u32,
        funct3: u32,
        funct7: u32,
        rs2: u32,
    },
    /// rd, rs1, signed 12-bit immediate.
    I { opcode: u32, funct3: u32 },
    /// rd, rs1, shift amount `0..=max` at bit 20; `top` holds the fixed bits above it.
    Shift {
        opcode: u32,
        funct3: u32,
        top: u32,
        max: i32,
    },
    /// rs1, rs2, signed 12-bit immediate split around rd's field.
    S { opcode: u32, funct3: u32 },
    /// rs1, rs2, even signed 13-bit offset.
    B { funct3: u32 },
    /// rd, immediate with the low 12 bits clear.
    U { opcode: u32 },
    /// rd, even signed 21-bit offset.
    J,
    /// rd, rs1, rs2, aq/rl in `rm`; `lr` has no rs2.
    Amo { funct3: u32, funct5: u32, lr: bool },
    /// rd, rs1 (register or 5-bit immediate), CSR number 0..=0xfff in `imm`.
    Csr { funct3: u32 },
    /// rd, rs1, rs2 and a rounding mode in funct3.
    FpRounded { funct7: u32 },
    /// rd, rs1 and a rounding mode; the rs2 field is a fixed minor opcode.
    FpUnaryRounded { funct7: u32, rs2: u32 },
    /// rd, rs1, rs2, rs3 and a rounding mode.
    Fused { opcode: u32, fmt: u32 },
    /// pred/succ/fm bits (0..=0xfff) in `imm`, nothing else.
    FenceSet,
    /// A fixed word with no operands.
    Fixed(u32),
}

/// The field layout of `op`, or `None` for the pseudo-operations.
fn format(op: Op) -> Option<Format> {
    use Format::*;
    use Op::*;
    let r = |opcode, funct3, funct7| R {
        opcode,
        funct3,
        funct7,
    };
    let unary = |opcode, funct3, funct7, rs2| Unary {
        opcode,
        funct3,
        funct7,
        rs2,
    };
    let shift64 = |funct3, funct6: u32| Shift {
        opcode: OP_IMM,
        funct3,
        top: funct6 << 26,
        max: 63,
    };
    let shift32 = |funct3, funct7: u32| Shift {
        opcode: OP_IMM_32,
        funct3,
        top: funct7 << 25,
        max: 31,
    };
    let amo = |funct3, funct5| Amo {
        funct3,
        funct5,
        lr: false,
    };
    let fp = |funct3, funct7| r(OP_FP, funct3, funct7);
    let fp_unary = |funct3, funct7| unary(OP_FP, funct3, funct7, 0);
    let rounded = |funct7| FpRounded { funct7 };
    let rounded_unary = |funct7, rs2| FpUnaryRounded { funct7, rs2 };
    Some(match op {
        Undecoded | Illegal => return None,
        // Two instructions, not one.
        SlliAdd | SrliXor | AuipcAddi | LuiAddi | LuiAddiw | LdAddi | LwAddi | LbuAddi | AddLd
        | AddLw | AddLbu | AddiAddi | AddAdd | MulwAddw | LbuLbu | AddJalr | LdLd | SlliAddLw
        | SlliAddLd | AuipcAddiConst | PairSlliUw | PairSextB | PairSextH | PairZextH
        | PairSextW => return None,

        Lui => U { opcode: OP_LUI },
        Auipc => U { opcode: OP_AUIPC },
        Jal | JalFolded => J,
        Jalr => I {
            opcode: OP_JALR,
            funct3: 0,
        },
        Beq => B { funct3: 0 },
        Bne => B { funct3: 1 },
        Blt => B { funct3: 4 },
        Bge => B { funct3: 5 },
        Bltu => B { funct3: 6 },
        Bgeu => B { funct3: 7 },
        Lb | Lh | Lw | Ld | Lbu | Lhu | Lwu => I {
            opcode: OP_LOAD,
            funct3: match op {
                Lb => 0,
                Lh => 1,
                Lw => 2,
                Ld => 3,
                Lbu => 4,
                Lhu => 5,
                _ => 6,
            },
        },
        Sb | Sh | Sw | Sd => S {
            opcode: OP_STORE,
            funct3: match op {
                Sb => 0,
                Sh => 1,
                Sw => 2,
                _ => 3,
            },
        },
        Addi | Slti | Sltiu | Xori | Ori | Andi => I {
            opcode: OP_IMM,
            funct3: match op {
                Addi => 0,
                Slti => 2,
                Sltiu => 3,
                Xori => 4,
                Ori => 6,
                _ => 7,
            },
        },
        Slli => shift64(1, 0b000000),
        Srli => shift64(5, 0b000000),
        Srai => shift64(5, 0b010000),
        Add => r(OP_OP, 0, 0b0000000),
        Sub => r(OP_OP, 0, 0b0100000),
        Sll => r(OP_OP, 1, 0b0000000),
        Slt => r(OP_OP, 2, 0b0000000),
        Sltu => r(OP_OP, 3, 0b0000000),
        Xor => r(OP_OP, 4, 0b0000000),
        Srl => r(OP_OP, 5, 0b0000000),
        Sra => r(OP_OP, 5, 0b0100000),
        Or => r(OP_OP, 6, 0b0000000),
        And => r(OP_OP, 7, 0b0000000),
        Addiw => I {
            opcode: OP_IMM_32,
            funct3: 0,
        },
        Slliw => shift32(1, 0b0000000),
        Srliw => shift32(5, 0b0000000),
        Sraiw => shift32(5, 0b0100000),
        Addw => r(OP_OP_32, 0, 0b0000000),
        Subw => r(OP_OP_32, 0, 0b0100000),
        Sllw => r(OP_OP_32, 1, 0b0000000),
        Srlw => r(OP_OP_32, 5, 0b0000000),
        Sraw => r(OP_OP_32, 5, 0b0100000),
        Fence => Format::FenceSet,
        FenceI => Fixed(0x0000_100f),
        Ecall => Fixed(0x0000_0073),
        Ebreak => Fixed(0x0010_0073),

        Mul => r(OP_OP, 0, 0b0000001),
        Mulh => r(OP_OP, 1, 0b0000001),
        Mulhsu => r(OP_OP, 2, 0b0000001),
        Mulhu => r(OP_OP, 3, 0b0000001),
        Div => r(OP_OP, 4, 0b0000001),
        Divu => r(OP_OP, 5, 0b0000001),
        Rem => r(OP_OP, 6, 0b0000001),
        Remu => r(OP_OP, 7, 0b0000001),
        Mulw => r(OP_OP_32, 0, 0b0000001),
        Divw => r(OP_OP_32, 4, 0b0000001),
        Divuw => r(OP_OP_32, 5, 0b0000001),
        Remw => r(OP_OP_32, 6, 0b0000001),
        Remuw => r(OP_OP_32, 7, 0b0000001),

        LrW => Amo {
            funct3: 2,
            funct5: 0b00010,
            lr: true,
        },
        ScW => amo(2, 0b00011),
        AmoswapW => amo(2, 0b00001),
        AmoaddW => amo(2, 0b00000),
        AmoxorW => amo(2, 0b00100),
        AmoandW => amo(2, 0b01100),
        AmoorW => amo(2, 0b01000),
        AmominW => amo(2, 0b10000),
        AmomaxW => amo(2, 0b10100),
        AmominuW => amo(2, 0b11000),
        AmomaxuW => amo(2, 0b11100),
        LrD => Amo {
            funct3: 3,
            funct5: 0b00010,
            lr: true,
        },
        ScD => amo(3, 0b00011),
        AmoswapD => amo(3, 0b00001),
        AmoaddD => amo(3, 0b00000),
        AmoxorD => amo(3, 0b00100),
        AmoandD => amo(3, 0b01100),
        AmoorD => amo(3, 0b01000),
        AmominD => amo(3, 0b10000),
        AmomaxD => amo(3, 0b10100),
        AmominuD => amo(3, 0b11000),
        AmomaxuD => amo(3, 0b11100),

        Csrrw => Csr { funct3: 1 },
        Csrrs => Csr { funct3: 2 },
        Csrrc => Csr { funct3: 3 },
        Csrrwi => Csr { funct3: 5 },
        Csrrsi => Csr { funct3: 6 },
        Csrrci => Csr { funct3: 7 },

        Flw => I {
            opcode: OP_LOAD_FP,
            funct3: 2,
        },
        Fsw => S {
            opcode: OP_STORE_FP,
            funct3: 2,
        },
        FmaddS => Fused {
            opcode: 0x43,
            fmt: 0,
        },
        FmsubS => Fused {
            opcode: 0x47,
            fmt: 0,
        },
        FnmsubS => Fused {
            opcode: 0x4b,
            fmt: 0,
        },
        FnmaddS => Fused {
            opcode: 0x4f,
            fmt: 0,
        },
        FaddS => rounded(0b0000000),
        FsubS => rounded(0b0000100),
        FmulS => rounded(0b0001000),
        FdivS => rounded(0b0001100),
        FsqrtS => rounded_unary(0b0101100, 0),
        FsgnjS => fp(0, 0b0010000),
        FsgnjnS => fp(1, 0b0010000),
        FsgnjxS => fp(2, 0b0010000),
        FminS => fp(0, 0b0010100),
        FmaxS => fp(1, 0b0010100),
        FcvtWS => rounded_unary(0b1100000, 0),
        FcvtWuS => rounded_unary(0b1100000, 1),
        FcvtLS => rounded_unary(0b1100000, 2),
        FcvtLuS => rounded_unary(0b1100000, 3),
        FmvXW => fp_unary(0, 0b1110000),
        FeqS => fp(2, 0b1010000),
        FltS => fp(1, 0b1010000),
        FleS => fp(0, 0b1010000),
        FclassS => fp_unary(1, 0b1110000),
        FcvtSW => rounded_unary(0b1101000, 0),
        FcvtSWu => rounded_unary(0b1101000, 1),
        FcvtSL => rounded_unary(0b1101000, 2),
        FcvtSLu => rounded_unary(0b1101000, 3),
        FmvWX => fp_unary(0, 0b1111000),

        Fld => I {
            opcode: OP_LOAD_FP,
            funct3: 3,
        },
        Fsd => S {
            opcode: OP_STORE_FP,
            funct3: 3,
        },
        FmaddD => Fused {
            opcode: 0x43,
            fmt: 1,
        },
        FmsubD => Fused {
            opcode: 0x47,
            fmt: 1,
        },
        FnmsubD => Fused {
            opcode: 0x4b,
            fmt: 1,
        },
        FnmaddD => Fused {
            opcode: 0x4f,
            fmt: 1,
        },
        FaddD => rounded(0b0000001),
        FsubD => rounded(0b0000101),
        FmulD => rounded(0b0001001),
        FdivD => rounded(0b0001101),
        FsqrtD => rounded_unary(0b0101101, 0),
        FsgnjD => fp(0, 0b0010001),
        FsgnjnD => fp(1, 0b0010001),
        FsgnjxD => fp(2, 0b0010001),
        FminD => fp(0, 0b0010101),
        FmaxD => fp(1, 0b0010101),
        FcvtSD => rounded_unary(0b0100000, 1),
        FcvtDS => rounded_unary(0b0100001, 0),
        FeqD => fp(2, 0b1010001),
        FltD => fp(1, 0b1010001),
        FleD => fp(0, 0b1010001),
        FclassD => fp_unary(1, 0b1110001),
        FcvtWD => rounded_unary(0b1100001, 0),
        FcvtWuD => rounded_unary(0b1100001, 1),
        FcvtLD => rounded_unary(0b1100001, 2),
        FcvtLuD => rounded_unary(0b1100001, 3),
        FmvXD => fp_unary(0, 0b1110001),
        FcvtDW => rounded_unary(0b1101001, 0),
        FcvtDWu => rounded_unary(0b1101001, 1),
        FcvtDL => rounded_unary(0b1101001, 2),
        FcvtDLu => rounded_unary(0b1101001, 3),
        FmvDX => fp_unary(0, 0b1111001),

        AddUw => r(OP_OP_32, 0, 0b0000100),
        Sh1add => r(OP_OP, 2, 0b0010000),
        Sh2add => r(OP_OP, 4, 0b0010000),
        Sh3add => r(OP_OP, 6, 0b0010000),
        Sh1addUw => r(OP_OP_32, 2, 0b0010000),
        Sh2addUw => r(OP_OP_32, 4, 0b0010000),
        Sh3addUw => r(OP_OP_32, 6, 0b0010000),
        SlliUw => Shift {
            opcode: OP_IMM_32,
            funct3: 1,
            top: 0b000010 << 26,
            max: 63,
        },

        Andn => r(OP_OP, 7, 0b0100000),
        Orn => r(OP_OP, 6, 0b0100000),
        Xnor => r(OP_OP, 4, 0b0100000),
        Clz => unary(OP_IMM, 1, 0b0110000, 0),
        Clzw => unary(OP_IMM_32, 1, 0b0110000, 0),
        Ctz => unary(OP_IMM, 1, 0b0110000, 1),
        Ctzw => unary(OP_IMM_32, 1, 0b0110000, 1),
        Cpop => unary(OP_IMM, 1, 0b0110000, 2),
        Cpopw => unary(OP_IMM_32, 1, 0b0110000, 2),
        Max => r(OP_OP, 6, 0b0000101),
        Maxu => r(OP_OP, 7, 0b0000101),
        Min => r(OP_OP, 4, 0b0000101),
        Minu => r(OP_OP, 5, 0b0000101),
        SextB => unary(OP_IMM, 1, 0b0110000, 4),
        SextH => unary(OP_IMM, 1, 0b0110000, 5),
        ZextH => unary(OP_OP_32, 4, 0b0000100, 0),
        Rol => r(OP_OP, 1, 0b0110000),
        Rolw => r(OP_OP_32, 1, 0b0110000),
        Ror => r(OP_OP, 5, 0b0110000),
        Rori => shift64(5, 0b011000),
        Roriw => shift32(5, 0b0110000),
        Rorw => r(OP_OP_32, 5, 0b0110000),
        OrcB => unary(OP_IMM, 5, 0b0010100, 0b00111),
        Rev8 => unary(OP_IMM, 5, 0b0110101, 0b11000),

        Bclr => r(OP_OP, 1, 0b0100100),
        Bclri => shift64(1, 0b010010),
        Bext => r(OP_OP, 5, 0b0100100),
        Bexti => shift64(5, 0b010010),
        Binv => r(OP_OP, 1, 0b0110100),
        Binvi => shift64(1, 0b011010),
        Bset => r(OP_OP, 1, 0b0010100),
        Bseti => shift64(1, 0b001010),

        CzeroEqz => r(OP_OP, 5, 0b0000111),
        CzeroNez => r(OP_OP, 7, 0b0000111),
    })
}

/// Whether a rounding-mode field value is one an instruction may carry (5 and 6 are reserved).
const fn valid_rounding_mode(rm: u8) -> bool {
    rm <= 7 && rm != 5 && rm != 6
}

/// The canonical 32-bit encoding of `insn` (see the module documentation).
pub fn encode(insn: &Insn) -> Option<u32> {
    let format = format(insn.op)?;
    let Insn {
        rd,
        rs1,
        rs2,
        rs3,
        rm,
        imm,
        ..
    } = *insn;
    if rd > 31 || rs1 > 31 || rs2 > 31 || rs3 > 31 {
        return None;
    }
    let (rd, rs1, rs2, rs3) = (
        u32::from(rd),
        u32::from(rs1),
        u32::from(rs2),
        u32::from(rs3),
    );
    // Which operands the format has; every other field must be zero.
    let (has_rd, has_rs1, has_rs2, has_rs3, has_rm, has_imm) = match format {
        Format::R { .. } => (true, true, true, false, false, false),
        Format::Unary { .. } => (true, true, false, false, false, false),
        Format::I { .. } | Format::Shift { .. } | Format::Csr { .. } => {
            (true, true, false, false, false, true)
        }
        Format::S { .. } | Format::B { .. } => (false, true, true, false, false, true),
        Format::U { .. } | Format::J => (true, false, false, false, false, true),
        Format::Amo { lr, .. } => (true, true, !lr, false, true, false),
        Format::FpRounded { .. } => (true, true, true, false, true, false),
        Format::FpUnaryRounded { .. } => (true, true, false, false, true, false),
        Format::Fused { .. } => (true, true, true, true, true, false),
        Format::FenceSet => (false, false, false, false, false, true),
        Format::Fixed(_) => (false, false, false, false, false, false),
    };
    let unused_set = (!has_rd && rd != 0)
        || (!has_rs1 && rs1 != 0)
        || (!has_rs2 && rs2 != 0)
        || (!has_rs3 && rs3 != 0)
        || (!has_rm && rm != 0)
        || (!has_imm && imm != 0);
    if unused_set {
        return None;
    }
    let registers = rs2 << 20 | rs1 << 15 | rd << 7;
    let twelve_bits = (-2048..=2047).contains(&imm);
    let imm_bits = imm as u32;
    let word = match format {
        Format::R {
            opcode,
            funct3,
            funct7,
        } => funct7 << 25 | registers | funct3 << 12 | opcode,
        Format::Unary {
            opcode,
            funct3,
            funct7,
            rs2,
        } => funct7 << 25 | rs2 << 20 | registers | funct3 << 12 | opcode,
        Format::I { opcode, funct3 } if twelve_bits => {
            imm_bits << 20 | registers | funct3 << 12 | opcode
        }
        Format::Shift {
            opcode,
            funct3,
            top,
            max,
        } if (0..=max).contains(&imm) => top | imm_bits << 20 | registers | funct3 << 12 | opcode,
        Format::S { opcode, funct3 } if twelve_bits => {
            (imm_bits >> 5) << 25 | registers | funct3 << 12 | (imm_bits & 0x1f) << 7 | opcode
        }
        Format::B { funct3 } if imm % 2 == 0 && (-4096..=4094).contains(&imm) => {
            (imm_bits >> 12 & 1) << 31
                | (imm_bits >> 5 & 0x3f) << 25
                | registers
                | funct3 << 12
                | (imm_bits >> 1 & 0xf) << 8
                | (imm_bits >> 11 & 1) << 7
                | OP_BRANCH
        }
        Format::U { opcode } if imm_bits & 0xfff == 0 => imm_bits | registers | opcode,
        Format::J if imm % 2 == 0 && (-(1 << 20)..(1 << 20)).contains(&imm) => {
            (imm_bits >> 20 & 1) << 31
                | (imm_bits >> 1 & 0x3ff) << 21
                | (imm_bits >> 11 & 1) << 20
                | (imm_bits & 0x000f_f000)
                | registers
                | OP_JAL
        }
        Format::Amo { funct3, funct5, .. } if rm <= 3 => {
            funct5 << 27 | u32::from(rm) << 25 | registers | funct3 << 12 | OP_AMO
        }
        Format::Csr { funct3 } if (0..=0xfff).contains(&imm) => {
            imm_bits << 20 | registers | funct3 << 12 | OP_SYSTEM
        }
        Format::FpRounded { funct7 } if valid_rounding_mode(rm) => {
            funct7 << 25 | registers | u32::from(rm) << 12 | OP_FP
        }
        Format::FpUnaryRounded { funct7, rs2 } if valid_rounding_mode(rm) => {
            funct7 << 25 | rs2 << 20 | registers | u32::from(rm) << 12 | OP_FP
        }
        Format::Fused { opcode, fmt } if valid_rounding_mode(rm) => {
            rs3 << 27 | fmt << 25 | registers | u32::from(rm) << 12 | opcode
        }
        Format::FenceSet if (0..=0xfff).contains(&imm) => imm_bits << 20 | OP_MISC_MEM,
        Format::Fixed(word) => word,
        _ => return None,
    };
    Some(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{decode_compressed, decode_word};

    /// Every operation with a known word, its decoded form must encode back to that word.
    #[rustfmt::skip]
    const CANONICAL: &[(u32, &str)] = &[
        (0x12345537, "lui a0,0x12345"),
        (0x80000097, "auipc ra,0x80000"),
        (0x8000056f, "jal a0,-1048576"),
        (0x7ffff06f, "jal zero,1048574"),
        (0x800780e7, "jalr ra,-2048(a5)"),
        (0x7eb50fe3, "beq a0,a1,4094"),
        (0x80941063, "bne s0,s1,-4096"),
        (0xfff58503, "lb a0,-1(a1)"),
        (0xf9caea03, "lwu s4,-100(s5)"),
        (0x7e511fa3, "sh t0,2047(sp)"),
        (0x80992023, "sw s1,-2048(s2)"),
        (0x4207d713, "srai a4,a5,0x20"),
        (0x4118d81b, "sraiw a6,a7,0x11"),
        (0x0ff0000f, "fence iorw,iorw"),
        (0x8330000f, "fence.tso"),
        (0x0000100f, "fence.i"),
        (0x00000073, "ecall"),
        (0x00100073, "ebreak"),
        (0x1005b52f, "lr.d a0,(a1)"),
        (0x1ec5a52f, "sc.w.aqrl a0,a2,(a1)"),
        (0xe6c5b52f, "amomaxu.d.aqrl a0,a2,(a1)"),
        (0xc0002573, "csrrs a0,cycle,zero"),
        (0x80bfe573, "csrrsi a0,0x80b,31"),
        (0x7f813d87, "fld fs11,2040(sp)"),
        (0xfea43c27, "fsd fa0,-8(s0)"),
        (0x6ac5a547, "fmsub.d fa0,fa1,fa2,fa3,rdn"),
        (0x08c5c553, "fsub.s fa0,fa1,fa2,rmm"),
        (0x5805c553, "fsqrt.s fa0,fa1,rmm"),
        (0x4015f553, "fcvt.s.d fa0,fa1"),
        (0xc035a553, "fcvt.lu.s a0,fa1,rdn"),
        (0xe2059553, "fclass.d a0,fa1"),
        (0xf2058553, "fmv.d.x fa0,a1"),
        (0x0bf5951b, "slli.uw a0,a1,0x3f"),
        (0x6025951b, "cpopw a0,a1"),
        (0x0805c53b, "zext.h a0,a1"),
        (0x2875d513, "orc.b a0,a1"),
        (0x6b85d513, "rev8 a0,a1"),
        (0x61f5d51b, "roriw a0,a1,0x1f"),
        (0x4bf59513, "bclri a0,a1,0x3f"),
        (0x0ff072b3, "czero.nez t0,zero,t6"),
    ];

    #[test]
    fn known_words_encode_back_to_themselves() {
        for &(word, text) in CANONICAL {
            let decoded = decode_word(word);
            assert_ne!(decoded.op, Op::Illegal, "{word:#010x} ({text})");
            assert_eq!(encode(&decoded), Some(word), "{word:#010x} ({text})");
        }
    }

    #[test]
    fn ignored_fields_encode_canonically() {
        // fence with rd = a0, rs1 = a1: the decoder drops them, so does the encoder.
        assert_eq!(encode(&decode_word(0x0ff5850f)), Some(0x0ff0000f));
        // fence.i with imm, rs1 and rd set.
        assert_eq!(encode(&decode_word(0xfff5950f)), Some(0x0000100f));
    }

    #[test]
    fn compressed_words_encode_to_their_expansion() {
        // c.addi16sp sp,-512 -> addi sp,sp,-512; c.jalr a0 -> jalr ra,0(a0)
        assert_eq!(encode(&decode_compressed(0x7101)), Some(0xe0010113));
        assert_eq!(encode(&decode_compressed(0x9502)), Some(0x000500e7));
        assert_eq!(encode(&decode_compressed(0xaffd)), Some(0x7fe0006f));
    }

    fn with(op: Op, rd: u8, rs1: u8, rs2: u8, imm: i32) -> Insn {
        Insn {
            op,
            rd,
            rs1,
            rs2,
            rs3: 0,
            rm: 0,
            len: 4,
            imm,
        }
    }

    #[test]
    fn unencodable_instructions_are_rejected() {
        let rejected = [
            Insn::illegal(0xffff_ffff, 4),
            Insn::UNDECODED,
            with(Op::Add, 32, 1, 2, 0),
            with(Op::Add, 1, 2, 3, 1),
            with(Op::Addi, 1, 2, 0, 2048),
            with(Op::Addi, 1, 2, 0, -2049),
            with(Op::Addi, 1, 2, 3, 0),
            with(Op::Slli, 1, 2, 0, 64),
            with(Op::Slliw, 1, 2, 0, 32),
            with(Op::Slli, 1, 2, 0, -1),
            with(Op::Beq, 0, 1, 2, 3),
            with(Op::Beq, 0, 1, 2, 4096),
            with(Op::Beq, 1, 1, 2, 4),
            with(Op::Jal, 1, 0, 0, 1 << 20),
            with(Op::Jal, 1, 0, 0, 1),
            with(Op::Lui, 1, 0, 0, 0x800),
            with(Op::Sd, 0, 1, 2, 2048),
            with(Op::Csrrs, 1, 2, 0, 0x1000),
            with(Op::Csrrs, 1, 2, 0, -1),
            with(Op::Fence, 0, 0, 0, 0x1000),
            with(Op::Fence, 1, 0, 0, 0xff),
            with(Op::Ecall, 0, 0, 0, 1),
            with(Op::Clz, 1, 2, 1, 0),
            with(Op::LrW, 1, 2, 3, 0),
            Insn {
                rm: 4,
                ..with(Op::AmoaddW, 1, 2, 3, 0)
            },
            Insn {
                rm: 5,
                ..with(Op::FaddD, 1, 2, 3, 0)
            },
            Insn {
                rm: 8,
                ..with(Op::FsqrtS, 1, 2, 0, 0)
            },
            Insn {
                rs3: 32,
                ..with(Op::FmaddS, 1, 2, 3, 0)
            },
            Insn {
                rs3: 1,
                ..with(Op::FaddS, 1, 2, 3, 0)
            },
            Insn {
                rm: 1,
                ..with(Op::FsgnjS, 1, 2, 3, 0)
            },
        ];
        for insn in rejected {
            assert_eq!(encode(&insn), None, "{insn:?}");
        }
    }

    /// Decode → encode → decode is the identity on every legal word of a broad sweep,
    /// and every legal 16-bit word encodes to a word that decodes to its expansion.
    #[test]
    fn decode_encode_round_trips() {
        let mut legal = 0usize;
        for opcode in (0..128u32).filter(|opcode| opcode & 3 == 3) {
            for funct3 in 0..8 {
                for funct7 in 0..128 {
                    for (rs2, rs1, rd) in [(0, 0, 0), (1, 11, 10), (7, 31, 1), (24, 5, 31)] {
                        let word =
                            funct7 << 25 | rs2 << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode;
                        let decoded = decode_word(word);
                        if decoded.op == Op::Illegal {
                            continue;
                        }
                        legal += 1;
                        let encoded = encode(&decoded)
                            .unwrap_or_else(|| panic!("{word:#010x}: {decoded:?} has no encoding"));
                        assert_eq!(
                            decode_word(encoded),
                            decoded,
                            "{word:#010x} -> {encoded:#010x}"
                        );
                    }
                }
            }
        }
        assert!(legal > 30_000, "{legal}");
        for half in 0..=u16::MAX {
            let expanded = decode_compressed(half);
            if expanded.op == Op::Illegal {
                continue;
            }
            let encoded = encode(&expanded).unwrap_or_else(|| panic!("{half:#06x}: no encoding"));
            assert_eq!(
                decode_word(encoded),
                Insn { len: 4, ..expanded },
                "{half:#06x} -> {encoded:#010x}"
            );
        }
    }
}
