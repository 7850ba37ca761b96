//! Host calls into guest functions ("vmcall"): LP64D argument passing, a return trap the run loop recognises, resume and abandon.
//!
//! # Lifecycle
//!
//! 1. The host loads a program and runs it with [`Machine::run`]. The guest's `main`
//!    initialises its state and then *pauses*: it makes the system call [`PAUSE_SYSCALL`]
//!    (no arguments), and `run` returns [`StopReason::Paused`] with the guest stopped just
//!    after that call. A guest that exits instead cannot be called any more.
//! 2. The host calls guest functions: [`Machine::call`] (by address, with [`Arg`]s) or
//!    [`Machine::call_prepared`] (a [`PreparedCall`] resolved once, with arguments set in
//!    place). A call runs in the machine's first process (pid 1) on the current stack, below
//!    the paused `main`'s frames; it may make any system call (and the host's custom ones),
//!    except that fork/clone and execve fail with EPERM: a function call must come back to
//!    the process it started in.
//! 3. The function returns to [`RETURN_TRAP`], an address outside every address space that
//!    the host owns; fetching from it ends the call in the run loop's fault path, so the hot
//!    loop pays nothing. `run` then restores every register (integer, FP, pc, fcsr, the LR
//!    reservation and the signal mask) to its pre-call value and returns
//!    [`StopReason::Returned`] with `a0` and `fa0`.
//! 4. A call that stops before returning (budget spent, pending I/O, host stop, a pause, a
//!    fault, an illegal instruction, a breakpoint) stays *in progress*: the host resumes it
//!    with [`Machine::resume_call`] (or `run`), or gives up with [`Machine::abandon_call`],
//!    which restores the pre-call registers (the stack pointer included, so the call's stack
//!    frames are discarded). Guest memory the function wrote stays written either way.
//! 5. After a call has returned or been abandoned, `run` continues `main` from its pause.
//!
//! Calls are refused with a [`CallError`] when the guest has exited, a call is already in
//! progress, another process is on the hart, the first process is parked inside a
//! system call (pending I/O or waiting for another process), or the function address is not
//! code of the program (outside guest memory, misaligned, or outside its image and
//! executable mappings).

use crate::cpu::Access;
use crate::host::Host;
use crate::machine::{Machine, StopReason};
use crate::mem::GUARD_SIZE;

/// Where a called function returns to. It is above every possible address space, so the
/// fetch after the final `ret` misses the code cache's page table at once and the run loop
/// sees a fetch fault at exactly this address, which it turns into the end of the call.
pub const RETURN_TRAP: u64 = 0xffff_ffff_ffff_f000;

/// The system call a guest makes to pause (number in a7, no arguments; returns 0): `run`
/// stops with [`StopReason::Paused`] and the guest continues after the call on the next
/// `run`. Outside Linux's numbers and below the 0x10000.. range left to host APIs.
pub const PAUSE_SYSCALL: u64 = 0xff00;

/// Most arguments a call can take (register and stack arguments together).
pub const MAX_CALL_ARGS: usize = 32;
/// Integer (a0..a7) and floating-point (fa0..fa7) argument registers.
const ARG_REGS: usize = 8;
const A0: usize = 10;
const SP: usize = 2;
const RA: usize = 1;
/// riscv64 system-call numbers refused during a call.
const NR_CLONE: u64 = 220;
const NR_EXECVE: u64 = 221;
const NR_CLONE3: u64 = 435;
const EPERM: i64 = 1;

/// One argument of a guest call. Integers and pointers (guest addresses) go to a0..a7,
/// floating-point values to fa0..fa7, then (LP64D) to remaining integer registers, then to
/// the stack, as the RISC-V calling convention says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arg {
    /// A 64-bit integer or pointer, passed as is.
    Int(u64),
    /// A 32-bit integer (`int` or `unsigned`): sign-extended to 64 bits as the ABI requires.
    Int32(u32),
    /// A `double`.
    Double(f64),
    /// A `float` (NaN-boxed in an FP register, low 32 bits of an integer slot otherwise).
    Float(f32),
}

/// The kind of an argument slot of a [`PreparedCall`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    Int,
    Int32,
    Double,
    Float,
}

impl Arg {
    pub fn kind(&self) -> ArgKind {
        match self {
            Arg::Int(_) => ArgKind::Int,
            Arg::Int32(_) => ArgKind::Int32,
            Arg::Double(_) => ArgKind::Double,
            Arg::Float(_) => ArgKind::Float,
        }
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v as u64)
    }
}
impl From<u64> for Arg {
    fn from(v: u64) -> Arg {
        Arg::Int(v)
    }
}
impl From<i32> for Arg {
    fn from(v: i32) -> Arg {
        Arg::Int32(v as u32)
    }
}
impl From<u32> for Arg {
    fn from(v: u32) -> Arg {
        Arg::Int32(v)
    }
}
impl From<f64> for Arg {
    fn from(v: f64) -> Arg {
        Arg::Double(v)
    }
}
impl From<f32> for Arg {
    fn from(v: f32) -> Arg {
        Arg::Float(v)
    }
}

/// Why a call could not be made, resumed or abandoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The guest has exited (or was killed); the machine can no longer run code.
    Terminated,
    /// A call is already in progress: resume or abandon it first.
    CallInProgress,
    /// `resume_call`/`abandon_call` without a call in progress.
    NoCall,
    /// The first process is inside a system call that has not completed (pending host I/O,
    /// or waiting for another process): run the machine until it pauses.
    InSystemCall,
    /// A process other than the first one is on the hart (the first is waiting for it).
    OtherProcess,
    /// The function address is outside guest memory, misaligned, or not in the program's
    /// image or an executable mapping.
    BadAddress(u64),
    /// The symbol is not in the program's symbol tables (or the ELF could not be read).
    UnknownSymbol,
    /// More than [`MAX_CALL_ARGS`] arguments.
    TooManyArguments,
    /// The stack arguments do not fit in guest memory below the stack pointer.
    StackOutOfRange(u64),
    /// A prepared call's argument index is past its argument count.
    NoSuchArgument(usize),
}

impl core::fmt::Display for CallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            CallError::Terminated => f.write_str("the guest has terminated; it cannot be called"),
            CallError::CallInProgress => {
                f.write_str("a guest call is already in progress: resume it or abandon it first")
            }
            CallError::NoCall => f.write_str("no guest call is in progress"),
            CallError::InSystemCall => f.write_str(
                "the guest is inside a system call that has not completed (pending I/O or \
                 waiting for another process): run it until it pauses",
            ),
            CallError::OtherProcess => f.write_str(
                "another guest process is on the hart: run until the first process pauses",
            ),
            CallError::BadAddress(a) => write!(
                f,
                "function address {a:#x} is not code of the program (outside guest memory, \
                 misaligned, or outside its image and executable mappings)"
            ),
            CallError::UnknownSymbol => f.write_str("symbol not in the program's symbol tables"),
            CallError::TooManyArguments => {
                write!(f, "more than {MAX_CALL_ARGS} arguments")
            }
            CallError::StackOutOfRange(sp) => write!(
                f,
                "stack arguments do not fit below the stack pointer {sp:#x}"
            ),
            CallError::NoSuchArgument(i) => write!(f, "argument index {i} is past the last"),
        }
    }
}

/// Where one argument of a prepared call goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    IntReg(u8),
    FpReg(u8),
    Stack(u8),
}

/// A call resolved once and made many times: the function address and where each argument
/// goes are fixed; setting an argument is a store into the prepared register image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedCall {
    func: u64,
    count: usize,
    kinds: [ArgKind; MAX_CALL_ARGS],
    places: [Place; MAX_CALL_ARGS],
    /// Values for a0..a7 and fa0..fa7.
    x: [u64; ARG_REGS],
    f: [u64; ARG_REGS],
    /// Stack argument words, at sp, sp+8, ...
    stack: [u64; MAX_CALL_ARGS],
    stack_words: usize,
}

impl PreparedCall {
    /// A call of the function at guest address `func` taking arguments of `kinds`, all 0 until set.
    pub fn new(func: u64, kinds: &[ArgKind]) -> Result<PreparedCall, CallError> {
        if kinds.len() > MAX_CALL_ARGS {
            return Err(CallError::TooManyArguments);
        }
        let mut call = PreparedCall {
            func,
            count: kinds.len(),
            kinds: [ArgKind::Int; MAX_CALL_ARGS],
            places: [Place::IntReg(0); MAX_CALL_ARGS],
            x: [0; ARG_REGS],
            f: [0; ARG_REGS],
            stack: [0; MAX_CALL_ARGS],
            stack_words: 0,
        };
        let (mut ints, mut fps) = (0u8, 0u8);
        for (i, &kind) in kinds.iter().enumerate() {
            let fp = matches!(kind, ArgKind::Double | ArgKind::Float);
            // LP64D: FP values use fa0..fa7 while they last, then the integer convention.
            call.places[i] = if fp && usize::from(fps) < ARG_REGS {
                fps += 1;
                Place::FpReg(fps - 1)
            } else if usize::from(ints) < ARG_REGS {
                ints += 1;
                Place::IntReg(ints - 1)
            } else {
                call.stack_words += 1;
                Place::Stack(call.stack_words as u8 - 1)
            };
            call.kinds[i] = kind;
        }
        Ok(call)
    }

    /// A prepared call of `func` with `args` already set.
    pub fn with_args(func: u64, args: &[Arg]) -> Result<PreparedCall, CallError> {
        let mut kinds = [ArgKind::Int; MAX_CALL_ARGS];
        if args.len() > MAX_CALL_ARGS {
            return Err(CallError::TooManyArguments);
        }
        for (k, a) in kinds.iter_mut().zip(args) {
            *k = a.kind();
        }
        let mut call = PreparedCall::new(func, &kinds[..args.len()])?;
        for (i, a) in args.iter().enumerate() {
            call.set(i, *a)?;
        }
        Ok(call)
    }

    /// The function's guest address.
    pub fn function(&self) -> u64 {
        self.func
    }

    /// Number of arguments.
    pub fn arg_count(&self) -> usize {
        self.count
    }

    /// The kind of argument `index`.
    pub fn kind(&self, index: usize) -> Option<ArgKind> {
        (index < self.count).then(|| self.kinds[index])
    }

    /// Set argument `index` to `value`, converted to the argument's kind (an integer given
    /// for a double becomes that number; a double given for an integer is truncated).
    pub fn set(&mut self, index: usize, value: Arg) -> Result<(), CallError> {
        if index >= self.count {
            return Err(CallError::NoSuchArgument(index));
        }
        let bits = match (self.kinds[index], value) {
            (ArgKind::Int, Arg::Int(v)) => v,
            (ArgKind::Int, Arg::Int32(v)) | (ArgKind::Int32, Arg::Int32(v)) => {
                v as i32 as i64 as u64
            }
            (ArgKind::Int32, Arg::Int(v)) => v as u32 as i32 as i64 as u64,
            (ArgKind::Int | ArgKind::Int32, Arg::Double(d)) => d as i64 as u64,
            (ArgKind::Int | ArgKind::Int32, Arg::Float(s)) => s as i64 as u64,
            (ArgKind::Double, v) => as_f64(v).to_bits(),
            (ArgKind::Float, v) => u64::from((as_f64(v) as f32).to_bits()),
        };
        self.store(index, bits);
        Ok(())
    }

    /// Set integer argument `index` (the cheap per-frame path: no conversion for `Int`).
    #[inline]
    pub fn set_int(&mut self, index: usize, value: i64) -> Result<(), CallError> {
        self.set(index, Arg::Int(value as u64))
    }

    /// Set floating-point argument `index`.
    #[inline]
    pub fn set_double(&mut self, index: usize, value: f64) -> Result<(), CallError> {
        self.set(index, Arg::Double(value))
    }

    /// Put already converted bits where argument `index` goes.
    #[inline]
    fn store(&mut self, index: usize, bits: u64) {
        let single = self.kinds[index] == ArgKind::Float;
        match self.places[index] {
            // Singles in FP registers are NaN-boxed; elsewhere they occupy the low 32 bits.
            Place::FpReg(r) if single => self.f[usize::from(r)] = bits | 0xffff_ffff_0000_0000,
            Place::FpReg(r) => self.f[usize::from(r)] = bits,
            Place::IntReg(r) => self.x[usize::from(r)] = bits,
            Place::Stack(w) => self.stack[usize::from(w)] = bits,
        }
    }
}

fn as_f64(v: Arg) -> f64 {
    match v {
        Arg::Int(i) => i as i64 as f64,
        Arg::Int32(i) => f64::from(i as i32),
        Arg::Double(d) => d,
        Arg::Float(s) => f64::from(s),
    }
}

/// The hart state a call overwrites, kept to be put back when it ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CallFrame {
    /// Whether a call is in progress (the rest is meaningful only then).
    pub active: bool,
    x: [u64; 32],
    f: [u64; 32],
    pc: u64,
    fflags: u8,
    frm: u8,
    reservation: Option<u64>,
    sigmask: u64,
}

#[cfg(feature = "alloc")]
impl CallFrame {
    /// Saves the frame into a machine snapshot (a call in progress survives a restore).
    pub(crate) fn encode(&self, w: &mut crate::snapshot::Writer) {
        let CallFrame {
            active,
            x,
            f,
            pc,
            fflags,
            frm,
            reservation,
            sigmask,
        } = self;
        w.bool(*active);
        for v in x.iter().chain(f.iter()) {
            w.u64(*v);
        }
        w.u64(*pc);
        w.u8(*fflags);
        w.u8(*frm);
        w.opt_u64(*reservation);
        w.u64(*sigmask);
    }

    pub(crate) fn decode(
        r: &mut crate::snapshot::Reader,
    ) -> crate::snapshot::SnapshotResult<CallFrame> {
        let mut frame = CallFrame {
            active: r.bool()?,
            ..CallFrame::default()
        };
        for v in frame.x.iter_mut().chain(frame.f.iter_mut()) {
            *v = r.u64()?;
        }
        frame.pc = r.u64()?;
        frame.fflags = r.u8()?;
        frame.frm = r.u8()?;
        frame.reservation = r.opt_u64()?;
        frame.sigmask = r.u64()?;
        Ok(frame)
    }
}

/// What the run loop does with an `ecall` before the system-call layer sees it.
pub(crate) enum EcallIntercept {
    /// Not ours: handle it as a system call.
    Pass,
    /// Answered (result in a0, pc advanced): carry on.
    Done,
    /// Stop the run with this reason.
    Stop(StopReason),
}

impl Machine {
    /// Whether a guest call is in progress (begun and neither returned nor abandoned).
    pub fn call_in_progress(&self) -> bool {
        self.call_frame.active
    }

    /// Check that a call could start now.
    pub fn check_callable(&self) -> Result<(), CallError> {
        if self.termination().is_some() {
            return Err(CallError::Terminated);
        }
        if self.call_frame.active {
            return Err(CallError::CallInProgress);
        }
        if self.process.pid != 1 {
            return Err(CallError::OtherProcess);
        }
        if self.process.thread.in_blocking_call {
            return Err(CallError::InSystemCall);
        }
        Ok(())
    }

    /// Whether `addr` can be the entry of a guest function: inside guest memory, 2-byte
    /// aligned, in the program's loaded image or an executable mapping (dynamic linker,
    /// shared libraries).
    pub fn is_code_address(&self, addr: u64) -> bool {
        const PROT_EXEC: u8 = 4;
        if addr % 2 != 0 || addr < GUARD_SIZE || addr >= self.mem.size() {
            return false;
        }
        (self.image.start..self.image.end).contains(&addr)
            || self
                .process
                .maps
                .prot_at(addr)
                .is_some_and(|p| p & PROT_EXEC != 0)
    }

    /// The guest address of function `name` in `elf` (the program this machine loaded:
    /// relocated by its load bias), checked to be code.
    pub fn function_address(&self, elf: &[u8], name: &[u8]) -> Result<u64, CallError> {
        let value = crate::elf::Elf::parse(elf)
            .ok()
            .and_then(|e| e.symbol(name))
            .ok_or(CallError::UnknownSymbol)?;
        let addr = value.wrapping_add(self.image.bias);
        if !self.is_code_address(addr) {
            return Err(CallError::BadAddress(addr));
        }
        Ok(addr)
    }

    /// Set up a call of `call` without running it: save the hart state, load the argument
    /// registers, write stack arguments, point `ra` at [`RETURN_TRAP`] and pc at the
    /// function. Then `run`/`resume_call` executes it.
    pub fn begin_call(&mut self, call: &PreparedCall) -> Result<(), CallError> {
        self.check_callable()?;
        if !self.is_code_address(call.func) {
            return Err(CallError::BadAddress(call.func));
        }
        // The ABI keeps sp 16-byte aligned at calls; the callee may use everything below.
        let old_sp = self.cpu.x[SP];
        let stack_bytes = ((call.stack_words as u64 * 8) + 15) & !15;
        let sp = (old_sp & !15).wrapping_sub(stack_bytes);
        if call.stack_words > 0 {
            let fits = sp < old_sp && sp >= GUARD_SIZE && self.mem.slice(sp, stack_bytes).is_ok();
            if !fits {
                return Err(CallError::StackOutOfRange(old_sp));
            }
            for (i, w) in call.stack[..call.stack_words].iter().enumerate() {
                // In range: checked above.
                let _ = self.mem.write_u64(sp + 8 * i as u64, *w);
            }
        }
        let frame = &mut self.call_frame;
        let cpu = &mut self.cpu;
        frame.x.copy_from_slice(&cpu.x[..32]);
        frame.f = cpu.f;
        frame.pc = cpu.pc;
        frame.fflags = cpu.fflags;
        frame.frm = cpu.frm;
        frame.reservation = cpu.reservation;
        frame.sigmask = self.process.thread.sigmask;
        frame.active = true;
        cpu.x[A0..A0 + ARG_REGS].copy_from_slice(&call.x);
        cpu.f[A0..A0 + ARG_REGS].copy_from_slice(&call.f);
        cpu.x[SP] = sp;
        cpu.x[RA] = RETURN_TRAP;
        cpu.pc = call.func;
        cpu.reservation = None;
        Ok(())
    }

    /// Call the guest function at `func` with `args`, running at most `budget` instructions.
    /// `Ok(StopReason::Returned { .. })` when it returned; any other stop leaves the call in
    /// progress (see [`Machine::resume_call`], [`Machine::abandon_call`]).
    pub fn call<H: Host + ?Sized>(
        &mut self,
        host: &mut H,
        func: u64,
        args: &[Arg],
        budget: u64,
    ) -> Result<StopReason, CallError> {
        let call = PreparedCall::with_args(func, args)?;
        self.call_prepared(host, &call, budget)
    }

    /// Make a prepared call with at most `budget` instructions.
    pub fn call_prepared<H: Host + ?Sized>(
        &mut self,
        host: &mut H,
        call: &PreparedCall,
        budget: u64,
    ) -> Result<StopReason, CallError> {
        self.begin_call(call)?;
        self.resume_call(host, budget)
    }

    /// Run the call in progress for at most `budget` more instructions.
    pub fn resume_call<H: Host + ?Sized>(
        &mut self,
        host: &mut H,
        budget: u64,
    ) -> Result<StopReason, CallError> {
        if !self.call_frame.active {
            return Err(CallError::NoCall);
        }
        let stop = self.run(host, budget);
        match stop {
            // The final `ret` used the last instruction of the budget: the call is over,
            // not waiting for one more instruction.
            StopReason::BudgetSpent if self.at_return_trap() => Ok(self.finish_call()),
            StopReason::Exited { .. } | StopReason::Signaled { .. } => {
                self.call_frame.active = false;
                Ok(stop)
            }
            _ => Ok(stop),
        }
    }

    /// Give up the call in progress: every register and the signal mask go back to their
    /// pre-call values (the function's stack frames are dropped with the stack pointer).
    /// After the guest terminated during the call this only ends the call.
    pub fn abandon_call(&mut self) -> Result<(), CallError> {
        if !self.call_frame.active {
            return Err(CallError::NoCall);
        }
        self.restore_caller();
        // Whatever system call the function was parked in is abandoned with it.
        self.process.thread.in_blocking_call = false;
        self.process.thread.suspend_mask = None;
        Ok(())
    }

    /// The call's function has just jumped to the return trap in the calling process.
    fn at_return_trap(&self) -> bool {
        self.call_frame.active && self.cpu.pc == RETURN_TRAP && self.process.pid == 1
    }

    /// Put back the pre-call hart state and end the call.
    fn restore_caller(&mut self) {
        let frame = &mut self.call_frame;
        frame.active = false;
        if self.process.pid != 1 {
            // The caller is swapped out (another process is on the hart): restore it there.
            #[cfg(feature = "alloc")]
            if let Some(t) = self.procs.waiting.iter_mut().find(|t| t.process.pid == 1) {
                frame.restore(&mut t.cpu, &mut t.process.thread.sigmask);
            }
            return;
        }
        frame.restore(&mut self.cpu, &mut self.process.thread.sigmask);
    }

    /// The function returned: hand back a0/fa0 and restore the caller.
    fn finish_call(&mut self) -> StopReason {
        let a0 = self.cpu.x[A0];
        let fa0 = self.cpu.f[A0];
        self.restore_caller();
        StopReason::Returned { a0, fa0 }
    }

    /// Run-loop hook for a fetch fault: the end of a call if it is the return trap.
    #[inline]
    pub(crate) fn returned_from_call(&mut self, addr: u64, access: Access) -> Option<StopReason> {
        (addr == RETURN_TRAP && access == Access::Fetch && self.at_return_trap())
            .then(|| self.finish_call())
    }

    /// Run-loop hook for an `ecall`: the pause call, and process calls refused during a call.
    #[inline]
    pub(crate) fn intercept_ecall(&mut self) -> EcallIntercept {
        let number = self.cpu.x[17];
        if number == PAUSE_SYSCALL {
            self.cpu.x[A0] = 0;
            self.cpu.pc = self.cpu.pc.wrapping_add(4);
            return EcallIntercept::Stop(StopReason::Paused);
        }
        if self.call_frame.active
            && self.process.pid == 1
            && matches!(number, NR_CLONE | NR_EXECVE | NR_CLONE3)
        {
            self.cpu.x[A0] = (-EPERM) as u64;
            self.cpu.pc = self.cpu.pc.wrapping_add(4);
            return EcallIntercept::Done;
        }
        EcallIntercept::Pass
    }
}

impl CallFrame {
    fn restore(&self, cpu: &mut crate::cpu::Cpu, sigmask: &mut u64) {
        cpu.x[..32].copy_from_slice(&self.x);
        cpu.f = self.f;
        cpu.pc = self.pc;
        cpu.fflags = self.fflags;
        cpu.frm = self.frm;
        cpu.reservation = self.reservation;
        *sigmask = self.sigmask;
    }
}

impl StopReason {
    /// For [`StopReason::Returned`]: `fa0` as a `double`.
    pub fn returned_f64(&self) -> Option<f64> {
        match *self {
            StopReason::Returned { fa0, .. } => Some(f64::from_bits(fa0)),
            _ => None,
        }
    }

    /// For [`StopReason::Returned`]: `fa0` as a `float` (its low 32 bits).
    pub fn returned_f32(&self) -> Option<f32> {
        match *self {
            StopReason::Returned { fa0, .. } => Some(f32::from_bits(fa0 as u32)),
            _ => None,
        }
    }
}
