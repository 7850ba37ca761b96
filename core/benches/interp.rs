//! Micro-benchmarks of friscy-core with a plain harness (std::time, medians): decode throughput, interpreter loops, machine creation, ELF load, guest call round trips and the vmcall API.
//!
//! Run with `cargo bench -p friscy-core` (a substring argument selects benchmarks, e.g.
//! `cargo bench -p friscy-core -- loop`). Every figure is the median of several samples; the
//! spread (min..max over samples) is printed so noise on a shared machine is visible.
//!
//! The decode corpus is the `.text` of a real static glibc program: `FRISCY_BENCH_ELF=path`,
//! else `examples/guests/hello.c` compiled with `riscv64-linux-gnu-gcc -O2 -static` when that
//! compiler is installed, else the tiny committed `benches/data/tiny.elf` (and it says so).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use friscy_core::isa::{decode_compressed, decode_word};
use friscy_core::vmcall::PreparedCall;
use friscy_core::{Arg, ArgKind, Config, Machine, NullHost, StopReason};

/// The committed static ELF (see `benches/data/tiny.c` for how it is built).
const TINY_ELF: &[u8] = include_bytes!("data/tiny.elf");

/// Where the hand-assembled loops and their data live in guest memory.
const CODE_ADDR: u64 = 0x1_0000;
const DATA_ADDR: u64 = 0x10_0000;

// ---------------------------------------------------------------------------------------------
// Harness

struct Bench {
    filter: Option<String>,
}

impl Bench {
    fn wants(&self, name: &str) -> bool {
        match &self.filter {
            Some(f) => name.contains(f.as_str()),
            None => true,
        }
    }

    /// Runs `sample` `samples` times; each call returns (elapsed, units of work done).
    /// Prints the median time per sample and per unit, with the spread over samples.
    fn run(
        &self,
        name: &str,
        unit: &str,
        samples: usize,
        mut sample: impl FnMut() -> (Duration, u64),
    ) {
        if !self.wants(name) {
            return;
        }
        // One untimed warm-up sample (page faults, code cache fill).
        let (_, units) = sample();
        let mut times: Vec<f64> = (0..samples)
            .map(|_| {
                let (d, u) = sample();
                assert_eq!(u, units, "{name}: a sample did a different amount of work");
                d.as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median = if samples % 2 == 1 {
            times[samples / 2]
        } else {
            (times[samples / 2 - 1] + times[samples / 2]) / 2.0
        };
        let per_unit_ns = median * 1e9 / units as f64;
        let rate = units as f64 / median;
        println!(
            "{name:<34} {per_unit_ns:>10.2} ns/{unit:<6} {:>9.1} M{unit}/s   (median of {samples}: {}, spread {}..{})",
            rate / 1e6,
            fmt_time(median),
            fmt_time(times[0]),
            fmt_time(times[samples - 1]),
        );
    }
}

fn fmt_time(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.3} s")
    } else if secs >= 1e-3 {
        format!("{:.3} ms", secs * 1e3)
    } else {
        format!("{:.2} us", secs * 1e6)
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

// ---------------------------------------------------------------------------------------------
// Decode corpus: the .text of a real riscv64 program

/// `.text` of an ELF64 file (by section name; stripped binaries keep section headers).
fn elf_text(elf: &[u8]) -> Option<&[u8]> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(elf.get(o..o + 8)?.try_into().ok()?));
    if elf.get(0..4)? != b"\x7fELF" || elf[4] != 2 {
        return None;
    }
    let shoff = usize::try_from(u64_at(0x28)?).ok()?;
    let shentsize = usize::from(u16_at(0x3a)?);
    let shnum = usize::from(u16_at(0x3c)?);
    let shstrndx = usize::from(u16_at(0x3e)?);
    let section = |i: usize| -> Option<(u32, usize, usize)> {
        let h = shoff + i * shentsize;
        let off = usize::try_from(u64_at(h + 24)?).ok()?;
        let size = usize::try_from(u64_at(h + 32)?).ok()?;
        Some((u32_at(h)?, off, size))
    };
    let (_, str_off, str_size) = section(shstrndx)?;
    let names = elf.get(str_off..str_off + str_size)?;
    (0..shnum).find_map(|i| {
        let (name, off, size) = section(i)?;
        let name = names.get(name as usize..)?;
        if name.starts_with(b".text\0") {
            elf.get(off..off + size)
        } else {
            None
        }
    })
}

/// A static glibc program to take the instruction mix from, and a description of it.
fn corpus_elf() -> (Vec<u8>, String) {
    if let Some(path) = std::env::var_os("FRISCY_BENCH_ELF") {
        let path = PathBuf::from(path);
        let bytes = std::fs::read(&path).expect("FRISCY_BENCH_ELF: cannot read");
        return (bytes, format!("{}", path.display()));
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/guests/hello.c");
    let out = std::env::temp_dir().join(format!("friscy-bench-corpus-{}", std::process::id()));
    let built = std::process::Command::new("riscv64-linux-gnu-gcc")
        .args(["-O2", "-static", "-o"])
        .arg(&out)
        .arg(&src)
        .arg("-lm")
        .status()
        .is_ok_and(|s| s.success());
    if built {
        let bytes = std::fs::read(&out).expect("read the compiled corpus");
        let _ = std::fs::remove_file(&out);
        return (
            bytes,
            "examples/guests/hello.c, riscv64-linux-gnu-gcc -O2 -static".into(),
        );
    }
    (
        TINY_ELF.to_vec(),
        "benches/data/tiny.elf (no riscv64-linux-gnu-gcc: a tiny, unrepresentative sample)".into(),
    )
}

/// Instruction parcels of `text` in program order: 32-bit words, and 16-bit compressed
/// encodings (their low two bits are never 0b11, so the two kinds are told apart by that).
fn split_instructions(text: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(text.len() / 3);
    let mut pos = 0;
    while pos + 2 <= text.len() {
        let low = u16::from_le_bytes([text[pos], text[pos + 1]]);
        if low & 3 == 3 {
            if pos + 4 > text.len() {
                break;
            }
            out.push(u32::from_le_bytes(text[pos..pos + 4].try_into().unwrap()));
            pos += 4;
        } else {
            out.push(u32::from(low));
            pos += 2;
        }
    }
    out
}

fn decode_all(stream: &[u32]) -> u64 {
    let mut acc = 0u64;
    for &w in stream {
        let insn = if w & 3 == 3 {
            decode_word(black_box(w))
        } else {
            decode_compressed(black_box(w as u16))
        };
        let insn = black_box(insn);
        acc = acc.wrapping_add(insn.op as u64 ^ insn.imm as u64);
    }
    acc
}

fn bench_decode(b: &Bench) {
    if !b.wants("decode") {
        return;
    }
    let (elf, origin) = corpus_elf();
    let text = elf_text(&elf).expect("the corpus ELF has a .text section");
    let mixed = split_instructions(text);
    let words: Vec<u32> = mixed.iter().copied().filter(|w| w & 3 == 3).collect();
    let halves: Vec<u32> = mixed.iter().copied().filter(|w| w & 3 != 3).collect();
    println!(
        "decode corpus: .text of {origin}: {} KiB, {} instructions ({:.0}% compressed)",
        text.len() / 1024,
        mixed.len(),
        100.0 * halves.len() as f64 / mixed.len().max(1) as f64
    );
    for (name, stream) in [
        ("decode: .text mix", &mixed),
        ("decode: decode_word only", &words),
        ("decode: decode_compressed only", &halves),
    ] {
        if stream.is_empty() {
            continue;
        }
        b.run(name, "insn", 31, || {
            let (d, acc) = timed(|| decode_all(stream));
            black_box(acc);
            (d, stream.len() as u64)
        });
    }
}

// ---------------------------------------------------------------------------------------------
// A tiny RV64 assembler for the hand-written loops

const ZERO: u32 = 0;
const RA: u32 = 1;
const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const A3: u32 = 13;
const A4: u32 = 14;
const T3: u32 = 28;
/// Dynamic rounding mode (what compilers emit by default).
const DYN: u32 = 7;

fn r_type(opcode: u32, f3: u32, f7: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opcode
}
fn i_type(opcode: u32, f3: u32, rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opcode
}
fn s_type(opcode: u32, f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    (imm >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1f) << 7 | opcode
}
fn b_type(f3: u32, rs1: u32, rs2: u32, off: i32) -> u32 {
    let o = off as u32;
    (o >> 12 & 1) << 31
        | (o >> 5 & 0x3f) << 25
        | rs2 << 20
        | rs1 << 15
        | f3 << 12
        | (o >> 1 & 0xf) << 8
        | (o >> 11 & 1) << 7
        | 0x63
}
fn j_type(rd: u32, off: i32) -> u32 {
    let o = off as u32;
    (o >> 20 & 1) << 31
        | (o >> 1 & 0x3ff) << 21
        | (o >> 11 & 1) << 20
        | (o >> 12 & 0xff) << 12
        | rd << 7
        | 0x6f
}

/// Branch/jump kinds whose offsets are patched once the labels are known.
#[derive(Clone, Copy)]
enum Fixup {
    Branch { f3: u32, rs1: u32, rs2: u32 },
    Jal { rd: u32 },
}

#[derive(Default)]
struct Asm {
    words: Vec<u32>,
    labels: Vec<(&'static str, usize)>,
    fixups: Vec<(usize, &'static str, Fixup)>,
}

impl Asm {
    fn label(&mut self, name: &'static str) {
        self.labels.push((name, self.words.len()));
    }
    fn emit(&mut self, w: u32) -> &mut Self {
        self.words.push(w);
        self
    }
    fn addi(&mut self, rd: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(i_type(0x13, 0, rd, rs1, imm))
    }
    fn andi(&mut self, rd: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(i_type(0x13, 7, rd, rs1, imm))
    }
    fn slli(&mut self, rd: u32, rs1: u32, sh: i32) -> &mut Self {
        self.emit(i_type(0x13, 1, rd, rs1, sh))
    }
    fn srli(&mut self, rd: u32, rs1: u32, sh: i32) -> &mut Self {
        self.emit(i_type(0x13, 5, rd, rs1, sh))
    }
    fn add(&mut self, rd: u32, rs1: u32, rs2: u32) -> &mut Self {
        self.emit(r_type(0x33, 0, 0, rd, rs1, rs2))
    }
    fn sub(&mut self, rd: u32, rs1: u32, rs2: u32) -> &mut Self {
        self.emit(r_type(0x33, 0, 0x20, rd, rs1, rs2))
    }
    fn xor(&mut self, rd: u32, rs1: u32, rs2: u32) -> &mut Self {
        self.emit(r_type(0x33, 4, 0, rd, rs1, rs2))
    }
    fn or(&mut self, rd: u32, rs1: u32, rs2: u32) -> &mut Self {
        self.emit(r_type(0x33, 6, 0, rd, rs1, rs2))
    }
    fn mul(&mut self, rd: u32, rs1: u32, rs2: u32) -> &mut Self {
        self.emit(r_type(0x33, 0, 1, rd, rs1, rs2))
    }
    fn ld(&mut self, rd: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(i_type(0x03, 3, rd, rs1, imm))
    }
    fn lw(&mut self, rd: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(i_type(0x03, 2, rd, rs1, imm))
    }
    fn lbu(&mut self, rd: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(i_type(0x03, 4, rd, rs1, imm))
    }
    fn sd(&mut self, rs2: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(s_type(0x23, 3, rs1, rs2, imm))
    }
    fn sw(&mut self, rs2: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(s_type(0x23, 2, rs1, rs2, imm))
    }
    fn sb(&mut self, rs2: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(s_type(0x23, 0, rs1, rs2, imm))
    }
    fn fld(&mut self, rd: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(i_type(0x07, 3, rd, rs1, imm))
    }
    fn fsd(&mut self, rs2: u32, rs1: u32, imm: i32) -> &mut Self {
        self.emit(s_type(0x27, 3, rs1, rs2, imm))
    }
    /// Double-precision OP-FP with dynamic rounding: f7 selects fadd (0x01), fsub (0x05),
    /// fmul (0x09), fdiv (0x0d).
    fn fop_d(&mut self, f7: u32, rd: u32, rs1: u32, rs2: u32) -> &mut Self {
        self.emit(r_type(0x53, DYN, f7, rd, rs1, rs2))
    }
    fn fmadd_d(&mut self, rd: u32, rs1: u32, rs2: u32, rs3: u32) -> &mut Self {
        self.emit(rs3 << 27 | 1 << 25 | rs2 << 20 | rs1 << 15 | DYN << 12 | rd << 7 | 0x43)
    }
    fn flt_d(&mut self, rd: u32, rs1: u32, rs2: u32) -> &mut Self {
        self.emit(r_type(0x53, 1, 0x51, rd, rs1, rs2))
    }
    fn ret(&mut self) -> &mut Self {
        self.emit(i_type(0x67, 0, ZERO, RA, 0))
    }
    fn ebreak(&mut self) -> &mut Self {
        self.emit(0x0010_0073)
    }
    fn branch(&mut self, f3: u32, rs1: u32, rs2: u32, to: &'static str) -> &mut Self {
        self.fixups
            .push((self.words.len(), to, Fixup::Branch { f3, rs1, rs2 }));
        self.emit(0)
    }
    fn beq(&mut self, rs1: u32, rs2: u32, to: &'static str) -> &mut Self {
        self.branch(0, rs1, rs2, to)
    }
    fn bne(&mut self, rs1: u32, rs2: u32, to: &'static str) -> &mut Self {
        self.branch(1, rs1, rs2, to)
    }
    fn blt(&mut self, rs1: u32, rs2: u32, to: &'static str) -> &mut Self {
        self.branch(4, rs1, rs2, to)
    }
    fn jal(&mut self, rd: u32, to: &'static str) -> &mut Self {
        self.fixups.push((self.words.len(), to, Fixup::Jal { rd }));
        self.emit(0)
    }

    fn finish(mut self) -> Vec<u8> {
        for &(at, to, kind) in &self.fixups {
            let target = self
                .labels
                .iter()
                .find(|(n, _)| *n == to)
                .unwrap_or_else(|| panic!("undefined label {to}"))
                .1;
            let off = (target as i32 - at as i32) * 4;
            self.words[at] = match kind {
                Fixup::Branch { f3, rs1, rs2 } => b_type(f3, rs1, rs2, off),
                Fixup::Jal { rd } => j_type(rd, off),
            };
        }
        self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Interpreter loops

/// Integer ALU: adds, xors, shifts and a multiply per iteration; t0 counts down.
fn alu_loop() -> Vec<u8> {
    let mut a = Asm::default();
    a.label("loop");
    a.add(A0, A0, T0)
        .xor(A1, A1, A0)
        .slli(A2, A1, 3)
        .srli(A3, A0, 5)
        .sub(A0, A0, A3)
        .or(A1, A1, A2)
        .mul(A4, A4, A0)
        .addi(T0, T0, -1)
        .bne(T0, ZERO, "loop");
    a.ebreak();
    a.finish()
}

/// Loads and stores of every common width over a 4 KiB array at `DATA_ADDR` (in t1).
fn load_store_loop() -> Vec<u8> {
    let mut a = Asm::default();
    a.label("loop");
    a.andi(T2, T0, 511)
        .slli(T2, T2, 3)
        .add(T3, T1, T2)
        .ld(A0, T3, 0)
        .add(A0, A0, T0)
        .sd(A0, T3, 0)
        .lw(A1, T3, 4)
        .sw(A1, T3, 8)
        .lbu(A2, T3, 1)
        .sb(A2, T3, 2)
        .addi(T0, T0, -1)
        .bne(T0, ZERO, "loop");
    a.ebreak();
    a.finish()
}

/// Data-dependent branches on a xorshift64 stream, plus a call and return per iteration.
fn branchy_loop() -> Vec<u8> {
    let mut a = Asm::default();
    a.label("loop");
    a.slli(T2, A0, 13)
        .xor(A0, A0, T2)
        .srli(T2, A0, 7)
        .xor(A0, A0, T2)
        .slli(T2, A0, 17)
        .xor(A0, A0, T2)
        .andi(T3, A0, 1)
        .beq(T3, ZERO, "skip1");
    a.addi(A1, A1, 1);
    a.label("skip1");
    a.andi(T3, A0, 2).bne(T3, ZERO, "skip2");
    a.addi(A2, A2, 1);
    a.label("skip2");
    a.blt(A0, ZERO, "skip3");
    a.addi(A3, A3, 1);
    a.label("skip3");
    a.jal(RA, "func");
    a.addi(T0, T0, -1).bne(T0, ZERO, "loop");
    a.ebreak();
    a.label("func");
    a.addi(A4, A4, 1).ret();
    a.finish()
}

/// Double-precision multiply, add, fused multiply-add, divide, compare, and an FP load/store.
fn fp_loop() -> Vec<u8> {
    let mut a = Asm::default();
    a.label("loop");
    a.fop_d(0x09, 3, 1, 2) // fmul.d f3, f1, f2
        .fop_d(0x01, 4, 4, 3) // fadd.d f4, f4, f3
        .fmadd_d(5, 1, 2, 5) // fmadd.d f5, f1, f2, f5
        .fop_d(0x0d, 7, 4, 2) // fdiv.d f7, f4, f2
        .fop_d(0x05, 6, 7, 3) // fsub.d f6, f7, f3
        .fld(8, T1, 0)
        .fop_d(0x01, 8, 8, 6) // fadd.d f8, f8, f6
        .fsd(8, T1, 0)
        .flt_d(A1, 6, 5)
        .add(A2, A2, A1)
        .addi(T0, T0, -1)
        .bne(T0, ZERO, "loop");
    a.ebreak();
    a.finish()
}

/// Assembles one of the loops above.
type LoopCode = fn() -> Vec<u8>;

/// A machine with `code` at `CODE_ADDR`, ready to run it with `iterations` in t0.
fn loop_machine(code: &[u8]) -> Machine {
    let mut m = Machine::new(Config::default()).expect("1 GiB machine");
    m.mem.write_bytes(CODE_ADDR, code).expect("code fits");
    m
}

fn run_loop(m: &mut Machine, iterations: u64) -> (Duration, u64) {
    m.cpu.x[..32].fill(0);
    m.cpu.x[T0 as usize] = iterations;
    m.cpu.x[T1 as usize] = DATA_ADDR;
    m.cpu.x[A0 as usize] = 0x9e37_79b9_7f4a_7c15;
    m.cpu.f[1] = 1.000_000_1f64.to_bits();
    m.cpu.f[2] = 0.999_999_9f64.to_bits();
    for r in 3..9 {
        m.cpu.f[r] = 0.5f64.to_bits();
    }
    m.cpu.pc = CODE_ADDR;
    let before = m.cpu.instret;
    let (d, stop) = timed(|| m.run(&mut NullHost, u64::MAX));
    assert!(
        matches!(stop, StopReason::Breakpoint { .. }),
        "loop ended with {stop:?}"
    );
    (d, m.cpu.instret - before)
}

fn bench_loops(b: &Bench) {
    let loops: [(&str, LoopCode, u64); 4] = [
        ("loop: integer ALU", alu_loop, 2_000_000),
        ("loop: load/store", load_store_loop, 1_500_000),
        ("loop: branchy (+call/ret)", branchy_loop, 1_000_000),
        ("loop: FP double", fp_loop, 1_000_000),
    ];
    for (name, code, iterations) in loops {
        if !b.wants(name) {
            continue;
        }
        let mut m = loop_machine(&code());
        b.run(name, "insn", 9, || run_loop(&mut m, iterations));
    }
}

// ---------------------------------------------------------------------------------------------
// Machine creation, ELF load, guest calls

fn bench_machine(b: &Bench) {
    b.run("Machine::new (1 GiB)", "call", 51, || {
        let (d, m) = timed(|| Machine::new(Config::default()).expect("machine"));
        drop(black_box(m));
        (d, 1)
    });
    b.run("Machine::new + drop (1 GiB)", "call", 51, || {
        let (d, ()) = timed(|| drop(black_box(Machine::new(Config::default()).expect("machine"))));
        (d, 1)
    });
    let argv: [&[u8]; 1] = [b"tiny"];
    let envp: [&[u8]; 1] = [b"HOME=/root"];
    let mut m = Machine::new(Config::default()).expect("machine");
    b.run("load_elf (tiny.elf, reused machine)", "call", 201, || {
        let (d, r) = timed(|| m.load_elf(black_box(TINY_ELF), &argv, &envp));
        r.expect("tiny.elf loads");
        (d, 1)
    });
    b.run("new + load_elf + run to exit (tiny)", "call", 51, || {
        let (d, stop) = timed(|| {
            let mut m = Machine::new(Config::default()).expect("machine");
            m.load_elf(TINY_ELF, &argv, &envp).expect("tiny.elf loads");
            m.run(&mut NullHost, u64::MAX)
        });
        assert_eq!(stop, StopReason::Exited { status: 0 });
        (d, 1)
    });
}

/// Calls into the guest: pc at a `ret`-only function whose return address is an `ebreak`,
/// run until the breakpoint. What a host pays per call before a proper vmcall API exists.
fn bench_guest_call(b: &Bench) {
    const CALLS: u64 = 100_000;
    let mut a = Asm::default();
    a.ebreak(); // CODE_ADDR: where the function returns to
    a.label("func");
    a.ret(); // CODE_ADDR + 4
    let mut m = loop_machine(&a.finish());
    let func = CODE_ADDR + 4;
    b.run("guest call round trip (ret → ebreak)", "call", 9, || {
        timed(|| {
            for _ in 0..CALLS {
                m.cpu.x[RA as usize] = CODE_ADDR;
                m.cpu.pc = func;
                let stop = m.run(&mut NullHost, u64::MAX);
                assert!(matches!(stop, StopReason::Breakpoint { .. }), "{stop:?}");
            }
            CALLS
        })
    });
}

/// The vmcall API: an empty guest function called through `call_prepared` (the per-frame
/// path) and through `call` with two integer arguments, each a full round trip (save the
/// registers, run to the return trap, restore).
fn bench_vmcall(b: &Bench) {
    const CALLS: u64 = 200_000;
    let mut a = Asm::default();
    a.ret(); // CODE_ADDR: an empty function
    a.add(A0, A0, A1).ret(); // CODE_ADDR + 4: add2
    let mut m = loop_machine(&a.finish());
    // No ELF here: declare the code page as the program image, and give the guest a stack.
    m.image.start = CODE_ADDR;
    m.image.end = CODE_ADDR + 0x1000;
    m.cpu.x[2] = DATA_ADDR + 0x8000;
    let empty = PreparedCall::new(CODE_ADDR, &[]).expect("prepared");
    b.run("vmcall: empty function (prepared)", "call", 9, || {
        timed(|| {
            for _ in 0..CALLS {
                let stop = m.call_prepared(&mut NullHost, black_box(&empty), 1_000);
                assert!(matches!(stop, Ok(StopReason::Returned { .. })), "{stop:?}");
            }
            CALLS
        })
    });
    let mut add2 =
        PreparedCall::new(CODE_ADDR + 4, &[ArgKind::Int, ArgKind::Int]).expect("prepared");
    b.run("vmcall: add2, set 2 args (prepared)", "call", 9, || {
        timed(|| {
            for i in 0..CALLS {
                add2.set_int(0, i as i64).expect("arg 0");
                add2.set_int(1, 1).expect("arg 1");
                let stop = m.call_prepared(&mut NullHost, &add2, 1_000);
                assert!(matches!(stop, Ok(StopReason::Returned { a0, .. }) if a0 == i + 1));
            }
            CALLS
        })
    });
    b.run("vmcall: add2 via call(&[Arg])", "call", 9, || {
        timed(|| {
            for i in 0..CALLS {
                let args = [Arg::Int(i), Arg::Int(1)];
                let stop = m.call(&mut NullHost, CODE_ADDR + 4, black_box(&args), 1_000);
                assert!(matches!(stop, Ok(StopReason::Returned { a0, .. }) if a0 == i + 1));
            }
            CALLS
        })
    });
}

fn main() {
    // cargo passes `--bench`; any other non-flag argument is a name filter.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let b = Bench { filter };
    let start = Instant::now();
    bench_decode(&b);
    bench_loops(&b);
    bench_machine(&b);
    bench_guest_call(&b);
    bench_vmcall(&b);
    println!(
        "(all benchmarks took {:.1} s)",
        start.elapsed().as_secs_f64()
    );
}
