//! C ABI over `friscy-core`; `include/friscy.h` is generated from this crate by cbindgen.
#![deny(unsafe_op_in_unsafe_fn)]

pub use friscy_core as core_crate;
