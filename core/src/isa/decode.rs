//! Decoder for 32-bit RV64GC encodings (and dispatch to the compressed expander).
use super::{Insn, Op};

/// Length in bytes of the instruction whose first 16-bit parcel is `low`.
pub fn instruction_length(low: u16) -> u8 {
    if low & 3 == 3 {
        4
    } else {
        2
    }
}

/// Decode the instruction whose bits are in `word` (the low 16 bits for compressed ones).
pub fn decode(word: u32) -> Insn {
    if word & 3 == 3 {
        decode_word(word)
    } else {
        decode_compressed(word as u16)
    }
}

/// Decode a 32-bit encoding.
pub fn decode_word(word: u32) -> Insn {
    let _ = Op::Illegal;
    Insn::illegal(word, 4)
}

/// Decode (expand) a 16-bit compressed encoding.
pub fn decode_compressed(half: u16) -> Insn {
    super::compressed::expand(half)
}
