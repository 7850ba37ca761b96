//! File-system system calls over the machine's VFS: open, stat, directories, links, file I/O and file mmap.

use alloc::vec::Vec;

use super::fd::{self, OpenFiles, Target};
use super::{err, nr, Process, Stop, Sys, SysResult};
use crate::host::{errno::*, Clock, Host, Timespec};
use crate::vfs::{self, Context, FileType, Ino, Mapping, Stat, TimeUpdate, Vfs};

const AT_FDCWD: i32 = -100;
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
const AT_REMOVEDIR: u64 = 0x200;
const AT_SYMLINK_FOLLOW: u64 = 0x400;
const AT_EMPTY_PATH: u64 = 0x1000;
/// Largest single read or write moved in one call (keeps host buffers bounded).
const IO_CHUNK: u64 = 1 << 20;

/// What the VFS sees of the calling process during one system call.
pub(super) struct Cx<'a, H: Host + ?Sized> {
    pub p: &'a mut Process,
    pub host: &'a mut H,
    pub files: &'a OpenFiles,
}

impl<H: Host + ?Sized> Context for Cx<'_, H> {
    fn now(&mut self) -> Timespec {
        if self.p.config.deterministic {
            return Timespec::default();
        }
        self.host.now(Clock::Realtime).unwrap_or_default()
    }
    fn random(&mut self, buf: &mut [u8]) {
        self.p.random_bytes(self.host, buf);
    }
    fn pid(&self) -> i32 {
        self.p.pid
    }
    fn exe(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.p.exe);
    }
    fn cwd(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.p.cwd[..self.p.cwd_len]);
    }
    fn cmdline(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.p.cmdline);
    }
    fn open_fds(&self, out: &mut Vec<i32>) {
        out.extend(self.p.fds.iter().map(|(fd, _)| fd));
    }
    fn fd_path(&self, fd: i32, out: &mut Vec<u8>) -> bool {
        let Ok(file) = self.files.file(&self.p.fds, fd) else {
            return false;
        };
        match file.target {
            Target::Console(_) => out.extend_from_slice(b"/dev/console"),
            Target::PipeRead(id) | Target::PipeWrite(id) => {
                out.extend_from_slice(alloc::format!("pipe:[{}]", 4000 + id).as_bytes())
            }
            Target::File(ino) => {
                out.extend_from_slice(alloc::format!("/proc/self/fd/{fd}:{ino}").as_bytes())
            }
            Target::Event(id) => {
                out.extend_from_slice(b"anon_inode:");
                out.extend_from_slice(self.files.events.kind_name(id).as_bytes());
            }
        }
        true
    }
    fn maps(&self, out: &mut Vec<Mapping>) {
        for r in self.p.maps.iter() {
            out.push(Mapping {
                start: r.start,
                end: r.end,
                read: r.prot & 1 != 0,
                write: r.prot & 2 != 0,
                exec: r.prot & 4 != 0,
                ..Mapping::default()
            });
        }
        if self.p.brk > self.p.brk_start {
            out.push(Mapping {
                start: self.p.brk_start,
                end: (self.p.brk + 0xfff) & !0xfff,
                read: true,
                write: true,
                path: b"[heap]".to_vec(),
                ..Mapping::default()
            });
        }
        out.push(Mapping {
            start: self.p.stack_top - self.p.config.stack_size,
            end: self.p.stack_top,
            read: true,
            write: true,
            path: b"[stack]".to_vec(),
            ..Mapping::default()
        });
        out.sort_by_key(|m| m.start);
    }
}

/// A uid/gid argument of chown: -1 leaves it unchanged.
fn owner_id(v: u64) -> Option<u32> {
    (v as u32 != u32::MAX).then_some(v as u32)
}

/// Split a device number into Linux's major and minor.
fn major_minor(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major as u32, minor as u32)
}

/// The riscv64 (asm-generic) `struct stat`.
fn stat_bytes(st: &Stat) -> [u8; 128] {
    let mut b = [0u8; 128];
    b[0..8].copy_from_slice(&st.dev.to_le_bytes());
    b[8..16].copy_from_slice(&st.ino.to_le_bytes());
    b[16..20].copy_from_slice(&st.mode.to_le_bytes());
    b[20..24].copy_from_slice(&st.nlink.to_le_bytes());
    b[24..28].copy_from_slice(&st.uid.to_le_bytes());
    b[28..32].copy_from_slice(&st.gid.to_le_bytes());
    b[32..40].copy_from_slice(&st.rdev.to_le_bytes());
    b[48..56].copy_from_slice(&st.size.to_le_bytes());
    b[56..60].copy_from_slice(&st.blksize.to_le_bytes());
    b[64..72].copy_from_slice(&st.blocks.to_le_bytes());
    for (at, t) in [(72, st.atime), (88, st.mtime), (104, st.ctime)] {
        b[at..at + 8].copy_from_slice(&t.secs.to_le_bytes());
        b[at + 8..at + 16].copy_from_slice(&u64::from(t.nanos).to_le_bytes());
    }
    b
}

/// `struct statx` with the basic fields filled.
fn statx_bytes(st: &Stat) -> [u8; 256] {
    const STATX_BASIC_STATS: u32 = 0x7ff;
    let mut b = [0u8; 256];
    b[0..4].copy_from_slice(&STATX_BASIC_STATS.to_le_bytes());
    b[4..8].copy_from_slice(&st.blksize.to_le_bytes());
    b[16..20].copy_from_slice(&st.nlink.to_le_bytes());
    b[20..24].copy_from_slice(&st.uid.to_le_bytes());
    b[24..28].copy_from_slice(&st.gid.to_le_bytes());
    b[28..30].copy_from_slice(&(st.mode as u16).to_le_bytes());
    b[32..40].copy_from_slice(&st.ino.to_le_bytes());
    b[40..48].copy_from_slice(&st.size.to_le_bytes());
    b[48..56].copy_from_slice(&st.blocks.to_le_bytes());
    for (at, t) in [
        (64, st.atime),
        (80, st.ctime),
        (96, st.ctime),
        (112, st.mtime),
    ] {
        b[at..at + 8].copy_from_slice(&t.secs.to_le_bytes());
        b[at + 8..at + 12].copy_from_slice(&t.nanos.to_le_bytes());
    }
    let (rmaj, rmin) = major_minor(st.rdev);
    let (dmaj, dmin) = major_minor(st.dev);
    for (at, v) in [(128, rmaj), (132, rmin), (136, dmaj), (140, dmin)] {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    b
}

impl<H: Host + ?Sized> Sys<'_, H> {
    /// Run `f` against the VFS with this process as its context.
    fn vfs<T>(
        &mut self,
        f: impl FnOnce(&mut Vfs, &mut dyn Context) -> vfs::VfsResult<T>,
    ) -> Result<T, Stop> {
        let Some(vfs) = self.vfs.as_deref_mut() else {
            return err(ENOENT).map(|_| unreachable!());
        };
        let mut cx = Cx {
            p: &mut *self.p,
            host: &mut *self.host,
            files: &*self.files,
        };
        f(vfs, &mut cx).map_err(Stop::Errno)
    }

    /// A guest path argument, copied out (at most PATH_MAX bytes).
    fn path(&self, addr: u64) -> Result<Vec<u8>, Stop> {
        let len = self
            .mem
            .c_str_len(addr, vfs::PATH_MAX as u64)
            .map_err(|_| Stop::Errno(EFAULT))?;
        if len as usize >= vfs::PATH_MAX {
            return err(ENAMETOOLONG).map(|_| unreachable!());
        }
        Ok(self.mem.slice(addr, len)?.to_vec())
    }

    /// The directory a `*at` call is relative to.
    fn dir_of(&mut self, dirfd: i32, path: &[u8]) -> Result<Ino, Stop> {
        if path.first() == Some(&b'/') || dirfd == AT_FDCWD {
            return Ok(self.cwd_ino());
        }
        match self
            .files
            .file(&self.p.fds, dirfd)
            .map_err(Stop::Errno)?
            .target
        {
            Target::File(ino) => Ok(ino),
            _ => err(ENOTDIR).map(|_| unreachable!()),
        }
    }

    pub(super) fn cwd_ino(&self) -> Ino {
        match self.vfs.as_deref() {
            Some(v) if self.p.cwd_ino == 0 => v.root(),
            _ => self.p.cwd_ino,
        }
    }

    pub(super) fn release_closed(&mut self) {
        if let Some(vfs) = self.vfs.as_deref_mut() {
            for ino in self.files.released.drain(..) {
                vfs.close(ino);
            }
        } else {
            self.files.released.clear();
        }
    }

    pub(super) fn file_syscall(&mut self, number: u64, a: [u64; 6]) -> Option<SysResult> {
        Some(match number {
            nr::OPENAT => self.openat(a[0] as i32, a[1], a[2] as u32, a[3] as u32),
            nr::MEMFD_CREATE => self.memfd_create(a[0], a[1]),
            nr::NEWFSTATAT => self.fstatat(a[0] as i32, a[1], a[2], a[3]),
            nr::STATX => self.statx(a[0] as i32, a[1], a[2], a[4]),
            nr::FACCESSAT | nr::FACCESSAT2 => {
                let path = match self.path(a[1]) {
                    Ok(p) => p,
                    Err(e) => return Some(Err(e)),
                };
                let follow = a[3] & AT_SYMLINK_NOFOLLOW == 0;
                self.dir_of(a[0] as i32, &path)
                    .and_then(|at| self.vfs(|v, cx| v.stat_path(cx, at, &path, follow)))
                    .map(|_| 0)
            }
            nr::READLINKAT => self.readlinkat(a[0] as i32, a[1], a[2], a[3]),
            nr::GETDENTS64 => self.getdents64(a[0] as i32, a[1], a[2]),
            nr::MKDIRAT => self.path_op(a[0] as i32, a[1], |v, cx, at, p, umask| {
                v.mkdir(cx, at, p, (a[2] as u32 & 0o7777) & !umask)
                    .map(|_| ())
            }),
            nr::MKNODAT => self.path_op(a[0] as i32, a[1], |v, cx, at, p, umask| {
                let mode = a[2] as u32;
                v.mknod(
                    cx,
                    at,
                    p,
                    (mode & !0o7777) | ((mode & 0o7777) & !umask),
                    a[3],
                )
                .map(|_| ())
            }),
            nr::UNLINKAT => self.path_op(a[0] as i32, a[1], |v, cx, at, p, _| {
                if a[2] & AT_REMOVEDIR != 0 {
                    v.rmdir(cx, at, p)
                } else {
                    v.unlink(cx, at, p)
                }
            }),
            nr::SYMLINKAT => match self.path(a[0]) {
                Ok(target) => self.path_op(a[1] as i32, a[2], |v, cx, at, p, _| {
                    v.symlink(cx, &target, at, p).map(|_| ())
                }),
                Err(e) => Err(e),
            },
            nr::LINKAT => self.two_path_op(
                a[0] as i32,
                a[1],
                a[2] as i32,
                a[3],
                |v, cx, o, op, n, np| v.link(cx, o, op, n, np, a[4] & AT_SYMLINK_FOLLOW != 0),
            ),
            nr::RENAMEAT | nr::RENAMEAT2 => {
                let flags = if number == nr::RENAMEAT2 {
                    a[4] as u32
                } else {
                    0
                };
                self.two_path_op(
                    a[0] as i32,
                    a[1],
                    a[2] as i32,
                    a[3],
                    |v, cx, o, op, n, np| v.rename(cx, o, op, n, np, flags),
                )
            }
            nr::FCHMODAT => self.ino_at(a[0] as i32, a[1], true).and_then(|ino| {
                self.vfs(|v, cx| v.chmod(cx, ino, a[2] as u32 & 0o7777))
                    .map(|_| 0)
            }),
            nr::FCHMOD => self.ino_of_fd(a[0] as i32).and_then(|ino| {
                self.vfs(|v, cx| v.chmod(cx, ino, a[1] as u32 & 0o7777))
                    .map(|_| 0)
            }),
            nr::FCHOWNAT => self
                .ino_at(a[0] as i32, a[1], a[4] & AT_SYMLINK_NOFOLLOW == 0)
                .and_then(|ino| {
                    self.vfs(|v, cx| v.chown(cx, ino, owner_id(a[2]), owner_id(a[3])))
                        .map(|_| 0)
                }),
            nr::FCHOWN => self.ino_of_fd(a[0] as i32).and_then(|ino| {
                self.vfs(|v, cx| v.chown(cx, ino, owner_id(a[1]), owner_id(a[2])))
                    .map(|_| 0)
            }),
            nr::UTIMENSAT => self.utimensat(a[0] as i32, a[1], a[2], a[3]),
            nr::FTRUNCATE => self.ino_of_fd(a[0] as i32).and_then(|ino| {
                let file = self
                    .files
                    .file(&self.p.fds, a[0] as i32)
                    .map_err(Stop::Errno)?;
                if file.flags & fd::O_ACCMODE == fd::O_RDONLY {
                    return err(EINVAL);
                }
                self.vfs(|v, cx| v.truncate(cx, ino, a[1])).map(|_| 0)
            }),
            nr::TRUNCATE => self
                .ino_at(AT_FDCWD, a[0], true)
                .and_then(|ino| self.vfs(|v, cx| v.truncate(cx, ino, a[1])).map(|_| 0)),
            nr::FSYNC | nr::FDATASYNC => self
                .files
                .file(&self.p.fds, a[0] as i32)
                .map(|_| 0)
                .map_err(Stop::Errno),
            nr::CHDIR => self
                .ino_at(AT_FDCWD, a[0], true)
                .and_then(|ino| self.chdir(ino)),
            nr::FCHDIR => self.ino_of_fd(a[0] as i32).and_then(|ino| self.chdir(ino)),
            nr::STATFS | nr::FSTATFS => {
                if number == nr::STATFS {
                    if let Err(e) = self.ino_at(AT_FDCWD, a[0], true) {
                        return Some(Err(e));
                    }
                } else if let Err(e) = self.files.file(&self.p.fds, a[0] as i32) {
                    return Some(err(e));
                }
                let mut b = [0u8; 120];
                b[0..8].copy_from_slice(&0x0102_1994u64.to_le_bytes());
                b[8..16].copy_from_slice(&4096u64.to_le_bytes());
                b[16..24].copy_from_slice(&(1u64 << 20).to_le_bytes());
                b[24..32].copy_from_slice(&(1u64 << 19).to_le_bytes());
                b[32..40].copy_from_slice(&(1u64 << 19).to_le_bytes());
                b[56..64].copy_from_slice(&255u64.to_le_bytes());
                self.mem
                    .write_bytes(a[1], &b)
                    .map(|_| 0)
                    .map_err(Stop::from)
            }
            _ => return None,
        })
    }

    fn openat(&mut self, dirfd: i32, path_addr: u64, flags: u32, mode: u32) -> SysResult {
        let path = self.path(path_addr)?;
        let at = self.dir_of(dirfd, &path)?;
        let umask = self.p.umask;
        let ino = self.vfs(|v, cx| v.open(cx, at, &path, flags, mode & 0o7777 & !umask))?;
        // /proc/self/fd/N (and /dev/stdin, /dev/fd/N through it) reopens what fd N refers to.
        if let Some(n) = self.vfs.as_deref().and_then(|v| v.proc_fd(ino)) {
            if let Some(v) = self.vfs.as_deref_mut() {
                v.close(ino);
            }
            let cloexec = flags & fd::O_CLOEXEC != 0;
            return self
                .files
                .dup(&mut self.p.fds, n, 0, cloexec)
                .map(|fd| fd as u64)
                .map_err(Stop::Errno);
        }
        let target = match self.vfs.as_deref().and_then(|v| v.device(ino)) {
            Some(vfs::Device::Tty) => {
                if let Some(v) = self.vfs.as_deref_mut() {
                    v.close(ino);
                }
                Target::Console(0)
            }
            _ => Target::File(ino),
        };
        let keep = fd::O_ACCMODE | fd::O_APPEND | fd::O_NONBLOCK | fd::O_CLOEXEC;
        match self.files.open(&mut self.p.fds, target, flags & keep) {
            Ok(fd) => Ok(fd as u64),
            Err(e) => {
                if let (Target::File(ino), Some(v)) = (target, self.vfs.as_deref_mut()) {
                    v.close(ino);
                }
                err(e)
            }
        }
    }

    /// `memfd_create`: an O_RDWR regular file in memory with no name in the tree. Sealing is
    /// accepted as a flag but not implemented (F_ADD_SEALS/F_GET_SEALS answer EINVAL), and
    /// hugetlb files are not offered.
    fn memfd_create(&mut self, name_addr: u64, flags: u64) -> SysResult {
        const MFD_CLOEXEC: u64 = 1;
        const MFD_ALLOW_SEALING: u64 = 2;
        const MFD_NOEXEC_SEAL: u64 = 8;
        const MFD_EXEC: u64 = 0x10;
        // NAME_MAX less the "memfd:" prefix Linux puts before the name.
        const MFD_NAME_MAX: u64 = 249;
        let known = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC;
        if flags & !known != 0 || flags & (MFD_NOEXEC_SEAL | MFD_EXEC) == MFD_NOEXEC_SEAL | MFD_EXEC
        {
            return err(EINVAL);
        }
        // A name with no NUL in its first 250 readable bytes is too long; one that runs off
        // guest memory before that is a bad pointer.
        let window = MFD_NAME_MAX + 1;
        match self.mem.c_str_len(name_addr, window) {
            Ok(_) => {}
            Err(fault) if fault.addr == name_addr.saturating_add(window) => return err(EINVAL),
            Err(_) => return err(EFAULT),
        }
        // Linux makes memfds 0777 whatever the umask, 0666 when sealed against execution.
        let perm = if flags & MFD_NOEXEC_SEAL != 0 {
            0o666
        } else {
            0o777
        };
        let ino = self.vfs(|v, cx| v.create_anonymous(cx, perm))?;
        let mut status = fd::O_RDWR;
        if flags & MFD_CLOEXEC != 0 {
            status |= fd::O_CLOEXEC;
        }
        match self.files.open(&mut self.p.fds, Target::File(ino), status) {
            Ok(fd) => Ok(fd as u64),
            Err(e) => {
                if let Some(v) = self.vfs.as_deref_mut() {
                    v.close(ino);
                }
                err(e)
            }
        }
    }

    fn ino_of_fd(&self, fd: i32) -> Result<Ino, Stop> {
        match self
            .files
            .file(&self.p.fds, fd)
            .map_err(Stop::Errno)?
            .target
        {
            Target::File(ino) => Ok(ino),
            _ => err(EINVAL).map(|_| unreachable!()),
        }
    }

    fn ino_at(&mut self, dirfd: i32, path_addr: u64, follow: bool) -> Result<Ino, Stop> {
        let path = self.path(path_addr)?;
        let at = self.dir_of(dirfd, &path)?;
        self.vfs(|v, cx| v.resolve(cx, at, &path, follow))
    }

    fn path_op(
        &mut self,
        dirfd: i32,
        path_addr: u64,
        f: impl FnOnce(&mut Vfs, &mut dyn Context, Ino, &[u8], u32) -> vfs::VfsResult<()>,
    ) -> SysResult {
        let path = self.path(path_addr)?;
        let at = self.dir_of(dirfd, &path)?;
        let umask = self.p.umask;
        self.vfs(|v, cx| f(v, cx, at, &path, umask))?;
        Ok(0)
    }

    #[allow(clippy::type_complexity)]
    fn two_path_op(
        &mut self,
        old_fd: i32,
        old_addr: u64,
        new_fd: i32,
        new_addr: u64,
        f: impl FnOnce(&mut Vfs, &mut dyn Context, Ino, &[u8], Ino, &[u8]) -> vfs::VfsResult<()>,
    ) -> SysResult {
        let old = self.path(old_addr)?;
        let new = self.path(new_addr)?;
        let old_at = self.dir_of(old_fd, &old)?;
        let new_at = self.dir_of(new_fd, &new)?;
        self.vfs(|v, cx| f(v, cx, old_at, &old, new_at, &new))?;
        Ok(0)
    }

    /// Stat of `dirfd`+`path`, honouring AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW.
    fn stat_at(&mut self, dirfd: i32, path_addr: u64, flags: u64) -> Result<Option<Stat>, Stop> {
        let path = self.path(path_addr)?;
        if path.is_empty() {
            if flags & AT_EMPTY_PATH == 0 {
                return err(ENOENT).map(|_| unreachable!());
            }
            if dirfd == AT_FDCWD {
                let cwd = self.cwd_ino();
                return self.vfs(|v, _| v.stat(cwd)).map(Some);
            }
            return match self
                .files
                .file(&self.p.fds, dirfd)
                .map_err(Stop::Errno)?
                .target
            {
                Target::File(ino) => self.vfs(|v, _| v.stat(ino)).map(Some),
                // Console and pipes: the caller fills in what it knows.
                _ => Ok(None),
            };
        }
        let at = self.dir_of(dirfd, &path)?;
        let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
        self.vfs(|v, cx| v.stat_path(cx, at, &path, follow))
            .map(Some)
    }

    fn fstatat(&mut self, dirfd: i32, path_addr: u64, buf: u64, flags: u64) -> SysResult {
        match self.stat_at(dirfd, path_addr, flags)? {
            Some(st) => {
                self.mem.write_bytes(buf, &stat_bytes(&st))?;
                Ok(0)
            }
            None => self.fstat(dirfd, buf),
        }
    }

    fn statx(&mut self, dirfd: i32, path_addr: u64, flags: u64, buf: u64) -> SysResult {
        let st = match self.stat_at(dirfd, path_addr, flags)? {
            Some(st) => st,
            None => {
                // Console or pipe: reuse fstat's answer.
                let mut tmp = [0u8; 128];
                self.fstat_into(dirfd, &mut tmp)?;
                Stat {
                    ino: u64::from_le_bytes(tmp[8..16].try_into().unwrap_or_default()),
                    mode: u32::from_le_bytes(tmp[16..20].try_into().unwrap_or_default()),
                    nlink: 1,
                    blksize: 4096,
                    ..Stat::default()
                }
            }
        };
        self.mem.write_bytes(buf, &statx_bytes(&st))?;
        Ok(0)
    }

    fn readlinkat(&mut self, dirfd: i32, path_addr: u64, buf: u64, size: u64) -> SysResult {
        let path = self.path(path_addr)?;
        if size == 0 || size > i32::MAX as u64 {
            return err(EINVAL);
        }
        if path.is_empty() {
            return err(ENOENT);
        }
        let at = self.dir_of(dirfd, &path)?;
        let target = self.vfs(|v, cx| v.readlink(cx, at, &path))?;
        let n = target.len().min(size as usize);
        self.mem.write_bytes(buf, &target[..n])?;
        Ok(n as u64)
    }

    fn getdents64(&mut self, fd: i32, buf: u64, count: u64) -> SysResult {
        let file = self.files.file(&self.p.fds, fd).map_err(Stop::Errno)?;
        let Target::File(ino) = file.target else {
            return err(ENOTDIR);
        };
        let count = count.min(1 << 20) as usize;
        self.mem.slice(buf, count as u64)?;
        let mut out: Vec<u8> = Vec::new();
        let mut next = file.offset;
        let mut too_small = false;
        self.vfs(|v, cx| {
            v.read_dir(cx, ino, file.offset, &mut |e| {
                let reclen = (19 + e.name.len() + 1).next_multiple_of(8);
                if out.len() + reclen > count {
                    too_small = out.is_empty();
                    return false;
                }
                let start = out.len();
                out.resize(start + reclen, 0);
                let rec = &mut out[start..];
                rec[0..8].copy_from_slice(&e.ino.to_le_bytes());
                rec[8..16].copy_from_slice(&e.cookie.to_le_bytes());
                rec[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
                rec[18] = e.kind.dirent_type();
                rec[19..19 + e.name.len()].copy_from_slice(e.name);
                next = e.cookie;
                true
            })
        })?;
        if too_small {
            return err(EINVAL);
        }
        self.mem.write_bytes(buf, &out)?;
        if let Ok(f) = self.files.file_mut(&self.p.fds, fd) {
            f.offset = next;
        }
        Ok(out.len() as u64)
    }

    fn utimensat(&mut self, dirfd: i32, path_addr: u64, times: u64, flags: u64) -> SysResult {
        const UTIME_NOW: u64 = (1 << 30) - 1;
        const UTIME_OMIT: u64 = (1 << 30) - 2;
        let ino = if path_addr == 0 {
            self.ino_of_fd(dirfd)?
        } else {
            self.ino_at(dirfd, path_addr, flags & AT_SYMLINK_NOFOLLOW == 0)?
        };
        let mut updates = [TimeUpdate::Now, TimeUpdate::Now];
        if times != 0 {
            for (i, u) in updates.iter_mut().enumerate() {
                let secs = self.mem.read_u64(times + 16 * i as u64)?;
                let nanos = self.mem.read_u64(times + 16 * i as u64 + 8)?;
                *u = match nanos {
                    UTIME_NOW => TimeUpdate::Now,
                    UTIME_OMIT => TimeUpdate::Omit,
                    n if n < 1_000_000_000 => TimeUpdate::Set(Timespec {
                        secs: secs as i64,
                        nanos: n as u32,
                    }),
                    _ => return err(EINVAL),
                };
            }
        }
        self.vfs(|v, cx| v.set_times(cx, ino, updates[0], updates[1]))?;
        Ok(0)
    }

    fn chdir(&mut self, ino: Ino) -> SysResult {
        let vfs = self.vfs.as_deref().ok_or(Stop::Errno(ENOENT))?;
        if vfs.stat(ino).map_err(Stop::Errno)?.mode & 0o170000 != FileType::Directory.mode_bits() {
            return err(ENOTDIR);
        }
        let path = vfs.path_of(ino).map_err(Stop::Errno)?;
        if path.len() >= self.p.cwd.len() {
            return err(ENAMETOOLONG);
        }
        self.p.set_cwd(&path);
        self.p.cwd_ino = ino;
        Ok(0)
    }

    /// read/pread on a file-system object; `at` is the explicit offset for pread.
    pub(super) fn file_read(
        &mut self,
        fd: i32,
        ino: Ino,
        buf: u64,
        len: u64,
        at: Option<u64>,
    ) -> SysResult {
        let offset = match at {
            Some(o) => o,
            None => {
                self.files
                    .file(&self.p.fds, fd)
                    .map_err(Stop::Errno)?
                    .offset
            }
        };
        let len = len.min(IO_CHUNK);
        let mut tmp = alloc::vec![0u8; len as usize];
        let n = self.vfs(|v, cx| v.read(cx, ino, offset, &mut tmp))?;
        self.mem.write_bytes(buf, &tmp[..n])?;
        if at.is_none() {
            if let Ok(f) = self.files.file_mut(&self.p.fds, fd) {
                f.offset = offset + n as u64;
            }
        }
        Ok(n as u64)
    }

    pub(super) fn file_write(
        &mut self,
        fd: i32,
        ino: Ino,
        buf: u64,
        len: u64,
        at: Option<u64>,
    ) -> SysResult {
        let file = self.files.file(&self.p.fds, fd).map_err(Stop::Errno)?;
        let offset = match at {
            Some(o) => o,
            None if file.flags & fd::O_APPEND != 0 => self.vfs(|v, _| v.stat(ino))?.size,
            None => file.offset,
        };
        let len = len.min(IO_CHUNK);
        let data = self.mem.slice(buf, len)?.to_vec();
        let n = self.vfs(|v, cx| v.write(cx, ino, offset, &data))?;
        if at.is_none() {
            if let Ok(f) = self.files.file_mut(&self.p.fds, fd) {
                f.offset = offset + n as u64;
            }
        }
        Ok(n as u64)
    }

    pub(super) fn file_lseek(&mut self, fd: i32, ino: Ino, offset: i64, whence: u64) -> SysResult {
        const SEEK_SET: u64 = 0;
        const SEEK_CUR: u64 = 1;
        const SEEK_END: u64 = 2;
        let file = self.files.file(&self.p.fds, fd).map_err(Stop::Errno)?;
        let st = self.vfs(|v, _| v.stat(ino))?;
        if st.mode & 0o170000 == FileType::Directory.mode_bits() {
            // Directory positions are listing cookies; only rewinding is meaningful.
            if whence == SEEK_SET && offset == 0 {
                self.files
                    .file_mut(&self.p.fds, fd)
                    .map_err(Stop::Errno)?
                    .offset = 0;
                return Ok(0);
            }
            return err(EINVAL);
        }
        let base = match whence {
            SEEK_SET => 0,
            SEEK_CUR => file.offset as i64,
            SEEK_END => st.size as i64,
            _ => return err(EINVAL),
        };
        let new = base
            .checked_add(offset)
            .filter(|&n| n >= 0)
            .ok_or(Stop::Errno(EINVAL))?;
        self.files
            .file_mut(&self.p.fds, fd)
            .map_err(Stop::Errno)?
            .offset = new as u64;
        Ok(new as u64)
    }

    pub(super) fn file_stat(&mut self, ino: Ino, buf: u64) -> SysResult {
        let st = self.vfs(|v, _| v.stat(ino))?;
        self.mem.write_bytes(buf, &stat_bytes(&st))?;
        Ok(0)
    }

    /// Copy `len` bytes of file `ino` from `offset` into guest memory at `addr` (private file mmap).
    pub(super) fn map_file(
        &mut self,
        ino: Ino,
        offset: u64,
        addr: u64,
        len: u64,
    ) -> Result<(), Stop> {
        let mut done = 0;
        let mut tmp = alloc::vec![0u8; len.min(IO_CHUNK) as usize];
        while done < len {
            let want = (len - done).min(tmp.len() as u64) as usize;
            let n = self.vfs(|v, cx| v.read(cx, ino, offset + done, &mut tmp[..want]))?;
            if n == 0 {
                break;
            }
            self.mem.write_bytes(addr + done, &tmp[..n])?;
            done += n as u64;
        }
        Ok(())
    }
}
