//! eventfd, timerfd and epoll: event objects behind open-file descriptions, their readiness, and their system calls.
//!
//! Each object is plain owned data in [`EventObjects`], reached through a description whose
//! target is [`Target::Event`], so it is shared across dup and fork like a pipe and goes away
//! with its last description. Readiness follows Linux's poll rules per file kind; epoll's
//! edge-triggered mode is modelled with wake-up counters: a pipe or event object counts the
//! writes ("filled"), reads ("drained") and closes that would wake its waiters, and an
//! edge-triggered interest reports only when a counter it listens to moved since its last
//! report, as Linux's ready list does.

use alloc::vec::Vec;

use super::fd::{self, OpenFiles, Target};
use super::timers::IntervalTimer;
use super::{err, Stop, Sys, SysResult};
use crate::host::{errno::*, Host};

pub const EPOLLIN: u32 = 0x1;
pub const EPOLLPRI: u32 = 0x2;
pub const EPOLLOUT: u32 = 0x4;
pub const EPOLLERR: u32 = 0x8;
pub const EPOLLHUP: u32 = 0x10;
pub const EPOLLNVAL: u32 = 0x20;
pub const EPOLLRDNORM: u32 = 0x40;
pub const EPOLLWRNORM: u32 = 0x100;
pub const EPOLLRDHUP: u32 = 0x2000;
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
pub const EPOLLWAKEUP: u32 = 1 << 29;
pub const EPOLLONESHOT: u32 = 1 << 30;
pub const EPOLLET: u32 = 1 << 31;
/// Interest bits that listen to "data arrived" and "room appeared" wake-ups.
const IN_EVENTS: u32 = EPOLLIN | EPOLLRDNORM | EPOLLPRI | EPOLLRDHUP;
const OUT_EVENTS: u32 = EPOLLOUT | EPOLLWRNORM;
/// Largest eventfd counter value.
const EVENTFD_MAX: u64 = u64::MAX - 1;
/// Deepest chain of epoll instances watching each other (Linux's EP_MAX_NESTS).
const MAX_NESTING: usize = 4;
const EPOLL_CTL_ADD: u64 = 1;
const EPOLL_CTL_DEL: u64 = 2;
const EPOLL_CTL_MOD: u64 = 3;
/// Most events one epoll_wait may return (Linux: INT_MAX / sizeof(struct epoll_event)).
const MAX_EVENTS: u64 = (i32::MAX as u64) / 16;
const EFD_SEMAPHORE: u64 = 1;
const TFD_TIMER_ABSTIME: u64 = 1;
const TFD_TIMER_CANCEL_ON_SET: u64 = 2;

/// Wake-ups an object has had, by the waiters they wake.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wakeups {
    /// Data arrived (a write, a timer expiry).
    pub filled: u64,
    /// Room appeared (a read).
    pub drained: u64,
    /// An end closed (wakes every waiter).
    pub closed: u64,
}

impl Wakeups {
    /// The wake-ups an interest in `events` listens to, as one number that moves when any does.
    fn heard_by(&self, events: u32) -> u64 {
        let mut n = self.closed;
        if events & IN_EVENTS != 0 {
            n = n.wrapping_add(self.filled);
        }
        if events & OUT_EVENTS != 0 {
            n = n.wrapping_add(self.drained);
        }
        n
    }
}

/// An eventfd: a 64-bit counter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    pub count: u64,
    /// EFD_SEMAPHORE: each read takes 1 instead of everything.
    pub semaphore: bool,
    pub wakeups: Wakeups,
}

/// A timerfd: expirations counted on the monotonic clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timer {
    /// Next expiry (monotonic ns) and period (0: one-shot).
    pub timer: IntervalTimer,
    /// Expirations not yet read.
    pub ticks: u64,
    /// The guest clock id absolute settings are read on (CLOCK_REALTIME or a monotonic one).
    pub clock: u64,
    pub wakeups: Wakeups,
}

impl Timer {
    /// Count the expirations up to `now`.
    pub fn settle(&mut self, now: u64) {
        let n = self.timer.expire(now);
        if n > 0 {
            self.ticks = self.ticks.saturating_add(n);
            self.wakeups.filled = self.wakeups.filled.wrapping_add(1);
        }
    }
}

/// One file an epoll instance watches: the (fd, description) pair it was added with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest {
    pub fd: i32,
    /// The open-file description (index in [`OpenFiles`]).
    pub file: usize,
    /// Requested events (EPOLLERR and EPOLLHUP always included) and mode bits.
    pub events: u32,
    pub data: u64,
    /// The wake-up count at the last look, for edge-triggered reports.
    pub(crate) seen: u64,
    /// Added or modified and not looked at since: reported if ready, even edge-triggered.
    pub(crate) queued: bool,
    /// EPOLLONESHOT interest that has reported: silent until EPOLL_CTL_MOD.
    pub(crate) disabled: bool,
}

/// An epoll instance: its interest list, in the order events are reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Epoll {
    pub interests: Vec<Interest>,
}

/// What an event description refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventObject {
    Counter(Counter),
    Timer(Timer),
    Epoll(Epoll),
}

/// Every eventfd, timerfd and epoll instance of the machine, by id.
#[derive(Clone, Debug, Default)]
pub struct EventObjects {
    pub(crate) slots: Vec<Option<EventObject>>,
}

impl EventObjects {
    fn add(&mut self, object: EventObject) -> usize {
        match self.slots.iter().position(|s| s.is_none()) {
            Some(id) => {
                self.slots[id] = Some(object);
                id
            }
            None => {
                self.slots.push(Some(object));
                self.slots.len() - 1
            }
        }
    }

    fn remove(&mut self, id: usize) {
        if let Some(slot) = self.slots.get_mut(id) {
            *slot = None;
        }
    }

    pub fn get(&self, id: usize) -> Option<&EventObject> {
        self.slots.get(id).and_then(|s| s.as_ref())
    }

    pub fn get_mut(&mut self, id: usize) -> Option<&mut EventObject> {
        self.slots.get_mut(id).and_then(|s| s.as_mut())
    }

    /// The name Linux gives the object's anonymous inode (for /proc/self/fd).
    pub fn kind_name(&self, id: usize) -> &'static str {
        match self.get(id) {
            Some(EventObject::Counter(_)) => "[eventfd]",
            Some(EventObject::Timer(_)) => "[timerfd]",
            _ => "[eventpoll]",
        }
    }

    /// Description `file` (with target `target`) lost its last reference: epoll instances
    /// stop watching it, and an event object behind it goes away.
    pub fn description_closed(&mut self, file: usize, target: Target) {
        for slot in self.slots.iter_mut() {
            if let Some(EventObject::Epoll(ep)) = slot {
                ep.interests.retain(|i| i.file != file);
            }
        }
        if let Target::Event(id) = target {
            self.remove(id);
        }
    }

    fn epoll(&self, id: usize) -> Option<&Epoll> {
        match self.get(id) {
            Some(EventObject::Epoll(ep)) => Some(ep),
            _ => None,
        }
    }
}

/// The wake-up counts of what `target` refers to; None for the console, whose input
/// arrives unseen (edge-triggered interests in it behave level-triggered).
fn wakeups(files: &OpenFiles, target: Target, depth: usize) -> Option<Wakeups> {
    match target {
        Target::PipeRead(id) | Target::PipeWrite(id) => Some(
            files
                .pipes
                .get(id)
                .and_then(|p| p.as_ref())
                .map_or_else(Wakeups::default, |p| p.wakeups),
        ),
        Target::Event(id) => match files.events.get(id)? {
            EventObject::Counter(c) => Some(c.wakeups),
            EventObject::Timer(t) => Some(t.wakeups),
            EventObject::Epoll(ep) => {
                // A nested instance wakes its watchers when anything it watches wakes.
                let mut sum = Wakeups::default();
                if depth < MAX_NESTING {
                    for i in ep.interests.iter() {
                        let target = files.target_of(i.file)?;
                        let w = wakeups(files, target, depth + 1)?;
                        sum.filled = sum.filled.wrapping_add(w.heard_by(i.events));
                    }
                }
                Some(sum)
            }
        },
        Target::Console(_) => None,
        Target::File(_) => Some(Wakeups::default()),
    }
}

/// Which events `target` has now (poll's revents before masking), settling timerfds at
/// monotonic `now`. Follows Linux: a pipe's read end is readable with data and hung up
/// without writers, its write end writable with room and in error without readers.
pub fn readiness(files: &mut OpenFiles, target: Target, now: u64, depth: usize) -> u32 {
    match target {
        // Console input counts as readable: a read then waits for the host.
        Target::Console(0) => EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM,
        Target::Console(_) => EPOLLOUT | EPOLLWRNORM,
        Target::PipeRead(id) => match files.pipes.get(id).and_then(|p| p.as_ref()) {
            Some(p) => {
                let mut r = 0;
                if !p.buf.is_empty() {
                    r |= EPOLLIN | EPOLLRDNORM;
                }
                if p.writers == 0 {
                    r |= EPOLLHUP;
                }
                r
            }
            None => EPOLLHUP,
        },
        Target::PipeWrite(id) => match files.pipes.get(id).and_then(|p| p.as_ref()) {
            Some(p) => {
                let mut r = 0;
                if p.buf.len() < fd::PIPE_CAPACITY {
                    r |= EPOLLOUT | EPOLLWRNORM;
                }
                if p.readers == 0 {
                    r |= EPOLLERR;
                }
                r
            }
            None => EPOLLERR,
        },
        // Regular files and devices are always ready (poll's default mask).
        Target::File(_) => EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM,
        Target::Event(id) if files.events.epoll(id).is_some() => {
            let nested = depth < MAX_NESTING
                && !collect(files, id, now, usize::MAX, depth + 1, false).is_empty();
            if nested {
                EPOLLIN | EPOLLRDNORM
            } else {
                0
            }
        }
        Target::Event(id) => match files.events.get_mut(id) {
            Some(EventObject::Counter(c)) => {
                let mut r = 0;
                if c.count > 0 {
                    r |= EPOLLIN | EPOLLRDNORM;
                }
                if c.count < EVENTFD_MAX {
                    r |= EPOLLOUT | EPOLLWRNORM;
                }
                r
            }
            Some(EventObject::Timer(t)) => {
                t.settle(now);
                if t.ticks > 0 {
                    EPOLLIN | EPOLLRDNORM
                } else {
                    0
                }
            }
            Some(EventObject::Epoll(_)) | None => 0,
        },
    }
}

/// The events epoll instance `id` reports now, at most `max`, as (events, data) pairs. With
/// `consume`, this is a real wait: edge-triggered interests use up their wake-ups, one-shot
/// ones disable, and reported level-triggered ones move to the back of the list (Linux's
/// ready list rotates the same way, so no file starves another).
pub fn collect(
    files: &mut OpenFiles,
    id: usize,
    now: u64,
    max: usize,
    depth: usize,
    consume: bool,
) -> Vec<(u32, u64)> {
    let mut interests = match files.events.get_mut(id) {
        Some(EventObject::Epoll(ep)) => core::mem::take(&mut ep.interests),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    let mut reported = Vec::new();
    for (idx, item) in interests.iter_mut().enumerate() {
        if out.len() >= max {
            break;
        }
        if item.disabled {
            continue;
        }
        let Some(target) = files.target_of(item.file) else {
            continue;
        };
        let ready = readiness(files, target, now, depth) & item.events;
        if item.events & EPOLLET != 0 {
            let heard = wakeups(files, target, depth).map(|w| w.heard_by(item.events));
            let woke = item.queued || heard.is_none_or(|h| h != item.seen);
            if consume {
                item.queued = false;
                if let Some(h) = heard {
                    item.seen = h;
                }
            }
            if !woke {
                continue;
            }
        } else if consume {
            item.queued = false;
        }
        if ready == 0 {
            continue;
        }
        out.push((ready, item.data));
        if consume {
            if item.events & EPOLLONESHOT != 0 {
                item.disabled = true;
            } else if item.events & EPOLLET == 0 {
                reported.push(idx);
            }
        }
    }
    // Level-triggered interests just reported go to the back, keeping their order.
    let mut moved = Vec::with_capacity(reported.len());
    for &idx in reported.iter().rev() {
        moved.push(interests.remove(idx));
    }
    interests.extend(moved.into_iter().rev());
    if let Some(EventObject::Epoll(ep)) = files.events.get_mut(id) {
        // The list may have changed meanwhile only through nested closes; keep ours.
        ep.interests = interests;
    }
    out
}

/// When `target` next becomes readable by itself: a timerfd's next expiry, or the soonest
/// of those an epoll instance watches (directly or nested). A waiter sleeps until then.
pub fn next_expiry(files: &OpenFiles, target: Target, depth: usize) -> Option<u64> {
    let Target::Event(id) = target else {
        return None;
    };
    match files.events.get(id)? {
        EventObject::Timer(t) => t.timer.deadline,
        EventObject::Epoll(ep) if depth < MAX_NESTING => ep
            .interests
            .iter()
            .filter(|i| !i.disabled && i.events & EPOLLIN != 0)
            .filter_map(|i| next_expiry(files, files.target_of(i.file)?, depth + 1))
            .min(),
        _ => None,
    }
}

/// Whether epoll instance `from` watches `to`, directly or through nested instances.
fn watches(files: &OpenFiles, from: usize, to: usize, depth: usize) -> bool {
    if depth > MAX_NESTING {
        return true;
    }
    let Some(ep) = files.events.epoll(from) else {
        return false;
    };
    ep.interests.iter().any(|i| match files.target_of(i.file) {
        Some(Target::Event(t)) if files.events.epoll(t).is_some() => {
            t == to || watches(files, t, to, depth + 1)
        }
        _ => false,
    })
}

impl<H: Host + ?Sized> Sys<'_, H> {
    /// Create `object` and a description for it at the lowest free fd.
    fn open_event(&mut self, object: EventObject, flags: u32) -> SysResult {
        let id = self.files.events.add(object);
        let status = flags & (fd::O_NONBLOCK | fd::O_CLOEXEC);
        match self
            .files
            .open(&mut self.p.fds, Target::Event(id), fd::O_RDWR | status)
        {
            Ok(fd) => Ok(fd as u64),
            Err(e) => {
                self.files.events.remove(id);
                err(e)
            }
        }
    }

    /// The event object id behind `fd`: EBADF if not open, EINVAL if not an event file.
    fn event_id(&self, fd: i32) -> Result<usize, Stop> {
        match self
            .files
            .file(&self.p.fds, fd)
            .map_err(Stop::Errno)?
            .target
        {
            Target::Event(id) => Ok(id),
            _ => Err(Stop::Errno(EINVAL)),
        }
    }

    pub(super) fn eventfd2(&mut self, initval: u64, flags: u64) -> SysResult {
        let allowed = EFD_SEMAPHORE | u64::from(fd::O_NONBLOCK | fd::O_CLOEXEC);
        if flags & !allowed != 0 {
            return err(EINVAL);
        }
        let counter = Counter {
            count: initval & 0xffff_ffff,
            semaphore: flags & EFD_SEMAPHORE != 0,
            wakeups: Wakeups::default(),
        };
        self.open_event(EventObject::Counter(counter), flags as u32)
    }

    pub(super) fn timerfd_create(&mut self, clock: u64, flags: u64) -> SysResult {
        // REALTIME, MONOTONIC, BOOTTIME and their _ALARM forms.
        if !matches!(clock, 0 | 1 | 7 | 8 | 9) {
            return err(EINVAL);
        }
        if flags & !u64::from(fd::O_NONBLOCK | fd::O_CLOEXEC) != 0 {
            return err(EINVAL);
        }
        let timer = Timer {
            // The _ALARM clocks count like their plain forms; BOOTTIME like MONOTONIC.
            clock: if matches!(clock, 0 | 8) { 0 } else { 1 },
            ..Timer::default()
        };
        self.open_event(EventObject::Timer(timer), flags as u32)
    }

    /// The timerfd behind `fd` (EINVAL if `fd` is something else).
    fn timer_mut(&mut self, fd: i32) -> Result<&mut Timer, Stop> {
        let id = self.event_id(fd)?;
        match self.files.events.get_mut(id) {
            Some(EventObject::Timer(t)) => Ok(t),
            _ => Err(Stop::Errno(EINVAL)),
        }
    }

    /// Write a timer's state as `struct itimerspec` (interval, then time left).
    fn write_itimerspec(&mut self, addr: u64, interval: u64, left: u64) -> Result<(), Stop> {
        for (at, ns) in [(addr, interval), (addr + 16, left)] {
            self.mem.write_u64(at, ns / 1_000_000_000)?;
            self.mem.write_u64(at + 8, ns % 1_000_000_000)?;
        }
        Ok(())
    }

    fn timer_state(&mut self, fd: i32) -> Result<(u64, u64), Stop> {
        let now = self.monotonic_now();
        let t = self.timer_mut(fd)?;
        t.settle(now);
        Ok((t.timer.interval, t.timer.remaining(now)))
    }

    pub(super) fn timerfd_gettime(&mut self, fd: i32, cur: u64) -> SysResult {
        let (interval, left) = self.timer_state(fd)?;
        self.write_itimerspec(cur, interval, left)?;
        Ok(0)
    }

    pub(super) fn timerfd_settime(&mut self, fd: i32, flags: u64, new: u64, old: u64) -> SysResult {
        if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
            return err(EINVAL);
        }
        let interval = super::timespec_ns(self.read_timespec(new)?);
        let value = super::timespec_ns(self.read_timespec(new + 16)?);
        let clock = self.timer_mut(fd)?.clock;
        if old != 0 {
            let (i, left) = self.timer_state(fd)?;
            self.write_itimerspec(old, i, left)?;
        }
        let now = self.monotonic_now();
        let deadline = if value == 0 {
            None
        } else if flags & TFD_TIMER_ABSTIME != 0 {
            // An absolute time on the timer's clock, moved onto the monotonic one.
            let clock_now = super::timespec_ns(self.clock(clock)?);
            Some(now.saturating_add(value.saturating_sub(clock_now)))
        } else {
            Some(now.saturating_add(value))
        };
        let t = self.timer_mut(fd)?;
        t.timer = IntervalTimer { deadline, interval };
        t.ticks = 0;
        t.wakeups.filled = t.wakeups.filled.wrapping_add(1);
        Ok(0)
    }

    /// read(2) on an eventfd or timerfd (an epoll fd cannot be read).
    pub(super) fn event_read(
        &mut self,
        id: usize,
        nonblock: bool,
        buf: u64,
        len: u64,
    ) -> SysResult {
        if len < 8 {
            return err(EINVAL);
        }
        self.mem.slice_mut(buf, 8)?;
        let now = self.monotonic_now();
        let never_block = self.p.thread.never_block;
        let (value, wake_at) = match self.files.events.get_mut(id) {
            Some(EventObject::Counter(c)) => {
                if c.count == 0 {
                    (None, None)
                } else {
                    let v = if c.semaphore { 1 } else { c.count };
                    c.count -= v;
                    c.wakeups.drained = c.wakeups.drained.wrapping_add(1);
                    (Some(v), None)
                }
            }
            Some(EventObject::Timer(t)) => {
                t.settle(now);
                if t.ticks == 0 {
                    (None, t.timer.deadline)
                } else {
                    (Some(core::mem::take(&mut t.ticks)), None)
                }
            }
            _ => return err(EINVAL),
        };
        match value {
            Some(v) => {
                self.mem.write_u64(buf, v)?;
                Ok(8)
            }
            None if nonblock || never_block => err(EAGAIN),
            None => {
                // Restartable like any read; the machine may sleep until the timer expires.
                self.p.timers.wake_at = wake_at;
                Err(Stop::Block)
            }
        }
    }

    /// write(2) on an eventfd: add to the counter, blocking while it would overflow.
    pub(super) fn event_write(
        &mut self,
        id: usize,
        nonblock: bool,
        buf: u64,
        len: u64,
    ) -> SysResult {
        if len < 8 {
            return err(EINVAL);
        }
        let add = self.mem.read_u64(buf)?;
        let never_block = self.p.thread.never_block;
        let Some(EventObject::Counter(c)) = self.files.events.get_mut(id) else {
            return err(EINVAL);
        };
        if add == u64::MAX {
            return err(EINVAL);
        }
        if EVENTFD_MAX - c.count < add {
            return if nonblock || never_block {
                err(EAGAIN)
            } else {
                Err(Stop::Block)
            };
        }
        c.count += add;
        if add > 0 {
            c.wakeups.filled = c.wakeups.filled.wrapping_add(1);
        }
        Ok(8)
    }

    pub(super) fn epoll_create1(&mut self, flags: u64) -> SysResult {
        if flags & !u64::from(fd::O_CLOEXEC) != 0 {
            return err(EINVAL);
        }
        self.open_event(EventObject::Epoll(Epoll::default()), flags as u32)
    }

    pub(super) fn epoll_ctl(&mut self, epfd: i32, op: u64, fd: i32, event: u64) -> SysResult {
        let (events, data) = if op == EPOLL_CTL_DEL {
            (0, 0)
        } else {
            (self.mem.read_u32(event)?, self.mem.read_u64(event + 8)?)
        };
        let ep_file = self.files.file(&self.p.fds, epfd).map_err(Stop::Errno)?;
        let target = self
            .files
            .file(&self.p.fds, fd)
            .map_err(Stop::Errno)?
            .target;
        let file = self.p.fds.get(fd).map_err(Stop::Errno)?.file;
        if let Target::File(_) = target {
            // Regular files and directories cannot be watched.
            return err(EPERM);
        }
        let Target::Event(ep_id) = ep_file.target else {
            return err(EINVAL);
        };
        if self.files.events.epoll(ep_id).is_none() || target == ep_file.target {
            return err(EINVAL);
        }
        let target_epoll = match target {
            Target::Event(t) => self.files.events.epoll(t).map(|_| t),
            _ => None,
        };
        if events & EPOLLEXCLUSIVE != 0 {
            let allowed = EPOLLEXCLUSIVE
                | IN_EVENTS
                | OUT_EVENTS
                | EPOLLERR
                | EPOLLHUP
                | EPOLLET
                | EPOLLWAKEUP;
            if op == EPOLL_CTL_MOD || target_epoll.is_some() || events & !allowed != 0 {
                return err(EINVAL);
            }
        }
        let position = self.files.events.epoll(ep_id).and_then(|ep| {
            ep.interests
                .iter()
                .position(|i| i.fd == fd && i.file == file)
        });
        if op == EPOLL_CTL_ADD {
            if let Some(t) = target_epoll {
                if t == ep_id || watches(self.files, t, ep_id, 0) {
                    return err(ELOOP);
                }
            }
        }
        let heard = wakeups(self.files, target, 0).map_or(0, |w| w.heard_by(events));
        let Some(EventObject::Epoll(ep)) = self.files.events.get_mut(ep_id) else {
            return err(EINVAL);
        };
        let events = events | EPOLLERR | EPOLLHUP;
        match (op, position) {
            (EPOLL_CTL_ADD, Some(_)) => err(EEXIST),
            (EPOLL_CTL_ADD, None) => {
                ep.interests.push(Interest {
                    fd,
                    file,
                    events,
                    data,
                    seen: heard,
                    queued: true,
                    disabled: false,
                });
                Ok(0)
            }
            (EPOLL_CTL_MOD | EPOLL_CTL_DEL, None) => err(ENOENT),
            (EPOLL_CTL_MOD, Some(i)) => {
                let item = &mut ep.interests[i];
                if item.events & EPOLLEXCLUSIVE != 0 {
                    return err(EINVAL);
                }
                item.events = events;
                item.data = data;
                item.seen = heard;
                item.queued = true;
                item.disabled = false;
                Ok(0)
            }
            (EPOLL_CTL_DEL, Some(i)) => {
                ep.interests.remove(i);
                Ok(0)
            }
            _ => err(EINVAL),
        }
    }

    /// epoll_pwait / epoll_pwait2: `timeout` in ns (None: wait for ever), `sigmask` the
    /// guest address of the mask to wait with (0: keep the current one).
    pub(super) fn epoll_wait(
        &mut self,
        epfd: i32,
        events: u64,
        max: u64,
        timeout: Option<u64>,
        sigmask: u64,
        sigsetsize: u64,
    ) -> SysResult {
        if max == 0 || max > MAX_EVENTS {
            return err(EINVAL);
        }
        let max = max as usize;
        let id = self.event_id(epfd)?;
        if self.files.events.epoll(id).is_none() {
            return err(EINVAL);
        }
        self.mem.slice_mut(events, max as u64 * 16)?;
        let mask = self.read_sigmask(sigmask, sigsetsize)?;
        let now = self.monotonic_now();
        let ready = collect(self.files, id, now, max, 0, true);
        if !ready.is_empty() {
            for (n, (ev, data)) in ready.iter().enumerate() {
                let at = events + 16 * n as u64;
                self.mem.write_u32(at, *ev)?;
                self.mem.write_u32(at + 4, 0)?;
                self.mem.write_u64(at + 8, *data)?;
            }
            self.end_wait();
            return Ok(ready.len() as u64);
        }
        let deadline = self.call_deadline(timeout, now);
        if deadline.is_some_and(|d| now >= d) {
            self.end_wait();
            return Ok(0);
        }
        if self.p.thread.never_block {
            // Nothing can wake this wait (every process blocks and no deadline is near, or
            // the host cannot sleep until it): time out, or with no timeout fail with EINTR.
            self.end_wait();
            return if deadline.is_some() {
                Ok(0)
            } else {
                err(EINTR)
            };
        }
        self.wait_with_mask(mask);
        self.p.timers.wake_at = next_expiry(self.files, Target::Event(id), 0);
        self.block_until(deadline, now).map(|_| 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A machine's files with a console table, plus a pipe and an epoll instance.
    fn setup() -> (OpenFiles, fd::FdTable, i32, i32, usize) {
        let mut files = OpenFiles::new();
        let mut t = files.console_table();
        let (r, w) = files.pipe(&mut t, 0).unwrap();
        let ep = files.events.add(EventObject::Epoll(Epoll::default()));
        (files, t, r, w, ep)
    }

    fn watch(files: &mut OpenFiles, t: &fd::FdTable, ep: usize, fd: i32, events: u32) {
        let file = t.get(fd).unwrap().file;
        let heard =
            wakeups(files, files.target_of(file).unwrap(), 0).map_or(0, |w| w.heard_by(events));
        let Some(EventObject::Epoll(e)) = files.events.get_mut(ep) else {
            panic!("not an epoll")
        };
        e.interests.push(Interest {
            fd,
            file,
            events: events | EPOLLERR | EPOLLHUP,
            data: fd as u64,
            seen: heard,
            queued: true,
            disabled: false,
        });
    }

    fn write_pipe(files: &mut OpenFiles, bytes: &[u8]) {
        let p = files.pipes[0].as_mut().unwrap();
        p.buf.extend(bytes);
        p.wakeups.filled += 1;
    }

    #[test]
    fn level_triggered_reports_while_ready() {
        let (mut files, t, r, _w, ep) = setup();
        watch(&mut files, &t, ep, r, EPOLLIN);
        assert!(collect(&mut files, ep, 0, 8, 0, true).is_empty());
        write_pipe(&mut files, b"x");
        for _ in 0..3 {
            assert_eq!(
                collect(&mut files, ep, 0, 8, 0, true),
                [(EPOLLIN, r as u64)]
            );
        }
    }

    #[test]
    fn edge_triggered_reports_once_per_wakeup() {
        let (mut files, t, r, _w, ep) = setup();
        watch(&mut files, &t, ep, r, EPOLLIN | EPOLLET);
        write_pipe(&mut files, b"ab");
        assert_eq!(collect(&mut files, ep, 0, 8, 0, true).len(), 1);
        assert!(
            collect(&mut files, ep, 0, 8, 0, true).is_empty(),
            "no new data"
        );
        write_pipe(&mut files, b"c");
        assert_eq!(
            collect(&mut files, ep, 0, 8, 0, true).len(),
            1,
            "a new write wakes it"
        );
        // A read wakes writers only; the reader's edge stays quiet.
        files.pipes[0].as_mut().unwrap().wakeups.drained += 1;
        assert!(collect(&mut files, ep, 0, 8, 0, true).is_empty());
    }

    #[test]
    fn oneshot_disables_until_modified_and_hup_is_always_reported() {
        let (mut files, mut t, r, w, ep) = setup();
        watch(&mut files, &t, ep, r, EPOLLIN | EPOLLONESHOT);
        write_pipe(&mut files, b"x");
        assert_eq!(collect(&mut files, ep, 0, 8, 0, true).len(), 1);
        assert!(
            collect(&mut files, ep, 0, 8, 0, true).is_empty(),
            "disarmed"
        );
        // Closing the writer: HUP, reported even to an interest in nothing else.
        let (mut files2, t2, r2, w2, ep2) = setup();
        watch(&mut files2, &t2, ep2, r2, 0);
        let mut t2 = t2;
        files2.close(&mut t2, w2).unwrap();
        assert_eq!(
            collect(&mut files2, ep2, 0, 8, 0, true),
            [(EPOLLHUP, r2 as u64)]
        );
        // Closing the last reference of a watched file removes it from the interest list.
        files.close(&mut t, r).unwrap();
        files.close(&mut t, w).unwrap();
        assert!(files.events.epoll(ep).unwrap().interests.is_empty());
    }

    #[test]
    fn level_triggered_rotates_when_max_is_reached() {
        let (mut files, t, r, w, ep) = setup();
        watch(&mut files, &t, ep, w, EPOLLOUT);
        watch(&mut files, &t, ep, 1, EPOLLOUT);
        let _ = r;
        let first = collect(&mut files, ep, 0, 1, 0, true);
        let second = collect(&mut files, ep, 0, 1, 0, true);
        assert_eq!(first[0].1, w as u64);
        assert_eq!(second[0].1, 1, "the other file gets its turn");
    }

    #[test]
    fn eventfd_readiness_follows_the_counter() {
        let mut files = OpenFiles::new();
        let id = files.events.add(EventObject::Counter(Counter::default()));
        let target = Target::Event(id);
        assert_eq!(readiness(&mut files, target, 0, 0), EPOLLOUT | EPOLLWRNORM);
        if let Some(EventObject::Counter(c)) = files.events.get_mut(id) {
            c.count = EVENTFD_MAX;
        }
        assert_eq!(readiness(&mut files, target, 0, 0), EPOLLIN | EPOLLRDNORM);
    }

    #[test]
    fn timerfd_counts_expirations() {
        let mut t = Timer {
            timer: IntervalTimer {
                deadline: Some(100),
                interval: 50,
            },
            ..Default::default()
        };
        t.settle(99);
        assert_eq!(t.ticks, 0);
        t.settle(260);
        assert_eq!((t.ticks, t.timer.deadline), (4, Some(300)));
        t.settle(320);
        assert_eq!(t.ticks, 5, "unread expirations add up");
        let mut once = Timer {
            timer: IntervalTimer {
                deadline: Some(10),
                interval: 0,
            },
            ..Default::default()
        };
        once.settle(1000);
        assert_eq!((once.ticks, once.timer.deadline), (1, None));
    }
}
