//! Expansion of RVC (compressed) encodings into their base-ISA operations.
use super::Insn;

pub(super) fn expand(half: u16) -> Insn {
    Insn::illegal(half as u32, 2)
}
