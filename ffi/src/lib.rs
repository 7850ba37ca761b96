//! C ABI over `friscy-core`; `include/friscy.h` is generated from this crate by cbindgen.
//!
//! Conventions (see `shared/design.md`): every exported name starts with `friscy_`; the
//! machine is an opaque handle; every entry point checks its pointers, catches panics and
//! returns a [`friscy_result`]; outputs are written only on success; every buffer is
//! followed by its length; each callback kind has its own typedef; a NULL callback means
//! "not available" (ENOSYS) for what it serves.
//!
//! Names follow C style (`friscy_machine`, `FRISCY_OK`) so the header needs no renaming.
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]
// Every exported function documents its pointer requirements in prose in its doc comment,
// which cbindgen copies into the C header; a Rust-style `# Safety` heading adds nothing there.
#![allow(clippy::missing_safety_doc)]

pub use friscy_core as core_crate;

#[cfg(test)]
mod api_tests;
mod config;
mod fs;
mod gdb;
mod guard;
mod host;
mod machine;
mod result;

pub use config::*;
pub use fs::*;
pub use gdb::*;
pub use host::*;
pub use machine::*;
pub use result::*;

/// Major version of the library this header belongs to.
pub const FRISCY_VERSION_MAJOR: u32 = 0;
/// Minor version of the library this header belongs to.
pub const FRISCY_VERSION_MINOR: u32 = 1;
/// Patch version of the library this header belongs to.
pub const FRISCY_VERSION_PATCH: u32 = 0;

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version as a NUL-terminated string such as "0.1.0".
///
/// Compare with `FRISCY_VERSION_MAJOR`/`MINOR`/`PATCH` to detect a header that does not
/// match the linked library. The string is static: never free it. Never fails.
#[no_mangle]
pub extern "C" fn friscy_version() -> *const core::ffi::c_char {
    VERSION.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_macros_match_cargo_toml() {
        assert_eq!(
            FRISCY_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            FRISCY_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            FRISCY_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        // SAFETY: friscy_version returns a static NUL-terminated string.
        let s = unsafe { core::ffi::CStr::from_ptr(friscy_version()) };
        assert_eq!(s.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn header_version_macros_match_cargo_toml() {
        let header = include_str!("../../include/friscy.h");
        for (name, value) in [
            ("FRISCY_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
            ("FRISCY_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
            ("FRISCY_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
        ] {
            let line = format!("#define {name} {value}\n");
            assert!(header.contains(&line), "header lacks `{}`", line.trim());
        }
    }
}
