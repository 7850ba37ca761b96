//! Host-FPU fast paths: exact whenever they answer, `None` whenever they cannot prove it.
//!
//! The host computes in round-to-nearest-even (the only mode Rust exposes). Each function
//! below recovers, with error-free transformations or exact integer checks, whether that
//! result was inexact and on which side of the exact value it lies; the other rounding modes
//! are then at most one unit in the last place away. Inexact results are only accepted when
//! they are normal and at least one binade away from both ends of the exponent range, so
//! stepping by one unit can neither overflow nor underflow and UF/OF never arise; zeros and
//! subnormals are accepted only when exact. Everything else returns `None` and is left to
//! the `soft` reference code.
//!
//! This relies on the host's default floating-point environment (round to nearest, no
//! flush-to-zero), which Rust itself assumes.

use super::RoundingMode;
use super::NX;

/// Targets whose `f32`/`f64` arithmetic is IEEE-754 binary32/binary64 in hardware (no x87
/// double rounding, no flush-to-zero by default). Elsewhere only the soft path is used.
pub(super) const HOST_IS_IEEE: bool = cfg!(any(
    target_arch = "x86_64",
    all(target_arch = "x86", target_feature = "sse2"),
    target_arch = "aarch64",
    all(target_arch = "riscv64", target_feature = "d"),
    target_arch = "loongarch64",
    target_arch = "wasm32",
));

const SIGN64: u64 = 1 << 63;
const SIGN32: u32 = 1 << 31;
const FRAC64: u64 = (1 << 52) - 1;

/// Moves a round-to-nearest-even result to the neighbour that `rm` selects. `away` says the
/// nearest result is larger in magnitude than the exact value; `tie` that the exact value was
/// halfway between two neighbours. `bits ± 1` steps the magnitude by one unit in the last
/// place, which the callers make safe by only passing results well inside the normal range.
#[inline(always)]
fn adjust(bits: u64, negative: bool, away: bool, tie: bool, rm: RoundingMode) -> u64 {
    let toward_zero = bits - 1;
    let away_from_zero = bits + 1;
    match rm {
        RoundingMode::Rne => bits,
        RoundingMode::Rtz => {
            if away {
                toward_zero
            } else {
                bits
            }
        }
        // Rounding down moves negative values away from zero, positive ones towards it.
        RoundingMode::Rdn => match (negative, away) {
            (false, true) => toward_zero,
            (true, false) => away_from_zero,
            _ => bits,
        },
        RoundingMode::Rup => match (negative, away) {
            (true, true) => toward_zero,
            (false, false) => away_from_zero,
            _ => bits,
        },
        RoundingMode::Rmm => {
            if tie && !away {
                away_from_zero
            } else {
                bits
            }
        }
    }
}

/// Whether `field` (a biased exponent) is in `[2, max_field - 2]`.
#[inline(always)]
pub(super) fn well_inside_normal_range(field: u64, max_field: u64) -> bool {
    field.wrapping_sub(2) <= max_field - 4
}

/// Generates the add fast path for one host type: TwoSum (Knuth) gives the exact rounding
/// error of the host sum, since no intermediate can overflow once the sum itself is
/// finite and well inside the range, and an inexact sum is never subnormal.
macro_rules! add_fast_path {
    ($name:ident, $float:ty, $bits:ty, $sign:expr, $max_field:expr, $frac_bits:expr) => {
        #[inline(always)]
        pub(super) fn $name(a: $bits, b: $bits, rm: RoundingMode) -> Option<($bits, u8)> {
            let x = <$float>::from_bits(a);
            let y = <$float>::from_bits(b);
            let sum = x + y;
            let bits = sum.to_bits();
            // Infinities and NaNs have the maximal field, so this also excludes them.
            if ((bits & !$sign) >> $frac_bits) as u64 >= $max_field - 1 {
                return None;
            }
            let y_part = sum - x;
            let x_part = sum - y_part;
            let error = (x - x_part) + (y - y_part);
            debug_assert!(error.is_finite());
            if error == 0.0 {
                // An exact zero sum is +0 except when rounding down (x + -x = -0 there);
                // the host already gets the other exact cases right.
                if bits & !$sign == 0 && rm == RoundingMode::Rdn {
                    return Some(((a | b) & $sign, 0));
                }
                return Some((bits, 0));
            }
            let negative = bits & $sign != 0;
            let away = if negative { error > 0.0 } else { error < 0.0 };
            let tie = rm == RoundingMode::Rmm
                && !away
                && <$float>::from_bits(bits + 1) - sum == error + error;
            Some((adjust(bits.into(), negative, away, tie, rm) as $bits, NX))
        }
    };
}

add_fast_path!(f64_add, f64, u64, SIGN64, 0x7ff, 52);
add_fast_path!(f32_add, f32, u32, SIGN32, 0xff, 23);

#[inline(always)]
pub(super) fn f64_sub(a: u64, b: u64, rm: RoundingMode) -> Option<(u64, u8)> {
    f64_add(a, b ^ SIGN64, rm)
}

#[inline(always)]
pub(super) fn f32_sub(a: u32, b: u32, rm: RoundingMode) -> Option<(u32, u8)> {
    f32_add(a, b ^ SIGN32, rm)
}

/// The integer significand (with the hidden bit when normal) of a finite binary64.
#[inline(always)]
fn significand64(bits: u64) -> u64 {
    let frac = bits & FRAC64;
    if bits & !SIGN64 >= 1 << 52 {
        frac | 1 << 52
    } else {
        frac
    }
}

/// binary64 product: the exact product of the integer significands tells whether the host
/// product is exact and, for the other modes, which two neighbours the host chose between
/// and how far the exact value is from each.
#[inline(always)]
pub(super) fn f64_mul(a: u64, b: u64, rm: RoundingMode) -> Option<(u64, u8)> {
    let product = f64::from_bits(a) * f64::from_bits(b);
    let bits = product.to_bits();
    if !well_inside_normal_range((bits >> 52) & 0x7ff, 0x7ff) {
        let zero_operand = a & !SIGN64 == 0 || b & !SIGN64 == 0;
        // A zero product (not NaN: 0 * inf is NaN) of a zero operand is exact.
        return (bits & !SIGN64 == 0 && zero_operand).then_some((bits, 0));
    }
    let (a_significand, b_significand) = (significand64(a), significand64(b));
    // Without their trailing zeros, the significands' product fits in 53 bits iff the
    // product is exact; in round-to-nearest that is all there is to know.
    let a_odd = a_significand >> a_significand.trailing_zeros();
    let b_odd = b_significand >> b_significand.trailing_zeros();
    if a_odd
        .checked_mul(b_odd)
        .is_some_and(|odd_product| odd_product >> 53 == 0)
    {
        return Some((bits, 0));
    }
    if rm == RoundingMode::Rne {
        return Some((bits, NX));
    }
    let exact = a_significand as u128 * b_significand as u128;
    let dropped = 128 - exact.leading_zeros() - 53;
    let rest = exact & ((1u128 << dropped) - 1);
    let truncated = (exact >> dropped) as u64;
    // The host result is either the truncation or the next value up (which may carry into
    // the next binade, leaving a zero fraction): comparing fractions tells them apart.
    let away = bits & FRAC64 != truncated & FRAC64;
    let tie = rest == 1u128 << (dropped - 1);
    Some((adjust(bits, bits & SIGN64 != 0, away, tie, rm), NX))
}

/// TwoSum (Knuth): `x + y == sum + error` exactly, barring overflow.
#[inline(always)]
fn two_sum(x: f64, y: f64) -> (f64, f64) {
    let sum = x + y;
    let y_part = sum - x;
    let x_part = sum - y_part;
    (sum, (x - x_part) + (y - y_part))
}

/// Significant bits of a normal binary64's significand, counted from its leading (implicit)
/// one to its lowest set bit; for a subnormal, at least as many as it has.
#[inline(always)]
fn significant_bits64(bits: u64) -> u32 {
    53 - (bits | 1 << 52).trailing_zeros()
}

/// `a * b + c` when both the product and the sum are exact, as in integer arithmetic or
/// short binary fractions (a matrix of eighths): then the host's unfused `a * b + c` is the
/// answer in every rounding mode and nothing is raised. Much cheaper than Dekker's product.
///
/// The product is exact when the multiplicands' significant bits fit one significand (a
/// subnormal's are over-counted, which is safe) and it is normal: a host product with a
/// biased exponent of 2 or more comes from a normal exact one. (`f64_mul`'s test, the odd
/// parts' product, is exact where this one is only sufficient, but asking it made the matmul
/// guest run 8% more host instructions.) This also turns away zero,
/// infinite and NaN multiplicands. The sum is exact when subtracting either addend from it
/// gives back the other: for the larger addend that difference is exact (Fast2Sum), so an
/// inexact sum fails; NaNs fail every comparison, and an infinite sum fails one of the two.
#[inline(always)]
pub(super) fn short_mul_add(a: u64, b: u64, c: u64, rm: RoundingMode) -> Option<(u64, u8)> {
    if significant_bits64(a) + significant_bits64(b) > 53 {
        return None;
    }
    let product = f64::from_bits(a) * f64::from_bits(b);
    if ((product.to_bits() >> 52) & 0x7ff).wrapping_sub(2) > 0x7fc {
        return None;
    }
    let addend = f64::from_bits(c);
    let sum = product + addend;
    if sum - product != addend || sum - addend != product {
        return None;
    }
    // A product cancelled by the addend: +0, but -0 when rounding down.
    if sum == 0.0 && rm == RoundingMode::Rdn {
        return None;
    }
    Some((sum.to_bits(), 0))
}

/// `a * b + c` when a finite multiplicand is zero (sparse data): exactly `c`, or a signed
/// zero when `c` is a zero too.
#[inline(always)]
fn zero_product_mul_add(a: u64, b: u64, c: u64, rm: RoundingMode) -> Option<(u64, u8)> {
    let finite = |x: u64| x & !SIGN64 < 0x7ff0_0000_0000_0000;
    let zero = |x: u64| x & !SIGN64 == 0;
    if !((zero(a) || zero(b)) && finite(a) && finite(b) && finite(c)) {
        return None;
    }
    if !zero(c) {
        return Some((c, 0));
    }
    let product_sign = (a ^ b) & SIGN64;
    let sign = if product_sign == c & SIGN64 {
        product_sign
    } else if rm == RoundingMode::Rdn {
        SIGN64
    } else {
        0
    };
    Some((sign, 0))
}

/// The host's fused multiply-add unit (x86-64 FMA3, detected at run time by `std`), used
/// once NX has accrued (see `when_inexact_accrued` in `fpu`): its result then needs no
/// check but its range. Not used to find out whether a result is exact: on the machines
/// measured, checking its result was slower than Dekker's product.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
pub(super) mod fma_unit {
    use super::RoundingMode;

    /// An entry point (`$entry`, rounding to nearest with NX already in `flags`) and its FMA3
    /// body (`$fma3`), for one format. Both paths of each end in tail calls, so neither
    /// saves a register.
    macro_rules! unit_entry {
        ($entry:ident, $fma3:ident, $bits:ty, $float:ty, $frac_bits:expr, $max_field:expr,
         $fallback:ident) => {
            #[inline(never)]
            pub(in super::super) fn $entry(a: $bits, b: $bits, c: $bits, flags: &mut u8) -> $bits {
                if std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has just been found to implement FMA3.
                    return unsafe { $fma3(a, b, c, flags) };
                }
                super::super::$fallback(a, b, c, RoundingMode::Rne, flags)
            }

            #[target_feature(enable = "fma")]
            fn $fma3(a: $bits, b: $bits, c: $bits, flags: &mut u8) -> $bits {
                let x = <$float>::from_bits(a);
                let bits = x
                    .mul_add(<$float>::from_bits(b), <$float>::from_bits(c))
                    .to_bits();
                if super::well_inside_normal_range(
                    u64::from(bits >> $frac_bits) & $max_field,
                    $max_field,
                ) {
                    return bits;
                }
                super::super::$fallback(a, b, c, RoundingMode::Rne, flags)
            }
        };
    }

    unit_entry!(
        f64_mul_add_inexact_accrued,
        f64_fma3,
        u64,
        f64,
        52,
        0x7ff,
        f64_mul_add_exactly
    );
    unit_entry!(
        f32_mul_add_inexact_accrued,
        f32_fma3,
        u32,
        f32,
        23,
        0xff,
        f32_mul_add_exactly
    );
}

/// Hosts without a fused multiply-add unit Rust can reach from here: the usual paths.
#[cfg(not(all(feature = "std", target_arch = "x86_64")))]
pub(super) mod fma_unit {
    use super::RoundingMode;

    #[inline(always)]
    pub(in super::super) fn f64_mul_add_inexact_accrued(
        a: u64,
        b: u64,
        c: u64,
        flags: &mut u8,
    ) -> u64 {
        super::super::f64_mul_add_exactly(a, b, c, RoundingMode::Rne, flags)
    }

    #[inline(always)]
    pub(in super::super) fn f32_mul_add_inexact_accrued(
        a: u32,
        b: u32,
        c: u32,
        flags: &mut u8,
    ) -> u32 {
        super::super::f32_mul_add_exactly(a, b, c, RoundingMode::Rne, flags)
    }
}

/// Veltkamp's split: `x == high + low` with both halves of at most 26 significant bits, so
/// their pairwise products are exact (needs `|x| < 2^996`).
#[inline(always)]
fn split(x: f64) -> (f64, f64) {
    let scaled = 134_217_729.0 * x; // 2^27 + 1
    let high = scaled - (scaled - x);
    (high, x - high)
}

/// binary64 fused multiply-add without a host fma. Dekker's product gives the exact product
/// as the host product `high` plus a remainder `low`, so `a*b + c = s + t + f` exactly after
/// two TwoSums, and `r + g = s + t` after a third.
///
/// Requiring `s` to be no more than one binade below `high` (no massive cancellation) bounds
/// `|t|` by 1.5 units of `s`, so `f` is below half a unit of `t`'s last place: it cannot move
/// the exact value across a rounding boundary unless `s + t` lies exactly on one (a
/// midpoint), where its sign decides. `r` is RN(s + t); the sign of `g` (or of `f` when
/// `g` is zero) says on which side of `r` the exact value lies.
#[inline(always)]
pub(super) fn f64_mul_add(a: u64, b: u64, c: u64, rm: RoundingMode) -> Option<(u64, u8)> {
    let a_field = (a >> 52) & 0x7ff;
    let b_field = (b >> 52) & 0x7ff;
    // Multiplicands that split without overflow (below 2^996), whose product's last bit,
    // 2^(a_field + b_field - 2150), is a normal power of two (so Dekker's `low` is exact),
    // and a finite addend.
    let operands_ok = a_field.wrapping_sub(1) < 2018
        && b_field.wrapping_sub(1) < 2018
        && a_field + b_field >= 1128
        && c & !SIGN64 < 0x7ff0_0000_0000_0000;
    if !operands_ok {
        return zero_product_mul_add(a, b, c, rm);
    }
    let x = f64::from_bits(a);
    let y = f64::from_bits(b);
    let high = x * y;
    let high_field = (high.to_bits() >> 52) & 0x7ff;
    if high_field >= 0x7fe {
        return None;
    }
    let (x_high, x_low) = split(x);
    let (y_high, y_low) = split(y);
    let low = ((x_high * y_high - high) + x_high * y_low + x_low * y_high) + x_low * y_low;

    let (s, e) = two_sum(high, f64::from_bits(c));
    let s_bits = s.to_bits();
    let s_field = (s_bits >> 52) & 0x7ff;
    if s_field + 1 < high_field || s_field >= 0x7fe {
        return None;
    }
    // The usual case, with no cancellation at all and `s` not a power of two (so its
    // neighbours are one unit away on both sides): the exact value is s + T with
    // T = e + low and |T| <= 2h, h being half a unit of s; t = RN(T) compares with h and 2h
    // as T does unless it equals one of them, which the general code below sorts out.
    if s_field >= high_field && s_bits & FRAC64 != 0 {
        let t = e + low;
        let t_magnitude = t.to_bits() & !SIGN64;
        let half_unit = (s_field - 53) << 52;
        let unit = half_unit + (1 << 52);
        if t_magnitude == 0 {
            // T is a multiple of the smallest subnormal, so RN(T) = 0 only if T = 0.
            return Some((s_bits, 0));
        }
        if t_magnitude != half_unit && t_magnitude != unit {
            let negative = s < 0.0;
            let t_points_away = (t > 0.0) != negative;
            let (nearest, away) = if t_magnitude < half_unit {
                (s_bits, !t_points_away)
            } else if t_points_away {
                (s_bits + 1, true)
            } else {
                (s_bits - 1, false)
            };
            return Some((adjust(nearest, negative, away, false, rm), NX));
        }
    }
    let (t, f) = two_sum(e, low);
    let (r, g) = two_sum(s, t);
    let r_bits = r.to_bits();
    if !well_inside_normal_range((r_bits >> 52) & 0x7ff, 0x7ff) {
        return None;
    }
    if g == 0.0 && f == 0.0 {
        return Some((r_bits, 0));
    }
    let negative = r < 0.0;
    // Exact value = r + g + f, with |f| < |g| whenever g != 0.
    let (result, away, tie) = if g != 0.0 {
        let g_away = (g > 0.0) != negative;
        let neighbour = if g_away { r_bits + 1 } else { r_bits - 1 };
        let midpoint = f64::from_bits(neighbour) - r == g + g;
        if midpoint && f != 0.0 && (f > 0.0) == (g > 0.0) {
            // Past the midpoint: the neighbour is nearest; it lies beyond the exact value.
            (neighbour, g_away, false)
        } else {
            (r_bits, !g_away, midpoint && f == 0.0)
        }
    } else {
        (r_bits, (f > 0.0) == negative, false)
    };
    Some((adjust(result, negative, away, tie, rm), NX))
}

/// binary64 quotient of normal operands: `q` is exact iff `q * b == a`, which the integer
/// significands decide exactly; an exact quotient is never halfway between two doubles.
#[inline(always)]
pub(super) fn f64_div(a: u64, b: u64, rm: RoundingMode) -> Option<(u64, u8)> {
    let quotient = f64::from_bits(a) / f64::from_bits(b);
    let bits = quotient.to_bits();
    let a_field = (a >> 52) & 0x7ff;
    let b_field = (b >> 52) & 0x7ff;
    let q_field = (bits >> 52) & 0x7ff;
    let normal_operands = a_field.wrapping_sub(1) < 0x7fe && b_field.wrapping_sub(1) < 0x7fe;
    if !(normal_operands && well_inside_normal_range(q_field, 0x7ff)) {
        let zero_dividend = a & !SIGN64 == 0 && b & !SIGN64 != 0 && b_field != 0x7ff;
        return zero_dividend.then_some((bits, 0));
    }
    // a = ma * 2^(ea - 1075), b likewise, q likewise: compare ma * 2^shift with mq * mb.
    let shift = (a_field + 1075 - q_field - b_field) as u32;
    debug_assert!(shift == 52 || shift == 53);
    let dividend = ((a & FRAC64 | 1 << 52) as u128) << shift;
    let product = (bits & FRAC64 | 1 << 52) as u128 * (b & FRAC64 | 1 << 52) as u128;
    if dividend == product {
        return Some((bits, 0));
    }
    Some((
        adjust(bits, bits & SIGN64 != 0, product > dividend, false, rm),
        NX,
    ))
}

/// An approximation of `sqrt(v)` for `v` in `[2^46, 2^106)`, good to a few units in the last
/// place: a bit-trick reciprocal square root refined by Newton steps, which converge
/// quadratically (about 5, 10, 20, 40, then all 53 bits). Only + - * are available in core.
#[inline(always)]
fn approximate_sqrt(v: f64, newton_steps: u32) -> f64 {
    let mut reciprocal = f64::from_bits(0x5fe6_eb50_c7b5_37a9 - (v.to_bits() >> 1));
    let half = 0.5 * v;
    for _ in 0..newton_steps {
        reciprocal *= 1.5 - half * reciprocal * reciprocal;
    }
    v * reciprocal
}

/// Rounds `sqrt(radicand)` to an integer given an estimate within a few units, returning the
/// rounded root and whether it is inexact. A square root is never exactly halfway.
#[inline(always)]
fn round_integer_sqrt(radicand: u128, estimate: f64, rm: RoundingMode) -> Option<(u64, bool)> {
    let mut root = estimate as u64;
    let mut square = root as u128 * root as u128;
    let mut steps = 0;
    while square > radicand {
        square -= 2 * root as u128 - 1;
        root -= 1;
        steps += 1;
    }
    while square + 2 * (root as u128) < radicand {
        square += 2 * root as u128 + 1;
        root += 1;
        steps += 1;
    }
    // square = root^2 <= radicand < (root + 1)^2 now; a poor estimate means a broken host.
    if steps > 8 {
        return None;
    }
    let remainder = radicand - square;
    let round_up = match rm {
        // sqrt >= root + 1/2  <=>  radicand >= root^2 + root + 1/4  <=>  remainder > root
        RoundingMode::Rne | RoundingMode::Rmm => remainder > root as u128,
        RoundingMode::Rup => remainder != 0,
        RoundingMode::Rtz | RoundingMode::Rdn => false,
    };
    Some((root + u64::from(round_up), remainder != 0))
}

/// binary64 square root of a positive normal (the result is always normal).
#[inline(always)]
pub(super) fn f64_sqrt(a: u64, rm: RoundingMode) -> Option<(u64, u8)> {
    // The sign bit makes negative fields large, so this keeps positive normals only.
    let field = a >> 52;
    if field.wrapping_sub(1) >= 0x7fe {
        return None;
    }
    // a = m * 2^exp; make exp - 52 even so the root's exponent is an integer.
    let mut significand = a & FRAC64 | 1 << 52;
    let mut exp = field as i64 - 1075;
    if (exp - 52) & 1 != 0 {
        significand <<= 1;
        exp -= 1;
    }
    // sqrt(a) = sqrt(significand * 2^52) * 2^((exp - 52) / 2), the first factor in [2^52, 2^53).
    let radicand = (significand as u128) << 52;
    // Converting the u128 would be a library call; the scaled significand is the same value.
    let estimate = approximate_sqrt(significand as i64 as f64 * (1u64 << 52) as f64, 4);
    let (root, inexact) = round_integer_sqrt(radicand, estimate, rm)?;
    let root_field = ((exp - 52) / 2 + 1075) as u64;
    // A root rounded up to 2^53 carries into the exponent by itself.
    Some((
        ((root_field - 1) << 52) + root,
        if inexact { NX } else { 0 },
    ))
}

/// binary32 square root of a positive normal, with 64-bit integers.
#[inline(always)]
pub(super) fn f32_sqrt(a: u32, rm: RoundingMode) -> Option<(u32, u8)> {
    let field = a >> 23;
    if field.wrapping_sub(1) >= 0xfe {
        return None;
    }
    let mut significand = u64::from(a & 0x7f_ffff | 1 << 23);
    let mut exp = i64::from(field) - 150;
    if (exp - 23) & 1 != 0 {
        significand <<= 1;
        exp -= 1;
    }
    let radicand = significand << 23;
    let estimate = approximate_sqrt(radicand as i64 as f64, 3);
    let (root, inexact) = round_integer_sqrt(radicand.into(), estimate, rm)?;
    let root_field = ((exp - 23) / 2 + 150) as u32;
    Some((
        ((root_field - 1) << 23) + root as u32,
        if inexact { NX } else { 0 },
    ))
}

/// Rounds a binary64 value to binary32 in mode `rm`. `v` must be the exact value, or a
/// stand-in strictly on the same side of every binary32 value and midpoint as the exact
/// value (such as a round-to-odd result, or a correctly rounded quotient of binary32s).
#[inline(always)]
fn narrow(v: f64, rm: RoundingMode) -> Option<(u32, u8)> {
    let rounded = v as f32;
    let bits = rounded.to_bits();
    if !well_inside_normal_range(u64::from(bits >> 23 & 0xff), 0xff) {
        return (v == 0.0).then_some((bits, 0));
    }
    let back = f64::from(rounded);
    if back == v {
        return Some((bits, 0));
    }
    let negative = v < 0.0;
    let away = if negative { back < v } else { back > v };
    // Halfway between binary32 neighbours: exactly the top one of the 29 dropped bits.
    let tie = v.to_bits() & 0x1fff_ffff == 0x1000_0000;
    Some((adjust(bits.into(), negative, away, tie, rm) as u32, NX))
}

/// binary32 product: exact in binary64 (24 + 24 bits), so one rounding to binary32 remains.
#[inline(always)]
pub(super) fn f32_mul(a: u32, b: u32, rm: RoundingMode) -> Option<(u32, u8)> {
    narrow(
        f64::from(f32::from_bits(a)) * f64::from(f32::from_bits(b)),
        rm,
    )
}

/// binary32 quotient: the binary64 quotient is within 2^-53 of the exact one, while an
/// inexact quotient of binary32s is more than 2^-49 (relative) from every binary32 value
/// and midpoint, so the binary64 quotient is a valid stand-in for `narrow`.
#[inline(always)]
pub(super) fn f32_div(a: u32, b: u32, rm: RoundingMode) -> Option<(u32, u8)> {
    narrow(
        f64::from(f32::from_bits(a)) / f64::from(f32::from_bits(b)),
        rm,
    )
}

/// binary32 fused multiply-add: the product is exact in binary64, the sum is rounded to odd
/// (TwoSum tells whether and in which direction it was inexact), and a round-to-odd result
/// with at least two extra bits rounds correctly to binary32 in every mode.
#[inline(always)]
pub(super) fn f32_mul_add(a: u32, b: u32, c: u32, rm: RoundingMode) -> Option<(u32, u8)> {
    let product = f64::from(f32::from_bits(a)) * f64::from(f32::from_bits(b));
    let addend = f64::from(f32::from_bits(c));
    let sum = product + addend;
    if sum.to_bits() & !SIGN64 >= 0x7ff0_0000_0000_0000 {
        return None;
    }
    let product_part = sum - addend;
    let addend_part = sum - product_part;
    let error = (product - product_part) + (addend - addend_part);
    if error == 0.0 {
        if sum == 0.0 && rm == RoundingMode::Rdn {
            let negative = (product.to_bits() | addend.to_bits()) & SIGN64 != 0;
            return Some((if negative { SIGN32 } else { 0 }, 0));
        }
        return narrow(sum, rm);
    }
    // Binary32 operands keep every non-zero sum far above the binary64 subnormals, so the
    // neighbour towards the exact value is one step of the bit pattern away.
    let bits = sum.to_bits();
    let odd = if bits & 1 == 1 {
        bits
    } else if (error > 0.0) == (sum > 0.0) {
        bits + 1
    } else {
        bits - 1
    };
    narrow(f64::from_bits(odd), rm)
}

/// binary64 → binary32.
#[inline(always)]
pub(super) fn f64_to_f32(a: u64, rm: RoundingMode) -> Option<(u32, u8)> {
    narrow(f64::from_bits(a), rm)
}

/// binary32 → binary64 is exact for everything but NaNs.
#[inline(always)]
pub(super) fn f32_to_f64(a: u32) -> Option<(u64, u8)> {
    (a & !SIGN32 <= 0x7f80_0000).then(|| (f64::from(f32::from_bits(a)).to_bits(), 0))
}

/// Rounds `x` to an integer in mode `rm`, for `|x| < 2^63` (checked by the callers).
/// `x as i64` truncates, and `x - truncated` is exact (both lie in the same binade, or the
/// difference is a fraction of `x`'s own precision).
#[inline(always)]
fn round_to_integer(x: f64, rm: RoundingMode) -> (i64, u8) {
    let truncated = x as i64;
    let fraction = x - truncated as f64;
    if fraction == 0.0 {
        return (truncated, 0);
    }
    let step = if fraction > 0.0 { 1 } else { -1 };
    let half = if fraction > 0.0 {
        fraction - 0.5
    } else {
        -0.5 - fraction
    };
    let away = match rm {
        RoundingMode::Rtz => false,
        RoundingMode::Rdn => fraction < 0.0,
        RoundingMode::Rup => fraction > 0.0,
        RoundingMode::Rne => half > 0.0 || (half == 0.0 && truncated & 1 != 0),
        RoundingMode::Rmm => half >= 0.0,
    };
    (truncated + if away { step } else { 0 }, NX)
}

/// Float → integer conversions for values whose rounded result is surely in range: `x` in
/// `[lower, upper)`, bounds chosen so that rounding cannot leave the range.
macro_rules! to_integer_fast_path {
    ($name:ident, $input:ty, $to_f64:expr, $output:ty, $lower:expr, $upper:expr) => {
        #[inline(always)]
        pub(super) fn $name(a: $input, rm: RoundingMode) -> Option<($output, u8)> {
            let x: f64 = $to_f64(a);
            // NaN fails both comparisons.
            if ($lower..$upper).contains(&x) {
                let (value, flags) = round_to_integer(x, rm);
                Some((value as $output, flags))
            } else {
                None
            }
        }
    };
}

fn single_to_f64(a: u32) -> f64 {
    f64::from(f32::from_bits(a))
}

// Limits: binary64 2^31 - 1 and 2^32 - 1 are exact; binary32 values below 2^31 (2^32, 2^63,
// 2^64) are at least one unit below them. Unsigned conversions leave negatives (but not -0)
// to `soft`.
to_integer_fast_path!(
    f64_to_i32,
    u64,
    f64::from_bits,
    i32,
    -2147483647.0,
    2147483647.0
);
to_integer_fast_path!(f64_to_u32, u64, f64::from_bits, u32, 0.0, 4294967295.0);
to_integer_fast_path!(
    f64_to_i64,
    u64,
    f64::from_bits,
    i64,
    -9223372036854775808.0,
    9223372036854775808.0
);
to_integer_fast_path!(
    f32_to_i32,
    u32,
    single_to_f64,
    i32,
    -2147483648.0,
    2147483648.0
);
to_integer_fast_path!(f32_to_u32, u32, single_to_f64, u32, 0.0, 4294967296.0);
to_integer_fast_path!(
    f32_to_i64,
    u32,
    single_to_f64,
    i64,
    -9223372036854775808.0,
    9223372036854775808.0
);

/// binary64 → u64: values of 2^63 and above do not fit the `i64` rounding helper.
#[inline(always)]
pub(super) fn f64_to_u64(a: u64, rm: RoundingMode) -> Option<(u64, u8)> {
    let x = f64::from_bits(a);
    if (0.0..9223372036854775808.0).contains(&x) {
        let (value, flags) = round_to_integer(x, rm);
        Some((value as u64, flags))
    } else if (9223372036854775808.0..18446744073709551616.0).contains(&x) {
        // Integral already: binary64 has no fraction bits left above 2^52.
        Some((x as u64, 0))
    } else {
        None
    }
}

#[inline(always)]
pub(super) fn f32_to_u64(a: u32, rm: RoundingMode) -> Option<(u64, u8)> {
    f64_to_u64(single_to_f64(a).to_bits(), rm)
}

/// Integer → float conversions of integers that the format holds exactly (the host
/// conversion is then exact in every mode).
#[inline(always)]
pub(super) fn f64_from_i64(v: i64) -> Option<(u64, u8)> {
    (v.unsigned_abs() <= 1 << 53).then(|| ((v as f64).to_bits(), 0))
}

#[inline(always)]
pub(super) fn f64_from_u64(v: u64) -> Option<(u64, u8)> {
    (v <= 1 << 53).then(|| ((v as f64).to_bits(), 0))
}

#[inline(always)]
pub(super) fn f32_from_i64(v: i64) -> Option<(u32, u8)> {
    (v.unsigned_abs() <= 1 << 24).then(|| ((v as f32).to_bits(), 0))
}

#[inline(always)]
pub(super) fn f32_from_u64(v: u64) -> Option<(u32, u8)> {
    (v <= 1 << 24).then(|| ((v as f32).to_bits(), 0))
}
