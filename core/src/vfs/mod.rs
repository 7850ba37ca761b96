//! The file system a guest sees: a read-only rootfs (tar or host directory) under a writable overlay, plus /dev and /proc.
//!
//! [`Vfs`] is plain owned data: an inode table over a [`Lower`] layer. Directories of the
//! lower layer are copied into the table the first time they are looked into; from then on
//! the overlay's own entries are the truth, so deleting a name is simply removing it (the
//! lower entry stays hidden) and renames, links and new files work in any directory. A lower
//! file's data is read from the image until the first write or truncate copies it up.
//!
//! Inode numbers are stable for the life of the `Vfs`: a lower node `id` is inode `id + 1`
//! (hard links in the image share one), nodes the guest creates count up from
//! the end of the lower range. Paths are resolved component by component here, with `..`
//! stopping at the root and symlinks (absolute ones included) resolved inside the tree.
//!
//! A caller resolves or opens a path against a directory inode (its cwd or a dirfd),
//! then reads, writes and lists by inode:
//!
//! ```ignore
//! let fd_ino = vfs.open(cx, cwd, b"/etc/passwd", O_RDONLY, 0)?;
//! let n = vfs.read(cx, fd_ino, offset, &mut buf)?;
//! vfs.read_dir(cx, dir_ino, cookie, &mut |entry| { /* copy out; false stops */ true })?;
//! vfs.close(fd_ino);
//! ```
//!
//! What stays with the caller: the access mode, offset and `O_APPEND` of each open file
//! (pass the size as the offset to append); `umask` (apply it to `mode` before `open`,
//! `mkdir`, `mknod`); the terminal behind `/dev/tty` ([`Vfs::device`] says `Tty`); FIFOs
//! and sockets, which the VFS only names; and `/proc/self/fd/N`, which resolves to a link
//! inode that [`Vfs::proc_fd`] identifies so the caller can reopen its own descriptor.
//! Every call that may reach /dev or /proc takes a [`Context`] for the clock, random bytes
//! and what /proc shows of the calling process.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use hashbrown::HashMap;

use crate::host::errno::*;
use crate::host::Timespec;

mod context;
#[cfg(all(feature = "std", unix))]
pub mod host_dir;
mod lower;
mod proc;
pub(crate) mod snapshot;
pub mod tar;
#[cfg(test)]
pub(crate) mod test_tar;
#[cfg(test)]
mod tests;

pub use context::{Context, Mapping, MemoryInfo, ProcessStat, ProcessView};
pub use lower::{Lower, LowerId, LowerLayer, LowerStat, TarLayer};
pub use tar::{ImageBytes, TarError};

use proc::{ProcDir, ProcFile, ProcLink};

/// Longest path Linux accepts, counting the terminating NUL.
pub const PATH_MAX: usize = 4096;
/// Longest file name component.
pub const NAME_MAX: usize = 255;
/// Symlinks followed in one resolution before giving up with ELOOP (Linux's limit).
pub const MAX_SYMLINK_FOLLOWS: u32 = 40;

/// An inode number.
pub type Ino = u64;
/// A Linux errno value (positive).
pub type Errno = i32;
pub type VfsResult<T> = Result<T, Errno>;

/// `open` flags as riscv64 Linux defines them (the generic values).
pub mod flags {
    pub const O_ACCMODE: u32 = 3;
    pub const O_RDONLY: u32 = 0;
    pub const O_WRONLY: u32 = 1;
    pub const O_RDWR: u32 = 2;
    pub const O_CREAT: u32 = 0o100;
    pub const O_EXCL: u32 = 0o200;
    pub const O_NOCTTY: u32 = 0o400;
    pub const O_TRUNC: u32 = 0o1000;
    pub const O_APPEND: u32 = 0o2000;
    pub const O_NONBLOCK: u32 = 0o4000;
    pub const O_DIRECTORY: u32 = 0o200000;
    pub const O_NOFOLLOW: u32 = 0o400000;
    pub const O_CLOEXEC: u32 = 0o2000000;
    pub const O_PATH: u32 = 0o10000000;
    pub const O_TMPFILE: u32 = 0o20000000 | O_DIRECTORY;
    /// `renameat2` flags.
    pub const RENAME_NOREPLACE: u32 = 1;
    pub const RENAME_EXCHANGE: u32 = 2;
    /// File type bits of a mode.
    pub const S_IFMT: u32 = 0o170000;
    pub const S_IFSOCK: u32 = 0o140000;
    pub const S_IFLNK: u32 = 0o120000;
    pub const S_IFREG: u32 = 0o100000;
    pub const S_IFBLK: u32 = 0o060000;
    pub const S_IFDIR: u32 = 0o040000;
    pub const S_IFCHR: u32 = 0o020000;
    pub const S_IFIFO: u32 = 0o010000;
}
use flags::*;

/// Device number in Linux's encoding (`makedev`).
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & !0xff) << 12) | ((major & !0xfff) << 32)
}

/// `st_dev` of the root file system and of /proc.
pub const DEV_ROOT: u64 = makedev(0, 32);
pub const DEV_PROC: u64 = makedev(0, 22);

/// What kind of object an inode is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Regular,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
}

impl FileType {
    /// The `S_IF*` bits of `st_mode`.
    pub fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => S_IFREG,
            FileType::Directory => S_IFDIR,
            FileType::Symlink => S_IFLNK,
            FileType::CharDevice => S_IFCHR,
            FileType::BlockDevice => S_IFBLK,
            FileType::Fifo => S_IFIFO,
            FileType::Socket => S_IFSOCK,
        }
    }

    /// The `DT_*` value of `getdents64`'s `d_type`.
    pub fn dirent_type(self) -> u8 {
        match self {
            FileType::Fifo => 1,
            FileType::CharDevice => 2,
            FileType::Directory => 4,
            FileType::BlockDevice => 6,
            FileType::Regular => 8,
            FileType::Symlink => 10,
            FileType::Socket => 12,
        }
    }

    fn from_mode(mode: u32) -> Option<FileType> {
        Some(match mode & S_IFMT {
            S_IFREG | 0 => FileType::Regular,
            S_IFDIR => FileType::Directory,
            S_IFLNK => FileType::Symlink,
            S_IFCHR => FileType::CharDevice,
            S_IFBLK => FileType::BlockDevice,
            S_IFIFO => FileType::Fifo,
            S_IFSOCK => FileType::Socket,
            _ => return None,
        })
    }
}

/// Character devices the VFS itself serves; the caller handles the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Null,
    Zero,
    Full,
    Random,
    URandom,
    /// `/dev/tty` (5,0): reads and writes are the caller's console.
    Tty,
}

impl Device {
    fn from_rdev(rdev: u64) -> Option<Device> {
        Some(match rdev {
            r if r == makedev(1, 3) => Device::Null,
            r if r == makedev(1, 5) => Device::Zero,
            r if r == makedev(1, 7) => Device::Full,
            r if r == makedev(1, 8) => Device::Random,
            r if r == makedev(1, 9) => Device::URandom,
            r if r == makedev(5, 0) => Device::Tty,
            _ => return None,
        })
    }
}

/// What `stat` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: Ino,
    /// File type and permission bits.
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u32,
    /// 512-byte blocks.
    pub blocks: u64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

/// One entry handed to a [`Vfs::read_dir`] callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirEntry<'a> {
    pub ino: Ino,
    pub kind: FileType,
    pub name: &'a [u8],
    /// Position after this entry: pass it back to continue the listing (getdents64's d_off).
    pub cookie: u64,
}

/// How `utimensat` changes one timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUpdate {
    Now,
    Omit,
    Set(Timespec),
}

/// Entries of an overlay directory, kept in creation order with cookies that never change.
#[derive(Clone, Debug, Default)]
struct Entries {
    by_name: HashMap<Box<[u8]>, u64>,
    by_cookie: BTreeMap<u64, (Box<[u8]>, Ino)>,
    next_cookie: u64,
}

/// Cookies 1 and 2 are `.` and `..`.
const FIRST_COOKIE: u64 = 3;

impl Entries {
    fn get(&self, name: &[u8]) -> Option<Ino> {
        let cookie = self.by_name.get(name)?;
        Some(self.by_cookie[cookie].1)
    }

    fn insert(&mut self, name: &[u8], ino: Ino) {
        if let Some(&cookie) = self.by_name.get(name) {
            // Replacing keeps the position, as a rename over an entry does on Linux.
            self.by_cookie
                .get_mut(&cookie)
                .expect("entry has a cookie")
                .1 = ino;
            return;
        }
        let cookie = self.next_cookie.max(FIRST_COOKIE);
        self.next_cookie = cookie + 1;
        self.by_name.insert(name.into(), cookie);
        self.by_cookie.insert(cookie, (name.into(), ino));
    }

    fn remove(&mut self, name: &[u8]) -> Option<Ino> {
        let cookie = self.by_name.remove(name)?;
        self.by_cookie.remove(&cookie).map(|(_, ino)| ino)
    }

    fn len(&self) -> usize {
        self.by_name.len()
    }
}

#[derive(Clone, Debug)]
struct Dir {
    parent: Ino,
    /// Name in the parent (for `getcwd`); empty for the root.
    name: Box<[u8]>,
    /// Lower directory whose entries are not copied in yet.
    lower: Option<LowerId>,
    entries: Entries,
    /// /proc directories whose entries depend on the caller.
    proc: Option<ProcDir>,
}

#[derive(Clone, Debug)]
enum Body {
    Dir(Box<Dir>),
    /// Regular file still in the lower layer, with its size.
    Lower(LowerId, u64),
    Data(Vec<u8>),
    Symlink(Box<[u8]>),
    Device(Device),
    /// FIFOs, sockets and device nodes without behaviour here: the caller decides.
    Special,
    ProcFile(ProcFile),
    ProcLink(ProcLink),
}

#[derive(Clone, Debug)]
struct Inode {
    kind: FileType,
    perm: u32,
    uid: u32,
    gid: u32,
    nlink: u32,
    rdev: u64,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    on_proc: bool,
    /// References the caller holds through [`Vfs::open`]/[`Vfs::retain`]; an unlinked inode
    /// lives until they are closed.
    opens: u32,
    body: Body,
}

impl Inode {
    fn new(kind: FileType, perm: u32, body: Body, now: Timespec) -> Inode {
        Inode {
            kind,
            perm: perm & 0o7777,
            uid: 0,
            gid: 0,
            nlink: if kind == FileType::Directory { 2 } else { 1 },
            rdev: 0,
            atime: now,
            mtime: now,
            ctime: now,
            on_proc: false,
            opens: 0,
            body,
        }
    }

    fn dir(&self) -> Option<&Dir> {
        match &self.body {
            Body::Dir(dir) => Some(dir),
            _ => None,
        }
    }

    fn dir_mut(&mut self) -> Option<&mut Dir> {
        match &mut self.body {
            Body::Dir(dir) => Some(dir),
            _ => None,
        }
    }

    fn size(&self) -> u64 {
        match &self.body {
            Body::Lower(_, size) => *size,
            Body::Data(data) => data.len() as u64,
            Body::Symlink(target) => target.len() as u64,
            Body::Dir(_) if !self.on_proc => 4096,
            _ => 0,
        }
    }
}

/// Well-known synthetic inodes.
#[derive(Clone, Copy, Debug, Default)]
struct Synthetic {
    proc_root: Ino,
    proc_pid_dir: Ino,
    proc_fd_dir: Ino,
}

/// A guest's file system. See the module documentation.
#[derive(Debug)]
pub struct Vfs {
    lower: Lower,
    inodes: HashMap<Ino, Inode>,
    root: Ino,
    next_ino: Ino,
    synthetic: Synthetic,
    /// Inodes of `/proc/self/fd/N` links, made on first sight of each N.
    proc_fd_inos: HashMap<i32, Ino>,
    max_file_size: u64,
    read_only: bool,
}

/// Default cap on one file's size: overlay data lives in host memory, and a guest's
/// `ftruncate(fd, 1 << 40)` must fail with EFBIG rather than exhaust it.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1 << 30;

impl Vfs {
    /// A VFS over `lower`, with /dev, /proc, /tmp and (if the image lacks them)
    /// `/etc/hosts` and `/etc/resolv.conf` added.
    pub fn new(lower: Lower) -> Vfs {
        let epoch = Timespec::default();
        let mut vfs = Vfs {
            next_ino: lower.first_upper_ino(),
            lower,
            inodes: HashMap::new(),
            root: 0,
            synthetic: Synthetic::default(),
            proc_fd_inos: HashMap::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            read_only: false,
        };
        let lower_root = vfs
            .lower
            .root()
            .and_then(|id| Some((id, vfs.lower.stat(id).ok()?)));
        let root = match lower_root {
            Some((id, stat)) if stat.kind == FileType::Directory => {
                let ino = Ino::from(id) + 1;
                let mut inode =
                    Vfs::inode_from_lower(&stat, Body::Dir(Box::new(Dir::new(ino, b"", Some(id)))));
                inode.nlink = stat.nlink.max(2);
                vfs.inodes.insert(ino, inode);
                ino
            }
            _ => {
                let ino = vfs.alloc_ino();
                let inode = Inode::new(
                    FileType::Directory,
                    0o755,
                    Body::Dir(Box::new(Dir::new(ino, b"", None))),
                    epoch,
                );
                vfs.inodes.insert(ino, inode);
                ino
            }
        };
        vfs.root = root;
        proc::install(&mut vfs);
        vfs
    }

    /// A VFS over a rootfs tar.
    pub fn from_tar(bytes: ImageBytes) -> Result<Vfs, TarError> {
        Ok(Vfs::new(Lower::Tar(TarLayer::new(bytes)?)))
    }

    /// A VFS with no image: only what the guest creates, plus /dev, /proc and /tmp.
    pub fn empty() -> Vfs {
        Vfs::new(Lower::Empty)
    }

    /// A VFS over a host directory (never following a symlink out of it).
    #[cfg(all(feature = "std", unix))]
    pub fn from_host_dir(path: impl Into<std::path::PathBuf>) -> std::io::Result<Vfs> {
        Ok(Vfs::new(Lower::HostDir(host_dir::HostDirLayer::new(
            path.into(),
        )?)))
    }

    /// Every later change fails with EROFS (reads and synthetic files still work).
    pub fn set_read_only(&mut self, read_only: bool) {
        self.read_only = read_only;
    }

    pub fn set_max_file_size(&mut self, bytes: u64) {
        self.max_file_size = bytes;
    }

    pub fn root(&self) -> Ino {
        self.root
    }

    pub fn lower(&self) -> &Lower {
        &self.lower
    }

    fn alloc_ino(&mut self) -> Ino {
        let ino = self.next_ino;
        self.next_ino += 1;
        ino
    }

    fn inode(&self, ino: Ino) -> VfsResult<&Inode> {
        self.inodes.get(&ino).ok_or(ENOENT)
    }

    fn inode_mut(&mut self, ino: Ino) -> VfsResult<&mut Inode> {
        self.inodes.get_mut(&ino).ok_or(ENOENT)
    }

    fn inode_from_lower(stat: &LowerStat, body: Body) -> Inode {
        Inode {
            kind: stat.kind,
            perm: stat.perm & 0o7777,
            uid: stat.uid,
            gid: stat.gid,
            nlink: stat.nlink.max(1),
            rdev: stat.rdev,
            atime: stat.mtime,
            mtime: stat.mtime,
            ctime: stat.mtime,
            on_proc: false,
            opens: 0,
            body,
        }
    }

    /// Copies the entries of a lower directory into the overlay, once.
    fn materialize(&mut self, dir_ino: Ino) -> VfsResult<()> {
        let Some(lower_dir) = self.inode(dir_ino)?.dir().and_then(|d| d.lower) else {
            return Ok(());
        };
        let mut children = Vec::new();
        self.lower.list(lower_dir, &mut children)?;
        for (name, id) in children {
            let ino = Ino::from(id) + 1;
            if !self.inodes.contains_key(&ino) {
                let Ok(stat) = self.lower.stat(id) else {
                    continue;
                };
                let body = match stat.kind {
                    FileType::Directory => Body::Dir(Box::new(Dir::new(dir_ino, &name, Some(id)))),
                    FileType::Regular => Body::Lower(id, stat.size),
                    FileType::Symlink => match self.lower.read_link(id) {
                        Ok(target) => Body::Symlink(target.into()),
                        Err(_) => continue,
                    },
                    FileType::CharDevice => {
                        Device::from_rdev(stat.rdev).map_or(Body::Special, Body::Device)
                    }
                    _ => Body::Special,
                };
                self.inodes.insert(ino, Vfs::inode_from_lower(&stat, body));
            }
            if let Some(dir) = self.inodes.get_mut(&dir_ino).and_then(Inode::dir_mut) {
                dir.entries.insert(&name, ino);
            }
        }
        if let Some(dir) = self.inodes.get_mut(&dir_ino).and_then(Inode::dir_mut) {
            dir.lower = None;
        }
        Ok(())
    }

    /// The inode `name` names in directory `dir` (no symlink is followed).
    fn lookup(&mut self, cx: &mut dyn Context, dir: Ino, name: &[u8]) -> VfsResult<Ino> {
        let inode = self.inode(dir)?;
        let Some(d) = inode.dir() else {
            return Err(ENOTDIR);
        };
        if inode.nlink == 0 {
            return Err(ENOENT);
        }
        if let Some(kind) = d.proc {
            if let Some(ino) = proc::lookup_dynamic(self, cx, kind, name) {
                return Ok(ino);
            }
        }
        self.materialize(dir)?;
        self.inode(dir)?
            .dir()
            .and_then(|d| d.entries.get(name))
            .ok_or(ENOENT)
    }

    fn parent_of(&self, dir: Ino) -> Ino {
        self.inode(dir)
            .ok()
            .and_then(Inode::dir)
            .map_or(self.root, |d| d.parent)
    }

    fn kind(&self, ino: Ino) -> VfsResult<FileType> {
        Ok(self.inode(ino)?.kind)
    }

    /// The target of a symlink inode.
    fn link_target(&mut self, cx: &mut dyn Context, ino: Ino) -> VfsResult<Vec<u8>> {
        match &self.inode(ino)?.body {
            Body::Symlink(target) => Ok(target.to_vec()),
            Body::ProcLink(link) => proc::link_target(*link, cx),
            _ => Err(EINVAL),
        }
    }

    /// Resolves `path` against directory `at` (ignored for absolute paths). With
    /// `follow_last` a final symlink is followed (stat, open); without it the link itself is
    /// returned (lstat, readlink, O_NOFOLLOW). A path ending in `/` must name a directory and
    /// always follows. A final `/proc/self/fd/N` is returned unfollowed: see [`Vfs::proc_fd`].
    pub fn resolve(
        &mut self,
        cx: &mut dyn Context,
        at: Ino,
        path: &[u8],
        follow_last: bool,
    ) -> VfsResult<Ino> {
        if path.is_empty() {
            return Err(ENOENT);
        }
        if path.len() >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        let mut buf = path.to_vec();
        let mut pos = 0;
        let mut dir = if buf[0] == b'/' { self.root } else { at };
        if self.kind(dir)? != FileType::Directory {
            return Err(ENOTDIR);
        }
        let mut follows = 0;
        loop {
            while buf.get(pos) == Some(&b'/') {
                pos += 1;
            }
            if pos == buf.len() {
                return Ok(dir);
            }
            let start = pos;
            while pos < buf.len() && buf[pos] != b'/' {
                pos += 1;
            }
            let name_end = pos;
            let last = buf[name_end..].iter().all(|&b| b == b'/');
            let trailing_slash = last && name_end < buf.len();
            let name = &buf[start..name_end];
            if name.len() > NAME_MAX {
                return Err(ENAMETOOLONG);
            }
            let node = match name {
                b"." => dir,
                b".." => self.parent_of(dir),
                _ => self.lookup(cx, dir, name)?,
            };
            let kind = self.kind(node)?;
            if kind == FileType::Symlink && (!last || follow_last || trailing_slash) {
                if last && !trailing_slash && self.proc_fd(node).is_some() {
                    return Ok(node);
                }
                follows += 1;
                if follows > MAX_SYMLINK_FOLLOWS {
                    return Err(ELOOP);
                }
                let mut next = self.link_target(cx, node)?;
                if next.is_empty() {
                    return Err(ENOENT);
                }
                next.extend_from_slice(&buf[name_end..]);
                if next.len() >= PATH_MAX {
                    return Err(ENAMETOOLONG);
                }
                if next[0] == b'/' {
                    dir = self.root;
                }
                buf = next;
                pos = 0;
                continue;
            }
            if last {
                if trailing_slash && kind != FileType::Directory {
                    return Err(ENOTDIR);
                }
                return Ok(node);
            }
            if kind != FileType::Directory {
                return Err(ENOTDIR);
            }
            dir = node;
        }
    }

    /// Resolves all but the last component: the directory, the last name (`.`, `..` or
    /// empty for `/` are returned as such for the caller to refuse), and whether the path
    /// ended in `/`.
    fn resolve_parent(
        &mut self,
        cx: &mut dyn Context,
        at: Ino,
        path: &[u8],
    ) -> VfsResult<(Ino, Vec<u8>, bool)> {
        if path.is_empty() {
            return Err(ENOENT);
        }
        if path.len() >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        let end = path.iter().rposition(|&b| b != b'/').map_or(0, |i| i + 1);
        let trailing_slash = end < path.len();
        let trimmed = &path[..end];
        if trimmed.is_empty() {
            return Ok((self.root, Vec::new(), true));
        }
        let (dir, name) = match trimmed.iter().rposition(|&b| b == b'/') {
            None => (at, trimmed),
            Some(slash) => {
                let dir_part = &path[..slash + 1];
                (self.resolve(cx, at, dir_part, true)?, &trimmed[slash + 1..])
            }
        };
        if self.kind(dir)? != FileType::Directory {
            return Err(ENOTDIR);
        }
        if name.len() > NAME_MAX {
            return Err(ENAMETOOLONG);
        }
        Ok((dir, name.to_vec(), trailing_slash))
    }

    /// `stat` of an inode.
    pub fn stat(&self, ino: Ino) -> VfsResult<Stat> {
        let inode = self.inode(ino)?;
        let size = inode.size();
        Ok(Stat {
            dev: if inode.on_proc { DEV_PROC } else { DEV_ROOT },
            ino,
            mode: inode.kind.mode_bits() | inode.perm,
            nlink: inode.nlink,
            uid: inode.uid,
            gid: inode.gid,
            rdev: inode.rdev,
            size,
            blksize: 4096,
            blocks: if inode.kind == FileType::Directory && !inode.on_proc {
                8
            } else {
                size.div_ceil(512)
            },
            atime: inode.atime,
            mtime: inode.mtime,
            ctime: inode.ctime,
        })
    }

    /// Resolves `path` and stats it (`follow_last` false for `lstat`).
    pub fn stat_path(
        &mut self,
        cx: &mut dyn Context,
        at: Ino,
        path: &[u8],
        follow_last: bool,
    ) -> VfsResult<Stat> {
        let ino = self.resolve(cx, at, path, follow_last)?;
        self.stat(ino)
    }

    /// The device a character-device inode is, when the VFS knows it.
    pub fn device(&self, ino: Ino) -> Option<Device> {
        match self.inodes.get(&ino)?.body {
            Body::Device(device) => Some(device),
            _ => None,
        }
    }

    /// `Some(n)` when `ino` is `/proc/self/fd/n`: opening it must reopen the caller's fd `n`
    /// (a "magic link", which for a pipe or socket has no path to follow).
    pub fn proc_fd(&self, ino: Ino) -> Option<i32> {
        match self.inodes.get(&ino)?.body {
            Body::ProcLink(ProcLink::Fd(fd)) => Some(fd),
            _ => None,
        }
    }

    /// Opens `path` with Linux `open` flags; `mode` (with the umask already applied) is used
    /// when a file is created. Returns the inode, holding a reference until [`Vfs::close`].
    /// Access mode, `O_APPEND` and `O_NONBLOCK` are the caller's to keep; the VFS checks
    /// `O_CREAT`, `O_EXCL`, `O_TRUNC`, `O_DIRECTORY`, `O_NOFOLLOW`, `O_PATH` and `O_TMPFILE`.
    pub fn open(
        &mut self,
        cx: &mut dyn Context,
        at: Ino,
        path: &[u8],
        flags: u32,
        mode: u32,
    ) -> VfsResult<Ino> {
        let writable = flags & O_ACCMODE != O_RDONLY;
        let ino = if flags & O_TMPFILE == O_TMPFILE {
            let dir = self.resolve(cx, at, path, true)?;
            if self.kind(dir)? != FileType::Directory {
                return Err(ENOTDIR);
            }
            if !writable {
                return Err(EINVAL);
            }
            self.check_writable_dir(dir)?;
            self.new_unlinked_file(cx, mode)
        } else if flags & O_CREAT != 0 {
            self.open_create(cx, at, path, flags, mode, 0)?
        } else {
            let ino = self.resolve(cx, at, path, flags & O_NOFOLLOW == 0)?;
            if self.kind(ino)? == FileType::Symlink
                && flags & O_NOFOLLOW != 0
                && flags & O_PATH == 0
            {
                return Err(ELOOP);
            }
            ino
        };
        let inode = self.inode(ino)?;
        let tmpfile = flags & O_TMPFILE == O_TMPFILE;
        if flags & O_DIRECTORY != 0 && !tmpfile && inode.kind != FileType::Directory {
            return Err(ENOTDIR);
        }
        if flags & O_PATH == 0 {
            if inode.kind == FileType::Directory && (writable || flags & O_CREAT != 0) {
                return Err(EISDIR);
            }
            if writable && inode.on_proc {
                return Err(EACCES);
            }
            if writable && self.read_only && matches!(inode.body, Body::Lower(..) | Body::Data(_)) {
                return Err(EROFS);
            }
            if flags & O_TRUNC != 0
                && inode.kind == FileType::Regular
                && !inode.on_proc
                && inode.size() > 0
            {
                self.truncate(cx, ino, 0)?;
            }
        }
        self.inode_mut(ino)?.opens += 1;
        Ok(ino)
    }

    /// Makes a regular file with no directory entry (for `memfd_create`), holding one
    /// reference: it keeps its data in memory while open and is dropped with its last close,
    /// exactly like an unlinked file. Being nowhere in the tree, a read-only overlay does not
    /// stop it from being created.
    pub fn create_anonymous(&mut self, cx: &mut dyn Context, perm: u32) -> VfsResult<Ino> {
        let ino = self.new_unlinked_file(cx, perm);
        self.inode_mut(ino)?.opens = 1;
        Ok(ino)
    }

    /// An empty in-memory regular file owned by the caller that no directory names (memfd,
    /// O_TMPFILE), not yet open.
    fn new_unlinked_file(&mut self, cx: &mut dyn Context, perm: u32) -> Ino {
        let now = cx.now();
        let ino = self.alloc_ino();
        let mut inode = Inode::new(FileType::Regular, perm, Body::Data(Vec::new()), now);
        inode.nlink = 0;
        inode.uid = cx.uid();
        inode.gid = cx.gid();
        self.inodes.insert(ino, inode);
        ino
    }

    /// Whether `ino` is a regular file in memory that no directory names (memfd, O_TMPFILE,
    /// unlinked): writing it changes nothing a read-only overlay protects.
    fn is_anonymous(&self, ino: Ino) -> bool {
        self.inodes
            .get(&ino)
            .is_some_and(|inode| inode.nlink == 0 && matches!(inode.body, Body::Data(_)))
    }

    fn open_create(
        &mut self,
        cx: &mut dyn Context,
        at: Ino,
        path: &[u8],
        flags: u32,
        mode: u32,
        depth: u32,
    ) -> VfsResult<Ino> {
        let (dir, name, trailing_slash) = self.resolve_parent(cx, at, path)?;
        if name.is_empty() || name == b"." || name == b".." {
            return Err(EISDIR);
        }
        match self.lookup(cx, dir, &name) {
            Ok(node) => {
                if flags & O_EXCL != 0 {
                    return Err(EEXIST);
                }
                if self.kind(node)? != FileType::Symlink {
                    if trailing_slash && self.kind(node)? != FileType::Directory {
                        return Err(ENOTDIR);
                    }
                    return Ok(node);
                }
                if flags & O_NOFOLLOW != 0 {
                    return Err(ELOOP);
                }
                if self.proc_fd(node).is_some() {
                    return Ok(node);
                }
                // O_CREAT through a dangling symlink creates its target, as Linux does.
                if depth + 1 > MAX_SYMLINK_FOLLOWS {
                    return Err(ELOOP);
                }
                let target = self.link_target(cx, node)?;
                if target.is_empty() {
                    return Err(ENOENT);
                }
                self.open_create(cx, dir, &target, flags, mode, depth + 1)
            }
            Err(ENOENT) => {
                if trailing_slash {
                    return Err(EISDIR);
                }
                self.create_node(
                    cx,
                    dir,
                    &name,
                    FileType::Regular,
                    mode,
                    Body::Data(Vec::new()),
                    0,
                )
            }
            Err(e) => Err(e),
        }
    }

    /// Fails unless new names may be added to `dir`.
    fn check_writable_dir(&self, dir: Ino) -> VfsResult<()> {
        let inode = self.inode(dir)?;
        if inode.kind != FileType::Directory {
            return Err(ENOTDIR);
        }
        if inode.nlink == 0 {
            return Err(ENOENT);
        }
        if inode.on_proc {
            return Err(EACCES);
        }
        if self.read_only {
            return Err(EROFS);
        }
        Ok(())
    }

    /// Adds a new inode named `name` in `dir` (which must not have that name yet).
    #[allow(clippy::too_many_arguments)]
    fn create_node(
        &mut self,
        cx: &mut dyn Context,
        dir: Ino,
        name: &[u8],
        kind: FileType,
        perm: u32,
        body: Body,
        rdev: u64,
    ) -> VfsResult<Ino> {
        self.check_writable_dir(dir)?;
        let now = cx.now();
        let ino = self.alloc_ino();
        let mut inode = Inode::new(kind, perm, body, now);
        inode.uid = cx.uid();
        inode.gid = cx.gid();
        inode.rdev = rdev;
        if let Some(new_dir) = inode.dir_mut() {
            new_dir.parent = dir;
            new_dir.name = name.into();
        }
        self.inodes.insert(ino, inode);
        self.add_entry(dir, name, ino, now)?;
        if kind == FileType::Directory {
            self.inode_mut(dir)?.nlink += 1;
        }
        Ok(ino)
    }

    fn add_entry(&mut self, dir: Ino, name: &[u8], ino: Ino, now: Timespec) -> VfsResult<()> {
        self.materialize(dir)?;
        let inode = self.inode_mut(dir)?;
        inode.mtime = now;
        inode.ctime = now;
        inode.dir_mut().ok_or(ENOTDIR)?.entries.insert(name, ino);
        Ok(())
    }

    /// Drops one reference taken by [`Vfs::open`] or [`Vfs::retain`].
    pub fn close(&mut self, ino: Ino) {
        if let Some(inode) = self.inodes.get_mut(&ino) {
            inode.opens = inode.opens.saturating_sub(1);
        }
        self.drop_if_unused(ino);
    }

    /// Takes another reference (a dup'd descriptor, a working directory).
    pub fn retain(&mut self, ino: Ino) -> VfsResult<()> {
        self.inode_mut(ino)?.opens += 1;
        Ok(())
    }

    fn drop_if_unused(&mut self, ino: Ino) {
        if ino == self.root {
            return;
        }
        if self
            .inodes
            .get(&ino)
            .is_some_and(|inode| inode.nlink == 0 && inode.opens == 0)
        {
            self.inodes.remove(&ino);
        }
    }

    /// Reads at `offset`; 0 at end of file.
    pub fn read(
        &mut self,
        cx: &mut dyn Context,
        ino: Ino,
        offset: u64,
        buf: &mut [u8],
    ) -> VfsResult<usize> {
        let inode = self.inode(ino)?;
        match &inode.body {
            Body::Data(data) => {
                let Ok(start) = usize::try_from(offset) else {
                    return Ok(0);
                };
                if start >= data.len() {
                    return Ok(0);
                }
                let count = (data.len() - start).min(buf.len());
                buf[..count].copy_from_slice(&data[start..start + count]);
                Ok(count)
            }
            Body::Lower(id, _) => {
                let id = *id;
                self.lower.read(id, offset, buf)
            }
            Body::Dir(_) => Err(EISDIR),
            Body::Device(Device::Null) => Ok(0),
            Body::Device(Device::Zero | Device::Full) => {
                buf.fill(0);
                Ok(buf.len())
            }
            Body::Device(Device::Random | Device::URandom) => {
                cx.random(buf);
                Ok(buf.len())
            }
            Body::Device(Device::Tty) | Body::Special => Err(ENXIO),
            Body::Symlink(_) | Body::ProcLink(_) => Err(EINVAL),
            Body::ProcFile(file) => {
                let file = *file;
                let mut text = Vec::new();
                proc::generate(self, file, cx, &mut text);
                let Ok(start) = usize::try_from(offset) else {
                    return Ok(0);
                };
                if start >= text.len() {
                    return Ok(0);
                }
                let count = (text.len() - start).min(buf.len());
                buf[..count].copy_from_slice(&text[start..start + count]);
                Ok(count)
            }
        }
    }

    /// Writes at `offset` (the caller passes the file size for `O_APPEND`), extending the
    /// file with zeros across any gap. The first write copies a lower file up.
    pub fn write(
        &mut self,
        cx: &mut dyn Context,
        ino: Ino,
        offset: u64,
        data: &[u8],
    ) -> VfsResult<usize> {
        match self.inode(ino)?.body {
            Body::Device(Device::Null | Device::Zero | Device::Random | Device::URandom) => {
                return Ok(data.len())
            }
            Body::Device(Device::Full) => return Err(ENOSPC),
            Body::Device(Device::Tty) | Body::Special => return Err(ENXIO),
            Body::Dir(_) => return Err(EISDIR),
            Body::Symlink(_) | Body::ProcLink(_) => return Err(EBADF),
            Body::ProcFile(_) => return Err(EACCES),
            Body::Lower(..) | Body::Data(_) => {}
        }
        if self.read_only && !self.is_anonymous(ino) {
            return Err(EROFS);
        }
        let end = offset.checked_add(data.len() as u64).ok_or(EFBIG)?;
        if end > self.max_file_size {
            return Err(EFBIG);
        }
        let now = cx.now();
        let bytes = self.data_mut(ino)?;
        // Both fit: `end` is within max_file_size, which a 32-bit host may have set high.
        let start = usize::try_from(offset).map_err(|_| EFBIG)?;
        let end = usize::try_from(end).map_err(|_| EFBIG)?;
        if bytes.len() < end {
            bytes.try_reserve(end - bytes.len()).map_err(|_| ENOSPC)?;
            if bytes.len() < start {
                bytes.resize(start, 0);
            }
            let overlap = bytes.len() - start;
            bytes[start..].copy_from_slice(&data[..overlap]);
            bytes.extend_from_slice(&data[overlap..]);
        } else {
            bytes[start..end].copy_from_slice(data);
        }
        let inode = self.inode_mut(ino)?;
        inode.mtime = now;
        inode.ctime = now;
        Ok(data.len())
    }

    /// Sets a regular file's size, zero-filling growth.
    pub fn truncate(&mut self, cx: &mut dyn Context, ino: Ino, len: u64) -> VfsResult<()> {
        match self.inode(ino)?.body {
            Body::Dir(_) => return Err(EISDIR),
            Body::Lower(..) | Body::Data(_) => {}
            Body::ProcFile(_) => return Err(EACCES),
            _ => return Err(EINVAL),
        }
        if self.read_only && !self.is_anonymous(ino) {
            return Err(EROFS);
        }
        if len > self.max_file_size {
            return Err(EFBIG);
        }
        let now = cx.now();
        let bytes = self.data_mut_keeping(ino, len)?;
        let len = usize::try_from(len).map_err(|_| EFBIG)?;
        if len > bytes.len() {
            bytes.try_reserve(len - bytes.len()).map_err(|_| ENOSPC)?;
        }
        bytes.resize(len, 0);
        let inode = self.inode_mut(ino)?;
        inode.mtime = now;
        inode.ctime = now;
        Ok(())
    }

    /// The overlay's copy of a regular file's data, copying a lower file up first.
    fn data_mut(&mut self, ino: Ino) -> VfsResult<&mut Vec<u8>> {
        self.data_mut_keeping(ino, u64::MAX)
    }

    /// Like [`Vfs::data_mut`], copying up at most `keep` bytes (a truncate needs no more).
    fn data_mut_keeping(&mut self, ino: Ino, keep: u64) -> VfsResult<&mut Vec<u8>> {
        if let Body::Lower(id, size) = self.inode(ino)?.body {
            let size = usize::try_from(size.min(keep)).map_err(|_| EFBIG)?;
            let mut data = Vec::new();
            data.try_reserve_exact(size).map_err(|_| ENOSPC)?;
            data.resize(size, 0);
            let mut done = 0;
            while done < size {
                let n = self.lower.read(id, done as u64, &mut data[done..])?;
                if n == 0 {
                    break;
                }
                done += n;
            }
            data.truncate(done);
            self.inode_mut(ino)?.body = Body::Data(data);
        }
        match &mut self.inode_mut(ino)?.body {
            Body::Data(data) => Ok(data),
            _ => Err(EINVAL),
        }
    }

    /// A regular file's whole content without copying, when it is in memory (overlay data or
    /// a tar image); `None` for other files, which [`Vfs::read`] serves. For loading ELF
    /// images and file mappings.
    pub fn contents(&self, ino: Ino) -> Option<&[u8]> {
        match &self.inodes.get(&ino)?.body {
            Body::Data(data) => Some(data),
            Body::Lower(id, _) => match &self.lower {
                Lower::Tar(tar) => tar.file_bytes(*id),
                _ => None,
            },
            _ => None,
        }
    }

    /// `faccessat` for a caller with root's powers: the path must resolve, and `X_OK` (1)
    /// needs an execute bit on a non-directory; `W_OK` (2) fails with EROFS on /proc
    /// files or a read-only VFS.
    pub fn access(
        &mut self,
        cx: &mut dyn Context,
        at: Ino,
        path: &[u8],
        mode: u32,
        follow_last: bool,
    ) -> VfsResult<()> {
        let ino = self.resolve(cx, at, path, follow_last)?;
        let inode = self.inode(ino)?;
        if mode & 1 != 0 && inode.kind != FileType::Directory && inode.perm & 0o111 == 0 {
            return Err(EACCES);
        }
        if mode & 2 != 0 && (inode.on_proc && inode.kind == FileType::Regular) {
            return Err(EACCES);
        }
        if mode & 2 != 0
            && self.read_only
            && matches!(inode.body, Body::Lower(..) | Body::Data(_) | Body::Dir(_))
        {
            return Err(EROFS);
        }
        Ok(())
    }

    /// Lists directory `ino` from position `cookie` (0 to start): `.`, `..`, then the entries.
    /// `emit` returns `false` when it has no room, and that entry is offered again on the
    /// next call with the last accepted entry's cookie.
    pub fn read_dir(
        &mut self,
        cx: &mut dyn Context,
        ino: Ino,
        cookie: u64,
        emit: &mut dyn FnMut(&DirEntry<'_>) -> bool,
    ) -> VfsResult<()> {
        let inode = self.inode(ino)?;
        let dir = inode.dir().ok_or(ENOTDIR)?;
        if inode.nlink == 0 {
            return Ok(());
        }
        let parent = dir.parent;
        let proc_kind = dir.proc;
        for (position, name, target) in [(1, &b"."[..], ino), (2, &b".."[..], parent)] {
            if cookie < position {
                let entry = DirEntry {
                    ino: target,
                    kind: FileType::Directory,
                    name,
                    cookie: position,
                };
                if !emit(&entry) {
                    return Ok(());
                }
            }
        }
        self.materialize(ino)?;
        let dir = self.inode(ino)?.dir().ok_or(ENOTDIR)?;
        for (&position, (name, child)) in dir
            .entries
            .by_cookie
            .range(cookie.max(2).saturating_add(1)..)
        {
            let Some(child_inode) = self.inodes.get(child) else {
                continue;
            };
            let entry = DirEntry {
                ino: *child,
                kind: child_inode.kind,
                name,
                cookie: position,
            };
            if !emit(&entry) {
                return Ok(());
            }
        }
        if let Some(kind) = proc_kind {
            proc::list_dynamic(self, cx, kind, cookie, emit);
        }
        Ok(())
    }

    /// The target of symlink `ino` (EINVAL if it is not one).
    pub fn read_link(&mut self, cx: &mut dyn Context, ino: Ino) -> VfsResult<Vec<u8>> {
        self.link_target(cx, ino)
    }

    /// `readlinkat`: resolves without following the last component, then reads the link.
    pub fn readlink(&mut self, cx: &mut dyn Context, at: Ino, path: &[u8]) -> VfsResult<Vec<u8>> {
        let ino = self.resolve(cx, at, path, false)?;
        self.link_target(cx, ino)
    }

    pub fn mkdir(
        &mut self,
        cx: &mut dyn Context,
        at: Ino,
        path: &[u8],
        mode: u32,
    ) -> VfsResult<Ino> {
        let (dir, name, _) = self.resolve_parent(cx, at, path)?;
        if name.is_empty() || name == b"." || name == b".." {
            return Err(EEXIST);
        }
        match self.lookup(cx, dir, &name) {
            Ok(_) => return Err(EEXIST),
            Err(ENOENT) => {}
            Err(e) => return Err(e),
        }
        let body = Body::Dir(Box::new(Dir::new(dir, &name, None)));
        self.create_node(cx, dir, &name, FileType::Directory, mode, body, 0)
    }

    /// `mknodat`: regular files, FIFOs, sockets and device nodes (`mode` carries the type).
    pub fn mknod(
        &mut self,
        cx: &mut dyn Context,
        at: Ino,
        path: &[u8],
        mode: u32,
        rdev: u64,
    ) -> VfsResult<Ino> {
        let kind = FileType::from_mode(mode).ok_or(EINVAL)?;
        let body = match kind {
            FileType::Regular => Body::Data(Vec::new()),
            FileType::Directory | FileType::Symlink => return Err(EINVAL),
            FileType::CharDevice => Device::from_rdev(rdev).map_or(Body::Special, Body::Device),
            _ => Body::Special,
        };
        let rdev = if matches!(kind, FileType::CharDevice | FileType::BlockDevice) {
            rdev
        } else {
            0
        };
        let (dir, name, trailing_slash) = self.resolve_parent(cx, at, path)?;
        if name.is_empty() || name == b"." || name == b".." {
            return Err(EEXIST);
        }
        match self.lookup(cx, dir, &name) {
            Ok(_) => return Err(EEXIST),
            Err(ENOENT) if trailing_slash => return Err(ENOENT),
            Err(ENOENT) => {}
            Err(e) => return Err(e),
        }
        self.create_node(cx, dir, &name, kind, mode, body, rdev)
    }

    /// `symlinkat(target, at, path)`.
    pub fn symlink(
        &mut self,
        cx: &mut dyn Context,
        target: &[u8],
        at: Ino,
        path: &[u8],
    ) -> VfsResult<Ino> {
        if target.is_empty() {
            return Err(ENOENT);
        }
        if target.len() >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        let (dir, name, trailing_slash) = self.resolve_parent(cx, at, path)?;
        if name.is_empty() || name == b"." || name == b".." {
            return Err(EEXIST);
        }
        match self.lookup(cx, dir, &name) {
            Ok(_) => return Err(EEXIST),
            Err(ENOENT) if trailing_slash => return Err(ENOENT),
            Err(ENOENT) => {}
            Err(e) => return Err(e),
        }
        self.create_node(
            cx,
            dir,
            &name,
            FileType::Symlink,
            0o777,
            Body::Symlink(target.into()),
            0,
        )
    }

    /// `linkat`: a new name for the object at `old_path` (`follow` is AT_SYMLINK_FOLLOW).
    pub fn link(
        &mut self,
        cx: &mut dyn Context,
        old_at: Ino,
        old_path: &[u8],
        new_at: Ino,
        new_path: &[u8],
        follow: bool,
    ) -> VfsResult<()> {
        let source = self.resolve(cx, old_at, old_path, follow)?;
        self.link_inode(cx, source, new_at, new_path)
    }

    /// `linkat` with AT_EMPTY_PATH: a name for an open inode (an `O_TMPFILE` gets its first).
    pub fn link_inode(
        &mut self,
        cx: &mut dyn Context,
        source: Ino,
        new_at: Ino,
        new_path: &[u8],
    ) -> VfsResult<()> {
        let inode = self.inode(source)?;
        if inode.kind == FileType::Directory {
            return Err(EPERM);
        }
        if inode.on_proc {
            return Err(EXDEV);
        }
        if inode.nlink == 0 && !matches!(inode.body, Body::Data(_)) {
            return Err(ENOENT);
        }
        let (dir, name, trailing_slash) = self.resolve_parent(cx, new_at, new_path)?;
        if name.is_empty() || name == b"." || name == b".." {
            return Err(EEXIST);
        }
        match self.lookup(cx, dir, &name) {
            Ok(_) => return Err(EEXIST),
            Err(ENOENT) if trailing_slash => return Err(ENOENT),
            Err(ENOENT) => {}
            Err(e) => return Err(e),
        }
        if self.inode(dir)?.on_proc {
            return Err(EXDEV);
        }
        self.check_writable_dir(dir)?;
        let now = cx.now();
        self.add_entry(dir, &name, source, now)?;
        let inode = self.inode_mut(source)?;
        inode.nlink += 1;
        inode.ctime = now;
        Ok(())
    }

    /// `unlinkat` without AT_REMOVEDIR.
    pub fn unlink(&mut self, cx: &mut dyn Context, at: Ino, path: &[u8]) -> VfsResult<()> {
        let (dir, name, trailing_slash) = self.resolve_parent(cx, at, path)?;
        if name.is_empty() || name == b"." || name == b".." {
            return Err(EISDIR);
        }
        let target = self.lookup(cx, dir, &name)?;
        let kind = self.kind(target)?;
        if kind == FileType::Directory {
            return Err(EISDIR);
        }
        if trailing_slash {
            return Err(ENOTDIR);
        }
        self.check_writable_dir(dir)?;
        let now = cx.now();
        self.remove_entry(dir, &name, now)?;
        self.drop_link(target, now);
        Ok(())
    }

    /// `unlinkat` with AT_REMOVEDIR.
    pub fn rmdir(&mut self, cx: &mut dyn Context, at: Ino, path: &[u8]) -> VfsResult<()> {
        let (dir, name, _) = self.resolve_parent(cx, at, path)?;
        match &name[..] {
            b"" => return Err(EBUSY),
            b"." => return Err(EINVAL),
            b".." => return Err(ENOTEMPTY),
            _ => {}
        }
        let target = self.lookup(cx, dir, &name)?;
        if self.kind(target)? != FileType::Directory {
            return Err(ENOTDIR);
        }
        self.check_writable_dir(dir)?;
        if target == self.root {
            return Err(EBUSY);
        }
        self.materialize(target)?;
        if self
            .inode(target)?
            .dir()
            .is_some_and(|d| d.entries.len() > 0)
        {
            return Err(ENOTEMPTY);
        }
        let now = cx.now();
        self.remove_entry(dir, &name, now)?;
        self.drop_link(target, now);
        Ok(())
    }

    fn remove_entry(&mut self, dir: Ino, name: &[u8], now: Timespec) -> VfsResult<Ino> {
        self.materialize(dir)?;
        let inode = self.inode_mut(dir)?;
        inode.mtime = now;
        inode.ctime = now;
        inode
            .dir_mut()
            .ok_or(ENOTDIR)?
            .entries
            .remove(name)
            .ok_or(ENOENT)
    }

    /// One name of `ino` is gone: a directory is dead (and its parent loses a link), a file
    /// loses a link; either is freed once nothing refers to it.
    fn drop_link(&mut self, ino: Ino, now: Timespec) {
        let Some(inode) = self.inodes.get_mut(&ino) else {
            return;
        };
        inode.ctime = now;
        if let Some(dir) = inode.dir() {
            let parent = dir.parent;
            inode.nlink = 0;
            if let Some(parent) = self.inodes.get_mut(&parent) {
                parent.nlink = parent.nlink.saturating_sub(1);
            }
        } else {
            inode.nlink = inode.nlink.saturating_sub(1);
        }
        self.drop_if_unused(ino);
    }

    /// `renameat2` with `RENAME_NOREPLACE` / `RENAME_EXCHANGE` flags (0 for plain rename).
    pub fn rename(
        &mut self,
        cx: &mut dyn Context,
        old_at: Ino,
        old_path: &[u8],
        new_at: Ino,
        new_path: &[u8],
        flags: u32,
    ) -> VfsResult<()> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0
            || flags & RENAME_NOREPLACE != 0 && flags & RENAME_EXCHANGE != 0
        {
            return Err(EINVAL);
        }
        let (old_dir, old_name, old_slash) = self.resolve_parent(cx, old_at, old_path)?;
        let (new_dir, new_name, new_slash) = self.resolve_parent(cx, new_at, new_path)?;
        for name in [&old_name, &new_name] {
            if name.is_empty() || &name[..] == b"." || &name[..] == b".." {
                return Err(EBUSY);
            }
        }
        let source = self.lookup(cx, old_dir, &old_name)?;
        let source_kind = self.kind(source)?;
        if (old_slash || new_slash) && source_kind != FileType::Directory {
            return Err(ENOTDIR);
        }
        let target = match self.lookup(cx, new_dir, &new_name) {
            Ok(ino) => Some(ino),
            Err(ENOENT) => None,
            Err(e) => return Err(e),
        };
        let (old_proc, new_proc) = (self.inode(old_dir)?.on_proc, self.inode(new_dir)?.on_proc);
        if old_proc != new_proc {
            return Err(EXDEV);
        }
        self.check_writable_dir(old_dir)?;
        self.check_writable_dir(new_dir)?;
        if flags & RENAME_EXCHANGE != 0 {
            let target = target.ok_or(ENOENT)?;
            return self.exchange(
                cx,
                (old_dir, &old_name, source),
                (new_dir, &new_name, target),
            );
        }
        if let Some(target) = target {
            if flags & RENAME_NOREPLACE != 0 {
                return Err(EEXIST);
            }
            if target == source {
                return Ok(());
            }
            let target_kind = self.kind(target)?;
            if source_kind == FileType::Directory {
                if target_kind != FileType::Directory {
                    return Err(ENOTDIR);
                }
                self.materialize(target)?;
                if self
                    .inode(target)?
                    .dir()
                    .is_some_and(|d| d.entries.len() > 0)
                {
                    return Err(ENOTEMPTY);
                }
            } else if target_kind == FileType::Directory {
                return Err(EISDIR);
            }
        }
        if source_kind == FileType::Directory && self.is_within(new_dir, source) {
            return Err(EINVAL);
        }
        let now = cx.now();
        if let Some(target) = target {
            self.remove_entry(new_dir, &new_name, now)?;
            self.drop_link(target, now);
        }
        self.remove_entry(old_dir, &old_name, now)?;
        self.add_entry(new_dir, &new_name, source, now)?;
        self.moved(source, old_dir, new_dir, &new_name, now);
        Ok(())
    }

    /// Bookkeeping after `ino` moved from `old_dir` to `new_dir` under `name`.
    fn moved(&mut self, ino: Ino, old_dir: Ino, new_dir: Ino, name: &[u8], now: Timespec) {
        let Some(inode) = self.inodes.get_mut(&ino) else {
            return;
        };
        inode.ctime = now;
        let Some(dir) = inode.dir_mut() else { return };
        dir.parent = new_dir;
        dir.name = name.into();
        if old_dir != new_dir {
            if let Some(old) = self.inodes.get_mut(&old_dir) {
                old.nlink = old.nlink.saturating_sub(1);
            }
            if let Some(new) = self.inodes.get_mut(&new_dir) {
                new.nlink += 1;
            }
        }
    }

    fn exchange(
        &mut self,
        cx: &mut dyn Context,
        a: (Ino, &[u8], Ino),
        b: (Ino, &[u8], Ino),
    ) -> VfsResult<()> {
        let ((a_dir, a_name, a_ino), (b_dir, b_name, b_ino)) = (a, b);
        if a_ino == b_ino {
            return Ok(());
        }
        let a_is_dir = self.kind(a_ino)? == FileType::Directory;
        let b_is_dir = self.kind(b_ino)? == FileType::Directory;
        if a_is_dir && self.is_within(b_dir, a_ino) || b_is_dir && self.is_within(a_dir, b_ino) {
            return Err(EINVAL);
        }
        let now = cx.now();
        self.add_entry(a_dir, a_name, b_ino, now)?;
        self.add_entry(b_dir, b_name, a_ino, now)?;
        self.moved(a_ino, a_dir, b_dir, b_name, now);
        self.moved(b_ino, b_dir, a_dir, a_name, now);
        Ok(())
    }

    /// Whether directory `ino` is `ancestor` or lies below it.
    fn is_within(&self, mut ino: Ino, ancestor: Ino) -> bool {
        loop {
            if ino == ancestor {
                return true;
            }
            let parent = self.parent_of(ino);
            if parent == ino {
                return false;
            }
            ino = parent;
        }
    }

    fn check_attr_change(&self, ino: Ino) -> VfsResult<()> {
        if self.inode(ino)?.on_proc {
            return Err(EPERM);
        }
        if self.read_only {
            return Err(EROFS);
        }
        Ok(())
    }

    /// `chmod`: sets the permission bits (`mode & 0o7777`).
    pub fn chmod(&mut self, cx: &mut dyn Context, ino: Ino, mode: u32) -> VfsResult<()> {
        self.check_attr_change(ino)?;
        let now = cx.now();
        let inode = self.inode_mut(ino)?;
        inode.perm = mode & 0o7777;
        inode.ctime = now;
        Ok(())
    }

    /// `chown`: `None` leaves that id unchanged (the -1 of the system call).
    pub fn chown(
        &mut self,
        cx: &mut dyn Context,
        ino: Ino,
        uid: Option<u32>,
        gid: Option<u32>,
    ) -> VfsResult<()> {
        self.check_attr_change(ino)?;
        let now = cx.now();
        let inode = self.inode_mut(ino)?;
        if let Some(uid) = uid {
            inode.uid = uid;
        }
        if let Some(gid) = gid {
            inode.gid = gid;
        }
        inode.ctime = now;
        Ok(())
    }

    /// `utimensat` on an inode.
    pub fn set_times(
        &mut self,
        cx: &mut dyn Context,
        ino: Ino,
        atime: TimeUpdate,
        mtime: TimeUpdate,
    ) -> VfsResult<()> {
        self.check_attr_change(ino)?;
        let now = cx.now();
        let inode = self.inode_mut(ino)?;
        for (slot, update) in [(&mut inode.atime, atime), (&mut inode.mtime, mtime)] {
            match update {
                TimeUpdate::Now => *slot = now,
                TimeUpdate::Set(time) => *slot = time,
                TimeUpdate::Omit => {}
            }
        }
        if atime != TimeUpdate::Omit || mtime != TimeUpdate::Omit {
            inode.ctime = now;
        }
        Ok(())
    }

    /// The absolute path of directory `ino` (`getcwd`); ENOENT once it has been removed.
    pub fn path_of(&self, ino: Ino) -> VfsResult<Vec<u8>> {
        let mut names: Vec<&[u8]> = Vec::new();
        let mut cur = ino;
        while cur != self.root {
            let inode = self.inode(cur)?;
            let dir = inode.dir().ok_or(ENOTDIR)?;
            if inode.nlink == 0 {
                return Err(ENOENT);
            }
            names.push(&dir.name);
            cur = dir.parent;
            if names.len() > PATH_MAX {
                return Err(ENAMETOOLONG);
            }
        }
        let mut path = Vec::new();
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if path.is_empty() {
            path.push(b'/');
        }
        Ok(path)
    }
}

impl Dir {
    fn new(parent: Ino, name: &[u8], lower: Option<LowerId>) -> Dir {
        Dir {
            parent,
            name: name.into(),
            lower,
            entries: Entries::default(),
            proc: None,
        }
    }
}
