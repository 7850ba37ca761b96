//! Throughput of the fast paths against the soft reference, on typical operands (ignored
//! test: `cargo test --release -p friscy-core fpu::bench -- --ignored --nocapture`).

use super::testgen::Rng;
use super::*;
use core::hint::black_box;
use std::time::Instant;
use std::vec::Vec;
use std::{format, println};

/// Values like those of ordinary numeric code: normal, within a few binades of one.
fn typical_f64(rng: &mut Rng) -> u64 {
    let sign = rng.below(2) << 63;
    let field = 1023 - 20 + rng.below(41);
    sign | field << 52 | rng.next_u64() >> 12
}

fn typical_f32(rng: &mut Rng) -> u32 {
    (f64::from_bits(typical_f64(rng)) as f32).to_bits()
}

const OPERANDS: usize = 4096;
const ROUNDS: usize = 10;
const TRIALS: usize = 60;

/// Nanoseconds per call of `op` over the operand triples, with and without fast paths: the
/// best of several interleaved trials, since the machine may be shared.
fn measure<T: Copy>(operands: &[(T, T, T)], op: impl Fn(T, T, T, &mut u8) -> T) -> (f64, f64) {
    let time = |soft_only: bool| {
        super::tests::with_soft_only(soft_only, || {
            let start = Instant::now();
            let mut flags = 0u8;
            for _ in 0..ROUNDS {
                for &(a, b, c) in operands {
                    black_box(op(black_box(a), black_box(b), black_box(c), &mut flags));
                }
            }
            black_box(flags);
            start.elapsed().as_nanos() as f64 / (ROUNDS * operands.len()) as f64
        })
    };
    let (mut fast, mut soft) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..TRIALS {
        fast = fast.min(time(false));
        soft = soft.min(time(true));
    }
    (fast, soft)
}

#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn fast_versus_soft_throughput() {
    let mut rng = Rng::new(7);
    let doubles: Vec<(u64, u64, u64)> = (0..OPERANDS)
        .map(|_| {
            (
                typical_f64(&mut rng),
                typical_f64(&mut rng),
                typical_f64(&mut rng),
            )
        })
        .collect();
    let singles: Vec<(u32, u32, u32)> = (0..OPERANDS)
        .map(|_| {
            (
                typical_f32(&mut rng),
                typical_f32(&mut rng),
                typical_f32(&mut rng),
            )
        })
        .collect();
    let positive_doubles: Vec<(u64, u64, u64)> = doubles
        .iter()
        .map(|&(a, b, c)| (a & !(1 << 63), b, c))
        .collect();
    let positive_singles: Vec<(u32, u32, u32)> = singles
        .iter()
        .map(|&(a, b, c)| (a & !(1 << 31), b, c))
        .collect();
    let rne = RoundingMode::Rne;
    let rtz = RoundingMode::Rtz;
    let rows = [
        ("call overhead", measure(&doubles, |a, _, _, _| a)),
        (
            "f64_add rne",
            measure(&doubles, |a, b, _, f| f64_add(a, b, rne, f)),
        ),
        (
            "f64_add rtz",
            measure(&doubles, |a, b, _, f| f64_add(a, b, rtz, f)),
        ),
        (
            "f64_mul rne",
            measure(&doubles, |a, b, _, f| f64_mul(a, b, rne, f)),
        ),
        (
            "f64_div rne",
            measure(&doubles, |a, b, _, f| f64_div(a, b, rne, f)),
        ),
        (
            "f64_sqrt rne",
            measure(&positive_doubles, |a, _, _, f| f64_sqrt(a, rne, f)),
        ),
        (
            "f64_mul_add rne",
            measure(&doubles, |a, b, c, f| f64_mul_add(a, b, c, rne, f)),
        ),
        (
            "f64_to_i32 rtz",
            measure(&doubles, |a, _, _, f| f64_to_i32(a, rtz, f) as u64),
        ),
        (
            "f32_add rne",
            measure(&singles, |a, b, _, f| f32_add(a, b, rne, f)),
        ),
        (
            "f32_mul rne",
            measure(&singles, |a, b, _, f| f32_mul(a, b, rne, f)),
        ),
        (
            "f32_div rne",
            measure(&singles, |a, b, _, f| f32_div(a, b, rne, f)),
        ),
        (
            "f32_sqrt rne",
            measure(&positive_singles, |a, _, _, f| f32_sqrt(a, rne, f)),
        ),
        (
            "f32_mul_add rne",
            measure(&singles, |a, b, c, f| f32_mul_add(a, b, c, rne, f)),
        ),
    ];
    println!(
        "{:16} {:>10} {:>10} {:>8}",
        "operation", "fast ns", "soft ns", "speedup"
    );
    for (name, (fast, soft)) in rows {
        println!(
            "{name:16} {fast:10.2} {soft:10.2} {:>8}",
            format!("{:.1}x", soft / fast)
        );
    }
}

/// A fixed workload for counting instructions, which unlike time does not depend on the
/// machine's load: run the test binary under `valgrind --tool=cachegrind` with
/// `FPU_PROBE_OP` set to add, mul, div, sqrt, fma, cvt or none (the loop alone), and
/// `FPU_PROBE_SOFT=1` for the soft path; each run makes 204,800 calls.
#[test]
#[ignore = "instruction-count probe; run under cachegrind"]
fn instruction_probe() {
    let mut rng = Rng::new(7);
    let doubles: Vec<(u64, u64, u64)> = (0..OPERANDS)
        .map(|_| {
            (
                typical_f64(&mut rng),
                typical_f64(&mut rng),
                typical_f64(&mut rng),
            )
        })
        .collect();
    let op = std::env::var("FPU_PROBE_OP").unwrap_or_default();
    let soft_only = std::env::var_os("FPU_PROBE_SOFT").is_some();
    let (rne, rtz) = (RoundingMode::Rne, RoundingMode::Rtz);
    super::tests::with_soft_only(soft_only, || {
        let mut flags = 0;
        for _ in 0..50 {
            for &(a, b, c) in &doubles {
                let result = match op.as_str() {
                    "add" => f64_add(a, b, rne, &mut flags),
                    "mul" => f64_mul(a, b, rne, &mut flags),
                    "div" => f64_div(a, b, rne, &mut flags),
                    "sqrt" => f64_sqrt(a & !(1 << 63), rne, &mut flags),
                    "fma" => f64_mul_add(a, b, c, rne, &mut flags),
                    "cvt" => f64_to_i32(a, rtz, &mut flags) as u64,
                    _ => a,
                };
                black_box(result);
            }
        }
    });
}
