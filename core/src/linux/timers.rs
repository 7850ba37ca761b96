//! Interval timers (setitimer/getitimer, and so alarm) and the deadlines blocked calls wait for.
//!
//! Time is the clock nanosleep uses: the host's monotonic clock, or in deterministic mode (or
//! with a host without a clock) the process's virtual clock, 10 ns per retired instruction plus
//! the time it slept. ITIMER_VIRTUAL and ITIMER_PROF count instruction time only. All deadlines
//! are nanoseconds on those clocks, kept as plain numbers in [`ProcessTimers`].
//!
//! Without `alloc` there is no signal delivery, so setitimer/getitimer answer ENOSYS there and
//! their helpers go unused.
#![cfg_attr(not(feature = "alloc"), allow(dead_code))]

use super::{err, signal, timespec_ns, Process, Stop, Sys, SysResult};
use crate::host::{errno::*, Clock, Host, Timespec};

pub const SIGALRM: u32 = 14;
pub const SIGVTALRM: u32 = 26;
pub const SIGPROF: u32 = 27;
const ITIMER_REAL: u64 = 0;
const ITIMER_VIRTUAL: u64 = 1;
const ITIMER_PROF: u64 = 2;
/// Nanoseconds of instruction time per retired instruction (the process CPU clocks).
pub const NS_PER_INSTRUCTION: u64 = 10;
/// With the host's clock, a running process checks its real timer at least this often
/// (in instructions), so an alarm interrupts a loop that makes no system calls.
const HOST_CLOCK_CHECK: u64 = 1 << 20;

/// One interval timer: when it next expires and how often it repeats (0: once).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntervalTimer {
    pub deadline: Option<u64>,
    pub interval: u64,
}

impl IntervalTimer {
    /// Expire if due at `now`: how many expirations passed (0: not due). A repeating timer
    /// moves to its first expiry after `now`, on its original period grid.
    pub fn expire(&mut self, now: u64) -> u64 {
        let Some(d) = self.deadline else {
            return 0;
        };
        if now < d {
            return 0;
        }
        match (now - d).checked_div(self.interval) {
            None => {
                self.deadline = None;
                1
            }
            Some(late) => {
                let n = late + 1;
                self.deadline = Some(d.saturating_add(n.saturating_mul(self.interval)));
                n
            }
        }
    }

    /// Time left until the next expiry (at least 1 ns while armed), or 0 when disarmed.
    pub fn remaining(&self, now: u64) -> u64 {
        self.deadline.map_or(0, |d| d.saturating_sub(now).max(1))
    }
}

/// A process's timers and the deadline of the blocking call it is in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessTimers {
    /// ITIMER_REAL on the monotonic clock (SIGALRM).
    pub real: IntervalTimer,
    /// ITIMER_VIRTUAL on instruction time (SIGVTALRM).
    pub user: IntervalTimer,
    /// ITIMER_PROF on instruction time (SIGPROF).
    pub prof: IntervalTimer,
    /// The timeout of the blocking call in progress, fixed when it first blocked and kept
    /// across its retries (reset when a new call starts).
    pub call_deadline: Option<u64>,
    /// When the blocked call in progress must be retried: its timeout, or the next expiry
    /// of a timerfd it waits for. Lets the machine sleep instead of failing the call.
    pub wake_at: Option<u64>,
}

impl ProcessTimers {
    pub fn any_armed(&self) -> bool {
        self.real.deadline.is_some() || self.user.deadline.is_some() || self.prof.deadline.is_some()
    }

    /// Signals (as `Process::pending` bits) of the timers due at monotonic `now` with
    /// `cpu_ns` of instruction time spent.
    pub fn fire_due(&mut self, now: u64, cpu_ns: u64) -> u64 {
        let mut bits = 0;
        // Expirations missed meanwhile collapse into one signal, as Linux's do.
        if self.real.expire(now) > 0 {
            bits |= 1 << (SIGALRM - 1);
        }
        if self.user.expire(cpu_ns) > 0 {
            bits |= 1 << (SIGVTALRM - 1);
        }
        if self.prof.expire(cpu_ns) > 0 {
            bits |= 1 << (SIGPROF - 1);
        }
        bits
    }

    /// A new system call starts: the previous call's deadlines no longer apply.
    pub fn new_call(&mut self) {
        self.call_deadline = None;
        self.wake_at = None;
    }
}

pub fn ns_timespec(ns: u64) -> Timespec {
    Timespec {
        secs: (ns / 1_000_000_000) as i64,
        nanos: (ns % 1_000_000_000) as u32,
    }
}

/// Whether `p` lives on the virtual clock (deterministic mode, or a host without a clock).
pub fn virtual_time<H: Host + ?Sized>(p: &Process, host: &mut H) -> bool {
    p.config.deterministic || host.now(Clock::Monotonic).is_none()
}

/// The virtual clock: instruction time plus every sleep so far.
pub fn virtual_ns(p: &Process, instret: u64) -> u64 {
    instret
        .saturating_mul(NS_PER_INSTRUCTION)
        .saturating_add(p.slept_ns)
}

/// CLOCK_MONOTONIC as process `p` (having retired `instret` instructions) sees it, in ns.
pub fn monotonic_ns<H: Host + ?Sized>(p: &Process, instret: u64, host: &mut H) -> u64 {
    if !p.config.deterministic {
        if let Some(t) = host.now(Clock::Monotonic) {
            return timespec_ns(t);
        }
    }
    virtual_ns(p, instret)
}

/// Read a `struct timeval` (seconds, microseconds) as ns; EINVAL if out of range.
fn read_timeval(mem: &crate::mem::Memory, addr: u64) -> Result<u64, Stop> {
    let secs = mem.read_u64(addr)? as i64;
    let micros = mem.read_u64(addr + 8)? as i64;
    if secs < 0 || !(0..1_000_000).contains(&micros) {
        return Err(Stop::Errno(EINVAL));
    }
    Ok((secs as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(micros as u64 * 1000))
}

fn write_timeval(mem: &mut crate::mem::Memory, addr: u64, ns: u64) -> Result<(), Stop> {
    // Round up so a running timer never reads as disarmed.
    let micros = ns.div_ceil(1000);
    mem.write_u64(addr, micros / 1_000_000)?;
    mem.write_u64(addr + 8, micros % 1_000_000)?;
    Ok(())
}

impl<H: Host + ?Sized> Sys<'_, H> {
    /// The running process's monotonic clock in ns.
    pub(super) fn monotonic_now(&mut self) -> u64 {
        monotonic_ns(self.p, self.cpu.instret, self.host)
    }

    /// `which`'s timer and the clock it counts on.
    fn itimer(&mut self, which: u64) -> Result<(&mut IntervalTimer, u64), Stop> {
        let now = match which {
            ITIMER_REAL => self.monotonic_now(),
            ITIMER_VIRTUAL | ITIMER_PROF => self.cpu.instret.saturating_mul(NS_PER_INSTRUCTION),
            _ => return Err(Stop::Errno(EINVAL)),
        };
        let t = &mut self.p.timers;
        let timer = match which {
            ITIMER_REAL => &mut t.real,
            ITIMER_VIRTUAL => &mut t.user,
            _ => &mut t.prof,
        };
        Ok((timer, now))
    }

    /// getitimer(which, value): time left and interval as `struct itimerval`.
    pub(super) fn getitimer(&mut self, which: u64, value: u64) -> SysResult {
        let (timer, now) = self.itimer(which)?;
        let (left, interval) = (timer.remaining(now), timer.interval);
        write_timeval(self.mem, value, interval)?;
        write_timeval(self.mem, value + 16, left)?;
        Ok(0)
    }

    /// setitimer(which, new, old): arm (value non-zero) or disarm a timer.
    pub(super) fn setitimer(&mut self, which: u64, new: u64, old: u64) -> SysResult {
        self.itimer(which)?;
        // A null new value disarms, as Linux accepts.
        let (interval, value) = if new == 0 {
            (0, 0)
        } else {
            (
                read_timeval(self.mem, new)?,
                read_timeval(self.mem, new + 16)?,
            )
        };
        if old != 0 {
            self.getitimer(which, old)?;
        }
        let (timer, now) = self.itimer(which)?;
        *timer = IntervalTimer {
            deadline: (value != 0).then(|| now.saturating_add(value)),
            interval,
        };
        Ok(0)
    }

    /// Whether a pending signal would interrupt a sleep now: unblocked, and either caught or
    /// fatal by default (an ignored one changes nothing).
    pub(super) fn signal_interrupts(&self) -> bool {
        let ready = self.p.thread.pending & !self.p.thread.sigmask;
        (1..=64u32).any(|sig| {
            ready & (1 << (sig - 1)) != 0 && {
                let handler = self.p.sigactions[sig as usize].handler;
                handler > 1 || (handler == 0 && super::default_terminates(sig))
            }
        })
    }

    /// Sleep `ns` on the virtual clock, cut short when the real timer's signal interrupts
    /// the sleep; returns the time not slept (0: slept it all).
    pub(super) fn virtual_sleep(&mut self, ns: u64) -> u64 {
        let mut left = ns;
        while left > 0 {
            let now = virtual_ns(self.p, self.cpu.instret);
            let step = match self.p.timers.real.deadline {
                Some(d) => d.saturating_sub(now).min(left),
                None => left,
            };
            self.p.slept_ns = self.p.slept_ns.saturating_add(step);
            left -= step;
            let now = virtual_ns(self.p, self.cpu.instret);
            let cpu_ns = self.cpu.instret.saturating_mul(NS_PER_INSTRUCTION);
            self.p.thread.pending |= self.p.timers.fire_due(now, cpu_ns);
            if left > 0 && self.signal_interrupts() {
                break;
            }
        }
        left
    }

    /// Block the calling process until monotonic `deadline` (the call's timeout, fixed on
    /// its first attempt); Ok once it has passed. The call fails with EINTR when a signal
    /// handler runs meanwhile, never restarted (as Linux does for sleeps and waits).
    pub(super) fn block_until(&mut self, deadline: Option<u64>, now: u64) -> Result<(), Stop> {
        if deadline.is_some_and(|d| now >= d) {
            return Ok(());
        }
        self.p.timers.call_deadline = deadline;
        self.p.timers.wake_at = match (deadline, self.p.timers.wake_at) {
            (Some(d), Some(w)) => Some(d.min(w)),
            (d, w) => d.or(w),
        };
        self.block_without_restart()
    }

    /// Block; a signal handler that runs meanwhile ends the call with EINTR even under
    /// SA_RESTART. Uses the saved-mask slot rt_sigsuspend uses, which is what makes the
    /// signal delivery fail the call instead of restarting it.
    pub(super) fn block_without_restart(&mut self) -> Result<(), Stop> {
        if self.p.thread.suspend_mask.is_none() {
            self.p.thread.suspend_mask = Some(self.p.thread.sigmask);
        }
        Err(Stop::Block)
    }

    /// A wait's signal mask argument (0: none); EINVAL unless the set is 8 bytes.
    pub(super) fn read_sigmask(&self, addr: u64, size: u64) -> Result<Option<u64>, Stop> {
        if addr == 0 {
            return Ok(None);
        }
        if size != 8 {
            return Err(Stop::Errno(EINVAL));
        }
        Ok(Some(self.mem.read_u64(addr)?))
    }

    /// Put `mask` in force for the wait in progress (ppoll's and epoll_pwait's sigmask);
    /// the caller's mask comes back when the wait ends, or when a handler it let in returns.
    pub(super) fn wait_with_mask(&mut self, mask: Option<u64>) {
        let Some(mask) = mask else {
            return;
        };
        if self.p.thread.suspend_mask.is_none() {
            self.p.thread.suspend_mask = Some(self.p.thread.sigmask);
        }
        let unblockable = (1 << (signal::SIGKILL - 1)) | (1 << (signal::SIGSTOP - 1));
        self.p.thread.sigmask = mask & !unblockable;
    }

    /// A call that may have blocked without restart finished: restore the caller's mask.
    pub(super) fn end_wait(&mut self) {
        if let Some(mask) = self.p.thread.suspend_mask.take() {
            self.p.thread.sigmask = mask;
        }
    }

    /// The deadline of a wait with a relative timeout of `ns` (None: no timeout), fixed on
    /// the call's first attempt so retries keep it.
    pub(super) fn call_deadline(&mut self, ns: Option<u64>, now: u64) -> Option<u64> {
        if self.p.thread.in_blocking_call {
            if let Some(d) = self.p.timers.call_deadline {
                return Some(d);
            }
        }
        ns.map(|ns| now.saturating_add(ns))
    }

    /// Sleep `ns` (nanosleep): on the virtual clock at once, with the host's clock by
    /// blocking until the deadline so other processes run meanwhile. Writes the time left
    /// to `rem` (if non-zero) when a signal cuts it short.
    pub(super) fn sleep_for(&mut self, ns: u64, rem: u64) -> SysResult {
        // With other threads about, sleeping must not stop them (nor jump their clock):
        // the thread waits like a futex waiter with a deadline instead.
        #[cfg(feature = "alloc")]
        if !self.p.threads.is_empty() || self.p.thread.futex.is_some() {
            return self.sleep_thread(ns);
        }
        if virtual_time(self.p, self.host) {
            let left = self.virtual_sleep(ns);
            if left == 0 {
                return Ok(0);
            }
            if rem != 0 {
                self.write_ns(rem, left)?;
            }
            return err(EINTR);
        }
        let now = self.monotonic_now();
        let deadline = self.call_deadline(Some(ns), now);
        self.sleep_until(deadline.unwrap_or(now), rem)
    }

    /// Sleep until monotonic `deadline` with the host's clock (see [`Self::sleep_for`]).
    pub(super) fn sleep_until(&mut self, deadline: u64, rem: u64) -> SysResult {
        #[cfg(feature = "alloc")]
        if !self.p.threads.is_empty() || self.p.thread.futex.is_some() {
            let now = self.monotonic_now();
            return self.sleep_thread(deadline.saturating_sub(now));
        }
        if virtual_time(self.p, self.host) {
            let now = virtual_ns(self.p, self.cpu.instret);
            return self.sleep_for(deadline.saturating_sub(now), rem);
        }
        if self.p.thread.never_block {
            // The host cannot wait (see `sleep_until_next_deadline`): a short sleep.
            self.end_wait();
            return Ok(0);
        }
        let now = self.monotonic_now();
        if rem != 0 && now < deadline {
            // What is left if a signal ends the sleep now (Linux writes it on EINTR).
            self.write_ns(rem, deadline - now)?;
        }
        let r = self.block_until(Some(deadline), now);
        if r.is_ok() {
            self.end_wait();
        }
        r.map(|_| 0)
    }

    pub(super) fn write_ns(&mut self, addr: u64, ns: u64) -> Result<(), Stop> {
        let t = ns_timespec(ns);
        self.mem.write_u64(addr, t.secs as u64)?;
        self.mem.write_u64(addr + 8, u64::from(t.nanos))?;
        Ok(())
    }
}

#[cfg(feature = "alloc")]
impl crate::machine::Machine {
    /// Post the signals of the running process's timers that are due.
    pub(crate) fn fire_due_timers<H: Host + ?Sized>(&mut self, host: &mut H) {
        if !self.process.timers.any_armed() {
            return;
        }
        let now = if self.process.timers.real.deadline.is_some() {
            monotonic_ns(&self.process, self.cpu.instret, host)
        } else {
            0
        };
        let cpu_ns = self.cpu.instret.saturating_mul(NS_PER_INSTRUCTION);
        self.process.thread.pending |= self.process.timers.fire_due(now, cpu_ns);
    }

    /// How many of `slice` instructions the running process may run before its next timer
    /// is due: exactly up to it on instruction or virtual time (so where a signal lands never
    /// depends on how the host slices its budget), a bounded stretch with the host's clock.
    pub(crate) fn timer_slice<H: Host + ?Sized>(&mut self, host: &mut H, slice: u64) -> u64 {
        let t = self.process.timers;
        if !t.any_armed() {
            return slice;
        }
        let until = |deadline: u64, now: u64| {
            deadline
                .saturating_sub(now)
                .div_ceil(NS_PER_INSTRUCTION)
                .max(1)
        };
        let cpu_ns = self.cpu.instret.saturating_mul(NS_PER_INSTRUCTION);
        let mut limit = slice;
        for timer in [t.user, t.prof] {
            if let Some(d) = timer.deadline {
                limit = limit.min(until(d, cpu_ns));
            }
        }
        if let Some(d) = t.real.deadline {
            limit = if virtual_time(&self.process, host) {
                limit.min(until(d, virtual_ns(&self.process, self.cpu.instret)))
            } else {
                limit.min(HOST_CLOCK_CHECK)
            };
        }
        limit
    }

    /// Every process is blocked: wait for the earliest deadline any of them has (a real
    /// timer, or the timeout of a blocked call) — the host sleeps, or on the virtual clock
    /// time jumps — so the blocked calls can be retried. False if there is no deadline
    /// (nothing but another process or the host could wake them). If the host's sleep
    /// returns before the time passed (a host that cannot block, like a browser's main
    /// thread), the process owning that deadline has its blocked call end at once instead
    /// (a short sleep, as such hosts always gave), rather than `run` spinning on the clock.
    pub(crate) fn sleep_until_next_deadline<H: Host + ?Sized>(&mut self, host: &mut H) -> bool {
        // A deadline counts only if reaching it changes something: the real timer's signal
        // must get through (else a blocked process with a repeating, masked alarm would make
        // `run` sleep from expiry to expiry for ever), and a wait ends at its wake-up time.
        let wakes = |p: &Process| {
            let alarm = p.timers.real.deadline.filter(|_| {
                p.thread.sigmask & (1 << (SIGALRM - 1)) == 0
                    && p.sigactions[SIGALRM as usize].handler != super::SIG_IGN
            });
            let wait = p.timers.wake_at.filter(|_| p.thread.in_blocking_call);
            match (alarm, wait) {
                (Some(a), Some(w)) => Some(a.min(w)),
                (a, w) => a.or(w),
            }
        };
        // (time left, owner: None for the running process, else its index in `waiting`)
        let now = monotonic_ns(&self.process, self.cpu.instret, host);
        let mut soonest: Option<(u64, Option<usize>)> =
            wakes(&self.process).map(|d| (d.saturating_sub(now), None));
        for (i, t) in self.procs.waiting.iter().enumerate() {
            if t.vfork_child.is_some() {
                // It cannot run before its child execs or exits, whatever its timers say.
                continue;
            }
            let Some(d) = wakes(&t.process) else {
                continue;
            };
            let left = d.saturating_sub(monotonic_ns(&t.process, t.cpu.instret, host));
            if soonest.is_none_or(|(s, _)| left < s) {
                soonest = Some((left, Some(i)));
            }
        }
        // Threads asleep on futexes (or in nanosleep) with a deadline.
        if let Some((futex_left, futex_owner)) = self.expire_futex_timeouts(host) {
            if soonest.is_none_or(|(s, _)| futex_left < s) {
                soonest = Some((futex_left, futex_owner));
            }
        }
        let Some((left, owner)) = soonest else {
            return false;
        };
        if left == 0 {
            return true;
        }
        if virtual_time(&self.process, host) {
            // Everyone waited: time passed for every process alike.
            self.process.slept_ns = self.process.slept_ns.saturating_add(left);
            for t in self.procs.waiting.iter_mut() {
                t.process.slept_ns = t.process.slept_ns.saturating_add(left);
            }
            self.expire_futex_timeouts(host);
            return true;
        }
        host.sleep(ns_timespec(left));
        self.expire_futex_timeouts(host);
        if monotonic_ns(&self.process, self.cpu.instret, host) < now.saturating_add(left) {
            let p = match owner {
                None => &mut self.process,
                Some(i) => &mut self.procs.waiting[i].process,
            };
            p.thread.never_block = true;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shot_timer_fires_once() {
        let mut t = IntervalTimer {
            deadline: Some(100),
            interval: 0,
        };
        assert_eq!(t.expire(99), 0);
        assert_eq!(t.remaining(99), 1);
        assert_eq!(t.expire(150), 1);
        assert_eq!(t.deadline, None);
        assert_eq!(t.remaining(200), 0);
        assert_eq!(t.expire(1000), 0);
    }

    #[test]
    fn interval_timer_rearms_after_now() {
        let mut t = IntervalTimer {
            deadline: Some(100),
            interval: 30,
        };
        assert_eq!(t.expire(100), 1);
        assert_eq!(t.deadline, Some(130));
        // Late by several periods: all counted, next expiry on the original grid.
        assert_eq!(t.expire(200), 3);
        assert_eq!(t.deadline, Some(220));
    }

    #[test]
    fn timers_map_to_their_signals() {
        let mut timers = ProcessTimers {
            real: IntervalTimer {
                deadline: Some(10),
                interval: 0,
            },
            prof: IntervalTimer {
                deadline: Some(5),
                interval: 0,
            },
            ..Default::default()
        };
        assert_eq!(timers.fire_due(9, 4), 0);
        assert_eq!(
            timers.fire_due(10, 5),
            (1 << (SIGALRM - 1)) | (1 << (SIGPROF - 1))
        );
        assert!(!timers.any_armed());
    }
}
