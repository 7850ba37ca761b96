//! Guest threads: the kernel state each thread owns, futexes, robust lists and thread-directed signals.
//!
//! A process's threads share everything in [`Process`] but a [`ThreadState`] and their
//! registers. The thread on the hart keeps its state in `Process::thread` (and its registers
//! in the machine's `cpu`); the others wait in `Process::threads` as [`Thread`]s. Futexes
//! are private to a process (each process has its own address space), so a futex is just
//! an address and waking is a search of the waiting threads.

use super::{signal, Process, Stop, Sys, SysResult, SIG_DFL, SIG_IGN};
use crate::cpu::Cpu;
use crate::host::{errno::*, Clock, Host};

const FUTEX_WAIT: u64 = 0;
const FUTEX_WAKE: u64 = 1;
const FUTEX_REQUEUE: u64 = 3;
const FUTEX_CMP_REQUEUE: u64 = 4;
const FUTEX_WAKE_OP: u64 = 5;
const FUTEX_WAIT_BITSET: u64 = 9;
const FUTEX_WAKE_BITSET: u64 = 10;
const FUTEX_PRIVATE_FLAG: u64 = 128;
const FUTEX_CLOCK_REALTIME: u64 = 256;
/// Every bit set: a plain WAIT or WAKE matches any bitset.
const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;
/// Robust-list futex word: owner tid bits, the owner-died flag and the waiters flag.
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_WAITERS: u32 = 0x8000_0000;
/// Entries walked on a robust list before giving up (the kernel's ROBUST_LIST_LIMIT).
const ROBUST_LIST_LIMIT: usize = 2048;
/// The "futex" a sleeping thread waits on: misaligned, so no futex call can name it.
const SLEEP_ADDR: u64 = u64::MAX;
/// sizeof(struct robust_list_head) on riscv64.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;

/// How a futex wait has ended so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Still asleep: the thread is not scheduled.
    Waiting,
    /// A FUTEX_WAKE (or requeue wake) chose it: the call returns 0.
    Woken,
    /// Its deadline passed: the call returns ETIMEDOUT.
    TimedOut,
}

/// A thread asleep in FUTEX_WAIT. Its pc stays at the ecall; when it gets the hart again
/// the call runs a second time and reports `outcome`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FutexWait {
    pub addr: u64,
    pub bitset: u32,
    /// Absolute deadline in nanoseconds on the realtime clock (`realtime`) or the monotonic one.
    pub deadline_ns: Option<u64>,
    pub realtime: bool,
    /// Position in the order waits began (earlier waiters are woken first).
    pub order: u64,
    pub outcome: WaitOutcome,
}

/// Kernel state that belongs to one thread rather than to its process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadState {
    /// Thread id (the process id for the thread that started the process).
    pub tid: i32,
    pub sigmask: u64,
    /// Signals sent to this thread and not yet delivered (bit n-1 for signal n).
    pub pending: u64,
    /// The thread sleeps in a blocking system call (its pc is at the ecall): a signal
    /// delivered now interrupts the call (EINTR, or a restart under SA_RESTART).
    pub in_blocking_call: bool,
    /// rt_sigsuspend's caller mask, restored when the signal that ends it is delivered.
    pub suspend_mask: Option<u64>,
    /// set_tid_address / CLONE_CHILD_CLEARTID: zeroed and futex-woken when the thread exits.
    pub clear_child_tid: u64,
    /// set_robust_list head (0: none).
    pub robust_list: u64,
    /// Set by the machine when every thread is blocked: blocking calls fail (EAGAIN, EINTR)
    /// instead, so a deadlocked guest sees an error rather than hanging the host.
    pub never_block: bool,
    /// The futex wait this thread is in, if any.
    pub futex: Option<FutexWait>,
}

impl ThreadState {
    /// The state of a process's first thread.
    pub fn main(tid: i32) -> ThreadState {
        ThreadState {
            tid,
            sigmask: 0,
            pending: 0,
            in_blocking_call: false,
            suspend_mask: None,
            clear_child_tid: 0,
            robust_list: 0,
            never_block: false,
            futex: None,
        }
    }

    /// Whether the scheduler may give this thread the hart (it is not asleep on a futex).
    pub fn runnable(&self) -> bool {
        !matches!(
            self.futex,
            Some(FutexWait {
                outcome: WaitOutcome::Waiting,
                ..
            })
        )
    }

    /// Mark `sig` pending; a futex wait that does not block it ends so the handler can run.
    fn post(&mut self, sig: u32) {
        let bit = 1u64 << (sig - 1);
        self.pending |= bit;
        if self.sigmask & bit == 0 && !self.runnable() {
            self.futex = None;
        }
    }

    /// Whether this thread sleeps on futex `addr` with a bitset meeting `bitset`.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    fn waits_on(&self, addr: u64, bitset: u32) -> Option<u64> {
        match self.futex {
            Some(w)
                if w.outcome == WaitOutcome::Waiting
                    && w.addr == addr
                    && w.bitset & bitset != 0 =>
            {
                Some(w.order)
            }
            _ => None,
        }
    }
}

/// A thread that is not on the hart: its registers and its kernel state.
#[derive(Clone, Debug)]
pub struct Thread {
    pub cpu: Cpu,
    pub state: ThreadState,
}

impl Process {
    /// Wake up to `count` threads sleeping on futex `addr` whose bitset meets `bitset`,
    /// earliest waiter first. Returns how many woke.
    pub fn futex_wake(&mut self, addr: u64, count: u32, bitset: u32) -> u32 {
        let mut woken = 0;
        while woken < count {
            let Some(thread) = self.earliest_waiter(addr, bitset) else {
                break;
            };
            if let Some(w) = thread.futex.as_mut() {
                w.outcome = WaitOutcome::Woken;
            }
            woken += 1;
        }
        woken
    }

    /// Move up to `count` waiters of futex `from` (earliest first) to futex `to`.
    fn futex_requeue(&mut self, from: u64, to: u64, count: u32) -> u32 {
        let mut moved = 0;
        while moved < count && from != to {
            let Some(thread) = self.earliest_waiter(from, FUTEX_BITSET_MATCH_ANY) else {
                break;
            };
            if let Some(w) = thread.futex.as_mut() {
                w.addr = to;
            }
            moved += 1;
        }
        moved
    }

    #[cfg(feature = "alloc")]
    fn earliest_waiter(&mut self, addr: u64, bitset: u32) -> Option<&mut ThreadState> {
        self.threads
            .iter_mut()
            .filter_map(|t| t.state.waits_on(addr, bitset).map(|order| (order, t)))
            .min_by_key(|(order, _)| *order)
            .map(|(_, t)| &mut t.state)
    }

    /// Without an allocator a process has one thread, which is running: nobody waits.
    #[cfg(not(feature = "alloc"))]
    fn earliest_waiter(&mut self, _addr: u64, _bitset: u32) -> Option<&mut ThreadState> {
        None
    }

    /// The state of thread `tid` of this process (the running one included).
    pub fn thread_mut(&mut self, tid: i32) -> Option<&mut ThreadState> {
        if self.thread.tid == tid {
            return Some(&mut self.thread);
        }
        #[cfg(feature = "alloc")]
        return self
            .threads
            .iter_mut()
            .map(|t| &mut t.state)
            .find(|s| s.tid == tid);
        #[cfg(not(feature = "alloc"))]
        None
    }

    /// A process-directed signal that a handler will take: it goes to the running thread
    /// unless that thread blocks it and another does not.
    pub fn post_signal(&mut self, sig: u32) {
        let bit = 1u64 << (sig - 1);
        #[cfg(feature = "alloc")]
        if self.thread.sigmask & bit != 0 {
            if let Some(t) = self.threads.iter_mut().find(|t| t.state.sigmask & bit == 0) {
                t.state.post(sig);
                return;
            }
        }
        let _ = bit;
        self.thread.post(sig);
    }

    /// tgkill/tkill to thread `tid` of this process: ESRCH if there is none; a signal with no
    /// handler acts on the whole process, as on Linux.
    pub(super) fn signal_thread(&mut self, tid: i32, sig: u32) -> SysResult {
        use signal::*;
        let action = self
            .sigactions
            .get(sig as usize)
            .copied()
            .unwrap_or_default();
        let Some(thread) = self.thread_mut(tid) else {
            return Err(Stop::Errno(ESRCH));
        };
        match (sig, action.handler) {
            (0, _) | (_, SIG_IGN) => Ok(0),
            (SIGKILL, _) => Err(Stop::Terminate(super::Termination::Signaled(sig))),
            (_, SIG_DFL) => match sig {
                SIGCHLD | SIGCONT | SIGURG | SIGWINCH | SIGSTOP | SIGTSTP | 21 | 22 => Ok(0),
                _ => Err(Stop::Terminate(super::Termination::Signaled(sig))),
            },
            _ => {
                thread.post(sig);
                Ok(0)
            }
        }
    }

    /// The dying thread's robust futexes: each lock it still owns gets the owner-died bit,
    /// and one waiter is woken to take it over (what the kernel does at thread exit).
    pub fn release_robust_list(&mut self, mem: &mut crate::mem::Memory) {
        let head = core::mem::replace(&mut self.thread.robust_list, 0);
        if head == 0 {
            return;
        }
        let tid = self.thread.tid as u32;
        let (Ok(first), Ok(offset), Ok(pending)) = (
            mem.read_u64(head),
            mem.read_u64(head + 8),
            mem.read_u64(head + 16),
        ) else {
            return;
        };
        let release = |p: &mut Process, mem: &mut crate::mem::Memory, entry: u64| {
            // Bit 0 of an entry marks a PI futex; those are not supported, skip the flag.
            let word_addr = (entry & !1).wrapping_add(offset);
            let Ok(word) = mem.read_u32(word_addr) else {
                return;
            };
            if word & FUTEX_TID_MASK != tid {
                return;
            }
            let marked = (word & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
            if mem.write_u32(word_addr, marked).is_ok() && word & FUTEX_WAITERS != 0 {
                p.futex_wake(word_addr, 1, FUTEX_BITSET_MATCH_ANY);
            }
        };
        let mut entry = first;
        for _ in 0..ROBUST_LIST_LIMIT {
            if entry == head || entry == 0 {
                break;
            }
            let next = mem.read_u64(entry & !1).unwrap_or(head);
            if entry != pending {
                release(self, mem, entry);
            }
            entry = next;
        }
        if pending != 0 {
            release(self, mem, pending);
        }
    }
}

impl<H: Host + ?Sized> Sys<'_, H> {
    /// futex(uaddr, op, val, timeout/val2, uaddr2, val3).
    pub(super) fn futex(&mut self, a: [u64; 6]) -> SysResult {
        let (addr, op, val) = (a[0], a[1], a[2] as u32);
        let command = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
        let realtime = op & FUTEX_CLOCK_REALTIME != 0;
        if realtime && command != FUTEX_WAIT && command != FUTEX_WAIT_BITSET {
            return Err(Stop::Errno(ENOSYS));
        }
        if addr % 4 != 0 {
            return Err(Stop::Errno(EINVAL));
        }
        match command {
            FUTEX_WAIT => self.futex_wait(addr, val, a[3], false, realtime, FUTEX_BITSET_MATCH_ANY),
            FUTEX_WAIT_BITSET => self.futex_wait(addr, val, a[3], true, realtime, a[5] as u32),
            FUTEX_WAKE | FUTEX_WAKE_BITSET => {
                let bitset = if command == FUTEX_WAKE {
                    FUTEX_BITSET_MATCH_ANY
                } else {
                    a[5] as u32
                };
                if bitset == 0 {
                    return Err(Stop::Errno(EINVAL));
                }
                // The word must be mapped, as the kernel checks.
                self.mem.read_u32(addr)?;
                Ok(u64::from(self.p.futex_wake(addr, val, bitset)))
            }
            FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
                let (wake, requeue, to) = (val, a[3] as u32, a[4]);
                if (wake as i32) < 0 || (requeue as i32) < 0 || to % 4 != 0 {
                    return Err(Stop::Errno(EINVAL));
                }
                let current = self.mem.read_u32(addr)?;
                self.mem.read_u32(to)?;
                if command == FUTEX_CMP_REQUEUE && current != a[5] as u32 {
                    return Err(Stop::Errno(EAGAIN));
                }
                let woken = self.p.futex_wake(addr, wake, FUTEX_BITSET_MATCH_ANY);
                let moved = self.p.futex_requeue(addr, to, requeue);
                // The kernel counts requeued waiters too, for both commands.
                Ok(u64::from(woken + moved))
            }
            FUTEX_WAKE_OP => self.futex_wake_op(addr, val, a[3] as u32, a[4], a[5] as u32),
            _ => {
                self.known = false;
                Err(Stop::Errno(ENOSYS))
            }
        }
    }

    /// FUTEX_WAIT / FUTEX_WAIT_BITSET: sleep while `*addr == val`. A relative timeout for
    /// WAIT, an absolute one for WAIT_BITSET.
    fn futex_wait(
        &mut self,
        addr: u64,
        val: u32,
        timeout: u64,
        absolute: bool,
        realtime: bool,
        bitset: u32,
    ) -> SysResult {
        // A second run of the call this thread slept in: report how the wait ended.
        if let Some(wait) = self.p.thread.futex.take() {
            match wait.outcome {
                WaitOutcome::Woken => return Ok(0),
                WaitOutcome::TimedOut => return Err(Stop::Errno(ETIMEDOUT)),
                // Every thread sleeps and no deadline is left: a spurious wake-up, which
                // callers of futex must expect anyway.
                WaitOutcome::Waiting if self.p.thread.never_block => {
                    return Err(Stop::Errno(EINTR))
                }
                WaitOutcome::Waiting => {
                    self.p.thread.futex = Some(wait);
                    return Err(Stop::Block);
                }
            }
        }
        if bitset == 0 {
            return Err(Stop::Errno(EINVAL));
        }
        let clock = if realtime {
            Clock::Realtime
        } else {
            Clock::Monotonic
        };
        let deadline_ns = if timeout == 0 {
            None
        } else {
            let t = super::timespec_ns(self.read_timespec(timeout)?);
            if absolute {
                Some(t)
            } else {
                Some(self.now_ns(clock).saturating_add(t))
            }
        };
        if self.mem.read_u32(addr)? != val {
            return Err(Stop::Errno(EAGAIN));
        }
        if deadline_ns.is_some_and(|d| self.now_ns(clock) >= d) {
            return Err(Stop::Errno(ETIMEDOUT));
        }
        if self.p.thread.never_block {
            return Err(Stop::Errno(EINTR));
        }
        self.p.futex_waits += 1;
        self.p.thread.futex = Some(FutexWait {
            addr,
            bitset,
            deadline_ns,
            realtime,
            order: self.p.futex_waits,
            outcome: WaitOutcome::Waiting,
        });
        Err(Stop::Block)
    }

    /// nanosleep in a process with several threads: sleep on a futex nobody can name
    /// until `ns` have passed on the monotonic clock.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    pub(super) fn sleep_thread(&mut self, ns: u64) -> SysResult {
        if let Some(wait) = self.p.thread.futex.take() {
            if wait.addr == SLEEP_ADDR {
                return match wait.outcome {
                    WaitOutcome::Waiting if !self.p.thread.never_block => {
                        self.p.thread.futex = Some(wait);
                        Err(Stop::Block)
                    }
                    _ => Ok(0),
                };
            }
        }
        if ns == 0 {
            return Ok(0);
        }
        let deadline = self.now_ns(Clock::Monotonic).saturating_add(ns);
        self.p.futex_waits += 1;
        self.p.thread.futex = Some(FutexWait {
            addr: SLEEP_ADDR,
            bitset: 0,
            deadline_ns: Some(deadline),
            realtime: false,
            order: self.p.futex_waits,
            outcome: WaitOutcome::Waiting,
        });
        Err(Stop::Block)
    }

    fn now_ns(&mut self, clock: Clock) -> u64 {
        let t = super::clock_now(self.p, self.cpu.instret, self.host, clock);
        super::timespec_ns(t)
    }

    /// FUTEX_WAKE_OP: change `*addr2` by the encoded operation, wake `wake` waiters of
    /// `addr`, and `wake2` of `addr2` if the old value of `*addr2` passes the encoded test.
    fn futex_wake_op(
        &mut self,
        addr: u64,
        wake: u32,
        wake2: u32,
        addr2: u64,
        encoded: u32,
    ) -> SysResult {
        if addr2 % 4 != 0 {
            return Err(Stop::Errno(EINVAL));
        }
        let sign_extend_12 = |v: u32| ((v << 20) as i32) >> 20;
        let op = (encoded >> 28) & 7;
        let shift_oparg = (encoded >> 28) & 8 != 0;
        let compare = (encoded >> 24) & 15;
        let mut oparg = sign_extend_12((encoded >> 12) & 0xfff);
        let cmparg = sign_extend_12(encoded & 0xfff);
        if shift_oparg {
            if !(0..32).contains(&oparg) {
                return Err(Stop::Errno(EINVAL));
            }
            oparg = 1 << oparg;
        }
        let old = self.mem.read_u32(addr2)?;
        let new = match op {
            0 => oparg as u32,
            1 => old.wrapping_add(oparg as u32),
            2 => old | oparg as u32,
            3 => old & !(oparg as u32),
            4 => old ^ oparg as u32,
            _ => return Err(Stop::Errno(ENOSYS)),
        };
        let old_signed = old as i32;
        let passes = match compare {
            0 => old_signed == cmparg,
            1 => old_signed != cmparg,
            2 => old_signed < cmparg,
            3 => old_signed <= cmparg,
            4 => old_signed > cmparg,
            5 => old_signed >= cmparg,
            _ => return Err(Stop::Errno(ENOSYS)),
        };
        self.mem.write_u32(addr2, new)?;
        let mut woken = self.p.futex_wake(addr, wake, FUTEX_BITSET_MATCH_ANY);
        if passes {
            woken += self.p.futex_wake(addr2, wake2, FUTEX_BITSET_MATCH_ANY);
        }
        Ok(u64::from(woken))
    }

    /// set_robust_list(head, len).
    pub(super) fn set_robust_list(&mut self, head: u64, len: u64) -> SysResult {
        if len != ROBUST_LIST_HEAD_SIZE {
            return Err(Stop::Errno(EINVAL));
        }
        self.p.thread.robust_list = head;
        Ok(0)
    }

    /// get_robust_list(tid, head_ptr, len_ptr): tid 0 is the caller.
    pub(super) fn get_robust_list(&mut self, tid: i32, head_ptr: u64, len_ptr: u64) -> SysResult {
        let tid = if tid == 0 { self.p.thread.tid } else { tid };
        let head = self
            .p
            .thread_mut(tid)
            .ok_or(Stop::Errno(ESRCH))?
            .robust_list;
        self.mem.write_u64(head_ptr, head)?;
        self.mem.write_u64(len_ptr, ROBUST_LIST_HEAD_SIZE)?;
        Ok(0)
    }
}
