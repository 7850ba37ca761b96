//! `friscy_machine`: the opaque machine handle, its run loop, guest memory, registers and symbols.
//!
//! Soundness: the handle is shared with C, and C may call back into the library from a
//! callback while `friscy_machine_run` holds the machine mutably. Every entry point first
//! takes the handle's `busy` flag (an atomic swap) through a shared reference that never
//! touches the machine state; only the holder of the flag creates a `&mut` to the state
//! in the `UnsafeCell`. A re-entrant (or concurrent) call finds the flag taken and returns
//! `FRISCY_ERR_BUSY` without touching the state. `friscy_machine_stop` and
//! `friscy_machine_instructions` use only atomics and work at any time.

use core::cell::UnsafeCell;
use core::ffi::{c_char, c_void, CStr};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::panic::{catch_unwind, AssertUnwindSafe};

use friscy_core::cpu::Access;
use friscy_core::elf::{Elf, ElfError};
use friscy_core::mem::MemError;
use friscy_core::{LoadError, Machine, StopReason};

use crate::config::read_config;
use crate::guard::{guard, guard_quiet, panic_text};
use crate::host::{
    friscy_host_io, friscy_syscall_fn, read_guest, read_host_io, write_guest, HostAdapter,
    SyscallHandler,
};
use crate::result::*;

mod snapshot;
pub use snapshot::*;

/// Why `friscy_machine_run` returned.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum friscy_stop_kind {
    /// The guest called exit/exit_group; see `exit_status`. Running again returns this again.
    FRISCY_STOP_EXITED = 0,
    /// The guest was killed by a signal (e.g. abort() → SIGABRT); see `signal`.
    /// Running again returns this again.
    FRISCY_STOP_SIGNALED = 1,
    /// The instruction budget is spent; run again to continue.
    FRISCY_STOP_BUDGET_SPENT = 2,
    /// A console callback answered `FRISCY_IO_PENDING` for `fd`; run again once the host
    /// can serve it (the system call is retried).
    FRISCY_STOP_PENDING_IO = 3,
    /// `friscy_machine_stop` (or `friscy_guest_stop`) was called; run again to continue.
    FRISCY_STOP_HOST_STOP = 4,
    /// A memory access outside guest memory at `fault_address` (`access` says which kind);
    /// Linux would kill the guest with `signal` (SIGSEGV, or SIGBUS for a misaligned atomic).
    /// pc stays at the instruction: running again faults again unless the host fixes it.
    FRISCY_STOP_FAULT = 5,
    /// An illegal or unsupported instruction (`instruction_bits`); Linux would send SIGILL.
    /// pc stays at the instruction.
    FRISCY_STOP_ILLEGAL_INSTRUCTION = 6,
    /// An ebreak; Linux would send SIGTRAP. pc stays at the ebreak, which is not counted as
    /// retired: to continue past it, advance pc (by 2 for c.ebreak, else 4) and run again.
    FRISCY_STOP_BREAKPOINT = 7,
    /// The guest made the pause system call (`FRISCY_SYSCALL_PAUSE`): it has initialised
    /// and is ready for guest calls (`friscy_machine_call`). Running again continues the
    /// guest after the pause.
    FRISCY_STOP_PAUSED = 8,
    /// A guest call returned (only from the `friscy_machine_call*` and `friscy_call_invoke`
    /// functions); its results are in the `friscy_call_result`.
    FRISCY_STOP_RETURNED = 9,
}

/// Which kind of access faulted (for `FRISCY_STOP_FAULT`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum friscy_access {
    /// Not a fault.
    FRISCY_ACCESS_NONE = 0,
    /// Instruction fetch.
    FRISCY_ACCESS_FETCH = 1,
    /// Data load.
    FRISCY_ACCESS_LOAD = 2,
    /// Data store.
    FRISCY_ACCESS_STORE = 3,
    /// Misaligned atomic (SIGBUS).
    FRISCY_ACCESS_MISALIGNED = 4,
}

/// How a run ended. Fields that do not apply to `kind` are 0.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct friscy_stop {
    pub kind: friscy_stop_kind,
    /// Exit status (0..255) for `FRISCY_STOP_EXITED`.
    pub exit_status: i32,
    /// The signal that killed (`SIGNALED`) or would kill (`FAULT`, `ILLEGAL_INSTRUCTION`,
    /// `BREAKPOINT`) the guest under Linux.
    pub signal: u32,
    /// The guest file descriptor for `FRISCY_STOP_PENDING_IO`.
    pub fd: i32,
    /// The raw instruction for `FRISCY_STOP_ILLEGAL_INSTRUCTION`.
    pub instruction_bits: u32,
    /// Which access faulted for `FRISCY_STOP_FAULT`.
    pub access: friscy_access,
    /// The guest pc when the run returned (for every kind).
    pub pc: u64,
    /// The faulting guest address for `FRISCY_STOP_FAULT`.
    pub fault_address: u64,
}

/// Guest registers: integer x0..x31 (x[0] reads as 0 and ignores writes), floating-point
/// f0..f31 as raw 64-bit patterns (singles NaN-boxed), pc, and fcsr (fflags in bits 0..4,
/// frm in bits 5..7).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct friscy_registers {
    pub x: [u64; 32],
    pub f: [u64; 32],
    pub pc: u64,
    pub fcsr: u32,
}

/// A guest machine running one Linux process. Opaque; create with
/// `friscy_machine_new_from_elf`, destroy with `friscy_machine_free`.
///
/// Not thread-safe: use a machine from one thread at a time (it may move between
/// threads between calls). Only `friscy_machine_stop` may be called from any thread at
/// any time; concurrent misuse of other calls is detected and returns `FRISCY_ERR_BUSY`.
pub struct friscy_machine {
    /// Taken by the call that currently owns `state`.
    busy: AtomicBool,
    /// Set after a panic inside the core left `state` possibly inconsistent.
    poisoned: AtomicBool,
    /// Host stop request, polled by the core after every system call.
    pub(crate) stop: AtomicBool,
    /// Retired instructions as of the last time a call held the state.
    instret: AtomicU64,
    state: UnsafeCell<State>,
}

/// Everything the handle owns.
pub(crate) struct State {
    pub(crate) machine: Machine,
    /// Copy of the program, for symbol look-ups.
    pub(crate) elf: Box<[u8]>,
    pub(crate) io: friscy_host_io,
    pub(crate) handlers: Vec<SyscallHandler>,
    last_error: String,
}

/// Exclusive access to a machine's state for one entry point; releases `busy` on drop.
struct Held<'a> {
    m: &'a friscy_machine,
}

impl Held<'_> {
    fn state(&mut self) -> &mut State {
        // SAFETY: `busy` is held by this guard, so no other reference to the state exists
        // (every path to it goes through taking `busy`).
        unsafe { &mut *self.m.state.get() }
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        // SAFETY: as in `state`; publish the count for lock-free readers.
        let instret = unsafe { &*self.m.state.get() }.machine.instructions();
        self.m.instret.store(instret, Ordering::Relaxed);
        self.m.busy.store(false, Ordering::Release);
    }
}

/// # Safety
/// `m` must be NULL or a live handle from `friscy_machine_new_from_elf`.
unsafe fn handle<'a>(m: *const friscy_machine) -> FResult<&'a friscy_machine> {
    // SAFETY: the caller's contract; only shared references to the handle are ever made.
    unsafe { m.as_ref() }.ok_or_else(|| Error::null("machine"))
}

fn take(m: &friscy_machine) -> FResult<Held<'_>> {
    if m.busy.swap(true, Ordering::Acquire) {
        return Err(Error::new(
            FRISCY_ERR_BUSY,
            "machine is busy: called from inside one of its callbacks, or from two threads at once",
        ));
    }
    let held = Held { m };
    if m.poisoned.load(Ordering::Relaxed) {
        return Err(Error::new(
            FRISCY_ERR_POISONED,
            "an earlier call on this machine failed with an internal error",
        ));
    }
    Ok(held)
}

/// Run `f` with exclusive access to the machine behind `m`; record failures as its last error.
///
/// # Safety
/// `m` must be NULL or a live handle.
pub(crate) unsafe fn with_machine(
    m: *const friscy_machine,
    f: impl FnOnce(&mut State) -> FResult,
) -> friscy_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let m = unsafe { handle(m)? };
        let mut held = take(m)?;
        let outcome =
            catch_unwind(AssertUnwindSafe(|| f(held.state()))).unwrap_or_else(|payload| {
                m.poisoned.store(true, Ordering::Relaxed);
                Err(Error::new(FRISCY_ERR_INTERNAL, panic_text(&*payload)))
            });
        if let Err(e) = &outcome {
            let s = held.state();
            s.last_error.clear();
            s.last_error.push_str(&e.detail);
        }
        outcome
    })
}

fn load_error(e: LoadError, elf: &[u8], memory_size: u64) -> Error {
    match e {
        LoadError::Memory(MemError::BadSize) => Error::new(
            FRISCY_ERR_BAD_MEMORY_SIZE,
            format!("config.memory_size {memory_size:#x} is not a multiple of 4096 of at least 16384 bytes"),
        ),
        LoadError::Memory(MemError::OutOfMemory) => Error::new(
            FRISCY_ERR_OUT_OF_MEMORY,
            format!("cannot allocate {memory_size} bytes of guest memory"),
        ),
        LoadError::Elf(ElfError::NotElf) => Error::new(
            FRISCY_ERR_NOT_ELF,
            format!("program ({} bytes) does not start with the ELF magic \\x7fELF", elf.len()),
        ),
        LoadError::Elf(ElfError::WrongMachine) => {
            let class = elf.get(4).copied().unwrap_or(0);
            let data = elf.get(5).copied().unwrap_or(0);
            let machine = elf.get(18..20).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
            Error::new(
                FRISCY_ERR_WRONG_MACHINE,
                format!(
                    "ELF is for e_machine {machine} (class {class}, data {data}); \
                     need EM_RISCV (243), 64-bit (class 2), little-endian (data 1)"
                ),
            )
        }
        LoadError::Elf(ElfError::NotExecutable) => {
            let kind = elf.get(16..18).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
            Error::new(
                FRISCY_ERR_NOT_EXECUTABLE,
                format!("ELF e_type is {kind}; need ET_EXEC (2) or ET_DYN (3)"),
            )
        }
        LoadError::Elf(ElfError::Malformed(what)) => Error::new(
            FRISCY_ERR_MALFORMED_ELF,
            format!("malformed ELF ({} bytes): {what}", elf.len()),
        ),
        LoadError::Elf(ElfError::TooBig) => Error::new(
            FRISCY_ERR_PROGRAM_TOO_BIG,
            format!("program segments and stack do not fit in {memory_size:#x} bytes of guest memory"),
        ),
        LoadError::NeedsInterpreter => {
            let interp = Elf::parse(elf)
                .ok()
                .and_then(|e| e.interpreter().ok().flatten())
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default();
            Error::new(
                FRISCY_ERR_NEEDS_INTERPRETER,
                format!("program is dynamically linked (PT_INTERP \"{interp}\"); link it with -static or run it from its rootfs (friscy_machine_new_from_rootfs)"),
            )
        }
        LoadError::StackTooSmall => Error::new(
            FRISCY_ERR_STACK_TOO_SMALL,
            "argv and envp do not fit in config.stack_size (capped at a quarter of memory_size)",
        ),
        LoadError::NotFound => Error::new(
            FRISCY_ERR_NOT_FOUND,
            "the program or its dynamic linker is not a regular file in the root file system",
        ),
        LoadError::PermissionDenied => Error::new(
            FRISCY_ERR_NOT_EXECUTABLE,
            "the program is not an executable file (no execute permission, or a directory)",
        ),
    }
}

/// Create a machine and load a static RISC-V 64 Linux executable into it.
///
/// `config` may be NULL for the defaults (see `friscy_config_init`); `host_io` may be NULL
/// for a host that offers no services. The program must be a statically linked riscv64
/// ELF (ET_EXEC or static PIE); dynamically linked programs need their root file system:
/// use `friscy_machine_new_from_rootfs`. The guest starts at its entry point when
/// `friscy_machine_run` is first called.
///
/// Ownership: `elf` is copied (the caller may free it as soon as this returns), as are
/// the config's strings and the `host_io` table; the `userdata` pointers inside `host_io`
/// are kept and must stay valid while the machine may call back. On success `*out_machine`
/// receives a new machine the caller must free with `friscy_machine_free`; on failure it
/// is left untouched and `friscy_last_error` describes the problem.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER` (`elf` or `out_machine` NULL, or a NULL
/// string in the config); `FRISCY_ERR_INVALID_ARGUMENT` / `FRISCY_ERR_UNSUPPORTED` for a
/// bad config or host_io struct; `FRISCY_ERR_BAD_MEMORY_SIZE`; `FRISCY_ERR_OUT_OF_MEMORY`;
/// `FRISCY_ERR_NOT_ELF`, `FRISCY_ERR_WRONG_MACHINE`, `FRISCY_ERR_NOT_EXECUTABLE`,
/// `FRISCY_ERR_MALFORMED_ELF`, `FRISCY_ERR_NEEDS_INTERPRETER`, `FRISCY_ERR_PROGRAM_TOO_BIG`,
/// `FRISCY_ERR_STACK_TOO_SMALL` for a program that cannot be loaded.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_new_from_elf(
    config: *const crate::config::friscy_config,
    elf: *const u8,
    elf_len: usize,
    host_io: *const friscy_host_io,
    out_machine: *mut *mut friscy_machine,
) -> friscy_result {
    guard(|| {
        if elf.is_null() {
            return Err(Error::null("elf"));
        }
        if out_machine.is_null() {
            return Err(Error::null("out_machine"));
        }
        // SAFETY: the caller promises a valid config (or NULL).
        let settings = unsafe { read_config(config)? };
        // SAFETY: the caller promises a valid host_io table (or NULL).
        let io = unsafe { read_host_io(host_io)? };
        // SAFETY: the caller promises `elf_len` readable bytes at `elf`.
        let src = unsafe { core::slice::from_raw_parts(elf, elf_len) };
        let mut copy = Vec::new();
        copy.try_reserve_exact(elf_len).map_err(|_| {
            Error::new(
                FRISCY_ERR_OUT_OF_MEMORY,
                format!("cannot allocate {elf_len} bytes for the copy of the program"),
            )
        })?;
        copy.extend_from_slice(src);
        let bytes = copy.into_boxed_slice();
        let memory_size = settings.core.memory_size;
        let mut machine =
            Machine::new(settings.core).map_err(|e| load_error(e, &bytes, memory_size))?;
        let argv: Vec<&[u8]> = settings.argv.iter().map(Vec::as_slice).collect();
        let envp: Vec<&[u8]> = settings.envp.iter().map(Vec::as_slice).collect();
        machine
            .load_elf(&bytes, &argv, &envp)
            .map_err(|e| load_error(e, &bytes, memory_size))?;
        machine.process.set_cwd(&settings.cwd);
        let handle = new_handle(machine, bytes, io, Vec::new());
        // SAFETY: `out_machine` is non-NULL and writable (caller's contract).
        unsafe { out_machine.write(handle) };
        Ok(())
    })
}

/// A new handle owning `machine`, with its host services; free it with `friscy_machine_free`.
fn new_handle(
    machine: Machine,
    elf: Box<[u8]>,
    io: friscy_host_io,
    handlers: Vec<SyscallHandler>,
) -> *mut friscy_machine {
    let instret = machine.instructions();
    Box::into_raw(Box::new(friscy_machine {
        busy: AtomicBool::new(false),
        poisoned: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        instret: AtomicU64::new(instret),
        state: UnsafeCell::new(State {
            machine,
            elf,
            io,
            handlers,
            last_error: String::new(),
        }),
    }))
}

/// The machine's own copy of a rootfs tar the caller lends.
fn copy_rootfs(tar: &[u8]) -> FResult<Box<[u8]>> {
    let mut copy = Vec::new();
    copy.try_reserve_exact(tar.len()).map_err(|_| {
        Error::new(
            FRISCY_ERR_OUT_OF_MEMORY,
            format!(
                "cannot allocate {} bytes for the copy of the rootfs",
                tar.len()
            ),
        )
    })?;
    copy.extend_from_slice(tar);
    Ok(copy.into_boxed_slice())
}

/// The root file system a rootfs constructor was given.
enum RootfsSource<'a> {
    Tar(&'a [u8]),
    Dir(&'a std::ffi::CStr),
    Host(crate::fs::HostFs),
}

/// Shared body of the rootfs constructors.
///
/// # Safety
/// `config`, `host_io` and `program` follow the rules of the public constructors.
unsafe fn new_from_rootfs(
    config: *const crate::config::friscy_config,
    source: RootfsSource<'_>,
    program: *const core::ffi::c_char,
    host_io: *const friscy_host_io,
    out_machine: *mut *mut friscy_machine,
) -> FResult<()> {
    use friscy_core::vfs::{ImageBytes, Vfs};
    if program.is_null() {
        return Err(Error::null("program"));
    }
    if out_machine.is_null() {
        return Err(Error::null("out_machine"));
    }
    // SAFETY: the caller promises a valid config (or NULL).
    let settings = unsafe { read_config(config)? };
    // SAFETY: the caller promises a valid host_io table (or NULL).
    let io = unsafe { read_host_io(host_io)? };
    // SAFETY: `program` is a NUL-terminated string (caller's contract).
    let program = unsafe { std::ffi::CStr::from_ptr(program) }
        .to_bytes()
        .to_vec();
    let vfs = match source {
        RootfsSource::Tar(tar) => {
            Vfs::from_tar(ImageBytes::Owned(copy_rootfs(tar)?)).map_err(|e| {
                Error::new(
                    FRISCY_ERR_INVALID_ARGUMENT,
                    format!("rootfs is not a usable tar archive: {e:?}"),
                )
            })?
        }
        RootfsSource::Dir(dir) => {
            let path = std::ffi::OsStr::new(dir.to_str().map_err(|_| {
                Error::new(
                    FRISCY_ERR_INVALID_ARGUMENT,
                    "rootfs directory path is not UTF-8",
                )
            })?);
            Vfs::from_host_dir(path).map_err(|e| {
                Error::new(
                    FRISCY_ERR_NOT_FOUND,
                    format!(
                        "cannot use rootfs directory {}: {e}",
                        path.to_string_lossy()
                    ),
                )
            })?
        }
        RootfsSource::Host(layer) => Vfs::new(friscy_core::vfs::Lower::Custom(Box::new(layer))),
    };
    let memory_size = settings.core.memory_size;
    let mut machine = Machine::new(settings.core).map_err(|e| load_error(e, &[], memory_size))?;
    machine.set_vfs(vfs);
    machine.chdir(&settings.cwd).map_err(|_| {
        Error::new(
            FRISCY_ERR_NOT_FOUND,
            format!(
                "working directory {} is not a directory in the rootfs",
                String::from_utf8_lossy(&settings.cwd)
            ),
        )
    })?;
    let envp: Vec<&[u8]> = settings.envp.iter().map(Vec::as_slice).collect();
    let path = machine.find_program(&program, &envp).ok_or_else(|| {
        Error::new(
            FRISCY_ERR_NOT_FOUND,
            format!(
                "program {} not found in the rootfs (PATH searched)",
                String::from_utf8_lossy(&program)
            ),
        )
    })?;
    let mut argv: Vec<&[u8]> = settings.argv.iter().map(Vec::as_slice).collect();
    if argv.is_empty() {
        argv.push(&program);
    }
    let elf = machine
        .read_file(&path)
        .unwrap_or_default()
        .into_boxed_slice();
    machine.load_program(&path, &argv, &envp).map_err(|e| {
        let mut err = load_error(e, &elf, memory_size);
        err.detail = format!("{}: {}", String::from_utf8_lossy(&path), err.detail);
        err
    })?;
    let handle = new_handle(machine, elf, io, Vec::new());
    // SAFETY: `out_machine` is non-NULL and writable (caller's contract).
    unsafe { out_machine.write(handle) };
    Ok(())
}

/// Create a machine whose root file system is a tar archive (a container image's rootfs)
/// and load `program` from it: a static or dynamically linked ELF (its dynamic linker and
/// libraries come from the rootfs) or a `#!` script.
///
/// `program` is a guest path; without a '/', it is searched for on the guest's `PATH`
/// (from `config->envp`, or the usual default). `config->argv` becomes the program's argv
/// (NULL/empty: just the program name); `config->working_directory` must be a directory in
/// the rootfs. The guest can create, change and delete files anywhere; its changes live in
/// the machine, never in `tar`.
///
/// Ownership: `tar` is copied (the caller may free it when this returns); otherwise as for
/// `friscy_machine_new_from_elf`. On failure `*out_machine` is left untouched.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER` (`tar`, `program` or `out_machine` NULL);
/// `FRISCY_ERR_INVALID_ARGUMENT` (not a tar archive, bad config); `FRISCY_ERR_NOT_FOUND`
/// (program, dynamic linker or working directory missing); `FRISCY_ERR_OUT_OF_MEMORY`;
/// and the ELF errors of `friscy_machine_new_from_elf` for a program that cannot be loaded.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_new_from_rootfs(
    config: *const crate::config::friscy_config,
    tar: *const u8,
    tar_len: usize,
    program: *const core::ffi::c_char,
    host_io: *const friscy_host_io,
    out_machine: *mut *mut friscy_machine,
) -> friscy_result {
    guard(|| {
        if tar.is_null() {
            return Err(Error::null("tar"));
        }
        // SAFETY: the caller promises `tar_len` readable bytes at `tar`.
        let bytes = unsafe { core::slice::from_raw_parts(tar, tar_len) };
        // SAFETY: forwarded caller contract.
        unsafe {
            new_from_rootfs(
                config,
                RootfsSource::Tar(bytes),
                program,
                host_io,
                out_machine,
            )
        }
    })
}

/// Like `friscy_machine_new_from_rootfs`, with a host directory as the (read-only) lower
/// layer of the root file system. Host symlinks are never followed out of `dir`; guest
/// writes stay in the machine and never reach the host directory.
///
/// Returns as `friscy_machine_new_from_rootfs`; `FRISCY_ERR_NOT_FOUND` if `dir` cannot be
/// opened as a directory.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_new_from_rootfs_dir(
    config: *const crate::config::friscy_config,
    dir: *const core::ffi::c_char,
    program: *const core::ffi::c_char,
    host_io: *const friscy_host_io,
    out_machine: *mut *mut friscy_machine,
) -> friscy_result {
    guard(|| {
        if dir.is_null() {
            return Err(Error::null("dir"));
        }
        // SAFETY: `dir` is a NUL-terminated string (caller's contract).
        let dir = unsafe { std::ffi::CStr::from_ptr(dir) };
        // SAFETY: forwarded caller contract.
        unsafe {
            new_from_rootfs(
                config,
                RootfsSource::Dir(dir),
                program,
                host_io,
                out_machine,
            )
        }
    })
}

/// Like `friscy_machine_new_from_rootfs`, with a root file system the host serves itself
/// through the callbacks in `*fs` (see `friscy_fs`), instead of a tar archive. The guest's
/// writes go to an in-memory overlay; the host's files are only read.
///
/// Ownership: `*fs` is copied; its `userdata` must stay valid while the machine lives.
///
/// Returns as `friscy_machine_new_from_rootfs`; `FRISCY_ERR_UNSUPPORTED` for a
/// `fs->struct_size` this library does not know; `FRISCY_ERR_INVALID_ARGUMENT` if a
/// callback is NULL.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_new_from_host_fs(
    config: *const crate::config::friscy_config,
    fs: *const crate::fs::friscy_fs,
    program: *const core::ffi::c_char,
    host_io: *const friscy_host_io,
    out_machine: *mut *mut friscy_machine,
) -> friscy_result {
    guard(|| {
        // SAFETY: the caller promises a valid table (or NULL, rejected).
        let layer = unsafe { crate::fs::HostFs::from_table(fs)? };
        // SAFETY: forwarded caller contract.
        unsafe {
            new_from_rootfs(
                config,
                RootfsSource::Host(layer),
                program,
                host_io,
                out_machine,
            )
        }
    })
}

/// Destroy a machine and everything it owns (guest memory, the ELF copy, handlers).
///
/// `friscy_machine_free(NULL)` does nothing. Must not be called while the machine is
/// running (from one of its own callbacks): such a call is detected and does nothing.
/// The handle is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_free(m: *mut friscy_machine) {
    let _ = guard_quiet(|| {
        if m.is_null() {
            return Ok(());
        }
        // SAFETY: a live handle (caller's contract); only a shared reference is made.
        let h = unsafe { &*m };
        if h.busy.swap(true, Ordering::Acquire) {
            return Ok(());
        }
        // SAFETY: `m` came from `Box::into_raw` in `friscy_machine_new_from_elf`, and the
        // busy flag shows no call is using it; the caller gives up the handle.
        drop(unsafe { Box::from_raw(m) });
        Ok(())
    });
}

pub(crate) fn stop_record(reason: StopReason, pc: u64) -> friscy_stop {
    use friscy_stop_kind::*;
    let mut s = friscy_stop {
        kind: FRISCY_STOP_BUDGET_SPENT,
        exit_status: 0,
        signal: reason.fatal_signal().unwrap_or(0),
        fd: 0,
        instruction_bits: 0,
        access: friscy_access::FRISCY_ACCESS_NONE,
        pc,
        fault_address: 0,
    };
    match reason {
        StopReason::Exited { status } => {
            s.kind = FRISCY_STOP_EXITED;
            s.exit_status = status;
        }
        StopReason::Signaled { .. } => s.kind = FRISCY_STOP_SIGNALED,
        StopReason::BudgetSpent => s.kind = FRISCY_STOP_BUDGET_SPENT,
        StopReason::Pending { fd } => {
            s.kind = FRISCY_STOP_PENDING_IO;
            s.fd = fd;
        }
        StopReason::HostStop => s.kind = FRISCY_STOP_HOST_STOP,
        StopReason::Fault { addr, access, .. } => {
            s.kind = FRISCY_STOP_FAULT;
            s.fault_address = addr;
            s.access = match access {
                Access::Fetch => friscy_access::FRISCY_ACCESS_FETCH,
                Access::Load => friscy_access::FRISCY_ACCESS_LOAD,
                Access::Store => friscy_access::FRISCY_ACCESS_STORE,
                Access::Misaligned => friscy_access::FRISCY_ACCESS_MISALIGNED,
            };
        }
        StopReason::IllegalInstruction { bits, .. } => {
            s.kind = FRISCY_STOP_ILLEGAL_INSTRUCTION;
            s.instruction_bits = bits;
        }
        StopReason::Breakpoint { .. } => s.kind = FRISCY_STOP_BREAKPOINT,
        StopReason::Paused => s.kind = FRISCY_STOP_PAUSED,
        StopReason::Returned { .. } => s.kind = FRISCY_STOP_RETURNED,
    }
    s
}

impl State {
    /// `Machine::run` with the C host; handles the library's own internal stops.
    fn run(&mut self, stop: &AtomicBool, budget: u64) -> StopReason {
        self.drive(stop, budget, |m, host, left| m.run(host, left))
    }

    /// Run `step` (a machine run or a guest call) with the C host for at most `budget`
    /// instructions, continuing past the stops the library makes for itself.
    pub(crate) fn drive(
        &mut self,
        stop: &AtomicBool,
        budget: u64,
        step: impl FnMut(&mut Machine, &mut HostAdapter<'_>, u64) -> StopReason,
    ) -> StopReason {
        drive_with_c_host(
            &mut self.machine,
            &self.io,
            &self.handlers,
            stop,
            budget,
            step,
        )
    }
}

/// `Machine::run` over a C callback table (also the gdb stub's way to run the guest).
pub(crate) fn run_with_c_host(
    machine: &mut Machine,
    io: &friscy_host_io,
    handlers: &[SyscallHandler],
    stop: &AtomicBool,
    budget: u64,
) -> StopReason {
    drive_with_c_host(machine, io, handlers, stop, budget, |m, host, left| {
        m.run(host, left)
    })
}

/// Run `step` over a C callback table for at most `budget` instructions, continuing past
/// the stops the library makes for itself (dropping decoded code a handler overwrote).
fn drive_with_c_host(
    machine: &mut Machine,
    io: &friscy_host_io,
    handlers: &[SyscallHandler],
    stop: &AtomicBool,
    budget: u64,
    mut step: impl FnMut(&mut Machine, &mut HostAdapter<'_>, u64) -> StopReason,
) -> StopReason {
    let start = machine.instructions();
    loop {
        let used = machine.instructions() - start;
        let mut host = HostAdapter {
            io,
            handlers,
            stop,
            written: Vec::new(),
        };
        let reason = step(machine, &mut host, budget.saturating_sub(used));
        let written = host.written;
        for (addr, len) in written.iter().copied() {
            machine.cache.invalidate(addr, len);
        }
        if reason == StopReason::HostStop && !stop.swap(false, Ordering::AcqRel) {
            // Stopped only to drop decoded code a handler overwrote: carry on.
            debug_assert!(!written.is_empty());
            continue;
        }
        return reason;
    }
}

/// Run the guest for at most `budget` instructions (counted exactly, so runs are
/// reproducible) and report why it stopped in `*out_stop`.
///
/// Callbacks from the machine's `friscy_host_io` and its system-call handlers are called
/// on this thread during this call. A guest that exits keeps reporting the same
/// `FRISCY_STOP_EXITED` (or `SIGNALED`) on later runs. A run with `budget` 0 returns
/// `FRISCY_STOP_BUDGET_SPENT` at once.
///
/// The pending-I/O pattern: when a console callback answers `FRISCY_IO_PENDING`, this
/// returns `FRISCY_STOP_PENDING_IO` with the guest still at its system call; once the host
/// has data (or room), it calls `friscy_machine_run` again and the call is retried.
///
/// Ownership: `*out_stop` is the caller's and is written, not kept.
///
/// Returns `FRISCY_OK` (the stop is in `*out_stop`); `FRISCY_ERR_NULL_POINTER`;
/// `FRISCY_ERR_CALL_IN_PROGRESS` while a guest call is in progress;
/// `FRISCY_ERR_BUSY` if called from one of this machine's callbacks;
/// `FRISCY_ERR_POISONED`; `FRISCY_ERR_INTERNAL` (the machine is then poisoned).
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_run(
    m: *mut friscy_machine,
    budget: u64,
    out_stop: *mut friscy_stop,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    let stop_flag = match unsafe { (m as *const friscy_machine).as_ref() } {
        Some(h) => &h.stop,
        None => return guard(|| Err(Error::null("machine"))),
    };
    // SAFETY: as above.
    unsafe {
        with_machine(m, |s| {
            if out_stop.is_null() {
                return Err(Error::null("out_stop"));
            }
            if s.machine.call_in_progress() {
                return Err(Error::new(
                    FRISCY_ERR_CALL_IN_PROGRESS,
                    "a guest call is in progress: use friscy_machine_call_resume or \
                     friscy_machine_call_abandon",
                ));
            }
            let reason = s.run(stop_flag, budget);
            let record = stop_record(reason, s.machine.cpu.pc);
            // SAFETY: non-NULL and writable (caller's contract).
            out_stop.write(record);
            Ok(())
        })
    }
}

/// Ask the machine to stop: the current (or next) `friscy_machine_run` returns
/// `FRISCY_STOP_HOST_STOP` after the guest's next system call completes. The request
/// stays pending until a run reports it. A guest that makes no system calls is only
/// stopped by its budget, so hosts should run with bounded budgets.
///
/// May be called at any time from any thread, including from inside the machine's
/// callbacks, as long as the machine is not being freed; NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_stop(m: *mut friscy_machine) {
    let _ = guard_quiet(|| {
        // SAFETY: `m` is NULL or live (caller's contract); only the atomic flag is touched.
        if let Some(h) = unsafe { (m as *const friscy_machine).as_ref() } {
            h.stop.store(true, Ordering::Release);
        }
        Ok(())
    });
}

/// The number of guest instructions retired by all guest processes and threads since the
/// machine was created (an `ecall` that ended in `FRISCY_STOP_PENDING_IO` and a stopping
/// `ebreak` are not counted).
/// Returns 0 for NULL. From inside a callback it returns the count when the current
/// run started. Never fails otherwise; nothing is kept.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_instructions(m: *const friscy_machine) -> u64 {
    let mut n = 0;
    let _ = guard_quiet(|| {
        // SAFETY: `m` is NULL or live (caller's contract).
        let h = unsafe { handle(m)? };
        n = match take(h) {
            Ok(mut held) => held.state().machine.instructions(),
            Err(_) => h.instret.load(Ordering::Relaxed),
        };
        Ok(())
    });
    n
}

/// Register `handler` for guest system call `number` (replacing any earlier one), or
/// remove the registration when `handler` is NULL. Handlers are consulted before the
/// built-in Linux system calls, so a number Linux uses can be overridden; numbers from
/// 0x10000 up are free for host APIs. `userdata` is passed to the handler as is.
///
/// Ownership: the machine keeps `handler` and `userdata` but does not own `userdata`: it
/// must stay valid while the handler is registered and the machine may run.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER` (machine NULL); `FRISCY_ERR_BUSY` from
/// inside a callback; `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_set_syscall_handler(
    m: *mut friscy_machine,
    number: u64,
    handler: friscy_syscall_fn,
    userdata: *mut c_void,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    unsafe {
        with_machine(m, |s| {
            s.handlers.retain(|h| h.number != number);
            if let Some(handler) = handler {
                s.handlers.push(SyscallHandler {
                    number,
                    handler,
                    userdata,
                });
            }
            Ok(())
        })
    }
}

/// Copy `len` bytes of guest memory starting at guest address `addr` into `buf`.
///
/// Ownership: `buf` (at least `len` bytes) is the caller's; it may be NULL when `len` is 0.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_GUEST_ADDRESS` if any byte
/// of the range lies outside guest memory (4096..memory size; nothing is copied);
/// `FRISCY_ERR_BUSY`; `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_read_memory(
    m: *const friscy_machine,
    addr: u64,
    buf: *mut u8,
    len: usize,
) -> friscy_result {
    // SAFETY: `m` is NULL or live; `buf` is valid for `len` writes (caller's contract).
    unsafe { with_machine(m, |s| read_guest(&s.machine.mem, addr, buf, len)) }
}

/// Copy `len` bytes from `data` into guest memory at guest address `addr`. Writes over
/// guest code take effect (decoded instructions for the range are discarded), so a host
/// can patch code or plant breakpoints.
///
/// Ownership: `data` stays the caller's; it may be NULL when `len` is 0.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_GUEST_ADDRESS` if any byte
/// of the range lies outside guest memory (nothing is copied); `FRISCY_ERR_BUSY`;
/// `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_write_memory(
    m: *mut friscy_machine,
    addr: u64,
    data: *const u8,
    len: usize,
) -> friscy_result {
    // SAFETY: `m` is NULL or live; `data` is valid for `len` reads (caller's contract).
    unsafe {
        with_machine(m, |s| {
            write_guest(&mut s.machine.mem, addr, data, len)?;
            s.machine.cache.invalidate(addr, len as u64);
            Ok(())
        })
    }
}

/// Store the size in bytes of the guest address space in `*out_size` (valid guest
/// addresses are 4096 up to it). Ownership: `out_size` is the caller's.
///
/// Returns `FRISCY_OK`, `FRISCY_ERR_NULL_POINTER`, `FRISCY_ERR_BUSY` or `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_memory_size(
    m: *const friscy_machine,
    out_size: *mut u64,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    unsafe {
        with_machine(m, |s| {
            if out_size.is_null() {
                return Err(Error::null("out_size"));
            }
            // SAFETY: non-NULL and writable (caller's contract).
            out_size.write(s.machine.mem.size());
            Ok(())
        })
    }
}

/// Console line-discipline bits of `friscy_machine_console_mode` (termios `c_lflag`).
pub const FRISCY_CONSOLE_ISIG: u32 = 0o1;
/// Canonical (line-by-line) input: the host should buffer a line, handle erase/kill, and
/// hand it over at Enter; off: pass every byte as it comes (the guest edits lines itself).
pub const FRISCY_CONSOLE_ICANON: u32 = 0o2;
/// The host should echo what the user types.
pub const FRISCY_CONSOLE_ECHO: u32 = 0o10;

/// Store the console's termios local-mode flags, as the guest last set them with
/// tcsetattr, in `*out_lflag` (test with `FRISCY_CONSOLE_*`). A host that draws its own
/// terminal (a browser page) uses this to decide whether to echo and to buffer lines.
/// Starts as cooked mode with echo. Ownership: `out_lflag` is the caller's.
///
/// Returns `FRISCY_OK`, `FRISCY_ERR_NULL_POINTER`, `FRISCY_ERR_BUSY` or `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_console_mode(
    m: *const friscy_machine,
    out_lflag: *mut u32,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    unsafe {
        with_machine(m, |s| {
            if out_lflag.is_null() {
                return Err(Error::null("out_lflag"));
            }
            // SAFETY: non-NULL and writable (caller's contract).
            out_lflag.write(s.machine.files.console_lflag());
            Ok(())
        })
    }
}

/// Send signal `signal` (1..64) to guest process `pid`, or with `pid` 0 to the console's
/// foreground process group: what a terminal does for Ctrl-C (SIGINT, 2). A process whose
/// default action is to terminate ends (the first process ending ends the machine: the
/// next `friscy_machine_run` reports it); guest signal handlers are not run yet, so a
/// process that installed one ignores the signal.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NOT_FOUND` if no process matched;
/// `FRISCY_ERR_INVALID_ARGUMENT` for a bad signal number; `FRISCY_ERR_NULL_POINTER`,
/// `FRISCY_ERR_BUSY` or `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_signal(
    m: *const friscy_machine,
    pid: i32,
    signal: i32,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    unsafe {
        with_machine(m, |s| {
            if !(1..=64).contains(&signal) || pid < 0 {
                return Err(Error::new(
                    FRISCY_ERR_INVALID_ARGUMENT,
                    format!("signal {signal} to pid {pid}: need 1..=64 and pid >= 0"),
                ));
            }
            if s.machine.send_signal(pid, signal as u32) {
                Ok(())
            } else {
                Err(Error::new(
                    FRISCY_ERR_NOT_FOUND,
                    format!("no guest process {pid}"),
                ))
            }
        })
    }
}

/// Copy the guest's registers into `*out_regs`. Ownership: `out_regs` is the caller's.
///
/// Returns `FRISCY_OK`, `FRISCY_ERR_NULL_POINTER`, `FRISCY_ERR_BUSY` or `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_get_registers(
    m: *const friscy_machine,
    out_regs: *mut friscy_registers,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    unsafe {
        with_machine(m, |s| {
            if out_regs.is_null() {
                return Err(Error::null("out_regs"));
            }
            let cpu = &s.machine.cpu;
            let mut x = [0u64; 32];
            x.copy_from_slice(&cpu.x[..32]);
            x[0] = 0;
            let regs = friscy_registers {
                x,
                f: cpu.f,
                pc: cpu.pc,
                fcsr: u32::from(cpu.fflags & 0x1f) | (u32::from(cpu.frm & 7) << 5),
            };
            // SAFETY: non-NULL and writable (caller's contract).
            out_regs.write(regs);
            Ok(())
        })
    }
}

/// Set the guest's registers from `*regs` (x[0] is ignored). The next run continues at
/// `regs->pc`. Ownership: `regs` is only read during the call.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_INVALID_ARGUMENT` if fcsr has
/// bits above bit 7 set (nothing is changed); `FRISCY_ERR_BUSY`; `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_set_registers(
    m: *mut friscy_machine,
    regs: *const friscy_registers,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    unsafe {
        with_machine(m, |s| {
            if regs.is_null() {
                return Err(Error::null("regs"));
            }
            // SAFETY: non-NULL and readable (caller's contract); any bit pattern is valid.
            let r = regs.read();
            if r.fcsr > 0xff {
                return Err(Error::invalid(format!(
                    "regs.fcsr {:#x} has bits above bit 7 (fflags 0..4, frm 5..7)",
                    r.fcsr
                )));
            }
            let cpu = &mut s.machine.cpu;
            cpu.x[1..32].copy_from_slice(&r.x[1..]);
            cpu.f = r.f;
            cpu.pc = r.pc;
            cpu.fflags = (r.fcsr & 0x1f) as u8;
            cpu.frm = ((r.fcsr >> 5) & 7) as u8;
            Ok(())
        })
    }
}

/// Look up symbol `name` (NUL-terminated) in the loaded program's symbol tables and store
/// its guest address (relocated for position-independent programs) in `*out_addr`.
/// Stripped programs have no symbols. Ownership: `name` is only read during the call;
/// `out_addr` is the caller's.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_NOT_FOUND`;
/// `FRISCY_ERR_BUSY`; `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_symbol(
    m: *const friscy_machine,
    name: *const c_char,
    out_addr: *mut u64,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    unsafe {
        with_machine(m, |s| {
            if name.is_null() {
                return Err(Error::null("name"));
            }
            if out_addr.is_null() {
                return Err(Error::null("out_addr"));
            }
            // SAFETY: a NUL-terminated string (caller's contract).
            let name = CStr::from_ptr(name).to_bytes();
            let value = Elf::parse(&s.elf)
                .ok()
                .and_then(|e| e.symbol(name))
                .ok_or_else(|| {
                    Error::new(
                        FRISCY_ERR_NOT_FOUND,
                        format!(
                            "symbol \"{}\" is not in the program's symbol tables",
                            String::from_utf8_lossy(name)
                        ),
                    )
                })?;
            // SAFETY: non-NULL and writable (caller's contract).
            out_addr.write(value.wrapping_add(s.machine.image.bias));
            Ok(())
        })
    }
}

/// Write the detail of the most recent failed call on this machine (which address,
/// argument or field was wrong) into `buf`; empty if none has failed. Buffer rules as for
/// `friscy_result_message` (`buf == NULL && len == 0` queries the length; `*written`
/// excludes the NUL). This call does not change the text. Ownership: `buf` and `written`
/// are the caller's.
///
/// Returns `FRISCY_OK`, `FRISCY_ERR_NULL_POINTER`, `FRISCY_ERR_BUFFER_TOO_SMALL` or
/// `FRISCY_ERR_BUSY` (from inside a callback). Works on a poisoned machine.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_last_error(
    m: *const friscy_machine,
    buf: *mut c_char,
    len: usize,
    written: *mut usize,
) -> friscy_result {
    guard_quiet(|| {
        // SAFETY: `m` is NULL or live (caller's contract).
        let h = unsafe { handle(m)? };
        if h.busy.swap(true, Ordering::Acquire) {
            return Err(Error::new(FRISCY_ERR_BUSY, ""));
        }
        let mut held = Held { m: h };
        // SAFETY: buffer validity is the caller's contract.
        unsafe { write_c_string(&held.state().last_error, buf, len, written) }
    })
}
