//! Expansion of RV64C (compressed) encodings into their base-ISA operations.
use super::{Insn, Op};

const ZERO: u8 = 0;
const RA: u8 = 1;
const SP: u8 = 2;

/// Bits `high..=low` of `half`, shifted down to bit 0.
const fn bits(half: u16, high: u32, low: u32) -> u32 {
    ((half as u32) >> low) & ((1 << (high - low + 1)) - 1)
}

/// Bit `from` of `half`, moved to bit `to` of an immediate.
const fn bit_to(half: u16, from: u32, to: u32) -> u32 {
    bits(half, from, from) << to
}

/// Sign-extend the low `width` bits of `value`.
const fn sign_extend(value: u32, width: u32) -> i32 {
    ((value << (32 - width)) as i32) >> (32 - width)
}

/// Full register number of a 3-bit `rd'`/`rs1'`/`rs2'` field at bits `low + 2..=low`
/// (x8..=x15 or f8..=f15).
const fn compact_register(half: u16, low: u32) -> u8 {
    8 + bits(half, low + 2, low) as u8
}

/// The 5-bit rd/rs1 field of CR/CI forms.
const fn rd_full(half: u16) -> u8 {
    bits(half, 11, 7) as u8
}

/// The 5-bit rs2 field of CR/CSS forms.
const fn rs2_full(half: u16) -> u8 {
    bits(half, 6, 2) as u8
}

/// The 6-bit signed immediate of CI-format arithmetic (imm[5] in bit 12, imm[4:0] in bits 6:2).
const fn ci_immediate(half: u16) -> i32 {
    sign_extend(bit_to(half, 12, 5) | bits(half, 6, 2), 6)
}

/// The 6-bit shift amount of c.slli/c.srli/c.srai.
const fn ci_shift_amount(half: u16) -> i32 {
    (bit_to(half, 12, 5) | bits(half, 6, 2)) as i32
}

/// Offset of c.lw/c.sw: uimm[5:3] in bits 12:10, uimm[2] in bit 6, uimm[6] in bit 5.
const fn word_offset(half: u16) -> i32 {
    ((bits(half, 12, 10) << 3) | bit_to(half, 6, 2) | bit_to(half, 5, 6)) as i32
}

/// Offset of c.ld/c.sd/c.fld/c.fsd: uimm[5:3] in bits 12:10, uimm[7:6] in bits 6:5.
const fn double_offset(half: u16) -> i32 {
    ((bits(half, 12, 10) << 3) | (bits(half, 6, 5) << 6)) as i32
}

/// Offset of c.lwsp: uimm[5] in bit 12, uimm[4:2] in bits 6:4, uimm[7:6] in bits 3:2.
const fn word_sp_load_offset(half: u16) -> i32 {
    (bit_to(half, 12, 5) | (bits(half, 6, 4) << 2) | (bits(half, 3, 2) << 6)) as i32
}

/// Offset of c.ldsp/c.fldsp: uimm[5] in bit 12, uimm[4:3] in bits 6:5, uimm[8:6] in bits 4:2.
const fn double_sp_load_offset(half: u16) -> i32 {
    (bit_to(half, 12, 5) | (bits(half, 6, 5) << 3) | (bits(half, 4, 2) << 6)) as i32
}

/// Offset of c.swsp: uimm[5:2] in bits 12:9, uimm[7:6] in bits 8:7.
const fn word_sp_store_offset(half: u16) -> i32 {
    ((bits(half, 12, 9) << 2) | (bits(half, 8, 7) << 6)) as i32
}

/// Offset of c.sdsp/c.fsdsp: uimm[5:3] in bits 12:10, uimm[8:6] in bits 9:7.
const fn double_sp_store_offset(half: u16) -> i32 {
    ((bits(half, 12, 10) << 3) | (bits(half, 9, 7) << 6)) as i32
}

/// Immediate of c.addi4spn: nzuimm[5:4|9:6|2|3] in bits 12:5.
const fn addi4spn_immediate(half: u16) -> i32 {
    ((bits(half, 12, 11) << 4) | (bits(half, 10, 7) << 6) | bit_to(half, 6, 2) | bit_to(half, 5, 3))
        as i32
}

/// Immediate of c.addi16sp: nzimm[9] in bit 12, nzimm[4|6|8:7|5] in bits 6:2.
const fn addi16sp_immediate(half: u16) -> i32 {
    sign_extend(
        bit_to(half, 12, 9)
            | bit_to(half, 6, 4)
            | bit_to(half, 5, 6)
            | (bits(half, 4, 3) << 7)
            | bit_to(half, 2, 5),
        10,
    )
}

/// Offset of c.j: imm[11|4|9:8|10|6|7|3:1|5] in bits 12:2.
const fn jump_offset(half: u16) -> i32 {
    sign_extend(
        bit_to(half, 12, 11)
            | bit_to(half, 11, 4)
            | (bits(half, 10, 9) << 8)
            | bit_to(half, 8, 10)
            | bit_to(half, 7, 6)
            | bit_to(half, 6, 7)
            | (bits(half, 5, 3) << 1)
            | bit_to(half, 2, 5),
        12,
    )
}

/// Offset of c.beqz/c.bnez: imm[8|4:3] in bits 12:10, imm[7:6|2:1|5] in bits 6:2.
const fn branch_offset(half: u16) -> i32 {
    sign_extend(
        bit_to(half, 12, 8)
            | (bits(half, 11, 10) << 3)
            | (bits(half, 6, 5) << 6)
            | (bits(half, 4, 3) << 1)
            | bit_to(half, 2, 5),
        9,
    )
}

const fn expanded(op: Op, rd: u8, rs1: u8, rs2: u8, imm: i32) -> Insn {
    Insn {
        op,
        rd,
        rs1,
        rs2,
        rs3: 0,
        rm: 0,
        len: 2,
        imm,
    }
}

/// Expand a 16-bit encoding (whose low two bits are not `11`). Reserved encodings,
/// and the RV32-only or unimplemented ones, become `Op::Illegal`; legal HINTs
/// expand like their non-hint siblings.
pub(super) fn expand(half: u16) -> Insn {
    let expansion = match (half & 3, bits(half, 15, 13)) {
        (0, funct3) => expand_quadrant0(half, funct3),
        (1, funct3) => expand_quadrant1(half, funct3),
        (2, funct3) => expand_quadrant2(half, funct3),
        _ => None,
    };
    expansion.unwrap_or(Insn::illegal(half as u32, 2))
}

fn expand_quadrant0(half: u16, funct3: u32) -> Option<Insn> {
    let rd_or_rs2 = compact_register(half, 2);
    let rs1 = compact_register(half, 7);
    let load = |op, offset| Some(expanded(op, rd_or_rs2, rs1, 0, offset));
    let store = |op, offset| Some(expanded(op, 0, rs1, rd_or_rs2, offset));
    match funct3 {
        0 => {
            // nzuimm = 0 is reserved; it also covers the all-zero "defined illegal" word.
            let imm = addi4spn_immediate(half);
            if imm == 0 {
                return None;
            }
            Some(expanded(Op::Addi, rd_or_rs2, SP, 0, imm))
        }
        1 => load(Op::Fld, double_offset(half)),
        2 => load(Op::Lw, word_offset(half)),
        3 => load(Op::Ld, double_offset(half)),
        5 => store(Op::Fsd, double_offset(half)),
        6 => store(Op::Sw, word_offset(half)),
        7 => store(Op::Sd, double_offset(half)),
        _ => None,
    }
}

fn expand_quadrant1(half: u16, funct3: u32) -> Option<Insn> {
    let rd = rd_full(half);
    let imm = ci_immediate(half);
    match funct3 {
        0 => Some(expanded(Op::Addi, rd, rd, 0, imm)),
        1 if rd != ZERO => Some(expanded(Op::Addiw, rd, rd, 0, imm)),
        2 => Some(expanded(Op::Addi, rd, ZERO, 0, imm)),
        3 if rd == SP => match addi16sp_immediate(half) {
            0 => None,
            offset => Some(expanded(Op::Addi, SP, SP, 0, offset)),
        },
        3 => match imm {
            0 => None,
            _ => Some(expanded(Op::Lui, rd, 0, 0, imm << 12)),
        },
        4 => expand_quadrant1_arithmetic(half),
        5 => Some(expanded(Op::Jal, ZERO, 0, 0, jump_offset(half))),
        6 => Some(expanded(
            Op::Beq,
            0,
            compact_register(half, 7),
            ZERO,
            branch_offset(half),
        )),
        7 => Some(expanded(
            Op::Bne,
            0,
            compact_register(half, 7),
            ZERO,
            branch_offset(half),
        )),
        _ => None,
    }
}

/// c.srli, c.srai, c.andi and the register-register forms (c.sub … c.addw).
fn expand_quadrant1_arithmetic(half: u16) -> Option<Insn> {
    let rd = compact_register(half, 7);
    let rs2 = compact_register(half, 2);
    let op = match (bits(half, 11, 10), bits(half, 12, 12), bits(half, 6, 5)) {
        (0, _, _) => return Some(expanded(Op::Srli, rd, rd, 0, ci_shift_amount(half))),
        (1, _, _) => return Some(expanded(Op::Srai, rd, rd, 0, ci_shift_amount(half))),
        (2, _, _) => return Some(expanded(Op::Andi, rd, rd, 0, ci_immediate(half))),
        (_, 0, 0) => Op::Sub,
        (_, 0, 1) => Op::Xor,
        (_, 0, 2) => Op::Or,
        (_, 0, 3) => Op::And,
        (_, 1, 0) => Op::Subw,
        (_, 1, 1) => Op::Addw,
        _ => return None,
    };
    Some(expanded(op, rd, rd, rs2, 0))
}

fn expand_quadrant2(half: u16, funct3: u32) -> Option<Insn> {
    let rd = rd_full(half);
    let rs2 = rs2_full(half);
    match funct3 {
        0 => Some(expanded(Op::Slli, rd, rd, 0, ci_shift_amount(half))),
        1 => Some(expanded(Op::Fld, rd, SP, 0, double_sp_load_offset(half))),
        2 if rd != ZERO => Some(expanded(Op::Lw, rd, SP, 0, word_sp_load_offset(half))),
        3 if rd != ZERO => Some(expanded(Op::Ld, rd, SP, 0, double_sp_load_offset(half))),
        4 => {
            let rs1 = rd;
            match (bits(half, 12, 12), rs1, rs2) {
                (0, ZERO, ZERO) => None,
                (0, _, ZERO) => Some(expanded(Op::Jalr, ZERO, rs1, 0, 0)),
                (0, _, _) => Some(expanded(Op::Add, rd, ZERO, rs2, 0)),
                (_, ZERO, ZERO) => Some(expanded(Op::Ebreak, 0, 0, 0, 0)),
                (_, _, ZERO) => Some(expanded(Op::Jalr, RA, rs1, 0, 0)),
                (_, _, _) => Some(expanded(Op::Add, rd, rd, rs2, 0)),
            }
        }
        5 => Some(expanded(Op::Fsd, 0, SP, rs2, double_sp_store_offset(half))),
        6 => Some(expanded(Op::Sw, 0, SP, rs2, word_sp_store_offset(half))),
        7 => Some(expanded(Op::Sd, 0, SP, rs2, double_sp_store_offset(half))),
        _ => None,
    }
}
