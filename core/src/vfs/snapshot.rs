//! Snapshot encoder for the VFS overlay: every inode the guest saw, created, changed or unlinked, on top of a lower layer the caller supplies.
//!
//! The whole inode table is saved (sorted by inode number so equal states give equal
//! bytes); lower-layer file data is not, only references to it. Each encoder
//! destructures its struct exhaustively so a new field must be saved to compile.

use alloc::boxed::Box;
use alloc::vec::Vec;
use hashbrown::HashMap;

use super::proc::{ProcDir, ProcFile, ProcLink};
use super::{
    Body, Device, Dir, Entries, FileType, Ino, Inode, Lower, Synthetic, Vfs, FIRST_COOKIE,
};
use crate::host::Timespec;
use crate::snapshot::{Reader, SnapshotError, SnapshotResult, Writer};

fn corrupt(what: &'static str) -> SnapshotError {
    SnapshotError::Corrupt(what)
}

fn encode_time(w: &mut Writer, t: &Timespec) {
    let Timespec { secs, nanos } = t;
    w.i64(*secs);
    w.u32(*nanos);
}

fn decode_time(r: &mut Reader) -> SnapshotResult<Timespec> {
    let secs = r.i64()?;
    let nanos = r.u32()?;
    if nanos >= 1_000_000_000 {
        return Err(corrupt("timestamp nanoseconds out of range"));
    }
    Ok(Timespec { secs, nanos })
}

const FILE_TYPES: [FileType; 7] = [
    FileType::Regular,
    FileType::Directory,
    FileType::Symlink,
    FileType::CharDevice,
    FileType::BlockDevice,
    FileType::Fifo,
    FileType::Socket,
];
const DEVICES: [Device; 6] = [
    Device::Null,
    Device::Zero,
    Device::Full,
    Device::Random,
    Device::URandom,
    Device::Tty,
];
const PROC_DIRS: [ProcDir; 3] = [ProcDir::Root, ProcDir::Pid, ProcDir::Fd];
const PROC_FILES: [ProcFile; 7] = [
    ProcFile::CpuInfo,
    ProcFile::MemInfo,
    ProcFile::Mounts,
    ProcFile::Maps,
    ProcFile::Stat,
    ProcFile::Status,
    ProcFile::Cmdline,
];

/// The codes of the enums saved by number: exhaustive matches, so a new variant must be
/// given a code (and added to its table above, which the tests check against these).
fn file_type_code(kind: FileType) -> u8 {
    match kind {
        FileType::Regular => 0,
        FileType::Directory => 1,
        FileType::Symlink => 2,
        FileType::CharDevice => 3,
        FileType::BlockDevice => 4,
        FileType::Fifo => 5,
        FileType::Socket => 6,
    }
}

fn device_code(device: Device) -> u8 {
    match device {
        Device::Null => 0,
        Device::Zero => 1,
        Device::Full => 2,
        Device::Random => 3,
        Device::URandom => 4,
        Device::Tty => 5,
    }
}

fn proc_dir_code(dir: ProcDir) -> u8 {
    match dir {
        ProcDir::Root => 0,
        ProcDir::Pid => 1,
        ProcDir::Fd => 2,
    }
}

fn proc_file_code(file: ProcFile) -> u8 {
    match file {
        ProcFile::CpuInfo => 0,
        ProcFile::MemInfo => 1,
        ProcFile::Mounts => 2,
        ProcFile::Maps => 3,
        ProcFile::Stat => 4,
        ProcFile::Status => 5,
        ProcFile::Cmdline => 6,
    }
}

fn pick<T: Copy>(table: &[T], index: u8, what: &'static str) -> SnapshotResult<T> {
    table.get(usize::from(index)).copied().ok_or(corrupt(what))
}

fn encode_entries(w: &mut Writer, entries: &Entries) {
    let Entries {
        by_name: _, // the inverse of by_cookie, rebuilt on restore
        by_cookie,
        next_cookie,
    } = entries;
    w.u64(*next_cookie);
    w.usize(by_cookie.len());
    for (cookie, (name, ino)) in by_cookie {
        w.u64(*cookie);
        w.bytes(name);
        w.u64(*ino);
    }
}

fn decode_entries(r: &mut Reader) -> SnapshotResult<Entries> {
    let mut entries = Entries {
        next_cookie: r.u64()?,
        ..Entries::default()
    };
    let n = r.count(24)?;
    for _ in 0..n {
        let cookie = r.u64()?;
        let name: Box<[u8]> = r.bytes()?.into();
        let ino = r.u64()?;
        if cookie < FIRST_COOKIE || cookie >= entries.next_cookie {
            return Err(corrupt("directory cookie out of range"));
        }
        let valid_name = !name.is_empty()
            && name.len() <= super::NAME_MAX
            && !name.contains(&b'/')
            && !name.contains(&0);
        if !valid_name {
            return Err(corrupt("invalid directory entry name"));
        }
        if entries.by_name.insert(name.clone(), cookie).is_some()
            || entries.by_cookie.insert(cookie, (name, ino)).is_some()
        {
            return Err(corrupt("duplicate directory entry"));
        }
    }
    Ok(entries)
}

fn encode_body(w: &mut Writer, body: &Body) {
    match body {
        Body::Dir(dir) => {
            w.u8(0);
            let Dir {
                parent,
                name,
                lower,
                entries,
                proc,
            } = &**dir;
            w.u64(*parent);
            w.bytes(name);
            w.opt_u64(lower.map(u64::from));
            encode_entries(w, entries);
            w.bool(proc.is_some());
            w.u8(proc.map_or(0, proc_dir_code));
        }
        Body::Lower(id, size) => {
            w.u8(1);
            w.u32(*id);
            w.u64(*size);
        }
        Body::Data(data) => {
            w.u8(2);
            w.bytes(data);
        }
        Body::Symlink(target) => {
            w.u8(3);
            w.bytes(target);
        }
        Body::Device(device) => {
            w.u8(4);
            w.u8(device_code(*device));
        }
        Body::Special => w.u8(5),
        Body::ProcFile(file) => {
            w.u8(6);
            w.u8(proc_file_code(*file));
        }
        Body::ProcLink(link) => {
            w.u8(7);
            let (kind, fd) = match link {
                ProcLink::SelfPid => (0, 0),
                ProcLink::Exe => (1, 0),
                ProcLink::Cwd => (2, 0),
                ProcLink::Fd(fd) => (3, *fd),
            };
            w.u8(kind);
            w.i32(fd);
        }
    }
}

fn decode_body(r: &mut Reader, max_file_size: u64) -> SnapshotResult<Body> {
    Ok(match r.u8()? {
        0 => {
            let parent = r.u64()?;
            let name: Box<[u8]> = r.bytes()?.into();
            let lower = match r.opt_u64()? {
                None => None,
                Some(id) => Some(u32::try_from(id).map_err(|_| corrupt("lower id out of range"))?),
            };
            let entries = decode_entries(r)?;
            let has_proc = r.bool()?;
            let proc = pick(&PROC_DIRS, r.u8()?, "unknown /proc directory")?;
            Body::Dir(Box::new(Dir {
                parent,
                name,
                lower,
                entries,
                proc: has_proc.then_some(proc),
            }))
        }
        1 => Body::Lower(r.u32()?, r.u64()?),
        2 => {
            let data = r.bytes()?;
            if data.len() as u64 > max_file_size {
                return Err(corrupt("file larger than the size limit"));
            }
            Body::Data(data.to_vec())
        }
        3 => Body::Symlink(r.bytes()?.into()),
        4 => Body::Device(pick(&DEVICES, r.u8()?, "unknown device")?),
        5 => Body::Special,
        6 => Body::ProcFile(pick(&PROC_FILES, r.u8()?, "unknown /proc file")?),
        7 => {
            let kind = r.u8()?;
            let fd = r.i32()?;
            Body::ProcLink(match kind {
                0 => ProcLink::SelfPid,
                1 => ProcLink::Exe,
                2 => ProcLink::Cwd,
                3 => ProcLink::Fd(fd),
                _ => return Err(corrupt("unknown /proc link")),
            })
        }
        _ => return Err(corrupt("unknown inode body")),
    })
}

fn encode_inode(w: &mut Writer, inode: &Inode) {
    let Inode {
        kind,
        perm,
        uid,
        gid,
        nlink,
        rdev,
        atime,
        mtime,
        ctime,
        on_proc,
        opens,
        body,
    } = inode;
    w.u8(file_type_code(*kind));
    w.u32(*perm);
    w.u32(*uid);
    w.u32(*gid);
    w.u32(*nlink);
    w.u64(*rdev);
    for t in [atime, mtime, ctime] {
        encode_time(w, t);
    }
    w.bool(*on_proc);
    w.u32(*opens);
    encode_body(w, body);
}

fn decode_inode(r: &mut Reader, max_file_size: u64) -> SnapshotResult<Inode> {
    let kind = pick(&FILE_TYPES, r.u8()?, "unknown file type")?;
    let perm = r.u32()?;
    let uid = r.u32()?;
    let gid = r.u32()?;
    let nlink = r.u32()?;
    let rdev = r.u64()?;
    let atime = decode_time(r)?;
    let mtime = decode_time(r)?;
    let ctime = decode_time(r)?;
    let on_proc = r.bool()?;
    let opens = r.u32()?;
    let body = decode_body(r, max_file_size)?;
    if (kind == FileType::Directory) != matches!(body, Body::Dir(_)) {
        return Err(corrupt("inode type does not match its content"));
    }
    Ok(Inode {
        kind,
        perm: perm & 0o7777,
        uid,
        gid,
        nlink,
        rdev,
        atime,
        mtime,
        ctime,
        on_proc,
        opens,
        body,
    })
}

/// Saves everything of `vfs` but its lower layer.
pub(crate) fn encode_vfs(w: &mut Writer, vfs: &Vfs) {
    let Vfs {
        lower: _, // supplied again by the caller on restore, checked by identity
        inodes,
        root,
        next_ino,
        synthetic,
        proc_fd_inos,
        max_file_size,
        read_only,
    } = vfs;
    let Synthetic {
        proc_root,
        proc_pid_dir,
        proc_fd_dir,
    } = synthetic;
    w.u64(*root);
    w.u64(*next_ino);
    w.u64(*proc_root);
    w.u64(*proc_pid_dir);
    w.u64(*proc_fd_dir);
    w.u64(*max_file_size);
    w.bool(*read_only);
    let mut links: Vec<(&i32, &Ino)> = proc_fd_inos.iter().collect();
    links.sort_unstable();
    w.usize(links.len());
    for (fd, ino) in links {
        w.i32(*fd);
        w.u64(*ino);
    }
    let mut numbers: Vec<Ino> = inodes.keys().copied().collect();
    numbers.sort_unstable();
    w.usize(numbers.len());
    for ino in numbers {
        w.u64(ino);
        if let Some(inode) = inodes.get(&ino) {
            encode_inode(w, inode);
        }
    }
}

/// Rebuilds a VFS over `lower` from what [`encode_vfs`] saved.
pub(crate) fn decode_vfs(r: &mut Reader, lower: Lower) -> SnapshotResult<Vfs> {
    let root = r.u64()?;
    let next_ino = r.u64()?;
    let synthetic = Synthetic {
        proc_root: r.u64()?,
        proc_pid_dir: r.u64()?,
        proc_fd_dir: r.u64()?,
    };
    let max_file_size = r.u64()?;
    let read_only = r.bool()?;
    let n = r.count(12)?;
    let mut proc_fd_inos = HashMap::with_capacity(n);
    for _ in 0..n {
        let fd = r.i32()?;
        let ino = r.u64()?;
        if proc_fd_inos.insert(fd, ino).is_some() {
            return Err(corrupt("duplicate /proc/self/fd link"));
        }
    }
    let n = r.count(60)?;
    let mut inodes = HashMap::with_capacity(n);
    for _ in 0..n {
        let ino = r.u64()?;
        if ino >= next_ino && ino >= lower.first_upper_ino() {
            return Err(corrupt("inode number beyond the allocator"));
        }
        let inode = decode_inode(r, max_file_size)?;
        if inodes.insert(ino, inode).is_some() {
            return Err(corrupt("duplicate inode"));
        }
    }
    if next_ino < lower.first_upper_ino() {
        return Err(corrupt("inode allocator below the lower layer's range"));
    }
    if !inodes
        .get(&root)
        .is_some_and(|i| i.kind == FileType::Directory)
    {
        return Err(corrupt("the root is not a directory"));
    }
    Ok(Vfs {
        lower,
        inodes,
        root,
        next_ino,
        synthetic,
        proc_fd_inos,
        max_file_size,
        read_only,
    })
}

/// A copy of `vfs` sharing its read-only lower layer; `None` if that layer cannot be
/// shared (a host directory or host callbacks).
pub(crate) fn fork_vfs(vfs: &Vfs) -> Option<Vfs> {
    let Vfs {
        lower,
        inodes,
        root,
        next_ino,
        synthetic,
        proc_fd_inos,
        max_file_size,
        read_only,
    } = vfs;
    Some(Vfs {
        lower: lower.share()?,
        inodes: inodes.clone(),
        root: *root,
        next_ino: *next_ino,
        synthetic: *synthetic,
        proc_fd_inos: proc_fd_inos.clone(),
        max_file_size: *max_file_size,
        read_only: *read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::errno::ENOENT;
    use crate::vfs::{Lower, ProcessView};

    #[test]
    fn an_open_anonymous_file_survives_a_round_trip_and_is_dropped_on_close() {
        let mut vfs = Vfs::empty();
        let mut cx = ProcessView::default();
        let memfd = vfs.create_anonymous(&mut cx, 0o777).unwrap();
        assert_eq!(vfs.write(&mut cx, memfd, 0, b"kept in memory"), Ok(14));
        let mut w = Writer::default();
        encode_vfs(&mut w, &vfs);
        let mut restored = decode_vfs(&mut Reader::new(&w.buf), Lower::Empty).unwrap();
        let stat = restored.stat(memfd).unwrap();
        assert_eq!((stat.size, stat.nlink), (14, 0));
        let mut buf = [0u8; 32];
        let n = restored.read(&mut cx, memfd, 0, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"kept in memory");
        // The restored reference count is the one the open fd holds: closing it frees the file.
        restored.close(memfd);
        assert_eq!(restored.stat(memfd).map(|s| s.size), Err(ENOENT));
    }

    #[test]
    fn enum_tables_decode_what_the_codes_encode() {
        for (i, v) in FILE_TYPES.iter().enumerate() {
            assert_eq!(usize::from(file_type_code(*v)), i);
        }
        for (i, v) in DEVICES.iter().enumerate() {
            assert_eq!(usize::from(device_code(*v)), i);
        }
        for (i, v) in PROC_DIRS.iter().enumerate() {
            assert_eq!(usize::from(proc_dir_code(*v)), i);
        }
        for (i, v) in PROC_FILES.iter().enumerate() {
            assert_eq!(usize::from(proc_file_code(*v)), i);
        }
    }
}
