//! What a guest reaches outside the machine goes through the [`Host`] trait: console, clock, entropy.
//!
//! Every method has a default that answers "not available" (ENOSYS or nothing), so a host
//! implements only what it serves. The host is passed to each `run` call rather than stored,
//! keeping the machine plain owned data.

/// Linux errno values the core returns (negated in guest registers).
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const ESRCH: i32 = 3;
    pub const EINTR: i32 = 4;
    pub const EIO: i32 = 5;
    pub const E2BIG: i32 = 7;
    pub const ENOEXEC: i32 = 8;
    pub const ENXIO: i32 = 6;
    pub const EBADF: i32 = 9;
    pub const ECHILD: i32 = 10;
    pub const EAGAIN: i32 = 11;
    pub const ENOMEM: i32 = 12;
    pub const EACCES: i32 = 13;
    pub const EFAULT: i32 = 14;
    pub const EBUSY: i32 = 16;
    pub const EEXIST: i32 = 17;
    pub const EXDEV: i32 = 18;
    pub const ENODEV: i32 = 19;
    pub const ENOTDIR: i32 = 20;
    pub const EISDIR: i32 = 21;
    pub const EINVAL: i32 = 22;
    pub const ENFILE: i32 = 23;
    pub const EMFILE: i32 = 24;
    pub const ENOTTY: i32 = 25;
    pub const EFBIG: i32 = 27;
    pub const ENOSPC: i32 = 28;
    pub const ESPIPE: i32 = 29;
    pub const EROFS: i32 = 30;
    pub const EMLINK: i32 = 31;
    pub const EPIPE: i32 = 32;
    pub const ERANGE: i32 = 34;
    pub const ENAMETOOLONG: i32 = 36;
    pub const ENOSYS: i32 = 38;
    pub const EAFNOSUPPORT: i32 = 97;
    pub const ENOTEMPTY: i32 = 39;
    pub const ELOOP: i32 = 40;
    pub const EOPNOTSUPP: i32 = 95;
    pub const ETIMEDOUT: i32 = 110;
}

/// Outcome of a host I/O request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoResult {
    /// This many bytes were transferred (0 on read means end of file).
    Done(usize),
    /// No data yet: the machine stops with `StopReason::Pending` and retries the call on the next `run`.
    Pending,
    /// Failed with this errno.
    Error(i32),
}

/// Clocks a guest can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Wall-clock time since the Unix epoch.
    Realtime,
    /// Time since an arbitrary fixed point; never goes backwards.
    Monotonic,
}

/// A point in time as seconds and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Timespec {
    pub secs: i64,
    pub nanos: u32,
}

/// One system call, as reported to [`Host::trace_syscall`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallRecord {
    pub number: u64,
    pub args: [u64; 6],
    /// Result as the guest sees it (negative errno on failure).
    pub result: i64,
    /// Whether the call is one the core implements (false: answered with ENOSYS).
    pub known: bool,
}

/// The services a host offers a guest.
pub trait Host {
    /// Write guest bytes to console fd 1 (stdout) or 2 (stderr).
    fn write(&mut self, fd: i32, data: &[u8]) -> IoResult {
        let _ = (fd, data);
        IoResult::Error(errno::ENOSYS)
    }
    /// Read console input (fd 0) into `buf`.
    fn read(&mut self, fd: i32, buf: &mut [u8]) -> IoResult {
        let _ = (fd, buf);
        IoResult::Error(errno::ENOSYS)
    }
    /// Current time of `clock`, or `None` if the host has no clock.
    fn now(&mut self, clock: Clock) -> Option<Timespec> {
        let _ = clock;
        None
    }
    /// Block the guest for `duration` (nanosleep and friends). Hosts that cannot block
    /// (a browser's main thread) may return at once; guests then see a short sleep.
    fn sleep(&mut self, duration: Timespec) {
        let _ = duration;
    }
    /// Fill `buf` with random bytes; `false` if the host has no entropy source.
    fn entropy(&mut self, buf: &mut [u8]) -> bool {
        let _ = buf;
        false
    }
    /// Whether console fd 0, 1 or 2 is an interactive terminal.
    fn is_terminal(&mut self, fd: i32) -> bool {
        let _ = fd;
        false
    }
    /// Offered every system call before the built-in table: answer `Some(result)` to handle it
    /// (a negative result is a negated errno), `None` to let the core handle it. This is how
    /// an embedder exposes its own API to guests (e.g. on numbers from 0x10000 up).
    fn custom_syscall(
        &mut self,
        number: u64,
        args: &[u64; 6],
        mem: &mut crate::mem::Memory,
    ) -> Option<i64> {
        let _ = (number, args, mem);
        None
    }
    /// Polled after every system call and host callback: `true` makes `run` return
    /// `StopReason::HostStop` (the machine can be resumed with another `run`).
    fn stop_requested(&mut self) -> bool {
        false
    }
    /// Rows and columns of the terminal behind console fd 0, 1 or 2 (TIOCGWINSZ), if known.
    fn terminal_size(&mut self, fd: i32) -> Option<(u16, u16)> {
        let _ = fd;
        None
    }
    /// Called after every system call when tracing is on.
    fn trace_syscall(&mut self, record: &SyscallRecord) {
        let _ = record;
    }
}

/// A host that offers nothing: output is discarded with ENOSYS, input is absent.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullHost;

impl Host for NullHost {}
