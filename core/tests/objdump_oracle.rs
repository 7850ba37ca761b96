//! Decoder oracle: our disassembly of every 16-bit word and a large sample of 32-bit words must match GNU objdump's.
//!
//! The words are wrapped in an ELF object (via `riscv64-linux-gnu-as` and `.incbin`) because
//! only there can the architecture string, and with it Zba/Zbb/Zbs, reach objdump 2.40; a
//! raw `-b binary` input is always disassembled as plain rv64gc.
//!
//! Comparison happens after a small, explicit normalisation of objdump's text:
//! - `# …` comments (values objdump tracks across instructions) are dropped;
//! - ELF-style targets `18 <.text+0x18>` become `0x18` (what `-b binary` prints and we print);
//! - compressed mnemonics become the 32-bit expansion we print (`COMPRESSED_EXPANSIONS`);
//! - an empty fence set, `unknown` in 2.40, becomes `0`;
//! - a privileged CSR's name becomes its number (we only name unprivileged CSRs).
//!
//! and with the documented exclusions of `accepted_difference`, each a gap or a
//! deliberately different choice in binutils 2.40, counted and reported.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use friscy_core::isa::{decode, Insn, Op};

const ASSEMBLER: &str = "riscv64-linux-gnu-as";
const OBJDUMP: &str = "riscv64-linux-gnu-objdump";
const ARCH: &str = "rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0_zicsr2p0_zifencei2p0_zba1p0_zbb1p0_zbs1p0";
const RANDOM_WORDS: usize = 200_000;

/// Deterministic pseudo-random numbers (SplitMix64), so that failures reproduce.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn word(&mut self) -> u32 {
        self.next() as u32
    }

    fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[(self.next() % choices.len() as u64) as usize]
    }
}

/// Major opcodes (bits 6:0) that RV64GC + Zb* use.
const VALID_OPCODES: [u32; 21] = [
    0x03, 0x07, 0x0f, 0x13, 0x17, 0x1b, 0x23, 0x27, 0x2f, 0x33, 0x37, 0x3b, 0x43, 0x47, 0x4b, 0x4f,
    0x53, 0x63, 0x67, 0x6f, 0x73,
];

/// funct7 values that select something in OP, OP-32 or OP-FP.
const INTERESTING_FUNCT7: [u32; 40] = [
    0x00, 0x01, 0x04, 0x05, 0x07, 0x10, 0x14, 0x20, 0x24, 0x30, 0x34, 0x08, 0x09, 0x0c, 0x0d, 0x11,
    0x15, 0x21, 0x2c, 0x2d, 0x50, 0x51, 0x60, 0x61, 0x68, 0x69, 0x70, 0x71, 0x78, 0x79, 0x02, 0x03,
    0x06, 0x0b, 0x18, 0x35, 0x0e, 0x0a, 0x12, 0x1a,
];

/// Words of 48 bits or more start with `11111` in their low bits; they are not 32-bit
/// encodings and objdump would read past them.
fn is_32_bit_encoding(word: u32) -> bool {
    word & 3 == 3 && word & 0x1f != 0x1f
}

fn sample_words() -> Vec<u32> {
    let mut rng = SplitMix(0x5eed_f1a5_c0de_0001);
    let mut words: Vec<u32> = (0..=u16::MAX as u32).filter(|w| w & 3 != 3).collect();

    // Every opcode x funct3 x funct7, with random register fields.
    for opcode in (0..128u32).filter(|o| o & 3 == 3) {
        for funct3 in 0..8 {
            for funct7 in 0..128 {
                let registers = rng.word() & 0x000f_8f80;
                words.push(funct7 << 25 | funct3 << 12 | opcode | registers);
            }
        }
    }
    // OP-IMM(-32) and SYSTEM: every 12-bit immediate field with the shift/unary funct3s.
    for funct12 in 0..4096u32 {
        let registers = rng.word() & 0x000f_8f80;
        for (opcode, funct3) in [
            (0x13, 1),
            (0x13, 5),
            (0x1b, 1),
            (0x1b, 5),
            (0x73, 2),
            (0x73, 0),
        ] {
            words.push(funct12 << 20 | funct3 << 12 | opcode | registers);
        }
        // privileged SYSTEM encodings and fences mostly have rs1 = rd = 0
        words.push(funct12 << 20 | 0x73);
        words.push(funct12 << 20 | 0x0f);
    }
    words.push(0x0000_100f); // fence.i without reserved bits
                             // OP-FP: every funct7 x funct3 x rs2.
    for funct7 in 0..128u32 {
        for funct3 in 0..8 {
            for rs2 in 0..32 {
                let registers = rng.word() & 0x000f_8f80;
                words.push(funct7 << 25 | rs2 << 20 | funct3 << 12 | 0x53 | registers);
            }
        }
    }
    // AMO: every funct5 x aq/rl x width, with rs2 zero and not.
    for funct7 in 0..128u32 {
        for funct3 in [2, 3] {
            for rs2 in [0, 1 + (rng.word() & 0x1e)] {
                let registers = rng.word() & 0x000f_8f80;
                words.push(funct7 << 25 | rs2 << 20 | funct3 << 12 | 0x2f | registers);
            }
        }
    }
    // Random words, mostly with a valid major opcode and often a meaningful funct7.
    for _ in 0..RANDOM_WORDS {
        let mut word = rng.word() | 3;
        if rng.next() % 10 != 0 {
            word = word & !0x7f | rng.pick(&VALID_OPCODES);
        }
        if rng.next() % 2 == 0 {
            word = word & 0x01ff_ffff | rng.pick(&INTERESTING_FUNCT7) << 25;
        }
        if rng.next() % 4 == 0 {
            // the dynamic rounding mode, which is what compilers emit
            word |= 7 << 12;
        }
        words.push(word);
    }
    words.retain(|&w| w & 3 != 3 || is_32_bit_encoding(w));
    words
}

fn length_of(word: u32) -> u64 {
    if word & 3 == 3 {
        4
    } else {
        2
    }
}

/// Compressed mnemonic -> how objdump's operands map to the expansion's operands.
/// `{0}`, `{1}`, `{2}` are objdump's operands.
const COMPRESSED_EXPANSIONS: &[(&str, &str)] = &[
    ("c.addi4spn", "addi {0},{1},{2}"),
    ("c.fld", "fld {0},{1}"),
    ("c.lw", "lw {0},{1}"),
    ("c.ld", "ld {0},{1}"),
    ("c.fsd", "fsd {0},{1}"),
    ("c.sw", "sw {0},{1}"),
    ("c.sd", "sd {0},{1}"),
    ("c.addi", "addi {0},{0},{1}"),
    ("c.addiw", "addiw {0},{0},{1}"),
    ("c.li", "addi {0},zero,{1}"),
    ("c.addi16sp", "addi {0},{0},{1}"),
    ("c.lui", "lui {0},{1}"),
    ("c.srli", "srli {0},{0},{1}"),
    ("c.srai", "srai {0},{0},{1}"),
    ("c.srli64", "srli {0},{0},0x0"),
    ("c.srai64", "srai {0},{0},0x0"),
    ("c.andi", "andi {0},{0},{1}"),
    ("c.sub", "sub {0},{0},{1}"),
    ("c.xor", "xor {0},{0},{1}"),
    ("c.or", "or {0},{0},{1}"),
    ("c.and", "and {0},{0},{1}"),
    ("c.subw", "subw {0},{0},{1}"),
    ("c.addw", "addw {0},{0},{1}"),
    ("c.j", "jal zero,{0}"),
    ("c.beqz", "beq {0},zero,{1}"),
    ("c.bnez", "bne {0},zero,{1}"),
    ("c.slli", "slli {0},{0},{1}"),
    ("c.slli64", "slli {0},{0},0x0"),
    ("c.fldsp", "fld {0},{1}"),
    ("c.lwsp", "lw {0},{1}"),
    ("c.ldsp", "ld {0},{1}"),
    ("c.jr", "jalr zero,0({0})"),
    ("c.mv", "add {0},zero,{1}"),
    ("c.ebreak", "ebreak"),
    ("c.jalr", "jalr ra,0({0})"),
    ("c.add", "add {0},{0},{1}"),
    ("c.fsdsp", "fsd {0},{1}"),
    ("c.swsp", "sw {0},{1}"),
    ("c.sdsp", "sd {0},{1}"),
    // The defined-illegal all-zero word.
    ("c.unimp", ".2byte 0x0"),
];

fn expand_compressed(mnemonic: &str, operands: &str) -> Option<String> {
    let (_, template) = COMPRESSED_EXPANSIONS
        .iter()
        .find(|(name, _)| *name == mnemonic)?;
    let operands: Vec<&str> = if operands.is_empty() {
        Vec::new()
    } else {
        operands.split(',').collect()
    };
    let mut text = template.to_string();
    for (index, operand) in operands.iter().enumerate() {
        text = text.replace(&format!("{{{index}}}"), operand);
    }
    Some(text)
}

/// Objdump's text for one instruction, normalised as described in the module comment.
fn normalise(raw: &str, insn: &Insn) -> String {
    let mut text = raw.trim().replace('\t', " ");
    // objdump's `# 0x…` comments show values it tracked across instructions.
    if let Some(cut) = text.find(" #") {
        text.truncate(cut);
    }
    // `18 <.text+0x18>` -> `0x18`
    if let Some(cut) = text.find(" <") {
        text.truncate(cut);
        let split = text.rfind([',', ' ']).map_or(0, |i| i + 1);
        text.insert_str(split, "0x");
    }
    let (mnemonic, operands) = text.split_once(' ').unwrap_or((text.as_str(), ""));
    let (mnemonic, operands) = (mnemonic.to_string(), operands.to_string());
    if let Some(expanded) = expand_compressed(&mnemonic, &operands) {
        text = expanded;
    }
    if mnemonic == "fence" {
        text = text.replace("unknown", "0");
    }
    let is_csr = matches!(
        insn.op,
        Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci
    );
    let csr = insn.imm as u32 & 0xfff;
    if is_csr && csr & 0x300 != 0 {
        let fields: Vec<&str> = text.splitn(2, ' ').collect();
        if let [name, operands] = fields[..] {
            let mut operands: Vec<String> = operands.split(',').map(str::to_string).collect();
            if operands.len() == 3 {
                operands[1] = format!("{csr:#x}");
            }
            text = format!("{name} {}", operands.join(","));
        }
    }
    text
}

/// Why a difference is acceptable, or `None` if it is a bug.
fn accepted_difference(word: u32, insn: &Insn, objdump: &str) -> Option<&'static str> {
    let objdump_unknown = objdump.starts_with(".4byte") || objdump.starts_with(".2byte");
    let opcode = word & 0x7f;
    let funct3 = (word >> 12) & 7;
    match insn.op {
        Op::CzeroEqz | Op::CzeroNez if objdump_unknown => {
            Some("binutils 2.40 does not know Zicond")
        }
        Op::FcvtDS | Op::FcvtDW | Op::FcvtDWu if objdump_unknown && insn.rm != 0 => Some(
            "binutils 2.40 only decodes exact conversions (fcvt.d.s/.d.w/.d.wu) with rm = 0",
        ),
        Op::Fence | Op::FenceI if objdump_unknown && has_reserved_fence_bits(word) => Some(
            "fence/fence.i with nonzero reserved fields: the spec says to ignore them, binutils rejects them",
        ),
        Op::Illegal if opcode == 0x73 && funct3 == 0 && !objdump_unknown => {
            Some("privileged SYSTEM instructions are illegal in user mode")
        }
        Op::Illegal if matches!(funct3, 5 | 6) && objdump.ends_with(",unknown") => {
            Some("reserved rounding modes 5 and 6: binutils prints `unknown`, we reject them")
        }
        Op::Illegal if word == 0x6101 && objdump == "addi sp,sp,0" => {
            Some("c.addi16sp with nzimm = 0 is reserved; binutils accepts it")
        }
        _ => None,
    }
}

/// rd, rs1 or fm (fence), or rd, rs1 or imm (fence.i) set, except in fence.tso.
fn has_reserved_fence_bits(word: u32) -> bool {
    let registers = word & 0x000f_8f80 != 0;
    match (word >> 12) & 7 {
        0 => registers || (word >> 28 != 0 && word != 0x8330_000f),
        _ => registers || word >> 20 != 0,
    }
}

fn temporary_directory() -> PathBuf {
    let directory =
        std::env::temp_dir().join(format!("friscy-objdump-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("create a temporary directory");
    directory
}

fn run(program: &str, arguments: &[&str]) -> String {
    let output = Command::new(program)
        .args(arguments)
        .output()
        .unwrap_or_else(|error| {
            panic!("the oracle needs `{program}` (binutils-riscv64-linux-gnu): {error}")
        });
    assert!(
        output.status.success(),
        "{program} {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("objdump prints UTF-8")
}

/// Disassemble `words` (laid out back to back from address 0) with objdump;
/// returns address -> instruction text.
fn objdump_disassembly(words: &[u32]) -> HashMap<u64, String> {
    let directory = temporary_directory();
    let mut bytes = Vec::with_capacity(words.len() * 4);
    for &word in words {
        bytes.extend_from_slice(&word.to_le_bytes()[..length_of(word) as usize]);
    }
    let binary = directory.join("words.bin");
    let source = directory.join("words.s");
    let object = directory.join("words.o");
    std::fs::write(&binary, &bytes).expect("write words.bin");
    // `$x` marks the bytes as code: without a mapping symbol objdump shows them as data.
    let assembly = format!(
        ".attribute arch, \"{ARCH}\"\n.text\n$x:\n.incbin \"{}\"\n",
        binary.display()
    );
    std::fs::write(&source, assembly).expect("write words.s");
    run(
        ASSEMBLER,
        &[source.to_str().unwrap(), "-o", object.to_str().unwrap()],
    );
    let listing = run(
        OBJDUMP,
        &["-d", "-z", "-M", "no-aliases", object.to_str().unwrap()],
    );
    std::fs::remove_dir_all(&directory).ok();

    let mut by_address = HashMap::with_capacity(words.len());
    for line in listing.lines() {
        // "   1c:\t0000006f          \tjal\tzero,c <.text+0xc>"
        let mut fields = line.splitn(3, '\t');
        let (Some(address), Some(_hex), Some(text)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Some(address) = address.trim().strip_suffix(':') else {
            continue;
        };
        if let Ok(address) = u64::from_str_radix(address, 16) {
            by_address.insert(address, text.to_string());
        }
    }
    by_address
}

#[test]
fn disassembly_matches_objdump() {
    let words = sample_words();
    let objdump = objdump_disassembly(&words);

    let mut address = 0u64;
    let mut mismatches = String::new();
    let mut mismatch_count = 0usize;
    let mut mismatches_per_op = HashMap::new();
    let mut agreed_ops = std::collections::HashSet::new();
    let mut used_expansions = std::collections::HashSet::new();
    let mut accepted: Vec<(&str, usize, u32)> = Vec::new();
    for &word in &words {
        let insn = decode(word);
        assert_eq!(
            u64::from(insn.len),
            length_of(word),
            "length of {word:#010x}"
        );
        let ours = insn.disasm(address).to_string();
        let theirs = match objdump.get(&address) {
            Some(text) => normalise(text, &insn),
            None => panic!("objdump printed nothing at {address:#x} for {word:#010x}"),
        };
        if ours == theirs {
            agreed_ops.insert(insn.op);
            if let Some(mnemonic) = objdump[&address].split('\t').next() {
                used_expansions.insert(mnemonic.to_string());
            }
        } else {
            match accepted_difference(word, &insn, &theirs) {
                Some(reason) => match accepted.iter_mut().find(|(r, _, _)| *r == reason) {
                    Some(entry) => entry.1 += 1,
                    None => accepted.push((reason, 1, word)),
                },
                None => {
                    mismatch_count += 1;
                    let seen = mismatches_per_op.entry(insn.op).or_insert(0usize);
                    *seen += 1;
                    if *seen <= 3 {
                        let _ = writeln!(
                            mismatches,
                            "{word:#010x} at {address:#x}: ours `{ours}`, objdump `{theirs}` ({:?})",
                            insn.op
                        );
                    }
                }
            }
        }
        address += length_of(word);
    }
    eprintln!("compared {} words with objdump", words.len());
    for (reason, count, example) in &accepted {
        eprintln!("  accepted {count:>6} x (e.g. {example:#010x}): {reason}");
    }
    // Every operation except Undecoded and Zicond's two must have been confirmed by objdump.
    let confirmable = Op::LAST as usize - 2;
    assert_eq!(
        agreed_ops.len(),
        confirmable,
        "operations confirmed: {agreed_ops:?}"
    );
    for (mnemonic, _) in COMPRESSED_EXPANSIONS {
        assert!(used_expansions.contains(*mnemonic), "{mnemonic} never seen");
    }
    assert!(
        mismatch_count == 0,
        "{mismatch_count} differences from objdump:\n{mismatches}"
    );
}
