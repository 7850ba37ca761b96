//! Hand-checked corner cases: every flag, every rounding mode, every conversion boundary.

use super::*;
use std::cell::Cell;

std::thread_local! {
    static SOFT_ONLY: Cell<bool> = const { Cell::new(false) };
}

/// Whether the public functions must skip the host fast paths on this thread.
pub(super) fn soft_only() -> bool {
    SOFT_ONLY.with(Cell::get)
}

/// Runs `body` with the host fast paths disabled (or not) on this thread.
pub(super) fn with_soft_only<T>(soft_only: bool, body: impl FnOnce() -> T) -> T {
    let previous = SOFT_ONLY.with(|cell| cell.replace(soft_only));
    let result = body();
    SOFT_ONLY.with(|cell| cell.set(previous));
    result
}

use RoundingMode::{Rdn, Rmm, Rne, Rtz, Rup};
const MODES: [RoundingMode; 5] = [Rne, Rtz, Rdn, Rup, Rmm];

fn d(v: f64) -> u64 {
    v.to_bits()
}
fn s(v: f32) -> u32 {
    v.to_bits()
}

/// Runs `op` on both the default and the soft-only path, checks they agree, returns both parts.
fn both<T: PartialEq + core::fmt::Debug>(op: impl Fn(&mut u8) -> T) -> (T, u8) {
    let mut fast_flags = 0;
    let fast = op(&mut fast_flags);
    let mut soft_flags = 0;
    let soft = with_soft_only(true, || op(&mut soft_flags));
    assert_eq!(
        (&fast, fast_flags),
        (&soft, soft_flags),
        "fast and soft paths disagree"
    );
    (fast, fast_flags)
}

const F64_MIN_SUB: u64 = 1;
const F64_MAX: u64 = 0x7fef_ffff_ffff_ffff;
const F64_MIN_NORMAL: u64 = 0x0010_0000_0000_0000;
const F64_INF: u64 = 0x7ff0_0000_0000_0000;
const F64_SNAN: u64 = 0x7ff0_0000_0000_0001;
const F64_QNAN_PAYLOAD: u64 = 0xfff8_0000_dead_beef;
const NEG: u64 = 1 << 63;
const F32_INF: u32 = 0x7f80_0000;
const F32_SNAN: u32 = 0x7f80_0001;
const F32_MAX: u32 = 0x7f7f_ffff;

#[test]
fn rounding_mode_encoding() {
    for (bits, mode) in MODES.iter().enumerate() {
        assert_eq!(RoundingMode::from_bits(bits as u8), Some(*mode));
        assert_eq!(*mode as u8, bits as u8);
    }
    for bits in 5..=255 {
        assert_eq!(RoundingMode::from_bits(bits), None);
    }
}

#[test]
fn add_rounding_in_every_mode() {
    // 1 + 2^-53 is exactly halfway between 1 and 1 + 2^-52.
    let half_ulp = d(f64::EPSILON / 2.0);
    let one = d(1.0);
    let next = one + 1;
    let expected = [(Rne, one), (Rtz, one), (Rdn, one), (Rup, next), (Rmm, next)];
    for (rm, want) in expected {
        assert_eq!(
            both(|f| f64_add(one, half_ulp, rm, f)),
            (want, NX),
            "{rm:?}"
        );
    }
    // Negative: -1 - 2^-53.
    let expected = [(Rne, one), (Rtz, one), (Rdn, next), (Rup, one), (Rmm, next)];
    for (rm, want) in expected {
        assert_eq!(
            both(|f| f64_add(one | NEG, half_ulp | NEG, rm, f)),
            (want | NEG, NX),
            "{rm:?}"
        );
    }
    // 1.5 ulp above one: ties do not arise, nearest is up.
    let three_halves_ulp = d(f64::EPSILON * 0.75);
    assert_eq!(both(|f| f64_add(one, three_halves_ulp, Rne, f)), (next, NX));
    assert_eq!(both(|f| f64_add(one, three_halves_ulp, Rtz, f)), (one, NX));
}

#[test]
fn exact_zero_sums_have_the_mode_sign() {
    for rm in MODES {
        let want = if rm == Rdn { NEG } else { 0 };
        assert_eq!(
            both(|f| f64_add(d(3.5), d(-3.5), rm, f)),
            (want, 0),
            "{rm:?}"
        );
        assert_eq!(
            both(|f| f64_sub(d(3.5), d(3.5), rm, f)),
            (want, 0),
            "{rm:?}"
        );
        assert_eq!(both(|f| f64_add(0, NEG, rm, f)), (want, 0), "{rm:?}");
        assert_eq!(both(|f| f64_add(NEG, NEG, rm, f)), (NEG, 0), "{rm:?}");
        assert_eq!(both(|f| f64_add(0, 0, rm, f)), (0, 0), "{rm:?}");
        assert_eq!(
            both(|f| f32_add(s(2.0), s(-2.0), rm, f)),
            (if rm == Rdn { 0x8000_0000 } else { 0 }, 0)
        );
        // fma: the product cancels the addend exactly.
        assert_eq!(
            both(|f| f64_mul_add(d(2.0), d(3.0), d(-6.0), rm, f)),
            (want, 0),
            "{rm:?}"
        );
        assert_eq!(
            both(|f| f64_mul_add(0, d(3.0), NEG, rm, f)),
            (want, 0),
            "{rm:?}"
        );
        assert_eq!(
            both(|f| f64_mul_add(NEG, d(3.0), NEG, rm, f)),
            (NEG, 0),
            "{rm:?}"
        );
    }
}

#[test]
fn invalid_operations_give_the_canonical_nan() {
    let nan = CANONICAL_NAN_F64;
    assert_eq!(both(|f| f64_add(F64_INF, F64_INF | NEG, Rne, f)), (nan, NV));
    assert_eq!(both(|f| f64_sub(F64_INF, F64_INF, Rne, f)), (nan, NV));
    assert_eq!(both(|f| f64_mul(F64_INF, 0, Rne, f)), (nan, NV));
    assert_eq!(both(|f| f64_div(0, NEG, Rne, f)), (nan, NV));
    assert_eq!(both(|f| f64_div(F64_INF, F64_INF | NEG, Rne, f)), (nan, NV));
    assert_eq!(both(|f| f64_sqrt(d(-1.0), Rne, f)), (nan, NV));
    assert_eq!(both(|f| f64_sqrt(F64_INF | NEG, Rne, f)), (nan, NV));
    assert_eq!(both(|f| f64_sqrt(F64_MIN_SUB | NEG, Rne, f)), (nan, NV));
    assert_eq!(both(|f| f32_sqrt(s(-4.0), Rne, f)), (CANONICAL_NAN_F32, NV));
    // NaN payloads never propagate; quiet NaNs raise nothing, signaling ones NV.
    assert_eq!(
        both(|f| f64_add(F64_QNAN_PAYLOAD, d(1.0), Rne, f)),
        (nan, 0)
    );
    assert_eq!(both(|f| f64_mul(d(1.0), F64_SNAN, Rne, f)), (nan, NV));
    assert_eq!(both(|f| f64_sqrt(F64_SNAN | NEG, Rne, f)), (nan, NV));
    assert_eq!(
        both(|f| f32_div(0x7fc0_1234, s(0.0), Rne, f)),
        (CANONICAL_NAN_F32, 0)
    );
}

#[test]
fn fma_invalid_cases() {
    let nan = CANONICAL_NAN_F64;
    // Infinity times zero is invalid even when the addend is a quiet NaN.
    assert_eq!(
        both(|f| f64_mul_add(F64_INF, 0, F64_QNAN_PAYLOAD, Rne, f)),
        (nan, NV)
    );
    assert_eq!(both(|f| f64_mul_add(NEG, F64_INF, nan, Rne, f)), (nan, NV));
    assert_eq!(
        both(|f| f32_mul_add(F32_INF, 0, CANONICAL_NAN_F32, Rne, f)),
        (CANONICAL_NAN_F32, NV)
    );
    // A NaN multiplicand with a zero: only a signaling NaN is invalid.
    assert_eq!(both(|f| f64_mul_add(nan, 0, d(1.0), Rne, f)), (nan, 0));
    assert_eq!(
        both(|f| f64_mul_add(d(1.0), d(1.0), F64_SNAN, Rne, f)),
        (nan, NV)
    );
    // inf * x - inf
    assert_eq!(
        both(|f| f64_mul_add(F64_INF, d(2.0), F64_INF | NEG, Rne, f)),
        (nan, NV)
    );
    assert_eq!(
        both(|f| f64_mul_add(F64_INF, d(2.0), F64_INF, Rne, f)),
        (F64_INF, 0)
    );
    assert_eq!(
        both(|f| f64_mul_add(d(2.0), d(3.0), F64_INF | NEG, Rne, f)),
        (F64_INF | NEG, 0)
    );
}

#[test]
fn fma_rounds_once() {
    // (1 + 2^-52)^2 = 1 + 2^-51 + 2^-104: a separate multiply would lose the 2^-104.
    let x = d(1.0) + 1;
    let minus_one_minus = d(-(1.0 + f64::EPSILON * 2.0));
    assert_eq!(
        both(|f| f64_mul_add(x, x, minus_one_minus, Rne, f)),
        (d(2f64.powi(-104)), 0)
    );
    // Ties: (1 + 2^-27)^2 = 1 + 2^-26 + 2^-54, plus -2^-54 is exact, plus +2^-54 is a tie.
    let y = d(1.0 + 2f64.powi(-27));
    let tie = d(2f64.powi(-54));
    let base = d(1.0 + 2f64.powi(-26));
    assert_eq!(both(|f| f64_mul_add(y, y, tie | NEG, Rne, f)), (base, 0));
    // 1 + 2^-26 + 2^-53 is halfway between base and base + ulp (base is even).
    assert_eq!(both(|f| f64_mul_add(y, y, tie, Rne, f)), (base, NX));
    assert_eq!(both(|f| f64_mul_add(y, y, tie, Rmm, f)), (base + 1, NX));
    assert_eq!(both(|f| f64_mul_add(y, y, tie, Rup, f)), (base + 1, NX));
    assert_eq!(both(|f| f64_mul_add(y, y, tie, Rtz, f)), (base, NX));
    // Single: (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24, a tie at 24 bits.
    let y = s(1.0 + 2f32.powi(-12));
    let base = s(1.0 + 2f32.powi(-11));
    assert_eq!(both(|f| f32_mul_add(y, y, 0, Rne, f)), (base, NX));
    assert_eq!(both(|f| f32_mul_add(y, y, 0, Rmm, f)), (base + 1, NX));
    assert_eq!(both(|f| f32_mul_add(y, y, 0x8000_0000, Rdn, f)), (base, NX));
}

#[test]
fn overflow_in_every_mode() {
    // MAX + MAX overflows; the result depends on mode and sign.
    for (rm, positive, negative) in [
        (Rne, F64_INF, F64_INF | NEG),
        (Rmm, F64_INF, F64_INF | NEG),
        (Rtz, F64_MAX, F64_MAX | NEG),
        (Rdn, F64_MAX, F64_INF | NEG),
        (Rup, F64_INF, F64_MAX | NEG),
    ] {
        assert_eq!(
            both(|f| f64_add(F64_MAX, F64_MAX, rm, f)),
            (positive, OF | NX),
            "{rm:?}"
        );
        assert_eq!(
            both(|f| f64_mul(F64_MAX | NEG, d(2.0), rm, f)),
            (negative, OF | NX),
            "{rm:?}"
        );
    }
    // MAX + half an ulp of MAX rounds to infinity in RNE (it is a tie with the odd MAX),
    // but not below that.
    let half_ulp_of_max = d(2f64.powi(970));
    assert_eq!(
        both(|f| f64_add(F64_MAX, half_ulp_of_max, Rne, f)),
        (F64_INF, OF | NX)
    );
    assert_eq!(
        both(|f| f64_add(F64_MAX, half_ulp_of_max - 1, Rne, f)),
        (F64_MAX, NX)
    );
    assert_eq!(
        both(|f| f64_add(F64_MAX, F64_MIN_SUB, Rup, f)),
        (F64_INF, OF | NX)
    );
    assert_eq!(
        both(|f| f64_add(F64_MAX, F64_MIN_SUB, Rtz, f)),
        (F64_MAX, NX)
    );
    assert_eq!(
        both(|f| f32_mul(F32_MAX, s(1.5), Rtz, f)),
        (F32_MAX, OF | NX)
    );
    assert_eq!(both(|f| f64_to_f32(d(1e300), Rne, f)), (F32_INF, OF | NX));
    assert_eq!(
        both(|f| f64_to_f32(d(-1e300), Rup, f)),
        (F32_MAX | 0x8000_0000, OF | NX)
    );
}

#[test]
fn underflow_is_detected_after_rounding() {
    // An exact subnormal result raises nothing.
    assert_eq!(
        both(|f| f64_mul(F64_MIN_NORMAL, d(0.5), Rne, f)),
        (F64_MIN_NORMAL >> 1, 0)
    );
    assert_eq!(
        both(|f| f64_sub(F64_MIN_NORMAL, F64_MIN_SUB, Rne, f)),
        (F64_MIN_NORMAL - 1, 0)
    );
    // An inexact subnormal result raises UF | NX.
    assert_eq!(both(|f| f64_mul(F64_MIN_SUB, d(0.5), Rne, f)), (0, UF | NX));
    assert_eq!(
        both(|f| f64_mul(F64_MIN_SUB, d(0.5), Rup, f)),
        (F64_MIN_SUB, UF | NX)
    );
    assert_eq!(
        both(|f| f64_mul(F64_MIN_SUB, d(0.75), Rne, f)),
        (F64_MIN_SUB, UF | NX)
    );
    assert_eq!(both(|f| f64_div(F64_MIN_SUB, d(3.0), Rne, f)), (0, UF | NX));
    // 2^-1022 - 2^-1075 is exact at full precision, so it is tiny; on the subnormal grid it
    // is a tie that goes to the even 2^-1022: the smallest normal, yet UF.
    let almost_one = d(1.0 - f64::EPSILON / 2.0);
    assert_eq!(
        both(|f| f64_mul(almost_one, F64_MIN_NORMAL, Rne, f)),
        (F64_MIN_NORMAL, UF | NX)
    );
    // 2^-1022 * (1 - 2^-104) rounds to 2^-1022 at full precision: not tiny, only NX.
    let one_plus_ulp = d(1.0) + 1;
    let max_subnormal = F64_MIN_NORMAL - 1;
    assert_eq!(
        both(|f| f64_mul(one_plus_ulp, max_subnormal, Rne, f)),
        (F64_MIN_NORMAL, NX)
    );
    assert_eq!(
        both(|f| f64_mul(one_plus_ulp, max_subnormal, Rup, f)),
        (F64_MIN_NORMAL, NX)
    );
    assert_eq!(
        both(|f| f64_mul(one_plus_ulp, max_subnormal, Rtz, f)),
        (max_subnormal, UF | NX)
    );
    // Single precision, via a narrowing conversion.
    assert_eq!(
        both(|f| f64_to_f32(d(2f64.powi(-149) * 1.5), Rne, f)),
        (2, UF | NX)
    );
    assert_eq!(both(|f| f64_to_f32(d(2f64.powi(-149)), Rne, f)), (1, 0));
    assert_eq!(
        both(|f| f64_to_f32(d(2f64.powi(-151)), Rup, f)),
        (1, UF | NX)
    );
    assert_eq!(
        both(|f| f64_to_f32(d(-(2f64.powi(-151))), Rne, f)),
        (0x8000_0000, UF | NX)
    );
}

#[test]
fn division_by_zero() {
    assert_eq!(both(|f| f64_div(d(1.0), 0, Rne, f)), (F64_INF, DZ));
    assert_eq!(both(|f| f64_div(d(-1.0), 0, Rtz, f)), (F64_INF | NEG, DZ));
    assert_eq!(
        both(|f| f64_div(F64_MIN_SUB, NEG, Rne, f)),
        (F64_INF | NEG, DZ)
    );
    assert_eq!(both(|f| f64_div(F64_INF, 0, Rne, f)), (F64_INF, 0));
    assert_eq!(
        both(|f| f32_div(s(-3.0), 0x8000_0000, Rne, f)),
        (F32_INF, DZ)
    );
    assert_eq!(both(|f| f64_div(d(1.0), F64_INF | NEG, Rne, f)), (NEG, 0));
}

#[test]
fn sqrt_cases() {
    assert_eq!(both(|f| f64_sqrt(NEG, Rne, f)), (NEG, 0));
    assert_eq!(both(|f| f64_sqrt(0, Rne, f)), (0, 0));
    assert_eq!(both(|f| f64_sqrt(F64_INF, Rne, f)), (F64_INF, 0));
    assert_eq!(both(|f| f64_sqrt(d(4.0), Rne, f)), (d(2.0), 0));
    assert_eq!(
        both(|f| f64_sqrt(d(2.0), Rne, f)),
        (d(std::f64::consts::SQRT_2), NX)
    );
    // The nearest double to sqrt(2) is above it.
    assert_eq!(
        both(|f| f64_sqrt(d(2.0), Rup, f)),
        (d(std::f64::consts::SQRT_2), NX)
    );
    assert_eq!(
        both(|f| f64_sqrt(d(2.0), Rdn, f)),
        (d(std::f64::consts::SQRT_2) - 1, NX)
    );
    assert_eq!(
        both(|f| f64_sqrt(F64_MIN_SUB, Rne, f)),
        (d(2f64.powi(-537)), 0)
    );
    assert_eq!(
        both(|f| f64_sqrt(F64_MAX, Rne, f)),
        (d(f64::MAX.sqrt()), NX)
    );
    assert_eq!(
        both(|f| f32_sqrt(s(2.0), Rne, f)),
        (s(std::f32::consts::SQRT_2), NX)
    );
    // sqrt(2^-149) = 2^-75 * sqrt(2); binary64's sqrt rounded again to binary32 is exact enough.
    assert_eq!(
        both(|f| f32_sqrt(1, Rne, f)),
        (s(f64::from(f32::from_bits(1)).sqrt() as f32), NX)
    );
    assert_eq!(both(|f| f32_sqrt(2, Rne, f)), (s(2f32.powi(-74)), 0));
}

#[test]
fn min_max_signed_zeros_and_nans() {
    let nan = CANONICAL_NAN_F64;
    assert_eq!(both(|f| f64_min(0, NEG, f)), (NEG, 0));
    assert_eq!(both(|f| f64_min(NEG, 0, f)), (NEG, 0));
    assert_eq!(both(|f| f64_max(NEG, 0, f)), (0, 0));
    assert_eq!(both(|f| f64_max(0, NEG, f)), (0, 0));
    assert_eq!(both(|f| f64_min(F64_QNAN_PAYLOAD, d(2.0), f)), (d(2.0), 0));
    assert_eq!(
        both(|f| f64_max(d(-2.0), F64_QNAN_PAYLOAD, f)),
        (d(-2.0), 0)
    );
    assert_eq!(both(|f| f64_min(F64_SNAN, d(2.0), f)), (d(2.0), NV));
    assert_eq!(both(|f| f64_max(d(2.0), F64_SNAN, f)), (d(2.0), NV));
    assert_eq!(
        both(|f| f64_min(F64_QNAN_PAYLOAD, F64_QNAN_PAYLOAD, f)),
        (nan, 0)
    );
    assert_eq!(both(|f| f64_max(F64_SNAN, F64_QNAN_PAYLOAD, f)), (nan, NV));
    assert_eq!(both(|f| f64_min(d(-1.0), d(-2.0), f)), (d(-2.0), 0));
    assert_eq!(both(|f| f64_max(d(-1.0), d(-2.0), f)), (d(-1.0), 0));
    assert_eq!(both(|f| f64_max(F64_INF | NEG, d(-2.0), f)), (d(-2.0), 0));
    assert_eq!(both(|f| f32_min(0x8000_0000, 0, f)), (0x8000_0000, 0));
    assert_eq!(
        both(|f| f32_max(F32_SNAN, 0x7fc0_0001, f)),
        (CANONICAL_NAN_F32, NV)
    );
}

#[test]
fn comparisons() {
    let qnan = CANONICAL_NAN_F64;
    assert_eq!(both(|f| f64_eq(0, NEG, f)), (true, 0));
    assert_eq!(both(|f| f64_lt(NEG, 0, f)), (false, 0));
    assert_eq!(both(|f| f64_le(0, NEG, f)), (true, 0));
    assert_eq!(both(|f| f64_eq(qnan, qnan, f)), (false, 0));
    assert_eq!(both(|f| f64_eq(F64_SNAN, d(1.0), f)), (false, NV));
    assert_eq!(both(|f| f64_lt(qnan, d(1.0), f)), (false, NV));
    assert_eq!(both(|f| f64_le(d(1.0), qnan, f)), (false, NV));
    assert_eq!(both(|f| f64_lt(d(-2.0), d(-1.0), f)), (true, 0));
    assert_eq!(both(|f| f64_lt(d(-1.0), d(-1.0), f)), (false, 0));
    assert_eq!(both(|f| f64_le(d(-1.0), d(-1.0), f)), (true, 0));
    assert_eq!(both(|f| f64_lt(F64_INF | NEG, F64_INF, f)), (true, 0));
    assert_eq!(both(|f| f32_lt(s(1.0), s(2.0), f)), (true, 0));
    assert_eq!(both(|f| f32_le(s(2.0), s(1.0), f)), (false, 0));
}

#[test]
fn classification() {
    let cases = [
        (F64_INF | NEG, 0),
        (d(-1.0), 1),
        (NEG | 1, 2),
        (NEG, 3),
        (0, 4),
        (1, 5),
        (d(1.0), 6),
        (F64_INF, 7),
        (F64_SNAN, 8),
        (CANONICAL_NAN_F64, 9),
    ];
    for (value, bit) in cases {
        assert_eq!(f64_classify(value), 1 << bit, "{value:#x}");
        let single = f64_to_f32(value, Rne, &mut 0);
        let single = if bit == 8 { F32_SNAN } else { single };
        let single = if bit == 2 || bit == 5 {
            (value as u32 & 0x8000_0000) | 1
        } else {
            single
        };
        let single = if bit == 2 { 0x8000_0001 } else { single };
        assert_eq!(f32_classify(single), 1 << bit, "{single:#x}");
    }
}

#[test]
fn float_to_int_boundaries() {
    let big = d(2147483647.5);
    let expected = [
        (Rne, i32::MAX, NV),
        (Rtz, i32::MAX, NX),
        (Rdn, i32::MAX, NX),
        (Rup, i32::MAX, NV),
        (Rmm, i32::MAX, NV),
    ];
    for (rm, want, flags) in expected {
        assert_eq!(both(|f| f64_to_i32(big, rm, f)), (want, flags), "{rm:?}");
    }
    let small = d(-2147483648.5);
    let expected = [
        (Rne, i32::MIN, NX),
        (Rtz, i32::MIN, NX),
        (Rdn, i32::MIN, NV),
        (Rup, i32::MIN, NX),
        (Rmm, i32::MIN, NV),
    ];
    for (rm, want, flags) in expected {
        assert_eq!(both(|f| f64_to_i32(small, rm, f)), (want, flags), "{rm:?}");
    }
    // Ties in each mode.
    for (value, rne, rmm, rdn, rup) in [
        (2.5, 2, 3, 2, 3),
        (-2.5, -2, -3, -3, -2),
        (0.5, 0, 1, 0, 1),
        (-0.5, 0, -1, -1, 0),
    ] {
        assert_eq!(both(|f| f64_to_i64(d(value), Rne, f)), (rne, NX));
        assert_eq!(both(|f| f64_to_i64(d(value), Rmm, f)), (rmm, NX));
        assert_eq!(both(|f| f64_to_i64(d(value), Rdn, f)), (rdn, NX));
        assert_eq!(both(|f| f64_to_i64(d(value), Rup, f)), (rup, NX));
        assert_eq!(
            both(|f| f32_to_i32(s(value as f32), Rtz, f)),
            (value as i32, NX)
        );
    }
    // Unsigned: small negatives that round to zero are only inexact.
    assert_eq!(both(|f| f64_to_u32(d(-0.5), Rne, f)), (0, NX));
    assert_eq!(both(|f| f64_to_u32(d(-0.5), Rtz, f)), (0, NX));
    assert_eq!(both(|f| f64_to_u32(d(-0.5), Rup, f)), (0, NX));
    assert_eq!(both(|f| f64_to_u32(d(-0.5), Rdn, f)), (0, NV));
    assert_eq!(both(|f| f64_to_u32(d(-0.5), Rmm, f)), (0, NV));
    assert_eq!(both(|f| f64_to_u64(d(-1.0), Rtz, f)), (0, NV));
    assert_eq!(both(|f| f64_to_u64(NEG, Rtz, f)), (0, 0));
    assert_eq!(
        both(|f| f32_to_u32(s(4294967295.0), Rtz, f)),
        (u32::MAX, NV)
    );
    assert_eq!(both(|f| f64_to_u32(d(4294967295.0), Rtz, f)), (u32::MAX, 0));
    assert_eq!(
        both(|f| f64_to_u32(d(4294967295.5), Rne, f)),
        (u32::MAX, NV)
    );
    assert_eq!(
        both(|f| f64_to_u32(d(4294967295.5), Rtz, f)),
        (u32::MAX, NX)
    );
    // 2^63 and its neighbours.
    assert_eq!(
        both(|f| f64_to_i64(d(9223372036854775808.0), Rtz, f)),
        (i64::MAX, NV)
    );
    assert_eq!(
        both(|f| f64_to_i64(d(-9223372036854775808.0), Rtz, f)),
        (i64::MIN, 0)
    );
    assert_eq!(
        both(|f| f64_to_i64(d(9223372036854775808.0) - 1, Rtz, f)),
        (i64::MAX - 1023, 0)
    );
    assert_eq!(
        both(|f| f64_to_u64(d(9223372036854775808.0), Rtz, f)),
        (1 << 63, 0)
    );
    assert_eq!(
        both(|f| f64_to_u64(d(18446744073709551616.0), Rtz, f)),
        (u64::MAX, NV)
    );
    assert_eq!(
        both(|f| f32_to_i64(s(-9223372036854775808.0), Rne, f)),
        (i64::MIN, 0)
    );
    // Single-precision limits: 2^31 and 2^32 are just out of range, -2^31 just in.
    for rm in MODES {
        assert_eq!(
            both(|f| f32_to_i32(0x4f00_0000, rm, f)),
            (i32::MAX, NV),
            "{rm:?}"
        );
        assert_eq!(
            both(|f| f32_to_i32(0xcf00_0000, rm, f)),
            (i32::MIN, 0),
            "{rm:?}"
        );
        assert_eq!(
            both(|f| f32_to_i32(0xcf00_0001, rm, f)),
            (i32::MIN, NV),
            "{rm:?}"
        );
        assert_eq!(
            both(|f| f32_to_u32(0x4f80_0000, rm, f)),
            (u32::MAX, NV),
            "{rm:?}"
        );
        assert_eq!(
            both(|f| f32_to_u32(0x4f7f_ffff, rm, f)),
            (4294967040, 0),
            "{rm:?}"
        );
        assert_eq!(
            both(|f| f64_to_u64(d(18446744073709549568.0), rm, f)),
            (18446744073709549568, 0)
        );
        assert_eq!(
            both(|f| f64_to_i64(d(-9223372036854775808.0) + 1, rm, f)),
            (i64::MIN, NV)
        );
    }
    let below_min = d(-2147483648.9);
    for (rm, flags) in [(Rne, NV), (Rtz, NX), (Rdn, NV), (Rup, NX), (Rmm, NV)] {
        assert_eq!(
            both(|f| f64_to_i32(below_min, rm, f)),
            (i32::MIN, flags),
            "{rm:?}"
        );
    }
    let minus_nine_tenths = s(-0.9);
    for (rm, flags) in [(Rne, NV), (Rtz, NX), (Rdn, NV), (Rup, NX), (Rmm, NV)] {
        assert_eq!(
            both(|f| f32_to_u64(minus_nine_tenths, rm, f)),
            (0, flags),
            "{rm:?}"
        );
    }
    // NaN gives the largest value, infinities saturate by sign; none is NX.
    for rm in MODES {
        assert_eq!(
            both(|f| f64_to_i32(CANONICAL_NAN_F64, rm, f)),
            (i32::MAX, NV)
        );
        assert_eq!(both(|f| f64_to_i64(F64_SNAN | NEG, rm, f)), (i64::MAX, NV));
        assert_eq!(
            both(|f| f64_to_u32(CANONICAL_NAN_F64 | NEG, rm, f)),
            (u32::MAX, NV)
        );
        assert_eq!(
            both(|f| f32_to_u64(CANONICAL_NAN_F32, rm, f)),
            (u64::MAX, NV)
        );
        assert_eq!(both(|f| f64_to_i32(F64_INF | NEG, rm, f)), (i32::MIN, NV));
        assert_eq!(both(|f| f64_to_u64(F64_INF | NEG, rm, f)), (0, NV));
        assert_eq!(both(|f| f32_to_u32(F32_INF, rm, f)), (u32::MAX, NV));
        assert_eq!(
            both(|f| f64_to_i64(F64_MIN_SUB, rm, f)),
            (i64::from(rm == Rup), NX)
        );
        assert_eq!(
            both(|f| f64_to_i64(F64_MIN_SUB | NEG, rm, f)),
            (-i64::from(rm == Rdn), NX)
        );
    }
}

#[test]
fn int_to_float_rounding() {
    // u64::MAX is 2^64 - 1: 2^64 when rounding up or to nearest, the largest float below
    // otherwise.
    let below_single = s(18446742974197923840.0);
    let below_double = d(18446744073709549568.0);
    for (rm, up) in [
        (Rne, true),
        (Rtz, false),
        (Rdn, false),
        (Rup, true),
        (Rmm, true),
    ] {
        let want32 = if up {
            s(18446744073709551616.0)
        } else {
            below_single
        };
        let want64 = if up {
            d(18446744073709551616.0)
        } else {
            below_double
        };
        assert_eq!(
            both(|f| f32_from_u64(u64::MAX, rm, f)),
            (want32, NX),
            "{rm:?}"
        );
        assert_eq!(
            both(|f| f64_from_u64(u64::MAX, rm, f)),
            (want64, NX),
            "{rm:?}"
        );
    }
    // 2^24 + 1 is a tie for single precision: even is 2^24.
    assert_eq!(
        both(|f| f32_from_i32(16777217, Rne, f)),
        (s(16777216.0), NX)
    );
    assert_eq!(
        both(|f| f32_from_i32(16777217, Rmm, f)),
        (s(16777218.0), NX)
    );
    assert_eq!(
        both(|f| f32_from_i32(-16777217, Rdn, f)),
        (s(-16777218.0), NX)
    );
    assert_eq!(
        both(|f| f32_from_i32(i32::MIN, Rne, f)),
        (s(-2147483648.0), 0)
    );
    assert_eq!(
        both(|f| f64_from_i64(i64::MIN, Rne, f)),
        (d(-9223372036854775808.0), 0)
    );
    assert_eq!(both(|f| f64_from_i32(-7, Rne, f)), (d(-7.0), 0));
    // 2^53 + 1 and 2^63 + 2^10 are ties for binary64.
    let two_53 = 1i64 << 53;
    assert_eq!(
        both(|f| f64_from_i64(two_53 + 1, Rne, f)),
        (d(9007199254740992.0), NX)
    );
    assert_eq!(
        both(|f| f64_from_i64(two_53 + 1, Rup, f)),
        (d(9007199254740994.0), NX)
    );
    assert_eq!(
        both(|f| f64_from_i64(-two_53 - 1, Rmm, f)),
        (d(-9007199254740994.0), NX)
    );
    assert_eq!(
        both(|f| f64_from_i64(-two_53 - 1, Rtz, f)),
        (d(-9007199254740992.0), NX)
    );
    let above_2_63 = (1u64 << 63) + 1024;
    assert_eq!(
        both(|f| f64_from_u64(above_2_63, Rne, f)),
        (d(9223372036854775808.0), NX)
    );
    assert_eq!(
        both(|f| f64_from_u64(above_2_63, Rmm, f)),
        (d(9223372036854775808.0) + 1, NX)
    );
    assert_eq!(
        both(|f| f64_from_u64(above_2_63 + 1, Rne, f)),
        (d(9223372036854775808.0) + 1, NX)
    );
    assert_eq!(
        both(|f| f64_from_u32(u32::MAX, Rne, f)),
        (d(4294967295.0), 0)
    );
    assert_eq!(both(|f| f64_from_i64(0, Rdn, f)), (0, 0));
    assert_eq!(both(|f| f32_from_u32(0, Rdn, f)), (0, 0));
}

#[test]
fn float_conversions() {
    assert_eq!(both(|f| f32_to_f64(F32_SNAN, f)), (CANONICAL_NAN_F64, NV));
    assert_eq!(both(|f| f32_to_f64(0xffc0_0001, f)), (CANONICAL_NAN_F64, 0));
    assert_eq!(both(|f| f32_to_f64(1, f)), (d(2f64.powi(-149)), 0));
    assert_eq!(both(|f| f32_to_f64(0x8000_0000, f)), (NEG, 0));
    assert_eq!(both(|f| f32_to_f64(F32_INF, f)), (F64_INF, 0));
    assert_eq!(
        both(|f| f64_to_f32(F64_SNAN, Rne, f)),
        (CANONICAL_NAN_F32, NV)
    );
    assert_eq!(both(|f| f64_to_f32(d(0.1), Rne, f)), (s(0.1), NX));
    assert_eq!(both(|f| f64_to_f32(d(0.1), Rtz, f)), (s(0.1) - 1, NX));
    assert_eq!(both(|f| f64_to_f32(F64_MIN_SUB, Rup, f)), (1, UF | NX));
    assert_eq!(
        both(|f| f64_to_f32(F64_MIN_SUB | NEG, Rtz, f)),
        (0x8000_0000, UF | NX)
    );
}

#[test]
fn fast_paths_are_enabled_on_the_ci_host() {
    // The fast-vs-soft tests would compare soft with soft if this regressed.
    #[cfg(target_arch = "x86_64")]
    const {
        assert!(super::fast::HOST_IS_IEEE)
    };
    assert_eq!(super::use_fast_paths(), super::fast::HOST_IS_IEEE);
    assert!(!with_soft_only(true, super::use_fast_paths));
}
