//! Differential test against qemu-riscv64 running `testdata/fpu_oracle.c`, the reference.

use super::testgen::{Layout, Rng, DOUBLE, SINGLE};
use super::*;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::vec::Vec;
use std::{format, thread};

/// Operations, numbered as in the oracle (plus 32 for double precision).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Add,
    Sub,
    Mul,
    Div,
    Sqrt,
    MulAdd,
    MulSub,
    NegMulSub,
    NegMulAdd,
    Min,
    Max,
    Eq,
    Lt,
    Le,
    Classify,
    ToI32,
    ToU32,
    ToI64,
    ToU64,
    FromI32,
    FromU32,
    FromI64,
    FromU64,
    /// f32 → f64 for single, f64 → f32 for double.
    Convert,
}

const KINDS: [Kind; 24] = [
    Kind::Add,
    Kind::Sub,
    Kind::Mul,
    Kind::Div,
    Kind::Sqrt,
    Kind::MulAdd,
    Kind::MulSub,
    Kind::NegMulSub,
    Kind::NegMulAdd,
    Kind::Min,
    Kind::Max,
    Kind::Eq,
    Kind::Lt,
    Kind::Le,
    Kind::Classify,
    Kind::ToI32,
    Kind::ToU32,
    Kind::ToI64,
    Kind::ToU64,
    Kind::FromI32,
    Kind::FromU32,
    Kind::FromI64,
    Kind::FromU64,
    Kind::Convert,
];

impl Kind {
    fn has_rounding_mode(self) -> bool {
        !matches!(
            self,
            Kind::Min | Kind::Max | Kind::Eq | Kind::Lt | Kind::Le | Kind::Classify
        )
    }
}

#[derive(Clone, Copy, Debug)]
struct Case {
    kind: Kind,
    double: bool,
    rm: RoundingMode,
    a: u64,
    b: u64,
    c: u64,
}

impl Case {
    fn op_number(&self) -> u32 {
        self.kind as u32 + if self.double { 32 } else { 0 }
    }
}

/// The destination register and fflags this crate gives for `case`, in the same shape as
/// the oracle reports them (single results are compared on their low 32 bits).
fn evaluate(case: &Case) -> (u64, u8) {
    let mut flags = 0u8;
    let (a, b, c, rm) = (case.a, case.b, case.c, case.rm);
    let f = &mut flags;
    let sign32 = 0x8000_0000u32;
    let sign64 = 1u64 << 63;
    let result = if case.double {
        match case.kind {
            Kind::Add => f64_add(a, b, rm, f),
            Kind::Sub => f64_sub(a, b, rm, f),
            Kind::Mul => f64_mul(a, b, rm, f),
            Kind::Div => f64_div(a, b, rm, f),
            Kind::Sqrt => f64_sqrt(a, rm, f),
            Kind::MulAdd => f64_mul_add(a, b, c, rm, f),
            Kind::MulSub => f64_mul_add(a, b, c ^ sign64, rm, f),
            Kind::NegMulSub => f64_mul_add(a ^ sign64, b, c, rm, f),
            Kind::NegMulAdd => f64_mul_add(a ^ sign64, b, c ^ sign64, rm, f),
            Kind::Min => f64_min(a, b, f),
            Kind::Max => f64_max(a, b, f),
            Kind::Eq => f64_eq(a, b, f).into(),
            Kind::Lt => f64_lt(a, b, f).into(),
            Kind::Le => f64_le(a, b, f).into(),
            Kind::Classify => f64_classify(a),
            Kind::ToI32 => f64_to_i32(a, rm, f) as i64 as u64,
            Kind::ToU32 => f64_to_u32(a, rm, f) as i32 as i64 as u64,
            Kind::ToI64 => f64_to_i64(a, rm, f) as u64,
            Kind::ToU64 => f64_to_u64(a, rm, f),
            Kind::FromI32 => f64_from_i32(a as i32, rm, f),
            Kind::FromU32 => f64_from_u32(a as u32, rm, f),
            Kind::FromI64 => f64_from_i64(a as i64, rm, f),
            Kind::FromU64 => f64_from_u64(a, rm, f),
            Kind::Convert => f64_to_f32(a, rm, f).into(),
        }
    } else {
        let (a32, b32, c32) = (a as u32, b as u32, c as u32);
        match case.kind {
            Kind::Add => f32_add(a32, b32, rm, f).into(),
            Kind::Sub => f32_sub(a32, b32, rm, f).into(),
            Kind::Mul => f32_mul(a32, b32, rm, f).into(),
            Kind::Div => f32_div(a32, b32, rm, f).into(),
            Kind::Sqrt => f32_sqrt(a32, rm, f).into(),
            Kind::MulAdd => f32_mul_add(a32, b32, c32, rm, f).into(),
            Kind::MulSub => f32_mul_add(a32, b32, c32 ^ sign32, rm, f).into(),
            Kind::NegMulSub => f32_mul_add(a32 ^ sign32, b32, c32, rm, f).into(),
            Kind::NegMulAdd => f32_mul_add(a32 ^ sign32, b32, c32 ^ sign32, rm, f).into(),
            Kind::Min => f32_min(a32, b32, f).into(),
            Kind::Max => f32_max(a32, b32, f).into(),
            Kind::Eq => f32_eq(a32, b32, f).into(),
            Kind::Lt => f32_lt(a32, b32, f).into(),
            Kind::Le => f32_le(a32, b32, f).into(),
            Kind::Classify => f32_classify(a32),
            Kind::ToI32 => f32_to_i32(a32, rm, f) as i64 as u64,
            Kind::ToU32 => f32_to_u32(a32, rm, f) as i32 as i64 as u64,
            Kind::ToI64 => f32_to_i64(a32, rm, f) as u64,
            Kind::ToU64 => f32_to_u64(a32, rm, f),
            Kind::FromI32 => f32_from_i32(a as i32, rm, f).into(),
            Kind::FromU32 => f32_from_u32(a as u32, rm, f).into(),
            Kind::FromI64 => f32_from_i64(a as i64, rm, f).into(),
            Kind::FromU64 => f32_from_u64(a, rm, f).into(),
            Kind::Convert => f32_to_f64(a32, f),
        }
    };
    (result, flags)
}

/// Whether the oracle's register holds a single-precision value (compared on 32 bits).
fn single_result(case: &Case) -> bool {
    use Kind::*;
    match case.kind {
        Add | Sub | Mul | Div | Sqrt | MulAdd | MulSub | NegMulSub | NegMulAdd | Min | Max
        | FromI32 | FromU32 | FromI64 | FromU64 => !case.double,
        Convert => case.double,
        _ => false,
    }
}

/// Integer operands for the int → float conversions: every bit length, powers of two and
/// their neighbours, and values whose rounding is a tie.
fn integer_operand(rng: &mut Rng) -> u64 {
    let length = rng.below(65);
    let value = match rng.below(4) {
        0 => 1u64
            .checked_shl(length as u32)
            .unwrap_or(0)
            .wrapping_add(rng.below(5))
            .wrapping_sub(2),
        1 => {
            // A tie or near-tie for 24- or 53-bit rounding.
            let top = rng.next_u64() | 1 << 63;
            let keep = if rng.chance(50) { 24 } else { 53 };
            (top >> (64 - keep) << (64 - keep)) | (1 << (63 - keep)) | rng.below(2)
        }
        _ => rng.next_u64() >> (64 - length.max(1)),
    };
    if rng.chance(50) {
        value.wrapping_neg()
    } else {
        value
    }
}

fn generate(kind: Kind, double: bool, rm: RoundingMode, count: usize, rng: &mut Rng) -> Vec<Case> {
    let layout: Layout = if double { DOUBLE } else { SINGLE };
    let specials = layout.specials();
    let mut cases = Vec::with_capacity(count);
    for _ in 0..count {
        let mut a = layout.operand(rng, &specials);
        let mut b = layout.partner(rng, a, &specials);
        let mut c = layout.operand(rng, &specials);
        match kind {
            Kind::MulAdd | Kind::MulSub | Kind::NegMulSub | Kind::NegMulAdd if rng.chance(50) => {
                // An addend that (nearly) cancels the product exercises the exact-zero sign,
                // massive cancellation and the product's low bits.
                let product = layout.host_value(a) * layout.host_value(b);
                let flip = matches!(kind, Kind::MulSub | Kind::NegMulSub);
                c = layout.near_negation_of(rng, product) ^ if flip { layout.sign() } else { 0 };
            }
            Kind::Add | Kind::Sub if rng.chance(20) => b = layout.tie_partner(rng, a),
            Kind::MulAdd | Kind::MulSub | Kind::NegMulSub | Kind::NegMulAdd if rng.chance(30) => {
                // An addend that puts the exact result on (or next to) a midpoint.
                let product = layout.host_value(a) * layout.host_value(b);
                let high = layout.host_value(layout.round_host(product));
                let low = if double {
                    layout.host_value(a).mul_add(layout.host_value(b), -high)
                } else {
                    product - high
                };
                let half_ulp = layout
                    .host_value(layout.tie_partner(rng, layout.round_host(high)) & !layout.sign());
                let flip = matches!(kind, Kind::MulSub | Kind::NegMulSub);
                let addend = if rng.chance(50) {
                    half_ulp - low
                } else {
                    -half_ulp - low
                };
                c = layout.nudge(rng, layout.round_host(addend))
                    ^ if flip { layout.sign() } else { 0 };
            }
            Kind::Div if rng.chance(30) => {
                // A dividend that is an exact multiple of the divisor.
                let quotient = layout.operand(rng, &specials);
                a = layout.round_host(layout.host_value(b) * layout.host_value(quotient));
                a = if rng.chance(50) {
                    layout.nudge(rng, a)
                } else {
                    a
                };
            }
            Kind::Sqrt if rng.chance(30) => {
                let root = layout.host_value(a);
                a = layout.nudge(rng, layout.round_host(root * root));
            }
            Kind::FromI32 | Kind::FromU32 | Kind::FromI64 | Kind::FromU64 => {
                a = integer_operand(rng)
            }
            Kind::Convert if double && rng.chance(60) => {
                // Values around the binary32 range: overflow, underflow and subnormal ties.
                let field = 1023 - 150 + rng.below(2 * 150 + 10);
                a = DOUBLE.pack(
                    rng.chance(50),
                    field.min(2046),
                    rng.next_u64() >> rng.below(40) << rng.below(30),
                );
            }
            Kind::Eq | Kind::Lt | Kind::Le | Kind::Min | Kind::Max if rng.chance(30) => {
                b = a ^ rng.pick(&[0, layout.sign()])
            }
            _ => {}
        }
        if !double {
            a &= if matches!(
                kind,
                Kind::FromI64 | Kind::FromU64 | Kind::FromI32 | Kind::FromU32
            ) {
                !0
            } else {
                0xffff_ffff
            };
            b &= 0xffff_ffff;
            c &= 0xffff_ffff;
        }
        cases.push(Case {
            kind,
            double,
            rm,
            a,
            b,
            c,
        });
    }
    cases
}

fn oracle_binary() -> PathBuf {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/fpu/testdata/fpu_oracle.c");
    let binary = std::env::temp_dir().join(format!("friscy-fpu-oracle-{}", std::process::id()));
    let status = Command::new("riscv64-linux-gnu-gcc")
        .args(["-O2", "-static", "-Wall", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .expect("riscv64-linux-gnu-gcc is required for the fpu differential test");
    assert!(status.success(), "compiling the fpu oracle failed");
    binary
}

/// Runs every case through the oracle under qemu-riscv64; returns (register, fflags) each.
fn run_oracle(binary: &PathBuf, cases: &[Case]) -> Vec<(u64, u64)> {
    let mut input = Vec::with_capacity(cases.len() * 32);
    for case in cases {
        input.extend_from_slice(&case.op_number().to_le_bytes());
        input.extend_from_slice(&(case.rm as u32).to_le_bytes());
        for operand in [case.a, case.b, case.c] {
            input.extend_from_slice(&operand.to_le_bytes());
        }
    }
    let mut child = Command::new("qemu-riscv64")
        .arg(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("qemu-riscv64 is required for the fpu differential test");
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || stdin.write_all(&input));
    let mut output = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut output)
        .unwrap();
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success(), "the oracle failed");
    assert_eq!(
        output.len(),
        cases.len() * 16,
        "the oracle answered too few cases"
    );
    output
        .chunks_exact(16)
        .map(|record| {
            let word = |i: usize| u64::from_le_bytes(record[i..i + 8].try_into().unwrap());
            (word(0), word(8))
        })
        .collect()
}

/// How often qemu raised each flag per operation: evidence that the generators reach the
/// interesting paths (shown with `--nocapture`).
fn print_flag_coverage(cases: &[Case], expected: &[(u64, u64)]) {
    let names = ["NX", "UF", "OF", "DZ", "NV"];
    let mut counts = std::collections::BTreeMap::<(bool, u32), [usize; 6]>::new();
    for (case, &(_, flags)) in cases.iter().zip(expected) {
        let entry = counts.entry((case.double, case.kind as u32)).or_default();
        entry[5] += 1;
        for (bit, count) in entry.iter_mut().take(5).enumerate() {
            *count += usize::from(flags & (1 << bit) != 0);
        }
    }
    for ((double, kind), entry) in counts {
        let flags: Vec<std::string::String> = names
            .iter()
            .zip(entry)
            .map(|(name, n)| format!("{name} {n:6}"))
            .collect();
        std::println!(
            "  {:?}.{} {:7} cases: {}",
            KINDS[kind as usize],
            if double { "d" } else { "s" },
            entry[5],
            flags.join(" ")
        );
    }
}

fn cases_per_mode() -> usize {
    std::env::var("FPU_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

const MODES: [RoundingMode; 5] = [
    RoundingMode::Rne,
    RoundingMode::Rtz,
    RoundingMode::Rdn,
    RoundingMode::Rup,
    RoundingMode::Rmm,
];

#[test]
fn matches_qemu_riscv64() {
    let binary = oracle_binary();
    let per_mode = cases_per_mode();
    let mut rng = Rng::new(0x5eed_f00d);
    let mut cases = Vec::new();
    for double in [false, true] {
        for kind in KINDS {
            if kind.has_rounding_mode() {
                for rm in MODES {
                    cases.extend(generate(kind, double, rm, per_mode, &mut rng));
                }
            } else {
                cases.extend(generate(
                    kind,
                    double,
                    RoundingMode::Rne,
                    per_mode * 2,
                    &mut rng,
                ));
            }
        }
    }
    let expected = run_oracle(&binary, &cases);
    let _ = std::fs::remove_file(&binary);

    let mut mismatches = Vec::new();
    for (case, &(oracle_register, oracle_flags)) in cases.iter().zip(&expected) {
        let oracle_register = if single_result(case) {
            oracle_register & 0xffff_ffff
        } else {
            oracle_register
        };
        for soft_only in [false, true] {
            let (register, flags) = super::tests::with_soft_only(soft_only, || evaluate(case));
            if (register, u64::from(flags)) != (oracle_register, oracle_flags) {
                mismatches.push(format!(
                    "{:?} {} {:?} a={:#x} b={:#x} c={:#x}: qemu {:#x} flags {:#x}, {} {:#x} flags {:#x}",
                    case.kind,
                    if case.double { "d" } else { "s" },
                    case.rm,
                    case.a,
                    case.b,
                    case.c,
                    oracle_register,
                    oracle_flags,
                    if soft_only { "soft" } else { "ours" },
                    register,
                    flags
                ));
            }
        }
    }
    std::println!(
        "fpu differential test: {} cases against qemu-riscv64",
        cases.len()
    );
    print_flag_coverage(&cases, &expected);
    assert!(
        mismatches.is_empty(),
        "{} mismatches against qemu-riscv64, first ones:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(40)].join("\n")
    );
}
