//! GNU-syntax disassembly of decoded instructions (used by the objdump oracle and tracing).
//!
//! The output follows `objdump -d -M no-aliases`: ABI register names, canonical
//! mnemonics, decimal offsets and immediates, hexadecimal shift amounts and upper
//! immediates, absolute `0x…` targets for branches and jumps. Compressed instructions
//! print as their 32-bit expansion (`addi a0,a0,1`, not `c.addi a0,1`).
//!
//! Deliberate differences from binutils 2.40: an empty fence set prints as `0` (2.40
//! says `unknown`), CSRs outside the unprivileged range print as numbers, and
//! `fcvt.d.s`/`fcvt.d.w`/`fcvt.d.wu` print a non-default rounding mode (2.40 cannot
//! decode those at all).
use core::fmt;

use super::{Insn, Op};

/// Formats an instruction in GNU syntax; `pc` is its address, used for branch and jump targets.
#[derive(Clone, Copy, Debug)]
pub struct Disasm {
    pub insn: Insn,
    pub pc: u64,
}

impl Disasm {
    pub const fn new(insn: Insn, pc: u64) -> Disasm {
        Disasm { insn, pc }
    }
}

impl Insn {
    /// A `Display`able GNU-syntax rendering of this instruction at address `pc`.
    pub const fn disasm(self, pc: u64) -> Disasm {
        Disasm::new(self, pc)
    }
}

const INT_REGISTER_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

const FP_REGISTER_NAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

/// ABI name of integer register `number` (only its low five bits are used).
pub fn int_register_name(number: u8) -> &'static str {
    INT_REGISTER_NAMES[usize::from(number & 31)]
}

/// ABI name of floating-point register `number` (only its low five bits are used).
pub fn fp_register_name(number: u8) -> &'static str {
    FP_REGISTER_NAMES[usize::from(number & 31)]
}

/// Name of a rounding-mode field value, as the assembler spells it.
pub fn rounding_mode_name(rm: u8) -> &'static str {
    match rm {
        0 => "rne",
        1 => "rtz",
        2 => "rdn",
        3 => "rup",
        4 => "rmm",
        7 => "dyn",
        _ => "unknown",
    }
}

/// Name of an unprivileged CSR (privilege bits 9:8 zero), the only ones a user-mode
/// program can reach; `None` for everything else.
pub fn csr_name(csr: u16) -> Option<&'static str> {
    const COUNTERS: [&str; 32] = [
        "cycle",
        "time",
        "instret",
        "hpmcounter3",
        "hpmcounter4",
        "hpmcounter5",
        "hpmcounter6",
        "hpmcounter7",
        "hpmcounter8",
        "hpmcounter9",
        "hpmcounter10",
        "hpmcounter11",
        "hpmcounter12",
        "hpmcounter13",
        "hpmcounter14",
        "hpmcounter15",
        "hpmcounter16",
        "hpmcounter17",
        "hpmcounter18",
        "hpmcounter19",
        "hpmcounter20",
        "hpmcounter21",
        "hpmcounter22",
        "hpmcounter23",
        "hpmcounter24",
        "hpmcounter25",
        "hpmcounter26",
        "hpmcounter27",
        "hpmcounter28",
        "hpmcounter29",
        "hpmcounter30",
        "hpmcounter31",
    ];
    // The RV32-only upper halves, 0xc80.., named like their counters plus `h`.
    const COUNTERS_HIGH: [&str; 32] = [
        "cycleh",
        "timeh",
        "instreth",
        "hpmcounter3h",
        "hpmcounter4h",
        "hpmcounter5h",
        "hpmcounter6h",
        "hpmcounter7h",
        "hpmcounter8h",
        "hpmcounter9h",
        "hpmcounter10h",
        "hpmcounter11h",
        "hpmcounter12h",
        "hpmcounter13h",
        "hpmcounter14h",
        "hpmcounter15h",
        "hpmcounter16h",
        "hpmcounter17h",
        "hpmcounter18h",
        "hpmcounter19h",
        "hpmcounter20h",
        "hpmcounter21h",
        "hpmcounter22h",
        "hpmcounter23h",
        "hpmcounter24h",
        "hpmcounter25h",
        "hpmcounter26h",
        "hpmcounter27h",
        "hpmcounter28h",
        "hpmcounter29h",
        "hpmcounter30h",
        "hpmcounter31h",
    ];
    let name = match csr {
        0x001 => "fflags",
        0x002 => "frm",
        0x003 => "fcsr",
        0x008 => "vstart",
        0x009 => "vxsat",
        0x00a => "vxrm",
        0x00f => "vcsr",
        0x015 => "seed",
        0xc00..=0xc1f => COUNTERS[usize::from(csr - 0xc00)],
        0xc20 => "vl",
        0xc21 => "vtype",
        0xc22 => "vlenb",
        0xc80..=0xc9f => COUNTERS_HIGH[usize::from(csr - 0xc80)],
        _ => return None,
    };
    Some(name)
}

/// How an operation's operands are laid out after the mnemonic.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// No operands: `ecall`, `fence.i`.
    Bare,
    /// `rd,rs1,rs2`, all integer.
    IntRRR,
    /// `rd,rs1,imm` with a decimal immediate.
    IntRRImm,
    /// `rd,rs1,0x…` with a hexadecimal shift amount or bit index.
    IntRRShift,
    /// `rd,rs1`, both integer.
    IntRR,
    /// `rd,0x…` with the upper 20 bits of the immediate.
    Upper,
    /// `rd,target`.
    Jump,
    /// `rs1,rs2,target`.
    Branch,
    /// `rd,imm(rs1)`: integer loads and `jalr`.
    IntLoad,
    /// `rs2,imm(rs1)`: integer stores.
    IntStore,
    /// `frd,imm(rs1)`.
    FpLoad,
    /// `frs2,imm(rs1)`.
    FpStore,
    /// `pred,succ`, or nothing for `fence.tso`.
    Fence,
    /// `rd,csr,rs1`.
    Csr,
    /// `rd,csr,zimm`.
    CsrImm,
    /// `rd,(rs1)`.
    LoadReserved,
    /// `rd,rs2,(rs1)`: store-conditional and AMOs.
    Atomic,
    /// `frd,frs1,frs2[,rm]`.
    FpRRRRounded,
    /// `frd,frs1,frs2,frs3[,rm]`.
    FpFused,
    /// `frd,frs1,frs2`.
    FpRRR,
    /// `frd,frs1[,rm]`.
    FpRRRounded,
    /// `frd,frs1`, printing the rounding mode only when it is not 0 (exact conversions).
    FpRRExact,
    /// `rd,frs1,frs2`.
    FpCompare,
    /// `rd,frs1[,rm]`.
    FpToIntRounded,
    /// `rd,frs1`.
    FpToInt,
    /// `frd,rs1[,rm]`.
    IntToFpRounded,
    /// `frd,rs1`, printing the rounding mode only when it is not 0 (exact conversions).
    IntToFpExact,
    /// `frd,rs1`.
    IntToFp,
    /// `.4byte 0x…` / `.2byte 0x…`.
    Raw,
}

/// The canonical mnemonic of `op` (for atomics without the `.aq`/`.rl` suffix).
pub fn mnemonic(op: Op) -> &'static str {
    spelling(op).0
}

fn spelling(op: Op) -> (&'static str, Layout) {
    use Layout::*;
    match op {
        Op::Undecoded => ("<undecoded>", Bare),
        Op::Illegal => ("<illegal>", Raw),

        Op::Lui => ("lui", Upper),
        Op::Auipc => ("auipc", Upper),
        Op::Jal | Op::JalFolded => ("jal", Jump),
        Op::Jalr => ("jalr", IntLoad),
        Op::Beq => ("beq", Branch),
        Op::Bne => ("bne", Branch),
        Op::Blt => ("blt", Branch),
        Op::Bge => ("bge", Branch),
        Op::Bltu => ("bltu", Branch),
        Op::Bgeu => ("bgeu", Branch),
        Op::Lb => ("lb", IntLoad),
        Op::Lh => ("lh", IntLoad),
        Op::Lw => ("lw", IntLoad),
        Op::Ld => ("ld", IntLoad),
        Op::Lbu => ("lbu", IntLoad),
        Op::Lhu => ("lhu", IntLoad),
        Op::Lwu => ("lwu", IntLoad),
        Op::Sb => ("sb", IntStore),
        Op::Sh => ("sh", IntStore),
        Op::Sw => ("sw", IntStore),
        Op::Sd => ("sd", IntStore),
        Op::Addi => ("addi", IntRRImm),
        Op::Slti => ("slti", IntRRImm),
        Op::Sltiu => ("sltiu", IntRRImm),
        Op::Xori => ("xori", IntRRImm),
        Op::Ori => ("ori", IntRRImm),
        Op::Andi => ("andi", IntRRImm),
        Op::Slli => ("slli", IntRRShift),
        Op::Srli => ("srli", IntRRShift),
        Op::Srai => ("srai", IntRRShift),
        Op::Add => ("add", IntRRR),
        Op::Sub => ("sub", IntRRR),
        Op::Sll => ("sll", IntRRR),
        Op::Slt => ("slt", IntRRR),
        Op::Sltu => ("sltu", IntRRR),
        Op::Xor => ("xor", IntRRR),
        Op::Srl => ("srl", IntRRR),
        Op::Sra => ("sra", IntRRR),
        Op::Or => ("or", IntRRR),
        Op::And => ("and", IntRRR),
        Op::Addiw => ("addiw", IntRRImm),
        Op::Slliw => ("slliw", IntRRShift),
        Op::Srliw => ("srliw", IntRRShift),
        Op::Sraiw => ("sraiw", IntRRShift),
        Op::Addw => ("addw", IntRRR),
        Op::Subw => ("subw", IntRRR),
        Op::Sllw => ("sllw", IntRRR),
        Op::Srlw => ("srlw", IntRRR),
        Op::Sraw => ("sraw", IntRRR),
        Op::Fence => ("fence", Fence),
        Op::FenceI => ("fence.i", Bare),
        Op::Ecall => ("ecall", Bare),
        Op::Ebreak => ("ebreak", Bare),

        Op::Mul => ("mul", IntRRR),
        Op::Mulh => ("mulh", IntRRR),
        Op::Mulhsu => ("mulhsu", IntRRR),
        Op::Mulhu => ("mulhu", IntRRR),
        Op::Div => ("div", IntRRR),
        Op::Divu => ("divu", IntRRR),
        Op::Rem => ("rem", IntRRR),
        Op::Remu => ("remu", IntRRR),
        Op::Mulw => ("mulw", IntRRR),
        Op::Divw => ("divw", IntRRR),
        Op::Divuw => ("divuw", IntRRR),
        Op::Remw => ("remw", IntRRR),
        Op::Remuw => ("remuw", IntRRR),

        Op::LrW => ("lr.w", LoadReserved),
        Op::ScW => ("sc.w", Atomic),
        Op::AmoswapW => ("amoswap.w", Atomic),
        Op::AmoaddW => ("amoadd.w", Atomic),
        Op::AmoxorW => ("amoxor.w", Atomic),
        Op::AmoandW => ("amoand.w", Atomic),
        Op::AmoorW => ("amoor.w", Atomic),
        Op::AmominW => ("amomin.w", Atomic),
        Op::AmomaxW => ("amomax.w", Atomic),
        Op::AmominuW => ("amominu.w", Atomic),
        Op::AmomaxuW => ("amomaxu.w", Atomic),
        Op::LrD => ("lr.d", LoadReserved),
        Op::ScD => ("sc.d", Atomic),
        Op::AmoswapD => ("amoswap.d", Atomic),
        Op::AmoaddD => ("amoadd.d", Atomic),
        Op::AmoxorD => ("amoxor.d", Atomic),
        Op::AmoandD => ("amoand.d", Atomic),
        Op::AmoorD => ("amoor.d", Atomic),
        Op::AmominD => ("amomin.d", Atomic),
        Op::AmomaxD => ("amomax.d", Atomic),
        Op::AmominuD => ("amominu.d", Atomic),
        Op::AmomaxuD => ("amomaxu.d", Atomic),

        Op::Csrrw => ("csrrw", Csr),
        Op::Csrrs => ("csrrs", Csr),
        Op::Csrrc => ("csrrc", Csr),
        Op::Csrrwi => ("csrrwi", CsrImm),
        Op::Csrrsi => ("csrrsi", CsrImm),
        Op::Csrrci => ("csrrci", CsrImm),

        Op::Flw => ("flw", FpLoad),
        Op::Fsw => ("fsw", FpStore),
        Op::FmaddS => ("fmadd.s", FpFused),
        Op::FmsubS => ("fmsub.s", FpFused),
        Op::FnmsubS => ("fnmsub.s", FpFused),
        Op::FnmaddS => ("fnmadd.s", FpFused),
        Op::FaddS => ("fadd.s", FpRRRRounded),
        Op::FsubS => ("fsub.s", FpRRRRounded),
        Op::FmulS => ("fmul.s", FpRRRRounded),
        Op::FdivS => ("fdiv.s", FpRRRRounded),
        Op::FsqrtS => ("fsqrt.s", FpRRRounded),
        Op::FsgnjS => ("fsgnj.s", FpRRR),
        Op::FsgnjnS => ("fsgnjn.s", FpRRR),
        Op::FsgnjxS => ("fsgnjx.s", FpRRR),
        Op::FminS => ("fmin.s", FpRRR),
        Op::FmaxS => ("fmax.s", FpRRR),
        Op::FcvtWS => ("fcvt.w.s", FpToIntRounded),
        Op::FcvtWuS => ("fcvt.wu.s", FpToIntRounded),
        Op::FcvtLS => ("fcvt.l.s", FpToIntRounded),
        Op::FcvtLuS => ("fcvt.lu.s", FpToIntRounded),
        Op::FmvXW => ("fmv.x.w", FpToInt),
        Op::FeqS => ("feq.s", FpCompare),
        Op::FltS => ("flt.s", FpCompare),
        Op::FleS => ("fle.s", FpCompare),
        Op::FclassS => ("fclass.s", FpToInt),
        Op::FcvtSW => ("fcvt.s.w", IntToFpRounded),
        Op::FcvtSWu => ("fcvt.s.wu", IntToFpRounded),
        Op::FcvtSL => ("fcvt.s.l", IntToFpRounded),
        Op::FcvtSLu => ("fcvt.s.lu", IntToFpRounded),
        Op::FmvWX => ("fmv.w.x", IntToFp),

        Op::Fld => ("fld", FpLoad),
        Op::Fsd => ("fsd", FpStore),
        Op::FmaddD => ("fmadd.d", FpFused),
        Op::FmsubD => ("fmsub.d", FpFused),
        Op::FnmsubD => ("fnmsub.d", FpFused),
        Op::FnmaddD => ("fnmadd.d", FpFused),
        Op::FaddD => ("fadd.d", FpRRRRounded),
        Op::FsubD => ("fsub.d", FpRRRRounded),
        Op::FmulD => ("fmul.d", FpRRRRounded),
        Op::FdivD => ("fdiv.d", FpRRRRounded),
        Op::FsqrtD => ("fsqrt.d", FpRRRounded),
        Op::FsgnjD => ("fsgnj.d", FpRRR),
        Op::FsgnjnD => ("fsgnjn.d", FpRRR),
        Op::FsgnjxD => ("fsgnjx.d", FpRRR),
        Op::FminD => ("fmin.d", FpRRR),
        Op::FmaxD => ("fmax.d", FpRRR),
        Op::FcvtSD => ("fcvt.s.d", FpRRRounded),
        Op::FcvtDS => ("fcvt.d.s", FpRRExact),
        Op::FeqD => ("feq.d", FpCompare),
        Op::FltD => ("flt.d", FpCompare),
        Op::FleD => ("fle.d", FpCompare),
        Op::FclassD => ("fclass.d", FpToInt),
        Op::FcvtWD => ("fcvt.w.d", FpToIntRounded),
        Op::FcvtWuD => ("fcvt.wu.d", FpToIntRounded),
        Op::FcvtLD => ("fcvt.l.d", FpToIntRounded),
        Op::FcvtLuD => ("fcvt.lu.d", FpToIntRounded),
        Op::FmvXD => ("fmv.x.d", FpToInt),
        Op::FcvtDW => ("fcvt.d.w", IntToFpExact),
        Op::FcvtDWu => ("fcvt.d.wu", IntToFpExact),
        Op::FcvtDL => ("fcvt.d.l", IntToFpRounded),
        Op::FcvtDLu => ("fcvt.d.lu", IntToFpRounded),
        Op::FmvDX => ("fmv.d.x", IntToFp),

        Op::AddUw => ("add.uw", IntRRR),
        Op::Sh1add => ("sh1add", IntRRR),
        Op::Sh2add => ("sh2add", IntRRR),
        Op::Sh3add => ("sh3add", IntRRR),
        Op::Sh1addUw => ("sh1add.uw", IntRRR),
        Op::Sh2addUw => ("sh2add.uw", IntRRR),
        Op::Sh3addUw => ("sh3add.uw", IntRRR),
        Op::SlliUw => ("slli.uw", IntRRShift),

        Op::Andn => ("andn", IntRRR),
        Op::Orn => ("orn", IntRRR),
        Op::Xnor => ("xnor", IntRRR),
        Op::Clz => ("clz", IntRR),
        Op::Clzw => ("clzw", IntRR),
        Op::Ctz => ("ctz", IntRR),
        Op::Ctzw => ("ctzw", IntRR),
        Op::Cpop => ("cpop", IntRR),
        Op::Cpopw => ("cpopw", IntRR),
        Op::Max => ("max", IntRRR),
        Op::Maxu => ("maxu", IntRRR),
        Op::Min => ("min", IntRRR),
        Op::Minu => ("minu", IntRRR),
        Op::SextB => ("sext.b", IntRR),
        Op::SextH => ("sext.h", IntRR),
        Op::ZextH => ("zext.h", IntRR),
        Op::Rol => ("rol", IntRRR),
        Op::Rolw => ("rolw", IntRRR),
        Op::Ror => ("ror", IntRRR),
        Op::Rori => ("rori", IntRRShift),
        Op::Roriw => ("roriw", IntRRShift),
        Op::Rorw => ("rorw", IntRRR),
        Op::OrcB => ("orc.b", IntRR),
        Op::Rev8 => ("rev8", IntRR),

        Op::Bclr => ("bclr", IntRRR),
        Op::Bclri => ("bclri", IntRRShift),
        Op::Bext => ("bext", IntRRR),
        Op::Bexti => ("bexti", IntRRShift),
        Op::Binv => ("binv", IntRRR),
        Op::Binvi => ("binvi", IntRRShift),
        Op::Bset => ("bset", IntRRR),
        Op::Bseti => ("bseti", IntRRShift),

        Op::CzeroEqz => ("czero.eqz", IntRRR),
        Op::CzeroNez => ("czero.nez", IntRRR),
        Op::SlliAdd
        | Op::SrliXor
        | Op::AuipcAddi
        | Op::LuiAddi
        | Op::LuiAddiw
        | Op::LdAddi
        | Op::LwAddi
        | Op::LbuAddi
        | Op::AddLd
        | Op::AddLw
        | Op::AddLbu
        | Op::AddiAddi
        | Op::AddAdd
        | Op::MulwAddw
        | Op::LbuLbu
        | Op::AddJalr
        | Op::LdLd
        | Op::AuipcAddiConst
        | Op::PairSlliUw
        | Op::PairSextB
        | Op::PairSextH
        | Op::PairZextH
        | Op::PairSextW => ("<fused pair>", Bare),
        Op::SlliAddLw | Op::SlliAddLd => ("<fused triple>", Bare),
    }
}

/// The `iorw` letters of a fence predecessor or successor set; `0` when empty.
struct FenceSet(u8);

impl fmt::Display for FenceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 & 0xf == 0 {
            return f.write_str("0");
        }
        for (bit, letter) in [(8, "i"), (4, "o"), (2, "r"), (1, "w")] {
            if self.0 & bit != 0 {
                f.write_str(letter)?;
            }
        }
        Ok(())
    }
}

/// A CSR operand: its name when it has an unprivileged one, else its number.
struct CsrOperand(u16);

impl fmt::Display for CsrOperand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match csr_name(self.0) {
            Some(name) => f.write_str(name),
            None => write!(f, "{:#x}", self.0),
        }
    }
}

/// The bits of `fence.tso`'s immediate: fm = 1000, pred = succ = rw.
const FENCE_TSO_BITS: i32 = 0x833;

impl fmt::Display for Disasm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let insn = &self.insn;
        let (name, layout) = spelling(insn.op);
        let x = int_register_name;
        let fp = fp_register_name;
        let (rd, rs1, rs2, rs3, imm) = (insn.rd, insn.rs1, insn.rs2, insn.rs3, insn.imm);
        let target = self.pc.wrapping_add(imm as i64 as u64);
        // Rounding-mode suffix: omitted for the default (dynamic, or 0 for exact conversions).
        let rounding = RoundingSuffix(insn.rm, 7);
        let exact_rounding = RoundingSuffix(insn.rm, 0);

        if layout == Layout::Fence && imm & 0xfff == FENCE_TSO_BITS {
            return f.write_str("fence.tso");
        }
        if layout == Layout::Raw {
            return if insn.len == 2 {
                write!(f, ".2byte {:#x}", imm as u32 & 0xffff)
            } else {
                write!(f, ".4byte {:#x}", imm as u32)
            };
        }
        f.write_str(name)?;
        if matches!(layout, Layout::LoadReserved | Layout::Atomic) {
            f.write_str(match insn.rm & 3 {
                0 => "",
                1 => ".rl",
                2 => ".aq",
                _ => ".aqrl",
            })?;
        }
        if layout == Layout::Bare {
            return Ok(());
        }
        f.write_str(" ")?;
        match layout {
            Layout::Bare | Layout::Raw => Ok(()),
            Layout::IntRRR => write!(f, "{},{},{}", x(rd), x(rs1), x(rs2)),
            Layout::IntRRImm => write!(f, "{},{},{}", x(rd), x(rs1), imm),
            Layout::IntRRShift => write!(f, "{},{},{:#x}", x(rd), x(rs1), imm),
            Layout::IntRR => write!(f, "{},{}", x(rd), x(rs1)),
            Layout::Upper => write!(f, "{},{:#x}", x(rd), (imm as u32) >> 12),
            Layout::Jump => write!(f, "{},{:#x}", x(rd), target),
            Layout::Branch => write!(f, "{},{},{:#x}", x(rs1), x(rs2), target),
            Layout::IntLoad => write!(f, "{},{}({})", x(rd), imm, x(rs1)),
            Layout::IntStore => write!(f, "{},{}({})", x(rs2), imm, x(rs1)),
            Layout::FpLoad => write!(f, "{},{}({})", fp(rd), imm, x(rs1)),
            Layout::FpStore => write!(f, "{},{}({})", fp(rs2), imm, x(rs1)),
            Layout::Fence => {
                let (pred, succ) = ((imm >> 4) as u8 & 0xf, imm as u8 & 0xf);
                write!(f, "{},{}", FenceSet(pred), FenceSet(succ))
            }
            Layout::Csr => write!(f, "{},{},{}", x(rd), CsrOperand(imm as u16 & 0xfff), x(rs1)),
            Layout::CsrImm => write!(f, "{},{},{}", x(rd), CsrOperand(imm as u16 & 0xfff), rs1),
            Layout::LoadReserved => write!(f, "{},({})", x(rd), x(rs1)),
            Layout::Atomic => write!(f, "{},{},({})", x(rd), x(rs2), x(rs1)),
            Layout::FpRRRRounded => {
                write!(f, "{},{},{}{}", fp(rd), fp(rs1), fp(rs2), rounding)
            }
            Layout::FpFused => write!(
                f,
                "{},{},{},{}{}",
                fp(rd),
                fp(rs1),
                fp(rs2),
                fp(rs3),
                rounding
            ),
            Layout::FpRRR => write!(f, "{},{},{}", fp(rd), fp(rs1), fp(rs2)),
            Layout::FpRRRounded => write!(f, "{},{}{}", fp(rd), fp(rs1), rounding),
            Layout::FpRRExact => write!(f, "{},{}{}", fp(rd), fp(rs1), exact_rounding),
            Layout::FpCompare => write!(f, "{},{},{}", x(rd), fp(rs1), fp(rs2)),
            Layout::FpToIntRounded => write!(f, "{},{}{}", x(rd), fp(rs1), rounding),
            Layout::FpToInt => write!(f, "{},{}", x(rd), fp(rs1)),
            Layout::IntToFpRounded => write!(f, "{},{}{}", fp(rd), x(rs1), rounding),
            Layout::IntToFpExact => write!(f, "{},{}{}", fp(rd), x(rs1), exact_rounding),
            Layout::IntToFp => write!(f, "{},{}", fp(rd), x(rs1)),
        }
    }
}

/// `,rm` after the operands, or nothing when the field holds `default`.
struct RoundingSuffix(u8, u8);

impl fmt::Display for RoundingSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == self.1 {
            Ok(())
        } else {
            write!(f, ",{}", rounding_mode_name(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;
    use std::string::ToString;

    use super::*;
    use crate::isa::{decode, decode_word};

    fn text(word: u32, pc: u64) -> std::string::String {
        decode(word).disasm(pc).to_string()
    }

    #[test]
    fn illegal_words_print_as_data_like_objdump() {
        assert_eq!(text(0x0000_0000, 0), ".2byte 0x0");
        assert_eq!(text(0x0000_8002, 0), ".2byte 0x8002");
        assert_eq!(text(0x0ec5_8533, 0), ".4byte 0xec58533");
        assert_eq!(text(0xffff_ffff, 0), ".4byte 0xffffffff");
    }

    #[test]
    fn fences_print_their_sets() {
        assert_eq!(text(0x0ff0_000f, 0), "fence iorw,iorw");
        assert_eq!(text(0x0100_000f, 0), "fence w,0");
        assert_eq!(text(0x0000_000f, 0), "fence 0,0");
        assert_eq!(text(0x8330_000f, 0), "fence.tso");
        // fm = 1000 with other sets is reserved and behaves as a plain fence
        assert_eq!(text(0x8ff0_000f, 0), "fence iorw,iorw");
    }

    #[test]
    fn csrs_print_unprivileged_names_and_other_numbers() {
        assert_eq!(text(0x0030_2573, 0), "csrrs a0,fcsr,zero");
        assert_eq!(text(0xc9f0_2573, 0), "csrrs a0,hpmcounter31h,zero");
        assert_eq!(text(0xc220_2573, 0), "csrrs a0,vlenb,zero");
        assert_eq!(text(0x3000_2573, 0), "csrrs a0,0x300,zero");
        assert_eq!(text(0x0000_2573, 0), "csrrs a0,0x0,zero");
        assert_eq!(csr_name(0xc03), Some("hpmcounter3"));
        assert_eq!(csr_name(0xc23), None);
    }

    #[test]
    fn targets_are_absolute_and_wrap() {
        // jal zero,.-4 at 0 and beq a0,a1,.+8 at the top of the address space
        assert_eq!(text(0xffdf_f06f, 0), "jal zero,0xfffffffffffffffc");
        assert_eq!(text(0x00b5_0463, u64::MAX - 3), "beq a0,a1,0x4");
        // c.j .-2048
        assert_eq!(text(0xb001, 0x1000), "jal zero,0x800");
    }

    #[test]
    fn rounding_modes_print_unless_dynamic() {
        assert_eq!(text(0x00c5_f553, 0), "fadd.s fa0,fa1,fa2");
        assert_eq!(text(0x00c5_8553, 0), "fadd.s fa0,fa1,fa2,rne");
        assert_eq!(text(0x00c5_c553, 0), "fadd.s fa0,fa1,fa2,rmm");
        // exact conversions: 0 is what assemblers emit, so it is the one left out
        assert_eq!(text(0xd205_8553, 0), "fcvt.d.w fa0,a1");
        assert_eq!(text(0xd205_f553, 0), "fcvt.d.w fa0,a1,dyn");
    }

    #[test]
    fn atomics_print_ordering_suffixes() {
        assert_eq!(text(0x1005_a52f, 0), "lr.w a0,(a1)");
        assert_eq!(text(0x1205_b52f, 0), "lr.d.rl a0,(a1)");
        assert_eq!(text(0x1cc5_b52f, 0), "sc.d.aq a0,a2,(a1)");
        assert_eq!(text(0x0ec5_a52f, 0), "amoswap.w.aqrl a0,a2,(a1)");
    }

    /// Every operation the decoder produces, found by sweeping opcode, funct3, funct7
    /// and the rs2 field (which selects among unary and conversion operations).
    fn every_decoded_op() -> std::collections::BTreeSet<Op> {
        let mut ops = std::collections::BTreeSet::new();
        for opcode in (0..128u32).filter(|opcode| opcode & 3 == 3) {
            for funct3 in 0..8 {
                for funct7 in 0..128 {
                    for rs2 in 0..32 {
                        ops.insert(
                            decode_word(funct7 << 25 | rs2 << 20 | funct3 << 12 | opcode).op,
                        );
                    }
                }
            }
        }
        ops
    }

    #[test]
    fn every_operation_has_a_distinct_mnemonic() {
        let ops = every_decoded_op();
        // all but Undecoded
        assert_eq!(ops.len(), Op::LAST as usize);
        let mut names: std::vec::Vec<_> = ops.iter().map(|&op| mnemonic(op)).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ops.len());
    }

    #[test]
    fn any_field_values_format_without_panicking() {
        let mut state = 0x0123_4567_89ab_cdefu64;
        for op in every_decoded_op().into_iter().chain([Op::Undecoded]) {
            for _ in 0..64 {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                let [rd, rs1, rs2, rs3, rm, len, ..] = state.to_le_bytes();
                let insn = Insn {
                    op,
                    rd,
                    rs1,
                    rs2,
                    rs3,
                    rm,
                    len,
                    imm: (state >> 32) as i32,
                };
                let _ = format!("{}", insn.disasm(state));
            }
        }
    }
}
