//! Host services from C: the `friscy_host_io` callback table, custom system-call handlers and
//! the `friscy_guest` view they get, adapted to the core's `Host` trait.

use core::ffi::{c_char, c_void};
use core::mem::size_of;
use core::sync::atomic::{AtomicBool, Ordering};

use friscy_core::host::errno;
use friscy_core::mem::{Memory, GUARD_SIZE};
use friscy_core::{Clock, Host, IoResult, Timespec};

use crate::config::{read_extensible, write_extensible, MAX_STRUCT_SIZE};
use crate::guard::guard;
use crate::result::{
    friscy_result, Error, FResult, FRISCY_ERR_BUFFER_TOO_SMALL, FRISCY_ERR_GUEST_ADDRESS,
};

/// Returned by a console callback that has no data (read) or no room (write) yet: `run`
/// stops with `FRISCY_STOP_PENDING_IO` and the guest's system call is retried, from the
/// start, on the next `friscy_machine_run`. Chosen outside the errno range (-4095..-1).
pub const FRISCY_IO_PENDING: i64 = -65536;

/// Which clock the guest reads.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum friscy_clock {
    /// Wall-clock time since the Unix epoch (CLOCK_REALTIME).
    FRISCY_CLOCK_REALTIME = 0,
    /// Time since an arbitrary fixed point that never goes backwards (CLOCK_MONOTONIC).
    FRISCY_CLOCK_MONOTONIC = 1,
}

/// A point in time: whole seconds plus nanoseconds (0..999999999).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct friscy_timespec {
    pub seconds: i64,
    pub nanoseconds: u32,
}

/// Console output: write `len` bytes of `data` for guest fd 1 (stdout) or 2 (stderr).
/// Returns the number of bytes taken (0..len), a negative errno (e.g. -5 for EIO), or
/// `FRISCY_IO_PENDING`. `data` points into guest memory and is valid only during the call.
pub type friscy_console_write_fn = Option<
    unsafe extern "C" fn(userdata: *mut c_void, fd: i32, data: *const u8, len: usize) -> i64,
>;

/// Console input: read up to `len` bytes for guest fd 0 (stdin) into `buf`.
/// Returns the number of bytes stored (0 means end of input), a negative errno, or
/// `FRISCY_IO_PENDING` when no input is available yet. `buf` points into guest memory and
/// is valid only during the call.
pub type friscy_console_read_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, fd: i32, buf: *mut u8, len: usize) -> i64>;

/// Clock: store the current time of `clock` in `*out` and return 0, or return non-zero if
/// the clock is unavailable (the guest then sees a clock derived from the instruction
/// count).
pub type friscy_clock_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        clock: friscy_clock,
        out: *mut friscy_timespec,
    ) -> i32,
>;

/// Entropy: fill `buf` with `len` random bytes and return 0, or return non-zero if no
/// entropy is available (the guest then gets seeded pseudo-random bytes).
pub type friscy_entropy_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *mut u8, len: usize) -> i32>;

/// Terminal query: return non-zero if guest fd `fd` (0, 1 or 2) is an interactive terminal
/// (the guest's isatty/tcgetattr then succeed; line-buffered stdio follows from it).
pub type friscy_is_terminal_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, fd: i32) -> i32>;

/// Terminal size query for guest fd `fd` (0, 1 or 2): write the size and return 0, or
/// return non-zero if unknown (the guest then sees 24 rows by 80 columns).
pub type friscy_terminal_size_fn = Option<
    unsafe extern "C" fn(userdata: *mut c_void, fd: i32, rows: *mut u16, cols: *mut u16) -> i32,
>;

/// The host's services for one machine. Initialise with
/// `friscy_host_io_init(&io, sizeof io)`, then set the callbacks the host offers.
///
/// Every callback receives `userdata` first and is called on the thread running
/// `friscy_machine_run`, only during that call. A NULL callback means the service is absent:
/// console writes and reads fail with ENOSYS, is_terminal answers "no", and clock and
/// entropy fall back to values derived from the instruction count and the config seed.
/// Callbacks must return normally (no longjmp or C++ exception through libfriscy frames).
/// From a callback, `friscy_machine_stop` may be called; other calls on the same machine
/// return `FRISCY_ERR_BUSY`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct friscy_host_io {
    /// Size of the caller's struct in bytes; set by `friscy_host_io_init`.
    pub struct_size: u32,
    /// Reserved; must be 0.
    pub reserved: u32,
    /// Passed as the first argument to every callback; never dereferenced by the library.
    pub userdata: *mut c_void,
    /// Guest writes to fd 1 and 2; NULL: they fail with ENOSYS.
    pub console_write: friscy_console_write_fn,
    /// Guest reads from fd 0; NULL: they fail with ENOSYS.
    pub console_read: friscy_console_read_fn,
    /// Realtime and monotonic clocks; NULL (or deterministic mode): instruction-count clock.
    pub clock: friscy_clock_fn,
    /// getrandom; NULL (or deterministic mode): pseudo-random bytes from the config seed.
    pub entropy: friscy_entropy_fn,
    /// isatty for fd 0..2; NULL: no fd is a terminal.
    pub is_terminal: friscy_is_terminal_fn,
    /// The terminal's size (TIOCGWINSZ); NULL: 24x80. Added in 0.1: older, smaller
    /// structs get NULL here.
    pub terminal_size: friscy_terminal_size_fn,
}

/// Size of the first published layout (without `terminal_size`): still accepted.
pub(crate) const HOST_IO_MIN_SIZE: usize = core::mem::offset_of!(friscy_host_io, terminal_size);

impl Default for friscy_host_io {
    fn default() -> Self {
        friscy_host_io {
            struct_size: size_of::<friscy_host_io>() as u32,
            reserved: 0,
            userdata: core::ptr::null_mut(),
            console_write: None,
            console_read: None,
            clock: None,
            entropy: None,
            is_terminal: None,
            terminal_size: None,
        }
    }
}

/// Initialise a host I/O table: all callbacks NULL, `userdata` NULL.
///
/// Pass `sizeof` of the caller's struct as `io_size` (see `friscy_config_init` for why).
/// Ownership: the caller owns `io`; the machine copies it when created.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER` if `io` is NULL;
/// `FRISCY_ERR_INVALID_ARGUMENT` if `io_size` is smaller than the first published layout
/// or larger than 65536.
#[no_mangle]
pub unsafe extern "C" fn friscy_host_io_init(
    io: *mut friscy_host_io,
    io_size: usize,
) -> friscy_result {
    guard(|| {
        if io.is_null() {
            return Err(Error::null("io"));
        }
        if !(HOST_IO_MIN_SIZE..=MAX_STRUCT_SIZE).contains(&io_size) {
            return Err(Error::invalid(format!(
                "io_size {io_size} is not between {HOST_IO_MIN_SIZE} and {MAX_STRUCT_SIZE}; \
                 pass sizeof(friscy_host_io)"
            )));
        }
        let value = friscy_host_io {
            struct_size: io_size as u32,
            ..Default::default()
        };
        // SAFETY: the caller promises `io_size` writable bytes at `io`.
        unsafe { write_extensible(io.cast::<u8>(), io_size, &value) };
        Ok(())
    })
}

/// Validate and copy a caller's host I/O table (NULL means no services).
///
/// # Safety
/// `io` must be NULL or point to `struct_size` readable bytes initialised by
/// `friscy_host_io_init`.
pub(crate) unsafe fn read_host_io(io: *const friscy_host_io) -> FResult<friscy_host_io> {
    if io.is_null() {
        return Ok(friscy_host_io::default());
    }
    // SAFETY: the first field is readable in every layout.
    let size = unsafe { io.cast::<u32>().read() } as usize;
    // SAFETY: the caller promises `struct_size` bytes; the struct holds an integer, a raw
    // pointer and optional function pointers, valid for any bit pattern.
    let table = unsafe {
        read_extensible(
            io.cast::<u8>(),
            size,
            HOST_IO_MIN_SIZE,
            friscy_host_io::default(),
            "host_io",
        )?
    };
    if table.reserved != 0 {
        return Err(Error::invalid("host_io.reserved must be 0"));
    }
    Ok(table)
}

/// A custom system-call handler. Called when the guest makes system call `number`
/// (register a7) with `args[0..6]` (registers a0..a5). Its return value is what the guest
/// sees in a0: a result, or a negative errno (-4095..-1).
///
/// `guest` gives access to guest memory and lets the handler stop the run; it is valid
/// only until the handler returns. The machine itself is inside `friscy_machine_run`, so
/// calls on it other than `friscy_machine_stop` and `friscy_machine_instructions` return
/// `FRISCY_ERR_BUSY`: use the `friscy_guest_*` functions instead.
pub type friscy_syscall_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        guest: *mut friscy_guest,
        number: u64,
        args: *const u64,
    ) -> i64,
>;

/// A registered handler: its number, function and userdata.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SyscallHandler {
    pub number: u64,
    pub handler: unsafe extern "C" fn(*mut c_void, *mut friscy_guest, u64, *const u64) -> i64,
    pub userdata: *mut c_void,
}

/// Guest memory and the stop flag, lent to a custom system-call handler for one call.
///
/// Opaque to C. Valid only while the handler that received it runs: do not keep the
/// pointer. Writes through it are seen by the guest as soon as the handler returns,
/// including writes to code (the decoded-instruction cache is invalidated for them).
pub struct friscy_guest {
    mem: *mut Memory,
    stop: *const AtomicBool,
    /// Guest ranges written through this view (their decoded code must be dropped).
    written: Vec<(u64, u64)>,
}

/// The core's `Host` over a C callback table, for the length of one `run`.
pub(crate) struct HostAdapter<'a> {
    pub io: &'a friscy_host_io,
    pub handlers: &'a [SyscallHandler],
    /// The machine's host-stop flag (`friscy_machine_stop`).
    pub stop: &'a AtomicBool,
    /// Guest ranges custom handlers wrote; the machine stops so the caller can invalidate
    /// decoded code for them, then continues.
    pub written: Vec<(u64, u64)>,
}

fn io_result(r: i64, len: usize) -> IoResult {
    match r {
        0.. => IoResult::Done(usize::try_from(r).unwrap_or(usize::MAX).min(len)),
        FRISCY_IO_PENDING => IoResult::Pending,
        -4095..=-1 => IoResult::Error(-r as i32),
        _ => IoResult::Error(errno::EIO),
    }
}

impl Host for HostAdapter<'_> {
    fn write(&mut self, fd: i32, data: &[u8]) -> IoResult {
        match self.io.console_write {
            // SAFETY: the callback's contract: `data` is valid for `len` reads during the call.
            Some(f) => io_result(
                unsafe { f(self.io.userdata, fd, data.as_ptr(), data.len()) },
                data.len(),
            ),
            None => IoResult::Error(errno::ENOSYS),
        }
    }

    fn read(&mut self, fd: i32, buf: &mut [u8]) -> IoResult {
        match self.io.console_read {
            // SAFETY: `buf` is valid for `len` writes during the call.
            Some(f) => io_result(
                unsafe { f(self.io.userdata, fd, buf.as_mut_ptr(), buf.len()) },
                buf.len(),
            ),
            None => IoResult::Error(errno::ENOSYS),
        }
    }

    fn now(&mut self, clock: Clock) -> Option<Timespec> {
        let f = self.io.clock?;
        let which = match clock {
            Clock::Realtime => friscy_clock::FRISCY_CLOCK_REALTIME,
            Clock::Monotonic => friscy_clock::FRISCY_CLOCK_MONOTONIC,
        };
        let mut t = friscy_timespec::default();
        // SAFETY: `t` is a live, initialised local the callback may write.
        let r = unsafe { f(self.io.userdata, which, &mut t) };
        (r == 0 && t.nanoseconds < 1_000_000_000).then_some(Timespec {
            secs: t.seconds,
            nanos: t.nanoseconds,
        })
    }

    fn entropy(&mut self, buf: &mut [u8]) -> bool {
        match self.io.entropy {
            // SAFETY: `buf` is valid for `len` writes during the call.
            Some(f) => unsafe { f(self.io.userdata, buf.as_mut_ptr(), buf.len()) == 0 },
            None => false,
        }
    }

    fn is_terminal(&mut self, fd: i32) -> bool {
        match self.io.is_terminal {
            // SAFETY: a plain call with the host's own userdata.
            Some(f) => unsafe { f(self.io.userdata, fd) != 0 },
            None => false,
        }
    }

    fn terminal_size(&mut self, fd: i32) -> Option<(u16, u16)> {
        let f = self.io.terminal_size?;
        let (mut rows, mut cols) = (0u16, 0u16);
        // SAFETY: a plain call with the host's own userdata and two valid out-pointers.
        let known = unsafe { f(self.io.userdata, fd, &mut rows, &mut cols) } == 0;
        (known && rows > 0 && cols > 0).then_some((rows, cols))
    }

    fn custom_syscall(&mut self, number: u64, args: &[u64; 6], mem: &mut Memory) -> Option<i64> {
        let h = *self.handlers.iter().find(|h| h.number == number)?;
        let mut view = friscy_guest {
            mem: mem as *mut Memory,
            stop: self.stop as *const AtomicBool,
            written: Vec::new(),
        };
        // SAFETY: `view` and `args` outlive the call; `mem` is not used by Rust until the
        // handler returns, so the view's pointer is the only path to it meanwhile.
        let result = unsafe { (h.handler)(h.userdata, &mut view, number, args.as_ptr()) };
        self.written.append(&mut view.written);
        Some(result)
    }

    fn stop_requested(&mut self) -> bool {
        self.stop.load(Ordering::Acquire) || !self.written.is_empty()
    }
}

/// # Safety
/// `guest` must be NULL or the pointer a handler received, during that handler's call.
unsafe fn view<'a>(guest: *mut friscy_guest) -> FResult<&'a mut friscy_guest> {
    // SAFETY: the caller's contract; C holds no other reference into it.
    unsafe { guest.as_mut() }.ok_or_else(|| Error::null("guest"))
}

fn range_error(addr: u64, len: u64, size: u64) -> Error {
    Error::new(
        FRISCY_ERR_GUEST_ADDRESS,
        format!(
            "guest range {addr:#x}..{:#x} ({len} bytes) is outside guest memory {GUARD_SIZE:#x}..{size:#x}",
            addr as u128 + len as u128
        ),
    )
}

/// Copy `len` bytes of guest memory at `addr` into `buf`; checks the whole range first.
pub(crate) fn read_guest(mem: &Memory, addr: u64, buf: *mut u8, len: usize) -> FResult {
    if len == 0 {
        return Ok(());
    }
    if buf.is_null() {
        return Err(Error::null("buf"));
    }
    let src = mem
        .slice(addr, len as u64)
        .map_err(|_| range_error(addr, len as u64, mem.size()))?;
    // SAFETY: `buf` is valid for `len` writes (caller's contract) and is host memory the
    // caller owns, distinct from the guest buffer it has no pointer to.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), buf, len) };
    Ok(())
}

/// Copy `len` bytes from `data` into guest memory at `addr`; checks the whole range first.
pub(crate) fn write_guest(mem: &mut Memory, addr: u64, data: *const u8, len: usize) -> FResult {
    if len == 0 {
        return Ok(());
    }
    if data.is_null() {
        return Err(Error::null("data"));
    }
    let size = mem.size();
    let dst = mem
        .slice_mut(addr, len as u64)
        .map_err(|_| range_error(addr, len as u64, size))?;
    // SAFETY: `data` is valid for `len` reads (caller's contract). It may point into guest
    // memory itself (a callback's `data`), so use an overlap-safe copy.
    unsafe { core::ptr::copy(data, dst.as_mut_ptr(), len) };
    Ok(())
}

/// Read guest memory from inside a custom system-call handler: copy `len` bytes at guest
/// address `addr` into `buf`.
///
/// Ownership: `guest` is lent by the handler's caller; `buf` (at least `len` bytes) is the
/// caller's. `buf` may be NULL when `len` is 0.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_GUEST_ADDRESS` if any byte
/// of the range is outside guest memory (nothing is copied).
#[no_mangle]
pub unsafe extern "C" fn friscy_guest_read_memory(
    guest: *mut friscy_guest,
    addr: u64,
    buf: *mut u8,
    len: usize,
) -> friscy_result {
    guard(|| {
        // SAFETY: `guest` is the handler's view (documented contract).
        let g = unsafe { view(guest)? };
        // SAFETY: `g.mem` is the `&mut Memory` lent for this call, reached only through `g`.
        read_guest(unsafe { &*g.mem }, addr, buf, len)
    })
}

/// Write guest memory from inside a custom system-call handler: copy `len` bytes from
/// `data` to guest address `addr`. Writes over guest code take effect for the guest's next
/// instructions.
///
/// Ownership: `data` stays the caller's. `data` may be NULL when `len` is 0.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_GUEST_ADDRESS` if any byte
/// of the range is outside guest memory (nothing is copied).
#[no_mangle]
pub unsafe extern "C" fn friscy_guest_write_memory(
    guest: *mut friscy_guest,
    addr: u64,
    data: *const u8,
    len: usize,
) -> friscy_result {
    guard(|| {
        // SAFETY: `guest` is the handler's view (documented contract).
        let g = unsafe { view(guest)? };
        // SAFETY: as in `friscy_guest_read_memory`.
        write_guest(unsafe { &mut *g.mem }, addr, data, len)?;
        if len != 0 {
            g.written.push((addr, len as u64));
        }
        Ok(())
    })
}

/// Copy the NUL-terminated string at guest address `addr` (with its NUL) into `buf`.
///
/// `*written` receives the string's length without the NUL. With `buf == NULL` and
/// `len == 0` only the length is reported. Ownership: `buf` and `written` are the caller's.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER` (`guest` or `written` NULL, or `buf`
/// NULL with a non-zero `len`); `FRISCY_ERR_BUFFER_TOO_SMALL` if the string and its NUL
/// do not fit in `len` bytes; `FRISCY_ERR_GUEST_ADDRESS` if `addr` is outside guest memory
/// or the string runs to its end without a NUL. Nothing is written on failure.
#[no_mangle]
pub unsafe extern "C" fn friscy_guest_read_string(
    guest: *mut friscy_guest,
    addr: u64,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> friscy_result {
    guard(|| {
        // SAFETY: `guest` is the handler's view (documented contract).
        let g = unsafe { view(guest)? };
        // SAFETY: as in `friscy_guest_read_memory`.
        let mem = unsafe { &*g.mem };
        if written.is_null() {
            return Err(Error::null("written"));
        }
        if buf.is_null() && len != 0 {
            return Err(Error::null("buf (with a non-zero len)"));
        }
        let size = mem.size();
        if addr < GUARD_SIZE || addr >= size {
            return Err(range_error(addr, 1, size));
        }
        let avail = size - addr;
        let scan = if buf.is_null() {
            avail
        } else {
            avail.min(len as u64)
        };
        let bytes = mem
            .slice(addr, scan)
            .map_err(|_| range_error(addr, scan, size))?;
        let Some(n) = bytes.iter().position(|&b| b == 0) else {
            return Err(if scan == avail {
                Error::new(
                    FRISCY_ERR_GUEST_ADDRESS,
                    format!("guest string at {addr:#x} has no NUL before the end of guest memory"),
                )
            } else {
                Error::new(
                    FRISCY_ERR_BUFFER_TOO_SMALL,
                    format!(
                        "guest string at {addr:#x} is longer than {} bytes",
                        len.saturating_sub(1)
                    ),
                )
            });
        };
        // SAFETY: `buf` (if non-NULL) holds `len > n` bytes; `written` is writable.
        unsafe {
            if !buf.is_null() {
                core::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), n + 1);
            }
            written.write(n);
        }
        Ok(())
    })
}

/// Ask the running machine to stop, from inside a custom system-call handler: after this
/// system call completes (with the handler's result), `friscy_machine_run` returns
/// `FRISCY_STOP_HOST_STOP`. The same as `friscy_machine_stop` on the machine.
/// Ownership: nothing is kept.
///
/// Returns `FRISCY_OK` or `FRISCY_ERR_NULL_POINTER`.
#[no_mangle]
pub unsafe extern "C" fn friscy_guest_stop(guest: *mut friscy_guest) -> friscy_result {
    guard(|| {
        // SAFETY: `guest` is the handler's view (documented contract).
        let g = unsafe { view(guest)? };
        // SAFETY: `stop` points at the machine's flag, alive for the whole run.
        unsafe { &*g.stop }.store(true, Ordering::Release);
        Ok(())
    })
}

/// Size in bytes of the guest address space (valid addresses are 4096 up to this), or 0
/// if `guest` is NULL. Never fails otherwise; nothing is kept.
#[no_mangle]
pub unsafe extern "C" fn friscy_guest_memory_size(guest: *mut friscy_guest) -> u64 {
    let mut size = 0;
    let _ = guard(|| {
        // SAFETY: `guest` is the handler's view (documented contract).
        let g = unsafe { view(guest)? };
        // SAFETY: as in `friscy_guest_read_memory`.
        size = unsafe { &*g.mem }.size();
        Ok(())
    });
    size
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::*;

    #[test]
    fn io_results_map_to_core() {
        assert_eq!(io_result(5, 10), IoResult::Done(5));
        assert_eq!(io_result(50, 10), IoResult::Done(10));
        assert_eq!(io_result(FRISCY_IO_PENDING, 10), IoResult::Pending);
        assert_eq!(io_result(-9, 10), IoResult::Error(9));
        assert_eq!(io_result(-5000, 10), IoResult::Error(errno::EIO));
        assert_eq!(io_result(i64::MIN, 10), IoResult::Error(errno::EIO));
    }

    #[test]
    fn host_io_init_and_read() {
        let mut io = friscy_host_io::default();
        unsafe {
            assert_eq!(
                friscy_host_io_init(&mut io, size_of::<friscy_host_io>()),
                FRISCY_OK
            );
            assert_eq!(
                friscy_host_io_init(core::ptr::null_mut(), 64),
                FRISCY_ERR_NULL_POINTER
            );
            assert_eq!(friscy_host_io_init(&mut io, 4), FRISCY_ERR_INVALID_ARGUMENT);
            assert!(read_host_io(&io).is_ok());
            io.reserved = 1;
            assert_eq!(
                read_host_io(&io).unwrap_err().code,
                FRISCY_ERR_INVALID_ARGUMENT
            );
            assert!(read_host_io(core::ptr::null())
                .unwrap()
                .console_read
                .is_none());
        }
    }

    #[test]
    fn null_callbacks_mean_absent_services() {
        let io = friscy_host_io::default();
        let stop = AtomicBool::new(false);
        let mut h = HostAdapter {
            io: &io,
            handlers: &[],
            stop: &stop,
            written: Vec::new(),
        };
        assert_eq!(h.write(1, b"x"), IoResult::Error(errno::ENOSYS));
        assert_eq!(h.read(0, &mut [0; 4]), IoResult::Error(errno::ENOSYS));
        assert_eq!(h.now(Clock::Realtime), None);
        assert!(!h.entropy(&mut [0; 4]));
        assert!(!h.is_terminal(1));
        let mut mem = Memory::new(0x10000).unwrap();
        assert_eq!(h.custom_syscall(0x10001, &[0; 6], &mut mem), None);
        assert!(!h.stop_requested());
    }

    unsafe extern "C" fn poke(
        ud: *mut c_void,
        g: *mut friscy_guest,
        nr: u64,
        args: *const u64,
    ) -> i64 {
        let a = unsafe { core::slice::from_raw_parts(args, 6) };
        let mut buf = [0u8; 4];
        unsafe {
            assert_eq!(
                friscy_guest_read_memory(g, a[0], buf.as_mut_ptr(), 4),
                FRISCY_OK
            );
            assert_eq!(
                friscy_guest_write_memory(g, a[0] + 4, buf.as_ptr(), 4),
                FRISCY_OK
            );
            assert_eq!(
                friscy_guest_read_memory(g, friscy_guest_memory_size(g) - 2, buf.as_mut_ptr(), 4),
                FRISCY_ERR_GUEST_ADDRESS
            );
            let mut s = [0 as c_char; 8];
            let mut n = 0;
            assert_eq!(
                friscy_guest_read_string(g, a[0], s.as_mut_ptr(), 8, &mut n),
                FRISCY_OK
            );
            assert_eq!(n, 3);
            assert_eq!(
                friscy_guest_read_string(g, a[0], s.as_mut_ptr(), 3, &mut n),
                FRISCY_ERR_BUFFER_TOO_SMALL
            );
            assert_eq!(
                friscy_guest_read_string(g, a[0], core::ptr::null_mut(), 0, &mut n),
                FRISCY_OK
            );
            assert_eq!(
                friscy_guest_read_string(g, 0x10, s.as_mut_ptr(), 8, &mut n),
                FRISCY_ERR_GUEST_ADDRESS
            );
            assert_eq!(friscy_guest_stop(g), FRISCY_OK);
            *ud.cast::<u64>() = nr;
        }
        -22
    }

    #[test]
    fn custom_syscall_gets_a_guest_view() {
        let io = friscy_host_io::default();
        let stop = AtomicBool::new(false);
        let mut seen = 0u64;
        let handlers = [SyscallHandler {
            number: 0x10001,
            handler: poke,
            userdata: (&mut seen as *mut u64).cast(),
        }];
        let mut h = HostAdapter {
            io: &io,
            handlers: &handlers,
            stop: &stop,
            written: Vec::new(),
        };
        let mut mem = Memory::new(0x10000).unwrap();
        mem.write_bytes(0x2000, b"abc\0").unwrap();
        assert_eq!(
            h.custom_syscall(0x10001, &[0x2000, 0, 0, 0, 0, 0], &mut mem),
            Some(-22)
        );
        assert_eq!(seen, 0x10001);
        assert_eq!(mem.slice(0x2004, 4).unwrap(), b"abc\0");
        assert_eq!(h.written, vec![(0x2004, 4)]);
        assert!(stop.load(Ordering::Relaxed));
        assert!(h.stop_requested());
    }
}
