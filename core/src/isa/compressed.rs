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

#[cfg(test)]
mod tests {
    extern crate std;

    use std::string::ToString;

    use super::*;
    use crate::isa::decode_word;

    /// Every RV64C form (plus legal HINTs, given as raw words) next to its 32-bit
    /// expansion, both assembled by `riscv64-linux-gnu-as` 2.40 from the text in the
    /// comment and in the third column (branch targets relative to pc 0x1000).
    #[rustfmt::skip]
    const PAIRS: &[(u16, u32, &str)] = &[
    (0x0048, 0x00410513, "addi a0,sp,4"), // c.addi4spn a0,sp,4
    (0x1fe0, 0x3fc10413, "addi s0,sp,1020"), // c.addi4spn s0,sp,1020
    (0x3de8, 0x0f85b507, "fld fa0,248(a1)"), // c.fld fa0,248(a1)
    (0x2080, 0x0004b407, "fld fs0,0(s1)"), // c.fld fs0,0(s1)
    (0x5f7c, 0x07c72783, "lw a5,124(a4)"), // c.lw a5,124(a4)
    (0x40c0, 0x0044a403, "lw s0,4(s1)"), // c.lw s0,4(s1)
    (0x7de8, 0x0f85b503, "ld a0,248(a1)"), // c.ld a0,248(a1)
    (0x6690, 0x0086b603, "ld a2,8(a3)"), // c.ld a2,8(a3)
    (0xbc7c, 0x0ef43c27, "fsd fa5,248(s0)"), // c.fsd fa5,248(s0)
    (0xdde8, 0x06a5ae23, "sw a0,124(a1)"), // c.sw a0,124(a1)
    (0xe3d8, 0x08e7b023, "sd a4,128(a5)"), // c.sd a4,128(a5)
    (0x0001, 0x00000013, "addi zero,zero,0"), // c.nop
    (0x1501, 0xfe050513, "addi a0,a0,-32"), // c.addi a0,-32
    (0x017d, 0x01f10113, "addi sp,sp,31"), // c.addi sp,31
    (0x357d, 0xfff5051b, "addiw a0,a0,-1"), // c.addiw a0,-1
    (0x2f81, 0x000f8f9b, "addiw t6,t6,0"), // c.addiw t6,0
    (0x5501, 0xfe000513, "addi a0,zero,-32"), // c.li a0,-32
    (0x40fd, 0x01f00093, "addi ra,zero,31"), // c.li ra,31
    (0x7101, 0xe0010113, "addi sp,sp,-512"), // c.addi16sp sp,-512
    (0x617d, 0x1f010113, "addi sp,sp,496"), // c.addi16sp sp,496
    (0x6141, 0x01010113, "addi sp,sp,16"), // c.addi16sp sp,16
    (0x6505, 0x00001537, "lui a0,0x1"), // c.lui a0,0x1
    (0x6ffd, 0x0001ffb7, "lui t6,0x1f"), // c.lui t6,0x1f
    (0x7081, 0xfffe00b7, "lui ra,0xfffe0"), // c.lui ra,0xfffe0
    (0x747d, 0xfffff437, "lui s0,0xfffff"), // c.lui s0,0xfffff
    (0x8105, 0x00155513, "srli a0,a0,0x1"), // c.srli a0,1
    (0x90fd, 0x03f4d493, "srli s1,s1,0x3f"), // c.srli s1,63
    (0x9781, 0x4207d793, "srai a5,a5,0x20"), // c.srai a5,32
    (0x9901, 0xfe057513, "andi a0,a0,-32"), // c.andi a0,-32
    (0x887d, 0x01f47413, "andi s0,s0,31"), // c.andi s0,31
    (0x8d0d, 0x40b50533, "sub a0,a0,a1"), // c.sub a0,a1
    (0x8c3d, 0x00f44433, "xor s0,s0,a5"), // c.xor s0,a5
    (0x8e55, 0x00d66633, "or a2,a2,a3"), // c.or a2,a3
    (0x8f65, 0x00977733, "and a4,a4,s1"), // c.and a4,s1
    (0x9d0d, 0x40b5053b, "subw a0,a0,a1"), // c.subw a0,a1
    (0x9fa1, 0x008787bb, "addw a5,a5,s0"), // c.addw a5,s0
    (0xaffd, 0x7fe0006f, "jal zero,0x17fe"), // c.j .+2046
    (0xb001, 0x801ff06f, "jal zero,0x800"), // c.j .-2048
    (0xcd7d, 0x0e050f63, "beq a0,zero,0x10fe"), // c.beqz a0,.+254
    (0xd081, 0xf00480e3, "beq s1,zero,0xf00"), // c.beqz s1,.-256
    (0xe389, 0x00079163, "bne a5,zero,0x1002"), // c.bnez a5,.+2
    (0x0506, 0x00151513, "slli a0,a0,0x1"), // c.slli a0,1
    (0x1ffe, 0x03ff9f93, "slli t6,t6,0x3f"), // c.slli t6,63
    (0x357e, 0x1f813507, "fld fa0,504(sp)"), // c.fldsp fa0,504(sp)
    (0x2002, 0x00013007, "fld ft0,0(sp)"), // c.fldsp ft0,0(sp)
    (0x50fe, 0x0fc12083, "lw ra,252(sp)"), // c.lwsp ra,252(sp)
    (0x4f82, 0x00012f83, "lw t6,0(sp)"), // c.lwsp t6,0(sp)
    (0x747e, 0x1f813403, "ld s0,504(sp)"), // c.ldsp s0,504(sp)
    (0x6522, 0x00813503, "ld a0,8(sp)"), // c.ldsp a0,8(sp)
    (0x8082, 0x00008067, "jalr zero,0(ra)"), // c.jr ra
    (0x8f82, 0x000f8067, "jalr zero,0(t6)"), // c.jr t6
    (0x852e, 0x00b00533, "add a0,zero,a1"), // c.mv a0,a1
    (0x817e, 0x01f00133, "add sp,zero,t6"), // c.mv sp,t6
    (0x9002, 0x00100073, "ebreak"), // c.ebreak
    (0x9502, 0x000500e7, "jalr ra,0(a0)"), // c.jalr a0
    (0x9082, 0x000080e7, "jalr ra,0(ra)"), // c.jalr ra
    (0x952e, 0x00b50533, "add a0,a0,a1"), // c.add a0,a1
    (0x9f8a, 0x002f8fb3, "add t6,t6,sp"), // c.add t6,sp
    (0xbfee, 0x1fb13c27, "fsd fs11,504(sp)"), // c.fsdsp fs11,504(sp)
    (0xa02a, 0x00a13027, "fsd fa0,0(sp)"), // c.fsdsp fa0,0(sp)
    (0xdfaa, 0x0ea12e23, "sw a0,252(sp)"), // c.swsp a0,252(sp)
    (0xc002, 0x00012023, "sw zero,0(sp)"), // c.swsp zero,0(sp)
    (0xff86, 0x1e113c23, "sd ra,504(sp)"), // c.sdsp ra,504(sp)
    (0xe422, 0x00813423, "sd s0,8(sp)"), // c.sdsp s0,8(sp)
    (0x0015, 0x00500013, "addi zero,zero,5"), // .2byte 0x0015
    (0x1001, 0xfe000013, "addi zero,zero,-32"), // .2byte 0x1001
    (0x0001, 0x00000013, "addi zero,zero,0"), // .2byte 0x0001
    (0x0501, 0x00050513, "addi a0,a0,0"), // .2byte 0x0501
    (0x4005, 0x00100013, "addi zero,zero,1"), // .2byte 0x4005
    (0x802a, 0x00a00033, "add zero,zero,a0"), // .2byte 0x802a
    (0x902a, 0x00a00033, "add zero,zero,a0"), // .2byte 0x902a
    (0x0006, 0x00101013, "slli zero,zero,0x1"), // .2byte 0x0006
    (0x0502, 0x00051513, "slli a0,a0,0x0"), // .2byte 0x0502
    (0x8101, 0x00055513, "srli a0,a0,0x0"), // .2byte 0x8101
    (0x8501, 0x40055513, "srai a0,a0,0x0"), // .2byte 0x8501
    (0x6005, 0x00001037, "lui zero,0x1"), // .2byte 0x6005
    ];

    #[test]
    fn compressed_forms_expand_to_their_32_bit_equivalents() {
        for &(half, word, text) in PAIRS {
            let expected = Insn {
                len: 2,
                ..decode_word(word)
            };
            assert_ne!(expected.op, Op::Illegal, "{word:#010x}");
            assert_eq!(expand(half), expected, "{half:#06x} ({text})");
            assert_eq!(expand(half).disasm(0x1000).to_string(), text, "{half:#06x}");
        }
    }

    #[rustfmt::skip]
    const RESERVED: &[(u16, &str)] = &[
        (0x0000, "all zeros: the defined illegal instruction"),
        (0x0004, "c.addi4spn with nzuimm = 0"),
        (0x001c, "c.addi4spn with nzuimm = 0, rd' = a5"),
        (0x8000, "quadrant 0 funct3 = 100 (Zcb loads/stores)"),
        (0x9c41, "c.mul (Zcb)"),
        (0x9c61, "quadrant 1 funct3 = 100, funct6 100111, funct2 11 (Zcb)"),
        (0x2001, "c.addiw with rd = 0"),
        (0x307d, "c.addiw with rd = 0, imm = -1"),
        (0x6101, "c.addi16sp with nzimm = 0"),
        (0x6081, "c.lui ra with nzimm = 0"),
        (0x6001, "c.lui zero with nzimm = 0"),
        (0x4002, "c.lwsp with rd = 0"),
        (0x507e, "c.lwsp with rd = 0, offset 252"),
        (0x6002, "c.ldsp with rd = 0"),
        (0x8002, "c.jr with rs1 = 0"),
        (0x0003, "low bits 11: not a compressed encoding"),
        (0xffff, "all ones"),
    ];

    #[test]
    fn reserved_encodings_are_illegal() {
        for &(half, why) in RESERVED {
            assert_eq!(
                expand(half),
                Insn::illegal(u32::from(half), 2),
                "{half:#06x}: {why}"
            );
        }
    }

    #[test]
    fn every_16_bit_word_expands_without_panicking() {
        let mut legal = 0u32;
        for half in 0..=u16::MAX {
            let expanded = expand(half);
            assert_eq!(expanded.len, 2, "{half:#06x}");
            assert_ne!(expanded.op, Op::Undecoded, "{half:#06x}");
            assert_eq!(crate::isa::decode_compressed(half), expanded);
            if expanded.op == Op::Illegal {
                assert_eq!(expanded, Insn::illegal(u32::from(half), 2));
                continue;
            }
            legal += 1;
            assert_ne!(half & 3, 3, "{half:#06x}");
            assert!(expanded.rd < 32 && expanded.rs1 < 32 && expanded.rs2 < 32);
            assert_eq!((expanded.rs3, expanded.rm), (0, 0), "{half:#06x}");
            // RVC only abbreviates these; anything else means a misrouted field.
            assert!(
                matches!(
                    expanded.op,
                    Op::Addi
                        | Op::Addiw
                        | Op::Lui
                        | Op::Slli
                        | Op::Srli
                        | Op::Srai
                        | Op::Andi
                        | Op::Add
                        | Op::Sub
                        | Op::Xor
                        | Op::Or
                        | Op::And
                        | Op::Addw
                        | Op::Subw
                        | Op::Jal
                        | Op::Jalr
                        | Op::Beq
                        | Op::Bne
                        | Op::Ebreak
                        | Op::Lw
                        | Op::Ld
                        | Op::Sw
                        | Op::Sd
                        | Op::Fld
                        | Op::Fsd
                ),
                "{half:#06x}: {:?}",
                expanded.op
            );
        }
        // 3 quadrants x 8 funct3 x 8192, minus the reserved corners
        assert!(
            legal > 45_000,
            "suspiciously few legal compressed words: {legal}"
        );
    }
}
