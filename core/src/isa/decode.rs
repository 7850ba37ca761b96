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
