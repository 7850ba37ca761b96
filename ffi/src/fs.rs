//! A root file system served by the host through a table of C callbacks (the C side of `vfs::LowerLayer`).

use core::ffi::c_void;
use std::ffi::c_char;

use friscy_core::host::Timespec;
use friscy_core::vfs::{FileType, LowerId, LowerLayer, LowerStat};

use crate::result::*;

/// What the host reports about one node of its file system.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct friscy_fs_stat {
    /// File type and permission bits, as in `st_mode` (`S_IFREG | 0755`, `S_IFDIR | 0755`,
    /// `S_IFLNK | 0777`, ...).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub size: u64,
    /// Device number of a character or block device node.
    pub rdev: u64,
    pub mtime_sec: i64,
    pub mtime_nsec: u32,
}

/// Called by the host's `list` callback once per directory entry (not "." or ".."):
/// `name` (not NUL-terminated, `name_len` bytes, no '/') and the entry's node id.
pub type friscy_fs_emit_fn =
    Option<unsafe extern "C" fn(ctx: *mut c_void, name: *const c_char, name_len: usize, id: u32)>;

/// Node metadata: fill `*out` and return 0, or return a negative errno (-ENOENT).
pub type friscy_fs_stat_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, id: u32, out: *mut friscy_fs_stat) -> i32>;
/// Directory listing: call `emit(ctx, ...)` for each entry, then return 0 (or a negative errno).
pub type friscy_fs_list_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        dir: u32,
        emit: friscy_fs_emit_fn,
        ctx: *mut c_void,
    ) -> i32,
>;
/// Read up to `len` bytes of file `id` at `offset` into `buf`: bytes read (0 at end of
/// file) or a negative errno.
pub type friscy_fs_read_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        id: u32,
        offset: u64,
        buf: *mut u8,
        len: usize,
    ) -> i64,
>;
/// Copy up to `len` bytes of symlink `id`'s target into `buf`: the full target length
/// (which may exceed `len`: the library then calls again with a larger buffer) or a
/// negative errno.
pub type friscy_fs_read_link_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, id: u32, buf: *mut u8, len: usize) -> i64>;

/// A read-only file tree the host serves itself (from a database, a bundle, a network
/// cache...). The guest sees it as its root file system; the guest's own writes go to an
/// in-memory overlay above it and never reach these callbacks. Node ids are the host's
/// (u32); `root` is the root directory's id. Every callback is required.
///
/// The callbacks are called from whichever thread runs the machine, only while a
/// `friscy_machine_*` call is in progress; `userdata` must stay valid while the machine lives.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct friscy_fs {
    /// Size of the caller's struct (`sizeof(friscy_fs)`).
    pub struct_size: u32,
    /// Id of the root directory.
    pub root: u32,
    pub userdata: *mut c_void,
    pub stat: friscy_fs_stat_fn,
    pub list: friscy_fs_list_fn,
    pub read: friscy_fs_read_fn,
    pub read_link: friscy_fs_read_link_fn,
}

/// The host's table as a lower layer of the VFS.
pub(crate) struct HostFs {
    table: friscy_fs,
}

// SAFETY: the table is plain data plus callbacks the host promised (in `friscy_fs`'s
// documentation) to be callable from the thread that runs the machine; the machine never
// calls them concurrently.
unsafe impl Send for HostFs {}

/// An errno from a host callback, made safe: anything outside 1..=4095 becomes EIO.
fn host_errno(r: i64) -> i32 {
    let e = r.unsigned_abs();
    if (1..=4095).contains(&e) {
        e as i32
    } else {
        friscy_core::host::errno::EIO
    }
}

impl HostFs {
    /// Check a host table: the right size and every callback present.
    ///
    /// # Safety
    /// `fs` must point to `fs->struct_size` readable bytes.
    pub(crate) unsafe fn from_table(fs: *const friscy_fs) -> FResult<HostFs> {
        if fs.is_null() {
            return Err(Error::null("fs"));
        }
        // SAFETY: the first field is readable (caller's contract).
        let size = unsafe { fs.cast::<u32>().read() } as usize;
        if size != core::mem::size_of::<friscy_fs>() {
            return Err(Error::new(
                FRISCY_ERR_UNSUPPORTED,
                format!(
                    "fs->struct_size is {size}; this library expects {}",
                    core::mem::size_of::<friscy_fs>()
                ),
            ));
        }
        // SAFETY: the whole struct is readable; it holds only integers and pointers.
        let table = unsafe { fs.read() };
        if table.stat.is_none()
            || table.list.is_none()
            || table.read.is_none()
            || table.read_link.is_none()
        {
            return Err(Error::new(
                FRISCY_ERR_INVALID_ARGUMENT,
                "every friscy_fs callback (stat, list, read, read_link) is required",
            ));
        }
        Ok(HostFs { table })
    }
}

unsafe extern "C" fn collect_entry(
    ctx: *mut c_void,
    name: *const c_char,
    name_len: usize,
    id: u32,
) {
    if ctx.is_null() || (name.is_null() && name_len > 0) || name_len > 4096 {
        return;
    }
    // SAFETY: `ctx` is the Vec passed to the host's `list` call just below, alive for it.
    let out = unsafe { &mut *ctx.cast::<Vec<(Vec<u8>, LowerId)>>() };
    let bytes = if name_len == 0 {
        Vec::new()
    } else {
        // SAFETY: the host passes `name_len` readable bytes at `name`.
        unsafe { core::slice::from_raw_parts(name.cast::<u8>(), name_len) }.to_vec()
    };
    // Names with '/' or NUL, "." and ".." would let a host confuse path resolution.
    if bytes.is_empty()
        || bytes == b"."
        || bytes == b".."
        || bytes.iter().any(|&b| b == b'/' || b == 0)
    {
        return;
    }
    out.push((bytes, id));
}

impl LowerLayer for HostFs {
    fn root(&self) -> LowerId {
        self.table.root
    }

    fn stat(&mut self, id: LowerId) -> Result<LowerStat, i32> {
        let f = self.table.stat.ok_or(friscy_core::host::errno::ENOSYS)?;
        let mut st = friscy_fs_stat::default();
        // SAFETY: a plain call with the host's userdata and a valid out-pointer.
        let r = unsafe { f(self.table.userdata, id, &mut st) };
        if r != 0 {
            return Err(host_errno(i64::from(r)));
        }
        let kind = match st.mode & 0o170000 {
            0o040000 => FileType::Directory,
            0o120000 => FileType::Symlink,
            0o020000 => FileType::CharDevice,
            0o060000 => FileType::BlockDevice,
            0o010000 => FileType::Fifo,
            0o140000 => FileType::Socket,
            _ => FileType::Regular,
        };
        Ok(LowerStat {
            kind,
            perm: st.mode & 0o7777,
            uid: st.uid,
            gid: st.gid,
            nlink: st.nlink.max(1),
            size: st.size,
            rdev: st.rdev,
            mtime: Timespec {
                secs: st.mtime_sec,
                nanos: st.mtime_nsec.min(999_999_999),
            },
        })
    }

    fn list(&mut self, dir: LowerId, out: &mut Vec<(Vec<u8>, LowerId)>) -> Result<(), i32> {
        let f = self.table.list.ok_or(friscy_core::host::errno::ENOSYS)?;
        let ctx = (out as *mut Vec<(Vec<u8>, LowerId)>).cast::<c_void>();
        // SAFETY: a plain call; `collect_entry` only touches `out` through `ctx` during it.
        let r = unsafe { f(self.table.userdata, dir, Some(collect_entry), ctx) };
        if r != 0 {
            return Err(host_errno(i64::from(r)));
        }
        Ok(())
    }

    fn read(&mut self, id: LowerId, offset: u64, buf: &mut [u8]) -> Result<usize, i32> {
        let f = self.table.read.ok_or(friscy_core::host::errno::ENOSYS)?;
        // SAFETY: a plain call with a valid buffer of `buf.len()` bytes.
        let r = unsafe { f(self.table.userdata, id, offset, buf.as_mut_ptr(), buf.len()) };
        if r < 0 {
            return Err(host_errno(r));
        }
        // A host claiming more than it was given is clamped, never trusted.
        Ok((r as u64).min(buf.len() as u64) as usize)
    }

    fn read_link(&mut self, id: LowerId) -> Result<Vec<u8>, i32> {
        let f = self
            .table
            .read_link
            .ok_or(friscy_core::host::errno::ENOSYS)?;
        let mut buf = vec![0u8; 256];
        loop {
            // SAFETY: a plain call with a valid buffer of `buf.len()` bytes.
            let r = unsafe { f(self.table.userdata, id, buf.as_mut_ptr(), buf.len()) };
            if r < 0 {
                return Err(host_errno(r));
            }
            let n = r as u64;
            if n <= buf.len() as u64 {
                buf.truncate(n as usize);
                return Ok(buf);
            }
            if n >= 4096 {
                return Err(friscy_core::host::errno::ENAMETOOLONG);
            }
            buf.resize(n as usize, 0);
        }
    }
}
