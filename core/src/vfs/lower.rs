//! The read-only layer under the overlay: nothing, a rootfs tar, or (with `std`) a host directory.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::tar::{ImageBytes, TarError, TarIndex, TarNodeKind};
use super::{makedev, Errno, FileType, Ino};
use crate::host::errno::*;
use crate::host::Timespec;

/// A node of the lower layer; the overlay gives it inode number `id + 1`.
pub type LowerId = u32;

/// Metadata of a lower node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LowerStat {
    pub kind: FileType,
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub size: u64,
    pub rdev: u64,
    pub mtime: Timespec,
}

/// A rootfs tar and its index. Both are reference-counted and never change, so forks of a
/// machine share one copy ([`Lower::share`]).
#[derive(Clone, Debug)]
pub struct TarLayer {
    bytes: Arc<ImageBytes>,
    index: Arc<TarIndex>,
    /// Hash of the index, so a snapshot is only restored over the same image.
    fingerprint: u64,
}

impl TarLayer {
    pub fn new(bytes: ImageBytes) -> Result<TarLayer, TarError> {
        let index = TarIndex::build(bytes.as_slice())?;
        let fingerprint = Self::fingerprint(&index, bytes.as_slice());
        Ok(TarLayer {
            bytes: Arc::new(bytes),
            index: Arc::new(index),
            fingerprint,
        })
    }

    /// The index's hash combined with the first and last bytes of every file: cheap (no
    /// pass over all data) yet it catches an edited file, not only renamed or resized ones.
    fn fingerprint(index: &TarIndex, bytes: &[u8]) -> u64 {
        const SAMPLE: u64 = 256;
        let mut h = index.fingerprint() ^ bytes.len() as u64;
        for id in 0..index.node_count() {
            if let Some(TarNodeKind::File { offset, size }) = index.node(id).map(|n| n.kind) {
                let end = offset.saturating_add(size);
                let head = offset..end.min(offset.saturating_add(SAMPLE));
                let tail = end.saturating_sub(SAMPLE).max(head.end)..end;
                for range in [head, tail] {
                    if let Some(data) = bytes.get(range.start as usize..range.end as usize) {
                        h = crate::snapshot::hash64(h, data);
                    }
                }
            }
        }
        h
    }

    pub fn index(&self) -> &TarIndex {
        &self.index
    }

    /// The bytes of regular file `id`, straight from the image.
    pub fn file_bytes(&self, id: LowerId) -> Option<&[u8]> {
        match self.index.node(id)?.kind {
            TarNodeKind::File { offset, size } => self
                .bytes
                .as_slice()
                .get(offset as usize..(offset + size) as usize),
            _ => None,
        }
    }
}

/// A read-only tree the embedder serves itself (files fetched over the network, a packed
/// format of its own...). Node ids are the layer's choice, below `u32::MAX`; the same id
/// under two names is a hard link.
pub trait LowerLayer: Send {
    /// Id of the root directory.
    fn root(&self) -> LowerId;
    /// Metadata of a node (ENOENT for an unknown id).
    fn stat(&mut self, id: LowerId) -> Result<LowerStat, Errno>;
    /// Appends the entries of directory `dir` (not `.` or `..`).
    fn list(&mut self, dir: LowerId, out: &mut Vec<(Vec<u8>, LowerId)>) -> Result<(), Errno>;
    /// Reads regular file `id` at `offset`; 0 at end of file.
    fn read(&mut self, id: LowerId, offset: u64, buf: &mut [u8]) -> Result<usize, Errno>;
    /// The target text of symlink `id`.
    fn read_link(&mut self, id: LowerId) -> Result<Vec<u8>, Errno>;
}

/// The read-only layer a [`super::Vfs`] is built on.
pub enum Lower {
    /// No image: the tree starts empty (plus /dev, /proc and the other defaults).
    Empty,
    Tar(TarLayer),
    #[cfg(all(feature = "std", unix))]
    HostDir(super::host_dir::HostDirLayer),
    Custom(alloc::boxed::Box<dyn LowerLayer>),
}

impl core::fmt::Debug for Lower {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Lower::Empty => f.write_str("Empty"),
            Lower::Tar(tar) => tar.fmt(f),
            #[cfg(all(feature = "std", unix))]
            Lower::HostDir(host) => host.fmt(f),
            Lower::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl Lower {
    /// What kind of layer this is and, for a tar, its size and index hash (see
    /// [`crate::snapshot::LowerIdentity`]). Host-served layers are identified by kind only.
    pub fn identity(&self) -> crate::snapshot::LowerIdentity {
        use crate::snapshot::LowerIdentity;
        match self {
            Lower::Empty => LowerIdentity {
                kind: 1,
                ..Default::default()
            },
            Lower::Tar(tar) => LowerIdentity {
                kind: 2,
                size: tar.bytes.as_slice().len() as u64,
                hash: tar.fingerprint,
            },
            #[cfg(all(feature = "std", unix))]
            Lower::HostDir(_) => LowerIdentity {
                kind: 3,
                ..Default::default()
            },
            Lower::Custom(_) => LowerIdentity {
                kind: 4,
                ..Default::default()
            },
        }
    }

    /// Another handle on the same read-only layer (the tar is shared, not copied); `None`
    /// for host-served layers, whose state cannot be shared.
    pub fn share(&self) -> Option<Lower> {
        match self {
            Lower::Empty => Some(Lower::Empty),
            Lower::Tar(tar) => Some(Lower::Tar(tar.clone())),
            _ => None,
        }
    }

    pub(crate) fn root(&self) -> Option<LowerId> {
        match self {
            Lower::Empty => None,
            Lower::Tar(_) => Some(TarIndex::ROOT),
            #[cfg(all(feature = "std", unix))]
            Lower::HostDir(_) => Some(super::host_dir::HostDirLayer::ROOT),
            Lower::Custom(layer) => Some(layer.root()),
        }
    }

    /// First inode number the overlay may hand out for its own nodes.
    pub(crate) fn first_upper_ino(&self) -> Ino {
        match self {
            Lower::Empty => 2,
            Lower::Tar(tar) => u64::from(tar.index.node_count()) + 1,
            // Host nodes are numbered as they are discovered, so leave them all of u32.
            #[cfg(all(feature = "std", unix))]
            Lower::HostDir(_) => 1 << 32,
            Lower::Custom(_) => 1 << 32,
        }
    }

    pub(crate) fn stat(&mut self, id: LowerId) -> Result<LowerStat, Errno> {
        match self {
            Lower::Empty => Err(ENOENT),
            Lower::Tar(tar) => {
                let node = tar.index.node(id).ok_or(ENOENT)?;
                let (kind, size, rdev) = match node.kind {
                    TarNodeKind::File { size, .. } => (FileType::Regular, size, 0),
                    TarNodeKind::Dir => (FileType::Directory, 4096, 0),
                    TarNodeKind::Symlink { len, .. } => (FileType::Symlink, u64::from(len), 0),
                    TarNodeKind::CharDevice { major, minor } => {
                        (FileType::CharDevice, 0, makedev(major, minor))
                    }
                    TarNodeKind::BlockDevice { major, minor } => {
                        (FileType::BlockDevice, 0, makedev(major, minor))
                    }
                    TarNodeKind::Fifo => (FileType::Fifo, 0, 0),
                };
                Ok(LowerStat {
                    kind,
                    perm: node.perm,
                    uid: node.uid,
                    gid: node.gid,
                    nlink: tar.index.nlink(id),
                    size,
                    rdev,
                    mtime: Timespec {
                        secs: node.mtime,
                        nanos: 0,
                    },
                })
            }
            #[cfg(all(feature = "std", unix))]
            Lower::HostDir(host) => host.stat(id),
            Lower::Custom(layer) => layer.stat(id),
        }
    }

    /// The entries of directory `dir` (without `.` and `..`).
    pub(crate) fn list(
        &mut self,
        dir: LowerId,
        out: &mut Vec<(Vec<u8>, LowerId)>,
    ) -> Result<(), Errno> {
        match self {
            Lower::Empty => Ok(()),
            Lower::Tar(tar) => {
                tar.index
                    .for_each_child(dir, |name, id| out.push((name.to_vec(), id)));
                Ok(())
            }
            #[cfg(all(feature = "std", unix))]
            Lower::HostDir(host) => host.list(dir, out),
            Lower::Custom(layer) => layer.list(dir, out),
        }
    }

    pub(crate) fn read(
        &mut self,
        id: LowerId,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, Errno> {
        match self {
            Lower::Empty => Err(EIO),
            Lower::Tar(tar) => {
                let TarNodeKind::File {
                    offset: start,
                    size,
                } = tar.index.node(id).ok_or(EIO)?.kind
                else {
                    return Err(EIO);
                };
                if offset >= size {
                    return Ok(0);
                }
                let count = (size - offset).min(buf.len() as u64) as usize;
                let from = (start + offset) as usize;
                buf[..count].copy_from_slice(&tar.bytes.as_slice()[from..from + count]);
                Ok(count)
            }
            #[cfg(all(feature = "std", unix))]
            Lower::HostDir(host) => host.read(id, offset, buf),
            Lower::Custom(layer) => layer.read(id, offset, buf),
        }
    }

    pub(crate) fn read_link(&mut self, id: LowerId) -> Result<Vec<u8>, Errno> {
        match self {
            Lower::Empty => Err(EINVAL),
            Lower::Tar(tar) => tar
                .index
                .symlink_target(id)
                .map(<[u8]>::to_vec)
                .ok_or(EINVAL),
            #[cfg(all(feature = "std", unix))]
            Lower::HostDir(host) => host.read_link(id),
            Lower::Custom(layer) => layer.read_link(id),
        }
    }
}
