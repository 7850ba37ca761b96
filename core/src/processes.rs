//! Several guest processes in one machine: fork/vfork, execve, wait4, kill, exit, and round-robin scheduling.
//!
//! The running process lives in the machine's own fields (`cpu`, `mem`, `cache`, `process`,
//! `image`) so the single-process hot path and the embedding API see plain fields; the
//! others wait in [`Processes`] and are swapped in when the scheduler picks them. Each
//! process has its own address space (a fork copies the pages in use). Scheduling depends
//! only on instruction counts and system-call results, so runs stay deterministic.

use alloc::vec::Vec;

use crate::cpu::{CodeCache, Cpu};
use crate::elf::LoadedImage;
use crate::host::errno::*;
use crate::host::Host;
use crate::linux::wait_options::{WEXITED, WNOHANG, WNOWAIT};
use crate::linux::{signal, MachineCall, Process, Termination, Thread, WaitFor, WaitOutcome};
use crate::machine::{LoadError, Machine};
use crate::mem::{Memory, PAGE_SIZE};

/// Instructions a process runs before another runnable one gets the hart.
pub const TIME_SLICE: u64 = 1_000_000;
/// Most threads alive at once in the whole machine.
pub const MAX_THREADS: usize = 512;

const CLONE_VM: u64 = 0x100;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x100000;
const CLONE_CHILD_CLEARTID: u64 = 0x200000;
const CLONE_CHILD_SETTID: u64 = 0x1000000;
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;
/// rt_sigframe: siginfo (128) + ucontext (sigmask padded to 128, mcontext at 176 with 32
/// integer slots and the 528-byte FP union), then the 8-byte return trampoline.
const MCONTEXT: usize = 176;
const TRAMPOLINE: u64 = 128 + 176 + 256 + 528;
const FRAME_SIZE: u64 = TRAMPOLINE + 16;

/// A process that is not on the hart right now.
#[derive(Debug)]
pub struct Task {
    pub cpu: Cpu,
    pub mem: Memory,
    pub cache: CodeCache,
    pub process: Process,
    pub image: LoadedImage,
    /// A vfork parent sleeps until this child execs or exits.
    pub vfork_child: Option<i32>,
}

/// A process that has exited and not yet been waited for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zombie {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub status: Termination,
}

/// Every process but the running one.
#[derive(Debug, Default)]
pub struct Processes {
    pub waiting: Vec<Task>,
    pub zombies: Vec<Zombie>,
    pub(crate) next_pid: i32,
    /// The running process is a vfork parent waiting for this child (set while it is swapped out).
    pub current_vfork_child: Option<i32>,
    /// Instructions the running process has used of its time slice. Kept across `run`
    /// calls so that how a host slices its budget never changes the schedule.
    pub slice_used: u64,
    /// Threads of the running process that have had the hart since the process got it:
    /// after each has had a turn, another process goes next.
    pub thread_turns: usize,
    /// Instructions retired by every process and thread since the machine was created (each
    /// process's own count is its `cpu.instret`, which its clocks read).
    pub retired: u64,
}

/// What the machine does after a process call.
pub(crate) enum CallOutcome {
    /// Result written to a0; continue after the ecall.
    Done,
    /// Retry the call later (leave pc at the ecall).
    Blocked,
    /// The running process changed (exec, or it was killed and another was swapped in).
    Switched,
    /// The init process is gone: the machine is finished.
    Finished(Termination),
}

impl Processes {
    fn alloc_pid(&mut self) -> i32 {
        if self.next_pid < 2 {
            self.next_pid = 2;
        }
        let pid = self.next_pid;
        self.next_pid += 1;
        pid
    }
}

/// `wait4` status word for a termination.
fn wait_status(t: Termination) -> u32 {
    match t {
        Termination::Exited(code) => ((code as u32) & 0xff) << 8,
        Termination::Signaled(sig) => sig & 0x7f,
    }
}

/// Whether process `pid`/`pgid` matches a kill selector from process `caller_pgid`.
fn selected(selector: i64, caller_pgid: i32, pid: i32, pgid: i32) -> bool {
    match selector {
        -1 => true,
        0 => pgid == caller_pgid,
        s if s > 0 => i64::from(pid) == s,
        s => i64::from(pgid) == -s,
    }
}

impl Machine {
    /// Whether another process could take the hart.
    pub(crate) fn has_other_process(&self) -> bool {
        !self.procs.waiting.is_empty()
    }

    /// Whether another thread or process could take the hart.
    pub(crate) fn has_other_task(&self) -> bool {
        !self.procs.waiting.is_empty() || !self.process.threads.is_empty()
    }

    /// Processes alive (running or waiting).
    pub(crate) fn process_count(&self) -> usize {
        self.procs.waiting.len() + 1
    }

    /// Threads alive in every process.
    pub(crate) fn thread_count(&self) -> usize {
        let waiting: usize = self
            .procs
            .waiting
            .iter()
            .map(|t| 1 + t.process.threads.len())
            .sum();
        waiting + 1 + self.process.threads.len()
    }

    fn current_task(&mut self, replacement: Task) -> Task {
        let mut t = replacement;
        core::mem::swap(&mut t.cpu, &mut self.cpu);
        core::mem::swap(&mut t.mem, &mut self.mem);
        core::mem::swap(&mut t.cache, &mut self.cache);
        core::mem::swap(&mut t.process, &mut self.process);
        core::mem::swap(&mut t.image, &mut self.image);
        t.vfork_child = core::mem::replace(&mut self.procs.current_vfork_child, t.vfork_child);
        self.procs.slice_used = 0;
        self.procs.thread_turns = 0;
        // The incoming process's thread may be asleep on a futex: give the hart to one of
        // its threads that can run.
        if !self.process.thread.runnable() {
            if let Some(idx) = self.process.threads.iter().position(|t| t.state.runnable()) {
                self.switch_thread(idx);
            }
        }
        t
    }

    /// Give the hart to thread `idx` of the running process; the running thread goes to
    /// the back of the process's queue. Only registers and per-thread state move.
    fn switch_thread(&mut self, idx: usize) {
        let mut next = self.process.threads.remove(idx);
        self.swap_in_thread(&mut next);
        self.process.threads.push(next);
    }

    /// Exchange the running thread with `other`. The instruction count belongs to the
    /// process (its clocks read it), so it carries over; an LR reservation does not, since
    /// other threads may have written the reserved word meanwhile.
    fn swap_in_thread(&mut self, other: &mut Thread) {
        other.cpu.instret = self.cpu.instret;
        other.cpu.reservation = None;
        core::mem::swap(&mut other.cpu, &mut self.cpu);
        core::mem::swap(&mut other.state, &mut self.process.thread);
        self.procs.slice_used = 0;
    }

    /// Whether a waiting process could take the hart.
    fn runnable_process(&self) -> Option<usize> {
        self.procs.waiting.iter().position(|t| {
            t.vfork_child.is_none()
                && (t.process.thread.runnable()
                    || t.process.threads.iter().any(|th| th.state.runnable()))
        })
    }

    /// Run the next thread of this process, or once each has had its turn, the next
    /// process that can run (the running one goes to the back of the queue).
    /// Returns false if nothing else can run (the current thread stays).
    pub(crate) fn switch_to_next(&mut self) -> bool {
        let thread = self.process.threads.iter().position(|t| t.state.runnable());
        let process = self.runnable_process();
        if let Some(idx) = thread {
            if self.procs.thread_turns < self.process.threads.len() || process.is_none() {
                let turns = self.procs.thread_turns + 1;
                self.switch_thread(idx);
                self.procs.thread_turns = turns;
                return true;
            }
        }
        let Some(idx) = process else {
            return false;
        };
        let next = self.procs.waiting.remove(idx);
        let previous = self.current_task(next);
        self.procs.waiting.push(previous);
        true
    }

    /// Futex waits whose deadline has passed end with ETIMEDOUT (in every process, each
    /// on its own clock). Returns the shortest time left among the others, with the
    /// process it belongs to (None: the running one, Some(i): waiting process i).
    pub(crate) fn expire_futex_timeouts<H: Host + ?Sized>(
        &mut self,
        host: &mut H,
    ) -> Option<(u64, Option<usize>)> {
        let mut soonest =
            expire_in(&mut self.process, self.cpu.instret, host).map(|left| (left, None));
        for (i, t) in self.procs.waiting.iter_mut().enumerate() {
            if let Some(left) = expire_in(&mut t.process, t.cpu.instret, host) {
                if soonest.is_none_or(|(best, _)| left < best) {
                    soonest = Some((left, Some(i)));
                }
            }
        }
        soonest
    }

    /// exit: the running thread ends. Its clear_child_tid word is zeroed and woken (how
    /// pthread_join learns of it) and its robust futexes released; the last thread's exit
    /// ends the process.
    fn exit_thread(&mut self, status: i32) -> CallOutcome {
        if self.process.threads.is_empty() {
            return self.exit_current(Termination::Exited(status));
        }
        self.process.release_robust_list(&mut self.mem);
        let clear = self.process.thread.clear_child_tid;
        if clear != 0 && self.mem.write_u32(clear, 0).is_ok() {
            self.process.futex_wake(clear, 1, u32::MAX);
        }
        let idx = self
            .process
            .threads
            .iter()
            .position(|t| t.state.runnable())
            .unwrap_or(0);
        let mut next = self.process.threads.remove(idx);
        self.swap_in_thread(&mut next);
        CallOutcome::Switched
    }

    /// The running process has ended with `status`: keep a zombie for its parent, hand its
    /// children to init, and swap in another process.
    pub(crate) fn exit_current(&mut self, status: Termination) -> CallOutcome {
        if self.process.pid == 1 || self.procs.waiting.is_empty() {
            return CallOutcome::Finished(status);
        }
        self.switch_from_dead(status)
    }

    /// The current process has ended and another is waiting: bury it and run the next.
    /// Kept apart from [`Machine::exit_current`] because moving whole processes takes a
    /// large stack frame, whose pages a single-process guest's exit would otherwise touch.
    #[inline(never)]
    fn switch_from_dead(&mut self, status: Termination) -> CallOutcome {
        let pid = self.process.pid;
        self.files.close_all(&mut self.process.fds);
        self.close_released();
        self.bury(pid, self.process.ppid, self.process.pgid, status);
        // Replace the dead process with the first waiting one that can run (a vfork parent
        // of the dead child included, now that it is awake).
        let idx = self
            .procs
            .waiting
            .iter()
            .position(|t| t.vfork_child.is_none())
            .unwrap_or(0);
        let next = self.procs.waiting.remove(idx);
        let _dead = self.current_task(next);
        CallOutcome::Switched
    }

    /// Drop the VFS references of files whose last open description went away.
    fn close_released(&mut self) {
        if let Some(vfs) = self.vfs.as_mut() {
            for ino in self.files.released.drain(..) {
                vfs.close(ino);
            }
        }
    }

    /// Process `pid` has ended (its fds already closed): keep a zombie for its parent,
    /// hand its children to init, wake a vfork parent, and send the parent SIGCHLD.
    fn bury(&mut self, pid: i32, ppid: i32, pgid: i32, status: Termination) {
        self.procs.zombies.push(Zombie {
            pid,
            ppid,
            pgid,
            status,
        });
        self.reparent_children(pid);
        self.wake_vfork_parent(pid);
        self.notify_parent(ppid);
    }

    fn reparent_children(&mut self, pid: i32) {
        for t in self.procs.waiting.iter_mut() {
            if t.process.ppid == pid {
                t.process.ppid = 1;
            }
        }
        for z in self.procs.zombies.iter_mut() {
            if z.ppid == pid {
                z.ppid = 1;
            }
        }
        if self.process.ppid == pid {
            self.process.ppid = 1;
        }
    }

    fn wake_vfork_parent(&mut self, child: i32) {
        for t in self.procs.waiting.iter_mut() {
            if t.vfork_child == Some(child) {
                t.vfork_child = None;
            }
        }
        if self.procs.current_vfork_child == Some(child) {
            self.procs.current_vfork_child = None;
        }
    }

    /// Carry out a process call for the running process.
    pub(crate) fn process_call(&mut self, call: MachineCall) -> CallOutcome {
        match call {
            MachineCall::Clone {
                flags,
                stack,
                parent_tid,
                tls,
                child_tid,
            } => self.clone_process(flags, stack, parent_tid, tls, child_tid),
            MachineCall::Exec { path, argv, envp } => self.exec(path, argv, envp),
            MachineCall::Wait {
                children,
                status,
                options,
                rusage,
                siginfo,
            } => self.wait(children, status, options, rusage, siginfo),
            MachineCall::Kill { pid, signal } => self.kill(pid, signal),
            MachineCall::SigSuspend { mask } => self.sigsuspend(mask),
            MachineCall::SigReturn => self.sigreturn(),
            MachineCall::ExitThread { status } => self.exit_thread(status),
            MachineCall::Yield => {
                self.cpu.x[10] = 0;
                self.cpu.pc = self.cpu.pc.wrapping_add(4);
                self.switch_to_next();
                CallOutcome::Switched
            }
        }
    }

    fn set_result(&mut self, value: i64) -> CallOutcome {
        self.cpu.x[10] = value as u64;
        CallOutcome::Done
    }

    fn clone_process(
        &mut self,
        flags: u64,
        stack: u64,
        parent_tid: u64,
        tls: u64,
        child_tid: u64,
    ) -> CallOutcome {
        if flags & CLONE_THREAD != 0 {
            return self.clone_thread(flags, stack, parent_tid, tls, child_tid);
        }
        if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
            // A process sharing its parent's memory without being its thread: this machine
            // gives each process its own address space.
            return self.set_result(-i64::from(ENOSYS));
        }
        if self.process_count() + self.procs.zombies.len() >= self.process.config.max_processes {
            return self.set_result(-i64::from(EAGAIN));
        }
        let mem = match self.copy_address_space() {
            Ok(m) => m,
            Err(_) => return self.set_result(-i64::from(ENOMEM)),
        };
        let pid = self.procs.alloc_pid();
        let cpu = self.child_cpu(flags, stack, tls);
        let mut process = self.process.clone();
        process.pid = pid;
        process.ppid = self.process.pid;
        process.fds = self.files.fork(&self.process.fds);
        // Only the calling thread is copied into the child; it inherits no interval
        // timers (and is in no blocking call).
        process.timers = Default::default();
        process.threads.clear();
        process.thread.tid = pid;
        process.thread.pending = 0;
        process.thread.robust_list = 0;
        process.thread.clear_child_tid = if flags & CLONE_CHILD_CLEARTID != 0 {
            child_tid
        } else {
            0
        };
        let mut child = Task {
            cpu,
            mem,
            cache: CodeCache::default(),
            process,
            image: self.image,
            vfork_child: None,
        };
        if flags & CLONE_CHILD_SETTID != 0 {
            let _ = child.mem.write_u32(child_tid, pid as u32);
        }
        if flags & CLONE_PARENT_SETTID != 0 {
            let _ = self.mem.write_u32(parent_tid, pid as u32);
            let _ = child.mem.write_u32(parent_tid, pid as u32);
        }
        self.cpu.x[10] = pid as u64;
        if flags & CLONE_VFORK != 0 {
            // The parent sleeps until the child execs or exits; the child runs now.
            self.cpu.pc = self.cpu.pc.wrapping_add(4);
            let parent = self.current_task(child);
            let mut parent = parent;
            parent.vfork_child = Some(pid);
            self.procs.waiting.push(parent);
            return CallOutcome::Switched;
        }
        self.procs.waiting.push(child);
        CallOutcome::Done
    }

    /// The registers a clone child starts with: the caller's, resuming after the ecall with
    /// a0 = 0, on `stack` if given, with thread pointer `tls` under CLONE_SETTLS.
    fn child_cpu(&self, flags: u64, stack: u64, tls: u64) -> Cpu {
        let mut cpu = self.cpu.clone();
        cpu.x[10] = 0;
        cpu.pc = self.cpu.pc.wrapping_add(4);
        cpu.reservation = None;
        if stack != 0 {
            cpu.x[2] = stack;
        }
        if flags & CLONE_SETTLS != 0 {
            cpu.x[4] = tls;
        }
        cpu
    }

    /// clone with CLONE_THREAD: a new thread of the running process, sharing its memory,
    /// files and signal handlers, starting after the ecall on `stack` with a0 = 0.
    fn clone_thread(
        &mut self,
        flags: u64,
        stack: u64,
        parent_tid: u64,
        tls: u64,
        child_tid: u64,
    ) -> CallOutcome {
        // Linux's rules: threads share signal handlers, which needs a shared address space.
        if flags & CLONE_SIGHAND == 0 || flags & CLONE_VM == 0 || flags & CLONE_VFORK != 0 {
            return self.set_result(-i64::from(EINVAL));
        }
        if self.thread_count() + self.procs.zombies.len() >= MAX_THREADS {
            return self.set_result(-i64::from(EAGAIN));
        }
        let tid = self.procs.alloc_pid();
        let cpu = self.child_cpu(flags, stack, tls);
        let mut state = crate::linux::ThreadState::main(tid);
        state.sigmask = self.process.thread.sigmask;
        if flags & CLONE_CHILD_CLEARTID != 0 {
            state.clear_child_tid = child_tid;
        }
        if flags & CLONE_PARENT_SETTID != 0 && self.mem.write_u32(parent_tid, tid as u32).is_err() {
            return self.set_result(-i64::from(EFAULT));
        }
        if flags & CLONE_CHILD_SETTID != 0 && self.mem.write_u32(child_tid, tid as u32).is_err() {
            return self.set_result(-i64::from(EFAULT));
        }
        self.process.threads.push(Thread { cpu, state });
        self.set_result(i64::from(tid))
    }

    /// A new address space holding copies of the pages the running process uses.
    fn copy_address_space(&self) -> Result<Memory, LoadError> {
        let size = usize::try_from(self.mem.size())
            .map_err(|_| LoadError::Memory(crate::mem::MemError::BadSize))?;
        let mut child = Memory::new(size)?;
        let mut copy = |start: u64, end: u64| {
            if start < end {
                if let Ok(src) = self.mem.slice(start, end - start) {
                    let _ = child.write_bytes(start, src);
                }
            }
        };
        let page_up = |v: u64| (v + PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        copy(
            self.image.start.max(PAGE_SIZE),
            page_up(self.process.brk.max(self.image.end)),
        );
        for r in self.process.maps.iter() {
            copy(r.start, r.end);
        }
        let stack_limit = self
            .process
            .stack_top
            .saturating_sub(self.process.config.stack_size);
        let sp_page = (self.cpu.x[2] & !(PAGE_SIZE - 1)).max(stack_limit);
        copy(sp_page.min(self.process.stack_top), self.process.stack_top);
        Ok(child)
    }

    fn read_string_array(&self, addr: u64) -> Result<Vec<Vec<u8>>, i32> {
        let mut out = Vec::new();
        if addr == 0 {
            return Ok(out);
        }
        let mut total = 0usize;
        for i in 0..65536u64 {
            let ptr = self.mem.read_u64(addr + 8 * i).map_err(|_| EFAULT)?;
            if ptr == 0 {
                return Ok(out);
            }
            let len = self.mem.c_str_len(ptr, 1 << 17).map_err(|_| EFAULT)?;
            total += len as usize + 1;
            if total > 2 << 20 {
                return Err(E2BIG);
            }
            out.push(self.mem.slice(ptr, len).map_err(|_| EFAULT)?.to_vec());
        }
        Err(E2BIG)
    }

    fn exec(&mut self, path: u64, argv: u64, envp: u64) -> CallOutcome {
        let path = match self.mem.c_str_len(path, 4096) {
            Ok(len) if len < 4096 => match self.mem.slice(path, len) {
                Ok(p) => p.to_vec(),
                Err(_) => return self.set_result(-i64::from(EFAULT)),
            },
            Ok(_) => return self.set_result(-i64::from(ENAMETOOLONG)),
            Err(_) => return self.set_result(-i64::from(EFAULT)),
        };
        let (args, env) = match (self.read_string_array(argv), self.read_string_array(envp)) {
            (Ok(a), Ok(e)) => (a, e),
            (Err(e), _) | (_, Err(e)) => return self.set_result(-i64::from(e)),
        };
        let arg_refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let prepared = match self.prepare_program(&path, &arg_refs) {
            Ok(p) => p,
            Err(LoadError::NotFound) => return self.set_result(-i64::from(ENOENT)),
            Err(LoadError::PermissionDenied) => return self.set_result(-i64::from(EACCES)),
            Err(LoadError::Memory(_)) => return self.set_result(-i64::from(ENOMEM)),
            Err(_) => return self.set_result(-i64::from(ENOEXEC)),
        };
        // Point of no return: a fresh address space, close-on-exec fds closed, caught
        // signals back to their default action.
        let size = self.mem.size() as usize;
        match Memory::new(size) {
            Ok(m) => self.mem = m,
            Err(_) => return self.set_result(-i64::from(ENOMEM)),
        }
        self.cache.flush();
        // The other threads end; the caller carries on as the process's first thread.
        self.process.threads.clear();
        self.process.thread.tid = self.process.pid;
        self.process.thread.robust_list = 0;
        self.process.thread.clear_child_tid = 0;
        self.process.thread.futex = None;
        self.files.close_on_exec(&mut self.process.fds);
        self.close_released();
        for action in self.process.sigactions.iter_mut() {
            if action.handler > 1 {
                *action = Default::default();
            }
        }
        let env_refs: Vec<&[u8]> = env.iter().map(|e| e.as_slice()).collect();
        let pid = self.process.pid;
        self.wake_vfork_parent(pid);
        let instret = self.cpu.instret;
        match self.install_program(&prepared, &env_refs) {
            Ok(()) => {
                // The retired-instruction count belongs to the process, not the image.
                self.cpu.instret = instret;
                CallOutcome::Switched
            }
            Err(_) => {
                self.cpu.instret = instret;
                self.exit_current(Termination::Signaled(signal::SIGSEGV))
            }
        }
    }

    /// wait4/waitid: reap (or with WNOWAIT only report) a terminated child among
    /// `children`; report to `siginfo` (waitid) or `status` (wait4).
    fn wait(
        &mut self,
        children: WaitFor,
        status: u64,
        options: u64,
        rusage: u64,
        siginfo: Option<u64>,
    ) -> CallOutcome {
        let me = self.process.pid;
        let wanted = match children {
            WaitFor::Group(0) => WaitFor::Group(self.process.pgid),
            other => other,
        };
        let chosen = |ppid: i32, pid: i32, pgid: i32| {
            ppid == me
                && match wanted {
                    WaitFor::Any => true,
                    WaitFor::Process(p) => pid == p,
                    WaitFor::Group(g) => pgid == g,
                }
        };
        let zombie = self
            .procs
            .zombies
            .iter()
            .position(|z| chosen(z.ppid, z.pid, z.pgid))
            .filter(|_| options & WEXITED != 0);
        if let Some(idx) = zombie {
            let z = self.procs.zombies[idx];
            let reported = match siginfo {
                Some(info) => self.write_child_info(info, Some((z.pid, z.status))),
                None => status == 0 || self.mem.write_u32(status, wait_status(z.status)).is_ok(),
            };
            if !reported || (rusage != 0 && self.mem.zero(rusage, 144).is_err()) {
                return self.set_result(-i64::from(EFAULT));
            }
            if options & WNOWAIT == 0 {
                self.procs.zombies.remove(idx);
            }
            // waitid answers 0, wait4 the child's pid.
            return self.set_result(if siginfo.is_some() {
                0
            } else {
                i64::from(z.pid)
            });
        }
        let live_child = self
            .procs
            .waiting
            .iter()
            .any(|t| chosen(t.process.ppid, t.process.pid, t.process.pgid));
        let result = if !live_child {
            -i64::from(ECHILD)
        } else if options & WNOHANG != 0 {
            0
        } else if self.process.thread.never_block {
            -i64::from(EINTR)
        } else {
            return CallOutcome::Blocked;
        };
        // Linux's waitid clears the fields it reports when no child was reaped, even on error.
        if let Some(info) = siginfo {
            if !self.write_child_info(info, None) {
                return self.set_result(-i64::from(EFAULT));
            }
        }
        self.set_result(result)
    }

    /// Fill the fields of waitid's `siginfo_t` at `info` (0: none) that Linux fills: for
    /// child `(pid, termination)`, or all zero for none. False: the address is bad.
    fn write_child_info(&mut self, info: u64, child: Option<(i32, Termination)>) -> bool {
        const CLD_EXITED: u32 = 1;
        const CLD_KILLED: u32 = 2;
        if info == 0 {
            return true;
        }
        // (si_signo, si_code, si_pid, si_status); si_errno and si_uid (every guest runs as
        // uid 0) stay 0. No core dumps are written, so CLD_DUMPED never happens.
        let (signo, code, pid, status) = match child {
            None => (0, 0, 0, 0),
            Some((pid, Termination::Exited(code))) => {
                (signal::SIGCHLD, CLD_EXITED, pid as u32, code as u32 & 0xff)
            }
            Some((pid, Termination::Signaled(sig))) => {
                (signal::SIGCHLD, CLD_KILLED, pid as u32, sig)
            }
        };
        // Layout of the generic (riscv64) siginfo_t's head and its SIGCHLD union member.
        let fields = [
            (0, signo),
            (4, 0),
            (8, code),
            (16, pid),
            (20, 0),
            (24, status),
        ];
        fields
            .iter()
            .all(|&(offset, value)| self.mem.write_u32(info + offset, value).is_ok())
    }

    /// rt_sigsuspend: sleep with `mask` until a signal is delivered (which ends the call
    /// with EINTR after its handler ran).
    fn sigsuspend(&mut self, mask: u64) -> CallOutcome {
        let unblockable = (1 << (signal::SIGKILL - 1)) | (1 << (signal::SIGSTOP - 1));
        if self.process.thread.suspend_mask.is_none() {
            self.process.thread.suspend_mask = Some(self.process.thread.sigmask);
        }
        self.process.thread.sigmask = mask & !unblockable;
        if self.process.thread.never_block {
            if let Some(saved) = self.process.thread.suspend_mask.take() {
                self.process.thread.sigmask = saved;
            }
            return self.set_result(-i64::from(EINTR));
        }
        CallOutcome::Blocked
    }

    /// Run the handler of the lowest pending, unblocked signal of the running process, or
    /// its default action. Returns what happened to the process (None: it carries on).
    pub(crate) fn deliver_signals(&mut self) -> Option<CallOutcome> {
        loop {
            let ready = self.process.thread.pending & !self.process.thread.sigmask;
            if ready == 0 {
                return None;
            }
            let sig = ready.trailing_zeros() + 1;
            self.process.thread.pending &= !(1 << (sig - 1));
            let action = self.process.sigactions[sig as usize];
            match action.handler {
                SIG_IGN => continue,
                SIG_DFL => {
                    if Self::terminates(&self.process, sig) {
                        return Some(self.exit_current(Termination::Signaled(sig)));
                    }
                    continue;
                }
                handler => {
                    if !self.push_signal_frame(sig, handler, action.flags, action.mask) {
                        // No room for the frame: Linux kills with SIGSEGV.
                        return Some(self.exit_current(Termination::Signaled(signal::SIGSEGV)));
                    }
                    return None;
                }
            }
        }
    }

    /// Build the riscv64 rt_sigframe (siginfo + ucontext + a return trampoline) below the
    /// stack pointer and enter the handler.
    fn push_signal_frame(&mut self, sig: u32, handler: u64, flags: u64, mask: u64) -> bool {
        const SA_SIGINFO: u64 = 4;
        const SA_RESTART: u64 = 0x1000_0000;
        const SA_NODEFER: u64 = 0x4000_0000;
        const SA_RESETHAND: u64 = 0x8000_0000;
        // Interrupted blocking call: it fails with EINTR, or runs again under SA_RESTART
        // (rt_sigsuspend always returns EINTR).
        let mut old_mask = self.process.thread.sigmask;
        if self.process.thread.in_blocking_call {
            self.process.thread.in_blocking_call = false;
            self.process.thread.futex = None;
            let suspended = self.process.thread.suspend_mask.take();
            if let Some(saved) = suspended {
                old_mask = saved;
            }
            if flags & SA_RESTART == 0 || suspended.is_some() {
                self.cpu.x[10] = (-i64::from(EINTR)) as u64;
                self.cpu.pc = self.cpu.pc.wrapping_add(4);
            }
        }
        let frame = (self.cpu.x[2].wrapping_sub(FRAME_SIZE + 128)) & !15;
        let mut f = alloc::vec![0u8; FRAME_SIZE as usize];
        // siginfo: signo, errno, code (SI_USER 0), then the sender's pid.
        f[0..4].copy_from_slice(&(sig as i32).to_le_bytes());
        // ucontext at 128: flags, link, stack (none), the mask to restore, then mcontext.
        let uc = 128;
        f[uc + 24..uc + 28].copy_from_slice(&2u32.to_le_bytes()); // SS_DISABLE
        f[uc + 40..uc + 48].copy_from_slice(&old_mask.to_le_bytes());
        let regs = uc + MCONTEXT;
        f[regs..regs + 8].copy_from_slice(&self.cpu.pc.to_le_bytes());
        for r in 1..32 {
            f[regs + 8 * r..regs + 8 * r + 8].copy_from_slice(&self.cpu.x[r].to_le_bytes());
        }
        let fp = regs + 256;
        for r in 0..32 {
            f[fp + 8 * r..fp + 8 * r + 8].copy_from_slice(&self.cpu.f[r].to_le_bytes());
        }
        let fcsr = (u32::from(self.cpu.frm) << 5) | u32::from(self.cpu.fflags);
        f[fp + 256..fp + 260].copy_from_slice(&fcsr.to_le_bytes());
        // Return trampoline (there is no vDSO): li a7, 139; ecall.
        let tramp = TRAMPOLINE as usize;
        f[tramp..tramp + 4].copy_from_slice(&0x08b0_0893u32.to_le_bytes());
        f[tramp + 4..tramp + 8].copy_from_slice(&0x0000_0073u32.to_le_bytes());
        if self.mem.write_bytes(frame, &f).is_err() {
            return false;
        }
        self.cache.invalidate(frame + TRAMPOLINE, 8);
        let mut blocked = self.process.thread.sigmask | mask;
        if flags & SA_NODEFER == 0 {
            blocked |= 1 << (sig - 1);
        }
        self.process.thread.sigmask =
            blocked & !((1 << (signal::SIGKILL - 1)) | (1 << (signal::SIGSTOP - 1)));
        if flags & SA_RESETHAND != 0 {
            self.process.sigactions[sig as usize] = Default::default();
        }
        self.cpu.x[2] = frame;
        self.cpu.x[1] = frame + TRAMPOLINE;
        self.cpu.x[10] = u64::from(sig);
        if flags & SA_SIGINFO != 0 {
            self.cpu.x[11] = frame;
            self.cpu.x[12] = frame + 128;
        }
        self.cpu.pc = handler;
        true
    }

    /// rt_sigreturn: restore the registers and mask saved in the frame at sp.
    fn sigreturn(&mut self) -> CallOutcome {
        let frame = self.cpu.x[2];
        let mut f = alloc::vec![0u8; FRAME_SIZE as usize];
        if self.mem.read_bytes(frame, &mut f).is_err() {
            return self.exit_current(Termination::Signaled(signal::SIGSEGV));
        }
        let word = |at: usize| u64::from_le_bytes(f[at..at + 8].try_into().unwrap_or_default());
        let uc = 128;
        let regs = uc + MCONTEXT;
        self.cpu.pc = word(regs);
        for r in 1..32 {
            self.cpu.x[r] = word(regs + 8 * r);
        }
        let fp = regs + 256;
        for r in 0..32 {
            self.cpu.f[r] = word(fp + 8 * r);
        }
        let fcsr = u32::from_le_bytes(f[fp + 256..fp + 260].try_into().unwrap_or_default());
        self.cpu.fflags = (fcsr & 0x1f) as u8;
        self.cpu.frm = ((fcsr >> 5) & 7) as u8;
        let unblockable = (1 << (signal::SIGKILL - 1)) | (1 << (signal::SIGSTOP - 1));
        self.process.thread.sigmask = word(uc + 40) & !unblockable;
        CallOutcome::Switched
    }

    /// Mark `sig` pending for process `pid` (running or waiting), as a handler will take it.
    fn post_signal(&mut self, pid: i32, sig: u32) {
        if self.process.pid == pid {
            self.process.post_signal(sig);
        } else if let Some(t) = self.procs.waiting.iter_mut().find(|t| t.process.pid == pid) {
            t.process.post_signal(sig);
        }
    }

    /// A child of `parent` changed state: SIGCHLD, if the parent handles it.
    fn notify_parent(&mut self, parent: i32) {
        let handles = |p: &Process| p.sigactions[signal::SIGCHLD as usize].handler > SIG_IGN;
        let wants = if self.process.pid == parent {
            handles(&self.process)
        } else {
            self.procs
                .waiting
                .iter()
                .any(|t| t.process.pid == parent && handles(&t.process))
        };
        if wants {
            self.post_signal(parent, signal::SIGCHLD);
        }
    }

    /// Default action of `sig` for a process: true if it terminates it.
    fn terminates(process: &Process, sig: u32) -> bool {
        use signal::*;
        let handler = process
            .sigactions
            .get(sig as usize)
            .map_or(0, |a| a.handler);
        if sig == SIGKILL {
            return true;
        }
        // Caught signals are not delivered to handlers yet: treat them as ignored.
        handler == 0 && !matches!(sig, SIGCHLD | SIGCONT | SIGURG | SIGWINCH | 0)
    }

    fn kill(&mut self, pid: i64, sig: u32) -> CallOutcome {
        let me = self.process.pid;
        let my_pgid = self.process.pgid;
        self.kill_where(sig, |p, g| {
            selected(pid, my_pgid, p, g) && !(pid == -1 && (p == 1 || p == me))
        })
    }

    /// Signal every process `matches(pid, pgid)` accepts; a0 gets 0, or -ESRCH if none did.
    pub(crate) fn kill_where(
        &mut self,
        sig: u32,
        matches: impl Fn(i32, i32) -> bool,
    ) -> CallOutcome {
        let mut found = false;
        let mut idx = 0;
        while idx < self.procs.waiting.len() {
            let t = &self.procs.waiting[idx];
            if matches(t.process.pid, t.process.pgid) {
                found = true;
                let handled = sig != 0
                    && sig != signal::SIGKILL
                    && t.process.sigactions[sig as usize].handler > SIG_IGN;
                if handled {
                    self.procs.waiting[idx].process.post_signal(sig);
                } else if sig != 0 && Self::terminates(&t.process, sig) {
                    if t.process.pid == 1 {
                        // The first process ends the machine, even while another runs.
                        return CallOutcome::Finished(Termination::Signaled(sig));
                    }
                    let mut t = self.procs.waiting.remove(idx);
                    let dead = t.process.pid;
                    self.files.close_all(&mut t.process.fds);
                    self.close_released();
                    let status = Termination::Signaled(sig);
                    self.bury(dead, t.process.ppid, t.process.pgid, status);
                    continue;
                }
            }
            idx += 1;
        }
        if matches(self.process.pid, self.process.pgid) {
            found = true;
            let handled = sig != 0
                && sig != signal::SIGKILL
                && self.process.sigactions[sig as usize].handler > SIG_IGN;
            if handled {
                self.process.post_signal(sig);
            } else if sig != 0 && Self::terminates(&self.process, sig) {
                self.cpu.x[10] = 0;
                return self.exit_current(Termination::Signaled(sig));
            }
        }
        self.set_result(if found { 0 } else { -i64::from(ESRCH) })
    }
}

/// End the futex waits of `process` (whose threads have retired `instret` instructions)
/// whose deadline has passed; the shortest time left among the others, if any.
fn expire_in<H: Host + ?Sized>(process: &mut Process, instret: u64, host: &mut H) -> Option<u64> {
    let mut now = [None, None];
    let mut soonest: Option<u64> = None;
    let mut check = |state: &mut crate::linux::ThreadState, p: &Process| {
        let Some(wait) = state.futex.as_mut() else {
            return;
        };
        let Some(deadline) = wait
            .deadline_ns
            .filter(|_| wait.outcome == WaitOutcome::Waiting)
        else {
            return;
        };
        let (slot, clock) = if wait.realtime {
            (0, crate::host::Clock::Realtime)
        } else {
            (1, crate::host::Clock::Monotonic)
        };
        let now = *now[slot].get_or_insert_with(|| {
            crate::linux::timespec_ns(crate::linux::clock_now(p, instret, host, clock))
        });
        if now >= deadline {
            wait.outcome = WaitOutcome::TimedOut;
        } else {
            let left = deadline - now;
            soonest = Some(soonest.map_or(left, |s| s.min(left)));
        }
    };
    let mut thread = core::mem::replace(&mut process.thread, crate::linux::ThreadState::main(0));
    check(&mut thread, process);
    process.thread = thread;
    let mut others = core::mem::take(&mut process.threads);
    for t in others.iter_mut() {
        check(&mut t.state, process);
    }
    process.threads = others;
    soonest
}
