//! A whole guest machine: hart, address space, code cache and Linux process, driven by `run(budget)`.

use crate::cpu::{Access, CodeCache, Cpu, Exit};
use crate::elf::{CopyPages, Elf, ElfError, ImagePages};
use crate::host::Host;
use crate::linux::{self, signal, Process, ProcessConfig, StackImage, SyscallOutcome, Termination};
use crate::mem::{MemError, Memory, PAGE_SIZE};

/// A program read from the VFS and checked, ready to replace a process image.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug)]
pub(crate) struct PreparedProgram {
    pub elf: alloc::vec::Vec<u8>,
    pub interp: Option<alloc::vec::Vec<u8>>,
    pub args: alloc::vec::Vec<alloc::vec::Vec<u8>>,
    pub exe: alloc::vec::Vec<u8>,
}

/// Where position-independent executables are placed.
const PIE_BASE: u64 = 0x0001_0000;
/// RV64IMAFDC as AT_HWCAP letter bits.
const HWCAP_RV64GC: u64 = (1 << (b'i' - b'a'))
    | (1 << (b'm' - b'a'))
    | 1 // 'a'
    | (1 << (b'f' - b'a'))
    | (1 << (b'd' - b'a'))
    | (1 << (b'c' - b'a'));

/// Settings fixed when a machine is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Size of the guest address space in bytes (page multiple).
    pub memory_size: u64,
    pub process: ProcessConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            memory_size: 1 << 30,
            process: ProcessConfig::default(),
        }
    }
}

/// Why `run` returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The guest called exit/exit_group with this status.
    Exited { status: i32 },
    /// The guest was killed by a signal (e.g. abort → SIGABRT).
    Signaled { signal: u32 },
    /// The instruction budget is spent; `run` again to continue.
    BudgetSpent,
    /// A blocking call on `fd` has no data yet; `run` again once the host has some.
    Pending { fd: i32 },
    /// A memory access outside the address space (the guest would get SIGSEGV/SIGBUS).
    Fault { pc: u64, addr: u64, access: Access },
    /// An illegal instruction (the guest would get SIGILL).
    IllegalInstruction { pc: u64, bits: u32 },
    /// An `ebreak` (the guest would get SIGTRAP); pc is left at it.
    Breakpoint { pc: u64 },
    /// The host asked to stop (`Host::stop_requested`); `run` again to continue.
    HostStop,
    /// The guest made the pause call ([`crate::vmcall::PAUSE_SYSCALL`]): it is ready for
    /// guest calls; `run` again continues after the pause.
    Paused,
    /// The guest function of a host call returned (see [`crate::vmcall`]); the registers are
    /// back to their pre-call values. `a0` is the integer result, `fa0` the raw bits of the
    /// floating-point one.
    Returned { a0: u64, fa0: u64 },
}

impl StopReason {
    /// The signal Linux would kill the process with for this stop, if any.
    pub fn fatal_signal(&self) -> Option<u32> {
        match *self {
            StopReason::Signaled { signal } => Some(signal),
            StopReason::Fault {
                access: Access::Misaligned,
                ..
            } => Some(signal::SIGBUS),
            StopReason::Fault { .. } => Some(signal::SIGSEGV),
            StopReason::IllegalInstruction { .. } => Some(signal::SIGILL),
            StopReason::Breakpoint { .. } => Some(signal::SIGTRAP),
            _ => None,
        }
    }
}

/// Errors creating or loading a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    Memory(MemError),
    Elf(ElfError),
    /// The program needs a dynamic linker (PT_INTERP), which requires a root file system.
    NeedsInterpreter,
    /// argv/envp do not fit on the stack.
    StackTooSmall,
    /// The program (or its dynamic linker) is not a regular file in the guest's file system.
    NotFound,
    /// The program is a file without execute permission (or a directory).
    PermissionDenied,
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::Memory(MemError::BadSize) => f.write_str("invalid guest memory size"),
            LoadError::Memory(MemError::OutOfMemory) => f.write_str("cannot allocate guest memory"),
            LoadError::Elf(e) => e.fmt(f),
            LoadError::NeedsInterpreter => {
                f.write_str("dynamically linked program: needs its root file system (--rootfs)")
            }
            LoadError::StackTooSmall => {
                f.write_str("arguments and environment do not fit on the stack")
            }
            LoadError::NotFound => f.write_str("no such file in the guest's root file system"),
            LoadError::PermissionDenied => {
                f.write_str("permission denied (not an executable file)")
            }
        }
    }
}

impl From<ElfError> for LoadError {
    fn from(e: ElfError) -> Self {
        LoadError::Elf(e)
    }
}

impl From<MemError> for LoadError {
    fn from(e: MemError) -> Self {
        LoadError::Memory(e)
    }
}

/// A guest machine running one Linux process.
pub struct Machine {
    pub cpu: Cpu,
    pub mem: Memory,
    pub cache: CodeCache,
    pub process: Process,
    /// Open-file descriptions and pipes, shared by every process's fd table.
    pub files: crate::linux::OpenFiles,
    /// The guest's file system (none: every path is absent).
    #[cfg(feature = "alloc")]
    pub vfs: Option<crate::vfs::Vfs>,
    /// Where the program was loaded (for symbol look-ups: add `image.bias` to ELF addresses).
    pub image: crate::elf::LoadedImage,
    /// Every other guest process (waiting to run, or exited and not yet reaped).
    #[cfg(feature = "alloc")]
    pub(crate) procs: crate::processes::Processes,
    /// Set once the process has terminated; later `run`s return it again.
    pub(crate) terminated: Option<Termination>,
    /// The hart state saved by a host call into a guest function (`vmcall`).
    pub(crate) call_frame: crate::vmcall::CallFrame,
}

impl core::fmt::Debug for Machine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Machine")
            .field("pc", &self.cpu.pc)
            .field("instret", &self.cpu.instret)
            .field("mem", &self.mem)
            .finish()
    }
}

impl Machine {
    /// A machine with an empty address space of `config.memory_size` bytes.
    #[cfg(feature = "alloc")]
    pub fn new(config: Config) -> Result<Machine, LoadError> {
        let size = usize::try_from(config.memory_size).map_err(|_| MemError::BadSize)?;
        let mem = Memory::new(size)?;
        Ok(Machine::with_memory(mem, config.process))
    }

    /// A machine over host-provided guest memory.
    pub fn with_memory(mem: Memory, process: ProcessConfig) -> Machine {
        let mut files = crate::linux::OpenFiles::new();
        let fds = files.console_table();
        Machine {
            cpu: Cpu::default(),
            mem,
            cache: CodeCache::default(),
            process: Process::new(process, fds),
            files,
            #[cfg(feature = "alloc")]
            vfs: None,
            #[cfg(feature = "alloc")]
            procs: Default::default(),
            image: crate::elf::LoadedImage::default(),
            terminated: None,
            call_frame: Default::default(),
        }
    }

    /// Load a static (ET_EXEC or static-PIE) ELF and set up its stack with `argv` and `envp`.
    pub fn load_elf(
        &mut self,
        elf_bytes: &[u8],
        argv: &[&[u8]],
        envp: &[&[u8]],
    ) -> Result<(), LoadError> {
        self.load_elf_with(elf_bytes, &mut CopyPages, argv, envp)
    }

    /// [`Machine::load_elf`], letting `pages` map whole pages of `elf_bytes` (the program
    /// file's contents) into guest memory instead of copying them.
    pub fn load_elf_with(
        &mut self,
        elf_bytes: &[u8],
        pages: &mut dyn ImagePages,
        argv: &[&[u8]],
        envp: &[&[u8]],
    ) -> Result<(), LoadError> {
        let elf = Elf::parse(elf_bytes)?;
        if elf.interpreter()?.is_some() {
            return Err(LoadError::NeedsInterpreter);
        }
        self.call_frame.active = false;
        self.load_images(&elf, pages, None, argv, envp)
    }

    /// Lay out the program (and its dynamic linker, if any) in the address space, then
    /// the stack with argv, envp and the auxiliary vector, as Linux's execve does.
    fn load_images(
        &mut self,
        elf: &Elf<'_>,
        pages: &mut dyn ImagePages,
        interp: Option<&Elf<'_>>,
        argv: &[&[u8]],
        envp: &[&[u8]],
    ) -> Result<(), LoadError> {
        let (lo, _hi, align) = elf.load_extent()?;
        let bias = if elf.is_pie() {
            let base = (PIE_BASE + align - 1) & !(align - 1);
            base.wrapping_sub(lo)
        } else {
            0
        };
        let image = elf.load_with(&mut self.mem, bias, pages)?;

        let size = self.mem.size();
        let stack_size = self.process.config.stack_size.min(size / 4) & !(PAGE_SIZE - 1);
        let stack_top = size;
        let stack_limit = stack_top - stack_size;
        let heap_start = (image.end + PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        if heap_start >= stack_limit {
            return Err(ElfError::TooBig.into());
        }
        let p = &mut self.process;
        p.brk_start = heap_start;
        p.brk = heap_start;
        p.stack_top = stack_top;
        // Keep a guard gap between mmap space and the stack.
        p.mmap_max = stack_limit - PAGE_SIZE;
        p.mmap_min = heap_start;
        p.maps = crate::linux::Regions::new();

        // The dynamic linker goes where mmap would put it, leaving room for the heap below.
        let (entry, interp_base) = match interp {
            None => (image.entry, 0),
            Some(ld) => {
                let (ld_lo, ld_hi, ld_align) = ld.load_extent()?;
                if !ld.is_pie() {
                    return Err(
                        ElfError::Malformed("dynamic linker is not position independent").into(),
                    );
                }
                let span = ld_hi.checked_sub(ld_lo).ok_or(ElfError::TooBig)?;
                let len = (span + ld_align + PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
                let floor = heap_start + (size / 8);
                let at = p
                    .maps
                    .find_gap(floor, p.mmap_max, len)
                    .ok_or(ElfError::TooBig)?;
                let base = (at + ld_align - 1) & !(ld_align - 1);
                p.maps.insert(at, len, 7);
                let ld_image = ld.load(&mut self.mem, base.wrapping_sub(ld_lo))?;
                (ld_image.entry, ld_image.bias)
            }
        };

        let mut random = [0u8; 16];
        p.pseudo_random(&mut random);
        let auxv = [
            (linux::AT_PHDR, image.phdr),
            (linux::AT_PHENT, 56),
            (linux::AT_PHNUM, u64::from(image.phnum)),
            (linux::AT_PAGESZ, PAGE_SIZE),
            (linux::AT_BASE, interp_base),
            (linux::AT_FLAGS, 0),
            (linux::AT_ENTRY, image.entry),
            (linux::AT_UID, 0),
            (linux::AT_EUID, 0),
            (linux::AT_GID, 0),
            (linux::AT_EGID, 0),
            (linux::AT_SECURE, 0),
            (linux::AT_HWCAP, HWCAP_RV64GC),
            (linux::AT_CLKTCK, 100),
        ];
        let execfn = argv.first().copied().unwrap_or(b"");
        let stack = StackImage {
            argv,
            envp,
            execfn,
            auxv: &auxv,
            random,
        };
        let sp = linux::build_stack(&mut self.mem, stack_top, stack_limit, &stack)
            .ok_or(LoadError::StackTooSmall)?;
        self.cpu = Cpu::default();
        self.cpu.x[2] = sp;
        self.cpu.pc = entry;
        self.cache.flush();
        self.terminated = None;
        self.image = image;
        #[cfg(feature = "alloc")]
        {
            let p = &mut self.process;
            p.cmdline.clear();
            for a in argv {
                p.cmdline.extend_from_slice(a);
                p.cmdline.push(0);
            }
        }
        Ok(())
    }

    /// Use `vfs` as the guest's file system.
    #[cfg(feature = "alloc")]
    pub fn set_vfs(&mut self, vfs: crate::vfs::Vfs) {
        self.vfs = Some(vfs);
    }

    /// Load the program at `path` inside the VFS: a static or dynamically linked ELF
    /// (its PT_INTERP is loaded from the VFS too) or a `#!` script.
    #[cfg(feature = "alloc")]
    pub fn load_program(
        &mut self,
        path: &[u8],
        argv: &[&[u8]],
        envp: &[&[u8]],
    ) -> Result<(), LoadError> {
        let prepared = self.prepare_program(path, argv)?;
        self.call_frame.active = false;
        self.install_program(&prepared, envp)
    }

    /// Read and check everything execve needs before it may replace the process image.
    #[cfg(feature = "alloc")]
    pub(crate) fn prepare_program(
        &mut self,
        path: &[u8],
        argv: &[&[u8]],
    ) -> Result<PreparedProgram, LoadError> {
        use alloc::vec::Vec;
        let mut path: Vec<u8> = path.to_vec();
        let mut args: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
        // Follow up to a few levels of `#!` interpreters, as Linux does.
        for _ in 0..4 {
            self.check_executable(&path)?;
            let bytes = self.read_guest_file(&path)?;
            if bytes.starts_with(b"#!") {
                let line_end = bytes
                    .iter()
                    .position(|&b| b == b'\n')
                    .unwrap_or(bytes.len())
                    .min(256);
                let line = &bytes[2..line_end];
                let trimmed: Vec<u8> = line
                    .iter()
                    .copied()
                    .skip_while(|b| *b == b' ' || *b == b'\t')
                    .collect();
                let mut parts = trimmed.splitn(2, |b| *b == b' ' || *b == b'\t');
                let interp = parts.next().unwrap_or(&[]).to_vec();
                if interp.is_empty() {
                    return Err(LoadError::Elf(ElfError::NotElf));
                }
                let arg = parts
                    .next()
                    .map(|a| a.trim_ascii().to_vec())
                    .filter(|a| !a.is_empty());
                let mut new_args = alloc::vec![interp.clone()];
                new_args.extend(arg);
                new_args.push(path.clone());
                new_args.extend(args.into_iter().skip(1));
                args = new_args;
                path = interp;
                continue;
            }
            let elf = Elf::parse(&bytes)?;
            let interp = match elf.interpreter()? {
                Some(ld) => {
                    let ld_bytes = self.read_guest_file(ld)?;
                    Elf::parse(&ld_bytes)?;
                    Some(ld_bytes)
                }
                None => None,
            };
            // /proc/self/exe must name the file even after a chdir: make it absolute.
            let exe = if path.first() == Some(&b'/') {
                path.clone()
            } else {
                let mut abs = self.process.cwd[..self.process.cwd_len].to_vec();
                if abs.last() != Some(&b'/') {
                    abs.push(b'/');
                }
                abs.extend_from_slice(&path);
                abs
            };
            return Ok(PreparedProgram {
                elf: bytes,
                interp,
                args,
                exe,
            });
        }
        Err(LoadError::Elf(ElfError::Malformed(
            "too many levels of #! interpreters",
        )))
    }

    /// Lay out a prepared program in this machine's (fresh) address space.
    #[cfg(feature = "alloc")]
    pub(crate) fn install_program(
        &mut self,
        prepared: &PreparedProgram,
        envp: &[&[u8]],
    ) -> Result<(), LoadError> {
        let elf = Elf::parse(&prepared.elf)?;
        let interp = match &prepared.interp {
            Some(b) => Some(Elf::parse(b)?),
            None => None,
        };
        let argv: alloc::vec::Vec<&[u8]> = prepared.args.iter().map(|a| a.as_slice()).collect();
        self.process.exe = prepared.exe.clone();
        self.load_images(&elf, &mut CopyPages, interp.as_ref(), &argv, envp)
    }

    /// Set the working directory to `path` inside the VFS (must be a directory).
    #[cfg(feature = "alloc")]
    pub fn chdir(&mut self, path: &[u8]) -> Result<(), LoadError> {
        let vfs = self.vfs.as_mut().ok_or(LoadError::NotFound)?;
        let mut cx = crate::vfs::ProcessView::default();
        let root = vfs.root();
        let ino = vfs
            .resolve(&mut cx, root, path, true)
            .map_err(|_| LoadError::NotFound)?;
        let st = vfs.stat(ino).map_err(|_| LoadError::NotFound)?;
        if st.mode & 0o170000 != 0o040000 {
            return Err(LoadError::NotFound);
        }
        let abs = vfs.path_of(ino).map_err(|_| LoadError::NotFound)?;
        self.process.set_cwd(&abs);
        self.process.cwd_ino = ino;
        Ok(())
    }

    /// Whether `path` names a regular file in the VFS (for `PATH` searches).
    #[cfg(feature = "alloc")]
    pub fn is_guest_file(&mut self, path: &[u8]) -> bool {
        let Some(vfs) = self.vfs.as_mut() else {
            return false;
        };
        let mut cx = crate::vfs::ProcessView::default();
        let cwd = if self.process.cwd_ino == 0 {
            vfs.root()
        } else {
            self.process.cwd_ino
        };
        vfs.stat_path(&mut cx, cwd, path, true)
            .is_ok_and(|st| st.mode & 0o170000 == 0o100000)
    }

    /// Where a container runtime finds `program`: as given if it contains a '/', else in
    /// the first directory of the guest's `PATH` (from `envp`, or the usual default) that
    /// holds a regular file of that name.
    #[cfg(feature = "alloc")]
    pub fn find_program(&mut self, program: &[u8], envp: &[&[u8]]) -> Option<alloc::vec::Vec<u8>> {
        if program.contains(&b'/') {
            return Some(program.to_vec());
        }
        if program.is_empty() {
            return None;
        }
        let path = envp
            .iter()
            .find_map(|e| e.strip_prefix(b"PATH="))
            .unwrap_or(b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        path.split(|&b| b == b':')
            .filter(|d| !d.is_empty())
            .find_map(|dir| {
                let mut candidate = dir.to_vec();
                candidate.push(b'/');
                candidate.extend_from_slice(program);
                self.is_guest_file(&candidate).then_some(candidate)
            })
    }

    /// The whole content of the regular file at `path` in the guest's file system.
    #[cfg(feature = "alloc")]
    pub fn read_file(&mut self, path: &[u8]) -> Result<alloc::vec::Vec<u8>, LoadError> {
        self.read_guest_file(path)
    }

    /// What /proc/self shows of the running process to machine-level VFS look-ups (exec).
    #[cfg(feature = "alloc")]
    fn process_view(&self) -> crate::vfs::ProcessView {
        crate::vfs::ProcessView {
            pid: self.process.pid,
            exe: self.process.exe.clone(),
            cwd: self.process.cwd[..self.process.cwd_len].to_vec(),
            cmdline: self.process.cmdline.clone(),
            ..Default::default()
        }
    }

    /// execve's permission rule: a regular file with an execute bit (root bypasses the
    /// owner bits, as Linux does, but still needs one of them set).
    #[cfg(feature = "alloc")]
    fn check_executable(&mut self, path: &[u8]) -> Result<(), LoadError> {
        let mut cx = self.process_view();
        let vfs = self.vfs.as_mut().ok_or(LoadError::NotFound)?;
        let cwd = if self.process.cwd_ino == 0 {
            vfs.root()
        } else {
            self.process.cwd_ino
        };
        let st = vfs
            .stat_path(&mut cx, cwd, path, true)
            .map_err(|_| LoadError::NotFound)?;
        if st.mode & 0o170000 != 0o100000 || st.mode & 0o111 == 0 {
            return Err(LoadError::PermissionDenied);
        }
        Ok(())
    }

    /// The whole content of a regular file in the VFS.
    #[cfg(feature = "alloc")]
    fn read_guest_file(&mut self, path: &[u8]) -> Result<alloc::vec::Vec<u8>, LoadError> {
        let mut cx = self.process_view();
        let vfs = self.vfs.as_mut().ok_or(LoadError::NotFound)?;
        let cwd = if self.process.cwd_ino == 0 {
            vfs.root()
        } else {
            self.process.cwd_ino
        };
        let ino = vfs
            .open(&mut cx, cwd, path, 0, 0)
            .map_err(|_| LoadError::NotFound)?;
        let st = vfs.stat(ino).map_err(|_| LoadError::NotFound);
        let result = st.and_then(|st| {
            if st.mode & 0o170000 != 0o100000 {
                return Err(LoadError::NotFound);
            }
            let mut data = alloc::vec![0u8; st.size as usize];
            let mut done = 0;
            while done < data.len() {
                match vfs.read(&mut cx, ino, done as u64, &mut data[done..]) {
                    Ok(0) => break,
                    Ok(n) => done += n,
                    Err(_) => return Err(LoadError::NotFound),
                }
            }
            data.truncate(done);
            Ok(data)
        });
        vfs.close(ino);
        result
    }

    /// Instructions retired by all guest processes and threads since the machine was created
    /// (an `ecall` that blocked and will run again, and a stopping `ebreak`, do not count).
    /// `cpu.instret` is the running process's own count, which changes when another process
    /// gets the hart.
    pub fn instructions(&self) -> u64 {
        #[cfg(feature = "alloc")]
        {
            self.procs.retired
        }
        #[cfg(not(feature = "alloc"))]
        {
            self.cpu.instret
        }
    }

    /// Run at most `budget` instructions (exactly counted, over all guest processes),
    /// handling system calls through `host`.
    pub fn run<H: Host + ?Sized>(&mut self, host: &mut H, budget: u64) -> StopReason {
        if let Some(t) = self.terminated {
            return termination_reason(t);
        }
        let mut used = 0u64;
        // Consecutive blocked system calls with no instruction retired in between: once
        // every process has had its turn, nothing can make progress without the host.
        let mut idle = 0usize;
        let mut host_pending: Option<i32> = None;
        loop {
            if used >= budget {
                return StopReason::BudgetSpent;
            }
            #[cfg(feature = "alloc")]
            self.fire_due_timers(host);
            #[cfg(feature = "alloc")]
            if self.process.thread.pending & !self.process.thread.sigmask != 0 {
                if let Some(crate::processes::CallOutcome::Finished(t)) = self.deliver_signals() {
                    self.terminated = Some(t);
                    return termination_reason(t);
                }
            }
            #[cfg(feature = "alloc")]
            let slice = if self.has_other_task() {
                let left = crate::processes::TIME_SLICE.saturating_sub(self.procs.slice_used);
                (budget - used).min(left.max(1))
            } else {
                budget - used
            };
            #[cfg(not(feature = "alloc"))]
            let slice = budget - used;
            #[cfg(feature = "alloc")]
            let slice = self.timer_slice(host, slice);
            let before = self.cpu.instret;
            let exit = self.cpu.run(&mut self.mem, &mut self.cache, slice);
            // Counters wrap, as the instret CSR does (only a restored snapshot gets near).
            let ran = self.cpu.instret.wrapping_sub(before);
            used += ran;
            #[cfg(feature = "alloc")]
            {
                self.procs.slice_used = self.procs.slice_used.wrapping_add(ran);
                self.procs.retired = self.procs.retired.wrapping_add(ran);
            }
            let fatal = match exit {
                Exit::Budget => {
                    // Instructions ran: that is progress, whoever is blocked.
                    idle = 0;
                    // Switch only at the end of a time slice, not when the host's budget
                    // ends, so the schedule does not depend on how the host slices it.
                    #[cfg(feature = "alloc")]
                    if self.procs.slice_used >= crate::processes::TIME_SLICE {
                        self.expire_futex_timeouts(host);
                        if !self.switch_to_next() {
                            self.procs.slice_used = 0;
                        }
                    }
                    continue;
                }
                Exit::Ecall => {
                    match self.intercept_ecall() {
                        crate::vmcall::EcallIntercept::Pass => {}
                        crate::vmcall::EcallIntercept::Done => {
                            idle = 0;
                            continue;
                        }
                        crate::vmcall::EcallIntercept::Stop(stop) => return stop,
                    }
                    #[cfg(feature = "alloc")]
                    let vfs = self.vfs.as_mut();
                    #[cfg(not(feature = "alloc"))]
                    let vfs = None;
                    let outcome = self.process.syscall(
                        &mut self.cpu,
                        &mut self.mem,
                        &mut self.cache,
                        &mut self.files,
                        vfs,
                        host,
                    );
                    // The deadlock breaker's mark is for one attempt; process-level calls
                    // (wait4, rt_sigsuspend) read it below, the others already have.
                    let never_block = core::mem::take(&mut self.process.thread.never_block);
                    let blocked = match outcome {
                        SyscallOutcome::Done => {
                            self.process.thread.in_blocking_call = false;
                            self.cpu.pc = self.cpu.pc.wrapping_add(4);
                            idle = 0;
                            if host.stop_requested() {
                                return StopReason::HostStop;
                            }
                            continue;
                        }
                        SyscallOutcome::Pending { fd } => {
                            host_pending = Some(fd);
                            true
                        }
                        SyscallOutcome::Blocked => true,
                        SyscallOutcome::Terminated(t) => match self.end_current(t) {
                            Some(stop) => return stop,
                            None => {
                                idle = 0;
                                continue;
                            }
                        },
                        SyscallOutcome::Machine(call) => {
                            let number = self.cpu.x[17];
                            let args = [
                                self.cpu.x[10],
                                self.cpu.x[11],
                                self.cpu.x[12],
                                self.cpu.x[13],
                                self.cpu.x[14],
                                self.cpu.x[15],
                            ];
                            let (pid, tid) = (self.process.pid, self.process.thread.tid);
                            self.process.thread.never_block = never_block;
                            let step = self.machine_call(call);
                            if self.process.pid == pid && self.process.thread.tid == tid {
                                self.process.thread.never_block = false;
                            }
                            if self.process.trace && !matches!(step, MachineStep::Blocked) {
                                // The result is in a0 unless the call replaced the thread.
                                let result =
                                    if self.process.pid == pid && self.process.thread.tid == tid {
                                        self.cpu.x[10] as i64
                                    } else {
                                        0
                                    };
                                host.trace_syscall(&crate::host::SyscallRecord {
                                    number,
                                    args,
                                    result,
                                    known: true,
                                });
                            }
                            match step {
                                MachineStep::Continue => {
                                    idle = 0;
                                    // A thread switched in may itself sleep in a call.
                                    if self.process.pid == pid && self.process.thread.tid == tid {
                                        self.process.thread.in_blocking_call = false;
                                    }
                                    continue;
                                }
                                MachineStep::Blocked => true,
                                MachineStep::Stop(stop) => return stop,
                            }
                        }
                    };
                    if blocked {
                        self.process.thread.in_blocking_call = true;
                        // The ecall will run again; it must not count twice.
                        self.cpu.instret = self.cpu.instret.wrapping_sub(1);
                        used -= 1;
                        #[cfg(feature = "alloc")]
                        {
                            self.procs.retired = self.procs.retired.wrapping_sub(1);
                        }
                        idle = if ran > 1 { 1 } else { idle + 1 };
                        if idle > self.thread_total() {
                            if let Some(fd) = host_pending {
                                return StopReason::Pending { fd };
                            }
                            idle = 0;
                            // Only sleepers with a deadline can still make progress.
                            if !self.sleep_until_deadline(host) {
                                // Deadlock among guest threads: the next blocking call fails instead.
                                self.process.thread.never_block = true;
                            }
                            continue;
                        }
                        if !self.switch_process(host) {
                            if let Some(fd) = host_pending {
                                return StopReason::Pending { fd };
                            }
                            if self.sleep_until_deadline(host) {
                                idle = 0;
                            } else {
                                self.process.thread.never_block = true;
                            }
                        }
                    }
                    continue;
                }
                Exit::Ebreak { .. } => {
                    self.cpu.instret = self.cpu.instret.wrapping_sub(1);
                    #[cfg(feature = "alloc")]
                    {
                        self.procs.retired = self.procs.retired.wrapping_sub(1);
                    }
                    StopReason::Breakpoint { pc: self.cpu.pc }
                }
                Exit::Fault { addr, access } => {
                    if let Some(returned) = self.returned_from_call(addr, access) {
                        return returned;
                    }
                    StopReason::Fault {
                        pc: self.cpu.pc,
                        addr,
                        access,
                    }
                }
                Exit::Illegal { bits } => StopReason::IllegalInstruction {
                    pc: self.cpu.pc,
                    bits,
                },
            };
            // A guest that handles the signal gets it; otherwise a fault in a child kills
            // just that child, and the first process's faults go to the host, which decides.
            #[cfg(feature = "alloc")]
            if let Some(sig) = fatal.fatal_signal() {
                let handler = self.process.sigactions[sig as usize].handler;
                let blocked = self.process.thread.sigmask & (1 << (sig - 1)) != 0;
                if handler > 1 && !blocked && !matches!(fatal, StopReason::Breakpoint { .. }) {
                    self.process.thread.pending |= 1 << (sig - 1);
                    continue;
                }
            }
            #[cfg(feature = "alloc")]
            if self.process.pid != 1 && self.has_other_process() {
                let sig = fatal.fatal_signal().unwrap_or(signal::SIGSEGV);
                if let Some(stop) = self.end_current(Termination::Signaled(sig)) {
                    return stop;
                }
                continue;
            }
            return fatal;
        }
    }

    /// Threads alive in this machine, over all processes.
    fn thread_total(&self) -> usize {
        #[cfg(feature = "alloc")]
        return self.thread_count();
        #[cfg(not(feature = "alloc"))]
        1
    }

    /// Give the hart to another thread or process (ending futex waits whose time is up
    /// first); false if there is none.
    fn switch_process<H: Host + ?Sized>(&mut self, host: &mut H) -> bool {
        #[cfg(feature = "alloc")]
        {
            self.expire_futex_timeouts(host);
            self.switch_to_next()
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = host;
            false
        }
    }

    /// Nothing can run: let time pass until the earliest futex deadline. False if no
    /// thread waits with one.
    fn sleep_until_deadline<H: Host + ?Sized>(&mut self, host: &mut H) -> bool {
        #[cfg(feature = "alloc")]
        return self.sleep_until_next_deadline(host);
        #[cfg(not(feature = "alloc"))]
        {
            let _ = host;
            false
        }
    }

    /// The running process ended: finish the machine if it was the first process.
    fn end_current(&mut self, t: Termination) -> Option<StopReason> {
        #[cfg(feature = "alloc")]
        if let crate::processes::CallOutcome::Switched = self.exit_current(t) {
            return None;
        }
        self.terminated = Some(t);
        Some(termination_reason(t))
    }

    fn machine_call(&mut self, call: crate::linux::MachineCall) -> MachineStep {
        #[cfg(feature = "alloc")]
        {
            use crate::processes::CallOutcome;
            match self.process_call(call) {
                CallOutcome::Done => {
                    self.cpu.pc = self.cpu.pc.wrapping_add(4);
                    MachineStep::Continue
                }
                CallOutcome::Switched => MachineStep::Continue,
                CallOutcome::Blocked => MachineStep::Blocked,
                CallOutcome::Finished(t) => {
                    self.terminated = Some(t);
                    MachineStep::Stop(termination_reason(t))
                }
            }
        }
        #[cfg(not(feature = "alloc"))]
        {
            let _ = call;
            self.cpu.x[10] = (-i64::from(crate::host::errno::ENOSYS)) as u64;
            self.cpu.pc = self.cpu.pc.wrapping_add(4);
            MachineStep::Continue
        }
    }

    /// Send `signal` to process `pid`, or with `pid` 0 to the console's foreground process
    /// group (what a terminal does for Ctrl-C). Caught signals are not delivered to guest
    /// handlers yet: a process with a handler ignores them. Returns false if no process matched
    /// or `signal` is not a Linux signal number (1..=64; 0 only checks that `pid` exists).
    #[cfg(feature = "alloc")]
    pub fn send_signal(&mut self, pid: i32, signal: u32) -> bool {
        if signal as usize >= crate::linux::NSIG {
            return false;
        }
        let foreground = self.files.foreground;
        let saved = self.cpu.x[10];
        let running = self.process.pid;
        let outcome = self.kill_where(
            signal,
            |p, g| if pid == 0 { g == foreground } else { p == pid },
        );
        let found = match outcome {
            crate::processes::CallOutcome::Finished(t) => {
                self.terminated = Some(t);
                true
            }
            crate::processes::CallOutcome::Switched => true,
            _ => false,
        };
        // The running process did not make this call: keep its registers as they were.
        let result = self.cpu.x[10];
        if self.terminated.is_none() && self.process.pid == running {
            self.cpu.x[10] = saved;
        }
        found || result == 0
    }

    /// How the process ended, if it has.
    pub fn termination(&self) -> Option<Termination> {
        self.terminated
    }
}

/// What the run loop does after a process-level system call.
#[cfg_attr(not(feature = "alloc"), allow(dead_code))]
enum MachineStep {
    Continue,
    Blocked,
    Stop(StopReason),
}

fn termination_reason(t: Termination) -> StopReason {
    match t {
        Termination::Exited(status) => StopReason::Exited { status },
        Termination::Signaled(signal) => StopReason::Signaled { signal },
    }
}
