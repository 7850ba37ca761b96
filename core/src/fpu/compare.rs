//! Comparisons, fmin/fmax and fclass: exact on the bit patterns, so there is nothing to round.

use super::soft::{is_nan, is_negative, is_signaling_nan, is_zero, Format};
use super::NV;

/// `a < b` for two non-NaN values, with the caller deciding how zeros of either sign compare.
fn less_ordered<F: Format>(a: u64, b: u64) -> bool {
    match (is_negative::<F>(a), is_negative::<F>(b)) {
        (false, false) => a < b,
        (true, true) => a > b,
        (a_negative, _) => a_negative,
    }
}

/// Quiet equality (`feq`): NV only for signaling NaNs.
pub(crate) fn eq<F: Format>(a: u64, b: u64, flags: &mut u8) -> bool {
    if is_nan::<F>(a) || is_nan::<F>(b) {
        if is_signaling_nan::<F>(a) || is_signaling_nan::<F>(b) {
            *flags |= NV;
        }
        return false;
    }
    a == b || is_zero::<F>(a | b)
}

/// Signaling `a < b` (`flt`): NV for any NaN.
pub(crate) fn lt<F: Format>(a: u64, b: u64, flags: &mut u8) -> bool {
    if is_nan::<F>(a) || is_nan::<F>(b) {
        *flags |= NV;
        return false;
    }
    !is_zero::<F>(a | b) && less_ordered::<F>(a, b)
}

/// Signaling `a <= b` (`fle`): NV for any NaN.
pub(crate) fn le<F: Format>(a: u64, b: u64, flags: &mut u8) -> bool {
    if is_nan::<F>(a) || is_nan::<F>(b) {
        *flags |= NV;
        return false;
    }
    a == b || is_zero::<F>(a | b) || less_ordered::<F>(a, b)
}

/// IEEE 754-2019 minimumNumber/maximumNumber as RISC-V (since F 2.2) defines fmin/fmax.
fn min_max<F: Format>(a: u64, b: u64, want_max: bool, flags: &mut u8) -> u64 {
    let a_nan = is_nan::<F>(a);
    let b_nan = is_nan::<F>(b);
    if a_nan || b_nan {
        if is_signaling_nan::<F>(a) || is_signaling_nan::<F>(b) {
            *flags |= NV;
        }
        return match (a_nan, b_nan) {
            (true, true) => F::CANONICAL_NAN,
            (true, false) => b,
            _ => a,
        };
    }
    // Ordering -0 below +0 is exactly what `less_ordered` does on the raw sign bits.
    if less_ordered::<F>(a, b) != want_max {
        a
    } else {
        b
    }
}

pub(crate) fn min<F: Format>(a: u64, b: u64, flags: &mut u8) -> u64 {
    min_max::<F>(a, b, false, flags)
}

pub(crate) fn max<F: Format>(a: u64, b: u64, flags: &mut u8) -> u64 {
    min_max::<F>(a, b, true, flags)
}

/// The `fclass` mask: one of bits 0..=9 set.
pub(crate) fn classify<F: Format>(a: u64) -> u64 {
    let magnitude = a & !F::SIGN;
    let negative = is_negative::<F>(a);
    let bit = if is_nan::<F>(a) {
        if is_signaling_nan::<F>(a) {
            8
        } else {
            9
        }
    } else if magnitude == F::INF {
        if negative {
            0
        } else {
            7
        }
    } else if magnitude >= F::HIDDEN {
        if negative {
            1
        } else {
            6
        }
    } else if magnitude != 0 {
        if negative {
            2
        } else {
            5
        }
    } else if negative {
        3
    } else {
        4
    };
    1 << bit
}
