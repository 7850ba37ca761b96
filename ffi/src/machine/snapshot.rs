//! C API for machine snapshots and forks: snapshot into a caller buffer, restore into a new machine, fork a machine.

use friscy_core::snapshot::SnapshotError;
use friscy_core::vfs::{ImageBytes, Lower, TarLayer};
use friscy_core::Machine;

use super::{copy_rootfs, new_handle, with_machine};
use crate::config::read_config;
use crate::guard::guard;
use crate::host::{friscy_host_io, read_host_io, SyscallHandler};
use crate::result::*;

fn snapshot_error(e: SnapshotError) -> Error {
    let code = match e {
        SnapshotError::NotASnapshot
        | SnapshotError::UnsupportedVersion { .. }
        | SnapshotError::Truncated
        | SnapshotError::ChecksumMismatch
        | SnapshotError::Corrupt(_) => FRISCY_ERR_BAD_SNAPSHOT,
        SnapshotError::MemorySizeMismatch { .. } | SnapshotError::RootfsMismatch => {
            FRISCY_ERR_SNAPSHOT_MISMATCH
        }
        SnapshotError::LowerNotShareable => FRISCY_ERR_ROOTFS_NOT_SHAREABLE,
        SnapshotError::Memory(friscy_core::mem::MemError::BadSize) => FRISCY_ERR_BAD_MEMORY_SIZE,
        SnapshotError::Memory(friscy_core::mem::MemError::OutOfMemory) => FRISCY_ERR_OUT_OF_MEMORY,
    };
    Error::new(code, e.to_string())
}

/// Save the whole state of machine `m` (registers, the memory its processes use, open
/// files and pipes, the changes made to its root file system, other processes) as bytes
/// that `friscy_machine_restore` turns back into a machine. The code cache is not saved
/// and the root file system image itself is not included: restore is given it again.
///
/// Size query: with `buf` NULL and `len` 0, stores the snapshot's size in `*written`. With
/// a buffer, writes the snapshot and stores its size in `*written`.
///
/// Ownership: `buf` and `written` are the caller's; nothing is kept.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER` (`m` or `written` NULL, or `buf` NULL
/// with a non-zero `len`); `FRISCY_ERR_BUFFER_TOO_SMALL` (nothing written);
/// `FRISCY_ERR_ROOTFS_NOT_SHAREABLE` for a machine over a host directory (made by
/// `friscy_machine_new_from_rootfs_dir`), whose snapshots could not be restored;
/// `FRISCY_ERR_BUSY`; `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_snapshot(
    m: *const super::friscy_machine,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    unsafe {
        with_machine(m, |s| {
            if written.is_null() {
                return Err(Error::null("written"));
            }
            if buf.is_null() && len != 0 {
                return Err(Error::null("buf (with a non-zero len)"));
            }
            if s.machine
                .vfs
                .as_ref()
                .is_some_and(|v| v.lower().identity().kind == 3)
            {
                return Err(snapshot_error(SnapshotError::LowerNotShareable));
            }
            let bytes = s.machine.snapshot();
            if !buf.is_null() {
                if bytes.len() > len {
                    return Err(Error::new(
                        FRISCY_ERR_BUFFER_TOO_SMALL,
                        format!("snapshot needs {} bytes, buffer has {len}", bytes.len()),
                    ));
                }
                // SAFETY: `buf` holds `len` writable bytes (caller's contract), and
                // `bytes.len() <= len`.
                core::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
            }
            // SAFETY: non-NULL and writable (caller's contract).
            written.write(bytes.len());
            Ok(())
        })
    }
}

/// What a restored machine's root file system is built from.
enum RestoreRootfs<'a> {
    /// No root file system, or a tar archive.
    Tar(Option<&'a [u8]>),
    Host(crate::fs::HostFs),
}

/// Shared body of the restore calls.
///
/// # Safety
/// `config`, `snapshot` and `host_io` follow the public calls' contracts.
unsafe fn restore(
    config: *const crate::config::friscy_config,
    snapshot: *const u8,
    snapshot_len: usize,
    rootfs: RestoreRootfs<'_>,
    host_io: *const friscy_host_io,
    out_machine: *mut *mut super::friscy_machine,
) -> FResult<()> {
    if snapshot.is_null() {
        return Err(Error::null("snapshot"));
    }
    if out_machine.is_null() {
        return Err(Error::null("out_machine"));
    }
    // SAFETY: the caller promises a valid config (or NULL).
    let settings = unsafe { read_config(config)? };
    // SAFETY: the caller promises a valid host_io table (or NULL).
    let io = unsafe { read_host_io(host_io)? };
    // SAFETY: the caller promises `snapshot_len` readable bytes at `snapshot`.
    let bytes = unsafe { core::slice::from_raw_parts(snapshot, snapshot_len) };
    let lower = match rootfs {
        RestoreRootfs::Tar(None) => None,
        RestoreRootfs::Tar(Some(tar)) => {
            let layer = TarLayer::new(ImageBytes::Owned(copy_rootfs(tar)?)).map_err(|e| {
                Error::invalid(format!("rootfs is not a usable tar archive: {e:?}"))
            })?;
            Some(Lower::Tar(layer))
        }
        RestoreRootfs::Host(layer) => Some(Lower::Custom(Box::new(layer))),
    };
    let mut machine = Machine::restore(&settings.core, lower, bytes).map_err(snapshot_error)?;
    // The program's bytes, for symbol look-ups, when the file system still has them.
    let exe = machine.process.exe.clone();
    let elf = if exe.is_empty() {
        Box::default()
    } else {
        machine
            .read_file(&exe)
            .unwrap_or_default()
            .into_boxed_slice()
    };
    // SAFETY: `out_machine` is non-NULL and writable (caller's contract).
    unsafe { out_machine.write(new_handle(machine, elf, io, Vec::new())) };
    Ok(())
}

/// Create a machine in the state a snapshot from `friscy_machine_snapshot` describes, and
/// let it continue from there with `friscy_machine_run`.
///
/// `config->memory_size` must be the snapshotted machine's; the other settings of
/// `config` (argv, envp, working directory, stack size, seed, flags) are ignored, as
/// the snapshot carries the processes' own. `tar`/`tar_len` is the root file system the
/// snapshotted machine was created from (the same archive: its size, index and samples
/// of its files are checked), or NULL/0 if it was made by `friscy_machine_new_from_elf`.
/// For a machine made by `friscy_machine_new_from_host_fs` use
/// `friscy_machine_restore_with_host_fs`. Custom system-call handlers are not part of a
/// snapshot: register them again. A machine restored from a bare ELF has no program
/// bytes, so `friscy_machine_symbol` finds nothing in it.
///
/// Ownership: `snapshot` and `tar` are copied or read only during the call; `host_io` as
/// for `friscy_machine_new_from_elf`. On success `*out_machine` receives a new machine the
/// caller frees with `friscy_machine_free`; on failure it is left untouched.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER` (`snapshot` or `out_machine` NULL);
/// `FRISCY_ERR_BAD_SNAPSHOT` (not a snapshot, another format version, truncated, damaged
/// or inconsistent); `FRISCY_ERR_SNAPSHOT_MISMATCH` (another memory size, or not the
/// same root file system); `FRISCY_ERR_ROOTFS_NOT_SHAREABLE` (a snapshot of a machine over
/// a host directory); `FRISCY_ERR_INVALID_ARGUMENT` (bad config, `tar` not a tar);
/// `FRISCY_ERR_UNSUPPORTED`; `FRISCY_ERR_BAD_MEMORY_SIZE`; `FRISCY_ERR_OUT_OF_MEMORY`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_restore(
    config: *const crate::config::friscy_config,
    snapshot: *const u8,
    snapshot_len: usize,
    tar: *const u8,
    tar_len: usize,
    host_io: *const friscy_host_io,
    out_machine: *mut *mut super::friscy_machine,
) -> friscy_result {
    guard(|| {
        let tar = if tar.is_null() {
            if tar_len != 0 {
                return Err(Error::null("tar (with a non-zero tar_len)"));
            }
            None
        } else {
            // SAFETY: the caller promises `tar_len` readable bytes at `tar`.
            Some(unsafe { core::slice::from_raw_parts(tar, tar_len) })
        };
        // SAFETY: forwarded caller contract.
        unsafe {
            restore(
                config,
                snapshot,
                snapshot_len,
                RestoreRootfs::Tar(tar),
                host_io,
                out_machine,
            )
        }
    })
}

/// Like `friscy_machine_restore`, for a snapshot of a machine made by
/// `friscy_machine_new_from_host_fs`: `*fs` serves the same tree (with the same node ids)
/// as it did for the snapshotted machine. The library cannot check that it does.
///
/// Returns as `friscy_machine_restore`; `FRISCY_ERR_SNAPSHOT_MISMATCH` if the snapshot
/// was not taken over host callbacks; `FRISCY_ERR_NULL_POINTER`, `FRISCY_ERR_UNSUPPORTED`
/// or `FRISCY_ERR_INVALID_ARGUMENT` for a bad `fs` table as in
/// `friscy_machine_new_from_host_fs`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_restore_with_host_fs(
    config: *const crate::config::friscy_config,
    snapshot: *const u8,
    snapshot_len: usize,
    fs: *const crate::fs::friscy_fs,
    host_io: *const friscy_host_io,
    out_machine: *mut *mut super::friscy_machine,
) -> friscy_result {
    guard(|| {
        // SAFETY: the caller promises a valid table (or NULL, rejected).
        let layer = unsafe { crate::fs::HostFs::from_table(fs)? };
        // SAFETY: forwarded caller contract.
        unsafe {
            restore(
                config,
                snapshot,
                snapshot_len,
                RestoreRootfs::Host(layer),
                host_io,
                out_machine,
            )
        }
    })
}

/// Create an independent copy of machine `m`, cheaper than snapshot and restore: the
/// pages its processes use are copied into fresh memory, the read-only root file system
/// image is shared (not copied), and the guest's file changes, open files, pipes and
/// processes are copied. Parent and child then run and change independently. The child
/// gets the parent's `host_io` and custom system-call handlers (the same `userdata`).
///
/// Meant for many short-lived sandboxes from one initialised template.
///
/// Ownership: on success `*out_machine` receives a new machine the caller frees with
/// `friscy_machine_free`; on failure it is left untouched.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_ROOTFS_NOT_SHAREABLE` for a
/// machine over a host directory or host callbacks; `FRISCY_ERR_OUT_OF_MEMORY`;
/// `FRISCY_ERR_BUSY`; `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_fork(
    m: *const super::friscy_machine,
    out_machine: *mut *mut super::friscy_machine,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    unsafe {
        with_machine(m, |s| {
            if out_machine.is_null() {
                return Err(Error::null("out_machine"));
            }
            let machine = s.machine.fork().map_err(snapshot_error)?;
            let handlers = s
                .handlers
                .iter()
                .map(|h| SyscallHandler {
                    number: h.number,
                    handler: h.handler,
                    userdata: h.userdata,
                })
                .collect();
            let child = new_handle(machine, s.elf.clone(), s.io, handlers);
            // SAFETY: non-NULL and writable (caller's contract).
            out_machine.write(child);
            Ok(())
        })
    }
}
