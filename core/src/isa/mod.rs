//! RV64GC instruction set: the decoded-instruction form shared by the decoder, interpreter and disassembler.
//!
//! Operand conventions (what `decode` fills in, per operation):
//! - Register fields hold architectural register numbers 0..=31, exactly as encoded
//!   (x0 stays 0; the interpreter remaps writes to x0 itself). Whether a field names an
//!   integer or an FP register follows from the operation (e.g. `FaddD` reads f[rs1]).
//! - `imm` holds the sign-extended immediate: I/S/B/U/J immediates (U-type already
//!   shifted left by 12), shift amounts for shift-immediates and `Rori`/`Roriw`/`Bclri`/…,
//!   the CSR number for `Csr*` (with the 5-bit `zimm` of `Csrr?i` in `rs1`), the
//!   fence bits (`pred << 4 | succ`, plus `fm << 8`) for `Fence`, and the raw instruction
//!   bits for `Illegal`.
//! - `rm` holds the rounding-mode field of FP operations that have one (0..=7, 7 = dynamic),
//!   and `aq << 1 | rl` for atomics; it is 0 otherwise.
//! - `rs3` is the third source of the fused multiply-adds.
//! - `len` is the encoded length in bytes: 2 for compressed forms, 4 otherwise.
//!   Compressed instructions decode to the operation of their 32-bit expansion.

mod compressed;
mod decode;
pub mod disasm;
mod encode;

pub use decode::{decode, decode_compressed, decode_word, instruction_length};
pub use encode::encode;

/// One decoded instruction: 12 bytes, `Copy`, no pointers, so a page of them can be
/// cached, snapshotted and compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Insn {
    pub op: Op,
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub rs3: u8,
    pub rm: u8,
    pub len: u8,
    pub imm: i32,
}

impl Insn {
    /// The placeholder a pre-decoded cache holds before a slot is decoded.
    pub const UNDECODED: Insn = Insn {
        op: Op::Undecoded,
        rd: 0,
        rs1: 0,
        rs2: 0,
        rs3: 0,
        rm: 0,
        len: 0,
        imm: 0,
    };

    /// An illegal instruction carrying its raw bits.
    pub const fn illegal(raw: u32, len: u8) -> Insn {
        Insn {
            op: Op::Illegal,
            rd: 0,
            rs1: 0,
            rs2: 0,
            rs3: 0,
            rm: 0,
            len,
            imm: raw as i32,
        }
    }
}

/// Every RV64GC (+ Zba, Zbb, Zbs, Zicond) operation.
///
/// `Undecoded` is 0 so that a zeroed cache page means "nothing decoded yet";
/// `decode` never returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum Op {
    Undecoded = 0,
    Illegal,

    // RV64I
    Lui,
    Auipc,
    Jal,
    Jalr,
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    Lb,
    Lh,
    Lw,
    Ld,
    Lbu,
    Lhu,
    Lwu,
    Sb,
    Sh,
    Sw,
    Sd,
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Slli,
    Srli,
    Srai,
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Addiw,
    Slliw,
    Srliw,
    Sraiw,
    Addw,
    Subw,
    Sllw,
    Srlw,
    Sraw,
    Fence,
    FenceI,
    Ecall,
    Ebreak,

    // M
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    Mulw,
    Divw,
    Divuw,
    Remw,
    Remuw,

    // A
    LrW,
    ScW,
    AmoswapW,
    AmoaddW,
    AmoxorW,
    AmoandW,
    AmoorW,
    AmominW,
    AmomaxW,
    AmominuW,
    AmomaxuW,
    LrD,
    ScD,
    AmoswapD,
    AmoaddD,
    AmoxorD,
    AmoandD,
    AmoorD,
    AmominD,
    AmomaxD,
    AmominuD,
    AmomaxuD,

    // Zicsr
    Csrrw,
    Csrrs,
    Csrrc,
    Csrrwi,
    Csrrsi,
    Csrrci,

    // F
    Flw,
    Fsw,
    FmaddS,
    FmsubS,
    FnmsubS,
    FnmaddS,
    FaddS,
    FsubS,
    FmulS,
    FdivS,
    FsqrtS,
    FsgnjS,
    FsgnjnS,
    FsgnjxS,
    FminS,
    FmaxS,
    FcvtWS,
    FcvtWuS,
    FcvtLS,
    FcvtLuS,
    FmvXW,
    FeqS,
    FltS,
    FleS,
    FclassS,
    FcvtSW,
    FcvtSWu,
    FcvtSL,
    FcvtSLu,
    FmvWX,

    // D
    Fld,
    Fsd,
    FmaddD,
    FmsubD,
    FnmsubD,
    FnmaddD,
    FaddD,
    FsubD,
    FmulD,
    FdivD,
    FsqrtD,
    FsgnjD,
    FsgnjnD,
    FsgnjxD,
    FminD,
    FmaxD,
    FcvtSD,
    FcvtDS,
    FeqD,
    FltD,
    FleD,
    FclassD,
    FcvtWD,
    FcvtWuD,
    FcvtLD,
    FcvtLuD,
    FmvXD,
    FcvtDW,
    FcvtDWu,
    FcvtDL,
    FcvtDLu,
    FmvDX,

    // Zba
    AddUw,
    Sh1add,
    Sh2add,
    Sh3add,
    Sh1addUw,
    Sh2addUw,
    Sh3addUw,
    SlliUw,

    // Zbb
    Andn,
    Orn,
    Xnor,
    Clz,
    Clzw,
    Ctz,
    Ctzw,
    Cpop,
    Cpopw,
    Max,
    Maxu,
    Min,
    Minu,
    SextB,
    SextH,
    ZextH,
    Rol,
    Rolw,
    Ror,
    Rori,
    Roriw,
    Rorw,
    OrcB,
    Rev8,

    // Zbs
    Bclr,
    Bclri,
    Bext,
    Bexti,
    Binv,
    Binvi,
    Bset,
    Bseti,

    // Zicond
    CzeroEqz,
    CzeroNez,

    // Adjacent pairs the interpreter's code cache runs as one operation; `decode` never
    // returns these (their fields are laid out by the cache, see `cpu.rs`).
    #[doc(hidden)]
    SlliAdd,
    #[doc(hidden)]
    SrliXor,
    #[doc(hidden)]
    AuipcAddi,
    #[doc(hidden)]
    LuiAddi,
    #[doc(hidden)]
    LuiAddiw,
    #[doc(hidden)]
    LdAddi,
    #[doc(hidden)]
    LwAddi,
    #[doc(hidden)]
    LbuAddi,
    #[doc(hidden)]
    AddLd,
    #[doc(hidden)]
    AddLw,
    #[doc(hidden)]
    AddLbu,
    #[doc(hidden)]
    AddiAddi,
    #[doc(hidden)]
    AddAdd,
    #[doc(hidden)]
    MulwAddw,
    #[doc(hidden)]
    LbuLbu,
    #[doc(hidden)]
    AddJalr,
    #[doc(hidden)]
    LdLd,
    /// `slli` + `add` + `lw`/`ld` through the sum (indexing an array of words or
    /// doublewords, and the jump-table switch): three instructions in one operation.
    #[doc(hidden)]
    SlliAddLw,
    #[doc(hidden)]
    SlliAddLd,
    /// `auipc r` + `addi r, r`: a constant address, loaded as `lui` loads its immediate.
    #[doc(hidden)]
    AuipcAddiConst,
    /// A pair of shifts of one register that together compute what one bit-manipulation
    /// instruction does (the rv64gc idioms for `zext.w`, `slli.uw`, `sext.b`, `sext.h`,
    /// `zext.h` and `sext.w`), run by that instruction's code.
    #[doc(hidden)]
    PairSlliUw,
    #[doc(hidden)]
    PairSextB,
    #[doc(hidden)]
    PairSextH,
    #[doc(hidden)]
    PairZextH,
    #[doc(hidden)]
    PairSextW,
    /// `jal x0` (a plain jump) whose run was decoded on through its target (see the code
    /// cache): it retires and falls through to the target's instructions.
    #[doc(hidden)]
    JalFolded,
}

impl Op {
    /// The last variant `decode` can return (the fused pairs come after it).
    pub const LAST: Op = Op::CzeroNez;
}
