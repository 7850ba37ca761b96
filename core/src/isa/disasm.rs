//! GNU-syntax disassembly of decoded instructions (used by the objdump oracle and tracing).
