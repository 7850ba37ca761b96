//! Reference IEEE-754 arithmetic in integer code: every operation, every rounding mode, exact flags.
//!
//! Values travel as the low bits of a `u64` whatever their width; [`Format`] says where the
//! fields are. Finite non-zero operands are unpacked to a significand normalised so that its
//! leading one sits at bit 62, which leaves at least ten bits below the last kept bit of
//! binary64 (39 for binary32) for the round bit and a "jammed" sticky bit in bit 0.

use super::{RoundingMode, DZ, NV, NX, OF, UF};

/// Field layout of a binary interchange format.
pub(crate) trait Format {
    const EXP_BITS: u32;
    const FRAC_BITS: u32;

    const SIGN: u64 = 1 << (Self::EXP_BITS + Self::FRAC_BITS);
    const BIAS: i32 = (1 << (Self::EXP_BITS - 1)) - 1;
    const FRAC_MASK: u64 = (1 << Self::FRAC_BITS) - 1;
    const HIDDEN: u64 = 1 << Self::FRAC_BITS;
    const INF: u64 = ((1 << Self::EXP_BITS) - 1) << Self::FRAC_BITS;
    const QUIET: u64 = 1 << (Self::FRAC_BITS - 1);
    const CANONICAL_NAN: u64 = Self::INF | Self::QUIET;
    const MAX_FINITE: u64 = Self::INF - 1;
    /// Bits below the last kept significand bit when the leading one is at bit 62.
    const ROUND_BITS: u32 = 62 - Self::FRAC_BITS;
}

/// IEEE-754 binary32.
pub(crate) struct Single;
/// IEEE-754 binary64.
pub(crate) struct Double;

impl Format for Single {
    const EXP_BITS: u32 = 8;
    const FRAC_BITS: u32 = 23;
}

impl Format for Double {
    const EXP_BITS: u32 = 11;
    const FRAC_BITS: u32 = 52;
}

pub(crate) fn is_nan<F: Format>(x: u64) -> bool {
    x & !F::SIGN > F::INF
}

pub(crate) fn is_signaling_nan<F: Format>(x: u64) -> bool {
    is_nan::<F>(x) && x & F::QUIET == 0
}

pub(crate) fn is_inf<F: Format>(x: u64) -> bool {
    x & !F::SIGN == F::INF
}

pub(crate) fn is_zero<F: Format>(x: u64) -> bool {
    x & !F::SIGN == 0
}

pub(crate) fn is_negative<F: Format>(x: u64) -> bool {
    x & F::SIGN != 0
}

fn sign_bit<F: Format>(negative: bool) -> u64 {
    if negative {
        F::SIGN
    } else {
        0
    }
}

/// The result of an operation with a NaN operand: RISC-V never propagates payloads.
fn nan_result<F: Format>(a: u64, b: u64, flags: &mut u8) -> u64 {
    if is_signaling_nan::<F>(a) || is_signaling_nan::<F>(b) {
        *flags |= NV;
    }
    F::CANONICAL_NAN
}

/// The sign of an exact zero sum of two operands with the given signs (IEEE 754 §6.3).
fn exact_zero_sum<F: Format>(a_negative: bool, b_negative: bool, rm: RoundingMode) -> u64 {
    if a_negative == b_negative {
        sign_bit::<F>(a_negative)
    } else {
        sign_bit::<F>(rm == RoundingMode::Rdn)
    }
}

/// A finite non-zero value `(-1)^negative * sig * 2^(exp - 62)` with `sig` in `[2^62, 2^63)`.
#[derive(Clone, Copy, Debug)]
struct Unpacked {
    negative: bool,
    exp: i32,
    sig: u64,
}

/// Unpacks a finite non-zero value, normalising subnormals.
fn unpack<F: Format>(x: u64) -> Unpacked {
    let field = ((x & !F::SIGN) >> F::FRAC_BITS) as i32;
    let frac = x & F::FRAC_MASK;
    let (significand, effective_field) = if field == 0 {
        (frac, 1)
    } else {
        (frac | F::HIDDEN, field)
    };
    let shift = significand.leading_zeros() - 1;
    Unpacked {
        negative: is_negative::<F>(x),
        exp: effective_field - F::BIAS - F::FRAC_BITS as i32 + 62 - shift as i32,
        sig: significand << shift,
    }
}

/// `x >> n`, with bit 0 set if any bit shifted out was set.
fn shift_right_jam64(x: u64, n: u32) -> u64 {
    if n == 0 {
        x
    } else if n < 64 {
        (x >> n) | u64::from(x << (64 - n) != 0)
    } else {
        u64::from(x != 0)
    }
}

/// `x >> n`, with bit 0 set if any bit shifted out was set.
fn shift_right_jam128(x: u128, n: u32) -> u128 {
    if n == 0 {
        x
    } else if n < 128 {
        (x >> n) | u128::from(x << (128 - n) != 0)
    } else {
        u128::from(x != 0)
    }
}

/// Moves the leading one of a non-zero `x` to bit 62 (jamming what falls off) and returns the
/// new significand with the original position of that leading one.
fn normalize128(x: u128) -> (u64, i32) {
    let leading = 127 - x.leading_zeros() as i32;
    let sig = if leading > 62 {
        shift_right_jam128(x, (leading - 62) as u32) as u64
    } else {
        (x as u64) << (62 - leading)
    };
    (sig, leading)
}

/// Whether rounding away the `rest` bits (`half` being the weight of the highest of them)
/// increments the magnitude of the kept part.
fn round_increment(
    rm: RoundingMode,
    negative: bool,
    kept_is_odd: bool,
    rest: u64,
    half: u64,
) -> bool {
    match rm {
        RoundingMode::Rne => rest > half || (rest == half && kept_is_odd),
        RoundingMode::Rmm => rest >= half,
        RoundingMode::Rtz => false,
        RoundingMode::Rdn => negative && rest != 0,
        RoundingMode::Rup => !negative && rest != 0,
    }
}

/// Whether an overflowing result becomes infinity (rather than the largest finite value).
fn overflow_is_infinite(rm: RoundingMode, negative: bool) -> bool {
    match rm {
        RoundingMode::Rne | RoundingMode::Rmm => true,
        RoundingMode::Rtz => false,
        RoundingMode::Rdn => negative,
        RoundingMode::Rup => !negative,
    }
}

/// Rounds `(-1)^negative * sig * 2^(exp - 62)` to format `F`, where `sig` is in
/// `[2^62, 2^63)` and bit 0 may be a sticky bit standing for any non-zero bits below it.
fn round_pack<F: Format>(
    negative: bool,
    exp: i32,
    sig: u64,
    rm: RoundingMode,
    flags: &mut u8,
) -> u64 {
    debug_assert!(sig >> 62 == 1);
    let half = 1u64 << (F::ROUND_BITS - 1);
    let rest_mask = (1u64 << F::ROUND_BITS) - 1;
    let sign = sign_bit::<F>(negative);
    let min_exp = 1 - F::BIAS;

    if exp < min_exp {
        // RISC-V detects tininess after rounding: the value is not tiny if rounding it to full
        // precision with an unbounded exponent range would already give the smallest normal.
        let all_ones = (F::HIDDEN << 1) - 1;
        let reaches_min_normal = exp == min_exp - 1
            && sig >> F::ROUND_BITS == all_ones
            && round_increment(rm, negative, true, sig & rest_mask, half);
        let sig = shift_right_jam64(sig, (min_exp - exp) as u32);
        let rest = sig & rest_mask;
        let mut kept = sig >> F::ROUND_BITS;
        if rest != 0 {
            *flags |= NX;
            if !reaches_min_normal {
                *flags |= UF;
            }
        }
        if round_increment(rm, negative, kept & 1 == 1, rest, half) {
            kept += 1;
        }
        // A carry into the hidden-bit position yields exponent field 1: the smallest normal.
        return sign | kept;
    }

    let rest = sig & rest_mask;
    let mut kept = sig >> F::ROUND_BITS;
    let mut exp = exp;
    if round_increment(rm, negative, kept & 1 == 1, rest, half) {
        kept += 1;
        if kept == F::HIDDEN << 1 {
            kept >>= 1;
            exp += 1;
        }
    }
    if exp > F::BIAS {
        *flags |= OF | NX;
        return sign
            | if overflow_is_infinite(rm, negative) {
                F::INF
            } else {
                F::MAX_FINITE
            };
    }
    if rest != 0 {
        *flags |= NX;
    }
    sign | ((exp + F::BIAS) as u64) << F::FRAC_BITS | (kept & F::FRAC_MASK)
}

#[inline(never)] // keeps the callers' fast paths small
pub(crate) fn add<F: Format>(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    if is_nan::<F>(a) || is_nan::<F>(b) {
        return nan_result::<F>(a, b, flags);
    }
    if is_inf::<F>(a) || is_inf::<F>(b) {
        if is_inf::<F>(a) && is_inf::<F>(b) && (a ^ b) & F::SIGN != 0 {
            *flags |= NV;
            return F::CANONICAL_NAN;
        }
        return if is_inf::<F>(a) { a } else { b };
    }
    if is_zero::<F>(a) {
        return if is_zero::<F>(b) {
            exact_zero_sum::<F>(is_negative::<F>(a), is_negative::<F>(b), rm)
        } else {
            b
        };
    }
    if is_zero::<F>(b) {
        return a;
    }
    let mut big = unpack::<F>(a);
    let mut small = unpack::<F>(b);
    if (big.exp, big.sig) < (small.exp, small.sig) {
        core::mem::swap(&mut big, &mut small);
    }
    // Significands have at least ten zero bits below their last bit, so aligning by one
    // place (the only case where cancellation can remove more than one leading bit) is
    // exact, and otherwise the sticky bit stays well below the rounding position.
    let small_sig = shift_right_jam64(small.sig, (big.exp - small.exp) as u32);
    let sum = if big.negative == small.negative {
        big.sig + small_sig
    } else {
        big.sig - small_sig
    };
    if sum == 0 {
        return sign_bit::<F>(rm == RoundingMode::Rdn);
    }
    let leading = 63 - sum.leading_zeros() as i32;
    let sig = if leading > 62 {
        shift_right_jam64(sum, 1)
    } else {
        sum << (62 - leading)
    };
    round_pack::<F>(big.negative, big.exp + leading - 62, sig, rm, flags)
}

#[inline(never)] // keeps the callers' fast paths small
pub(crate) fn sub<F: Format>(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    add::<F>(a, b ^ F::SIGN, rm, flags)
}

#[inline(never)] // keeps the callers' fast paths small
pub(crate) fn mul<F: Format>(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    if is_nan::<F>(a) || is_nan::<F>(b) {
        return nan_result::<F>(a, b, flags);
    }
    let negative = is_negative::<F>(a ^ b);
    if is_inf::<F>(a) || is_inf::<F>(b) {
        if is_zero::<F>(a) || is_zero::<F>(b) {
            *flags |= NV;
            return F::CANONICAL_NAN;
        }
        return sign_bit::<F>(negative) | F::INF;
    }
    if is_zero::<F>(a) || is_zero::<F>(b) {
        return sign_bit::<F>(negative);
    }
    let x = unpack::<F>(a);
    let y = unpack::<F>(b);
    let (sig, leading) = normalize128(x.sig as u128 * y.sig as u128);
    round_pack::<F>(negative, x.exp + y.exp + leading - 124, sig, rm, flags)
}

#[inline(never)] // keeps the callers' fast paths small
pub(crate) fn div<F: Format>(a: u64, b: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    if is_nan::<F>(a) || is_nan::<F>(b) {
        return nan_result::<F>(a, b, flags);
    }
    let sign = sign_bit::<F>(is_negative::<F>(a ^ b));
    if is_inf::<F>(a) {
        if is_inf::<F>(b) {
            *flags |= NV;
            return F::CANONICAL_NAN;
        }
        return sign | F::INF;
    }
    if is_inf::<F>(b) {
        return sign;
    }
    if is_zero::<F>(b) {
        if is_zero::<F>(a) {
            *flags |= NV;
            return F::CANONICAL_NAN;
        }
        *flags |= DZ;
        return sign | F::INF;
    }
    if is_zero::<F>(a) {
        return sign;
    }
    let x = unpack::<F>(a);
    let y = unpack::<F>(b);
    let dividend = (x.sig as u128) << 64;
    let divisor = y.sig as u128;
    // The quotient has 64 or 65 bits, so the remainder only ever feeds the sticky bit.
    let quotient = dividend / divisor;
    let inexact = dividend % divisor != 0;
    let (sig, leading) = normalize128(quotient | u128::from(inexact));
    round_pack::<F>(sign != 0, x.exp - y.exp + leading - 64, sig, rm, flags)
}

/// Floor of the square root of `n` (non-zero, below 2^120) and the remainder `n - root^2`, one root
/// bit per pair of radicand bits from the top (digit recurrence), without data-dependent
/// branches. The partial remainder never exceeds twice the partial root, so both fit a u64.
fn isqrt_rem(n: u128) -> (u64, u64) {
    debug_assert!(n != 0 && n >> 120 == 0);
    let pairs = (128 - n.leading_zeros()).div_ceil(2);
    // The leading pair goes to the top of the word; each step takes the top pair off.
    let mut bits = n << (128 - 2 * pairs);
    let mut root = 0u64;
    let mut remainder = 0u64;
    for _ in 0..pairs {
        remainder = remainder << 2 | (bits >> 126) as u64;
        bits <<= 2;
        let trial = root << 2 | 1;
        let fits = u64::from(remainder >= trial);
        remainder -= trial & fits.wrapping_neg();
        root = root << 1 | fits;
    }
    (root, remainder)
}

#[inline(never)] // keeps the callers' fast paths small
pub(crate) fn sqrt<F: Format>(a: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    if is_nan::<F>(a) {
        return nan_result::<F>(a, a, flags);
    }
    if is_zero::<F>(a) {
        return a;
    }
    if is_negative::<F>(a) {
        *flags |= NV;
        return F::CANONICAL_NAN;
    }
    if is_inf::<F>(a) {
        return a;
    }
    let x = unpack::<F>(a);
    // a = significand * 2^exp with a (FRAC_BITS + 1)-bit significand.
    let significand = x.sig >> F::ROUND_BITS;
    let exp = x.exp - F::FRAC_BITS as i32;
    // Scale so the root has FRAC_BITS + 3 or more bits (a round bit and a bit to hold the
    // sticky remainder) and the power of two left over is even.
    let shift = F::FRAC_BITS as i32 + 5 + ((exp - F::FRAC_BITS as i32 - 5) & 1);
    let radicand = (significand as u128) << shift;
    let (root, remainder) = isqrt_rem(radicand);
    let (sig, leading) = normalize128(u128::from(root | u64::from(remainder != 0)));
    round_pack::<F>(false, (exp - shift) / 2 + leading, sig, rm, flags)
}

/// `a * b + c` with a single rounding.
#[inline(never)] // keeps the callers' fast paths small
pub(crate) fn mul_add<F: Format>(a: u64, b: u64, c: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    let product_negative = is_negative::<F>(a ^ b);
    let inf_times_zero = (is_inf::<F>(a) && is_zero::<F>(b)) || (is_zero::<F>(a) && is_inf::<F>(b));
    if is_nan::<F>(a) || is_nan::<F>(b) || is_nan::<F>(c) {
        // RISC-V raises NV for infinity times zero even when the addend is a quiet NaN.
        if inf_times_zero
            || is_signaling_nan::<F>(a)
            || is_signaling_nan::<F>(b)
            || is_signaling_nan::<F>(c)
        {
            *flags |= NV;
        }
        return F::CANONICAL_NAN;
    }
    if inf_times_zero {
        *flags |= NV;
        return F::CANONICAL_NAN;
    }
    if is_inf::<F>(a) || is_inf::<F>(b) {
        if is_inf::<F>(c) && is_negative::<F>(c) != product_negative {
            *flags |= NV;
            return F::CANONICAL_NAN;
        }
        return sign_bit::<F>(product_negative) | F::INF;
    }
    if is_inf::<F>(c) {
        return c;
    }
    if is_zero::<F>(a) || is_zero::<F>(b) {
        return if is_zero::<F>(c) {
            exact_zero_sum::<F>(product_negative, is_negative::<F>(c), rm)
        } else {
            c
        };
    }
    let x = unpack::<F>(a);
    let y = unpack::<F>(b);
    // product * 2^(product_exp - 124) is exact; it lies in [2^124, 2^126).
    let product = x.sig as u128 * y.sig as u128;
    let product_exp = x.exp + y.exp;
    if is_zero::<F>(c) {
        let (sig, leading) = normalize128(product);
        return round_pack::<F>(
            product_negative,
            product_exp + leading - 124,
            sig,
            rm,
            flags,
        );
    }
    let z = unpack::<F>(c);
    // addend * 2^(z.exp - 124), in [2^124, 2^125).
    let addend = (z.sig as u128) << 62;
    // Aligning the smaller-scaled operand is exact unless it is so much smaller that no
    // cancellation can reach the rounding position, so a sticky bit is then enough.
    let (product, addend, scale) = if product_exp >= z.exp {
        (
            product,
            shift_right_jam128(addend, (product_exp - z.exp) as u32),
            product_exp,
        )
    } else {
        (
            shift_right_jam128(product, (z.exp - product_exp) as u32),
            addend,
            z.exp,
        )
    };
    let (magnitude, negative) = if product_negative == z.negative {
        (product + addend, product_negative)
    } else if product >= addend {
        (product - addend, product_negative)
    } else {
        (addend - product, z.negative)
    };
    if magnitude == 0 {
        return sign_bit::<F>(rm == RoundingMode::Rdn);
    }
    let (sig, leading) = normalize128(magnitude);
    round_pack::<F>(negative, scale + leading - 124, sig, rm, flags)
}

/// Rounds an integer magnitude to format `F`.
#[inline(never)] // keeps the callers' fast paths small
pub(crate) fn from_integer<F: Format>(
    negative: bool,
    magnitude: u64,
    rm: RoundingMode,
    flags: &mut u8,
) -> u64 {
    if magnitude == 0 {
        return 0;
    }
    let (sig, leading) = normalize128(magnitude as u128);
    round_pack::<F>(negative, leading, sig, rm, flags)
}

/// A value rounded to an integer, before the range of the destination type is checked.
enum Integral {
    NaN,
    /// Infinities and values of 2^65 or more have `magnitude == u128::MAX`.
    Number {
        negative: bool,
        magnitude: u128,
        inexact: bool,
    },
}

fn round_to_integral<F: Format>(a: u64, rm: RoundingMode) -> Integral {
    if is_nan::<F>(a) {
        return Integral::NaN;
    }
    let negative = is_negative::<F>(a);
    if is_inf::<F>(a) {
        return Integral::Number {
            negative,
            magnitude: u128::MAX,
            inexact: false,
        };
    }
    if is_zero::<F>(a) {
        return Integral::Number {
            negative,
            magnitude: 0,
            inexact: false,
        };
    }
    let field = ((a & !F::SIGN) >> F::FRAC_BITS) as i32;
    let (significand, effective_field) = if field == 0 {
        (a & F::FRAC_MASK, 1)
    } else {
        ((a & F::FRAC_MASK) | F::HIDDEN, field)
    };
    // a = significand * 2^exp
    let exp = effective_field - F::BIAS - F::FRAC_BITS as i32;
    if exp >= 0 {
        let magnitude = if exp > 64 {
            u128::MAX
        } else {
            (significand as u128) << exp
        };
        return Integral::Number {
            negative,
            magnitude,
            inexact: false,
        };
    }
    let shift = (-exp) as u32;
    let (kept, rest, half) = if shift > 64 {
        // The significand has at most 53 bits, so the whole value is below one half.
        (0u128, 1u64, 2u64)
    } else {
        let wide = significand as u128;
        (
            wide >> shift,
            (wide & ((1u128 << shift) - 1)) as u64,
            (1u128 << (shift - 1)) as u64,
        )
    };
    let increment = round_increment(rm, negative, kept & 1 == 1, rest, half);
    Integral::Number {
        negative,
        magnitude: kept + u128::from(increment),
        inexact: rest != 0,
    }
}

/// Converts to a signed integer of `width` bits with RISC-V saturation.
#[inline(never)] // keeps the callers' fast paths small
pub(crate) fn to_signed<F: Format>(a: u64, rm: RoundingMode, width: u32, flags: &mut u8) -> i64 {
    let max = (1u128 << (width - 1)) - 1;
    match round_to_integral::<F>(a, rm) {
        Integral::NaN => {
            *flags |= NV;
            max as i64
        }
        Integral::Number {
            negative: false,
            magnitude,
            inexact,
        } => {
            if magnitude > max {
                *flags |= NV;
                return max as i64;
            }
            if inexact {
                *flags |= NX;
            }
            magnitude as i64
        }
        Integral::Number {
            negative: true,
            magnitude,
            inexact,
        } => {
            if magnitude > max + 1 {
                *flags |= NV;
                return (-(max as i128) - 1) as i64;
            }
            if inexact {
                *flags |= NX;
            }
            (magnitude as i128).wrapping_neg() as i64
        }
    }
}

/// Converts to an unsigned integer of `width` bits with RISC-V saturation.
#[inline(never)] // keeps the callers' fast paths small
pub(crate) fn to_unsigned<F: Format>(a: u64, rm: RoundingMode, width: u32, flags: &mut u8) -> u64 {
    let max = (1u128 << width) - 1;
    match round_to_integral::<F>(a, rm) {
        Integral::NaN => {
            *flags |= NV;
            max as u64
        }
        Integral::Number {
            negative,
            magnitude,
            inexact,
        } => {
            if negative && magnitude != 0 {
                *flags |= NV;
                return 0;
            }
            if magnitude > max {
                *flags |= NV;
                return max as u64;
            }
            if inexact {
                *flags |= NX;
            }
            magnitude as u64
        }
    }
}

/// Converts between formats; widening is always exact.
#[inline(never)] // keeps the callers' fast paths small
pub(crate) fn convert<From: Format, To: Format>(a: u64, rm: RoundingMode, flags: &mut u8) -> u64 {
    if is_nan::<From>(a) {
        nan_result::<From>(a, a, flags);
        return To::CANONICAL_NAN;
    }
    let sign = sign_bit::<To>(is_negative::<From>(a));
    if is_inf::<From>(a) {
        return sign | To::INF;
    }
    if is_zero::<From>(a) {
        return sign;
    }
    let x = unpack::<From>(a);
    round_pack::<To>(x.negative, x.exp, x.sig, rm, flags)
}
