//! Decoder for 32-bit RV64GC (+ Zba, Zbb, Zbs, Zicond) encodings, and dispatch to the compressed expander.
use super::{Insn, Op};

/// Length in bytes of the instruction whose first 16-bit parcel is `low`.
pub fn instruction_length(low: u16) -> u8 {
    if low & 3 == 3 {
        4
    } else {
        2
    }
}

/// Decode the instruction whose bits are in `word` (the low 16 bits for compressed ones).
pub fn decode(word: u32) -> Insn {
    if word & 3 == 3 {
        decode_word(word)
    } else {
        decode_compressed(word as u16)
    }
}

/// Decode (expand) a 16-bit compressed encoding.
pub fn decode_compressed(half: u16) -> Insn {
    super::compressed::expand(half)
}

/// Rounding-mode field values 5 and 6 are reserved: an instruction carrying them is illegal.
const fn is_valid_rounding_mode(rm: u32) -> bool {
    rm != 5 && rm != 6
}

const fn field_rd(word: u32) -> u8 {
    ((word >> 7) & 31) as u8
}

const fn field_rs1(word: u32) -> u8 {
    ((word >> 15) & 31) as u8
}

const fn field_rs2(word: u32) -> u8 {
    ((word >> 20) & 31) as u8
}

const fn field_rs3(word: u32) -> u8 {
    (word >> 27) as u8
}

const fn field_funct3(word: u32) -> u32 {
    (word >> 12) & 7
}

const fn field_funct7(word: u32) -> u32 {
    word >> 25
}

const fn imm_i(word: u32) -> i32 {
    (word as i32) >> 20
}

const fn imm_s(word: u32) -> i32 {
    ((word as i32) >> 25 << 5) | ((word >> 7) & 0x1f) as i32
}

const fn imm_b(word: u32) -> i32 {
    ((word as i32) >> 31 << 12)
        | (((word >> 7) & 1) << 11) as i32
        | (((word >> 25) & 0x3f) << 5) as i32
        | (((word >> 8) & 0xf) << 1) as i32
}

const fn imm_u(word: u32) -> i32 {
    (word & 0xffff_f000) as i32
}

const fn imm_j(word: u32) -> i32 {
    ((word as i32) >> 31 << 20)
        | (word & 0x000f_f000) as i32
        | (((word >> 20) & 1) << 11) as i32
        | (((word >> 21) & 0x3ff) << 1) as i32
}

/// An instruction with the operand fields given and everything else zero.
const fn insn(op: Op, rd: u8, rs1: u8, rs2: u8, imm: i32) -> Insn {
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

const fn r_type(op: Op, word: u32) -> Insn {
    insn(op, field_rd(word), field_rs1(word), field_rs2(word), 0)
}

const fn i_type(op: Op, word: u32) -> Insn {
    insn(op, field_rd(word), field_rs1(word), 0, imm_i(word))
}

/// Unary operations (`clz`, `fsqrt.d`, `fmv.x.w`, …): rd and rs1 only.
const fn unary(op: Op, word: u32) -> Insn {
    insn(op, field_rd(word), field_rs1(word), 0, 0)
}

/// Shift-immediates: the shift amount (the low 6 bits of the immediate field) goes in `imm`.
const fn shift_imm(op: Op, word: u32) -> Insn {
    insn(
        op,
        field_rd(word),
        field_rs1(word),
        0,
        ((word >> 20) & 0x3f) as i32,
    )
}

const fn s_type(op: Op, word: u32) -> Insn {
    insn(op, 0, field_rs1(word), field_rs2(word), imm_s(word))
}

const fn b_type(op: Op, word: u32) -> Insn {
    insn(op, 0, field_rs1(word), field_rs2(word), imm_b(word))
}

const fn with_rm(mut decoded: Insn, rm: u32) -> Insn {
    decoded.rm = rm as u8;
    decoded
}

/// Decode a 32-bit encoding. Unknown and reserved encodings decode to `Op::Illegal`.
pub fn decode_word(word: u32) -> Insn {
    let decoded = match word & 0x7f {
        0x03 => decode_load(word),
        0x07 => decode_load_fp(word),
        0x0f => decode_misc_mem(word),
        0x13 => decode_op_imm(word),
        0x17 => Some(insn(Op::Auipc, field_rd(word), 0, 0, imm_u(word))),
        0x1b => decode_op_imm_32(word),
        0x23 => decode_store(word),
        0x27 => decode_store_fp(word),
        0x2f => decode_amo(word),
        0x33 => decode_op(word),
        0x37 => Some(insn(Op::Lui, field_rd(word), 0, 0, imm_u(word))),
        0x3b => decode_op_32(word),
        0x43 => decode_fused(word, Op::FmaddS, Op::FmaddD),
        0x47 => decode_fused(word, Op::FmsubS, Op::FmsubD),
        0x4b => decode_fused(word, Op::FnmsubS, Op::FnmsubD),
        0x4f => decode_fused(word, Op::FnmaddS, Op::FnmaddD),
        0x53 => decode_op_fp(word),
        0x63 => decode_branch(word),
        0x67 if field_funct3(word) == 0 => Some(i_type(Op::Jalr, word)),
        0x6f => Some(insn(Op::Jal, field_rd(word), 0, 0, imm_j(word))),
        0x73 => decode_system(word),
        _ => None,
    };
    decoded.unwrap_or(Insn::illegal(word, 4))
}

fn decode_load(word: u32) -> Option<Insn> {
    let op = match field_funct3(word) {
        0 => Op::Lb,
        1 => Op::Lh,
        2 => Op::Lw,
        3 => Op::Ld,
        4 => Op::Lbu,
        5 => Op::Lhu,
        6 => Op::Lwu,
        _ => return None,
    };
    Some(i_type(op, word))
}

fn decode_load_fp(word: u32) -> Option<Insn> {
    let op = match field_funct3(word) {
        2 => Op::Flw,
        3 => Op::Fld,
        _ => return None,
    };
    Some(i_type(op, word))
}

fn decode_store(word: u32) -> Option<Insn> {
    let op = match field_funct3(word) {
        0 => Op::Sb,
        1 => Op::Sh,
        2 => Op::Sw,
        3 => Op::Sd,
        _ => return None,
    };
    Some(s_type(op, word))
}

fn decode_store_fp(word: u32) -> Option<Insn> {
    let op = match field_funct3(word) {
        2 => Op::Fsw,
        3 => Op::Fsd,
        _ => return None,
    };
    Some(s_type(op, word))
}

fn decode_misc_mem(word: u32) -> Option<Insn> {
    // rd, rs1 (and for fence.i the immediate) are reserved for finer-grained fences;
    // the base ISA requires implementations to ignore them, and reserved `fm` values
    // to behave as a normal fence, so none of them makes the instruction illegal.
    match field_funct3(word) {
        0 => Some(insn(Op::Fence, 0, 0, 0, (word >> 20) as i32)),
        1 => Some(insn(Op::FenceI, 0, 0, 0, 0)),
        _ => None,
    }
}

fn decode_op_imm(word: u32) -> Option<Insn> {
    let funct6 = word >> 26;
    let funct12 = word >> 20;
    let decoded = match field_funct3(word) {
        0 => i_type(Op::Addi, word),
        2 => i_type(Op::Slti, word),
        3 => i_type(Op::Sltiu, word),
        4 => i_type(Op::Xori, word),
        6 => i_type(Op::Ori, word),
        7 => i_type(Op::Andi, word),
        1 => match (funct6, funct12) {
            (0b000000, _) => shift_imm(Op::Slli, word),
            (0b001010, _) => shift_imm(Op::Bseti, word),
            (0b010010, _) => shift_imm(Op::Bclri, word),
            (0b011010, _) => shift_imm(Op::Binvi, word),
            (_, 0x600) => unary(Op::Clz, word),
            (_, 0x601) => unary(Op::Ctz, word),
            (_, 0x602) => unary(Op::Cpop, word),
            (_, 0x604) => unary(Op::SextB, word),
            (_, 0x605) => unary(Op::SextH, word),
            _ => return None,
        },
        _ => match (funct6, funct12) {
            (0b000000, _) => shift_imm(Op::Srli, word),
            (0b010000, _) => shift_imm(Op::Srai, word),
            (0b010010, _) => shift_imm(Op::Bexti, word),
            (0b011000, _) => shift_imm(Op::Rori, word),
            (_, 0x287) => unary(Op::OrcB, word),
            (_, 0x6b8) => unary(Op::Rev8, word),
            _ => return None,
        },
    };
    Some(decoded)
}

fn decode_op_imm_32(word: u32) -> Option<Insn> {
    // funct7 includes shamt[5]: requiring it to be exactly zero (or 0x20/0x30)
    // rejects the reserved 32-bit shifts by 32..=63.
    let funct7 = field_funct7(word);
    let decoded = match field_funct3(word) {
        0 => i_type(Op::Addiw, word),
        1 => match (funct7, word >> 20) {
            (0b0000000, _) => shift_imm(Op::Slliw, word),
            (0b0000100 | 0b0000101, _) => shift_imm(Op::SlliUw, word),
            (_, 0x600) => unary(Op::Clzw, word),
            (_, 0x601) => unary(Op::Ctzw, word),
            (_, 0x602) => unary(Op::Cpopw, word),
            _ => return None,
        },
        5 => match funct7 {
            0b0000000 => shift_imm(Op::Srliw, word),
            0b0100000 => shift_imm(Op::Sraiw, word),
            0b0110000 => shift_imm(Op::Roriw, word),
            _ => return None,
        },
        _ => return None,
    };
    Some(decoded)
}

fn decode_op(word: u32) -> Option<Insn> {
    let op = match (field_funct7(word), field_funct3(word)) {
        (0b0000000, 0) => Op::Add,
        (0b0000000, 1) => Op::Sll,
        (0b0000000, 2) => Op::Slt,
        (0b0000000, 3) => Op::Sltu,
        (0b0000000, 4) => Op::Xor,
        (0b0000000, 5) => Op::Srl,
        (0b0000000, 6) => Op::Or,
        (0b0000000, 7) => Op::And,
        (0b0100000, 0) => Op::Sub,
        (0b0100000, 5) => Op::Sra,
        (0b0100000, 4) => Op::Xnor,
        (0b0100000, 6) => Op::Orn,
        (0b0100000, 7) => Op::Andn,
        (0b0000001, 0) => Op::Mul,
        (0b0000001, 1) => Op::Mulh,
        (0b0000001, 2) => Op::Mulhsu,
        (0b0000001, 3) => Op::Mulhu,
        (0b0000001, 4) => Op::Div,
        (0b0000001, 5) => Op::Divu,
        (0b0000001, 6) => Op::Rem,
        (0b0000001, 7) => Op::Remu,
        (0b0010000, 2) => Op::Sh1add,
        (0b0010000, 4) => Op::Sh2add,
        (0b0010000, 6) => Op::Sh3add,
        (0b0000101, 4) => Op::Min,
        (0b0000101, 5) => Op::Minu,
        (0b0000101, 6) => Op::Max,
        (0b0000101, 7) => Op::Maxu,
        (0b0110000, 1) => Op::Rol,
        (0b0110000, 5) => Op::Ror,
        (0b0010100, 1) => Op::Bset,
        (0b0100100, 1) => Op::Bclr,
        (0b0100100, 5) => Op::Bext,
        (0b0110100, 1) => Op::Binv,
        (0b0000111, 5) => Op::CzeroEqz,
        (0b0000111, 7) => Op::CzeroNez,
        _ => return None,
    };
    Some(r_type(op, word))
}

fn decode_op_32(word: u32) -> Option<Insn> {
    let op = match (field_funct7(word), field_funct3(word)) {
        (0b0000000, 0) => Op::Addw,
        (0b0000000, 1) => Op::Sllw,
        (0b0000000, 5) => Op::Srlw,
        (0b0100000, 0) => Op::Subw,
        (0b0100000, 5) => Op::Sraw,
        (0b0000001, 0) => Op::Mulw,
        (0b0000001, 4) => Op::Divw,
        (0b0000001, 5) => Op::Divuw,
        (0b0000001, 6) => Op::Remw,
        (0b0000001, 7) => Op::Remuw,
        (0b0000100, 0) => Op::AddUw,
        // zext.h is the rs2 = 0 case of the (RV32-only) `pack` encoding.
        (0b0000100, 4) if field_rs2(word) == 0 => return Some(unary(Op::ZextH, word)),
        (0b0010000, 2) => Op::Sh1addUw,
        (0b0010000, 4) => Op::Sh2addUw,
        (0b0010000, 6) => Op::Sh3addUw,
        (0b0110000, 1) => Op::Rolw,
        (0b0110000, 5) => Op::Rorw,
        _ => return None,
    };
    Some(r_type(op, word))
}

fn decode_amo(word: u32) -> Option<Insn> {
    let is_double = match field_funct3(word) {
        2 => false,
        3 => true,
        _ => return None,
    };
    let (word_op, double_op) = match word >> 27 {
        0b00010 if field_rs2(word) == 0 => (Op::LrW, Op::LrD),
        0b00011 => (Op::ScW, Op::ScD),
        0b00001 => (Op::AmoswapW, Op::AmoswapD),
        0b00000 => (Op::AmoaddW, Op::AmoaddD),
        0b00100 => (Op::AmoxorW, Op::AmoxorD),
        0b01100 => (Op::AmoandW, Op::AmoandD),
        0b01000 => (Op::AmoorW, Op::AmoorD),
        0b10000 => (Op::AmominW, Op::AmominD),
        0b10100 => (Op::AmomaxW, Op::AmomaxD),
        0b11000 => (Op::AmominuW, Op::AmominuD),
        0b11100 => (Op::AmomaxuW, Op::AmomaxuD),
        _ => return None,
    };
    let op = if is_double { double_op } else { word_op };
    Some(with_rm(r_type(op, word), (word >> 25) & 3))
}

fn decode_fused(word: u32, single: Op, double: Op) -> Option<Insn> {
    let op = match (word >> 25) & 3 {
        0 => single,
        1 => double,
        _ => return None,
    };
    let rm = field_funct3(word);
    if !is_valid_rounding_mode(rm) {
        return None;
    }
    let mut decoded = with_rm(r_type(op, word), rm);
    decoded.rs3 = field_rs3(word);
    Some(decoded)
}

fn decode_op_fp(word: u32) -> Option<Insn> {
    let funct3 = field_funct3(word);
    let rs2 = field_rs2(word);
    // Operations with a rounding-mode field; the rest use funct3 as a minor opcode.
    let rounded = |op: Op| {
        if is_valid_rounding_mode(funct3) {
            Some(with_rm(r_type(op, word), funct3))
        } else {
            None
        }
    };
    let rounded_unary = |op: Op| {
        if is_valid_rounding_mode(funct3) {
            Some(with_rm(unary(op, word), funct3))
        } else {
            None
        }
    };
    match (field_funct7(word), funct3, rs2) {
        (0b0000000, _, _) => rounded(Op::FaddS),
        (0b0000001, _, _) => rounded(Op::FaddD),
        (0b0000100, _, _) => rounded(Op::FsubS),
        (0b0000101, _, _) => rounded(Op::FsubD),
        (0b0001000, _, _) => rounded(Op::FmulS),
        (0b0001001, _, _) => rounded(Op::FmulD),
        (0b0001100, _, _) => rounded(Op::FdivS),
        (0b0001101, _, _) => rounded(Op::FdivD),
        (0b0101100, _, 0) => rounded_unary(Op::FsqrtS),
        (0b0101101, _, 0) => rounded_unary(Op::FsqrtD),
        (0b0010000, 0, _) => Some(r_type(Op::FsgnjS, word)),
        (0b0010000, 1, _) => Some(r_type(Op::FsgnjnS, word)),
        (0b0010000, 2, _) => Some(r_type(Op::FsgnjxS, word)),
        (0b0010001, 0, _) => Some(r_type(Op::FsgnjD, word)),
        (0b0010001, 1, _) => Some(r_type(Op::FsgnjnD, word)),
        (0b0010001, 2, _) => Some(r_type(Op::FsgnjxD, word)),
        (0b0010100, 0, _) => Some(r_type(Op::FminS, word)),
        (0b0010100, 1, _) => Some(r_type(Op::FmaxS, word)),
        (0b0010101, 0, _) => Some(r_type(Op::FminD, word)),
        (0b0010101, 1, _) => Some(r_type(Op::FmaxD, word)),
        (0b0100000, _, 1) => rounded_unary(Op::FcvtSD),
        (0b0100001, _, 0) => rounded_unary(Op::FcvtDS),
        (0b1010000, 2, _) => Some(r_type(Op::FeqS, word)),
        (0b1010000, 1, _) => Some(r_type(Op::FltS, word)),
        (0b1010000, 0, _) => Some(r_type(Op::FleS, word)),
        (0b1010001, 2, _) => Some(r_type(Op::FeqD, word)),
        (0b1010001, 1, _) => Some(r_type(Op::FltD, word)),
        (0b1010001, 0, _) => Some(r_type(Op::FleD, word)),
        (0b1100000, _, 0) => rounded_unary(Op::FcvtWS),
        (0b1100000, _, 1) => rounded_unary(Op::FcvtWuS),
        (0b1100000, _, 2) => rounded_unary(Op::FcvtLS),
        (0b1100000, _, 3) => rounded_unary(Op::FcvtLuS),
        (0b1100001, _, 0) => rounded_unary(Op::FcvtWD),
        (0b1100001, _, 1) => rounded_unary(Op::FcvtWuD),
        (0b1100001, _, 2) => rounded_unary(Op::FcvtLD),
        (0b1100001, _, 3) => rounded_unary(Op::FcvtLuD),
        (0b1101000, _, 0) => rounded_unary(Op::FcvtSW),
        (0b1101000, _, 1) => rounded_unary(Op::FcvtSWu),
        (0b1101000, _, 2) => rounded_unary(Op::FcvtSL),
        (0b1101000, _, 3) => rounded_unary(Op::FcvtSLu),
        (0b1101001, _, 0) => rounded_unary(Op::FcvtDW),
        (0b1101001, _, 1) => rounded_unary(Op::FcvtDWu),
        (0b1101001, _, 2) => rounded_unary(Op::FcvtDL),
        (0b1101001, _, 3) => rounded_unary(Op::FcvtDLu),
        (0b1110000, 0, 0) => Some(unary(Op::FmvXW, word)),
        (0b1110000, 1, 0) => Some(unary(Op::FclassS, word)),
        (0b1110001, 0, 0) => Some(unary(Op::FmvXD, word)),
        (0b1110001, 1, 0) => Some(unary(Op::FclassD, word)),
        (0b1111000, 0, 0) => Some(unary(Op::FmvWX, word)),
        (0b1111001, 0, 0) => Some(unary(Op::FmvDX, word)),
        _ => None,
    }
}

fn decode_branch(word: u32) -> Option<Insn> {
    let op = match field_funct3(word) {
        0 => Op::Beq,
        1 => Op::Bne,
        4 => Op::Blt,
        5 => Op::Bge,
        6 => Op::Bltu,
        7 => Op::Bgeu,
        _ => return None,
    };
    Some(b_type(op, word))
}

fn decode_system(word: u32) -> Option<Insn> {
    let csr = (word >> 20) as i32;
    let (rd, rs1) = (field_rd(word), field_rs1(word));
    let op = match field_funct3(word) {
        0 => {
            // Everything else here (mret, wfi, sfence.vma, …) is privileged and
            // therefore illegal for the user-mode programs we run.
            return match word {
                0x0000_0073 => Some(insn(Op::Ecall, 0, 0, 0, 0)),
                0x0010_0073 => Some(insn(Op::Ebreak, 0, 0, 0, 0)),
                _ => None,
            };
        }
        1 => Op::Csrrw,
        2 => Op::Csrrs,
        3 => Op::Csrrc,
        5 => Op::Csrrwi,
        6 => Op::Csrrsi,
        7 => Op::Csrrci,
        _ => return None,
    };
    Some(insn(op, rd, rs1, 0, csr))
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::string::ToString;

    use super::*;

    /// word, op, [rd, rs1, rs2, rs3], rm, imm, GNU text at pc 0x1000
    type KnownEncoding = (u32, Op, [u8; 4], u8, i32, &'static str);

    /// Words assembled by `riscv64-linux-gnu-as` 2.40 (`-march=rv64gc_zba_zbb_zbs`,
    /// `.option norvc`) from the text in the last column, except the Zicond and
    /// non-default-rounding exact conversions, which 2.40 cannot assemble (built with
    /// `.insn`).
    #[rustfmt::skip]
    const KNOWN: &[KnownEncoding] = &[
    (0x12345537, Op::Lui, [10, 0, 0, 0], 0, 305418240, "lui a0,0x12345"),
    (0xffffffb7, Op::Lui, [31, 0, 0, 0], 0, -4096, "lui t6,0xfffff"),
    (0x80000097, Op::Auipc, [1, 0, 0, 0], 0, -2147483648, "auipc ra,0x80000"),
    (0x00001d97, Op::Auipc, [27, 0, 0, 0], 0, 4096, "auipc s11,0x1"),
    (0x001000ef, Op::Jal, [1, 0, 0, 0], 0, 2048, "jal ra,0x1800"),
    (0xffdff06f, Op::Jal, [0, 0, 0, 0], 0, -4, "jal zero,0xffc"),
    (0x7ffff06f, Op::Jal, [0, 0, 0, 0], 0, 1048574, "jal zero,0x100ffe"),
    (0x8000056f, Op::Jal, [10, 0, 0, 0], 0, -1048576, "jal a0,0xfffffffffff01000"),
    (0x800780e7, Op::Jalr, [1, 15, 0, 0], 0, -2048, "jalr ra,-2048(a5)"),
    (0x7ff28067, Op::Jalr, [0, 5, 0, 0], 0, 2047, "jalr zero,2047(t0)"),
    (0x7eb50fe3, Op::Beq, [0, 10, 11, 0], 0, 4094, "beq a0,a1,0x1ffe"),
    (0x80941063, Op::Bne, [0, 8, 9, 0], 0, -4096, "bne s0,s1,0x0"),
    (0x00d64463, Op::Blt, [0, 12, 13, 0], 0, 8, "blt a2,a3,0x1008"),
    (0xfff05fe3, Op::Bge, [0, 0, 31, 0], 0, -2, "bge zero,t6,0xffe"),
    (0x0062e863, Op::Bltu, [0, 5, 6, 0], 0, 16, "bltu t0,t1,0x1010"),
    (0x0020f063, Op::Bgeu, [0, 1, 2, 0], 0, 0, "bgeu ra,sp,0x1000"),
    (0xfff58503, Op::Lb, [10, 11, 0, 0], 0, -1, "lb a0,-1(a1)"),
    (0x7ff11503, Op::Lh, [10, 2, 0, 0], 0, 2047, "lh a0,2047(sp)"),
    (0x80092483, Op::Lw, [9, 18, 0, 0], 0, -2048, "lw s1,-2048(s2)"),
    (0x008ebe03, Op::Ld, [28, 29, 0, 0], 0, 8, "ld t3,8(t4)"),
    (0x00084783, Op::Lbu, [15, 16, 0, 0], 0, 0, "lbu a5,0(a6)"),
    (0x0649d883, Op::Lhu, [17, 19, 0, 0], 0, 100, "lhu a7,100(s3)"),
    (0xf9caea03, Op::Lwu, [20, 21, 0, 0], 0, -100, "lwu s4,-100(s5)"),
    (0xfea58fa3, Op::Sb, [0, 11, 10, 0], 0, -1, "sb a0,-1(a1)"),
    (0x7e511fa3, Op::Sh, [0, 2, 5, 0], 0, 2047, "sh t0,2047(sp)"),
    (0x80992023, Op::Sw, [0, 18, 9, 0], 0, -2048, "sw s1,-2048(s2)"),
    (0x00113423, Op::Sd, [0, 2, 1, 0], 0, 8, "sd ra,8(sp)"),
    (0x01010513, Op::Addi, [10, 2, 0, 0], 0, 16, "addi a0,sp,16"),
    (0x80062593, Op::Slti, [11, 12, 0, 0], 0, -2048, "slti a1,a2,-2048"),
    (0x7ff73693, Op::Sltiu, [13, 14, 0, 0], 0, 2047, "sltiu a3,a4,2047"),
    (0xfff84793, Op::Xori, [15, 16, 0, 0], 0, -1, "xori a5,a6,-1"),
    (0x55596893, Op::Ori, [17, 18, 0, 0], 0, 1365, "ori a7,s2,1365"),
    (0xf00a7993, Op::Andi, [19, 20, 0, 0], 0, -256, "andi s3,s4,-256"),
    (0x03f59513, Op::Slli, [10, 11, 0, 0], 0, 63, "slli a0,a1,0x3f"),
    (0x0016d613, Op::Srli, [12, 13, 0, 0], 0, 1, "srli a2,a3,0x1"),
    (0x4207d713, Op::Srai, [14, 15, 0, 0], 0, 32, "srai a4,a5,0x20"),
    (0x00c58533, Op::Add, [10, 11, 12, 0], 0, 0, "add a0,a1,a2"),
    (0x407302b3, Op::Sub, [5, 6, 7, 0], 0, 0, "sub t0,t1,t2"),
    (0x00a49433, Op::Sll, [8, 9, 10, 0], 0, 0, "sll s0,s1,a0"),
    (0x00d625b3, Op::Slt, [11, 12, 13, 0], 0, 0, "slt a1,a2,a3"),
    (0x0107b733, Op::Sltu, [14, 15, 16, 0], 0, 0, "sltu a4,a5,a6"),
    (0x013948b3, Op::Xor, [17, 18, 19, 0], 0, 0, "xor a7,s2,s3"),
    (0x016ada33, Op::Srl, [20, 21, 22, 0], 0, 0, "srl s4,s5,s6"),
    (0x419c5bb3, Op::Sra, [23, 24, 25, 0], 0, 0, "sra s7,s8,s9"),
    (0x01cded33, Op::Or, [26, 27, 28, 0], 0, 0, "or s10,s11,t3"),
    (0x01ff7eb3, Op::And, [29, 30, 31, 0], 0, 0, "and t4,t5,t6"),
    (0xfff5851b, Op::Addiw, [10, 11, 0, 0], 0, -1, "addiw a0,a1,-1"),
    (0x01f6961b, Op::Slliw, [12, 13, 0, 0], 0, 31, "slliw a2,a3,0x1f"),
    (0x0017d71b, Op::Srliw, [14, 15, 0, 0], 0, 1, "srliw a4,a5,0x1"),
    (0x4118d81b, Op::Sraiw, [16, 17, 0, 0], 0, 17, "sraiw a6,a7,0x11"),
    (0x00c5853b, Op::Addw, [10, 11, 12, 0], 0, 0, "addw a0,a1,a2"),
    (0x40f706bb, Op::Subw, [13, 14, 15, 0], 0, 0, "subw a3,a4,a5"),
    (0x0128983b, Op::Sllw, [16, 17, 18, 0], 0, 0, "sllw a6,a7,s2"),
    (0x015a59bb, Op::Srlw, [19, 20, 21, 0], 0, 0, "srlw s3,s4,s5"),
    (0x418bdb3b, Op::Sraw, [22, 23, 24, 0], 0, 0, "sraw s6,s7,s8"),
    (0x0ff0000f, Op::Fence, [0, 0, 0, 0], 0, 255, "fence iorw,iorw"),
    (0x0310000f, Op::Fence, [0, 0, 0, 0], 0, 49, "fence rw,w"),
    (0x0840000f, Op::Fence, [0, 0, 0, 0], 0, 132, "fence i,o"),
    (0x8330000f, Op::Fence, [0, 0, 0, 0], 0, 2099, "fence.tso"),
    (0x0000100f, Op::FenceI, [0, 0, 0, 0], 0, 0, "fence.i"),
    (0x00000073, Op::Ecall, [0, 0, 0, 0], 0, 0, "ecall"),
    (0x00100073, Op::Ebreak, [0, 0, 0, 0], 0, 0, "ebreak"),
    (0x02c58533, Op::Mul, [10, 11, 12, 0], 0, 0, "mul a0,a1,a2"),
    (0x02f716b3, Op::Mulh, [13, 14, 15, 0], 0, 0, "mulh a3,a4,a5"),
    (0x0328a833, Op::Mulhsu, [16, 17, 18, 0], 0, 0, "mulhsu a6,a7,s2"),
    (0x035a39b3, Op::Mulhu, [19, 20, 21, 0], 0, 0, "mulhu s3,s4,s5"),
    (0x038bcb33, Op::Div, [22, 23, 24, 0], 0, 0, "div s6,s7,s8"),
    (0x03bd5cb3, Op::Divu, [25, 26, 27, 0], 0, 0, "divu s9,s10,s11"),
    (0x03eeee33, Op::Rem, [28, 29, 30, 0], 0, 0, "rem t3,t4,t5"),
    (0x02107fb3, Op::Remu, [31, 0, 1, 0], 0, 0, "remu t6,zero,ra"),
    (0x02c5853b, Op::Mulw, [10, 11, 12, 0], 0, 0, "mulw a0,a1,a2"),
    (0x02f746bb, Op::Divw, [13, 14, 15, 0], 0, 0, "divw a3,a4,a5"),
    (0x0328d83b, Op::Divuw, [16, 17, 18, 0], 0, 0, "divuw a6,a7,s2"),
    (0x035a69bb, Op::Remw, [19, 20, 21, 0], 0, 0, "remw s3,s4,s5"),
    (0x038bfb3b, Op::Remuw, [22, 23, 24, 0], 0, 0, "remuw s6,s7,s8"),
    (0x1005a52f, Op::LrW, [10, 11, 0, 0], 0, 0, "lr.w a0,(a1)"),
    (0x1ad7262f, Op::ScW, [12, 14, 13, 0], 1, 0, "sc.w.rl a2,a3,(a4)"),
    (0x0d08a7af, Op::AmoswapW, [15, 17, 16, 0], 2, 0, "amoswap.w.aq a5,a6,(a7)"),
    (0x073a292f, Op::AmoaddW, [18, 20, 19, 0], 3, 0, "amoadd.w.aqrl s2,s3,(s4)"),
    (0x20b6252f, Op::AmoxorW, [10, 12, 11, 0], 0, 0, "amoxor.w a0,a1,(a2)"),
    (0x60b6252f, Op::AmoandW, [10, 12, 11, 0], 0, 0, "amoand.w a0,a1,(a2)"),
    (0x40b6252f, Op::AmoorW, [10, 12, 11, 0], 0, 0, "amoor.w a0,a1,(a2)"),
    (0x80b6252f, Op::AmominW, [10, 12, 11, 0], 0, 0, "amomin.w a0,a1,(a2)"),
    (0xa0b6252f, Op::AmomaxW, [10, 12, 11, 0], 0, 0, "amomax.w a0,a1,(a2)"),
    (0xc0b6252f, Op::AmominuW, [10, 12, 11, 0], 0, 0, "amominu.w a0,a1,(a2)"),
    (0xe0b6252f, Op::AmomaxuW, [10, 12, 11, 0], 0, 0, "amomaxu.w a0,a1,(a2)"),
    (0x1405b52f, Op::LrD, [10, 11, 0, 0], 2, 0, "lr.d.aq a0,(a1)"),
    (0x1ed7362f, Op::ScD, [12, 14, 13, 0], 3, 0, "sc.d.aqrl a2,a3,(a4)"),
    (0x0908b7af, Op::AmoswapD, [15, 17, 16, 0], 0, 0, "amoswap.d a5,a6,(a7)"),
    (0x033a392f, Op::AmoaddD, [18, 20, 19, 0], 1, 0, "amoadd.d.rl s2,s3,(s4)"),
    (0x20b6352f, Op::AmoxorD, [10, 12, 11, 0], 0, 0, "amoxor.d a0,a1,(a2)"),
    (0x60b6352f, Op::AmoandD, [10, 12, 11, 0], 0, 0, "amoand.d a0,a1,(a2)"),
    (0x40b6352f, Op::AmoorD, [10, 12, 11, 0], 0, 0, "amoor.d a0,a1,(a2)"),
    (0x80b6352f, Op::AmominD, [10, 12, 11, 0], 0, 0, "amomin.d a0,a1,(a2)"),
    (0xa0b6352f, Op::AmomaxD, [10, 12, 11, 0], 0, 0, "amomax.d a0,a1,(a2)"),
    (0xc0b6352f, Op::AmominuD, [10, 12, 11, 0], 0, 0, "amominu.d a0,a1,(a2)"),
    (0xe6b6352f, Op::AmomaxuD, [10, 12, 11, 0], 3, 0, "amomaxu.d.aqrl a0,a1,(a2)"),
    (0x00159573, Op::Csrrw, [10, 11, 0, 0], 0, 1, "csrrw a0,fflags,a1"),
    (0xc0002673, Op::Csrrs, [12, 0, 0, 0], 0, 3072, "csrrs a2,cycle,zero"),
    (0x0036b073, Op::Csrrc, [0, 13, 0, 0], 0, 3, "csrrc zero,fcsr,a3"),
    (0x002fd573, Op::Csrrwi, [10, 31, 0, 0], 0, 2, "csrrwi a0,frm,31"),
    (0xc020e5f3, Op::Csrrsi, [11, 1, 0, 0], 0, 3074, "csrrsi a1,instret,1"),
    (0xfff07673, Op::Csrrci, [12, 0, 0, 0], 0, 4095, "csrrci a2,0xfff,0"),
    (0x300026f3, Op::Csrrs, [13, 0, 0, 0], 0, 768, "csrrs a3,0x300,zero"),
    (0xffc12507, Op::Flw, [10, 2, 0, 0], 0, -4, "flw fa0,-4(sp)"),
    (0x7ff52e27, Op::Fsw, [0, 10, 31, 0], 0, 2044, "fsw ft11,2044(a0)"),
    (0x68c5f543, Op::FmaddS, [10, 11, 12, 13], 7, 0, "fmadd.s fa0,fa1,fa2,fa3"),
    (0x18208047, Op::FmsubS, [0, 1, 2, 3], 0, 0, "fmsub.s ft0,ft1,ft2,ft3,rne"),
    (0x9924944b, Op::FnmsubS, [8, 9, 18, 19], 1, 0, "fnmsub.s fs0,fs1,fs2,fs3,rtz"),
    (0xf9eece4f, Op::FnmaddS, [28, 29, 30, 31], 4, 0, "fnmadd.s ft8,ft9,ft10,ft11,rmm"),
    (0x00c59553, Op::FaddS, [10, 11, 12, 0], 1, 0, "fadd.s fa0,fa1,fa2,rtz"),
    (0x08c5a553, Op::FsubS, [10, 11, 12, 0], 2, 0, "fsub.s fa0,fa1,fa2,rdn"),
    (0x10c5b553, Op::FmulS, [10, 11, 12, 0], 3, 0, "fmul.s fa0,fa1,fa2,rup"),
    (0x18c5f553, Op::FdivS, [10, 11, 12, 0], 7, 0, "fdiv.s fa0,fa1,fa2"),
    (0x5805c553, Op::FsqrtS, [10, 11, 0, 0], 4, 0, "fsqrt.s fa0,fa1,rmm"),
    (0x20c58553, Op::FsgnjS, [10, 11, 12, 0], 0, 0, "fsgnj.s fa0,fa1,fa2"),
    (0x20c59553, Op::FsgnjnS, [10, 11, 12, 0], 0, 0, "fsgnjn.s fa0,fa1,fa2"),
    (0x20c5a553, Op::FsgnjxS, [10, 11, 12, 0], 0, 0, "fsgnjx.s fa0,fa1,fa2"),
    (0x28c58553, Op::FminS, [10, 11, 12, 0], 0, 0, "fmin.s fa0,fa1,fa2"),
    (0x28c59553, Op::FmaxS, [10, 11, 12, 0], 0, 0, "fmax.s fa0,fa1,fa2"),
    (0xc0059553, Op::FcvtWS, [10, 11, 0, 0], 1, 0, "fcvt.w.s a0,fa1,rtz"),
    (0xc015f553, Op::FcvtWuS, [10, 11, 0, 0], 7, 0, "fcvt.wu.s a0,fa1"),
    (0xc0258553, Op::FcvtLS, [10, 11, 0, 0], 0, 0, "fcvt.l.s a0,fa1,rne"),
    (0xc035a553, Op::FcvtLuS, [10, 11, 0, 0], 2, 0, "fcvt.lu.s a0,fa1,rdn"),
    (0xe0058553, Op::FmvXW, [10, 11, 0, 0], 0, 0, "fmv.x.w a0,fa1"),
    (0xa0c5a553, Op::FeqS, [10, 11, 12, 0], 0, 0, "feq.s a0,fa1,fa2"),
    (0xa0c59553, Op::FltS, [10, 11, 12, 0], 0, 0, "flt.s a0,fa1,fa2"),
    (0xa0c58553, Op::FleS, [10, 11, 12, 0], 0, 0, "fle.s a0,fa1,fa2"),
    (0xe0059553, Op::FclassS, [10, 11, 0, 0], 0, 0, "fclass.s a0,fa1"),
    (0xd005f553, Op::FcvtSW, [10, 11, 0, 0], 7, 0, "fcvt.s.w fa0,a1"),
    (0xd0159553, Op::FcvtSWu, [10, 11, 0, 0], 1, 0, "fcvt.s.wu fa0,a1,rtz"),
    (0xd025b553, Op::FcvtSL, [10, 11, 0, 0], 3, 0, "fcvt.s.l fa0,a1,rup"),
    (0xd035f553, Op::FcvtSLu, [10, 11, 0, 0], 7, 0, "fcvt.s.lu fa0,a1"),
    (0xf0058553, Op::FmvWX, [10, 11, 0, 0], 0, 0, "fmv.w.x fa0,a1"),
    (0x7f813d87, Op::Fld, [27, 2, 0, 0], 0, 2040, "fld fs11,2040(sp)"),
    (0xfea43c27, Op::Fsd, [0, 8, 10, 0], 0, -8, "fsd fa0,-8(s0)"),
    (0x6ac5f543, Op::FmaddD, [10, 11, 12, 13], 7, 0, "fmadd.d fa0,fa1,fa2,fa3"),
    (0x6ac5a547, Op::FmsubD, [10, 11, 12, 13], 2, 0, "fmsub.d fa0,fa1,fa2,fa3,rdn"),
    (0x6ac5f54b, Op::FnmsubD, [10, 11, 12, 13], 7, 0, "fnmsub.d fa0,fa1,fa2,fa3"),
    (0x6ac5b54f, Op::FnmaddD, [10, 11, 12, 13], 3, 0, "fnmadd.d fa0,fa1,fa2,fa3,rup"),
    (0x02c5f553, Op::FaddD, [10, 11, 12, 0], 7, 0, "fadd.d fa0,fa1,fa2"),
    (0x0ac58553, Op::FsubD, [10, 11, 12, 0], 0, 0, "fsub.d fa0,fa1,fa2,rne"),
    (0x12c5f553, Op::FmulD, [10, 11, 12, 0], 7, 0, "fmul.d fa0,fa1,fa2"),
    (0x1ac59553, Op::FdivD, [10, 11, 12, 0], 1, 0, "fdiv.d fa0,fa1,fa2,rtz"),
    (0x5a05f553, Op::FsqrtD, [10, 11, 0, 0], 7, 0, "fsqrt.d fa0,fa1"),
    (0x22c58553, Op::FsgnjD, [10, 11, 12, 0], 0, 0, "fsgnj.d fa0,fa1,fa2"),
    (0x22c59553, Op::FsgnjnD, [10, 11, 12, 0], 0, 0, "fsgnjn.d fa0,fa1,fa2"),
    (0x22c5a553, Op::FsgnjxD, [10, 11, 12, 0], 0, 0, "fsgnjx.d fa0,fa1,fa2"),
    (0x2ac58553, Op::FminD, [10, 11, 12, 0], 0, 0, "fmin.d fa0,fa1,fa2"),
    (0x2ac59553, Op::FmaxD, [10, 11, 12, 0], 0, 0, "fmax.d fa0,fa1,fa2"),
    (0x4015f553, Op::FcvtSD, [10, 11, 0, 0], 7, 0, "fcvt.s.d fa0,fa1"),
    (0x42058553, Op::FcvtDS, [10, 11, 0, 0], 0, 0, "fcvt.d.s fa0,fa1"),
    (0xa2c5a553, Op::FeqD, [10, 11, 12, 0], 0, 0, "feq.d a0,fa1,fa2"),
    (0xa2c59553, Op::FltD, [10, 11, 12, 0], 0, 0, "flt.d a0,fa1,fa2"),
    (0xa2c58553, Op::FleD, [10, 11, 12, 0], 0, 0, "fle.d a0,fa1,fa2"),
    (0xe2059553, Op::FclassD, [10, 11, 0, 0], 0, 0, "fclass.d a0,fa1"),
    (0xc2059553, Op::FcvtWD, [10, 11, 0, 0], 1, 0, "fcvt.w.d a0,fa1,rtz"),
    (0xc215f553, Op::FcvtWuD, [10, 11, 0, 0], 7, 0, "fcvt.wu.d a0,fa1"),
    (0xc225f553, Op::FcvtLD, [10, 11, 0, 0], 7, 0, "fcvt.l.d a0,fa1"),
    (0xc235c553, Op::FcvtLuD, [10, 11, 0, 0], 4, 0, "fcvt.lu.d a0,fa1,rmm"),
    (0xe2058553, Op::FmvXD, [10, 11, 0, 0], 0, 0, "fmv.x.d a0,fa1"),
    (0xd2058553, Op::FcvtDW, [10, 11, 0, 0], 0, 0, "fcvt.d.w fa0,a1"),
    (0xd2158553, Op::FcvtDWu, [10, 11, 0, 0], 0, 0, "fcvt.d.wu fa0,a1"),
    (0xd225f553, Op::FcvtDL, [10, 11, 0, 0], 7, 0, "fcvt.d.l fa0,a1"),
    (0xd2359553, Op::FcvtDLu, [10, 11, 0, 0], 1, 0, "fcvt.d.lu fa0,a1,rtz"),
    (0xf2058553, Op::FmvDX, [10, 11, 0, 0], 0, 0, "fmv.d.x fa0,a1"),
    (0x08c5853b, Op::AddUw, [10, 11, 12, 0], 0, 0, "add.uw a0,a1,a2"),
    (0x20c5a533, Op::Sh1add, [10, 11, 12, 0], 0, 0, "sh1add a0,a1,a2"),
    (0x20c5c533, Op::Sh2add, [10, 11, 12, 0], 0, 0, "sh2add a0,a1,a2"),
    (0x20c5e533, Op::Sh3add, [10, 11, 12, 0], 0, 0, "sh3add a0,a1,a2"),
    (0x20c5a53b, Op::Sh1addUw, [10, 11, 12, 0], 0, 0, "sh1add.uw a0,a1,a2"),
    (0x20c5c53b, Op::Sh2addUw, [10, 11, 12, 0], 0, 0, "sh2add.uw a0,a1,a2"),
    (0x20c5e53b, Op::Sh3addUw, [10, 11, 12, 0], 0, 0, "sh3add.uw a0,a1,a2"),
    (0x0bf5951b, Op::SlliUw, [10, 11, 0, 0], 0, 63, "slli.uw a0,a1,0x3f"),
    (0x40c5f533, Op::Andn, [10, 11, 12, 0], 0, 0, "andn a0,a1,a2"),
    (0x40c5e533, Op::Orn, [10, 11, 12, 0], 0, 0, "orn a0,a1,a2"),
    (0x40c5c533, Op::Xnor, [10, 11, 12, 0], 0, 0, "xnor a0,a1,a2"),
    (0x60059513, Op::Clz, [10, 11, 0, 0], 0, 0, "clz a0,a1"),
    (0x6005951b, Op::Clzw, [10, 11, 0, 0], 0, 0, "clzw a0,a1"),
    (0x60159513, Op::Ctz, [10, 11, 0, 0], 0, 0, "ctz a0,a1"),
    (0x6015951b, Op::Ctzw, [10, 11, 0, 0], 0, 0, "ctzw a0,a1"),
    (0x60259513, Op::Cpop, [10, 11, 0, 0], 0, 0, "cpop a0,a1"),
    (0x6025951b, Op::Cpopw, [10, 11, 0, 0], 0, 0, "cpopw a0,a1"),
    (0x0ac5e533, Op::Max, [10, 11, 12, 0], 0, 0, "max a0,a1,a2"),
    (0x0ac5f533, Op::Maxu, [10, 11, 12, 0], 0, 0, "maxu a0,a1,a2"),
    (0x0ac5c533, Op::Min, [10, 11, 12, 0], 0, 0, "min a0,a1,a2"),
    (0x0ac5d533, Op::Minu, [10, 11, 12, 0], 0, 0, "minu a0,a1,a2"),
    (0x60459513, Op::SextB, [10, 11, 0, 0], 0, 0, "sext.b a0,a1"),
    (0x60559513, Op::SextH, [10, 11, 0, 0], 0, 0, "sext.h a0,a1"),
    (0x0805c53b, Op::ZextH, [10, 11, 0, 0], 0, 0, "zext.h a0,a1"),
    (0x60c59533, Op::Rol, [10, 11, 12, 0], 0, 0, "rol a0,a1,a2"),
    (0x60c5953b, Op::Rolw, [10, 11, 12, 0], 0, 0, "rolw a0,a1,a2"),
    (0x60c5d533, Op::Ror, [10, 11, 12, 0], 0, 0, "ror a0,a1,a2"),
    (0x63f5d513, Op::Rori, [10, 11, 0, 0], 0, 63, "rori a0,a1,0x3f"),
    (0x61f5d51b, Op::Roriw, [10, 11, 0, 0], 0, 31, "roriw a0,a1,0x1f"),
    (0x60c5d53b, Op::Rorw, [10, 11, 12, 0], 0, 0, "rorw a0,a1,a2"),
    (0x2875d513, Op::OrcB, [10, 11, 0, 0], 0, 0, "orc.b a0,a1"),
    (0x6b85d513, Op::Rev8, [10, 11, 0, 0], 0, 0, "rev8 a0,a1"),
    (0x48c59533, Op::Bclr, [10, 11, 12, 0], 0, 0, "bclr a0,a1,a2"),
    (0x4bf59513, Op::Bclri, [10, 11, 0, 0], 0, 63, "bclri a0,a1,0x3f"),
    (0x48c5d533, Op::Bext, [10, 11, 12, 0], 0, 0, "bext a0,a1,a2"),
    (0x4805d513, Op::Bexti, [10, 11, 0, 0], 0, 0, "bexti a0,a1,0x0"),
    (0x68c59533, Op::Binv, [10, 11, 12, 0], 0, 0, "binv a0,a1,a2"),
    (0x69f59513, Op::Binvi, [10, 11, 0, 0], 0, 31, "binvi a0,a1,0x1f"),
    (0x28c59533, Op::Bset, [10, 11, 12, 0], 0, 0, "bset a0,a1,a2"),
    (0x2a059513, Op::Bseti, [10, 11, 0, 0], 0, 32, "bseti a0,a1,0x20"),
    (0x0ec5d533, Op::CzeroEqz, [10, 11, 12, 0], 0, 0, "czero.eqz a0,a1,a2"),
    (0x0ff072b3, Op::CzeroNez, [5, 0, 31, 0], 0, 0, "czero.nez t0,zero,t6"),
    (0xd2059553, Op::FcvtDW, [10, 11, 0, 0], 1, 0, "fcvt.d.w fa0,a1,rtz"),
    (0x4205f553, Op::FcvtDS, [10, 11, 0, 0], 7, 0, "fcvt.d.s fa0,fa1,dyn"),
    (0xd215b553, Op::FcvtDWu, [10, 11, 0, 0], 3, 0, "fcvt.d.wu fa0,a1,rup"),
    ];

    #[test]
    fn known_encodings_decode_to_their_fields_and_text() {
        for &(word, op, [rd, rs1, rs2, rs3], rm, imm, text) in KNOWN {
            let expected = Insn {
                op,
                rd,
                rs1,
                rs2,
                rs3,
                rm,
                len: 4,
                imm,
            };
            let decoded = decode_word(word);
            assert_eq!(decoded, expected, "{word:#010x} ({text})");
            assert_eq!(decode(word), expected, "{word:#010x} via decode");
            assert_eq!(decoded.disasm(0x1000).to_string(), text, "{word:#010x}");
        }
    }

    #[test]
    fn known_encodings_cover_every_operation() {
        let mut seen = [false; Op::LAST as usize + 1];
        for &(_, op, ..) in KNOWN {
            seen[op as usize] = true;
        }
        let missing = (Op::Lui as usize..=Op::LAST as usize).filter(|&index| !seen[index]);
        assert_eq!(
            missing.count(),
            0,
            "every operation from Lui on needs a known encoding"
        );
    }

    /// Reserved encodings, encodings of extensions we do not implement, and privileged
    /// instructions, with why each is illegal.
    #[rustfmt::skip]
    const ILLEGAL: &[(u32, &str)] = &[
    (0x0205951b, "slliw a0,a1,32: shamt[5] set"),
    (0x0205d51b, "srliw a0,a1,32"),
    (0x4205d51b, "sraiw a0,a1,32"),
    (0x6205d51b, "roriw a0,a1,32"),
    (0x04059513, "slli with funct6 = 000001"),
    (0x4405d513, "srai with funct6 = 010001"),
    (0x60359513, "clz group, funct12 0x603"),
    (0x6985d513, "rev8, RV32 encoding"),
    (0x0405d513, "srli with funct6 = 000001"),
    (0x0005a51b, "OP-IMM-32 funct3 = 2"),
    (0x1015252f, "lr.w with rs2 != 0"),
    (0x1655352f, "lr.d.aqrl with rs2 != 0"),
    (0x00c5852f, "amoadd.b (Zabha)"),
    (0x00c5c52f, "AMO with funct3 = 100"),
    (0x28c5a52f, "AMO funct5 00101 (amocas.w, Zacas)"),
    (0x00c5d553, "fadd.s, rm = 5"),
    (0x02c5e553, "fadd.d, rm = 6"),
    (0x6ac5d543, "fmadd.d, rm = 5"),
    (0x6cc5f543, "fmadd.h (fmt = 2)"),
    (0x6ec5f54f, "fnmadd.q (fmt = 3)"),
    (0xc005e553, "fcvt.w.s, rm = 6"),
    (0x4205d553, "fcvt.d.s, rm = 5"),
    (0x5815f553, "fsqrt.s with rs2 != 0"),
    (0x20c5b553, "fsgnj.s with funct3 = 3"),
    (0x28c5a553, "fminm.s (Zfa)"),
    (0xa2c5b553, "feq.d group with funct3 = 3"),
    (0xa2c5c553, "fltq.d (Zfa)"),
    (0x4025f553, "fcvt.s.h"),
    (0x4215f553, "fcvt.d.d (rs2 = 1)"),
    (0xc045f553, "fcvt.w.s with rs2 = 4"),
    (0xe0158553, "fmv.x.w with rs2 != 0"),
    (0xe005a553, "fmv.x.w group with funct3 = 2"),
    (0xe2158553, "fmvh.x.d (Zfa)"),
    (0xf0158553, "fli.s (Zfa)"),
    (0xf2059553, "fmv.d.x with funct3 = 1"),
    (0x04c5f553, "OP-FP fmt = 2 (half)"),
    (0x00059507, "flh (Zfh)"),
    (0x0005c507, "flq"),
    (0x00058507, "vector load"),
    (0x00a59027, "fsh"),
    (0x0ac59533, "clmul (Zbc)"),
    (0x40c59533, "OP funct7 0x20 funct3 1"),
    (0x0ec58533, "Zicond funct7 with funct3 = 0"),
    (0x08c5c533, "pack (Zbkb)"),
    (0x08c5c53b, "packw (Zbkb): zext.h with rs2 != 0"),
    (0x02c5953b, "mulw group, funct3 = 1"),
    (0x08c5953b, "add.uw group, funct3 = 1"),
    (0x20c5853b, "sh*add.uw group, funct3 = 0"),
    (0x0005a563, "branch funct3 = 2"),
    (0x0005b563, "branch funct3 = 3"),
    (0x00059567, "jalr funct3 = 1"),
    (0x0005f503, "load funct3 = 7"),
    (0x00a5c023, "store funct3 = 4"),
    (0x30200073, "mret"),
    (0x10200073, "sret"),
    (0x10500073, "wfi"),
    (0x12000073, "sfence.vma zero,zero"),
    (0x00000573, "ecall with rd != 0"),
    (0x00158073, "ebreak with rs1 != 0"),
    (0x00004073, "SYSTEM funct3 = 4 (hypervisor loads use it)"),
    (0x0010200f, "cbo.clean (Zicbom)"),
    (0x0000200f, "cbo.inval (Zicbom)"),
    (0x0000000b, "custom-0"),
    (0x00000057, "OP-V"),
    (0x0000005b, "custom-2"),
    (0x0000007b, "custom-3"),
    (0x0000001f, "48-bit prefix"),
    (0x0000003f, "64-bit prefix"),
    (0x0000007f, ">= 80-bit prefix"),
    (0x00000077, "OP-P / reserved"),
    (0x0000006b, "reserved opcode 0x6b"),
    (0xffffffff, "all ones"),
    ];

    #[test]
    fn reserved_and_unsupported_encodings_are_illegal() {
        for &(word, why) in ILLEGAL {
            assert_eq!(
                decode_word(word),
                Insn::illegal(word, 4),
                "{word:#010x}: {why}"
            );
        }
    }

    #[test]
    fn ignored_fence_fields_do_not_make_fences_illegal() {
        // rd = a0, rs1 = a1 in a fence; fm = 0101 (reserved, acts as a normal fence)
        assert_eq!(decode_word(0x0ff5850f).op, Op::Fence);
        assert_eq!(decode_word(0x0ff5850f).imm, 0x0ff);
        assert_eq!(decode_word(0x5ff0000f).imm, 0x5ff);
        // fence.i with imm, rs1 and rd set
        assert_eq!(decode_word(0xfff5950f), insn(Op::FenceI, 0, 0, 0, 0));
    }

    #[test]
    fn csr_numbers_are_unsigned() {
        let decoded = decode_word(0xfff5a573); // csrrs a0,0xfff,a1
        assert_eq!(
            (decoded.op, decoded.imm, decoded.rs1),
            (Op::Csrrs, 0xfff, 11)
        );
        let decoded = decode_word(0x80bfe573); // csrrsi a0,0x80b,31
        assert_eq!(
            (decoded.op, decoded.imm, decoded.rs1),
            (Op::Csrrsi, 0x80b, 31)
        );
    }

    #[test]
    fn instruction_length_follows_the_low_bits() {
        for low in 0..=u16::MAX {
            let expected = if low & 3 == 3 { 4 } else { 2 };
            assert_eq!(instruction_length(low), expected);
        }
    }

    /// What must hold for any decoded word, legal or not.
    fn check_invariants(word: u32, decoded: Insn) {
        assert_ne!(decoded.op, Op::Undecoded, "{word:#010x}");
        assert_eq!(decoded.len, 4, "{word:#010x}");
        if decoded.op == Op::Illegal {
            assert_eq!(decoded, Insn::illegal(word, 4));
            return;
        }
        assert!(decoded.rd < 32 && decoded.rs1 < 32 && decoded.rs2 < 32 && decoded.rs3 < 32);
        assert!(
            decoded.rm <= 7 && decoded.rm != 5 && decoded.rm != 6,
            "{word:#010x}"
        );
        let is_fused = matches!(word & 0x7f, 0x43 | 0x47 | 0x4b | 0x4f);
        if !is_fused {
            assert_eq!(decoded.rs3, 0, "{word:#010x}");
        }
        if !matches!(word & 0x7f, 0x2f | 0x53) && !is_fused {
            assert_eq!(decoded.rm, 0, "{word:#010x}");
        }
        assert_eq!(decode(word), decoded);
    }

    #[test]
    fn every_opcode_funct3_funct7_combination_decodes_without_panicking() {
        let mut legal = 0usize;
        for opcode in (0..128u32).filter(|opcode| opcode & 3 == 3) {
            for funct3 in 0..8 {
                for funct7 in 0..128 {
                    for (rs2, rs1, rd) in
                        [(0, 0, 0), (1, 11, 10), (2, 31, 1), (3, 5, 31), (31, 1, 2)]
                    {
                        let word =
                            funct7 << 25 | rs2 << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode;
                        let decoded = decode_word(word);
                        check_invariants(word, decoded);
                        legal += usize::from(decoded.op != Op::Illegal);
                    }
                }
            }
        }
        assert!(legal > 40_000, "suspiciously few legal encodings: {legal}");
    }

    #[test]
    fn random_words_decode_without_panicking() {
        let mut state = 0x1234_5678_9abc_def0u64;
        for _ in 0..1_000_000 {
            // xorshift64*: cheap, deterministic, good enough to scatter the bits
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let word = (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32 | 3;
            check_invariants(word, decode_word(word));
        }
    }
}
