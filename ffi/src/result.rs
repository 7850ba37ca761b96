//! The result codes every entry point returns, their messages, and the detailed last-error text.

use core::ffi::c_char;
use std::cell::RefCell;

use crate::guard::guard_quiet;

/// What a call did. `FRISCY_OK` is zero; errors are grouped by hundreds:
/// 1xx the caller's arguments, 2xx the machine's state, 3xx the program (ELF) given,
/// 4xx memory, 5xx look-ups, 6xx the debugger connection, 7xx snapshots, 9xx the library
/// itself.
///
/// `friscy_result_message` gives a one-line message for each code; the `*_last_error`
/// calls give the detail of the most recent failure (which argument, address or field).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum friscy_result {
    /// Success.
    FRISCY_OK = 0,
    /// A required pointer argument was NULL.
    FRISCY_ERR_NULL_POINTER = 100,
    /// An argument or a field of a struct argument has a value the call does not accept.
    FRISCY_ERR_INVALID_ARGUMENT = 101,
    /// The output buffer is too small; nothing was written.
    FRISCY_ERR_BUFFER_TOO_SMALL = 102,
    /// A struct is larger than this library knows and its extra bytes are not all zero
    /// (the caller was built against a newer header and uses a newer field).
    FRISCY_ERR_UNSUPPORTED = 103,
    /// The machine is inside `friscy_machine_run` (the call came from a callback) or is
    /// being used by another thread at the same time.
    FRISCY_ERR_BUSY = 200,
    /// An earlier call on this machine hit an internal error; the machine can only be freed.
    FRISCY_ERR_POISONED = 201,
    /// The guest has exited or was killed: it cannot be called.
    FRISCY_ERR_TERMINATED = 202,
    /// A guest call is in progress: resume it (`friscy_machine_call_resume`) or abandon it
    /// (`friscy_machine_call_abandon`) first.
    FRISCY_ERR_CALL_IN_PROGRESS = 203,
    /// Resume or abandon without a guest call in progress.
    FRISCY_ERR_NO_CALL = 204,
    /// The guest cannot be called now: it is inside a system call that has not completed
    /// (pending I/O, or waiting for another process), or another process is on the hart.
    /// Run it until it pauses.
    FRISCY_ERR_NOT_CALLABLE = 205,
    /// The bytes are not an ELF file.
    FRISCY_ERR_NOT_ELF = 300,
    /// An ELF file, but not for 64-bit little-endian RISC-V.
    FRISCY_ERR_WRONG_MACHINE = 301,
    /// An ELF file that is neither an executable nor a position-independent executable.
    FRISCY_ERR_NOT_EXECUTABLE = 302,
    /// The ELF headers are truncated, inconsistent or point outside the file.
    FRISCY_ERR_MALFORMED_ELF = 303,
    /// The program is dynamically linked (PT_INTERP); that needs a root file system,
    /// which this version cannot load: link the guest with -static.
    FRISCY_ERR_NEEDS_INTERPRETER = 304,
    /// The program's segments do not fit in the guest memory size.
    FRISCY_ERR_PROGRAM_TOO_BIG = 305,
    /// argv and envp do not fit on the guest stack.
    FRISCY_ERR_STACK_TOO_SMALL = 306,
    /// The host could not allocate the guest memory or the copy of the program.
    FRISCY_ERR_OUT_OF_MEMORY = 400,
    /// The guest memory size is too small or not a multiple of 4096.
    FRISCY_ERR_BAD_MEMORY_SIZE = 401,
    /// A guest address range is outside the guest's address space.
    FRISCY_ERR_GUEST_ADDRESS = 402,
    /// The symbol is not in the program's symbol tables.
    FRISCY_ERR_NOT_FOUND = 500,
    /// The connection to the debugger broke or closed, or it spoke the protocol wrongly.
    FRISCY_ERR_DEBUGGER = 600,
    /// The bytes are not a machine snapshot this library can read: wrong magic, another
    /// format version, truncated, damaged (checksum) or inconsistent.
    FRISCY_ERR_BAD_SNAPSHOT = 700,
    /// A valid snapshot taken with another memory size or over another root file system.
    FRISCY_ERR_SNAPSHOT_MISMATCH = 701,
    /// The machine's root file system cannot be used this way: a host directory can be
    /// neither snapshotted for restore nor forked, host callbacks cannot be forked.
    FRISCY_ERR_ROOTFS_NOT_SHAREABLE = 702,
    /// A bug in the library (a caught panic). Please report it with the last-error text.
    FRISCY_ERR_INTERNAL = 900,
}

pub use friscy_result::*;

/// Every code, in declaration order.
const ALL_RESULTS: [friscy_result; 27] = [
    FRISCY_OK,
    FRISCY_ERR_NULL_POINTER,
    FRISCY_ERR_INVALID_ARGUMENT,
    FRISCY_ERR_BUFFER_TOO_SMALL,
    FRISCY_ERR_UNSUPPORTED,
    FRISCY_ERR_BUSY,
    FRISCY_ERR_POISONED,
    FRISCY_ERR_TERMINATED,
    FRISCY_ERR_CALL_IN_PROGRESS,
    FRISCY_ERR_NO_CALL,
    FRISCY_ERR_NOT_CALLABLE,
    FRISCY_ERR_NOT_ELF,
    FRISCY_ERR_WRONG_MACHINE,
    FRISCY_ERR_NOT_EXECUTABLE,
    FRISCY_ERR_MALFORMED_ELF,
    FRISCY_ERR_NEEDS_INTERPRETER,
    FRISCY_ERR_PROGRAM_TOO_BIG,
    FRISCY_ERR_STACK_TOO_SMALL,
    FRISCY_ERR_OUT_OF_MEMORY,
    FRISCY_ERR_BAD_MEMORY_SIZE,
    FRISCY_ERR_GUEST_ADDRESS,
    FRISCY_ERR_NOT_FOUND,
    FRISCY_ERR_DEBUGGER,
    FRISCY_ERR_BAD_SNAPSHOT,
    FRISCY_ERR_SNAPSHOT_MISMATCH,
    FRISCY_ERR_ROOTFS_NOT_SHAREABLE,
    FRISCY_ERR_INTERNAL,
];

impl friscy_result {
    /// The code with this numeric value, if there is one.
    pub fn from_code(code: i32) -> Option<friscy_result> {
        ALL_RESULTS.into_iter().find(|r| *r as i32 == code)
    }

    /// One-line English description.
    pub fn message(self) -> &'static str {
        match self {
            FRISCY_OK => "success",
            FRISCY_ERR_NULL_POINTER => "a required pointer argument is NULL",
            FRISCY_ERR_INVALID_ARGUMENT => "invalid argument",
            FRISCY_ERR_BUFFER_TOO_SMALL => "output buffer too small",
            FRISCY_ERR_UNSUPPORTED => "struct uses fields this library version does not support",
            FRISCY_ERR_BUSY => "machine is busy (called from inside a callback or another thread)",
            FRISCY_ERR_POISONED => "machine is unusable after an internal error; free it",
            FRISCY_ERR_TERMINATED => "the guest has terminated and cannot be called",
            FRISCY_ERR_CALL_IN_PROGRESS => "a guest call is in progress: resume or abandon it",
            FRISCY_ERR_NO_CALL => "no guest call is in progress",
            FRISCY_ERR_NOT_CALLABLE => {
                "the guest cannot be called now (inside a system call or another process runs)"
            }
            FRISCY_ERR_NOT_ELF => "not an ELF file",
            FRISCY_ERR_WRONG_MACHINE => "not a 64-bit little-endian RISC-V ELF",
            FRISCY_ERR_NOT_EXECUTABLE => "ELF is not an executable (ET_EXEC or ET_DYN)",
            FRISCY_ERR_MALFORMED_ELF => "malformed or truncated ELF file",
            FRISCY_ERR_NEEDS_INTERPRETER => {
                "dynamically linked program: needs a root file system (link it with -static)"
            }
            FRISCY_ERR_PROGRAM_TOO_BIG => "program does not fit in guest memory",
            FRISCY_ERR_STACK_TOO_SMALL => "arguments and environment do not fit on the stack",
            FRISCY_ERR_OUT_OF_MEMORY => "out of host memory for guest memory or the program",
            FRISCY_ERR_BAD_MEMORY_SIZE => "guest memory size too small or not a multiple of 4096",
            FRISCY_ERR_GUEST_ADDRESS => "guest address range outside guest memory",
            FRISCY_ERR_NOT_FOUND => "not found (symbol, or file in the root file system)",
            FRISCY_ERR_DEBUGGER => "the debugger connection failed (closed, broken or garbled)",
            FRISCY_ERR_BAD_SNAPSHOT => {
                "not a valid machine snapshot (foreign, truncated or damaged)"
            }
            FRISCY_ERR_SNAPSHOT_MISMATCH => {
                "snapshot was taken with another memory size or root file system"
            }
            FRISCY_ERR_ROOTFS_NOT_SHAREABLE => {
                "this kind of root file system cannot be restored or forked"
            }
            FRISCY_ERR_INTERNAL => "internal error in libfriscy",
        }
    }
}

/// A failure inside the library: the code returned and the detail kept as last error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Error {
    pub code: friscy_result,
    pub detail: String,
}

impl Error {
    pub fn new(code: friscy_result, detail: impl Into<String>) -> Error {
        Error {
            code,
            detail: detail.into(),
        }
    }

    pub fn null(what: &str) -> Error {
        Error::new(FRISCY_ERR_NULL_POINTER, format!("{what} is NULL"))
    }

    pub fn invalid(detail: impl Into<String>) -> Error {
        Error::new(FRISCY_ERR_INVALID_ARGUMENT, detail)
    }
}

pub(crate) type FResult<T = ()> = Result<T, Error>;

thread_local! {
    static THREAD_LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Remember `detail` as the calling thread's last error.
pub(crate) fn set_thread_error(detail: &str) {
    // `try_with`: during thread teardown the slot may be gone; losing the text is fine.
    let _ = THREAD_LAST_ERROR.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            e.clear();
            e.push_str(detail);
        }
    });
}

/// Copy `s` plus a NUL into `buf`, following the library's string-output rules:
/// `buf == NULL && len == 0` asks for the length only; otherwise the whole string and its
/// NUL must fit. `*written` receives the string length without the NUL.
///
/// # Safety
/// `buf` must be NULL or valid for `len` bytes of writes; `written` NULL or valid for a write.
pub(crate) unsafe fn write_c_string(
    s: &str,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> FResult {
    if written.is_null() {
        return Err(Error::null("written"));
    }
    if buf.is_null() {
        if len != 0 {
            return Err(Error::null("buf (with a non-zero len)"));
        }
        // SAFETY: `written` is non-NULL and the caller promises it is writable.
        unsafe { written.write(s.len()) };
        return Ok(());
    }
    if len <= s.len() {
        return Err(Error::new(
            FRISCY_ERR_BUFFER_TOO_SMALL,
            format!(
                "buffer of {len} bytes cannot hold {} bytes plus NUL",
                s.len()
            ),
        ));
    }
    // SAFETY: `buf` is valid for `len > s.len()` bytes; the source is a distinct Rust string.
    unsafe {
        core::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), s.len());
        buf.add(s.len()).write(0);
        written.write(s.len());
    }
    Ok(())
}

/// Write the message for a result code into a caller buffer.
///
/// `code` is a `friscy_result` value (passed as an integer so that any value is safe to
/// pass). The message is a NUL-terminated English line, at most 127 bytes. With
/// `buf == NULL` and `len == 0`, only `*written` is set, so a caller can size its buffer.
///
/// Ownership: the caller owns `buf` (at least `len` bytes) and `written`.
/// On success `*written` is the message length in bytes, not counting the NUL.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_INVALID_ARGUMENT` for a code that is not a
/// `friscy_result`; `FRISCY_ERR_NULL_POINTER` if `written` is NULL, or `buf` is NULL with
/// a non-zero `len`; `FRISCY_ERR_BUFFER_TOO_SMALL` if the message and its NUL do not fit.
/// Nothing is written on failure. Does not change any last-error text.
#[no_mangle]
pub unsafe extern "C" fn friscy_result_message(
    code: i32,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> friscy_result {
    guard_quiet(|| {
        let Some(r) = friscy_result::from_code(code) else {
            return Err(Error::invalid(format!(
                "{code} is not a friscy_result code"
            )));
        };
        // SAFETY: pointer validity is the caller's contract, documented above.
        unsafe { write_c_string(r.message(), buf, len, written) }
    })
}

/// Write the detail of the calling thread's most recent failed libfriscy call (for
/// example which ELF field was wrong in `friscy_machine_new_from_elf`) into `buf`.
///
/// The text is empty if no call on this thread has failed. Calls that report errors
/// (`friscy_result_message`, `friscy_last_error`, `friscy_machine_last_error`) never
/// change it. Buffer rules as for `friscy_result_message` (`buf == NULL && len == 0`
/// queries the length; `*written` excludes the NUL).
///
/// Returns `FRISCY_OK`, `FRISCY_ERR_NULL_POINTER` or `FRISCY_ERR_BUFFER_TOO_SMALL`.
#[no_mangle]
pub unsafe extern "C" fn friscy_last_error(
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> friscy_result {
    guard_quiet(|| {
        let detail = THREAD_LAST_ERROR
            .try_with(|e| e.try_borrow().map(|s| s.clone()).unwrap_or_default())
            .unwrap_or_default();
        // SAFETY: pointer validity is the caller's contract, documented above.
        unsafe { write_c_string(&detail, buf, len, written) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_have_messages() {
        for r in ALL_RESULTS {
            assert_eq!(friscy_result::from_code(r as i32), Some(r));
            assert!(!r.message().is_empty() && r.message().len() < 128);
        }
        assert_eq!(friscy_result::from_code(-1), None);
        assert_eq!(friscy_result::from_code(1), None);
        assert_eq!(FRISCY_OK as i32, 0);
    }

    #[test]
    fn message_buffer_rules() {
        let mut written = 0usize;
        let mut buf = [0x55 as c_char; 64];
        unsafe {
            assert_eq!(
                friscy_result_message(0, core::ptr::null_mut(), 0, &mut written),
                FRISCY_OK
            );
            assert_eq!(written, "success".len());
            // Exactly enough room: "success" + NUL.
            assert_eq!(
                friscy_result_message(0, buf.as_mut_ptr(), 8, &mut written),
                FRISCY_OK
            );
            assert_eq!(
                core::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap(),
                "success"
            );
            written = 99;
            assert_eq!(
                friscy_result_message(0, buf.as_mut_ptr(), 7, &mut written),
                FRISCY_ERR_BUFFER_TOO_SMALL
            );
            assert_eq!(written, 99, "no output on failure");
            assert_eq!(
                friscy_result_message(12345, buf.as_mut_ptr(), 64, &mut written),
                FRISCY_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                friscy_result_message(0, buf.as_mut_ptr(), 64, core::ptr::null_mut()),
                FRISCY_ERR_NULL_POINTER
            );
            assert_eq!(
                friscy_result_message(0, core::ptr::null_mut(), 5, &mut written),
                FRISCY_ERR_NULL_POINTER
            );
        }
    }

    #[test]
    fn thread_last_error_is_per_thread() {
        set_thread_error("detail here");
        let mut buf = [0 as c_char; 64];
        let mut written = 0;
        unsafe {
            assert_eq!(
                friscy_last_error(buf.as_mut_ptr(), buf.len(), &mut written),
                FRISCY_OK
            );
            assert_eq!(
                core::ffi::CStr::from_ptr(buf.as_ptr()).to_str().unwrap(),
                "detail here"
            );
        }
        std::thread::spawn(|| {
            let mut written = 7;
            unsafe {
                assert_eq!(
                    friscy_last_error(core::ptr::null_mut(), 0, &mut written),
                    FRISCY_OK
                );
            }
            assert_eq!(written, 0);
        })
        .join()
        .unwrap();
    }
}
