//! IEEE-754 binary32/binary64 arithmetic with RISC-V semantics: rounding modes, exact fflags, canonical NaNs.
//!
//! Every function takes and returns raw bit patterns (`u32` for single, `u64` for double) and
//! ORs the exceptions it raises into `*flags` (the accrued `fflags` bits [`NX`] .. [`NV`]).
//! Results are bit-identical to RISC-V hardware: NaN results are always the canonical NaN,
//! tininess is detected after rounding, and fmin/fmax follow the F/D 2.2 definition.
//! NaN-boxing of single-precision values in the 64-bit registers is left to the caller, as is
//! the sign extension of 32-bit integer results.
//!
//! `fmsub`, `fnmsub` and `fnmadd` are [`f32_mul_add`]/[`f64_mul_add`] with the sign bits of
//! the inputs flipped (`fmsub`: c; `fnmsub`: a; `fnmadd`: a and c); that is exact here because
//! signs never affect NaN handling and negation happens before the single rounding.
//!
//! Implementation: `soft` is a complete integer implementation that is the reference for
//! every operation. When the host has IEEE-754 hardware arithmetic, the common cases are
//! first tried on it (module `fast`) and only handed to `soft` when the host cannot be shown
//! to give the exact answer (special operands, results near overflow or underflow, ...).
//! The fast paths assume the host's default floating-point environment (round to nearest,
//! no flush-to-zero), as Rust does. Once NX has accrued in `*flags` (as it does early in
//! most floating-point code), round-to-nearest arithmetic, square roots (with `std`) and
//! fused multiply-adds (on an x86-64 host's FMA unit) take the host's result as it is when
//! it is well inside the normal range (`when_inexact_accrued`): callers that pass the
//! accrued flags, as the interpreter does, get that shortcut. Comparisons, fmin/fmax and
//! fclass work on the bit patterns directly (module `compare`).
//!
//! Tests: `tests` (hand-checked cases), `properties` (fast == soft, and RNE == host, on
//! generated operands and on all special-value pairs; `FPU_PROPERTY_CASES` per mode, 200k
//! in release; plus an ignored exhaustive binary32 square root check), `qemu_diff` (every
//! operation in every mode against `testdata/fpu_oracle.c` under qemu-riscv64, which needs
//! `riscv64-linux-gnu-gcc` and `qemu-riscv64`; `FPU_DIFF_CASES` per mode) and `bench`:
//! `cargo test --release -p friscy-core fpu::bench -- --ignored --nocapture`.

mod compare;
mod fast;
mod soft;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod qemu_diff;
#[cfg(test)]
mod testgen;
#[cfg(test)]
mod tests;

use soft::{Double, Single};

/// Whether to try the host fast paths (tests can turn them off per thread).
#[inline(always)]
fn use_fast_paths() -> bool {
    #[cfg(test)]
    return fast::HOST_IS_IEEE && !tests::soft_only();
    #[cfg(not(test))]
    return fast::HOST_IS_IEEE;
}

/// Returns the fast path's answer (merging its flags) if it has one, else evaluates `$soft`.
macro_rules! fast_or_soft {
    ($flags:ident, $fast:expr, $soft:expr) => {{
        if use_fast_paths() {
            if let Some((result, raised)) = $fast {
                *$flags |= raised;
                return result;
            }
        }
        $soft
    }};
}

/// Round to nearest with NX already accrued, as it is early in most floating-point code: the
/// host's result (`$host`, a float) is the answer whenever it is at least one binade inside
/// the normal range, since then OF, UF, NV and DZ cannot have arisen and the only flag left,
/// NX, is set already; whether this operation was exact no longer matters. (The smallest
/// normal is not enough: tininess is detected after rounding, so a result rounded up to it
/// may still underflow.)
///
/// The operation's other paths are a separate function (`*_exactly`) that this one
/// tail-calls, so that the shortcut saves and restores no registers (6 of its 21 host
/// instructions for a multiplication).
macro_rules! when_inexact_accrued {
    ($flags:ident, $rm:ident, $host:expr, $frac_bits:expr, $max_field:expr) => {
        if inexact_accrued_in_rne($rm, $flags) {
            let bits = $host.to_bits();
            let field = u64::from(bits >> $frac_bits) & $max_field;
            if fast::well_inside_normal_range(field, $max_field) {
                return bits;
            }
        }
    };
}

/// Whether `when_inexact_accrued` applies; fused multiply-adds then go to the host's own
/// unit, whose entry points fall back to `*_mul_add_exactly` where there is no unit, or its
/// result is not well inside the normal range.
#[inline(always)]
fn inexact_accrued_in_rne(rm: RoundingMode, flags: &u8) -> bool {
    use_fast_paths() && rm == RoundingMode::Rne && *flags & NX != 0
}

/// fflags bit: inexact.
pub const NX: u8 = 1;
/// fflags bit: underflow.
pub const UF: u8 = 2;
/// fflags bit: overflow.
pub const OF: u8 = 4;
/// fflags bit: division by zero.
pub const DZ: u8 = 8;
/// fflags bit: invalid operation.
pub const NV: u8 = 16;

/// The quiet NaN every RISC-V operation returns in place of a NaN result.
pub const CANONICAL_NAN_F32: u32 = 0x7fc0_0000;
/// The quiet NaN every RISC-V operation returns in place of a NaN result.
pub const CANONICAL_NAN_F64: u64 = 0x7ff8_0000_0000_0000;

/// The five IEEE-754 rounding modes, numbered as in the RISC-V `rm` field and `frm` CSR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RoundingMode {
    /// Round to nearest, ties to even.
    Rne = 0,
    /// Round towards zero.
    Rtz = 1,
    /// Round down (towards negative infinity).
    Rdn = 2,
    /// Round up (towards positive infinity).
    Rup = 3,
    /// Round to nearest, ties away from zero.
    Rmm = 4,
}

impl RoundingMode {
    /// The mode with RISC-V encoding `bits`; `None` for the reserved values 5, 6 and for 7
    /// (dynamic), which the caller resolves through `frm`.
    pub const fn from_bits(bits: u8) -> Option<RoundingMode> {
        match bits {
            0 => Some(RoundingMode::Rne),
            1 => Some(RoundingMode::Rtz),
            2 => Some(RoundingMode::Rdn),
            3 => Some(RoundingMode::Rup),
            4 => Some(RoundingMode::Rmm),
            _ => None,
        }
    }
}

/// `fadd.s`
#[inline(never)]
pub fn f32_add(a: u32, b: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    when_inexact_accrued!(flags, rm, f32::from_bits(a) + f32::from_bits(b), 23, 0xff);
    f32_add_exactly(a, b, rm, flags)
}

/// `fadd.s` when the shortcut does not apply.
#[inline(never)]
fn f32_add_exactly(a: u32, b: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f32_add(a, b, rm),
        soft::add::<Single>(a.into(), b.into(), rm, flags) as u32
    )
}

/// `fsub.s`
#[inline(never)]
pub fn f32_sub(a: u32, b: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    when_inexact_accrued!(flags, rm, f32::from_bits(a) - f32::from_bits(b), 23, 0xff);
    f32_sub_exactly(a, b, rm, flags)
}

/// `fsub.s` when the shortcut does not apply.
#[inline(never)]
fn f32_sub_exactly(a: u32, b: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f32_sub(a, b, rm),
        soft::sub::<Single>(a.into(), b.into(), rm, flags) as u32
    )
}

/// `fmul.s`
#[inline(never)]
pub fn f32_mul(a: u32, b: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    when_inexact_accrued!(flags, rm, f32::from_bits(a) * f32::from_bits(b), 23, 0xff);
    f32_mul_exactly(a, b, rm, flags)
}

/// `fmul.s` when the shortcut does not apply.
#[inline(never)]
fn f32_mul_exactly(a: u32, b: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f32_mul(a, b, rm),
        soft::mul::<Single>(a.into(), b.into(), rm, flags) as u32
    )
}

/// `fdiv.s`
#[inline(never)]
pub fn f32_div(a: u32, b: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    when_inexact_accrued!(flags, rm, f32::from_bits(a) / f32::from_bits(b), 23, 0xff);
    f32_div_exactly(a, b, rm, flags)
}

/// `fdiv.s` when the shortcut does not apply.
#[inline(never)]
fn f32_div_exactly(a: u32, b: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f32_div(a, b, rm),
        soft::div::<Single>(a.into(), b.into(), rm, flags) as u32
    )
}

/// `fsqrt.s`
#[inline(never)]
pub fn f32_sqrt(a: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    // `core` has no square root; with `std` the host's serves once NX has accrued.
    #[cfg(feature = "std")]
    when_inexact_accrued!(flags, rm, f32::from_bits(a).sqrt(), 23, 0xff);
    f32_sqrt_exactly(a, rm, flags)
}

/// `fsqrt.s` when the shortcut does not apply.
#[inline(never)]
fn f32_sqrt_exactly(a: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f32_sqrt(a, rm),
        soft::sqrt::<Single>(a.into(), rm, flags) as u32
    )
}

/// `fmadd.s`: `a * b + c` with a single rounding.
#[inline(never)]
pub fn f32_mul_add(a: u32, b: u32, c: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    if inexact_accrued_in_rne(rm, flags) {
        // A tail call, so that the usual path below needs no more registers saved.
        return fast::fma_unit::f32_mul_add_inexact_accrued(a, b, c, flags);
    }
    f32_mul_add_exactly(a, b, c, rm, flags)
}

/// `fmadd.s`, finding out whether the result is exact (out of line, so that the function
/// above saves no registers: both its paths are tail calls).
#[inline(never)]
fn f32_mul_add_exactly(a: u32, b: u32, c: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f32_mul_add(a, b, c, rm),
        soft::mul_add::<Single>(a.into(), b.into(), c.into(), rm, flags) as u32
    )
}

/// `fmin.s`: -0 is below +0; a single NaN operand is ignored; NV only for signaling NaNs.
pub fn f32_min(a: u32, b: u32, flags: &mut u8) -> u32 {
    compare::min::<Single>(a.into(), b.into(), flags) as u32
}

/// `fmax.s`: +0 is above -0; a single NaN operand is ignored; NV only for signaling NaNs.
pub fn f32_max(a: u32, b: u32, flags: &mut u8) -> u32 {
    compare::max::<Single>(a.into(), b.into(), flags) as u32
}

/// `feq.s` (quiet: NV only for signaling NaNs).
pub fn f32_eq(a: u32, b: u32, flags: &mut u8) -> bool {
    compare::eq::<Single>(a.into(), b.into(), flags)
}

/// `flt.s` (signaling: NV for any NaN).
pub fn f32_lt(a: u32, b: u32, flags: &mut u8) -> bool {
    compare::lt::<Single>(a.into(), b.into(), flags)
}

/// `fle.s` (signaling: NV for any NaN).
pub fn f32_le(a: u32, b: u32, flags: &mut u8) -> bool {
    compare::le::<Single>(a.into(), b.into(), flags)
}

/// `fclass.s`: the 10-bit class mask.
pub fn f32_classify(a: u32) -> u64 {
    compare::classify::<Single>(a.into())
}

/// `fcvt.w.s`: NaN gives `i32::MAX`; out of range saturates with NV (and no NX).
pub fn f32_to_i32(a: u32, rm: RoundingMode, flags: &mut u8) -> i32 {
    fast_or_soft!(
        flags,
        fast::f32_to_i32(a, rm),
        soft::to_signed::<Single>(a.into(), rm, 32, flags) as i32
    )
}

/// `fcvt.wu.s`: NaN gives `u32::MAX`; negative values that round to 0 give 0 with NX only.
pub fn f32_to_u32(a: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f32_to_u32(a, rm),
        soft::to_unsigned::<Single>(a.into(), rm, 32, flags) as u32
    )
}

/// `fcvt.l.s`: NaN gives `i64::MAX`; out of range saturates with NV (and no NX).
pub fn f32_to_i64(a: u32, rm: RoundingMode, flags: &mut u8) -> i64 {
    fast_or_soft!(
        flags,
        fast::f32_to_i64(a, rm),
        soft::to_signed::<Single>(a.into(), rm, 64, flags)
    )
}

/// `fcvt.lu.s`: NaN gives `u64::MAX`; negative values that round to 0 give 0 with NX only.
pub fn f32_to_u64(a: u32, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f32_to_u64(a, rm),
        soft::to_unsigned::<Single>(a.into(), rm, 64, flags)
    )
}

/// `fcvt.s.w`
pub fn f32_from_i32(v: i32, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f32_from_i64(v.into()),
        soft::from_integer::<Single>(v < 0, v.unsigned_abs().into(), rm, flags) as u32
    )
}

/// `fcvt.s.wu`
pub fn f32_from_u32(v: u32, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f32_from_u64(v.into()),
        soft::from_integer::<Single>(false, v.into(), rm, flags) as u32
    )
}

/// `fcvt.s.l`
pub fn f32_from_i64(v: i64, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f32_from_i64(v),
        soft::from_integer::<Single>(v < 0, v.unsigned_abs(), rm, flags) as u32
    )
}

/// `fcvt.s.lu`
pub fn f32_from_u64(v: u64, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f32_from_u64(v),
        soft::from_integer::<Single>(false, v, rm, flags) as u32
    )
}

/// `fcvt.d.s`: exact; a signaling NaN raises NV and every NaN becomes the canonical NaN.
pub fn f32_to_f64(a: u32, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f32_to_f64(a),
        soft::convert::<Single, Double>(a.into(), RoundingMode::Rne, flags)
    )
}

/// `fcvt.s.d`
pub fn f64_to_f32(a: u64, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f64_to_f32(a, rm),
        soft::convert::<Double, Single>(a, rm, flags) as u32
    )
}

/// `fadd.d`
#[inline(never)]
pub fn f64_add(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    when_inexact_accrued!(flags, rm, f64::from_bits(a) + f64::from_bits(b), 52, 0x7ff);
    f64_add_exactly(a, b, rm, flags)
}

/// `fadd.d` when the shortcut does not apply.
#[inline(never)]
fn f64_add_exactly(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f64_add(a, b, rm),
        soft::add::<Double>(a, b, rm, flags)
    )
}

/// `fsub.d`
#[inline(never)]
pub fn f64_sub(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    when_inexact_accrued!(flags, rm, f64::from_bits(a) - f64::from_bits(b), 52, 0x7ff);
    f64_sub_exactly(a, b, rm, flags)
}

/// `fsub.d` when the shortcut does not apply.
#[inline(never)]
fn f64_sub_exactly(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f64_sub(a, b, rm),
        soft::sub::<Double>(a, b, rm, flags)
    )
}

/// `fmul.d`
#[inline(never)]
pub fn f64_mul(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    when_inexact_accrued!(flags, rm, f64::from_bits(a) * f64::from_bits(b), 52, 0x7ff);
    f64_mul_exactly(a, b, rm, flags)
}

/// `fmul.d` when the shortcut does not apply.
#[inline(never)]
fn f64_mul_exactly(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f64_mul(a, b, rm),
        soft::mul::<Double>(a, b, rm, flags)
    )
}

/// `fdiv.d`
#[inline(never)]
pub fn f64_div(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    when_inexact_accrued!(flags, rm, f64::from_bits(a) / f64::from_bits(b), 52, 0x7ff);
    f64_div_exactly(a, b, rm, flags)
}

/// `fdiv.d` when the shortcut does not apply.
#[inline(never)]
fn f64_div_exactly(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f64_div(a, b, rm),
        soft::div::<Double>(a, b, rm, flags)
    )
}

/// `fsqrt.d`
#[inline(never)]
pub fn f64_sqrt(a: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    // `core` has no square root; with `std` the host's serves once NX has accrued.
    #[cfg(feature = "std")]
    when_inexact_accrued!(flags, rm, f64::from_bits(a).sqrt(), 52, 0x7ff);
    f64_sqrt_exactly(a, rm, flags)
}

/// `fsqrt.d` when the shortcut does not apply.
#[inline(never)]
fn f64_sqrt_exactly(a: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f64_sqrt(a, rm),
        soft::sqrt::<Double>(a, rm, flags)
    )
}

/// `fmadd.d`: `a * b + c` with a single rounding.
#[inline(never)]
pub fn f64_mul_add(a: u64, b: u64, c: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    if inexact_accrued_in_rne(rm, flags) {
        // A tail call, so that the usual path below needs no more registers saved.
        return fast::fma_unit::f64_mul_add_inexact_accrued(a, b, c, flags);
    }
    if use_fast_paths() {
        if let Some((result, _)) = fast::short_mul_add(a, b, c, rm) {
            return result;
        }
    }
    f64_mul_add_exactly(a, b, c, rm, flags)
}

/// `fmadd.d`, finding out whether the result is exact (out of line, so that the function
/// above saves no registers: both its paths are tail calls).
#[inline(never)]
fn f64_mul_add_exactly(a: u64, b: u64, c: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f64_mul_add(a, b, c, rm),
        soft::mul_add::<Double>(a, b, c, rm, flags)
    )
}

/// `fmin.d`: -0 is below +0; a single NaN operand is ignored; NV only for signaling NaNs.
pub fn f64_min(a: u64, b: u64, flags: &mut u8) -> u64 {
    compare::min::<Double>(a, b, flags)
}

/// `fmax.d`: +0 is above -0; a single NaN operand is ignored; NV only for signaling NaNs.
pub fn f64_max(a: u64, b: u64, flags: &mut u8) -> u64 {
    compare::max::<Double>(a, b, flags)
}

/// `feq.d` (quiet: NV only for signaling NaNs).
pub fn f64_eq(a: u64, b: u64, flags: &mut u8) -> bool {
    compare::eq::<Double>(a, b, flags)
}

/// `flt.d` (signaling: NV for any NaN).
pub fn f64_lt(a: u64, b: u64, flags: &mut u8) -> bool {
    compare::lt::<Double>(a, b, flags)
}

/// `fle.d` (signaling: NV for any NaN).
pub fn f64_le(a: u64, b: u64, flags: &mut u8) -> bool {
    compare::le::<Double>(a, b, flags)
}

/// `fclass.d`: the 10-bit class mask.
pub fn f64_classify(a: u64) -> u64 {
    compare::classify::<Double>(a)
}

/// `fcvt.w.d`: NaN gives `i32::MAX`; out of range saturates with NV (and no NX).
pub fn f64_to_i32(a: u64, rm: RoundingMode, flags: &mut u8) -> i32 {
    fast_or_soft!(
        flags,
        fast::f64_to_i32(a, rm),
        soft::to_signed::<Double>(a, rm, 32, flags) as i32
    )
}

/// `fcvt.wu.d`: NaN gives `u32::MAX`; negative values that round to 0 give 0 with NX only.
pub fn f64_to_u32(a: u64, rm: RoundingMode, flags: &mut u8) -> u32 {
    fast_or_soft!(
        flags,
        fast::f64_to_u32(a, rm),
        soft::to_unsigned::<Double>(a, rm, 32, flags) as u32
    )
}

/// `fcvt.l.d`: NaN gives `i64::MAX`; out of range saturates with NV (and no NX).
pub fn f64_to_i64(a: u64, rm: RoundingMode, flags: &mut u8) -> i64 {
    fast_or_soft!(
        flags,
        fast::f64_to_i64(a, rm),
        soft::to_signed::<Double>(a, rm, 64, flags)
    )
}

/// `fcvt.lu.d`: NaN gives `u64::MAX`; negative values that round to 0 give 0 with NX only.
pub fn f64_to_u64(a: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f64_to_u64(a, rm),
        soft::to_unsigned::<Double>(a, rm, 64, flags)
    )
}

/// `fcvt.d.w` (always exact).
pub fn f64_from_i32(v: i32, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f64_from_i64(v.into()),
        soft::from_integer::<Double>(v < 0, v.unsigned_abs().into(), rm, flags)
    )
}

/// `fcvt.d.wu` (always exact).
pub fn f64_from_u32(v: u32, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f64_from_u64(v.into()),
        soft::from_integer::<Double>(false, v.into(), rm, flags)
    )
}

/// `fcvt.d.l`
pub fn f64_from_i64(v: i64, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f64_from_i64(v),
        soft::from_integer::<Double>(v < 0, v.unsigned_abs(), rm, flags)
    )
}

/// `fcvt.d.lu`
pub fn f64_from_u64(v: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    fast_or_soft!(
        flags,
        fast::f64_from_u64(v),
        soft::from_integer::<Double>(false, v, rm, flags)
    )
}
