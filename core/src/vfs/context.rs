//! What the VFS asks its caller for: the clock, random bytes, and a view of the calling process for /proc.
//!
//! The VFS holds no process state: every call that can reach a synthetic file takes a
//! `&mut dyn Context`. A caller either implements [`Context`] over its own process record,
//! or fills a [`ProcessView`] (plain owned data) and passes that.

use alloc::vec::Vec;

use crate::host::Timespec;

/// One mapping of the guest address space, as `/proc/self/maps` lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub read: bool,
    pub write: bool,
    pub exec: bool,
    pub shared: bool,
    /// File offset of a file mapping.
    pub offset: u64,
    pub dev: u64,
    pub ino: u64,
    /// File path, or a pseudo name such as `[heap]` or `[stack]`; empty for anonymous memory.
    pub path: Vec<u8>,
}

/// The fields of `/proc/self/stat` a guest is likely to read (the rest are zero).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessStat {
    /// Program name (at most 15 bytes are shown, like the kernel's `comm`).
    pub comm: Vec<u8>,
    /// `R` running, `S` sleeping, `Z` zombie...; 0 means `R`.
    pub state: u8,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
    /// CPU time in clock ticks (100 per second).
    pub utime: u64,
    pub stime: u64,
    pub num_threads: u32,
    /// Start time in clock ticks after boot.
    pub start_time: u64,
    /// Virtual memory size in bytes and resident set size in pages.
    pub vsize: u64,
    pub rss_pages: u64,
    pub start_code: u64,
    pub end_code: u64,
    pub start_stack: u64,
    pub start_brk: u64,
    pub arg_start: u64,
    pub arg_end: u64,
    pub env_start: u64,
    pub env_end: u64,
}

/// Memory totals for `/proc/meminfo`, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryInfo {
    pub total: u64,
    pub free: u64,
    pub available: u64,
}

impl Default for MemoryInfo {
    fn default() -> Self {
        MemoryInfo {
            total: 1 << 30,
            free: 1 << 29,
            available: 1 << 29,
        }
    }
}

/// The caller's side of a VFS call. Only `random` has no default, because a VFS that
/// silently served predictable bytes from `/dev/urandom` would be worse than none.
pub trait Context {
    /// Current wall-clock time, stamped on files that are created or changed.
    fn now(&mut self) -> Timespec {
        Timespec::default()
    }
    /// Fills `buf` for reads of `/dev/random` and `/dev/urandom`.
    fn random(&mut self, buf: &mut [u8]);
    /// Owner given to files the caller creates (its fsuid/fsgid).
    fn uid(&self) -> u32 {
        0
    }
    fn gid(&self) -> u32 {
        0
    }
    /// Process id (`/proc/self` links to it).
    fn pid(&self) -> i32 {
        1
    }
    /// Guest path of the running program (`/proc/self/exe`); nothing appended means unknown.
    fn exe(&self, out: &mut Vec<u8>) {
        let _ = out;
    }
    /// Guest path of the working directory (`/proc/self/cwd`).
    fn cwd(&self, out: &mut Vec<u8>) {
        out.push(b'/');
    }
    /// Arguments, each followed by a NUL (`/proc/self/cmdline`).
    fn cmdline(&self, out: &mut Vec<u8>) {
        let _ = out;
    }
    /// Open descriptor numbers in ascending order (`/proc/self/fd`).
    fn open_fds(&self, out: &mut Vec<i32>) {
        let _ = out;
    }
    /// What `/proc/self/fd/N` links to: a guest path (`/tmp/x`) or a pseudo name
    /// (`pipe:[3]`, `/dev/tty`); `false` if `fd` is not open.
    fn fd_path(&self, fd: i32, out: &mut Vec<u8>) -> bool {
        let _ = (fd, out);
        false
    }
    /// The address space, lowest mapping first (`/proc/self/maps`).
    fn maps(&self, out: &mut Vec<Mapping>) {
        let _ = out;
    }
    fn process_stat(&self) -> ProcessStat {
        ProcessStat::default()
    }
    fn memory(&self) -> MemoryInfo {
        MemoryInfo::default()
    }
}

/// A filled-in [`Context`]: the caller copies what it knows into these fields.
#[derive(Clone, Debug, Default)]
pub struct ProcessView {
    pub now: Timespec,
    pub uid: u32,
    pub gid: u32,
    pub pid: i32,
    pub exe: Vec<u8>,
    pub cwd: Vec<u8>,
    pub cmdline: Vec<u8>,
    /// Open descriptors with what each refers to, ascending by number.
    pub fds: Vec<(i32, Vec<u8>)>,
    pub maps: Vec<Mapping>,
    pub stat: ProcessStat,
    pub memory: MemoryInfo,
    /// State of the xorshift generator behind `random` (seed it from the host's entropy;
    /// zero is replaced by a fixed constant).
    pub random_state: u64,
}

impl Context for ProcessView {
    fn now(&mut self) -> Timespec {
        self.now
    }
    fn random(&mut self, buf: &mut [u8]) {
        if self.random_state == 0 {
            self.random_state = 0x9e37_79b9_7f4a_7c15;
        }
        for chunk in buf.chunks_mut(8) {
            // xorshift64*: fine for /dev/urandom's role in a reproducible emulator.
            let mut x = self.random_state;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.random_state = x;
            let bytes = x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
    fn uid(&self) -> u32 {
        self.uid
    }
    fn gid(&self) -> u32 {
        self.gid
    }
    fn pid(&self) -> i32 {
        if self.pid == 0 {
            1
        } else {
            self.pid
        }
    }
    fn exe(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.exe);
    }
    fn cwd(&self, out: &mut Vec<u8>) {
        if self.cwd.is_empty() {
            out.push(b'/');
        } else {
            out.extend_from_slice(&self.cwd);
        }
    }
    fn cmdline(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.cmdline);
    }
    fn open_fds(&self, out: &mut Vec<i32>) {
        out.extend(self.fds.iter().map(|(fd, _)| *fd));
    }
    fn fd_path(&self, fd: i32, out: &mut Vec<u8>) -> bool {
        match self.fds.iter().find(|(n, _)| *n == fd) {
            Some((_, path)) => {
                out.extend_from_slice(path);
                true
            }
            None => false,
        }
    }
    fn maps(&self, out: &mut Vec<Mapping>) {
        out.extend_from_slice(&self.maps);
    }
    fn process_stat(&self) -> ProcessStat {
        self.stat.clone()
    }
    fn memory(&self) -> MemoryInfo {
        self.memory
    }
}
