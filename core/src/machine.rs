//! A whole guest machine: hart, address space, code cache and Linux process, driven by `run(budget)`.

use crate::cpu::{Access, CodeCache, Cpu, Exit};
use crate::elf::{Elf, ElfError};
use crate::host::Host;
use crate::linux::{self, signal, Process, ProcessConfig, StackImage, SyscallOutcome, Termination};
use crate::mem::{MemError, Memory, PAGE_SIZE};

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
    /// Where the program was loaded (for symbol look-ups: add `image.bias` to ELF addresses).
    pub image: crate::elf::LoadedImage,
    /// Set once the process has terminated; later `run`s return it again.
    terminated: Option<Termination>,
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
            image: crate::elf::LoadedImage::default(),
            terminated: None,
        }
    }

    /// Load a static (ET_EXEC or static-PIE) ELF and set up its stack with `argv` and `envp`.
    /// `random` seeds AT_RANDOM (the host's entropy, or fixed for determinism).
    pub fn load_elf(
        &mut self,
        elf_bytes: &[u8],
        argv: &[&[u8]],
        envp: &[&[u8]],
    ) -> Result<(), LoadError> {
        let elf = Elf::parse(elf_bytes)?;
        if elf.interpreter()?.is_some() {
            return Err(LoadError::NeedsInterpreter);
        }
        let (lo, _hi, align) = elf.load_extent()?;
        let bias = if elf.is_pie() {
            let base = (PIE_BASE + align - 1) & !(align - 1);
            base.wrapping_sub(lo)
        } else {
            0
        };
        let image = elf.load(&mut self.mem, bias)?;

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

        let mut random = [0u8; 16];
        p.pseudo_random(&mut random);
        let auxv = [
            (linux::AT_PHDR, image.phdr),
            (linux::AT_PHENT, 56),
            (linux::AT_PHNUM, u64::from(image.phnum)),
            (linux::AT_PAGESZ, PAGE_SIZE),
            (linux::AT_BASE, 0),
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
        self.cpu.pc = image.entry;
        self.cache.flush();
        self.terminated = None;
        self.image = image;
        Ok(())
    }

    /// Run at most `budget` instructions (exactly counted), handling system calls through `host`.
    pub fn run<H: Host + ?Sized>(&mut self, host: &mut H, budget: u64) -> StopReason {
        if let Some(t) = self.terminated {
            return termination_reason(t);
        }
        let start = self.cpu.instret;
        loop {
            let used = self.cpu.instret - start;
            if used >= budget {
                return StopReason::BudgetSpent;
            }
            match self.cpu.run(&mut self.mem, &mut self.cache, budget - used) {
                Exit::Budget => return StopReason::BudgetSpent,
                Exit::Ecall => {
                    match self.process.syscall(
                        &mut self.cpu,
                        &mut self.mem,
                        &mut self.cache,
                        &mut self.files,
                        host,
                    ) {
                        SyscallOutcome::Done => {
                            self.cpu.pc = self.cpu.pc.wrapping_add(4);
                            if host.stop_requested() {
                                return StopReason::HostStop;
                            }
                        }
                        SyscallOutcome::Pending { fd } => {
                            // The ecall will run again; it must not count twice.
                            self.cpu.instret -= 1;
                            return StopReason::Pending { fd };
                        }
                        SyscallOutcome::Terminated(t) => {
                            self.terminated = Some(t);
                            return termination_reason(t);
                        }
                    }
                }
                Exit::Ebreak { .. } => {
                    self.cpu.instret -= 1;
                    return StopReason::Breakpoint { pc: self.cpu.pc };
                }
                Exit::Fault { addr, access } => {
                    return StopReason::Fault {
                        pc: self.cpu.pc,
                        addr,
                        access,
                    }
                }
                Exit::Illegal { bits } => {
                    return StopReason::IllegalInstruction {
                        pc: self.cpu.pc,
                        bits,
                    }
                }
            }
        }
    }

    /// How the process ended, if it has.
    pub fn termination(&self) -> Option<Termination> {
        self.terminated
    }
}

fn termination_reason(t: Termination) -> StopReason {
    match t {
        Termination::Exited(status) => StopReason::Exited { status },
        Termination::Signaled(signal) => StopReason::Signaled { signal },
    }
}
