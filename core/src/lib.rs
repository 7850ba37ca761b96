//! friscy-core: run RISC-V 64-bit (RV64GC) Linux user programs inside any host, without an OS underneath.
//!
//! `no_std` by default in spirit: the `alloc` feature enables heap-backed caches and
//! allocation of guest memory, `std` adds conveniences for hosts that have an OS.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod cpu;
pub mod elf;
pub mod fpu;
#[cfg(feature = "gdb")]
pub mod gdb;
pub mod host;
pub mod isa;
pub mod linux;
pub mod machine;
pub mod mem;
#[cfg(feature = "alloc")]
pub mod processes;
#[cfg(feature = "alloc")]
pub mod snapshot;
#[cfg(feature = "alloc")]
pub mod vfs;
pub mod vmcall;

pub use host::{Clock, Host, IoResult, NullHost, SyscallRecord, Timespec};
pub use machine::{Config, LoadError, Machine, StopReason};
pub use vmcall::{Arg, ArgKind, CallError, PreparedCall};
