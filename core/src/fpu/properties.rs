//! Property tests: the host fast paths agree bit for bit (and flag for flag) with the soft
//! reference on millions of generated operands, and in RNE both agree with the host's own ops.

use super::testgen::{Layout, Rng, DOUBLE, SINGLE};
use super::{fast, soft, RoundingMode};
use soft::{Double, Single};
use std::string::String;
use std::vec::Vec;
use std::{format, println};

const MODES: [RoundingMode; 5] = [
    RoundingMode::Rne,
    RoundingMode::Rtz,
    RoundingMode::Rdn,
    RoundingMode::Rup,
    RoundingMode::Rmm,
];

/// One evaluation: the fast path's answer if it gave one, the soft path's, and (in RNE, when
/// the host has the operation) the host's result bits.
struct Outcome {
    fast: Option<(u64, u8)>,
    soft: (u64, u8),
    host: Option<u64>,
}

fn cases_per_mode() -> usize {
    let default = if cfg!(debug_assertions) {
        4_000
    } else {
        200_000
    };
    std::env::var("FPU_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `evaluate` on generated cases in every mode; returns failures and prints coverage.
fn check(
    name: &str,
    seed: u64,
    mut evaluate: impl FnMut(&mut Rng, RoundingMode) -> Outcome,
) -> Vec<String> {
    let mut failures = Vec::new();
    let cases = cases_per_mode();
    let mut rng = Rng::new(seed);
    let mut coverage = Vec::new();
    for rm in MODES {
        let mut fast_taken = 0;
        for _ in 0..cases {
            let outcome = evaluate(&mut rng, rm);
            if let Some(fast) = outcome.fast {
                fast_taken += 1;
                if fast != outcome.soft && failures.len() < 20 {
                    failures.push(format!(
                        "{name} {rm:?}: fast {fast:x?} soft {:x?}",
                        outcome.soft
                    ));
                }
            }
            if let Some(host) = outcome.host {
                if rm == RoundingMode::Rne && host != outcome.soft.0 && failures.len() < 20 {
                    failures.push(format!("{name}: host {host:#x} soft {:x?}", outcome.soft));
                }
            }
        }
        coverage.push(format!(
            "{rm:?} {:5.1}%",
            100.0 * fast_taken as f64 / cases as f64
        ));
    }
    println!("{name:12} fast path taken: {}", coverage.join("  "));
    failures
}

/// The host's result unless it is a NaN (whose payload the host does not pin down).
fn host64(v: f64) -> Option<u64> {
    (!v.is_nan()).then_some(v.to_bits())
}
fn host32(v: f32) -> Option<u64> {
    (!v.is_nan()).then_some(v.to_bits().into())
}

fn widen(r: Option<(u32, u8)>) -> Option<(u64, u8)> {
    r.map(|(v, f)| (v.into(), f))
}

fn soft_call(op: impl FnOnce(&mut u8) -> u64) -> (u64, u8) {
    let mut flags = 0;
    let v = op(&mut flags);
    (v, flags)
}

fn operands(layout: Layout, rng: &mut Rng, specials: &[u64]) -> (u64, u64) {
    let a = layout.operand(rng, specials);
    (a, layout.partner(rng, a, specials))
}

fn finish(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "fast and soft paths disagree:\n{}",
        failures.join("\n")
    );
}

#[test]
fn f64_arithmetic_fast_equals_soft() {
    let specials = DOUBLE.specials();
    let mut failures = Vec::new();
    failures.extend(check("f64_add", 1, |rng, rm| {
        let (a, b) = operands(DOUBLE, rng, &specials);
        Outcome {
            fast: fast::f64_add(a, b, rm),
            soft: soft_call(|f| soft::add::<Double>(a, b, rm, f)),
            host: host64(f64::from_bits(a) + f64::from_bits(b)),
        }
    }));
    failures.extend(check("f64_sub", 2, |rng, rm| {
        let (a, b) = operands(DOUBLE, rng, &specials);
        Outcome {
            fast: fast::f64_sub(a, b, rm),
            soft: soft_call(|f| soft::sub::<Double>(a, b, rm, f)),
            host: host64(f64::from_bits(a) - f64::from_bits(b)),
        }
    }));
    failures.extend(check("f64_mul", 3, |rng, rm| {
        let (a, b) = operands(DOUBLE, rng, &specials);
        Outcome {
            fast: fast::f64_mul(a, b, rm),
            soft: soft_call(|f| soft::mul::<Double>(a, b, rm, f)),
            host: host64(f64::from_bits(a) * f64::from_bits(b)),
        }
    }));
    failures.extend(check("f64_div", 4, |rng, rm| {
        let (mut a, b) = operands(DOUBLE, rng, &specials);
        if rng.chance(20) {
            let quotient = DOUBLE.operand(rng, &specials);
            a = (f64::from_bits(b) * f64::from_bits(quotient)).to_bits();
        }
        Outcome {
            fast: fast::f64_div(a, b, rm),
            soft: soft_call(|f| soft::div::<Double>(a, b, rm, f)),
            host: host64(f64::from_bits(a) / f64::from_bits(b)),
        }
    }));
    failures.extend(check("f64_sqrt", 5, |rng, rm| {
        let mut a = DOUBLE.operand(rng, &specials) & !(1 << 63);
        if rng.chance(20) {
            let root = f64::from_bits(a);
            a = DOUBLE.nudge(rng, (root * root).to_bits());
        }
        Outcome {
            fast: fast::f64_sqrt(a, rm),
            soft: soft_call(|f| soft::sqrt::<Double>(a, rm, f)),
            host: host64(f64::from_bits(a).sqrt()),
        }
    }));
    failures.extend(check("f64_mul_add", 6, |rng, rm| {
        let (a, b) = operands(DOUBLE, rng, &specials);
        let (x, y) = (f64::from_bits(a), f64::from_bits(b));
        let c = match rng.below(4) {
            0 | 1 => DOUBLE.near_negation_of(rng, x * y),
            // An addend that puts a*b + c on (or next to) a midpoint of the product's binade.
            2 => {
                let high = x * y;
                let low = x.mul_add(y, -high);
                let half_ulp = f64::from_bits(high.to_bits() & (0xfff << 52)) * f64::EPSILON / 2.0;
                let offset = if rng.chance(50) { half_ulp } else { -half_ulp };
                DOUBLE.nudge(rng, (offset - low).to_bits())
            }
            _ => DOUBLE.operand(rng, &specials),
        };
        Outcome {
            fast: fast::f64_mul_add(a, b, c, rm),
            soft: soft_call(|f| soft::mul_add::<Double>(a, b, c, rm, f)),
            host: host64(f64::from_bits(a).mul_add(f64::from_bits(b), f64::from_bits(c))),
        }
    }));
    // Multiplicands with few significant bits (exact products), where the fast path has a
    // shortcut for exact sums: also sums that cancel to zero, or are tiny, or round.
    failures.extend(check("f64_mul_add, short multiplicands", 16, |rng, rm| {
        let (a, b, c) = short_mul_add_operands(rng, &specials);
        Outcome {
            fast: fast::f64_mul_add(a, b, c, rm),
            soft: soft_call(|f| soft::mul_add::<Double>(a, b, c, rm, f)),
            host: host64(f64::from_bits(a).mul_add(f64::from_bits(b), f64::from_bits(c))),
        }
    }));
    // The shortcut tried before Dekker's product, on the operands it is for and on any.
    failures.extend(check(
        "short_mul_add, short multiplicands",
        17,
        |rng, rm| {
            let (a, b, c) = short_mul_add_operands(rng, &specials);
            Outcome {
                fast: fast::short_mul_add(a, b, c, rm),
                soft: soft_call(|f| soft::mul_add::<Double>(a, b, c, rm, f)),
                host: host64(f64::from_bits(a).mul_add(f64::from_bits(b), f64::from_bits(c))),
            }
        },
    ));
    failures.extend(check("short_mul_add, any operands", 18, |rng, rm| {
        let (a, b) = operands(DOUBLE, rng, &specials);
        let c = if rng.chance(50) {
            DOUBLE.near_negation_of(rng, f64::from_bits(a) * f64::from_bits(b))
        } else {
            DOUBLE.operand(rng, &specials)
        };
        Outcome {
            fast: fast::short_mul_add(a, b, c, rm),
            soft: soft_call(|f| soft::mul_add::<Double>(a, b, c, rm, f)),
            host: host64(f64::from_bits(a).mul_add(f64::from_bits(b), f64::from_bits(c))),
        }
    }));
    finish(failures);
}

/// Fused multiply-add operands whose multiplicands have few significant bits (exact
/// products; some near the smallest normal, some of a subnormal and a large number), with
/// addends that make the sum exact, cancel it to zero, make it tiny, or round it.
fn short_mul_add_operands(rng: &mut Rng, specials: &[u64]) -> (u64, u64, u64) {
    let bias = DOUBLE.bias();
    let short = |rng: &mut Rng, spread: u64| {
        let field = bias - spread + rng.below(2 * spread + 1);
        DOUBLE.pack(rng.chance(50), field, DOUBLE.short_fraction(rng))
    };
    let (a, b) = if rng.chance(10) {
        // Products around the smallest normal, where a short product may still round.
        let a_field = bias - 400 - rng.below(200);
        let b_field = (bias + bias - 1026 + rng.below(9)) - a_field;
        let a = DOUBLE.pack(rng.chance(50), a_field, DOUBLE.short_fraction(rng));
        (
            a,
            DOUBLE.pack(rng.chance(50), b_field, DOUBLE.short_fraction(rng)),
        )
    } else if rng.chance(10) {
        let subnormal = DOUBLE.pack(
            rng.chance(50),
            0,
            DOUBLE.short_fraction(rng) >> rng.below(40),
        );
        let large = DOUBLE.pack(
            rng.chance(50),
            2 * bias - 60 + rng.below(60),
            DOUBLE.short_fraction(rng),
        );
        (subnormal, large)
    } else {
        (short(rng, 40), short(rng, 40))
    };
    let product = f64::from_bits(a) * f64::from_bits(b);
    let c = match rng.below(5) {
        0 => short(rng, 60),
        1 => (-product).to_bits(),
        2 => DOUBLE.near_negation_of(rng, product),
        3 => DOUBLE.pack(rng.chance(50), rng.below(3), rng.next_u64()),
        _ => DOUBLE.operand(rng, specials),
    };
    (a, b, c)
}

#[test]
fn f32_arithmetic_fast_equals_soft() {
    let specials = SINGLE.specials();
    let mut failures = Vec::new();
    let single = |bits: u64| f32::from_bits(bits as u32);
    failures.extend(check("f32_add", 11, |rng, rm| {
        let (a, b) = operands(SINGLE, rng, &specials);
        Outcome {
            fast: widen(fast::f32_add(a as u32, b as u32, rm)),
            soft: soft_call(|f| soft::add::<Single>(a, b, rm, f)),
            host: host32(single(a) + single(b)),
        }
    }));
    failures.extend(check("f32_sub", 12, |rng, rm| {
        let (a, b) = operands(SINGLE, rng, &specials);
        Outcome {
            fast: widen(fast::f32_sub(a as u32, b as u32, rm)),
            soft: soft_call(|f| soft::sub::<Single>(a, b, rm, f)),
            host: host32(single(a) - single(b)),
        }
    }));
    failures.extend(check("f32_mul", 13, |rng, rm| {
        let (a, b) = operands(SINGLE, rng, &specials);
        Outcome {
            fast: widen(fast::f32_mul(a as u32, b as u32, rm)),
            soft: soft_call(|f| soft::mul::<Single>(a, b, rm, f)),
            host: host32(single(a) * single(b)),
        }
    }));
    failures.extend(check("f32_div", 14, |rng, rm| {
        let (mut a, b) = operands(SINGLE, rng, &specials);
        if rng.chance(20) {
            let quotient = SINGLE.operand(rng, &specials);
            a = (single(b) * single(quotient)).to_bits().into();
        }
        Outcome {
            fast: widen(fast::f32_div(a as u32, b as u32, rm)),
            soft: soft_call(|f| soft::div::<Single>(a, b, rm, f)),
            host: host32(single(a) / single(b)),
        }
    }));
    failures.extend(check("f32_sqrt", 15, |rng, rm| {
        let mut a = SINGLE.operand(rng, &specials) & 0x7fff_ffff;
        if rng.chance(20) {
            let root = single(a);
            a = SINGLE.nudge(rng, (root * root).to_bits().into());
        }
        Outcome {
            fast: widen(fast::f32_sqrt(a as u32, rm)),
            soft: soft_call(|f| soft::sqrt::<Single>(a, rm, f)),
            host: host32(single(a).sqrt()),
        }
    }));
    failures.extend(check("f32_mul_add", 16, |rng, rm| {
        let (a, b) = operands(SINGLE, rng, &specials);
        let product = f64::from(single(a)) * f64::from(single(b));
        let c = match rng.below(4) {
            0 | 1 => SINGLE.near_negation_of(rng, product),
            2 => {
                let high = f64::from(product as f32);
                let low = product - high;
                let half_ulp =
                    f64::from_bits(high.to_bits() & (0xfff << 52)) * f64::from(f32::EPSILON) / 2.0;
                let offset = if rng.chance(50) { half_ulp } else { -half_ulp };
                SINGLE.nudge(rng, u64::from(((offset - low) as f32).to_bits()))
            }
            _ => SINGLE.operand(rng, &specials),
        };
        Outcome {
            fast: widen(fast::f32_mul_add(a as u32, b as u32, c as u32, rm)),
            soft: soft_call(|f| soft::mul_add::<Single>(a, b, c, rm, f)),
            host: host32(single(a).mul_add(single(b), single(c))),
        }
    }));
    finish(failures);
}

#[test]
fn conversions_fast_equal_soft() {
    let doubles = DOUBLE.specials();
    let singles = SINGLE.specials();
    let mut failures = Vec::new();
    failures.extend(check("f64_to_f32", 21, |rng, rm| {
        let a = if rng.chance(50) {
            DOUBLE.operand(rng, &doubles)
        } else {
            // Around the binary32 range, including its subnormals.
            DOUBLE.pack(
                rng.chance(50),
                1023 - 155 + rng.below(290),
                rng.next_u64() >> rng.below(40),
            )
        };
        Outcome {
            fast: widen(fast::f64_to_f32(a, rm)),
            soft: soft_call(|f| soft::convert::<Double, Single>(a, rm, f)),
            host: host32(f64::from_bits(a) as f32),
        }
    }));
    failures.extend(check("f32_to_f64", 22, |rng, _| {
        let a = SINGLE.operand(rng, &singles);
        Outcome {
            fast: fast::f32_to_f64(a as u32),
            soft: soft_call(|f| soft::convert::<Single, Double>(a, RoundingMode::Rne, f)),
            host: host64(f64::from(f32::from_bits(a as u32))),
        }
    }));
    macro_rules! to_integer {
        ($name:literal, $seed:expr, $layout:expr, $specials:expr, $fast:path, $soft:expr, $as:ty) => {
            failures.extend(check($name, $seed, |rng, rm| {
                let a = $layout.operand(rng, $specials);
                Outcome {
                    fast: $fast(a as _, rm).map(|(v, f)| (v as $as as u64, f)),
                    soft: soft_call(|f| $soft(a, rm, f)),
                    host: None,
                }
            }));
        };
    }
    to_integer!(
        "f64_to_i32",
        23,
        DOUBLE,
        &doubles,
        fast::f64_to_i32,
        |a, rm, f| soft::to_signed::<Double>(a, rm, 32, f) as u64,
        i64
    );
    to_integer!(
        "f64_to_u32",
        24,
        DOUBLE,
        &doubles,
        fast::f64_to_u32,
        |a, rm, f| soft::to_unsigned::<Double>(a, rm, 32, f),
        u64
    );
    to_integer!(
        "f64_to_i64",
        25,
        DOUBLE,
        &doubles,
        fast::f64_to_i64,
        |a, rm, f| soft::to_signed::<Double>(a, rm, 64, f) as u64,
        i64
    );
    to_integer!(
        "f64_to_u64",
        26,
        DOUBLE,
        &doubles,
        fast::f64_to_u64,
        |a, rm, f| soft::to_unsigned::<Double>(a, rm, 64, f),
        u64
    );
    to_integer!(
        "f32_to_i32",
        27,
        SINGLE,
        &singles,
        fast::f32_to_i32,
        |a, rm, f| soft::to_signed::<Single>(a, rm, 32, f) as u64,
        i64
    );
    to_integer!(
        "f32_to_u32",
        28,
        SINGLE,
        &singles,
        fast::f32_to_u32,
        |a, rm, f| soft::to_unsigned::<Single>(a, rm, 32, f),
        u64
    );
    to_integer!(
        "f32_to_i64",
        29,
        SINGLE,
        &singles,
        fast::f32_to_i64,
        |a, rm, f| soft::to_signed::<Single>(a, rm, 64, f) as u64,
        i64
    );
    to_integer!(
        "f32_to_u64",
        30,
        SINGLE,
        &singles,
        fast::f32_to_u64,
        |a, rm, f| soft::to_unsigned::<Single>(a, rm, 64, f),
        u64
    );
    failures.extend(check("from_i64", 31, |rng, rm| {
        let v = (rng.next_u64() >> rng.below(64)) as i64;
        let v = if rng.chance(50) { v.wrapping_neg() } else { v };
        let negative = v < 0;
        let d = soft_call(|f| soft::from_integer::<Double>(negative, v.unsigned_abs(), rm, f));
        let s = soft_call(|f| soft::from_integer::<Single>(negative, v.unsigned_abs(), rm, f));
        let fast = match (fast::f64_from_i64(v), widen(fast::f32_from_i64(v))) {
            (Some(fd), Some(fs)) => Some((fd.0 ^ fs.0 << 1, fd.1 | fs.1 << 5)),
            _ => None,
        };
        Outcome {
            fast,
            soft: (d.0 ^ s.0 << 1, d.1 | s.1 << 5),
            host: Some((v as f64).to_bits() ^ u64::from((v as f32).to_bits()) << 1),
        }
    }));
    failures.extend(check("from_u64", 32, |rng, rm| {
        let v = rng.next_u64() >> rng.below(64);
        let d = soft_call(|f| soft::from_integer::<Double>(false, v, rm, f));
        let s = soft_call(|f| soft::from_integer::<Single>(false, v, rm, f));
        let fast = match (fast::f64_from_u64(v), widen(fast::f32_from_u64(v))) {
            (Some(fd), Some(fs)) => Some((fd.0 ^ fs.0 << 1, fd.1 | fs.1 << 5)),
            _ => None,
        };
        Outcome {
            fast,
            soft: (d.0 ^ s.0 << 1, d.1 | s.1 << 5),
            host: Some((v as f64).to_bits() ^ u64::from((v as f32).to_bits()) << 1),
        }
    }));
    finish(failures);
}

/// Every pair (and, for fma, every triple of a subset) of special values in every mode:
/// deterministic coverage of the boundaries the random generators only sample.
#[test]
fn special_values_fast_equals_soft() {
    let mut failures = Vec::new();
    let mut compare = |name: &str,
                       rm: RoundingMode,
                       operands: &[u64],
                       fast: Option<(u64, u8)>,
                       soft: (u64, u8)| {
        if fast.is_some_and(|fast| fast != soft) && failures.len() < 20 {
            failures.push(format!(
                "{name} {rm:?} {operands:x?}: fast {fast:x?} soft {soft:x?}"
            ));
        }
    };
    let doubles = DOUBLE.specials();
    let singles = SINGLE.specials();
    for rm in MODES {
        for &a in &doubles {
            for &b in &doubles {
                let ops = [a, b];
                compare(
                    "f64_add",
                    rm,
                    &ops,
                    fast::f64_add(a, b, rm),
                    soft_call(|f| soft::add::<Double>(a, b, rm, f)),
                );
                compare(
                    "f64_sub",
                    rm,
                    &ops,
                    fast::f64_sub(a, b, rm),
                    soft_call(|f| soft::sub::<Double>(a, b, rm, f)),
                );
                compare(
                    "f64_mul",
                    rm,
                    &ops,
                    fast::f64_mul(a, b, rm),
                    soft_call(|f| soft::mul::<Double>(a, b, rm, f)),
                );
                compare(
                    "f64_div",
                    rm,
                    &ops,
                    fast::f64_div(a, b, rm),
                    soft_call(|f| soft::div::<Double>(a, b, rm, f)),
                );
            }
            compare(
                "f64_sqrt",
                rm,
                &[a],
                fast::f64_sqrt(a, rm),
                soft_call(|f| soft::sqrt::<Double>(a, rm, f)),
            );
            let narrowed = soft_call(|f| soft::convert::<Double, Single>(a, rm, f));
            compare(
                "f64_to_f32",
                rm,
                &[a],
                widen(fast::f64_to_f32(a, rm)),
                narrowed,
            );
            let signed = soft_call(|f| soft::to_signed::<Double>(a, rm, 32, f) as u64);
            compare(
                "f64_to_i32",
                rm,
                &[a],
                fast::f64_to_i32(a, rm).map(|(v, f)| (v as i64 as u64, f)),
                signed,
            );
            let unsigned = soft_call(|f| soft::to_unsigned::<Double>(a, rm, 64, f));
            compare("f64_to_u64", rm, &[a], fast::f64_to_u64(a, rm), unsigned);
        }
        for &a in &singles {
            for &b in &singles {
                let (x, y) = (a as u32, b as u32);
                let ops = [a, b];
                compare(
                    "f32_add",
                    rm,
                    &ops,
                    widen(fast::f32_add(x, y, rm)),
                    soft_call(|f| soft::add::<Single>(a, b, rm, f)),
                );
                compare(
                    "f32_mul",
                    rm,
                    &ops,
                    widen(fast::f32_mul(x, y, rm)),
                    soft_call(|f| soft::mul::<Single>(a, b, rm, f)),
                );
                compare(
                    "f32_div",
                    rm,
                    &ops,
                    widen(fast::f32_div(x, y, rm)),
                    soft_call(|f| soft::div::<Single>(a, b, rm, f)),
                );
            }
            compare(
                "f32_sqrt",
                rm,
                &[a],
                widen(fast::f32_sqrt(a as u32, rm)),
                soft_call(|f| soft::sqrt::<Single>(a, rm, f)),
            );
            let signed = soft_call(|f| soft::to_signed::<Single>(a, rm, 64, f) as u64);
            compare(
                "f32_to_i64",
                rm,
                &[a],
                fast::f32_to_i64(a as u32, rm).map(|(v, f)| (v as u64, f)),
                signed,
            );
            let unsigned = soft_call(|f| soft::to_unsigned::<Single>(a, rm, 32, f));
            compare(
                "f32_to_u32",
                rm,
                &[a],
                fast::f32_to_u32(a as u32, rm).map(|(v, f)| (v.into(), f)),
                unsigned,
            );
        }
        // Triples: every third special, so the cube stays small.
        let few_doubles: Vec<u64> = doubles.iter().copied().step_by(3).collect();
        let few_singles: Vec<u64> = singles.iter().copied().step_by(3).collect();
        for &a in &few_doubles {
            for &b in &few_doubles {
                for &c in &few_doubles {
                    let soft = soft_call(|f| soft::mul_add::<Double>(a, b, c, rm, f));
                    compare(
                        "f64_mul_add",
                        rm,
                        &[a, b, c],
                        fast::f64_mul_add(a, b, c, rm),
                        soft,
                    );
                }
            }
        }
        for &a in &few_singles {
            for &b in &few_singles {
                for &c in &few_singles {
                    let soft = soft_call(|f| soft::mul_add::<Single>(a, b, c, rm, f));
                    let fast = widen(fast::f32_mul_add(a as u32, b as u32, c as u32, rm));
                    compare("f32_mul_add", rm, &[a, b, c], fast, soft);
                }
            }
        }
    }
    finish(failures);
}

/// Every positive binary32 (or every `FPU_SQRT_STRIDE`-th) through `f32_sqrt` in every mode,
/// checked against the definition: with `r` the result and `r+` the next value up,
/// `r^2 <= x < r+^2` when rounding down, and so on; squares of binary32 values are exact in
/// binary64. Ignored because it takes minutes: `cargo test --release -p friscy-core
/// exhaustive_f32_sqrt -- --ignored` (set `FPU_SQRT_SOFT=1` to check the soft path).
#[test]
#[ignore = "minutes; run in release"]
fn exhaustive_f32_sqrt() {
    let stride: usize = std::env::var("FPU_SQRT_STRIDE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let soft_only = std::env::var_os("FPU_SQRT_SOFT").is_some();
    let square = |bits: u32| {
        let v = f64::from(f32::from_bits(bits));
        v * v
    };
    let mut failures = Vec::new();
    super::tests::with_soft_only(soft_only, || {
        for bits in (1u32..0x7f80_0000).step_by(stride) {
            let x = f64::from(f32::from_bits(bits));
            for rm in MODES {
                let mut flags = 0;
                let r = super::f32_sqrt(bits, rm, &mut flags);
                let (below, above) = (square(r), square(r + 1));
                let exact = below == x;
                // sqrt is never halfway, so nearest means closer than the neighbour on the other side.
                let nearest = |r: u32| {
                    let (low, high) = (
                        f64::from(f32::from_bits(r)),
                        f64::from(f32::from_bits(r + 1)),
                    );
                    let midpoint = (low + high) / 2.0;
                    midpoint * midpoint > x
                        && (r == 0 || {
                            let lower = f64::from(f32::from_bits(r - 1));
                            let midpoint = (lower + low) / 2.0;
                            midpoint * midpoint < x
                        })
                };
                let ok = match rm {
                    RoundingMode::Rtz | RoundingMode::Rdn => below <= x && x < above,
                    RoundingMode::Rup => below >= x && (r == 0 || square(r - 1) < x),
                    RoundingMode::Rne | RoundingMode::Rmm => nearest(r),
                };
                if (!ok || flags != if exact { 0 } else { super::NX }) && failures.len() < 20 {
                    failures.push(format!("{bits:#x} {rm:?}: {r:#x} flags {flags:#x}"));
                }
            }
        }
    });
    finish(failures);
}

/// With NX already accrued, round-to-nearest arithmetic takes the host's result when it is
/// well inside the normal range (`when_inexact_accrued`, and the fused multiply-add unit
/// where there is one): every entry point must still give soft's result and flags, whatever
/// other flags are set.
#[test]
fn inexact_accrued_shortcut_equals_soft() {
    use super::tests::with_soft_only;
    type Binary = fn(u64, u64, RoundingMode, &mut u8) -> u64;
    type Ternary = fn(u64, u64, u64, RoundingMode, &mut u8) -> u64;
    let binary64: [(&str, Binary); 5] = [
        ("f64_sqrt", |a, _, rm, f| super::f64_sqrt(a, rm, f)),
        ("f64_add", super::f64_add),
        ("f64_sub", super::f64_sub),
        ("f64_mul", super::f64_mul),
        ("f64_div", super::f64_div),
    ];
    let binary32: [(&str, Binary); 5] = [
        ("f32_sqrt", |a, _, rm, f| {
            super::f32_sqrt(a as u32, rm, f).into()
        }),
        ("f32_add", |a, b, rm, f| {
            super::f32_add(a as u32, b as u32, rm, f).into()
        }),
        ("f32_sub", |a, b, rm, f| {
            super::f32_sub(a as u32, b as u32, rm, f).into()
        }),
        ("f32_mul", |a, b, rm, f| {
            super::f32_mul(a as u32, b as u32, rm, f).into()
        }),
        ("f32_div", |a, b, rm, f| {
            super::f32_div(a as u32, b as u32, rm, f).into()
        }),
    ];
    let fused: [(&str, Ternary, Layout); 2] = [
        ("f64_mul_add", super::f64_mul_add, DOUBLE),
        (
            "f32_mul_add",
            |a, b, c, rm, f| super::f32_mul_add(a as u32, b as u32, c as u32, rm, f).into(),
            SINGLE,
        ),
    ];
    let mut failures = Vec::new();
    let mut rng = Rng::new(77);
    // Both with only NX set and with every flag set, in every mode (the others must ignore
    // the shortcut).
    let mut compare = |name: &str, rm, operands: &[u64], op: &dyn Fn(&mut u8) -> u64| {
        for accrued in [super::NX, 0x1f] {
            let mut fast_flags = accrued;
            let fast = op(&mut fast_flags);
            let mut soft_flags = accrued;
            let soft = with_soft_only(true, || op(&mut soft_flags));
            if (fast, fast_flags) != (soft, soft_flags) && failures.len() < 20 {
                failures.push(format!(
                    "{name} {rm:?} {operands:x?} accrued {accrued:#x}: fast {fast:#x} {fast_flags:#x}, soft {soft:#x} {soft_flags:#x}"
                ));
            }
        }
    };
    let cases = cases_per_mode() / 4;
    for rm in MODES {
        for (layout, ops) in [(DOUBLE, &binary64), (SINGLE, &binary32)] {
            let specials = layout.specials();
            for _ in 0..cases {
                let (a, b) = operands(layout, &mut rng, &specials);
                for (name, op) in ops {
                    compare(name, rm, &[a, b], &|f| op(a, b, rm, f));
                }
            }
        }
        for (name, op, layout) in fused {
            let specials = layout.specials();
            for _ in 0..cases {
                let (a, b) = operands(layout, &mut rng, &specials);
                let c = layout.partner(&mut rng, a, &specials);
                compare(name, rm, &[a, b, c], &|f| op(a, b, c, rm, f));
            }
        }
    }
    finish(failures);
}
