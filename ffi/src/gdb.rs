//! Debugging a machine's guest from gdb through the C API: `friscy_machine_serve_gdb` over a host byte stream.

use core::ffi::c_void;
use core::mem::size_of;

use friscy_core::gdb::{Buffered, GdbError, SessionEnd, StreamError, Transport};

use crate::config::{read_extensible, write_extensible, MAX_STRUCT_SIZE};
use crate::guard::guard;
use crate::host::FRISCY_IO_PENDING;
use crate::machine::{friscy_machine, run_with_c_host, with_machine};
use crate::result::{friscy_result, Error, FRISCY_ERR_DEBUGGER};

/// Input from gdb: store up to `len` (> 0) bytes in `buf`. With `wait` non-zero, block until
/// at least one byte has arrived; with `wait` 0 (asked while the guest runs, to notice gdb's
/// Ctrl-C), return `FRISCY_IO_PENDING` at once if nothing has. Returns the number of bytes
/// stored (1..len), 0 when the connection is closed, or a negative errno.
pub type friscy_gdb_read_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, len: usize, wait: i32) -> i64>;

/// Output to gdb: send `len` bytes of `data` (blocking is fine). Returns the number of bytes
/// taken (1..len; the rest is offered again) or a negative errno, which ends the session.
pub type friscy_gdb_write_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, data: *const u8, len: usize) -> i64>;

/// The byte stream to gdb (typically a TCP connection the host accepted). Initialise with
/// `friscy_gdb_stream_init(&s, sizeof s)`, then set both callbacks.
///
/// The callbacks are called on the thread running `friscy_machine_serve_gdb`, only during
/// that call, with `userdata` first. They must return normally.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct friscy_gdb_stream {
    /// Size of the caller's struct in bytes; set by `friscy_gdb_stream_init`.
    pub struct_size: u32,
    /// Reserved; must be 0.
    pub reserved: u32,
    /// Passed as the first argument to both callbacks; never dereferenced by the library.
    pub userdata: *mut c_void,
    /// Bytes from gdb. Required.
    pub read: friscy_gdb_read_fn,
    /// Bytes to gdb. Required.
    pub write: friscy_gdb_write_fn,
}

impl Default for friscy_gdb_stream {
    fn default() -> Self {
        friscy_gdb_stream {
            struct_size: size_of::<friscy_gdb_stream>() as u32,
            reserved: 0,
            userdata: core::ptr::null_mut(),
            read: None,
            write: None,
        }
    }
}

/// How a debugging session ended.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum friscy_gdb_end_kind {
    /// gdb detached; breakpoints are removed and the guest can be run on with
    /// `friscy_machine_run`.
    FRISCY_GDB_DETACHED = 0,
    /// gdb killed the guest: the host should stop running it (and free the machine).
    FRISCY_GDB_KILLED = 1,
    /// The guest exited (`exit_status`); gdb was told.
    FRISCY_GDB_EXITED = 2,
    /// The guest died of `signal`; gdb was told.
    FRISCY_GDB_SIGNALED = 3,
}

/// The end of a session. Fields that do not apply to `kind` are 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct friscy_gdb_end {
    pub kind: friscy_gdb_end_kind,
    /// The guest's exit status for `FRISCY_GDB_EXITED`.
    pub exit_status: i32,
    /// The signal for `FRISCY_GDB_SIGNALED`.
    pub signal: u32,
}

/// Initialise a gdb stream table: both callbacks NULL, `userdata` NULL.
///
/// Pass `sizeof` of the caller's struct as `stream_size` (see `friscy_config_init` for why).
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER` if `stream` is NULL;
/// `FRISCY_ERR_INVALID_ARGUMENT` if `stream_size` is smaller than this struct or larger
/// than 65536.
#[no_mangle]
pub unsafe extern "C" fn friscy_gdb_stream_init(
    stream: *mut friscy_gdb_stream,
    stream_size: usize,
) -> friscy_result {
    guard(|| {
        if stream.is_null() {
            return Err(Error::null("stream"));
        }
        let min = size_of::<friscy_gdb_stream>();
        if !(min..=MAX_STRUCT_SIZE).contains(&stream_size) {
            return Err(Error::invalid(format!(
                "stream_size {stream_size} is not between {min} and {MAX_STRUCT_SIZE}; \
                 pass sizeof(friscy_gdb_stream)"
            )));
        }
        let value = friscy_gdb_stream {
            struct_size: stream_size as u32,
            ..Default::default()
        };
        // SAFETY: the caller promises `stream_size` writable bytes at `stream`.
        unsafe { write_extensible(stream.cast::<u8>(), stream_size, &value) };
        Ok(())
    })
}

/// The C callbacks as the core's transport.
struct CStream {
    userdata: *mut c_void,
    read: unsafe extern "C" fn(*mut c_void, *mut u8, usize, i32) -> i64,
    write: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> i64,
}

impl Transport for CStream {
    fn receive(&mut self, buf: &mut [u8], wait: bool) -> Result<usize, StreamError> {
        // SAFETY: `buf` is valid for `len` writes during the call (callback contract).
        let r = unsafe { (self.read)(self.userdata, buf.as_mut_ptr(), buf.len(), i32::from(wait)) };
        match r {
            FRISCY_IO_PENDING if !wait => Ok(0),
            1.. => Ok(usize::try_from(r).unwrap_or(0).min(buf.len())),
            // Closed, an error, or "pending" when asked to wait.
            _ => Err(StreamError),
        }
    }

    fn send(&mut self, mut data: &[u8]) -> Result<(), StreamError> {
        while !data.is_empty() {
            // SAFETY: `data` is valid for `len` reads during the call.
            let r = unsafe { (self.write)(self.userdata, data.as_ptr(), data.len()) };
            let n = usize::try_from(r).map_err(|_| StreamError)?;
            if n == 0 || n > data.len() {
                return Err(StreamError);
            }
            data = &data[n..];
        }
        Ok(())
    }
}

/// Serve a gdb remote-protocol session for the machine's guest over `stream`, and return
/// when it ends: gdb detaches or kills the guest, or the guest exits or dies (gdb is told).
///
/// The guest runs (with the machine's host_io callbacks and system-call handlers) only while
/// gdb lets it: on continue or step. gdb sees registers x0..x31, pc, f0..f31 and fcsr, reads
/// and writes guest memory (addresses outside it are errors), sets software breakpoints
/// (ebreak instructions written into the guest's code, hidden from gdb's memory reads and
/// removed when the session ends, however it ends), single-steps one instruction, and
/// interrupts a running guest with Ctrl-C (the stream's read is polled with `wait` 0 every
/// 2^20 instructions). `friscy_machine_stop` from another thread also interrupts: gdb sees
/// SIGINT. A fault or illegal instruction is a signal stop (SIGSEGV, SIGBUS, SIGILL); if gdb
/// resumes with that signal the guest dies of it. A guest that forks is debugged in
/// whichever process is running when it stops.
///
/// Ownership: `stream` is copied; its `userdata` must stay valid during the call.
/// `*out_end` is written on success.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER` (`m`, `stream`, `out_end` or a callback
/// NULL); `FRISCY_ERR_INVALID_ARGUMENT` / `FRISCY_ERR_UNSUPPORTED` for a bad stream struct;
/// `FRISCY_ERR_BUSY`; `FRISCY_ERR_POISONED`; `FRISCY_ERR_DEBUGGER` if the connection closed
/// or broke before the session ended, or gdb broke the protocol (breakpoints are removed;
/// the guest is where it stopped).
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_serve_gdb(
    m: *mut friscy_machine,
    stream: *const friscy_gdb_stream,
    out_end: *mut friscy_gdb_end,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract); only the atomic stop flag is used here.
    let stop_flag = match unsafe { (m as *const friscy_machine).as_ref() } {
        Some(h) => &h.stop,
        None => return guard(|| Err(Error::null("machine"))),
    };
    // SAFETY: as above.
    unsafe {
        with_machine(m, |s| {
            if stream.is_null() {
                return Err(Error::null("stream"));
            }
            if out_end.is_null() {
                return Err(Error::null("out_end"));
            }
            // SAFETY: the first field is readable in every layout (caller's contract).
            let size = stream.cast::<u32>().read() as usize;
            // SAFETY: `struct_size` readable bytes; every bit pattern of the struct is valid.
            let table = read_extensible(
                stream.cast::<u8>(),
                size,
                size_of::<friscy_gdb_stream>(),
                friscy_gdb_stream::default(),
                "gdb_stream",
            )?;
            if table.reserved != 0 {
                return Err(Error::invalid("gdb_stream.reserved must be 0"));
            }
            let read = table.read.ok_or_else(|| Error::null("gdb_stream.read"))?;
            let write = table.write.ok_or_else(|| Error::null("gdb_stream.write"))?;
            let wire = Buffered::new(CStream {
                userdata: table.userdata,
                read,
                write,
            });
            let (io, handlers) = (&s.io, &s.handlers);
            let runner = |machine: &mut friscy_core::Machine, budget: u64| {
                run_with_c_host(machine, io, handlers, stop_flag, budget)
            };
            let end = friscy_core::gdb::serve(&mut s.machine, runner, wire).map_err(|e| {
                let detail = match e {
                    GdbError::Connection => "the gdb connection closed or broke mid-session",
                    GdbError::Protocol => "gdb sent a packet the stub could not handle",
                };
                Error::new(FRISCY_ERR_DEBUGGER, detail)
            })?;
            let record = match end {
                SessionEnd::Detached => end_record(friscy_gdb_end_kind::FRISCY_GDB_DETACHED),
                SessionEnd::Killed => end_record(friscy_gdb_end_kind::FRISCY_GDB_KILLED),
                SessionEnd::Exited { status } => friscy_gdb_end {
                    exit_status: status,
                    ..end_record(friscy_gdb_end_kind::FRISCY_GDB_EXITED)
                },
                SessionEnd::Signaled { signal } => friscy_gdb_end {
                    signal,
                    ..end_record(friscy_gdb_end_kind::FRISCY_GDB_SIGNALED)
                },
            };
            // SAFETY: non-NULL and writable (caller's contract).
            out_end.write(record);
            Ok(())
        })
    }
}

fn end_record(kind: friscy_gdb_end_kind) -> friscy_gdb_end {
    friscy_gdb_end {
        kind,
        exit_status: 0,
        signal: 0,
    }
}
