//! IEEE-754 binary32/binary64 arithmetic with RISC-V semantics: rounding modes, exact fflags, canonical NaNs.
