//! Linux user-space ABI for one guest process: the system-call table, address-space layout and process state.
//!
//! Each call is answered from plain owned state plus the [`Host`] services; anything not
//! implemented answers `-ENOSYS`. Results follow the kernel's convention: a value in
//! `-4095..0` is a negated errno.

#[cfg(feature = "alloc")]
pub mod events;
pub mod fd;
#[cfg(feature = "alloc")]
mod files;
mod limits;
mod regions;
#[cfg(feature = "alloc")]
pub(crate) mod snapshot;
mod threads;
pub mod timers;

use crate::cpu::{CodeCache, Cpu};
use crate::host::{errno::*, Clock, Host, IoResult, SyscallRecord, Timespec};
use crate::mem::{Memory, PAGE_SIZE};
pub use fd::{FdTable, OpenFiles, Target};
pub use regions::{Region, Regions};
pub use threads::{FutexWait, Thread, ThreadState, WaitOutcome};

/// Signals the core names.
pub mod signal {
    pub const SIGHUP: u32 = 1;
    pub const SIGINT: u32 = 2;
    pub const SIGQUIT: u32 = 3;
    pub const SIGILL: u32 = 4;
    pub const SIGTRAP: u32 = 5;
    pub const SIGABRT: u32 = 6;
    pub const SIGBUS: u32 = 7;
    pub const SIGFPE: u32 = 8;
    pub const SIGKILL: u32 = 9;
    pub const SIGSEGV: u32 = 11;
    pub const SIGPIPE: u32 = 13;
    pub const SIGTERM: u32 = 15;
    pub const SIGCHLD: u32 = 17;
    pub const SIGCONT: u32 = 18;
    pub const SIGSTOP: u32 = 19;
    pub const SIGTSTP: u32 = 20;
    pub const SIGURG: u32 = 23;
    pub const SIGWINCH: u32 = 28;
}

/// Number of signals (1..=64); index 0 unused.
pub(crate) const NSIG: usize = 65;
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;

/// Syscall numbers of the riscv64 (asm-generic) table.
mod nr {
    pub const GETCWD: u64 = 17;
    pub const DUP: u64 = 23;
    pub const DUP3: u64 = 24;
    pub const FCNTL: u64 = 25;
    pub const IOCTL: u64 = 29;
    pub const FACCESSAT: u64 = 48;
    pub const CHDIR: u64 = 49;
    pub const OPENAT: u64 = 56;
    pub const CLOSE: u64 = 57;
    pub const LSEEK: u64 = 62;
    pub const READ: u64 = 63;
    pub const WRITE: u64 = 64;
    pub const READV: u64 = 65;
    pub const WRITEV: u64 = 66;
    pub const PREAD64: u64 = 67;
    pub const PWRITE64: u64 = 68;
    pub const STATFS: u64 = 43;
    pub const FSTATFS: u64 = 44;
    pub const TRUNCATE: u64 = 45;
    pub const FTRUNCATE: u64 = 46;
    pub const FCHDIR: u64 = 50;
    pub const FCHMOD: u64 = 52;
    pub const FCHMODAT: u64 = 53;
    pub const FCHOWNAT: u64 = 54;
    pub const FCHOWN: u64 = 55;
    pub const MKNODAT: u64 = 33;
    pub const MKDIRAT: u64 = 34;
    pub const UNLINKAT: u64 = 35;
    pub const SYMLINKAT: u64 = 36;
    pub const LINKAT: u64 = 37;
    pub const RENAMEAT: u64 = 38;
    pub const GETDENTS64: u64 = 61;
    pub const FSYNC: u64 = 82;
    pub const FDATASYNC: u64 = 83;
    pub const UTIMENSAT: u64 = 88;
    pub const RENAMEAT2: u64 = 276;
    pub const MEMFD_CREATE: u64 = 279;
    pub const STATX: u64 = 291;
    pub const FACCESSAT2: u64 = 439;
    pub const PIPE2: u64 = 59;
    pub const SETXATTR: u64 = 5;
    pub const FREMOVEXATTR: u64 = 16;
    pub const SOCKET: u64 = 198;
    pub const SOCKETPAIR: u64 = 199;
    pub const FADVISE64: u64 = 223;
    pub const RISCV_HWPROBE: u64 = 258;
    pub const RT_SIGSUSPEND: u64 = 133;
    pub const RT_SIGRETURN: u64 = 139;
    pub const RT_SIGPENDING: u64 = 136;
    pub const CLONE: u64 = 220;
    pub const CLONE3: u64 = 435;
    pub const EXECVE: u64 = 221;
    pub const WAIT4: u64 = 260;
    pub const WAITID: u64 = 95;
    pub const PPOLL: u64 = 73;
    pub const PSELECT6: u64 = 72;
    pub const READLINKAT: u64 = 78;
    pub const NEWFSTATAT: u64 = 79;
    pub const FSTAT: u64 = 80;
    pub const EXIT: u64 = 93;
    pub const EXIT_GROUP: u64 = 94;
    pub const SET_TID_ADDRESS: u64 = 96;
    pub const FUTEX: u64 = 98;
    pub const SET_ROBUST_LIST: u64 = 99;
    pub const GET_ROBUST_LIST: u64 = 100;
    pub const NANOSLEEP: u64 = 101;
    pub const CLOCK_GETTIME: u64 = 113;
    pub const CLOCK_GETRES: u64 = 114;
    pub const CLOCK_NANOSLEEP: u64 = 115;
    pub const SCHED_GETAFFINITY: u64 = 123;
    pub const SCHED_YIELD: u64 = 124;
    pub const KILL: u64 = 129;
    pub const TKILL: u64 = 130;
    pub const TGKILL: u64 = 131;
    pub const SIGALTSTACK: u64 = 132;
    pub const RT_SIGACTION: u64 = 134;
    pub const RT_SIGPROCMASK: u64 = 135;
    pub const TIMES: u64 = 153;
    pub const SETPGID: u64 = 154;
    pub const GETPGID: u64 = 155;
    pub const GETSID: u64 = 156;
    pub const SETSID: u64 = 157;
    pub const UNAME: u64 = 160;
    pub const GETRLIMIT: u64 = 163;
    pub const GETRUSAGE: u64 = 165;
    pub const UMASK: u64 = 166;
    pub const PRCTL: u64 = 167;
    pub const GETTIMEOFDAY: u64 = 169;
    pub const GETPID: u64 = 172;
    pub const GETPPID: u64 = 173;
    pub const GETUID: u64 = 174;
    pub const GETEUID: u64 = 175;
    pub const GETGID: u64 = 176;
    pub const GETEGID: u64 = 177;
    pub const GETTID: u64 = 178;
    pub const SYSINFO: u64 = 179;
    pub const BRK: u64 = 214;
    pub const MUNMAP: u64 = 215;
    pub const MREMAP: u64 = 216;
    pub const MMAP: u64 = 222;
    pub const MPROTECT: u64 = 226;
    pub const MSYNC: u64 = 227;
    pub const MADVISE: u64 = 233;
    pub const RISCV_FLUSH_ICACHE: u64 = 259;
    pub const PRLIMIT64: u64 = 261;
    pub const GETRANDOM: u64 = 278;
    pub const RSEQ: u64 = 293;
    pub const EVENTFD2: u64 = 19;
    pub const EPOLL_CREATE1: u64 = 20;
    pub const EPOLL_CTL: u64 = 21;
    pub const EPOLL_PWAIT: u64 = 22;
    pub const TIMERFD_CREATE: u64 = 85;
    pub const TIMERFD_SETTIME: u64 = 86;
    pub const TIMERFD_GETTIME: u64 = 87;
    pub const GETITIMER: u64 = 102;
    pub const SETITIMER: u64 = 103;
    pub const EPOLL_PWAIT2: u64 = 441;
}

/// The name of a system call number (for tracing), if the core knows it.
pub fn syscall_name(number: u64) -> Option<&'static str> {
    Some(match number {
        nr::GETCWD => "getcwd",
        nr::DUP => "dup",
        nr::DUP3 => "dup3",
        nr::FCNTL => "fcntl",
        nr::IOCTL => "ioctl",
        nr::FACCESSAT => "faccessat",
        nr::CHDIR => "chdir",
        nr::OPENAT => "openat",
        nr::CLOSE => "close",
        nr::LSEEK => "lseek",
        nr::READ => "read",
        nr::WRITE => "write",
        nr::READV => "readv",
        nr::WRITEV => "writev",
        nr::PREAD64 => "pread64",
        nr::PWRITE64 => "pwrite64",
        nr::STATFS => "statfs",
        nr::FSTATFS => "fstatfs",
        nr::TRUNCATE => "truncate",
        nr::FTRUNCATE => "ftruncate",
        nr::FCHDIR => "fchdir",
        nr::FCHMOD => "fchmod",
        nr::FCHMODAT => "fchmodat",
        nr::FCHOWNAT => "fchownat",
        nr::FCHOWN => "fchown",
        nr::MKNODAT => "mknodat",
        nr::MKDIRAT => "mkdirat",
        nr::UNLINKAT => "unlinkat",
        nr::SYMLINKAT => "symlinkat",
        nr::LINKAT => "linkat",
        nr::RENAMEAT => "renameat",
        nr::GETDENTS64 => "getdents64",
        nr::FSYNC => "fsync",
        nr::FDATASYNC => "fdatasync",
        nr::UTIMENSAT => "utimensat",
        nr::RENAMEAT2 => "renameat2",
        nr::MEMFD_CREATE => "memfd_create",
        nr::STATX => "statx",
        nr::FACCESSAT2 => "faccessat2",
        nr::PIPE2 => "pipe2",
        nr::CLONE => "clone",
        nr::CLONE3 => "clone3",
        nr::EXECVE => "execve",
        nr::WAIT4 => "wait4",
        nr::WAITID => "waitid",
        nr::PPOLL => "ppoll",
        nr::PSELECT6 => "pselect6",
        nr::READLINKAT => "readlinkat",
        nr::NEWFSTATAT => "newfstatat",
        nr::FSTAT => "fstat",
        nr::EXIT => "exit",
        nr::EXIT_GROUP => "exit_group",
        nr::SET_TID_ADDRESS => "set_tid_address",
        nr::FUTEX => "futex",
        nr::SET_ROBUST_LIST => "set_robust_list",
        nr::GET_ROBUST_LIST => "get_robust_list",
        nr::NANOSLEEP => "nanosleep",
        nr::CLOCK_GETTIME => "clock_gettime",
        nr::CLOCK_GETRES => "clock_getres",
        nr::CLOCK_NANOSLEEP => "clock_nanosleep",
        nr::SCHED_GETAFFINITY => "sched_getaffinity",
        nr::SCHED_YIELD => "sched_yield",
        nr::KILL => "kill",
        nr::TKILL => "tkill",
        nr::TGKILL => "tgkill",
        nr::SIGALTSTACK => "sigaltstack",
        nr::RT_SIGACTION => "rt_sigaction",
        nr::RT_SIGPROCMASK => "rt_sigprocmask",
        nr::TIMES => "times",
        nr::SETPGID => "setpgid",
        nr::GETPGID => "getpgid",
        nr::GETSID => "getsid",
        nr::SETSID => "setsid",
        nr::UNAME => "uname",
        nr::GETRLIMIT => "getrlimit",
        nr::GETRUSAGE => "getrusage",
        nr::UMASK => "umask",
        nr::PRCTL => "prctl",
        nr::GETTIMEOFDAY => "gettimeofday",
        nr::GETPID => "getpid",
        nr::GETPPID => "getppid",
        nr::GETUID => "getuid",
        nr::GETEUID => "geteuid",
        nr::GETGID => "getgid",
        nr::GETEGID => "getegid",
        nr::GETTID => "gettid",
        nr::SYSINFO => "sysinfo",
        nr::BRK => "brk",
        nr::MUNMAP => "munmap",
        nr::MREMAP => "mremap",
        nr::MMAP => "mmap",
        nr::MPROTECT => "mprotect",
        nr::MSYNC => "msync",
        nr::MADVISE => "madvise",
        nr::RISCV_FLUSH_ICACHE => "riscv_flush_icache",
        nr::RISCV_HWPROBE => "riscv_hwprobe",
        nr::PRLIMIT64 => "prlimit64",
        nr::GETRANDOM => "getrandom",
        nr::RSEQ => "rseq",
        nr::EVENTFD2 => "eventfd2",
        nr::EPOLL_CREATE1 => "epoll_create1",
        nr::EPOLL_CTL => "epoll_ctl",
        nr::EPOLL_PWAIT => "epoll_pwait",
        nr::EPOLL_PWAIT2 => "epoll_pwait2",
        nr::TIMERFD_CREATE => "timerfd_create",
        nr::TIMERFD_SETTIME => "timerfd_settime",
        nr::TIMERFD_GETTIME => "timerfd_gettime",
        nr::GETITIMER => "getitimer",
        nr::SETITIMER => "setitimer",
        _ => return None,
    })
}

/// The file system a system call may use (none without an allocator).
#[cfg(feature = "alloc")]
pub type VfsRef<'a> = Option<&'a mut crate::vfs::Vfs>;
#[cfg(not(feature = "alloc"))]
pub type VfsRef<'a> = Option<&'a mut core::convert::Infallible>;

/// How a guest process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    /// `exit`/`exit_group` with this status (0..=255).
    Exited(i32),
    /// Killed by this signal.
    Signaled(u32),
}

/// What the machine must do after a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallOutcome {
    /// Result is in a0; continue after the ecall.
    Done,
    /// The host has no data yet: leave pc at the ecall and stop.
    Pending { fd: i32 },
    /// Another guest process must act first (a pipe, a child): leave pc at the ecall.
    Blocked,
    /// The process is gone.
    Terminated(Termination),
    /// A call about other processes, which the machine carries out.
    Machine(MachineCall),
}

/// System calls that create, replace, wait for or signal processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachineCall {
    /// clone(flags, stack, parent_tid, tls, child_tid) (fork and vfork included).
    Clone {
        flags: u64,
        stack: u64,
        parent_tid: u64,
        tls: u64,
        child_tid: u64,
    },
    /// execve(path, argv, envp), all guest addresses.
    Exec { path: u64, argv: u64, envp: u64 },
    /// wait4(pid, status, options, rusage), or waitid when `siginfo` is set: then the
    /// child's state goes to that `siginfo_t` instead of a status word.
    Wait {
        children: WaitFor,
        status: u64,
        options: u64,
        rusage: u64,
        siginfo: Option<u64>,
    },
    /// kill/tgkill aimed at another process (or a group).
    Kill { pid: i64, signal: u32 },
    /// rt_sigsuspend(mask): wait for a signal with `mask` blocked meanwhile.
    SigSuspend { mask: u64 },
    /// rt_sigreturn: resume where the signal handler interrupted.
    SigReturn,
    /// exit: the calling thread ends (the process, if it is the last one).
    ExitThread { status: i32 },
    /// sched_yield: give the hart to another thread or process.
    Yield,
}

/// Which children a wait4/waitid waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    Any,
    Process(i32),
    /// Those in this process group (0: the caller's).
    Group(i32),
}

impl WaitFor {
    /// wait4's `pid` argument: -1 any child, 0 the caller's group, -g group g, p child p.
    fn from_wait4(pid: i32) -> WaitFor {
        match pid {
            -1 => WaitFor::Any,
            p if p > 0 => WaitFor::Process(p),
            // i32::MIN names no group (Linux finds none and answers ECHILD).
            p => WaitFor::Group(p.checked_neg().unwrap_or(-1)),
        }
    }
}

/// Layout and identity settings for a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessConfig {
    pub stack_size: u64,
    /// Clock and entropy come only from the instruction counter and a seed.
    pub deterministic: bool,
    pub seed: u64,
    /// Most bytes of heap (brk) plus mmap'd memory a process may hold; beyond it brk
    /// fails and mmap/mremap fail with ENOMEM (RLIMIT_DATA shows it). 0: only the
    /// address space bounds it.
    pub memory_limit: u64,
    /// Most open fds per process (RLIMIT_NOFILE), 1..=[`fd::MAX_FDS`].
    pub max_open_files: usize,
    /// Most guest processes alive (or unreaped) at once (RLIMIT_NPROC); fork fails with
    /// EAGAIN beyond it.
    pub max_processes: usize,
}

impl Default for ProcessConfig {
    fn default() -> Self {
        ProcessConfig {
            stack_size: 8 << 20,
            deterministic: false,
            seed: 0x5eed_f215_c700_0001,
            memory_limit: 0,
            max_open_files: fd::MAX_FDS,
            max_processes: 64,
        }
    }
}

/// Kernel-side state of the one guest process.
#[derive(Clone, Debug)]
pub struct Process {
    pub config: ProcessConfig,
    /// Start of the heap and the current program break.
    pub brk_start: u64,
    pub brk: u64,
    /// Anonymous mappings made by mmap (the heap and stack are tracked separately).
    pub maps: Regions,
    /// Lowest address mmap may hand out.
    pub mmap_min: u64,
    /// One past the highest address mmap may hand out (just below the stack).
    pub mmap_max: u64,
    pub stack_top: u64,
    pub fds: FdTable,
    pub sigactions: [SigAction; NSIG],
    /// Kernel state of the thread on the hart (its registers are the machine's `cpu`).
    pub thread: ThreadState,
    /// The process's other threads, waiting for the hart (empty for a single-threaded process).
    #[cfg(feature = "alloc")]
    pub threads: alloc::vec::Vec<Thread>,
    /// Futex waits started so far: orders waiters so wake-ups go first come, first served.
    pub futex_waits: u64,
    /// Nanoseconds slept on the virtual clock (deterministic mode, or a host without clock).
    pub slept_ns: u64,
    /// Interval timers and the deadline of the blocking call in progress.
    pub timers: timers::ProcessTimers,
    pub umask: u32,
    /// Current working directory, NUL-free, absolute.
    pub cwd: [u8; 256],
    pub cwd_len: usize,
    /// Whether every call is reported to the host.
    pub trace: bool,
    /// Process id (1 for the first process of a machine), parent, group and session.
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub sid: i32,
    /// Working directory inode in the VFS (0: the root).
    pub cwd_ino: u64,
    /// Guest path of the running program (/proc/self/exe).
    #[cfg(feature = "alloc")]
    pub exe: alloc::vec::Vec<u8>,
    /// argv, each argument followed by a NUL (/proc/self/cmdline).
    #[cfg(feature = "alloc")]
    pub cmdline: alloc::vec::Vec<u8>,
    rng_state: u64,
}

/// A guest signal disposition (riscv64 `struct sigaction` without restorer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub mask: u64,
}

impl Process {
    /// A process with the given fd table (see [`OpenFiles::console_table`]).
    pub fn new(config: ProcessConfig, mut fds: FdTable) -> Process {
        fds.set_limit(config.max_open_files);
        let mut cwd = [0u8; 256];
        cwd[0] = b'/';
        let rng_state = config.seed;
        Process {
            config,
            brk_start: 0,
            brk: 0,
            maps: Regions::new(),
            mmap_min: 0,
            mmap_max: 0,
            stack_top: 0,
            fds,
            sigactions: [SigAction::default(); NSIG],
            thread: ThreadState::main(1),
            #[cfg(feature = "alloc")]
            threads: alloc::vec::Vec::new(),
            futex_waits: 0,
            slept_ns: 0,
            timers: Default::default(),
            umask: 0o022,
            cwd,
            cwd_len: 1,
            trace: false,
            pid: 1,
            ppid: 0,
            pgid: 1,
            sid: 1,
            cwd_ino: 0,
            #[cfg(feature = "alloc")]
            exe: alloc::vec::Vec::new(),
            #[cfg(feature = "alloc")]
            cmdline: alloc::vec::Vec::new(),
            rng_state,
        }
    }

    /// Set the working directory reported by getcwd (must be absolute; truncated to 255 bytes).
    pub fn set_cwd(&mut self, dir: &[u8]) {
        let n = dir.len().min(self.cwd.len() - 1);
        self.cwd[..n].copy_from_slice(&dir[..n]);
        self.cwd_len = n;
    }

    /// Deterministic pseudo-random bytes (splitmix64), for hosts without entropy or in deterministic mode.
    pub fn pseudo_random(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            self.rng_state = self.rng_state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.rng_state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }

    fn random_bytes<H: Host + ?Sized>(&mut self, host: &mut H, out: &mut [u8]) {
        if self.config.deterministic || !host.entropy(out) {
            self.pseudo_random(out);
        }
    }

    /// Handle the ecall the hart stopped at: number in a7, arguments in a0..a5, result to a0.
    pub fn syscall<H: Host + ?Sized>(
        &mut self,
        cpu: &mut Cpu,
        mem: &mut Memory,
        cache: &mut CodeCache,
        files: &mut OpenFiles,
        vfs: VfsRef<'_>,
        host: &mut H,
    ) -> SyscallOutcome {
        let number = cpu.x[17];
        let args = [
            cpu.x[10], cpu.x[11], cpu.x[12], cpu.x[13], cpu.x[14], cpu.x[15],
        ];
        if !self.thread.in_blocking_call {
            self.timers.new_call();
            // A wait that ended on a retry without restoring its caller's signal mask (it
            // faulted) left it saved here; no wait is in progress now, so restore it.
            if let Some(mask) = self.thread.suspend_mask.take() {
                self.thread.sigmask = mask;
            }
        }
        if let Some(result) = host.custom_syscall(number, &args, mem) {
            if self.trace {
                host.trace_syscall(&SyscallRecord {
                    number,
                    args,
                    result,
                    known: true,
                });
            }
            cpu.x[10] = result as u64;
            return SyscallOutcome::Done;
        }
        let mut sys = Sys {
            p: self,
            cpu,
            mem,
            cache,
            files,
            vfs,
            host,
            known: true,
        };
        let result = sys.dispatch(number, args);
        #[cfg(feature = "alloc")]
        sys.release_closed();
        let known = sys.known;
        let result = match result {
            Ok(v) => v as i64,
            Err(Stop::Errno(e)) => -(e as i64),
            Err(Stop::Pending(fd)) => return SyscallOutcome::Pending { fd },
            Err(Stop::Block) => return SyscallOutcome::Blocked,
            Err(Stop::Machine(call)) => return SyscallOutcome::Machine(call),
            Err(Stop::Terminate(t)) => return SyscallOutcome::Terminated(t),
        };
        if self.trace {
            host.trace_syscall(&SyscallRecord {
                number,
                args,
                result,
                known,
            });
        }
        cpu.x[10] = result as u64;
        SyscallOutcome::Done
    }

    /// What a signal sent to this process does right now (without handler delivery,
    /// a caught signal is ignored).
    fn deliver(&mut self, sig: u32) -> Result<u64, Stop> {
        let action = self
            .sigactions
            .get(sig as usize)
            .copied()
            .unwrap_or_default();
        if action.handler == SIG_IGN {
            return Ok(0);
        }
        if action.handler == SIG_DFL {
            return if default_terminates(sig) {
                Err(Stop::Terminate(Termination::Signaled(sig)))
            } else {
                Ok(0)
            };
        }
        // A handler: the machine runs it when this system call returns.
        self.thread.pending |= 1 << (sig - 1);
        Ok(0)
    }
}

/// Whether a signal's default action ends the process (stop signals count as ignored here).
fn default_terminates(sig: u32) -> bool {
    use signal::*;
    !matches!(
        sig,
        SIGCHLD | SIGCONT | SIGURG | SIGWINCH | SIGSTOP | SIGTSTP | 21 | 22
    )
}

enum Stop {
    Errno(i32),
    Pending(i32),
    Block,
    Machine(MachineCall),
    Terminate(Termination),
}

impl From<crate::mem::MemFault> for Stop {
    fn from(_: crate::mem::MemFault) -> Stop {
        Stop::Errno(EFAULT)
    }
}

type SysResult = Result<u64, Stop>;

pub(crate) fn timespec_ns(t: Timespec) -> u64 {
    (t.secs.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(t.nanos))
}

/// What `clock` reads for process `p` whose threads have retired `instret` instructions:
/// the host's clock, or in deterministic mode (or without one) the virtual clock made of
/// the instruction count and every sleep so far.
pub(crate) fn clock_now<H: Host + ?Sized>(
    p: &Process,
    instret: u64,
    host: &mut H,
    clock: Clock,
) -> Timespec {
    if !p.config.deterministic {
        if let Some(t) = host.now(clock) {
            return t;
        }
    }
    let ns = timers::virtual_ns(p, instret);
    let base = if clock == Clock::Realtime {
        1_700_000_000
    } else {
        0
    };
    Timespec {
        secs: base + (ns / 1_000_000_000) as i64,
        nanos: (ns % 1_000_000_000) as u32,
    }
}

fn err(e: i32) -> SysResult {
    Err(Stop::Errno(e))
}

/// poll(2) event bits.
mod poll {
    pub const POLLIN: u16 = 1;
    pub const POLLPRI: u16 = 2;
    pub const POLLOUT: u16 = 4;
    pub const POLLERR: u16 = 8;
    pub const POLLHUP: u16 = 16;
    pub const POLLNVAL: u16 = 32;
}

/// Option bits of wait4 and waitid.
pub(crate) mod wait_options {
    pub const WNOHANG: u64 = 1;
    pub const WUNTRACED: u64 = 2;
    pub const WEXITED: u64 = 4;
    pub const WCONTINUED: u64 = 8;
    pub const WNOWAIT: u64 = 0x0100_0000;
    const WNOTHREAD: u64 = 0x2000_0000;
    const WALL: u64 = 0x4000_0000;
    const WCLONE: u64 = 0x8000_0000;
    /// What Linux's wait4 accepts; anything else is EINVAL.
    pub const WAIT4_ALLOWED: u64 = WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE;
    /// What Linux's waitid accepts; anything else is EINVAL.
    pub const WAITID_ALLOWED: u64 =
        WNOHANG | WNOWAIT | WEXITED | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE;
}

/// waitid(idtype, id, infop, options, rusage): checked here, then carried out by the
/// machine's wait4 code with the selector translated.
fn waitid(idtype: u64, id: i32, infop: u64, options: u64, rusage: u64) -> SysResult {
    const P_ALL: u64 = 0;
    const P_PID: u64 = 1;
    const P_PGID: u64 = 2;
    if options & !wait_options::WAITID_ALLOWED != 0 {
        return err(EINVAL);
    }
    // No process here ever stops or continues, so waiting only for those (WSTOPPED or
    // WCONTINUED without WEXITED) is refused rather than left to wait for ever.
    if options & wait_options::WEXITED == 0 {
        return err(EINVAL);
    }
    let children = match idtype {
        P_ALL => WaitFor::Any,
        P_PID if id > 0 => WaitFor::Process(id),
        P_PGID if id >= 0 => WaitFor::Group(id),
        // P_PIDFD: there are no pidfds.
        _ => return err(EINVAL),
    };
    Err(Stop::Machine(MachineCall::Wait {
        children,
        status: 0,
        options,
        rusage,
        siginfo: Some(infop),
    }))
}

/// An errno from the host, made safe for the guest: anything outside 1..=4095 becomes EIO.
fn host_err(e: i32) -> SysResult {
    err(if (1..=4095).contains(&e) { e } else { EIO })
}

/// One system call in progress: everything it may touch, borrowed.
struct Sys<'a, H: Host + ?Sized> {
    p: &'a mut Process,
    cpu: &'a mut Cpu,
    mem: &'a mut Memory,
    cache: &'a mut CodeCache,
    files: &'a mut OpenFiles,
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    vfs: VfsRef<'a>,
    host: &'a mut H,
    known: bool,
}

const PROT_WRITE: u64 = 2;
const MAP_SHARED: u64 = 1;
const MAP_PRIVATE: u64 = 2;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_FIXED_NOREPLACE: u64 = 0x100000;
const AT_FDCWD: i32 = -100;
const MAX_IOV: u64 = 1024;

fn page_up(v: u64) -> Option<u64> {
    v.checked_add(PAGE_SIZE - 1).map(|v| v & !(PAGE_SIZE - 1))
}

impl<H: Host + ?Sized> Sys<'_, H> {
    fn dispatch(&mut self, number: u64, a: [u64; 6]) -> SysResult {
        #[cfg(feature = "alloc")]
        if self.vfs.is_some() {
            if let Some(result) = self.file_syscall(number, a) {
                return result;
            }
        }
        match number {
            nr::READ => self.read(a[0] as i32, a[1], a[2]),
            nr::WRITE => self.write(a[0] as i32, a[1], a[2]),
            nr::READV => self.readv(a[0] as i32, a[1], a[2]),
            nr::WRITEV => self.writev(a[0] as i32, a[1], a[2]),
            nr::PREAD64 | nr::PWRITE64 | nr::LSEEK => {
                let file = self
                    .files
                    .file(&self.p.fds, a[0] as i32)
                    .map_err(Stop::Errno)?;
                #[cfg(feature = "alloc")]
                if let Target::File(ino) = file.target {
                    let fd = a[0] as i32;
                    return match number {
                        nr::PREAD64 => self.file_read(fd, ino, a[1], a[2], Some(a[3])),
                        nr::PWRITE64 => self.file_write(fd, ino, a[1], a[2], Some(a[3])),
                        _ => self.file_lseek(fd, ino, a[1] as i64, a[2]),
                    };
                }
                let _ = file;
                err(ESPIPE)
            }
            nr::CLOSE => {
                self.files
                    .close(&mut self.p.fds, a[0] as i32)
                    .map_err(Stop::Errno)?;
                Ok(0)
            }
            nr::PIPE2 => self.pipe2(a[0], a[1]),
            nr::DUP | nr::DUP3 | nr::FCNTL => self.fd_control(number, a),
            nr::IOCTL => self.ioctl(a[0] as i32, a[1], a[2]),
            nr::FSTAT => self.fstat(a[0] as i32, a[1]),
            nr::NEWFSTATAT => {
                const AT_EMPTY_PATH: u64 = 0x1000;
                let empty = self.mem.read_u8(a[1])? == 0;
                if a[3] & AT_EMPTY_PATH != 0 && empty {
                    self.fstat(a[0] as i32, a[2])
                } else {
                    self.path_arg(a[1])?;
                    err(ENOENT)
                }
            }
            nr::OPENAT | nr::FACCESSAT | nr::READLINKAT | nr::CHDIR => {
                // No file system yet: every path is absent (after checking the pointer).
                let path = if number == nr::CHDIR { a[0] } else { a[1] };
                self.path_arg(path)?;
                let _ = AT_FDCWD;
                err(ENOENT)
            }
            nr::GETCWD => {
                let n = self.p.cwd_len as u64 + 1;
                if a[1] < n {
                    return err(ERANGE);
                }
                let len = self.p.cwd_len;
                self.mem.write_bytes(a[0], &self.p.cwd[..len])?;
                self.mem.write_u8(a[0] + len as u64, 0)?;
                Ok(n)
            }
            nr::PPOLL => self.ppoll(a[0], a[1], a[2], a[3], a[4]),
            nr::PSELECT6 => self.pselect6(a[0] as i32, [a[1], a[2], a[3]], a[4], a[5]),
            // Timer signals need the machine's signal delivery, which comes with `alloc`.
            #[cfg(feature = "alloc")]
            nr::GETITIMER => self.getitimer(a[0], a[1]),
            #[cfg(feature = "alloc")]
            nr::SETITIMER => self.setitimer(a[0], a[1], a[2]),
            #[cfg(feature = "alloc")]
            nr::EVENTFD2 => self.eventfd2(a[0], a[1]),
            #[cfg(feature = "alloc")]
            nr::EPOLL_CREATE1 => self.epoll_create1(a[0]),
            #[cfg(feature = "alloc")]
            nr::EPOLL_CTL => self.epoll_ctl(a[0] as i32, a[1], a[2] as i32, a[3]),
            #[cfg(feature = "alloc")]
            nr::EPOLL_PWAIT => {
                let ms = a[3] as i32;
                let timeout = (ms >= 0).then(|| ms as u64 * 1_000_000);
                self.epoll_wait(a[0] as i32, a[1], a[2] as i32 as u64, timeout, a[4], a[5])
            }
            #[cfg(feature = "alloc")]
            nr::EPOLL_PWAIT2 => {
                let timeout = if a[3] == 0 {
                    None
                } else {
                    Some(timespec_ns(self.read_timespec(a[3])?))
                };
                self.epoll_wait(a[0] as i32, a[1], a[2] as i32 as u64, timeout, a[4], a[5])
            }
            #[cfg(feature = "alloc")]
            nr::TIMERFD_CREATE => self.timerfd_create(a[0], a[1]),
            #[cfg(feature = "alloc")]
            nr::TIMERFD_SETTIME => self.timerfd_settime(a[0] as i32, a[1], a[2], a[3]),
            #[cfg(feature = "alloc")]
            nr::TIMERFD_GETTIME => self.timerfd_gettime(a[0] as i32, a[1]),
            nr::EXIT_GROUP => Err(Stop::Terminate(Termination::Exited((a[0] & 0xff) as i32))),
            nr::EXIT => Err(Stop::Machine(MachineCall::ExitThread {
                status: (a[0] & 0xff) as i32,
            })),
            nr::SET_TID_ADDRESS => {
                self.p.thread.clear_child_tid = a[0];
                Ok(1)
            }
            nr::SET_ROBUST_LIST => self.set_robust_list(a[0], a[1]),
            nr::GET_ROBUST_LIST => self.get_robust_list(a[0] as i32, a[1], a[2]),
            nr::RSEQ => err(ENOSYS),
            nr::FUTEX => self.futex(a),
            nr::NANOSLEEP => self.nanosleep(a[0], a[1]),
            nr::CLOCK_NANOSLEEP => {
                const TIMER_ABSTIME: u64 = 1;
                if a[1] & TIMER_ABSTIME != 0 {
                    let deadline = self.read_timespec(a[2])?;
                    let now = self.clock(a[0])?;
                    // The deadline on the guest's clock, moved onto the monotonic one (fixed
                    // on the first attempt, so retries keep it).
                    let ns = timespec_ns(deadline).saturating_sub(timespec_ns(now));
                    let mono = self.monotonic_now();
                    let at = self.call_deadline(Some(ns), mono).unwrap_or(mono);
                    self.sleep_until(at, 0)
                } else {
                    self.clock(a[0])?;
                    self.nanosleep(a[2], a[3])
                }
            }
            nr::SCHED_YIELD => Err(Stop::Machine(MachineCall::Yield)),
            nr::CLOCK_GETTIME => {
                let t = self.clock(a[0])?;
                self.write_timespec(a[1], t)?;
                Ok(0)
            }
            nr::CLOCK_GETRES => {
                self.clock(a[0])?;
                if a[1] != 0 {
                    self.write_timespec(a[1], Timespec { secs: 0, nanos: 1 })?;
                }
                Ok(0)
            }
            nr::GETTIMEOFDAY => {
                if a[0] != 0 {
                    let t = self.clock(0)?;
                    self.mem.write_u64(a[0], t.secs as u64)?;
                    self.mem.write_u64(a[0] + 8, u64::from(t.nanos / 1000))?;
                }
                Ok(0)
            }
            nr::TIMES => {
                if a[0] != 0 {
                    let ticks = self.cpu.instret / 10_000_000;
                    self.mem.write_bytes(a[0], &[0; 32])?;
                    self.mem.write_u64(a[0], ticks)?;
                }
                Ok(self.cpu.instret / 10_000_000)
            }
            nr::GETRUSAGE => {
                self.mem.zero(a[1], 144)?;
                let micros = self.cpu.instret / 100;
                self.mem.write_u64(a[1], micros / 1_000_000)?;
                self.mem.write_u64(a[1] + 8, micros % 1_000_000)?;
                Ok(0)
            }
            nr::SCHED_GETAFFINITY => {
                if a[1] < 8 {
                    return err(EINVAL);
                }
                self.mem.zero(a[2], a[1].min(128))?;
                self.mem.write_u8(a[2], 1)?;
                Ok(8)
            }
            nr::TKILL | nr::TGKILL => {
                let (tgid, tid, sig) = match number {
                    nr::TGKILL => (a[0] as i32, a[1] as i32, a[2]),
                    _ => (self.p.pid, a[0] as i32, a[1]),
                };
                if sig > 64 || tid <= 0 || (number == nr::TGKILL && tgid <= 0) {
                    return err(EINVAL);
                }
                if tgid == self.p.pid && (number == nr::TGKILL || self.p.thread_mut(tid).is_some())
                {
                    return self.p.signal_thread(tid, sig as u32);
                }
                // Another process: its threads are reached through the process (the first
                // thread's id is the process id).
                Err(Stop::Machine(MachineCall::Kill {
                    pid: i64::from(if number == nr::TGKILL { tgid } else { tid }),
                    signal: sig as u32,
                }))
            }
            nr::KILL => {
                let (target, sig) = (a[0] as i32 as i64, a[1]);
                if sig > 64 {
                    return err(EINVAL);
                }
                if target == i64::from(self.p.pid) {
                    return if sig == 0 {
                        Ok(0)
                    } else {
                        self.p.deliver(sig as u32)
                    };
                }
                Err(Stop::Machine(MachineCall::Kill {
                    pid: target,
                    signal: sig as u32,
                }))
            }
            nr::CLONE => Err(Stop::Machine(MachineCall::Clone {
                flags: a[0],
                stack: a[1],
                parent_tid: a[2],
                tls: a[3],
                child_tid: a[4],
            })),
            nr::CLONE3 => self.clone3(a[0], a[1]),
            nr::EXECVE => Err(Stop::Machine(MachineCall::Exec {
                path: a[0],
                argv: a[1],
                envp: a[2],
            })),
            nr::WAIT4 => {
                if a[2] & !wait_options::WAIT4_ALLOWED != 0 {
                    return err(EINVAL);
                }
                Err(Stop::Machine(MachineCall::Wait {
                    children: WaitFor::from_wait4(a[0] as i32),
                    status: a[1],
                    options: a[2] | wait_options::WEXITED,
                    rusage: a[3],
                    siginfo: None,
                }))
            }
            nr::WAITID => waitid(a[0], a[1] as i32, a[2], a[3], a[4]),
            nr::SIGALTSTACK => {
                if a[1] != 0 {
                    self.mem.write_bytes(a[1], &[0; 24])?;
                    // SS_DISABLE: no alternate stack.
                    self.mem.write_u32(a[1] + 8, 2)?;
                }
                Ok(0)
            }
            nr::RT_SIGACTION => self.sigaction(a[0], a[1], a[2]),
            nr::RT_SIGSUSPEND => {
                let mask = self.mem.read_u64(a[0])?;
                Err(Stop::Machine(MachineCall::SigSuspend { mask }))
            }
            nr::RT_SIGRETURN => Err(Stop::Machine(MachineCall::SigReturn)),
            nr::RT_SIGPENDING => {
                self.mem.write_u64(a[0], self.p.thread.pending)?;
                Ok(0)
            }
            nr::RT_SIGPROCMASK => self.sigprocmask(a[0], a[1], a[2]),
            nr::SETPGID => {
                let pid = a[0] as i32;
                let pgid = a[1] as i32;
                if pid != 0 && pid != self.p.pid {
                    // Only the caller's own group is tracked here.
                    return Ok(0);
                }
                if pgid < 0 {
                    return err(EINVAL);
                }
                self.p.pgid = if pgid == 0 { self.p.pid } else { pgid };
                Ok(0)
            }
            nr::GETPGID => Ok(self.p.pgid as u64),
            nr::GETSID => Ok(self.p.sid as u64),
            nr::SETSID => {
                if self.p.pgid == self.p.pid {
                    return err(EPERM);
                }
                self.p.sid = self.p.pid;
                self.p.pgid = self.p.pid;
                Ok(self.p.pid as u64)
            }
            nr::UNAME => self.uname(a[0]),
            nr::GETRLIMIT | nr::PRLIMIT64 => {
                let (resource, new, old) = if number == nr::GETRLIMIT {
                    (a[0], 0, a[1])
                } else {
                    if a[0] != 0 {
                        return err(ESRCH);
                    }
                    (a[1], a[2], a[3])
                };
                self.rlimit(resource, new, old)
            }
            nr::UMASK => {
                let old = self.p.umask;
                self.p.umask = (a[0] & 0o777) as u32;
                Ok(u64::from(old))
            }
            nr::PRCTL => err(EINVAL),
            nr::GETPID => Ok(self.p.pid as u64),
            nr::GETTID => Ok(self.p.thread.tid as u64),
            nr::GETPPID => Ok(self.p.ppid as u64),
            nr::GETUID | nr::GETEUID | nr::GETGID | nr::GETEGID => Ok(0),
            nr::SYSINFO => self.sysinfo(a[0]),
            nr::BRK => Ok(self.brk(a[0])),
            nr::MMAP => self.mmap(a[0], a[1], a[2], a[3], a[4] as i32, a[5]),
            nr::MUNMAP => self.munmap(a[0], a[1]),
            nr::MREMAP => self.mremap(a[0], a[1], a[2], a[3], a[4]),
            nr::MPROTECT => {
                if a[0] % PAGE_SIZE != 0 {
                    return err(EINVAL);
                }
                self.cache.invalidate(a[0], a[1]);
                Ok(0)
            }
            nr::MSYNC => Ok(0),
            nr::MADVISE => {
                const MADV_DONTNEED: u64 = 4;
                if a[0] % PAGE_SIZE != 0 {
                    return err(EINVAL);
                }
                if a[2] == MADV_DONTNEED {
                    let len = page_up(a[1]).ok_or(Stop::Errno(EINVAL))?;
                    if self.p.maps.covers(a[0], len) {
                        // Only pages holding data: glibc drops each dead thread's whole
                        // stack, and writing zeros over untouched pages would make the host
                        // commit them.
                        let mut page = a[0];
                        while page < a[0] + len {
                            if self.mem.slice(page, PAGE_SIZE)?.iter().any(|&b| b != 0) {
                                self.mem.zero(page, PAGE_SIZE)?;
                            }
                            page += PAGE_SIZE;
                        }
                    }
                }
                Ok(0)
            }
            // Extended attributes: the file systems here have none.
            nr::SETXATTR..=nr::FREMOVEXATTR => err(EOPNOTSUPP),
            // No networking yet: say so the way a kernel without the family would.
            nr::SOCKET | nr::SOCKETPAIR => err(EAFNOSUPPORT),
            nr::FADVISE64 => {
                self.files
                    .file(&self.p.fds, a[0] as i32)
                    .map_err(Stop::Errno)?;
                Ok(0)
            }
            nr::RISCV_HWPROBE => self.hwprobe(a[0], a[1], a[2], a[4]),
            nr::RISCV_FLUSH_ICACHE => {
                self.cache.flush();
                Ok(0)
            }
            nr::GETRANDOM => {
                let len = a[1].min(1 << 20);
                let buf = self.mem.slice_mut(a[0], len)?;
                if self.p.config.deterministic {
                    self.p.pseudo_random(buf);
                } else {
                    // Borrow dance: fill a stack chunk at a time so `p` and `mem` stay separate.
                    let mut off = 0;
                    while off < len {
                        let mut chunk = [0u8; 256];
                        let n = (len - off).min(256) as usize;
                        self.p.random_bytes(self.host, &mut chunk[..n]);
                        self.mem.write_bytes(a[0] + off, &chunk[..n])?;
                        off += n as u64;
                    }
                }
                Ok(len)
            }
            _ => {
                self.known = false;
                err(ENOSYS)
            }
        }
    }

    fn path_arg(&self, addr: u64) -> Result<u64, Stop> {
        Ok(self.mem.c_str_len(addr, 4096)?)
    }

    /// ppoll over every kind of fd, with epoll's readiness rules. Nothing ready: wait until
    /// the timeout (none: for ever) with `sigmask` in force; a signal handler ends the wait
    /// with EINTR. The timeout left is written back, as Linux does.
    fn ppoll(
        &mut self,
        fds_addr: u64,
        nfds: u64,
        timeout_addr: u64,
        sigmask: u64,
        sigsetsize: u64,
    ) -> SysResult {
        if nfds > fd::MAX_FDS as u64 * 4 {
            return err(EINVAL);
        }
        self.mem.slice(fds_addr, nfds * 8)?;
        let timeout = if timeout_addr == 0 {
            None
        } else {
            Some(timespec_ns(self.read_timespec(timeout_addr)?))
        };
        let mask = self.read_sigmask(sigmask, sigsetsize)?;
        let now = self.monotonic_now();
        let mut ready = 0u64;
        let mut wake_at: Option<u64> = None;
        for i in 0..nfds {
            let at = fds_addr + i * 8;
            let fd = self.mem.read_u32(at)? as i32;
            let events = self.mem.read_u16(at + 4)?;
            let revents = if fd < 0 {
                0
            } else {
                self.poll_fd(fd, events, now, &mut wake_at)
                    .unwrap_or(poll::POLLNVAL)
            };
            self.mem.write_u16(at + 6, revents)?;
            if revents != 0 {
                ready += 1;
            }
        }
        let deadline = self.call_deadline(timeout, now);
        let (result, left) = self.finish_poll(ready, deadline, now, mask, wake_at)?;
        // Linux writes back the time left (glibc's wrapper hides it from callers).
        if timeout_addr != 0 {
            self.write_ns(timeout_addr, left)?;
        }
        Ok(result)
    }

    /// The poll events of `fd` among `events` (errors and hang-ups always), or None when
    /// `fd` is not open. A timer that will become readable lowers `wake_at` to its expiry.
    fn poll_fd(
        &mut self,
        fd: i32,
        events: u16,
        now: u64,
        wake_at: &mut Option<u64>,
    ) -> Option<u16> {
        let file = self.files.file(&self.p.fds, fd).ok()?;
        // A timer's expiry makes it readable: wake then (only if asked).
        #[cfg(feature = "alloc")]
        if let Some(e) =
            events::next_expiry(self.files, file.target, 0).filter(|_| events & poll::POLLIN != 0)
        {
            *wake_at = Some(wake_at.map_or(e, |w| w.min(e)));
        }
        #[cfg(not(feature = "alloc"))]
        let _ = wake_at;
        Some(self.poll_events(file.target, now) as u16 & (events | poll::POLLERR | poll::POLLHUP))
    }

    /// End of a ppoll/pselect scan that found `ready` fds: answer at once if any are ready,
    /// the `deadline` passed or the thread may not block; else block (waking at `wake_at`
    /// too) with `mask` in force. Ok((result, nanoseconds of the timeout left)).
    fn finish_poll(
        &mut self,
        ready: u64,
        deadline: Option<u64>,
        now: u64,
        mask: Option<u64>,
        wake_at: Option<u64>,
    ) -> Result<(u64, u64), Stop> {
        let left = deadline.map_or(0, |d| d.saturating_sub(now));
        if ready > 0 || deadline.is_some_and(|d| now >= d) || self.p.thread.never_block {
            self.end_wait();
            return Ok((ready, left));
        }
        self.wait_with_mask(mask);
        self.p.timers.wake_at = wake_at;
        self.block_until(deadline, now).map(|_| (0, 0))
    }

    /// pselect6(nfds, readfds, writefds, exceptfds, timeout, sigmask argument): ppoll's
    /// readiness and waiting over the fds set in three bitmaps, rewritten with the ready ones.
    /// The timeout left is written back, as Linux does.
    fn pselect6(&mut self, nfds: i32, sets: [u64; 3], timeout_addr: u64, sigarg: u64) -> SysResult {
        const WORDS: usize = fd::MAX_FDS.div_ceil(64);
        // What counts as ready for reading, writing and exceptional conditions (Linux's
        // POLLIN_SET, POLLOUT_SET, POLLEX_SET).
        const WANTED: [u16; 3] = [
            poll::POLLIN | poll::POLLHUP | poll::POLLERR,
            poll::POLLOUT | poll::POLLERR,
            poll::POLLPRI,
        ];
        if nfds < 0 {
            return err(EINVAL);
        }
        // Linux caps nfds at the size of the fd table, which holds every open fd.
        let nfds = (nfds as usize).min(fd::MAX_FDS);
        let bytes = nfds.div_ceil(64) as u64 * 8;
        let mut asked = [[0u64; WORDS]; 3];
        for (set, &addr) in asked.iter_mut().zip(&sets) {
            if addr != 0 {
                for (w, word) in set.iter_mut().take(nfds.div_ceil(64)).enumerate() {
                    *word = self.mem.read_u64(addr + w as u64 * 8)?;
                }
                if nfds % 64 != 0 {
                    set[nfds / 64] &= (1u64 << (nfds % 64)) - 1;
                }
            }
        }
        let timeout = if timeout_addr == 0 {
            None
        } else {
            Some(timespec_ns(self.read_timespec(timeout_addr)?))
        };
        let mask = if sigarg == 0 {
            None
        } else {
            let set = self.mem.read_u64(sigarg)?;
            let size = self.mem.read_u64(sigarg + 8)?;
            self.read_sigmask(set, size)?
        };
        let now = self.monotonic_now();
        let mut found = [[0u64; WORDS]; 3];
        let mut ready = 0u64;
        let mut wake_at: Option<u64> = None;
        for fd in 0..nfds {
            let (w, bit) = (fd / 64, 1u64 << (fd % 64));
            let events = (0..3)
                .filter(|&k| asked[k][w] & bit != 0)
                .fold(0, |e, k| e | WANTED[k]);
            if events == 0 {
                continue;
            }
            let Some(revents) = self.poll_fd(fd as i32, events, now, &mut wake_at) else {
                return err(EBADF);
            };
            for k in 0..3 {
                if asked[k][w] & bit != 0 && revents & WANTED[k] != 0 {
                    found[k][w] |= bit;
                    ready += 1;
                }
            }
        }
        let deadline = self.call_deadline(timeout, now);
        let (result, left) = self.finish_poll(ready, deadline, now, mask, wake_at)?;
        for (set, &addr) in found.iter().zip(&sets) {
            if addr != 0 {
                for (w, word) in set.iter().take(bytes as usize / 8).enumerate() {
                    self.mem.write_u64(addr + w as u64 * 8, *word)?;
                }
            }
        }
        if timeout_addr != 0 {
            self.write_ns(timeout_addr, left)?;
        }
        Ok(result)
    }

    /// Which poll events the file behind `target` has now.
    fn poll_events(&mut self, target: Target, now: u64) -> u32 {
        #[cfg(feature = "alloc")]
        return events::readiness(self.files, target, now, 0);
        #[cfg(not(feature = "alloc"))]
        {
            let _ = now;
            // Without an allocator there are only the console and files.
            match target {
                Target::Console(0) | Target::File(_) => 1 | 4,
                _ => 4,
            }
        }
    }

    fn read(&mut self, fd: i32, buf: u64, len: u64) -> SysResult {
        let file = self.files.file(&self.p.fds, fd).map_err(Stop::Errno)?;
        if file.flags & fd::O_ACCMODE == fd::O_WRONLY {
            return err(EBADF);
        }
        let len = len.min(1 << 20);
        let dst = self.mem.slice_mut(buf, len)?;
        match file.target {
            Target::Console(_) => match self.host.read(0, dst) {
                IoResult::Done(n) => Ok(n.min(len as usize) as u64),
                IoResult::Pending => Err(Stop::Pending(fd)),
                IoResult::Error(e) => host_err(e),
            },
            #[cfg(feature = "alloc")]
            Target::PipeRead(id) => {
                let Some(Some(pipe)) = self.files.pipes.get_mut(id) else {
                    return err(EBADF);
                };
                if pipe.buf.is_empty() {
                    if pipe.writers == 0 {
                        return Ok(0);
                    }
                    return if file.flags & fd::O_NONBLOCK != 0 || self.p.thread.never_block {
                        err(EAGAIN)
                    } else {
                        Err(Stop::Block)
                    };
                }
                // Linux wakes writers only when a read makes room in a full pipe.
                let was_full = pipe.buf.len() >= fd::PIPE_CAPACITY;
                let n = dst.len().min(pipe.buf.len());
                for (d, s) in dst.iter_mut().zip(pipe.buf.drain(..n)) {
                    *d = s;
                }
                if was_full && n > 0 {
                    pipe.wakeups.drained = pipe.wakeups.drained.wrapping_add(1);
                }
                Ok(n as u64)
            }
            #[cfg(feature = "alloc")]
            Target::File(ino) => self.file_read(fd, ino, buf, len, None),
            #[cfg(feature = "alloc")]
            Target::Event(id) => {
                let nonblock = file.flags & fd::O_NONBLOCK != 0;
                self.event_read(id, nonblock, buf, len)
            }
            _ => err(EBADF),
        }
    }

    fn write(&mut self, fd: i32, buf: u64, len: u64) -> SysResult {
        let file = self.files.file(&self.p.fds, fd).map_err(Stop::Errno)?;
        if file.flags & fd::O_ACCMODE == fd::O_RDONLY {
            return err(EBADF);
        }
        let data = self.mem.slice(buf, len)?;
        match file.target {
            // A terminal opened read-write (/dev/tty) writes to the console's output.
            Target::Console(n) => match self.host.write(i32::from(n.max(1)), data) {
                IoResult::Done(n) => Ok(n.min(data.len()) as u64),
                IoResult::Pending => Err(Stop::Pending(fd)),
                IoResult::Error(e) => host_err(e),
            },
            #[cfg(feature = "alloc")]
            Target::PipeWrite(id) => {
                let Some(Some(pipe)) = self.files.pipes.get_mut(id) else {
                    return err(EBADF);
                };
                if pipe.readers == 0 {
                    self.p.deliver(signal::SIGPIPE)?;
                    return err(EPIPE);
                }
                let room = fd::PIPE_CAPACITY.saturating_sub(pipe.buf.len());
                if room == 0 && !data.is_empty() {
                    return if file.flags & fd::O_NONBLOCK != 0 || self.p.thread.never_block {
                        err(EAGAIN)
                    } else {
                        Err(Stop::Block)
                    };
                }
                let n = data.len().min(room);
                pipe.buf.extend(&data[..n]);
                if n > 0 {
                    pipe.wakeups.filled = pipe.wakeups.filled.wrapping_add(1);
                }
                Ok(n as u64)
            }
            #[cfg(feature = "alloc")]
            Target::File(ino) => self.file_write(fd, ino, buf, len, None),
            #[cfg(feature = "alloc")]
            Target::Event(id) => {
                let nonblock = file.flags & fd::O_NONBLOCK != 0;
                self.event_write(id, nonblock, buf, len)
            }
            _ => err(EBADF),
        }
    }

    #[cfg(feature = "alloc")]
    fn pipe2(&mut self, fds_addr: u64, flags: u64) -> SysResult {
        if flags & !u64::from(fd::O_CLOEXEC | fd::O_NONBLOCK) != 0 {
            return err(EINVAL);
        }
        self.mem.slice(fds_addr, 8)?;
        let (r, w) = self
            .files
            .pipe(&mut self.p.fds, flags as u32)
            .map_err(Stop::Errno)?;
        self.mem.write_u32(fds_addr, r as u32)?;
        self.mem.write_u32(fds_addr + 4, w as u32)?;
        Ok(0)
    }

    #[cfg(not(feature = "alloc"))]
    fn pipe2(&mut self, _fds_addr: u64, _flags: u64) -> SysResult {
        // Pipe buffers need an allocator.
        err(ENOSYS)
    }

    fn read_timespec(&self, addr: u64) -> Result<Timespec, Stop> {
        let secs = self.mem.read_u64(addr)? as i64;
        let nanos = self.mem.read_u64(addr + 8)?;
        if secs < 0 || nanos >= 1_000_000_000 {
            return Err(Stop::Errno(EINVAL));
        }
        Ok(Timespec {
            secs,
            nanos: nanos as u32,
        })
    }

    fn nanosleep(&mut self, req: u64, rem: u64) -> SysResult {
        let t = self.read_timespec(req)?;
        self.sleep_for(timespec_ns(t), rem)
    }

    fn iovecs(&self, iov: u64, count: u64) -> Result<u64, Stop> {
        if count > MAX_IOV {
            return err(EINVAL);
        }
        self.mem.slice(iov, count * 16)?;
        Ok(count)
    }

    fn writev(&mut self, fd: i32, iov: u64, count: u64) -> SysResult {
        self.vectored(fd, iov, count, Self::write)
    }

    fn readv(&mut self, fd: i32, iov: u64, count: u64) -> SysResult {
        self.vectored(fd, iov, count, Self::read)
    }

    /// readv/writev: `transfer` each iovec in turn, stopping at the first short one; an
    /// error after some bytes moved ends the call with the count so far, as Linux does.
    fn vectored(
        &mut self,
        fd: i32,
        iov: u64,
        count: u64,
        transfer: fn(&mut Self, i32, u64, u64) -> SysResult,
    ) -> SysResult {
        let count = self.iovecs(iov, count)?;
        let mut total = 0u64;
        for i in 0..count {
            let base = self.mem.read_u64(iov + i * 16)?;
            let len = self.mem.read_u64(iov + i * 16 + 8)?;
            if len == 0 {
                continue;
            }
            match transfer(self, fd, base, len) {
                Ok(n) => {
                    total += n;
                    if n < len {
                        break;
                    }
                }
                Err(e) if total == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(total)
    }

    fn fd_control(&mut self, number: u64, a: [u64; 6]) -> SysResult {
        const F_DUPFD: u64 = 0;
        const F_GETFD: u64 = 1;
        const F_SETFD: u64 = 2;
        const F_GETFL: u64 = 3;
        const F_SETFL: u64 = 4;
        const F_DUPFD_CLOEXEC: u64 = 1030;
        const FD_CLOEXEC: u64 = 1;
        let fd = a[0] as i32;
        let fds = &mut self.p.fds;
        let files = &mut *self.files;
        let r = match number {
            nr::DUP => files.dup(fds, fd, 0, false).map(|n| n as u64),
            nr::DUP3 => {
                if a[2] & !u64::from(fd::O_CLOEXEC) != 0 {
                    return err(EINVAL);
                }
                files
                    .dup_to(fds, fd, a[1] as i32, a[2] != 0)
                    .map(|n| n as u64)
            }
            _ => match a[1] {
                F_DUPFD | F_DUPFD_CLOEXEC => {
                    let min = usize::try_from(a[2]).ok().filter(|&m| m < fds.limit());
                    match min {
                        Some(min) => files
                            .dup(fds, fd, min, a[1] == F_DUPFD_CLOEXEC)
                            .map(|n| n as u64),
                        None => Err(EINVAL),
                    }
                }
                F_GETFD => fds.get(fd).map(|e| u64::from(e.cloexec)),
                F_SETFD => fds.set_cloexec(fd, a[2] & FD_CLOEXEC != 0).map(|_| 0),
                F_GETFL => files.file(fds, fd).map(|f| u64::from(f.flags)),
                F_SETFL => files.file(fds, fd).and_then(|f| {
                    let settable = fd::O_NONBLOCK | fd::O_APPEND;
                    let flags = (f.flags & !settable) | (a[2] as u32 & settable);
                    files.set_file_flags(fds, fd, flags).map(|_| 0)
                }),
                _ => fds.get(fd).and(Err(EINVAL)),
            },
        };
        r.map_err(Stop::Errno)
    }

    /// The console stream behind `fd`, if it is one.
    /// riscv_hwprobe: describe this hart (RV64GC + Zba/Zbb/Zbs/Zicond, fast misaligned access).
    fn hwprobe(&mut self, pairs: u64, count: u64, cpusetsize: u64, flags: u64) -> SysResult {
        const BASE_BEHAVIOR: i64 = 3;
        const IMA_EXT_0: i64 = 4;
        const CPUPERF_0: i64 = 5;
        // cpusetsize 0 means "all harts"; this machine has one, so any set answers the same.
        let _ = cpusetsize;
        if flags != 0 {
            return err(EINVAL);
        }
        let count = count.min(256);
        for i in 0..count {
            let at = pairs + 16 * i;
            let key = self.mem.read_u64(at)? as i64;
            let value: u64 = match key {
                0..=2 => 0,         // vendor, arch and implementation ids
                BASE_BEHAVIOR => 1, // IMA base behaviour
                IMA_EXT_0 => 1 | 2 | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 35), // FD, C, Zba, Zbb, Zbs, Zicond
                CPUPERF_0 => 3, // misaligned accesses are fast
                _ => {
                    self.mem.write_u64(at, u64::MAX)?;
                    continue;
                }
            };
            self.mem.write_u64(at + 8, value)?;
        }
        Ok(0)
    }

    fn console_of(&self, fd: i32) -> Result<Option<i32>, Stop> {
        match self
            .files
            .file(&self.p.fds, fd)
            .map_err(Stop::Errno)?
            .target
        {
            Target::Console(n) => Ok(Some(i32::from(n))),
            _ => Ok(None),
        }
    }

    fn ioctl(&mut self, fd: i32, request: u64, arg: u64) -> SysResult {
        const TCGETS: u64 = 0x5401;
        const TCSETS: u64 = 0x5402;
        const TCSETSW: u64 = 0x5403;
        const TCSETSF: u64 = 0x5404;
        const TIOCSCTTY: u64 = 0x540e;
        const TIOCGPGRP: u64 = 0x540f;
        const TIOCSPGRP: u64 = 0x5410;
        const TIOCGWINSZ: u64 = 0x5413;
        const TIOCSWINSZ: u64 = 0x5414;
        const TIOCGSID: u64 = 0x5429;
        let Some(console) = self.console_of(fd)? else {
            return err(ENOTTY);
        };
        if !self.host.is_terminal(console) {
            return err(ENOTTY);
        }
        match request {
            TCGETS => {
                self.mem.write_bytes(arg, &self.files.termios)?;
                Ok(0)
            }
            TCSETS | TCSETSW | TCSETSF => {
                let mut t = [0u8; 36];
                self.mem.read_bytes(arg, &mut t)?;
                self.files.termios = t;
                Ok(0)
            }
            TIOCGWINSZ => {
                let (rows, cols) = self.host.terminal_size(console).unwrap_or((24, 80));
                let mut ws = [0u8; 8];
                ws[0..2].copy_from_slice(&rows.to_le_bytes());
                ws[2..4].copy_from_slice(&cols.to_le_bytes());
                self.mem.write_bytes(arg, &ws)?;
                Ok(0)
            }
            TIOCSWINSZ => {
                self.mem.slice(arg, 8)?;
                Ok(0)
            }
            TIOCGPGRP => {
                self.mem.write_u32(arg, self.files.foreground as u32)?;
                Ok(0)
            }
            TIOCSPGRP => {
                let pgrp = self.mem.read_u32(arg)? as i32;
                if pgrp <= 0 {
                    return err(EINVAL);
                }
                self.files.foreground = pgrp;
                Ok(0)
            }
            TIOCGSID => {
                self.mem.write_u32(arg, self.p.sid as u32)?;
                Ok(0)
            }
            TIOCSCTTY => Ok(0),
            _ => err(EINVAL),
        }
    }

    fn fstat(&mut self, fd: i32, statbuf: u64) -> SysResult {
        #[cfg(feature = "alloc")]
        if let Target::File(ino) = self
            .files
            .file(&self.p.fds, fd)
            .map_err(Stop::Errno)?
            .target
        {
            return self.file_stat(ino, statbuf);
        }
        let mut st = [0u8; 128];
        self.fstat_into(fd, &mut st)?;
        self.mem.write_bytes(statbuf, &st)?;
        Ok(0)
    }

    /// `struct stat` of a console or pipe descriptor.
    fn fstat_into(&mut self, fd: i32, st: &mut [u8; 128]) -> Result<(), Stop> {
        const S_IFCHR: u32 = 0o020000;
        const S_IFIFO: u32 = 0o010000;
        let console = self.console_of(fd)?;
        let anonymous = matches!(
            self.files.file(&self.p.fds, fd).map(|f| f.target),
            Ok(Target::Event(_))
        );
        let mode = match console {
            Some(c) if self.host.is_terminal(c) => S_IFCHR | 0o620,
            // eventfd, timerfd and epoll files are anonymous inodes without a file type.
            _ if anonymous => 0o600,
            _ => S_IFIFO | 0o600,
        };
        st.fill(0);
        st[8..16].copy_from_slice(&(fd as u64 + 1).to_le_bytes());
        st[16..20].copy_from_slice(&mode.to_le_bytes());
        st[20..24].copy_from_slice(&1u32.to_le_bytes());
        st[56..60].copy_from_slice(&4096u32.to_le_bytes());
        Ok(())
    }

    fn clock(&mut self, id: u64) -> Result<Timespec, Stop> {
        let clock = match id {
            0 | 5 | 8 | 11 => Clock::Realtime,
            1 | 4 | 6 | 7 | 9 => Clock::Monotonic,
            // Process and thread CPU time: derived from retired instructions (100 per µs).
            2 | 3 => {
                let ns = self.cpu.instret.saturating_mul(10);
                return Ok(Timespec {
                    secs: (ns / 1_000_000_000) as i64,
                    nanos: (ns % 1_000_000_000) as u32,
                });
            }
            _ => return Err(Stop::Errno(EINVAL)),
        };
        Ok(clock_now(self.p, self.cpu.instret, self.host, clock))
    }

    /// clone3(args, size): the same as clone, with the arguments in a struct.
    fn clone3(&mut self, args: u64, size: u64) -> SysResult {
        // flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls: the
        // first version of struct clone_args.
        const CLONE_ARGS_SIZE_VER0: u64 = 64;
        if !(CLONE_ARGS_SIZE_VER0..=4096).contains(&size) {
            return err(EINVAL);
        }
        let mut words = [0u64; 8];
        for (i, w) in words.iter_mut().enumerate() {
            *w = self.mem.read_u64(args + 8 * i as u64)?;
        }
        // Later fields (set_tid, cgroup) must be zero: those features are not offered.
        for offset in (CLONE_ARGS_SIZE_VER0..size.min(88)).step_by(8) {
            if self.mem.read_u64(args + offset)? != 0 {
                return err(EINVAL);
            }
        }
        let [flags, _pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls] = words;
        const CLONE_PIDFD: u64 = 0x1000;
        if flags & 0xff != 0 || exit_signal > 64 || flags & CLONE_PIDFD != 0 {
            return err(EINVAL);
        }
        if (stack == 0) != (stack_size == 0) {
            return err(EINVAL);
        }
        Err(Stop::Machine(MachineCall::Clone {
            flags: flags | exit_signal,
            stack: stack.wrapping_add(stack_size),
            parent_tid,
            tls,
            child_tid,
        }))
    }

    fn write_timespec(&mut self, addr: u64, t: Timespec) -> Result<(), Stop> {
        self.mem.write_u64(addr, t.secs as u64)?;
        self.mem.write_u64(addr + 8, u64::from(t.nanos))?;
        Ok(())
    }

    fn sigaction(&mut self, sig: u64, new: u64, old: u64) -> SysResult {
        use signal::{SIGKILL, SIGSTOP};
        if sig == 0 || sig as usize >= NSIG {
            return err(EINVAL);
        }
        let idx = sig as usize;
        if old != 0 {
            let a = self.p.sigactions[idx];
            self.mem.write_u64(old, a.handler)?;
            self.mem.write_u64(old + 8, a.flags)?;
            self.mem.write_u64(old + 16, a.mask)?;
        }
        if new != 0 {
            if sig as u32 == SIGKILL || sig as u32 == SIGSTOP {
                return err(EINVAL);
            }
            self.p.sigactions[idx] = SigAction {
                handler: self.mem.read_u64(new)?,
                flags: self.mem.read_u64(new + 8)?,
                mask: self.mem.read_u64(new + 16)?,
            };
        }
        Ok(0)
    }

    fn sigprocmask(&mut self, how: u64, set: u64, old: u64) -> SysResult {
        if old != 0 {
            self.mem.write_u64(old, self.p.thread.sigmask)?;
        }
        if set != 0 {
            let s = self.mem.read_u64(set)?;
            let unblockable = (1 << (signal::SIGKILL - 1)) | (1 << (signal::SIGSTOP - 1));
            self.p.thread.sigmask = match how {
                0 => self.p.thread.sigmask | s,
                1 => self.p.thread.sigmask & !s,
                2 => s,
                _ => return err(EINVAL),
            } & !unblockable;
        }
        Ok(0)
    }

    fn uname(&mut self, addr: u64) -> SysResult {
        let fields: [&[u8]; 6] = [
            b"Linux", b"friscy", b"6.1.0", b"#1 SMP", b"riscv64", b"(none)",
        ];
        let mut buf = [0u8; 65 * 6];
        for (i, f) in fields.iter().enumerate() {
            buf[i * 65..i * 65 + f.len()].copy_from_slice(f);
        }
        self.mem.write_bytes(addr, &buf)?;
        Ok(0)
    }

    fn rlimit(&mut self, resource: u64, new: u64, old: u64) -> SysResult {
        const RLIMIT_DATA: u64 = 2;
        const RLIMIT_STACK: u64 = 3;
        const RLIMIT_NPROC: u64 = 6;
        const RLIMIT_NOFILE: u64 = 7;
        const INFINITY: u64 = u64::MAX;
        if resource > 15 {
            return err(EINVAL);
        }
        if old != 0 {
            let (cur, max) = match resource {
                RLIMIT_STACK => (self.p.config.stack_size, self.p.config.stack_size),
                RLIMIT_NOFILE => (self.p.fds.limit() as u64, self.p.fds.limit() as u64),
                RLIMIT_NPROC => {
                    let n = self.p.config.max_processes as u64;
                    (n, n)
                }
                RLIMIT_DATA if self.p.config.memory_limit != 0 => {
                    (self.p.config.memory_limit, self.p.config.memory_limit)
                }
                _ => (INFINITY, INFINITY),
            };
            self.mem.write_u64(old, cur)?;
            self.mem.write_u64(old + 8, max)?;
        }
        if new != 0 {
            self.mem.slice(new, 16)?;
        }
        Ok(0)
    }

    fn sysinfo(&mut self, addr: u64) -> SysResult {
        let mut info = [0u8; 112];
        let uptime = self.cpu.instret / 100_000_000;
        info[0..8].copy_from_slice(&uptime.to_le_bytes());
        info[32..40].copy_from_slice(&self.mem.size().to_le_bytes());
        let free = self.mem.size() / 2;
        info[40..48].copy_from_slice(&free.to_le_bytes());
        info[80..82].copy_from_slice(&1u16.to_le_bytes());
        info[104..108].copy_from_slice(&1u32.to_le_bytes());
        self.mem.write_bytes(addr, &info)?;
        Ok(0)
    }

    fn brk(&mut self, want: u64) -> u64 {
        let p = &mut *self.p;
        if want < p.brk_start {
            return p.brk;
        }
        let Some(new_end) = page_up(want) else {
            return p.brk;
        };
        let old_end = page_up(p.brk).unwrap_or(p.brk);
        if new_end > old_end {
            if new_end > p.mmap_max
                || p.maps.overlaps(old_end, new_end - old_end)
                || !p.may_grow(new_end - old_end)
            {
                return p.brk;
            }
        } else if new_end < old_end {
            // Memory handed back must read as zero if the break grows again.
            let _ = self.mem.zero(new_end, old_end - new_end);
        }
        if want > p.brk {
            // The kernel hands out zeroed pages; bytes past the old break in its last page may be dirty.
            let _ = self.mem.zero(p.brk, want.min(old_end) - p.brk);
        }
        p.brk = want;
        want
    }

    fn mmap(&mut self, addr: u64, len: u64, prot: u64, flags: u64, fd: i32, off: u64) -> SysResult {
        let _ = (prot, fd, off);
        let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
        if len == 0 || (fixed && addr % PAGE_SIZE != 0) {
            return err(EINVAL);
        }
        // Without MAP_FIXED the address is only a hint, rounded up to a page as Linux does.
        let addr = if fixed {
            addr
        } else {
            page_up(addr).unwrap_or(0)
        };
        let len = page_up(len).ok_or(Stop::Errno(ENOMEM))?;
        match flags & (MAP_SHARED | MAP_PRIVATE) {
            MAP_SHARED | MAP_PRIVATE => {}
            _ => return err(EINVAL),
        }
        #[cfg(feature = "alloc")]
        let file = if flags & MAP_ANONYMOUS == 0 {
            if off % PAGE_SIZE != 0 {
                return err(EINVAL);
            }
            match self
                .files
                .file(&self.p.fds, fd)
                .map_err(Stop::Errno)?
                .target
            {
                Target::File(ino) => Some(ino),
                _ => return err(ENODEV),
            }
        } else {
            None
        };
        #[cfg(not(feature = "alloc"))]
        if flags & MAP_ANONYMOUS == 0 {
            // File mappings need the file layer.
            return err(ENODEV);
        }
        let heap_end = page_up(self.p.brk).unwrap_or(u64::MAX);
        let floor = self.p.mmap_min.max(heap_end);
        let start = if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
            let end = addr.checked_add(len).ok_or(Stop::Errno(ENOMEM))?;
            if addr < floor || end > self.p.mmap_max {
                return err(ENOMEM);
            }
            if flags & MAP_FIXED_NOREPLACE != 0 && self.p.maps.overlaps(addr, len) {
                return err(EEXIST);
            }
            // Replacing part of an existing mapping: its old contents are gone.
            self.p.maps.remove(addr, len);
            self.mem.zero(addr, len)?;
            self.cache.invalidate(addr, len);
            addr
        } else {
            let hint = if addr >= floor
                && addr.saturating_add(len) <= self.p.mmap_max
                && !self.p.maps.overlaps(addr, len)
            {
                Some(addr)
            } else {
                None
            };
            match hint.or_else(|| self.p.maps.find_gap(floor, self.p.mmap_max, len)) {
                Some(a) => a,
                None => return err(ENOMEM),
            }
        };
        // MAP_FIXED over existing mappings replaced them (removed above): count only new bytes.
        if !self.p.may_grow(len) || !self.p.maps.insert(start, len, (prot & 7) as u8) {
            return err(ENOMEM);
        }
        let _ = PROT_WRITE;
        #[cfg(feature = "alloc")]
        if let Some(ino) = file {
            // Private file mappings are copies; the tail past end of file stays zero.
            self.map_file(ino, off, start, len)?;
            self.cache.invalidate(start, len);
        }
        Ok(start)
    }

    fn munmap(&mut self, addr: u64, len: u64) -> SysResult {
        if addr % PAGE_SIZE != 0 || len == 0 {
            return err(EINVAL);
        }
        let len = page_up(len).ok_or(Stop::Errno(EINVAL))?;
        let end = addr.checked_add(len).ok_or(Stop::Errno(EINVAL))?;
        // Only mmap'd memory is released; the image, heap and stack are not ours to drop.
        let lo = addr.max(self.p.mmap_min);
        let hi = end.min(self.p.mmap_max);
        if lo < hi {
            for (s, e) in self.p.maps.intersections(lo, hi - lo) {
                let _ = self.mem.zero(s, e - s);
            }
            self.p.maps.remove(lo, hi - lo);
            self.cache.invalidate(lo, hi - lo);
        }
        Ok(0)
    }

    fn mremap(
        &mut self,
        old: u64,
        old_len: u64,
        new_len: u64,
        flags: u64,
        new_addr: u64,
    ) -> SysResult {
        const MREMAP_MAYMOVE: u64 = 1;
        const MREMAP_FIXED: u64 = 2;
        let _ = new_addr;
        // old_len 0 (Linux: duplicate a shared mapping) is not supported: every range here is private.
        if old % PAGE_SIZE != 0 || old_len == 0 || new_len == 0 || flags & MREMAP_FIXED != 0 {
            return err(EINVAL);
        }
        let old_len = page_up(old_len).ok_or(Stop::Errno(EINVAL))?;
        let new_len = page_up(new_len).ok_or(Stop::Errno(ENOMEM))?;
        if old.checked_add(old_len).is_none() || !self.p.maps.covers(old, old_len) {
            return err(EFAULT);
        }
        let prot = self.p.maps.prot_at(old).unwrap_or(3);
        if new_len <= old_len {
            if new_len < old_len {
                self.munmap(old + new_len, old_len - new_len)?;
            }
            return Ok(old);
        }
        let grow = new_len - old_len;
        let fits = old
            .checked_add(new_len)
            .is_some_and(|end| end <= self.p.mmap_max);
        if !self.p.may_grow(grow) {
            return err(ENOMEM);
        }
        if fits && !self.p.maps.overlaps(old + old_len, grow) {
            if self.p.maps.insert(old + old_len, grow, prot) {
                return Ok(old);
            }
            return err(ENOMEM);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return err(ENOMEM);
        }
        let floor = self.p.mmap_min.max(page_up(self.p.brk).unwrap_or(u64::MAX));
        let Some(dest) = self.p.maps.find_gap(floor, self.p.mmap_max, new_len) else {
            return err(ENOMEM);
        };
        if !self.p.maps.insert(dest, new_len, prot) {
            return err(ENOMEM);
        }
        let mut off = 0;
        let mut chunk = [0u8; 4096];
        while off < old_len {
            self.mem.read_bytes(old + off, &mut chunk)?;
            self.mem.write_bytes(dest + off, &chunk)?;
            off += 4096;
        }
        self.munmap(old, old_len)?;
        Ok(dest)
    }
}

/// Lay out argv, envp and the auxiliary vector at the top of the stack the way Linux does;
/// returns the initial stack pointer.
pub struct StackImage<'a> {
    pub argv: &'a [&'a [u8]],
    pub envp: &'a [&'a [u8]],
    pub execfn: &'a [u8],
    pub auxv: &'a [(u64, u64)],
    pub random: [u8; 16],
}

pub const AT_NULL: u64 = 0;
pub const AT_PHDR: u64 = 3;
pub const AT_PHENT: u64 = 4;
pub const AT_PHNUM: u64 = 5;
pub const AT_PAGESZ: u64 = 6;
pub const AT_BASE: u64 = 7;
pub const AT_FLAGS: u64 = 8;
pub const AT_ENTRY: u64 = 9;
pub const AT_UID: u64 = 11;
pub const AT_EUID: u64 = 12;
pub const AT_GID: u64 = 13;
pub const AT_EGID: u64 = 14;
pub const AT_HWCAP: u64 = 16;
pub const AT_CLKTCK: u64 = 17;
pub const AT_SECURE: u64 = 23;
pub const AT_RANDOM: u64 = 25;
pub const AT_EXECFN: u64 = 31;

/// Push the initial process stack below `top`; returns the stack pointer, or None if it does not fit.
pub fn build_stack(mem: &mut Memory, top: u64, limit: u64, img: &StackImage<'_>) -> Option<u64> {
    let mut sp = top;
    let push_bytes = |mem: &mut Memory, sp: &mut u64, bytes: &[u8], nul: bool| -> Option<u64> {
        let n = bytes.len() as u64 + u64::from(nul);
        *sp = sp.checked_sub(n)?;
        if *sp < limit {
            return None;
        }
        mem.write_bytes(*sp, bytes).ok()?;
        if nul {
            mem.write_u8(*sp + bytes.len() as u64, 0).ok()?;
        }
        Some(*sp)
    };
    let execfn = push_bytes(mem, &mut sp, img.execfn, true)?;
    let random = push_bytes(mem, &mut sp, &img.random, false)?;
    // Strings are laid out in order so argv[0] is lowest, as the kernel does.
    let strings_len: u64 = img
        .argv
        .iter()
        .chain(img.envp.iter())
        .map(|s| s.len() as u64 + 1)
        .sum();
    sp = sp.checked_sub(strings_len)?;
    if sp < limit {
        return None;
    }
    let mut cursor = sp;
    let strings_base = cursor;
    for s in img.argv.iter().chain(img.envp.iter()) {
        mem.write_bytes(cursor, s).ok()?;
        mem.write_u8(cursor + s.len() as u64, 0).ok()?;
        cursor += s.len() as u64 + 1;
    }
    let words = 1 + img.argv.len() + 1 + img.envp.len() + 1 + 2 * (img.auxv.len() + 3);
    sp = sp.checked_sub(words as u64 * 8)? & !15;
    if sp < limit {
        return None;
    }
    let mut w = sp;
    let mut put = |mem: &mut Memory, v: u64| -> Option<()> {
        mem.write_u64(w, v).ok()?;
        w += 8;
        Some(())
    };
    put(mem, img.argv.len() as u64)?;
    let mut cursor = strings_base;
    for s in img.argv.iter() {
        put(mem, cursor)?;
        cursor += s.len() as u64 + 1;
    }
    put(mem, 0)?;
    for s in img.envp.iter() {
        put(mem, cursor)?;
        cursor += s.len() as u64 + 1;
    }
    put(mem, 0)?;
    for &(k, v) in img.auxv {
        put(mem, k)?;
        put(mem, v)?;
    }
    put(mem, AT_RANDOM)?;
    put(mem, random)?;
    put(mem, AT_EXECFN)?;
    put(mem, execfn)?;
    put(mem, AT_NULL)?;
    put(mem, 0)?;
    Some(sp)
}
