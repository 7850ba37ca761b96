//! Fuzz target: every 16/32-bit word decodes and disassembles without panicking, and decode/encode agree.
//!
//! For each 32-bit little-endian word of the input (and each 16-bit half of it):
//! - `decode`, `decode_word` and `decode_compressed` never panic and agree with each other;
//! - a legal 32-bit word re-encodes (`isa::encode`) to a word that decodes to the same insn;
//! - a legal compressed word means exactly what the 32-bit encoding of its expansion means;
//! - disassembly never panics;
//! - an arbitrary `Insn` that `encode` accepts decodes back to itself.
#![no_main]

use std::fmt::Write as _;

use friscy_core::isa::{self, Insn, Op};
use libfuzzer_sys::fuzz_target;

/// Discards formatted text; disassembly only has to finish.
struct Sink(usize);

impl std::fmt::Write for Sink {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

fn disassemble(insn: Insn, pc: u64) {
    let mut sink = Sink(0);
    write!(sink, "{}", insn.disasm(pc)).expect("disassembly does not fail");
    assert!(sink.0 > 0, "empty disassembly for {insn:?}");
}

fn check_word(word: u32, pc: u64) {
    let full = isa::decode_word(word | 3);
    assert_eq!(full.len, 4);
    assert_eq!(isa::decode(word | 3), full, "decode vs decode_word");
    disassemble(full, pc);
    if full.op == Op::Illegal {
        assert_eq!(full, Insn::illegal(word | 3, 4));
    } else {
        let encoded =
            isa::encode(&full).unwrap_or_else(|| panic!("{word:#010x}: {full:?} has no encoding"));
        let again = isa::decode_word(encoded);
        assert_eq!(again, full, "{:#010x} -> {encoded:#010x}", word | 3);
    }

    for half in [word as u16, (word >> 16) as u16] {
        let compressed = isa::decode_compressed(half);
        assert_eq!(compressed.len, 2, "{half:#06x}");
        if half & 3 != 3 {
            assert_eq!(
                isa::decode(u32::from(half)),
                compressed,
                "decode vs decode_compressed"
            );
        }
        disassemble(compressed, pc);
        if compressed.op == Op::Illegal {
            assert_eq!(compressed, Insn::illegal(u32::from(half), 2));
            continue;
        }
        let encoded = isa::encode(&compressed)
            .unwrap_or_else(|| panic!("{half:#06x}: {compressed:?} has no encoding"));
        let expansion = isa::decode_word(encoded);
        assert_eq!(
            expansion,
            Insn {
                len: 4,
                ..compressed
            },
            "{half:#06x} and its expansion {encoded:#010x} differ"
        );
    }
}

/// An arbitrary instruction record; an encodable one must survive encode -> decode.
fn check_record(bytes: &[u8; 12]) {
    let op_index = u16::from_le_bytes([bytes[0], bytes[1]]) % (Op::LAST as u16 + 1);
    // SAFETY: `Op` is `repr(u16)` with implicit, contiguous discriminants 0..=LAST.
    let op: Op = unsafe { std::mem::transmute::<u16, Op>(op_index) };
    // Registers mostly in range, sometimes not; small immediates are more interesting.
    let insn = Insn {
        op,
        rd: bytes[2] % 40,
        rs1: bytes[3] % 40,
        rs2: bytes[4] % 40,
        rs3: bytes[5] % 40,
        rm: bytes[6] % 9,
        len: 4,
        imm: match bytes[7] % 4 {
            0 => 0,
            1 => i32::from(i16::from_le_bytes([bytes[8], bytes[9]])) >> (bytes[10] % 16),
            2 => i32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) & !0xfff,
            _ => i32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]),
        },
    };
    if let Some(word) = isa::encode(&insn) {
        assert_eq!(
            word & 3,
            3,
            "encode gave a compressed-looking word {word:#x}"
        );
        assert_eq!(
            isa::decode_word(word),
            insn,
            "encode({insn:?}) = {word:#010x}"
        );
    }
    disassemble(insn, 0x1000);
}

fuzz_target!(|data: &[u8]| {
    for (i, chunk) in data.chunks_exact(4).enumerate() {
        let word = u32::from_le_bytes(chunk.try_into().unwrap());
        check_word(word, 0x1_0000 + 4 * i as u64);
        // Also the raw word when it is not a 32-bit encoding (decode dispatches on the low bits).
        let insn = isa::decode(word);
        disassemble(insn, u64::MAX - 3);
    }
    for record in data.chunks_exact(12) {
        check_record(record.try_into().unwrap());
    }
});
