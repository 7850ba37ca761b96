//! File descriptors: the per-process fd table, shared open-file descriptions, and in-memory pipes.
//!
//! An fd points at an open-file description (shared by `dup`), which points at what it
//! reads and writes: the host console or one end of a pipe. Tables are fixed-size so the
//! layer works without an allocator; pipes need one for their buffers.

use crate::host::errno::*;

/// Highest number of fds a process may hold (RLIMIT_NOFILE).
pub const MAX_FDS: usize = 256;
/// Open-file descriptions alive at once.
pub(crate) const MAX_FILES: usize = 256;
/// Bytes a pipe holds before writes come up short (Linux's default pipe size).
pub const PIPE_CAPACITY: usize = 65536;

/// Access-mode and status flags kept on an open file (a subset of O_*).
pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_ACCMODE: u32 = 3;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_APPEND: u32 = 0o2000;
pub const O_CLOEXEC: u32 = 0o2000000;

/// What an open file reads from and writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Host console stream 0, 1 or 2.
    Console(u8),
    /// The read end of pipe N.
    PipeRead(usize),
    /// The write end of pipe N.
    PipeWrite(usize),
    /// A file-system object (regular file, directory, device) by inode.
    File(u64),
    /// An eventfd, timerfd or epoll instance (see `events::EventObjects`).
    Event(usize),
}

/// An open-file description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFile {
    pub target: Target,
    /// O_* status flags (access mode, O_NONBLOCK, O_APPEND).
    pub flags: u32,
    /// File position (bytes for files, the listing cookie for directories).
    pub offset: u64,
    pub(crate) refs: u32,
}

/// One slot of the fd table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fd {
    pub file: usize,
    pub cloexec: bool,
}

/// An in-memory pipe buffer with its open-end counts.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, Default)]
pub struct Pipe {
    pub buf: alloc::collections::VecDeque<u8>,
    pub readers: u32,
    pub writers: u32,
    /// Writes, reads and closes so far, for epoll's edge-triggered mode.
    pub wakeups: super::events::Wakeups,
}

/// The fd table of one process: which open file each fd refers to.
#[derive(Clone, Debug)]
pub struct FdTable {
    pub(crate) fds: [Option<Fd>; MAX_FDS],
    /// RLIMIT_NOFILE: new fds are below it (fds already open above it stay usable).
    pub(crate) limit: usize,
}

impl FdTable {
    /// Highest fd number plus one that may be allocated (RLIMIT_NOFILE).
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Set RLIMIT_NOFILE, clamped to 1..=[`MAX_FDS`].
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.clamp(1, MAX_FDS);
    }

    /// Number of open fds.
    pub fn count(&self) -> usize {
        self.fds.iter().filter(|f| f.is_some()).count()
    }

    /// The open fds in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = (i32, Fd)> + '_ {
        self.fds
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.map(|f| (i as i32, f)))
    }

    /// The fd entry for `fd`, or EBADF.
    pub fn get(&self, fd: i32) -> Result<Fd, i32> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.fds.get(i).copied().flatten())
            .ok_or(EBADF)
    }

    pub fn set_cloexec(&mut self, fd: i32, cloexec: bool) -> Result<(), i32> {
        let slot = usize::try_from(fd)
            .ok()
            .and_then(|i| self.fds.get_mut(i))
            .and_then(|s| s.as_mut())
            .ok_or(EBADF)?;
        slot.cloexec = cloexec;
        Ok(())
    }

    /// Lowest free fd at or above `min`.
    fn free_fd(&self, min: usize) -> Result<usize, i32> {
        (min..self.limit)
            .find(|&i| self.fds[i].is_none())
            .ok_or(EMFILE)
    }
}

/// The open-file descriptions and pipes of the whole machine, shared by every process's
/// fd table (a forked child shares its parent's descriptions, offsets and pipes).
#[derive(Clone, Debug)]
pub struct OpenFiles {
    pub(crate) files: [Option<OpenFile>; MAX_FILES],
    #[cfg(feature = "alloc")]
    pub pipes: alloc::vec::Vec<Option<Pipe>>,
    /// Inodes whose last open description went away: the caller drops them from the VFS.
    #[cfg(feature = "alloc")]
    pub released: alloc::vec::Vec<u64>,
    /// eventfd, timerfd and epoll objects, behind descriptions with `Target::Event`.
    #[cfg(feature = "alloc")]
    pub events: super::events::EventObjects,
    /// The console terminal's settings (a riscv64 `struct termios`), as the guest set them.
    pub termios: [u8; 36],
    /// The console's foreground process group (TIOCSPGRP), which Ctrl-C signals.
    pub foreground: i32,
}

/// termios local-mode bits a host needs to emulate a terminal line discipline.
pub mod lflag {
    pub const ISIG: u32 = 0o1;
    pub const ICANON: u32 = 0o2;
    pub const ECHO: u32 = 0o10;
}

/// Cooked mode with echo, as a fresh Linux terminal starts.
const DEFAULT_TERMIOS: [u8; 36] = {
    let mut t = [0u8; 36];
    let fields: [u32; 4] = [0x0500, 0x0005, 0x00bf, 0x8a3b];
    let mut i = 0;
    while i < 4 {
        let b = fields[i].to_le_bytes();
        t[i * 4] = b[0];
        t[i * 4 + 1] = b[1];
        t[i * 4 + 2] = b[2];
        t[i * 4 + 3] = b[3];
        i += 1;
    }
    // VINTR ^C, VQUIT ^\, VERASE DEL, VKILL ^U, VEOF ^D, VTIME 0, VMIN 1.
    let cc = [3u8, 0x1c, 0x7f, 0x15, 4, 0, 1];
    let mut j = 0;
    while j < cc.len() {
        t[17 + j] = cc[j];
        j += 1;
    }
    t
};

impl Default for OpenFiles {
    fn default() -> Self {
        OpenFiles::new()
    }
}

impl OpenFiles {
    pub fn new() -> OpenFiles {
        OpenFiles {
            files: [None; MAX_FILES],
            #[cfg(feature = "alloc")]
            pipes: alloc::vec::Vec::new(),
            #[cfg(feature = "alloc")]
            released: alloc::vec::Vec::new(),
            #[cfg(feature = "alloc")]
            events: Default::default(),
            termios: DEFAULT_TERMIOS,
            foreground: 1,
        }
    }

    /// The console's termios local-mode flags (see [`lflag`]).
    pub fn console_lflag(&self) -> u32 {
        u32::from_le_bytes([
            self.termios[12],
            self.termios[13],
            self.termios[14],
            self.termios[15],
        ])
    }

    /// The open file description behind `fd`, for updating its offset or flags.
    pub fn file_mut(&mut self, fds: &FdTable, fd: i32) -> Result<&mut OpenFile, i32> {
        let entry = fds.get(fd)?;
        self.files[entry.file].as_mut().ok_or(EBADF)
    }

    /// A fd table with fds 0, 1 and 2 open on the host console.
    pub fn console_table(&mut self) -> FdTable {
        let mut t = FdTable {
            fds: [None; MAX_FDS],
            limit: MAX_FDS,
        };
        for (n, flags) in [(0u8, O_RDONLY), (1, O_WRONLY), (2, O_WRONLY)] {
            if let Ok(file) = self.new_file(Target::Console(n), flags) {
                self.install(&mut t, n as usize, file, false);
            }
        }
        t
    }

    fn new_file(&mut self, target: Target, flags: u32) -> Result<usize, i32> {
        let slot = self.files.iter().position(|f| f.is_none()).ok_or(ENFILE)?;
        self.files[slot] = Some(OpenFile {
            target,
            flags,
            offset: 0,
            refs: 0,
        });
        #[cfg(feature = "alloc")]
        self.adjust_pipe_ends(target, 1);
        Ok(slot)
    }

    /// What open-file description `index` refers to, if it is open.
    pub fn target_of(&self, index: usize) -> Option<Target> {
        self.files.get(index).copied().flatten().map(|f| f.target)
    }

    /// The open file behind `fd`, or EBADF.
    pub fn file(&self, fds: &FdTable, fd: i32) -> Result<OpenFile, i32> {
        let entry = fds.get(fd)?;
        self.files[entry.file].ok_or(EBADF)
    }

    pub fn set_file_flags(&mut self, fds: &FdTable, fd: i32, flags: u32) -> Result<(), i32> {
        let entry = fds.get(fd)?;
        let file = self.files[entry.file].as_mut().ok_or(EBADF)?;
        file.flags = flags;
        Ok(())
    }

    fn install(&mut self, fds: &mut FdTable, fd: usize, file: usize, cloexec: bool) {
        if let Some(f) = self.files[file].as_mut() {
            f.refs += 1;
        }
        fds.fds[fd] = Some(Fd { file, cloexec });
    }

    /// Open a new file description on `target` at the lowest free fd.
    pub fn open(&mut self, fds: &mut FdTable, target: Target, flags: u32) -> Result<i32, i32> {
        let fd = fds.free_fd(0)?;
        let file = self.new_file(target, flags & !O_CLOEXEC)?;
        self.install(fds, fd, file, flags & O_CLOEXEC != 0);
        Ok(fd as i32)
    }

    /// `dup`/`F_DUPFD`: a new fd (lowest free at or above `min`) sharing `fd`'s description.
    pub fn dup(
        &mut self,
        fds: &mut FdTable,
        fd: i32,
        min: usize,
        cloexec: bool,
    ) -> Result<i32, i32> {
        let entry = fds.get(fd)?;
        let new = fds.free_fd(min)?;
        self.install(fds, new, entry.file, cloexec);
        Ok(new as i32)
    }

    /// `dup3`: make `new` refer to `old`'s description, closing what `new` held.
    pub fn dup_to(
        &mut self,
        fds: &mut FdTable,
        old: i32,
        new: i32,
        cloexec: bool,
    ) -> Result<i32, i32> {
        let entry = fds.get(old)?;
        let new_idx = usize::try_from(new)
            .ok()
            .filter(|&n| n < fds.limit)
            .ok_or(EBADF)?;
        if old == new {
            return Err(EINVAL);
        }
        if fds.fds[new_idx].is_some() {
            self.close(fds, new)?;
        }
        self.install(fds, new_idx, entry.file, cloexec);
        Ok(new)
    }

    /// Close `fd`; the description goes away with its last fd.
    pub fn close(&mut self, fds: &mut FdTable, fd: i32) -> Result<(), i32> {
        let entry = fds.get(fd)?;
        fds.fds[fd as usize] = None;
        self.release(entry.file);
        Ok(())
    }

    fn release(&mut self, file: usize) {
        let Some(f) = self.files[file].as_mut() else {
            return;
        };
        f.refs -= 1;
        if f.refs == 0 {
            let _target = f.target;
            self.files[file] = None;
            #[cfg(feature = "alloc")]
            {
                self.adjust_pipe_ends(_target, -1);
                if let Target::File(ino) = _target {
                    self.released.push(ino);
                }
                self.events.description_closed(file, _target);
            }
        }
    }

    /// A copy of `fds` for a forked child: every description gains a reference.
    pub fn fork(&mut self, fds: &FdTable) -> FdTable {
        for (_, entry) in fds.iter() {
            if let Some(f) = self.files[entry.file].as_mut() {
                f.refs += 1;
            }
        }
        fds.clone()
    }

    /// Close every fd (process exit).
    pub fn close_all(&mut self, fds: &mut FdTable) {
        for fd in 0..MAX_FDS {
            if let Some(entry) = fds.fds[fd].take() {
                self.release(entry.file);
            }
        }
    }

    /// Close the fds marked close-on-exec (execve).
    pub fn close_on_exec(&mut self, fds: &mut FdTable) {
        for fd in 0..MAX_FDS {
            if fds.fds[fd].is_some_and(|e| e.cloexec) {
                if let Some(entry) = fds.fds[fd].take() {
                    self.release(entry.file);
                }
            }
        }
    }

    /// Create a pipe; returns (read fd, write fd).
    #[cfg(feature = "alloc")]
    pub fn pipe(&mut self, fds: &mut FdTable, flags: u32) -> Result<(i32, i32), i32> {
        let id = match self.pipes.iter().position(|p| p.is_none()) {
            Some(i) => i,
            None => {
                self.pipes.push(None);
                self.pipes.len() - 1
            }
        };
        self.pipes[id] = Some(Pipe::default());
        let status = flags & O_NONBLOCK;
        let read = self.open(
            fds,
            Target::PipeRead(id),
            O_RDONLY | status | (flags & O_CLOEXEC),
        );
        let read = match read {
            Ok(fd) => fd,
            Err(e) => {
                self.pipes[id] = None;
                return Err(e);
            }
        };
        match self.open(
            fds,
            Target::PipeWrite(id),
            O_WRONLY | status | (flags & O_CLOEXEC),
        ) {
            Ok(write) => Ok((read, write)),
            Err(e) => {
                let _ = self.close(fds, read);
                Err(e)
            }
        }
    }

    #[cfg(feature = "alloc")]
    fn adjust_pipe_ends(&mut self, target: Target, delta: i32) {
        let (id, reader) = match target {
            Target::PipeRead(id) => (id, true),
            Target::PipeWrite(id) => (id, false),
            _ => return,
        };
        if let Some(Some(p)) = self.pipes.get_mut(id) {
            let count = if reader {
                &mut p.readers
            } else {
                &mut p.writers
            };
            *count = count.saturating_add_signed(delta);
            p.wakeups.closed = p.wakeups.closed.wrapping_add(1);
            if p.readers == 0 && p.writers == 0 {
                self.pipes[id] = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_fds_dup_and_close() {
        let mut files = OpenFiles::new();
        let mut t = files.console_table();
        assert_eq!(files.file(&t, 1).unwrap().target, Target::Console(1));
        let d = files.dup(&mut t, 1, 0, false).unwrap();
        assert_eq!(d, 3);
        files.close(&mut t, d).unwrap();
        assert_eq!(
            files.file(&t, 1).unwrap().target,
            Target::Console(1),
            "closing a dup keeps the original"
        );
        let d = files.dup(&mut t, 1, 0, false).unwrap();
        assert_eq!(files.file(&t, d).unwrap().target, Target::Console(1));
        files.close(&mut t, 1).unwrap();
        assert_eq!(files.file(&t, 1), Err(EBADF));
        assert_eq!(files.file(&t, d).unwrap().target, Target::Console(1));
        assert_eq!(files.dup(&mut t, 1, 0, false), Err(EBADF));
        assert_eq!(files.dup_to(&mut t, d, 1, false), Ok(1));
        assert_eq!(t.get(-1), Err(EBADF));
        assert_eq!(t.get(100000), Err(EBADF));
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn pipe_ends_are_counted_across_fork() {
        let mut files = OpenFiles::new();
        let mut t = files.console_table();
        let (r, w) = files.pipe(&mut t, 0).unwrap();
        assert_eq!((r, w), (3, 4));
        // Ends are counted per open description, which a fork shares.
        let mut child = files.fork(&t);
        assert_eq!(files.pipes[0].as_ref().unwrap().writers, 1);
        files.close(&mut t, w).unwrap();
        assert_eq!(
            files.pipes[0].as_ref().unwrap().writers,
            1,
            "the child still holds it"
        );
        files.close_all(&mut child);
        assert_eq!(files.pipes[0].as_ref().unwrap().writers, 0);
        assert_eq!(files.pipes[0].as_ref().unwrap().readers, 1);
        files.close(&mut t, r).unwrap();
        assert!(files.pipes[0].is_none());
    }

    #[test]
    fn cloexec_fds_close_on_exec() {
        let mut files = OpenFiles::new();
        let mut t = files.console_table();
        let d = files.dup(&mut t, 1, 0, true).unwrap();
        files.close_on_exec(&mut t);
        assert_eq!(t.get(d), Err(EBADF));
        assert!(t.get(1).is_ok());
    }

    #[test]
    fn table_fills_up_with_emfile() {
        let mut files = OpenFiles::new();
        let mut t = files.console_table();
        for _ in 3..MAX_FDS {
            files.dup(&mut t, 0, 0, false).unwrap();
        }
        assert_eq!(files.dup(&mut t, 0, 0, false), Err(EMFILE));
    }
}
