//! Synthetic nodes: /dev devices and links, the /proc tree generated from the caller's [`Context`], and /etc defaults.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt::Write;

use super::{Body, Context, Device, Dir, DirEntry, FileType, Ino, Inode, Mapping, Vfs};
use crate::host::errno::*;
use crate::host::Timespec;

/// /proc directories whose entries depend on the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProcDir {
    /// `/proc`: also has an entry named by the caller's pid.
    Root,
    /// `/proc/<pid>` (reached as `/proc/self`).
    Pid,
    /// `/proc/self/fd`: one link per open descriptor.
    Fd,
}

/// Generated read-only files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProcFile {
    CpuInfo,
    MemInfo,
    Mounts,
    Maps,
    Stat,
    Status,
    Cmdline,
}

/// Symlinks whose targets come from the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProcLink {
    /// `/proc/self` → the pid.
    SelfPid,
    Exe,
    Cwd,
    Fd(i32),
}

/// Cookie of the first caller-dependent entry of a /proc directory; the fixed entries
/// come before it.
const DYNAMIC_COOKIE: u64 = 1 << 40;

/// The context used while building the tree, before any caller exists.
struct Setup;

impl Context for Setup {
    fn random(&mut self, buf: &mut [u8]) {
        buf.fill(0);
    }
}

/// Adds /dev, /proc, /tmp and the /etc defaults to a fresh VFS.
pub(crate) fn install(vfs: &mut Vfs) {
    let root = vfs.root;
    let dev = ensure_dir(vfs, root, b"dev", 0o755, true).unwrap_or(root);
    let devices = [
        (&b"null"[..], Device::Null, 1, 3),
        (b"zero", Device::Zero, 1, 5),
        (b"full", Device::Full, 1, 7),
        (b"random", Device::Random, 1, 8),
        (b"urandom", Device::URandom, 1, 9),
        (b"tty", Device::Tty, 5, 0),
    ];
    for (name, device, major, minor) in devices {
        let mut inode = Inode::new(
            FileType::CharDevice,
            0o666,
            Body::Device(device),
            Timespec::default(),
        );
        inode.rdev = super::makedev(major, minor);
        put_node(vfs, dev, name, inode);
    }
    for (name, target) in [
        (&b"stdin"[..], &b"/proc/self/fd/0"[..]),
        (b"stdout", b"/proc/self/fd/1"),
        (b"stderr", b"/proc/self/fd/2"),
        (b"fd", b"/proc/self/fd"),
    ] {
        let inode = Inode::new(
            FileType::Symlink,
            0o777,
            Body::Symlink(target.into()),
            Timespec::default(),
        );
        put_node(vfs, dev, name, inode);
    }
    ensure_dir(vfs, dev, b"shm", 0o1777, false);
    ensure_dir(vfs, dev, b"pts", 0o755, false);

    let proc_root = put_node(vfs, root, b"proc", proc_dir(ProcDir::Root, 0o555));
    let self_link = proc_inode(FileType::Symlink, 0o777, Body::ProcLink(ProcLink::SelfPid));
    put_node(vfs, proc_root, b"self", self_link);
    for (name, file) in [
        (&b"cpuinfo"[..], ProcFile::CpuInfo),
        (b"meminfo", ProcFile::MemInfo),
        (b"mounts", ProcFile::Mounts),
    ] {
        put_node(
            vfs,
            proc_root,
            name,
            proc_inode(FileType::Regular, 0o444, Body::ProcFile(file)),
        );
    }
    // /proc/<pid> is reached through a dynamic entry, so it is in no entry list.
    let pid_dir = vfs.alloc_ino();
    let mut inode = proc_dir(ProcDir::Pid, 0o555);
    if let Some(dir) = inode.dir_mut() {
        dir.parent = proc_root;
        dir.name = (*b"self").into();
    }
    vfs.inodes.insert(pid_dir, inode);
    let fd_dir = put_node(vfs, pid_dir, b"fd", proc_dir(ProcDir::Fd, 0o500));
    for (name, link) in [(&b"exe"[..], ProcLink::Exe), (b"cwd", ProcLink::Cwd)] {
        put_node(
            vfs,
            pid_dir,
            name,
            proc_inode(FileType::Symlink, 0o777, Body::ProcLink(link)),
        );
    }
    for (name, file) in [
        (&b"maps"[..], ProcFile::Maps),
        (b"stat", ProcFile::Stat),
        (b"status", ProcFile::Status),
        (b"cmdline", ProcFile::Cmdline),
        (b"mounts", ProcFile::Mounts),
    ] {
        put_node(
            vfs,
            pid_dir,
            name,
            proc_inode(FileType::Regular, 0o444, Body::ProcFile(file)),
        );
    }
    vfs.synthetic.proc_root = proc_root;
    vfs.synthetic.proc_pid_dir = pid_dir;
    vfs.synthetic.proc_fd_dir = fd_dir;

    ensure_dir(vfs, root, b"tmp", 0o1777, false);
    if let Some(etc) = ensure_dir(vfs, root, b"etc", 0o755, false) {
        let defaults = [
            (
                &b"hosts"[..],
                &b"127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n"[..],
            ),
            (b"resolv.conf", b"nameserver 127.0.0.1\n"),
        ];
        for (name, content) in defaults {
            // Only a name the image does not have at all: a dangling symlink is the image's choice.
            if vfs.lookup(&mut Setup, etc, name) == Err(ENOENT) {
                let inode = Inode::new(
                    FileType::Regular,
                    0o644,
                    Body::Data(content.to_vec()),
                    Timespec::default(),
                );
                put_node(vfs, etc, name, inode);
            }
        }
    }
}

fn proc_inode(kind: FileType, perm: u32, body: Body) -> Inode {
    let mut inode = Inode::new(kind, perm, body, Timespec::default());
    inode.on_proc = true;
    inode
}

fn proc_dir(kind: ProcDir, perm: u32) -> Inode {
    let mut dir = Dir::new(0, b"", None);
    dir.proc = Some(kind);
    proc_inode(FileType::Directory, perm, Body::Dir(Box::new(dir)))
}

/// Names `inode` as `name` in `dir`, replacing whatever had that name.
fn put_node(vfs: &mut Vfs, dir: Ino, name: &[u8], mut inode: Inode) -> Ino {
    let now = Timespec::default();
    if let Ok(old) = vfs.lookup(&mut Setup, dir, name) {
        let _ = vfs.remove_entry(dir, name, now);
        vfs.drop_link(old, now);
    }
    let is_dir = inode.kind == FileType::Directory;
    if let Some(d) = inode.dir_mut() {
        d.parent = dir;
        d.name = name.into();
    }
    let ino = vfs.alloc_ino();
    vfs.inodes.insert(ino, inode);
    let _ = vfs.add_entry(dir, name, ino, now);
    if is_dir {
        if let Ok(parent) = vfs.inode_mut(dir) {
            parent.nlink += 1;
        }
    }
    ino
}

/// The directory `name` in `dir`: the existing one, or a new one when the name is free (or
/// taken by a non-directory and `replace` is set). `None` when something else keeps the name.
fn ensure_dir(vfs: &mut Vfs, dir: Ino, name: &[u8], perm: u32, replace: bool) -> Option<Ino> {
    match vfs.lookup(&mut Setup, dir, name) {
        Ok(ino) if vfs.kind(ino) == Ok(FileType::Directory) => Some(ino),
        Ok(_) if !replace => None,
        _ => {
            let inode = Inode::new(
                FileType::Directory,
                perm,
                Body::Dir(Box::new(Dir::new(dir, name, None))),
                Timespec::default(),
            );
            Some(put_node(vfs, dir, name, inode))
        }
    }
}

fn decimal(value: i64) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = write!(Out(&mut out), "{value}");
    out
}

/// Parses a descriptor number the way the kernel names them (no sign, no leading zeros).
fn parse_fd(name: &[u8]) -> Option<i32> {
    if name.is_empty() || name.len() > 10 || (name.len() > 1 && name[0] == b'0') {
        return None;
    }
    core::str::from_utf8(name).ok()?.parse::<i32>().ok()
}

/// Entries of a /proc directory that depend on the caller.
pub(crate) fn lookup_dynamic(
    vfs: &mut Vfs,
    cx: &mut dyn Context,
    kind: ProcDir,
    name: &[u8],
) -> Option<Ino> {
    match kind {
        ProcDir::Root if name == decimal(i64::from(cx.pid())) => Some(vfs.synthetic.proc_pid_dir),
        ProcDir::Fd => {
            let fd = parse_fd(name)?;
            let mut path = Vec::new();
            cx.fd_path(fd, &mut path).then(|| fd_link(vfs, fd))
        }
        _ => None,
    }
}

/// The inode of `/proc/self/fd/<fd>`, made on first use.
fn fd_link(vfs: &mut Vfs, fd: i32) -> Ino {
    if let Some(&ino) = vfs.proc_fd_inos.get(&fd) {
        return ino;
    }
    let ino = vfs.alloc_ino();
    vfs.inodes.insert(
        ino,
        proc_inode(FileType::Symlink, 0o700, Body::ProcLink(ProcLink::Fd(fd))),
    );
    vfs.proc_fd_inos.insert(fd, ino);
    ino
}

/// Lists the caller-dependent entries after `cookie`.
pub(crate) fn list_dynamic(
    vfs: &mut Vfs,
    cx: &mut dyn Context,
    kind: ProcDir,
    cookie: u64,
    emit: &mut dyn FnMut(&DirEntry<'_>) -> bool,
) {
    match kind {
        ProcDir::Root if cookie < DYNAMIC_COOKIE => {
            let name = decimal(i64::from(cx.pid()));
            let entry = DirEntry {
                ino: vfs.synthetic.proc_pid_dir,
                kind: FileType::Directory,
                name: &name,
                cookie: DYNAMIC_COOKIE,
            };
            emit(&entry);
        }
        ProcDir::Fd => {
            let mut fds = Vec::new();
            cx.open_fds(&mut fds);
            fds.sort_unstable();
            fds.dedup();
            for fd in fds.into_iter().filter(|&fd| fd >= 0) {
                let position = DYNAMIC_COOKIE + fd as u64;
                if position <= cookie {
                    continue;
                }
                let ino = fd_link(vfs, fd);
                let name = decimal(i64::from(fd));
                if !emit(&DirEntry {
                    ino,
                    kind: FileType::Symlink,
                    name: &name,
                    cookie: position,
                }) {
                    return;
                }
            }
        }
        _ => {}
    }
}

pub(crate) fn link_target(link: ProcLink, cx: &mut dyn Context) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    match link {
        ProcLink::SelfPid => out = decimal(i64::from(cx.pid())),
        ProcLink::Exe => cx.exe(&mut out),
        ProcLink::Cwd => cx.cwd(&mut out),
        ProcLink::Fd(fd) => {
            if !cx.fd_path(fd, &mut out) {
                return Err(ENOENT);
            }
        }
    }
    if out.is_empty() {
        return Err(ENOENT);
    }
    Ok(out)
}

/// `fmt::Write` into a byte vector.
struct Out<'a>(&'a mut Vec<u8>);

impl Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

const CPUINFO: &str =
    "processor\t: 0\nhart\t\t: 0\nisa\t\t: rv64imafdc_zicsr_zifencei_zba_zbb_zbs_zicond\n\
mmu\t\t: sv39\nuarch\t\t: libfriscy\nmvendorid\t: 0x0\nmarchid\t\t: 0x0\nmimpid\t\t: 0x0\n\n";

const MOUNTS: &str =
    "rootfs / rootfs rw 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n\
devtmpfs /dev devtmpfs rw,nosuid 0 0\n";

/// Writes the current content of a /proc file.
pub(crate) fn generate(vfs: &Vfs, file: ProcFile, cx: &mut dyn Context, out: &mut Vec<u8>) {
    let _ = vfs;
    let mut w = Out(out);
    let _ = match file {
        ProcFile::CpuInfo => w.write_str(CPUINFO),
        ProcFile::Mounts => w.write_str(MOUNTS),
        ProcFile::MemInfo => {
            let memory = cx.memory();
            write!(
                w,
                "MemTotal:       {:8} kB\nMemFree:        {:8} kB\nMemAvailable:   {:8} kB\n\
Buffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n",
                memory.total / 1024,
                memory.free / 1024,
                memory.available / 1024
            )
        }
        ProcFile::Cmdline => {
            cx.cmdline(w.0);
            Ok(())
        }
        ProcFile::Maps => {
            let mut maps = Vec::new();
            cx.maps(&mut maps);
            for mapping in &maps {
                write_mapping(&mut w, mapping);
            }
            Ok(())
        }
        ProcFile::Stat => write_stat(&mut w, cx),
        ProcFile::Status => {
            let stat = cx.process_stat();
            let pid = cx.pid();
            let _ = w.write_str("Name:\t");
            w.0.extend_from_slice(comm(&stat.comm));
            write!(
                w,
                "\nState:\t{} (running)\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n\
Gid:\t{gid}\t{gid}\t{gid}\t{gid}\nVmSize:\t{} kB\nVmRSS:\t{} kB\nThreads:\t{}\n",
                state(stat.state) as char,
                stat.ppid,
                stat.vsize / 1024,
                stat.rss_pages * 4,
                stat.num_threads.max(1),
                uid = cx.uid(),
                gid = cx.gid(),
            )
        }
    };
}

fn comm(name: &[u8]) -> &[u8] {
    &name[..name.len().min(15)]
}

fn state(state: u8) -> u8 {
    if state == 0 {
        b'R'
    } else {
        state
    }
}

fn write_mapping(w: &mut Out<'_>, m: &Mapping) {
    let start_len = w.0.len();
    let flag = |on: bool, c: char| if on { c } else { '-' };
    let _ = write!(
        w,
        "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {}",
        m.start,
        m.end,
        flag(m.read, 'r'),
        flag(m.write, 'w'),
        flag(m.exec, 'x'),
        if m.shared { 's' } else { 'p' },
        m.offset,
        (m.dev >> 8) & 0xfff,
        m.dev & 0xff,
        m.ino
    );
    if !m.path.is_empty() {
        // The kernel pads the path to column 73 on 64-bit machines.
        let width = w.0.len() - start_len;
        w.0.resize(w.0.len() + 73usize.saturating_sub(width).max(1), b' ');
        w.0.extend_from_slice(&m.path);
    }
    w.0.push(b'\n');
}

fn write_stat(w: &mut Out<'_>, cx: &mut dyn Context) -> core::fmt::Result {
    let s = cx.process_stat();
    let pid = cx.pid();
    write!(w, "{pid} (")?;
    w.0.extend_from_slice(comm(&s.comm));
    writeln!(
        w,
        ") {} {} {} {} 0 -1 4194304 0 0 0 0 {} {} 0 0 20 0 {} 0 {} {} {} 18446744073709551615 {} {} {} 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 {} {} {} {} {} 0",
        state(s.state) as char,
        s.ppid,
        s.pgrp,
        s.session,
        s.utime,
        s.stime,
        s.num_threads.max(1),
        s.start_time,
        s.vsize,
        s.rss_pages,
        s.start_code,
        s.end_code,
        s.start_stack,
        s.start_brk,
        s.arg_start,
        s.arg_end,
        s.env_start,
        s.env_end,
    )
}
