//! A host directory served as the read-only lower layer, never following a symlink out of it.
//!
//! The VFS resolves every path component itself, so this layer only ever lists a directory
//! it was handed, `lstat`s its entries and reads symlinks as text: host symlinks are never
//! followed (nor canonicalised), and their targets are resolved inside the guest's tree.
//! Opening a file for reading does go through the host path, so the opened file's
//! device and inode are checked against what the listing saw: a file swapped for a symlink
//! behind the VFS's back is refused rather than read.

use alloc::vec::Vec;
use hashbrown::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;

use super::lower::{LowerId, LowerStat};
use super::{Errno, FileType};
use crate::host::errno::*;
use crate::host::Timespec;

#[derive(Debug)]
struct HostNode {
    /// Path below the root, built from listed names only.
    relative: PathBuf,
    /// `(st_dev, st_ino)` when listed.
    identity: (u64, u64),
}

/// A host directory tree, discovered lazily as the guest looks into it.
#[derive(Debug)]
pub struct HostDirLayer {
    root: PathBuf,
    nodes: Vec<HostNode>,
    /// Hard-linked files seen under several names share one node.
    by_identity: HashMap<(u64, u64), LowerId>,
    /// The file the last read used, kept open for sequential reads.
    open: Option<(LowerId, File)>,
}

fn errno_of(error: &io::Error) -> Errno {
    match error.kind() {
        io::ErrorKind::NotFound => ENOENT,
        io::ErrorKind::PermissionDenied => EACCES,
        _ => error.raw_os_error().unwrap_or(EIO),
    }
}

fn file_type(metadata: &fs::Metadata) -> FileType {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_dir() {
        FileType::Directory
    } else if kind.is_symlink() {
        FileType::Symlink
    } else if kind.is_char_device() {
        FileType::CharDevice
    } else if kind.is_block_device() {
        FileType::BlockDevice
    } else if kind.is_fifo() {
        FileType::Fifo
    } else if kind.is_socket() {
        FileType::Socket
    } else {
        FileType::Regular
    }
}

impl HostDirLayer {
    pub const ROOT: LowerId = 0;

    /// Serves `root` (which the host chose, so it may itself be reached through a symlink).
    pub fn new(root: PathBuf) -> io::Result<HostDirLayer> {
        let metadata = fs::metadata(&root)?;
        if !metadata.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "rootfs path is not a directory",
            ));
        }
        let node = HostNode {
            relative: PathBuf::new(),
            identity: (metadata.dev(), metadata.ino()),
        };
        Ok(HostDirLayer {
            root,
            nodes: alloc::vec![node],
            by_identity: HashMap::new(),
            open: None,
        })
    }

    fn node(&self, id: LowerId) -> Result<&HostNode, Errno> {
        self.nodes.get(id as usize).ok_or(ENOENT)
    }

    fn full_path(&self, id: LowerId) -> Result<PathBuf, Errno> {
        Ok(self.root.join(&self.node(id)?.relative))
    }

    /// `lstat` of a node, refusing one that is no longer the object that was listed.
    fn metadata(&self, id: LowerId) -> Result<fs::Metadata, Errno> {
        let metadata = fs::symlink_metadata(self.full_path(id)?).map_err(|e| errno_of(&e))?;
        if (metadata.dev(), metadata.ino()) != self.node(id)?.identity {
            return Err(ENOENT);
        }
        Ok(metadata)
    }

    pub(crate) fn stat(&mut self, id: LowerId) -> Result<LowerStat, Errno> {
        let metadata = self.metadata(id)?;
        let kind = file_type(&metadata);
        Ok(LowerStat {
            kind,
            perm: metadata.mode() & 0o7777,
            uid: metadata.uid(),
            gid: metadata.gid(),
            nlink: metadata.nlink() as u32,
            size: metadata.size(),
            rdev: metadata.rdev(),
            mtime: Timespec {
                secs: metadata.mtime(),
                nanos: metadata.mtime_nsec() as u32,
            },
        })
    }

    pub(crate) fn list(
        &mut self,
        dir: LowerId,
        out: &mut Vec<(Vec<u8>, LowerId)>,
    ) -> Result<(), Errno> {
        if file_type(&self.metadata(dir)?) != FileType::Directory {
            return Err(ENOTDIR);
        }
        let parent = self.node(dir)?.relative.clone();
        let entries = fs::read_dir(self.full_path(dir)?).map_err(|e| errno_of(&e))?;
        for entry in entries {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Ok(metadata) = fs::symlink_metadata(entry.path()) else {
                continue;
            };
            let identity = (metadata.dev(), metadata.ino());
            let shared = !metadata.is_dir() && metadata.nlink() > 1;
            let id = match self.by_identity.get(&identity) {
                Some(&id) if shared => id,
                _ => {
                    let Ok(id) = LowerId::try_from(self.nodes.len()) else {
                        return Err(ENOSPC);
                    };
                    self.nodes.push(HostNode {
                        relative: parent.join(&name),
                        identity,
                    });
                    if shared {
                        self.by_identity.insert(identity, id);
                    }
                    id
                }
            };
            out.push((OsStr::as_bytes(&name).to_vec(), id));
        }
        Ok(())
    }

    pub(crate) fn read(
        &mut self,
        id: LowerId,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, Errno> {
        if self.open.as_ref().is_none_or(|(open_id, _)| *open_id != id) {
            let file = File::open(self.full_path(id)?).map_err(|e| errno_of(&e))?;
            let metadata = file.metadata().map_err(|e| errno_of(&e))?;
            if (metadata.dev(), metadata.ino()) != self.node(id)?.identity {
                return Err(EIO);
            }
            self.open = Some((id, file));
        }
        let (_, file) = self.open.as_ref().ok_or(EIO)?;
        file.read_at(buf, offset).map_err(|e| errno_of(&e))
    }

    pub(crate) fn read_link(&mut self, id: LowerId) -> Result<Vec<u8>, Errno> {
        self.metadata(id)?;
        let target = fs::read_link(self.full_path(id)?).map_err(|e| errno_of(&e))?;
        Ok(target.into_os_string().into_encoded_bytes())
    }
}
