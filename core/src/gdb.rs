//! A GDB remote-serial-protocol stub: debug the guest of a [`Machine`] from gdb over any byte stream.
//!
//! The protocol itself is the `gdbstub` crate's; this module supplies the RISC-V 64 register
//! layout (integer, pc, FP and fcsr, with a target description so gdb names them), guest
//! memory access, software breakpoints, stepping and the run loop.
//!
//! Breakpoints are `ebreak`/`c.ebreak` instructions written into guest memory, as a native
//! debugger does: the interpreter runs at full speed and never checks for them; the machine
//! stops with [`StopReason::Breakpoint`] when it reaches one. gdb's memory reads see the
//! original bytes. While the guest runs, the stub checks the stream for gdb's Ctrl-C every
//! [`POLL_INTERVAL`] instructions.
//!
//! The session debugs the process that is on the hart when it stops (the first process,
//! for a guest that does not fork).

use core::marker::PhantomData;
use core::num::NonZeroUsize;

use gdbstub::arch::{Arch, RegId, Registers};
use gdbstub::common::Signal;
use gdbstub::conn::{Connection, ConnectionExt};
use gdbstub::stub::run_blocking::{BlockingEventLoop, Event, WaitForStopReasonError};
use gdbstub::stub::{DisconnectReason, GdbStubBuilder, SingleThreadStopReason};
use gdbstub::target::ext::base::single_register_access::{
    SingleRegisterAccess, SingleRegisterAccessOps,
};
use gdbstub::target::ext::base::singlethread::{
    SingleThreadBase, SingleThreadResume, SingleThreadResumeOps, SingleThreadSingleStep,
    SingleThreadSingleStepOps,
};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{
    Breakpoints, BreakpointsOps, SwBreakpoint, SwBreakpointOps,
};
use gdbstub::target::ext::section_offsets::{Offsets, SectionOffsets, SectionOffsetsOps};
use gdbstub::target::{Target, TargetError, TargetResult};

use crate::host::{errno, Host};
use crate::machine::{Machine, StopReason};
use crate::mem::GUARD_SIZE;

/// Instructions the guest runs between two looks at the stream for gdb's Ctrl-C.
pub const POLL_INTERVAL: u64 = 1 << 20;
/// Software breakpoints that can be set at once.
pub const MAX_BREAKPOINTS: usize = 64;
/// Bytes of one protocol packet (a `g` reply is 1048 hex digits; memory is sent in chunks).
const PACKET_SIZE: usize = 4096;
/// Buffered output bytes before they are handed to the stream.
const OUTPUT_SIZE: usize = 1024;

/// `ebreak` and `c.ebreak`, little-endian.
const EBREAK: [u8; 4] = 0x0010_0073u32.to_le_bytes();
const C_EBREAK: [u8; 2] = 0x9002u16.to_le_bytes();

/// The stream to gdb broke or was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamError;

/// The byte stream between the stub and gdb (a TCP socket, a pipe, host callbacks).
pub trait DebugStream {
    /// Wait for the next byte from gdb.
    fn read(&mut self) -> Result<u8, StreamError>;
    /// The next byte from gdb if one has already arrived, without waiting: polled while
    /// the guest runs, to notice gdb's interrupt (Ctrl-C).
    fn try_read(&mut self) -> Result<Option<u8>, StreamError>;
    /// Send all of `data` to gdb.
    fn write(&mut self, data: &[u8]) -> Result<(), StreamError>;
    /// Push out anything the stream buffers.
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
}

/// A byte transport that moves data in chunks (a socket, host callbacks); [`Buffered`]
/// turns it into a [`DebugStream`].
pub trait Transport {
    /// Store some bytes from gdb in `buf` and return how many. With `wait`, block until at
    /// least one has arrived; without, return `Ok(0)` at once if none has. `Err` when the
    /// connection is closed or broken.
    fn receive(&mut self, buf: &mut [u8], wait: bool) -> Result<usize, StreamError>;
    /// Send all of `data` to gdb.
    fn send(&mut self, data: &[u8]) -> Result<(), StreamError>;
}

/// A [`Transport`] read through a small buffer, so gdb's bytes are taken one at a time
/// without one transport call each.
pub struct Buffered<T> {
    transport: T,
    buf: [u8; 1024],
    start: usize,
    end: usize,
}

impl<T: Transport> Buffered<T> {
    pub fn new(transport: T) -> Buffered<T> {
        Buffered {
            transport,
            buf: [0; 1024],
            start: 0,
            end: 0,
        }
    }

    /// Refill the buffer; `Ok(false)` when nothing is waiting (only without `wait`).
    fn fill(&mut self, wait: bool) -> Result<bool, StreamError> {
        let n = self.transport.receive(&mut self.buf, wait)?;
        if n == 0 {
            // Nothing yet, or (when waiting) a transport that broke its contract: closed.
            return if wait { Err(StreamError) } else { Ok(false) };
        }
        self.start = 0;
        self.end = n.min(self.buf.len());
        Ok(true)
    }

    fn take(&mut self) -> u8 {
        self.start += 1;
        self.buf[self.start - 1]
    }
}

impl<T: Transport> DebugStream for Buffered<T> {
    fn read(&mut self) -> Result<u8, StreamError> {
        if self.start == self.end {
            self.fill(true)?;
        }
        Ok(self.take())
    }

    fn try_read(&mut self) -> Result<Option<u8>, StreamError> {
        if self.start == self.end && !self.fill(false)? {
            return Ok(None);
        }
        Ok(Some(self.take()))
    }

    fn write(&mut self, data: &[u8]) -> Result<(), StreamError> {
        self.transport.send(data)
    }
}

/// How a debugging session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// gdb detached: breakpoints are gone and the guest is where gdb left it; the host
    /// runs it on as usual.
    Detached,
    /// gdb killed the guest: the host should end it (the guest does not run again).
    Killed,
    /// The guest exited with this status (reported to gdb).
    Exited { status: i32 },
    /// The guest died of this signal (reported to gdb).
    Signaled { signal: u32 },
}

/// Why a session failed. Breakpoints are removed from guest memory in every case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GdbError {
    /// The stream broke or was closed before gdb detached.
    Connection,
    /// gdb sent something the stub could not handle (a protocol error).
    Protocol,
}

impl core::fmt::Display for GdbError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            GdbError::Connection => f.write_str("the connection to gdb was lost"),
            GdbError::Protocol => f.write_str("gdb remote protocol error"),
        }
    }
}

/// The register file as gdb sees it, in target-description order: x0..x31, pc, f0..f31, fcsr.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GdbRegisters {
    pub x: [u64; 32],
    pub pc: u64,
    pub f: [u64; 32],
    pub fcsr: u32,
}

/// Bytes of the `g` packet: 65 eight-byte registers and the four-byte fcsr.
const REGISTER_BYTES: usize = 65 * 8 + 4;

impl Registers for GdbRegisters {
    type ProgramCounter = u64;

    fn pc(&self) -> u64 {
        self.pc
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        let words = self.x.iter().chain([&self.pc]).chain(self.f.iter());
        for w in words {
            w.to_le_bytes()
                .into_iter()
                .for_each(|b| write_byte(Some(b)));
        }
        self.fcsr
            .to_le_bytes()
            .into_iter()
            .for_each(|b| write_byte(Some(b)));
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        if bytes.len() != REGISTER_BYTES {
            return Err(());
        }
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        for i in 0..32 {
            self.x[i] = word(i);
            self.f[i] = word(33 + i);
        }
        self.pc = word(32);
        let mut c = [0u8; 4];
        c.copy_from_slice(&bytes[65 * 8..]);
        self.fcsr = u32::from_le_bytes(c);
        Ok(())
    }
}

/// One register by gdb's number (the `regnum`s of the target description).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GdbRegId {
    X(u8),
    Pc,
    F(u8),
    Fcsr,
}

impl RegId for GdbRegId {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        let (reg, size) = match id {
            0..=31 => (GdbRegId::X(id as u8), 8),
            32 => (GdbRegId::Pc, 8),
            33..=64 => (GdbRegId::F((id - 33) as u8), 8),
            65 => (GdbRegId::Fcsr, 4),
            _ => return None,
        };
        Some((reg, NonZeroUsize::new(size)))
    }
}

/// RV64GC under Linux as gdb's `riscv:rv64` with the FPU.
#[derive(Debug)]
pub enum Rv64 {}

impl Arch for Rv64 {
    type Usize = u64;
    type Registers = GdbRegisters;
    type BreakpointKind = usize;
    type RegId = GdbRegId;

    fn target_description_xml() -> Option<&'static str> {
        Some(TARGET_XML)
    }
}

/// gdb's RISC-V features by name: it recognises the registers by these names (ABI names;
/// `x5`/`f10` style names work as aliases in gdb), the numbers match [`GdbRegId`].
const TARGET_XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>riscv:rv64</architecture>
<osabi>GNU/Linux</osabi>
<feature name="org.gnu.gdb.riscv.cpu">
<reg name="zero" bitsize="64" type="int" regnum="0"/>
<reg name="ra" bitsize="64" type="code_ptr"/>
<reg name="sp" bitsize="64" type="data_ptr"/>
<reg name="gp" bitsize="64" type="data_ptr"/>
<reg name="tp" bitsize="64" type="data_ptr"/>
<reg name="t0" bitsize="64" type="int"/>
<reg name="t1" bitsize="64" type="int"/>
<reg name="t2" bitsize="64" type="int"/>
<reg name="fp" bitsize="64" type="data_ptr"/>
<reg name="s1" bitsize="64" type="int"/>
<reg name="a0" bitsize="64" type="int"/>
<reg name="a1" bitsize="64" type="int"/>
<reg name="a2" bitsize="64" type="int"/>
<reg name="a3" bitsize="64" type="int"/>
<reg name="a4" bitsize="64" type="int"/>
<reg name="a5" bitsize="64" type="int"/>
<reg name="a6" bitsize="64" type="int"/>
<reg name="a7" bitsize="64" type="int"/>
<reg name="s2" bitsize="64" type="int"/>
<reg name="s3" bitsize="64" type="int"/>
<reg name="s4" bitsize="64" type="int"/>
<reg name="s5" bitsize="64" type="int"/>
<reg name="s6" bitsize="64" type="int"/>
<reg name="s7" bitsize="64" type="int"/>
<reg name="s8" bitsize="64" type="int"/>
<reg name="s9" bitsize="64" type="int"/>
<reg name="s10" bitsize="64" type="int"/>
<reg name="s11" bitsize="64" type="int"/>
<reg name="t3" bitsize="64" type="int"/>
<reg name="t4" bitsize="64" type="int"/>
<reg name="t5" bitsize="64" type="int"/>
<reg name="t6" bitsize="64" type="int"/>
<reg name="pc" bitsize="64" type="code_ptr"/>
</feature>
<feature name="org.gnu.gdb.riscv.fpu">
<union id="riscv_double">
<field name="float" type="ieee_single"/>
<field name="double" type="ieee_double"/>
</union>
<reg name="ft0" bitsize="64" type="riscv_double" regnum="33"/>
<reg name="ft1" bitsize="64" type="riscv_double"/>
<reg name="ft2" bitsize="64" type="riscv_double"/>
<reg name="ft3" bitsize="64" type="riscv_double"/>
<reg name="ft4" bitsize="64" type="riscv_double"/>
<reg name="ft5" bitsize="64" type="riscv_double"/>
<reg name="ft6" bitsize="64" type="riscv_double"/>
<reg name="ft7" bitsize="64" type="riscv_double"/>
<reg name="fs0" bitsize="64" type="riscv_double"/>
<reg name="fs1" bitsize="64" type="riscv_double"/>
<reg name="fa0" bitsize="64" type="riscv_double"/>
<reg name="fa1" bitsize="64" type="riscv_double"/>
<reg name="fa2" bitsize="64" type="riscv_double"/>
<reg name="fa3" bitsize="64" type="riscv_double"/>
<reg name="fa4" bitsize="64" type="riscv_double"/>
<reg name="fa5" bitsize="64" type="riscv_double"/>
<reg name="fa6" bitsize="64" type="riscv_double"/>
<reg name="fa7" bitsize="64" type="riscv_double"/>
<reg name="fs2" bitsize="64" type="riscv_double"/>
<reg name="fs3" bitsize="64" type="riscv_double"/>
<reg name="fs4" bitsize="64" type="riscv_double"/>
<reg name="fs5" bitsize="64" type="riscv_double"/>
<reg name="fs6" bitsize="64" type="riscv_double"/>
<reg name="fs7" bitsize="64" type="riscv_double"/>
<reg name="fs8" bitsize="64" type="riscv_double"/>
<reg name="fs9" bitsize="64" type="riscv_double"/>
<reg name="fs10" bitsize="64" type="riscv_double"/>
<reg name="fs11" bitsize="64" type="riscv_double"/>
<reg name="ft8" bitsize="64" type="riscv_double"/>
<reg name="ft9" bitsize="64" type="riscv_double"/>
<reg name="ft10" bitsize="64" type="riscv_double"/>
<reg name="ft11" bitsize="64" type="riscv_double"/>
<reg name="fcsr" bitsize="32" type="int" regnum="65"/>
</feature>
</target>
"#;

/// fcsr as gdb sees it: fflags in bits 0..4, frm in bits 5..7.
fn fcsr(cpu: &crate::cpu::Cpu) -> u32 {
    u32::from(cpu.fflags & 0x1f) | u32::from(cpu.frm & 0x7) << 5
}

fn set_fcsr(cpu: &mut crate::cpu::Cpu, value: u64) {
    cpu.fflags = (value & 0x1f) as u8;
    cpu.frm = ((value >> 5) & 0x7) as u8;
}

/// A breakpoint written into guest memory, with the bytes it replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Inserted {
    addr: u64,
    len: usize,
    saved: [u8; 4],
}

/// What gdb asked the guest to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resume {
    Continue,
    Step,
}

/// The machine as a gdbstub target, for one session.
struct GdbTarget<'m, F> {
    machine: &'m mut Machine,
    /// Runs the machine for a budget (usually `Machine::run` with the host's services).
    run: F,
    breakpoints: heapless::Vec<Inserted, MAX_BREAKPOINTS>,
    /// Set by `resume`/`step`, cleared when a stop is reported.
    resume: Option<Resume>,
    /// The resumed guest has not executed its first instruction yet (a breakpoint at pc
    /// must be stepped over, not hit again).
    fresh: bool,
    /// The fatal signal of the last stop (fault, illegal instruction, death), if any:
    /// resuming with it lets it kill the guest.
    fatal: Option<u32>,
    /// The guest already died of this signal: gdb saw a signal stop; the next resume
    /// reports the death.
    dead: Option<u32>,
}

/// The target's error type: nothing goes wrong inside it that is not reported to gdb.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Never {}

impl<F: FnMut(&mut Machine, u64) -> StopReason> GdbTarget<'_, F> {
    fn breakpoint_at(&self, addr: u64) -> Option<usize> {
        self.breakpoints.iter().position(|b| b.addr == addr)
    }

    /// Put back the original bytes of breakpoint `i` (if its ebreak is still there: an
    /// execve may have replaced the image since).
    fn lift(&mut self, i: usize) {
        let b = self.breakpoints[i];
        let pattern: &[u8] = if b.len == 2 { &C_EBREAK } else { &EBREAK };
        let mem = &mut self.machine.mem;
        if mem.slice(b.addr, b.len as u64).ok() == Some(pattern) {
            let _ = mem.write_bytes(b.addr, &b.saved[..b.len]);
            self.machine.cache.invalidate(b.addr, b.len as u64);
        }
    }

    /// Write breakpoint `i`'s ebreak over the code again.
    fn plant(&mut self, i: usize) {
        let b = self.breakpoints[i];
        let pattern: &[u8] = if b.len == 2 { &C_EBREAK } else { &EBREAK };
        if self.machine.mem.write_bytes(b.addr, pattern).is_ok() {
            self.machine.cache.invalidate(b.addr, b.len as u64);
        }
    }

    /// Remove every breakpoint from guest memory (end of session).
    fn lift_all(&mut self) {
        for i in 0..self.breakpoints.len() {
            self.lift(i);
        }
        self.breakpoints.clear();
    }

    /// Execute exactly one instruction, stepping over a breakpoint planted at pc.
    fn step_one(&mut self) -> StopReason {
        let here = self.breakpoint_at(self.machine.cpu.pc);
        if let Some(i) = here {
            self.lift(i);
        }
        let stop = (self.run)(self.machine, 1);
        if let Some(i) = here {
            self.plant(i);
        }
        stop
    }

    /// gdb's view of a stop of the machine.
    fn report(&mut self, stop: StopReason, stepping: bool) -> SingleThreadStopReason<u64> {
        self.resume = None;
        self.fatal = stop.fatal_signal();
        match stop {
            StopReason::Exited { status } => SingleThreadStopReason::Exited(status as u8),
            StopReason::Signaled { signal } => {
                self.dead = Some(signal);
                SingleThreadStopReason::Signal(to_gdb_signal(signal))
            }
            StopReason::Breakpoint { pc } if self.breakpoint_at(pc).is_some() => {
                SingleThreadStopReason::SwBreak(())
            }
            StopReason::BudgetSpent | StopReason::Pending { .. } | StopReason::HostStop
                if stepping =>
            {
                SingleThreadStopReason::DoneStep
            }
            StopReason::HostStop => SingleThreadStopReason::Signal(Signal::SIGINT),
            other => {
                let signal = other
                    .fatal_signal()
                    .unwrap_or(crate::linux::signal::SIGTRAP);
                SingleThreadStopReason::Signal(to_gdb_signal(signal))
            }
        }
    }

    /// Run the resumed guest until it stops or gdb sends something.
    fn wait<S: DebugStream>(
        &mut self,
        conn: &mut Wire<S>,
    ) -> Result<Event<SingleThreadStopReason<u64>>, StreamError> {
        if let Some(signal) = self.dead {
            self.resume = None;
            return Ok(Event::TargetStopped(SingleThreadStopReason::Terminated(
                to_gdb_signal(signal),
            )));
        }
        let Some(mode) = self.resume else {
            // Nothing to run (gdbstub resumed without asking): report a plain stop.
            return Ok(Event::TargetStopped(SingleThreadStopReason::Signal(
                Signal::SIGTRAP,
            )));
        };
        // The first instruction of a resume runs alone, stepping over a breakpoint at pc; a
        // system call the host cannot serve yet is retried (gdb may interrupt meanwhile).
        while self.fresh {
            let stop = self.step_one();
            if let StopReason::Pending { .. } = stop {
                if let Some(byte) = conn.peek()? {
                    let _ = conn.next_byte()?;
                    return Ok(Event::IncomingData(byte));
                }
                continue;
            }
            self.fresh = false;
            if mode == Resume::Step || stop != StopReason::BudgetSpent {
                return Ok(Event::TargetStopped(
                    self.report(stop, mode == Resume::Step),
                ));
            }
        }
        loop {
            if let Some(byte) = conn.peek()? {
                let _ = conn.next_byte()?;
                return Ok(Event::IncomingData(byte));
            }
            match (self.run)(self.machine, POLL_INTERVAL) {
                StopReason::BudgetSpent | StopReason::Pending { .. } => continue,
                stop => return Ok(Event::TargetStopped(self.report(stop, false))),
            }
        }
    }

    /// Deliver `signal` (given by gdb with the resume) to the process on the hart.
    fn pass_signal(&mut self, signal: Signal) {
        let Some(signal) = from_gdb_signal(signal) else {
            return;
        };
        if self.fatal == Some(signal) {
            // The fault stop gdb lets through: the guest dies of it, as under Linux.
            self.dead = Some(signal);
        }
        #[cfg(feature = "alloc")]
        {
            let pid = self.machine.process.pid;
            self.machine.send_signal(pid, signal);
        }
    }

    fn set_resume(&mut self, mode: Resume, signal: Option<Signal>) {
        if let Some(s) = signal {
            self.pass_signal(s);
        }
        self.resume = Some(mode);
        self.fresh = true;
    }
}

impl<F: FnMut(&mut Machine, u64) -> StopReason> Target for GdbTarget<'_, F> {
    type Arch = Rv64;
    type Error = Never;

    fn base_ops(&mut self) -> BaseOps<'_, Rv64, Never> {
        BaseOps::SingleThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_section_offsets(&mut self) -> Option<SectionOffsetsOps<'_, Self>> {
        Some(self)
    }
}

impl<F: FnMut(&mut Machine, u64) -> StopReason> SingleThreadBase for GdbTarget<'_, F> {
    fn read_registers(&mut self, regs: &mut GdbRegisters) -> TargetResult<(), Self> {
        let cpu = &self.machine.cpu;
        regs.x.copy_from_slice(&cpu.x[..32]);
        regs.x[0] = 0;
        regs.pc = cpu.pc;
        regs.f = cpu.f;
        regs.fcsr = fcsr(cpu);
        Ok(())
    }

    fn write_registers(&mut self, regs: &GdbRegisters) -> TargetResult<(), Self> {
        let cpu = &mut self.machine.cpu;
        // x0 is hard-wired to zero: gdb's value for it is ignored.
        cpu.x[1..32].copy_from_slice(&regs.x[1..]);
        cpu.pc = regs.pc;
        cpu.f = regs.f;
        set_fcsr(cpu, u64::from(regs.fcsr));
        Ok(())
    }

    fn support_single_register_access(&mut self) -> Option<SingleRegisterAccessOps<'_, (), Self>> {
        Some(self)
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8]) -> TargetResult<usize, Self> {
        let mem = &self.machine.mem;
        if start < GUARD_SIZE || start >= mem.size() {
            return Err(TargetError::Errno(errno::EFAULT as u8));
        }
        // A read running off the end of guest memory returns what is inside it.
        let n = (data.len() as u64).min(mem.size() - start) as usize;
        let src = mem
            .slice(start, n as u64)
            .map_err(|_| TargetError::Errno(errno::EFAULT as u8))?;
        data[..n].copy_from_slice(src);
        // gdb sees the code, not the breakpoints planted in it.
        let end = start + n as u64;
        for b in &self.breakpoints {
            for k in 0..b.len as u64 {
                let at = b.addr + k;
                if (start..end).contains(&at) {
                    data[(at - start) as usize] = b.saved[k as usize];
                }
            }
        }
        Ok(n)
    }

    fn write_addrs(&mut self, start: u64, data: &[u8]) -> TargetResult<(), Self> {
        let len = data.len() as u64;
        self.machine
            .mem
            .write_bytes(start, data)
            .map_err(|_| TargetError::Errno(errno::EFAULT as u8))?;
        self.machine.cache.invalidate(start, len);
        // New bytes under a planted breakpoint are what it restores later; it stays planted.
        let end = start + len;
        for i in 0..self.breakpoints.len() {
            let b = &mut self.breakpoints[i];
            let mut touched = false;
            for k in 0..b.len as u64 {
                let at = b.addr + k;
                if (start..end).contains(&at) {
                    b.saved[k as usize] = data[(at - start) as usize];
                    touched = true;
                }
            }
            if touched {
                self.plant(i);
            }
        }
        Ok(())
    }

    fn support_resume(&mut self) -> Option<SingleThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl<F: FnMut(&mut Machine, u64) -> StopReason> SingleRegisterAccess<()> for GdbTarget<'_, F> {
    fn read_register(
        &mut self,
        _tid: (),
        reg: GdbRegId,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        let cpu = &self.machine.cpu;
        let bytes: [u8; 8] = match reg {
            GdbRegId::X(0) => [0; 8],
            GdbRegId::X(n) => cpu.x[usize::from(n)].to_le_bytes(),
            GdbRegId::Pc => cpu.pc.to_le_bytes(),
            GdbRegId::F(n) => cpu.f[usize::from(n)].to_le_bytes(),
            GdbRegId::Fcsr => u64::from(fcsr(cpu)).to_le_bytes(),
        };
        let size = if reg == GdbRegId::Fcsr { 4 } else { 8 };
        let out = buf.get_mut(..size).ok_or(TargetError::NonFatal)?;
        out.copy_from_slice(&bytes[..size]);
        Ok(size)
    }

    fn write_register(&mut self, _tid: (), reg: GdbRegId, val: &[u8]) -> TargetResult<(), Self> {
        let size = if reg == GdbRegId::Fcsr { 4 } else { 8 };
        if val.len() != size {
            return Err(TargetError::NonFatal);
        }
        let mut b = [0u8; 8];
        b[..size].copy_from_slice(val);
        let v = u64::from_le_bytes(b);
        let cpu = &mut self.machine.cpu;
        match reg {
            GdbRegId::X(0) => {}
            GdbRegId::X(n) => cpu.x[usize::from(n)] = v,
            GdbRegId::Pc => cpu.pc = v,
            GdbRegId::F(n) => cpu.f[usize::from(n)] = v,
            GdbRegId::Fcsr => set_fcsr(cpu, v),
        }
        Ok(())
    }
}

impl<F: FnMut(&mut Machine, u64) -> StopReason> SingleThreadResume for GdbTarget<'_, F> {
    fn resume(&mut self, signal: Option<Signal>) -> Result<(), Never> {
        self.set_resume(Resume::Continue, signal);
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<SingleThreadSingleStepOps<'_, Self>> {
        Some(self)
    }
}

impl<F: FnMut(&mut Machine, u64) -> StopReason> SingleThreadSingleStep for GdbTarget<'_, F> {
    fn step(&mut self, signal: Option<Signal>) -> Result<(), Never> {
        self.set_resume(Resume::Step, signal);
        Ok(())
    }
}

impl<F: FnMut(&mut Machine, u64) -> StopReason> Breakpoints for GdbTarget<'_, F> {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }
}

impl<F: FnMut(&mut Machine, u64) -> StopReason> SwBreakpoint for GdbTarget<'_, F> {
    fn add_sw_breakpoint(&mut self, addr: u64, kind: usize) -> TargetResult<bool, Self> {
        // gdb's kind for RISC-V is the length of the instruction the breakpoint replaces.
        if kind != 2 && kind != 4 {
            return Ok(false);
        }
        if self.breakpoint_at(addr).is_some() {
            return Ok(true);
        }
        let mut saved = [0u8; 4];
        let mem = &self.machine.mem;
        match mem.slice(addr, kind as u64) {
            Ok(bytes) => saved[..kind].copy_from_slice(bytes),
            Err(_) => return Err(TargetError::Errno(errno::EFAULT as u8)),
        }
        let entry = Inserted {
            addr,
            len: kind,
            saved,
        };
        if self.breakpoints.push(entry).is_err() {
            return Ok(false);
        }
        self.plant(self.breakpoints.len() - 1);
        Ok(true)
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        let Some(i) = self.breakpoint_at(addr) else {
            return Ok(false);
        };
        self.lift(i);
        self.breakpoints.swap_remove(i);
        Ok(true)
    }
}

impl<F: FnMut(&mut Machine, u64) -> StopReason> SectionOffsets for GdbTarget<'_, F> {
    fn get_section_offsets(&mut self) -> Result<Offsets<u64>, Never> {
        let bias = self.machine.image.bias;
        Ok(Offsets::Sections {
            text: bias,
            data: bias,
            bss: Some(bias),
        })
    }
}

/// The stream as gdbstub's connection: output is buffered until a flush, and one byte of
/// input can be looked at without taking it.
struct Wire<S> {
    stream: S,
    peeked: Option<u8>,
    out: heapless::Vec<u8, OUTPUT_SIZE>,
}

impl<S: DebugStream> Wire<S> {
    fn next_byte(&mut self) -> Result<u8, StreamError> {
        match self.peeked.take() {
            Some(b) => Ok(b),
            None => self.stream.read(),
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, StreamError> {
        if self.peeked.is_none() {
            self.peeked = self.stream.try_read()?;
        }
        Ok(self.peeked)
    }

    fn send_buffered(&mut self) -> Result<(), StreamError> {
        if !self.out.is_empty() {
            self.stream.write(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }
}

impl<S: DebugStream> Connection for Wire<S> {
    type Error = StreamError;

    fn write(&mut self, byte: u8) -> Result<(), StreamError> {
        if self.out.is_full() {
            self.send_buffered()?;
        }
        let _ = self.out.push(byte);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        self.send_buffered()?;
        self.stream.flush()
    }
}

impl<S: DebugStream> ConnectionExt for Wire<S> {
    fn read(&mut self) -> Result<u8, StreamError> {
        self.next_byte()
    }

    fn peek(&mut self) -> Result<Option<u8>, StreamError> {
        Wire::peek(self)
    }
}

/// gdbstub's blocking event loop over [`GdbTarget`] and [`Wire`].
struct EventLoop<'m, F, S>(PhantomData<(&'m mut Machine, F, S)>);

impl<'m, F, S> BlockingEventLoop for EventLoop<'m, F, S>
where
    F: FnMut(&mut Machine, u64) -> StopReason,
    S: DebugStream,
{
    type Target = GdbTarget<'m, F>;
    type Connection = Wire<S>;
    type StopReason = SingleThreadStopReason<u64>;

    fn wait_for_stop_reason(
        target: &mut GdbTarget<'m, F>,
        conn: &mut Wire<S>,
    ) -> Result<Event<SingleThreadStopReason<u64>>, WaitForStopReasonError<Never, StreamError>>
    {
        target
            .wait(conn)
            .map_err(WaitForStopReasonError::Connection)
    }

    fn on_interrupt(
        target: &mut GdbTarget<'m, F>,
    ) -> Result<Option<SingleThreadStopReason<u64>>, Never> {
        target.resume = None;
        target.fatal = None;
        Ok(Some(SingleThreadStopReason::Signal(Signal::SIGINT)))
    }
}

/// Serve one gdb session over `stream`, running the guest with `run` (which runs the
/// machine for at most the given budget, e.g. `|m, n| m.run(host, n)`; a host with its
/// own run wrapper passes that). Returns when gdb detaches or kills the guest, or the
/// guest ends; gdb is told of the end. Breakpoints never stay in guest memory afterwards.
pub fn serve<F, S>(machine: &mut Machine, run: F, stream: S) -> Result<SessionEnd, GdbError>
where
    F: FnMut(&mut Machine, u64) -> StopReason,
    S: DebugStream,
{
    let mut packet = [0u8; PACKET_SIZE];
    let wire = Wire {
        stream,
        peeked: None,
        out: heapless::Vec::new(),
    };
    let mut target = GdbTarget {
        machine,
        run,
        breakpoints: heapless::Vec::new(),
        resume: None,
        fresh: false,
        fatal: None,
        dead: None,
    };
    let stub = GdbStubBuilder::new(wire)
        .with_packet_buffer(&mut packet)
        .build()
        .map_err(|_| GdbError::Protocol)?;
    let outcome = stub.run_blocking::<EventLoop<'_, F, S>>(&mut target);
    target.lift_all();
    match outcome {
        Ok(DisconnectReason::Disconnect) => Ok(SessionEnd::Detached),
        Ok(DisconnectReason::Kill) => {
            // The guest must not run on by accident: it dies as under gdb's kill on Linux.
            #[cfg(feature = "alloc")]
            {
                let pid = target.machine.process.pid;
                target
                    .machine
                    .send_signal(pid, crate::linux::signal::SIGKILL);
            }
            Ok(SessionEnd::Killed)
        }
        Ok(DisconnectReason::TargetExited(code)) => Ok(match target.machine.termination() {
            Some(crate::linux::Termination::Exited(status)) => SessionEnd::Exited { status },
            _ => SessionEnd::Exited {
                status: i32::from(code),
            },
        }),
        Ok(DisconnectReason::TargetTerminated(signal)) => Ok(SessionEnd::Signaled {
            signal: u32::from(signal.0),
        }),
        Err(e) if e.is_connection_error() => Err(GdbError::Connection),
        Err(_) => Err(GdbError::Protocol),
    }
}

/// [`serve`] with `Machine::run` over `host`.
pub fn serve_with_host<H, S>(
    machine: &mut Machine,
    host: &mut H,
    stream: S,
) -> Result<SessionEnd, GdbError>
where
    H: Host + ?Sized,
    S: DebugStream,
{
    serve(
        machine,
        |m: &mut Machine, budget| m.run(host, budget),
        stream,
    )
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::machine::Config;
    use crate::NullHost;
    use alloc::vec::Vec;

    const CODE: u64 = 0x10000;
    /// `addi a0, a0, 1` four times, then `li a7, 93; ecall` (exit with a0).
    const PROGRAM: [u32; 6] = [
        0x0015_0513,
        0x0015_0513,
        0x0015_0513,
        0x0015_0513,
        0x05d0_0893,
        0x0000_0073,
    ];

    fn machine() -> Machine {
        let mut m = Machine::new(Config {
            memory_size: 1 << 20,
            ..Config::default()
        })
        .unwrap();
        for (i, w) in PROGRAM.iter().enumerate() {
            m.mem.write_u32(CODE + 4 * i as u64, *w).unwrap();
        }
        m.cpu.pc = CODE;
        m
    }

    /// A gdb that sends a fixed script, one packet per read, and records the replies.
    struct Script {
        input: Vec<u8>,
        pos: usize,
        replies: Vec<u8>,
    }

    impl Script {
        fn new(packets: &[&str]) -> Script {
            let mut input = Vec::new();
            for p in packets {
                let sum = p.bytes().fold(0u8, |s, b| s.wrapping_add(b));
                input.extend_from_slice(alloc::format!("${p}#{sum:02x}").as_bytes());
            }
            Script {
                input,
                pos: 0,
                replies: Vec::new(),
            }
        }

        /// The reply packets' bodies, acks dropped, run-length encoding expanded.
        fn packets(&self) -> Vec<alloc::string::String> {
            let text = core::str::from_utf8(&self.replies).unwrap();
            let mut out = Vec::new();
            for chunk in text.split('$').skip(1) {
                let body = chunk.split('#').next().unwrap().as_bytes();
                let mut expanded: Vec<u8> = Vec::new();
                let mut i = 0;
                while i < body.len() {
                    if body[i] == b'*' {
                        let last = *expanded.last().unwrap();
                        for _ in 0..body[i + 1] - 29 {
                            expanded.push(last);
                        }
                        i += 2;
                    } else {
                        expanded.push(body[i]);
                        i += 1;
                    }
                }
                out.push(alloc::string::String::from_utf8(expanded).unwrap());
            }
            out
        }
    }

    impl DebugStream for &mut Script {
        fn read(&mut self) -> Result<u8, StreamError> {
            let b = *self.input.get(self.pos).ok_or(StreamError)?;
            self.pos += 1;
            Ok(b)
        }
        fn try_read(&mut self) -> Result<Option<u8>, StreamError> {
            Ok(None)
        }
        fn write(&mut self, data: &[u8]) -> Result<(), StreamError> {
            self.replies.extend_from_slice(data);
            Ok(())
        }
    }

    fn register(g: &str, index: usize) -> u64 {
        let hex = &g[index * 16..index * 16 + 16];
        let mut bytes = [0u8; 8];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        u64::from_le_bytes(bytes)
    }

    #[test]
    fn breakpoint_step_and_exit() {
        let mut m = machine();
        let mut script = Script::new(&[
            "Z0,10008,4",
            "m10008,4",
            "c",
            "g",
            "s",
            "g",
            "z0,10008,4",
            "m10008,4",
            "c",
        ]);
        let end = serve_with_host(&mut m, &mut NullHost, &mut script).unwrap();
        assert_eq!(end, SessionEnd::Exited { status: 4 });
        let p = script.packets();
        assert_eq!(p[0], "OK");
        // gdb reads the code, not the planted ebreak (which is in memory).
        assert_eq!(p[1], "13051500");
        assert!(p[2].starts_with("T05") && p[2].contains("swbreak"), "{p:?}");
        // Stopped before the third addi: a0 (x10) is 2, pc at the breakpoint.
        assert_eq!(register(&p[3], 10), 2);
        assert_eq!(register(&p[3], 32), 0x10008);
        assert_eq!(p[4], "S05");
        assert_eq!(register(&p[5], 10), 3);
        assert_eq!(register(&p[5], 32), 0x1000c);
        assert_eq!(p[6], "OK");
        assert_eq!(p[7], "13051500");
        assert_eq!(p[8], "W04");
        // Two instructions, one step, then the last addi, li and ecall: nothing counted twice.
        assert_eq!(m.cpu.instret, 6);
        assert_eq!(m.mem.read_u32(0x10008).unwrap(), PROGRAM[2]);
    }

    #[test]
    fn continue_from_a_planted_breakpoint_executes_the_original_instruction() {
        let mut m = machine();
        // Two breakpoints stay planted; continuing from each runs the instruction under it.
        let mut script = Script::new(&["Z0,10004,4", "Z0,10008,4", "c", "c", "c"]);
        let end = serve_with_host(&mut m, &mut NullHost, &mut script).unwrap();
        assert_eq!(end, SessionEnd::Exited { status: 4 });
        let p = script.packets();
        assert!(
            p[2].contains("swbreak") && p[3].contains("swbreak"),
            "{p:?}"
        );
        assert_eq!(p[4], "W04");
        // The session removed both ebreaks from guest memory.
        assert_eq!(m.mem.read_u32(0x10004).unwrap(), PROGRAM[1]);
        assert_eq!(m.mem.read_u32(0x10008).unwrap(), PROGRAM[2]);
        assert_eq!(m.cpu.instret, 6);
    }

    #[test]
    fn memory_outside_the_guest_is_an_error_and_registers_round_trip() {
        let mut m = machine();
        m.cpu.f[3] = 0x4009_21fb_5444_2d18;
        m.cpu.frm = 2;
        m.cpu.fflags = 1;
        let mut script = Script::new(&[
            "m0,4",
            "mffffc,8",
            "m100000,1",
            "Mfff,2:0000",
            "p21",
            "p24",
            "p41",
            "P0=0100000000000000",
            "Pa=2a00000000000000",
            "P41=a0000000",
            "p0",
            "Z0,0,4",
            "D",
        ]);
        let end = serve_with_host(&mut m, &mut NullHost, &mut script).unwrap();
        assert_eq!(end, SessionEnd::Detached);
        let p = script.packets();
        assert_eq!(p[0], "E0e");
        // A read running off the end of guest memory returns the bytes inside it.
        assert_eq!(p[1], "00000000");
        assert_eq!(p[2], "E0e");
        assert_eq!(p[3], "E0e");
        assert_eq!(p[4], "0000000000000000"); // f0
        assert_eq!(p[5], "182d4454fb210940"); // f3
        assert_eq!(p[6], "41000000"); // fcsr: frm 2, fflags 1
        assert_eq!(p[7..10], ["OK", "OK", "OK"]);
        assert_eq!(p[10], "0000000000000000"); // x0 stays zero
        assert_eq!(p[11], "E0e");
        assert_eq!(p[12], "OK");
        assert_eq!(m.cpu.x[10], 42);
        assert_eq!((m.cpu.frm, m.cpu.fflags), (5, 0));
    }
}

/// gdb's number for a signal it has no name for.
const GDB_SIGNAL_UNKNOWN: Signal = Signal(143);

/// gdb numbers signals its own way (the remote protocol's numbering), which agrees with
/// Linux only for some of 1..=15: Linux's signal `linux` as gdb numbers it.
fn to_gdb_signal(linux: u32) -> Signal {
    // Linux 1..=31 in order; 0 where gdb has no such signal (16, SIGSTKFLT).
    const LOW: [u8; 32] = [
        0, 1, 2, 3, 4, 5, 6, 10, 8, 9, 30, 11, 31, 13, 14, 15, 0, 20, 19, 17, 18, 21, 22, 16, 24,
        25, 26, 27, 28, 23, 32, 12,
    ];
    match linux {
        1..=31 if LOW[linux as usize] != 0 => Signal(LOW[linux as usize]),
        32 => Signal(77),
        33..=63 => Signal((linux - 33 + 45) as u8),
        64 => Signal(78),
        _ => GDB_SIGNAL_UNKNOWN,
    }
}

/// The Linux signal gdb means by `signal`, if it is one (0 and unknown numbers are not).
fn from_gdb_signal(signal: Signal) -> Option<u32> {
    if signal == GDB_SIGNAL_UNKNOWN {
        return None;
    }
    (1..=64).find(|&linux| to_gdb_signal(linux) == signal)
}

#[cfg(test)]
mod signal_tests {
    use super::*;

    #[test]
    fn signals_map_to_gdb_numbers_and_back() {
        assert_eq!(to_gdb_signal(7), Signal::SIGBUS);
        assert_eq!(to_gdb_signal(10), Signal::SIGUSR1);
        assert_eq!(to_gdb_signal(11), Signal::SIGSEGV);
        assert_eq!(to_gdb_signal(17), Signal::SIGCHLD);
        assert_eq!(to_gdb_signal(31), Signal::SIGSYS);
        assert_eq!(to_gdb_signal(34), Signal::SIG34);
        assert_eq!(to_gdb_signal(64), Signal::SIG64);
        for linux in (1..=64).filter(|&s| s != 16) {
            assert_eq!(
                from_gdb_signal(to_gdb_signal(linux)),
                Some(linux),
                "{linux}"
            );
        }
        for gdb in [0, 7, 143, 255] {
            assert_eq!(from_gdb_signal(Signal(gdb)), None, "{gdb}");
        }
    }
}
