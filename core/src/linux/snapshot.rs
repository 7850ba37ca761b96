//! Snapshot encoders for Linux process state: `Process` (fd table, signals, layout) and the machine's open files and pipes.
//!
//! Every encoder destructures its struct exhaustively, so a new field fails to compile
//! until it is saved here (see `crate::snapshot`).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::events::{Counter, Epoll, EventObject, EventObjects, Interest, Timer, Wakeups};
use super::fd::{Fd, FdTable, OpenFile, OpenFiles, Pipe, MAX_FDS, MAX_FILES};
use super::regions::{Region, Regions, MAX_REGIONS};
use super::threads::{FutexWait, Thread, ThreadState, WaitOutcome};
use super::timers::{IntervalTimer, ProcessTimers};
use super::{Process, ProcessConfig, SigAction, Target, NSIG};
use crate::snapshot::{Reader, SnapshotError, SnapshotResult, Writer};

fn corrupt(what: &'static str) -> SnapshotError {
    SnapshotError::Corrupt(what)
}

fn encode_config(w: &mut Writer, config: &ProcessConfig) {
    let ProcessConfig {
        stack_size,
        deterministic,
        seed,
        memory_limit,
        max_open_files,
        max_processes,
    } = config;
    w.u64(*stack_size);
    w.bool(*deterministic);
    w.u64(*seed);
    w.u64(*memory_limit);
    w.usize(*max_open_files);
    w.usize(*max_processes);
}

fn decode_config(r: &mut Reader) -> SnapshotResult<ProcessConfig> {
    let config = ProcessConfig {
        stack_size: r.u64()?,
        deterministic: r.bool()?,
        seed: r.u64()?,
        memory_limit: r.u64()?,
        max_open_files: r.usize()?,
        max_processes: r.usize()?,
    };
    if config.max_open_files > MAX_FDS {
        return Err(corrupt("open-file limit above the fd table size"));
    }
    Ok(config)
}

fn encode_regions(w: &mut Writer, regions: &Regions) {
    let Regions { list } = regions;
    w.usize(list.len());
    for region in list {
        let Region { start, end, prot } = region;
        w.u64(*start);
        w.u64(*end);
        w.u8(*prot);
    }
}

fn decode_regions(r: &mut Reader) -> SnapshotResult<Regions> {
    let n = r.count(17)?;
    if n > MAX_REGIONS {
        return Err(corrupt("too many memory regions"));
    }
    let mut regions = Regions::new();
    let mut previous_end = 0;
    for _ in 0..n {
        let region = Region {
            start: r.u64()?,
            end: r.u64()?,
            prot: r.u8()?,
        };
        let aligned = (region.start | region.end) % crate::mem::PAGE_SIZE == 0;
        if !aligned || region.start >= region.end || region.start < previous_end {
            return Err(corrupt("memory regions unsorted, overlapping or unaligned"));
        }
        previous_end = region.end;
        regions
            .push_last(region)
            .map_err(|_| corrupt("too many memory regions"))?;
    }
    Ok(regions)
}

fn encode_fd_table(w: &mut Writer, table: &FdTable) {
    let FdTable { fds, limit } = table;
    w.usize(*limit);
    w.usize(table.count());
    for (n, slot) in fds.iter().enumerate() {
        if let Some(Fd { file, cloexec }) = slot {
            w.usize(n);
            w.usize(*file);
            w.bool(*cloexec);
        }
    }
}

fn decode_fd_table(r: &mut Reader) -> SnapshotResult<FdTable> {
    let limit = r.usize()?;
    if limit > MAX_FDS {
        return Err(corrupt("open-file limit above the fd table size"));
    }
    let mut table = FdTable {
        fds: [None; MAX_FDS],
        limit,
    };
    let n = r.count(17)?;
    for _ in 0..n {
        let fd = r.usize()?;
        let file = r.usize()?;
        let cloexec = r.bool()?;
        let slot = table
            .fds
            .get_mut(fd)
            .ok_or(corrupt("fd number out of range"))?;
        if slot.is_some() || file >= MAX_FILES {
            return Err(corrupt("duplicate fd or open-file index out of range"));
        }
        *slot = Some(Fd { file, cloexec });
    }
    Ok(table)
}

fn encode_thread_state(w: &mut Writer, state: &ThreadState) {
    let ThreadState {
        tid,
        sigmask,
        pending,
        in_blocking_call,
        suspend_mask,
        clear_child_tid,
        robust_list,
        never_block,
        futex,
    } = state;
    w.i32(*tid);
    w.u64(*sigmask);
    w.u64(*pending);
    w.bool(*in_blocking_call);
    w.opt_u64(*suspend_mask);
    w.u64(*clear_child_tid);
    w.u64(*robust_list);
    w.bool(*never_block);
    match futex {
        None => w.u8(0),
        Some(FutexWait {
            addr,
            bitset,
            deadline_ns,
            realtime,
            order,
            outcome,
        }) => {
            w.u8(1);
            w.u64(*addr);
            w.u32(*bitset);
            w.opt_u64(*deadline_ns);
            w.bool(*realtime);
            w.u64(*order);
            w.u8(match outcome {
                WaitOutcome::Waiting => 0,
                WaitOutcome::Woken => 1,
                WaitOutcome::TimedOut => 2,
            });
        }
    }
}

fn decode_thread_state(r: &mut Reader) -> SnapshotResult<ThreadState> {
    let mut state = ThreadState::main(r.i32()?);
    state.sigmask = r.u64()?;
    state.pending = r.u64()?;
    state.in_blocking_call = r.bool()?;
    state.suspend_mask = r.opt_u64()?;
    state.clear_child_tid = r.u64()?;
    state.robust_list = r.u64()?;
    state.never_block = r.bool()?;
    state.futex = match r.u8()? {
        0 => None,
        1 => Some(FutexWait {
            addr: r.u64()?,
            bitset: r.u32()?,
            deadline_ns: r.opt_u64()?,
            realtime: r.bool()?,
            order: r.u64()?,
            outcome: match r.u8()? {
                0 => WaitOutcome::Waiting,
                1 => WaitOutcome::Woken,
                2 => WaitOutcome::TimedOut,
                _ => return Err(corrupt("unknown futex wait outcome")),
            },
        }),
        _ => return Err(corrupt("unknown futex wait tag")),
    };
    Ok(state)
}

/// Saves one process's kernel-side state.
pub(crate) fn encode_process(w: &mut Writer, process: &Process) {
    let Process {
        config,
        brk_start,
        brk,
        maps,
        mmap_min,
        mmap_max,
        stack_top,
        fds,
        sigactions,
        thread,
        threads,
        futex_waits,
        slept_ns,
        umask,
        cwd,
        cwd_len,
        trace,
        pid,
        ppid,
        pgid,
        sid,
        cwd_ino,
        exe,
        cmdline,
        rng_state,
        timers,
    } = process;
    encode_config(w, config);
    for v in [brk_start, brk, mmap_min, mmap_max, stack_top] {
        w.u64(*v);
    }
    encode_regions(w, maps);
    encode_fd_table(w, fds);
    for action in sigactions {
        let SigAction {
            handler,
            flags,
            mask,
        } = action;
        w.u64(*handler);
        w.u64(*flags);
        w.u64(*mask);
    }
    encode_thread_state(w, thread);
    w.usize(threads.len());
    for Thread { cpu, state } in threads {
        crate::snapshot::encode_cpu(w, cpu);
        encode_thread_state(w, state);
    }
    w.u64(*futex_waits);
    w.u64(*slept_ns);
    w.u32(*umask);
    w.bytes(&cwd[..(*cwd_len).min(cwd.len())]);
    w.bool(*trace);
    for v in [pid, ppid, pgid, sid] {
        w.i32(*v);
    }
    w.u64(*cwd_ino);
    w.bytes(exe);
    w.bytes(cmdline);
    w.u64(*rng_state);
    encode_process_timers(w, timers);
}

/// Restores what [`encode_process`] saved.
pub(crate) fn decode_process(r: &mut Reader) -> SnapshotResult<Process> {
    let config = decode_config(r)?;
    let brk_start = r.u64()?;
    let brk = r.u64()?;
    let mmap_min = r.u64()?;
    let mmap_max = r.u64()?;
    // The loader sets the mmap window on page boundaries; off them, mmap would place
    // regions that no snapshot could hold.
    if (mmap_min | mmap_max) % crate::mem::PAGE_SIZE != 0 || mmap_min > mmap_max {
        return Err(corrupt("mmap window unaligned or inverted"));
    }
    let stack_top = r.u64()?;
    let maps = decode_regions(r)?;
    let fds = decode_fd_table(r)?;
    let mut process = Process::new(config, fds);
    process.brk_start = brk_start;
    process.brk = brk;
    process.mmap_min = mmap_min;
    process.mmap_max = mmap_max;
    process.stack_top = stack_top;
    process.maps = maps;
    for action in process.sigactions.iter_mut() {
        action.handler = r.u64()?;
        action.flags = r.u64()?;
        action.mask = r.u64()?;
    }
    debug_assert_eq!(process.sigactions.len(), NSIG);
    process.thread = decode_thread_state(r)?;
    let threads = r.count(32)?;
    if threads > crate::processes::MAX_THREADS {
        return Err(corrupt("too many threads"));
    }
    for _ in 0..threads {
        let cpu = crate::snapshot::decode_cpu(r)?;
        let state = decode_thread_state(r)?;
        process.threads.push(Thread { cpu, state });
    }
    process.futex_waits = r.u64()?;
    process.slept_ns = r.u64()?;
    process.umask = r.u32()?;
    let cwd = r.bytes()?;
    if cwd.len() >= process.cwd.len() || cwd.first() != Some(&b'/') || cwd.contains(&0) {
        return Err(corrupt(
            "working directory is not an absolute path that fits",
        ));
    }
    process.set_cwd(cwd);
    process.trace = r.bool()?;
    process.pid = r.i32()?;
    process.ppid = r.i32()?;
    process.pgid = r.i32()?;
    process.sid = r.i32()?;
    process.cwd_ino = r.u64()?;
    process.exe = r.bytes()?.to_vec();
    process.cmdline = r.bytes()?.to_vec();
    process.rng_state = r.u64()?;
    process.timers = decode_process_timers(r)?;
    Ok(process)
}

fn encode_target(w: &mut Writer, target: Target) {
    match target {
        Target::Console(n) => {
            w.u8(0);
            w.u64(n.into());
        }
        Target::PipeRead(id) => {
            w.u8(1);
            w.usize(id);
        }
        Target::PipeWrite(id) => {
            w.u8(2);
            w.usize(id);
        }
        Target::File(ino) => {
            w.u8(3);
            w.u64(ino);
        }
        Target::Event(id) => {
            w.u8(4);
            w.usize(id);
        }
    }
}

fn decode_target(r: &mut Reader) -> SnapshotResult<Target> {
    let kind = r.u8()?;
    let value = r.u64()?;
    let index = || usize::try_from(value).map_err(|_| corrupt("pipe index out of range"));
    Ok(match kind {
        0 => Target::Console(
            u8::try_from(value)
                .ok()
                .filter(|n| *n < 3)
                .ok_or(corrupt("console stream out of range"))?,
        ),
        1 => Target::PipeRead(index()?),
        2 => Target::PipeWrite(index()?),
        3 => Target::File(value),
        4 => Target::Event(index()?),
        _ => return Err(corrupt("unknown open-file target")),
    })
}

/// Saves the machine's open-file descriptions and pipes with their buffered data.
pub(crate) fn encode_open_files(w: &mut Writer, files: &OpenFiles) {
    let OpenFiles {
        files: descriptions,
        pipes,
        released,
        termios,
        foreground,
        events,
    } = files;
    w.usize(descriptions.iter().filter(|f| f.is_some()).count());
    for (index, slot) in descriptions.iter().enumerate() {
        if let Some(OpenFile {
            target,
            flags,
            offset,
            refs,
        }) = slot
        {
            w.usize(index);
            encode_target(w, *target);
            w.u32(*flags);
            w.u64(*offset);
            w.u32(*refs);
        }
    }
    w.usize(pipes.len());
    for pipe in pipes {
        w.bool(pipe.is_some());
        if let Some(Pipe {
            buf,
            readers,
            writers,
            wakeups,
        }) = pipe
        {
            let (front, back) = buf.as_slices();
            w.usize(buf.len());
            w.buf.extend_from_slice(front);
            w.buf.extend_from_slice(back);
            w.u32(*readers);
            w.u32(*writers);
            encode_wakeups(w, wakeups);
        }
    }
    w.usize(released.len());
    for ino in released {
        w.u64(*ino);
    }
    w.buf.extend_from_slice(termios);
    w.i32(*foreground);
    encode_event_objects(w, events);
}

/// Restores what [`encode_open_files`] saved.
pub(crate) fn decode_open_files(r: &mut Reader) -> SnapshotResult<OpenFiles> {
    let mut files = OpenFiles::new();
    files.files = [None; MAX_FILES];
    let n = r.count(30)?;
    for _ in 0..n {
        let index = r.usize()?;
        let file = OpenFile {
            target: decode_target(r)?,
            flags: r.u32()?,
            offset: r.u64()?,
            refs: r.u32()?,
        };
        let slot = files
            .files
            .get_mut(index)
            .ok_or(corrupt("open-file index out of range"))?;
        if slot.is_some() {
            return Err(corrupt("duplicate open-file index"));
        }
        *slot = Some(file);
    }
    let n = r.count(1)?;
    let mut pipes = Vec::with_capacity(n);
    for _ in 0..n {
        if !r.bool()? {
            pipes.push(None);
            continue;
        }
        let data = r.bytes()?;
        if data.len() > super::fd::PIPE_CAPACITY {
            return Err(corrupt("pipe holds more than its capacity"));
        }
        pipes.push(Some(Pipe {
            buf: VecDeque::from(data.to_vec()),
            readers: r.u32()?,
            writers: r.u32()?,
            wakeups: decode_wakeups(r)?,
        }));
    }
    files.pipes = pipes;
    let n = r.count(8)?;
    files.released = (0..n).map(|_| r.u64()).collect::<SnapshotResult<_>>()?;
    files.termios.copy_from_slice(r.take(36)?);
    files.foreground = r.i32()?;
    files.events = decode_event_objects(r)?;
    Ok(files)
}

/// Checks that the open files and every process's fd table agree: each fd names an open
/// description, each description's reference count is the number of fds naming it, and
/// each pipe's reader and writer counts match the descriptions of its ends. The fd layer
/// relies on these (a count that reached zero early would free a description in use).
pub(crate) fn check_fd_tables<'a>(
    files: &OpenFiles,
    tables: impl Iterator<Item = &'a FdTable>,
) -> SnapshotResult<()> {
    let mut refs = [0u32; MAX_FILES];
    for table in tables {
        for (_, fd) in table.iter() {
            if files.files[fd.file].is_none() {
                return Err(corrupt("fd refers to a closed open-file description"));
            }
            refs[fd.file] += 1;
        }
    }
    let mut ends: Vec<(u32, u32)> = alloc::vec![(0, 0); files.pipes.len()];
    for (file, counted) in files.files.iter().zip(refs) {
        let Some(file) = file else { continue };
        if file.refs != counted {
            return Err(corrupt("open-file reference count does not match the fds"));
        }
        let end = match file.target {
            Target::PipeRead(id) => ends.get_mut(id).map(|e| &mut e.0),
            Target::PipeWrite(id) => ends.get_mut(id).map(|e| &mut e.1),
            Target::Event(id) => {
                if !files.events.slots.get(id).is_some_and(|e| e.is_some()) {
                    return Err(corrupt("open file refers to a missing event object"));
                }
                continue;
            }
            _ => continue,
        };
        *end.ok_or(corrupt("open file refers to a missing pipe"))? += 1;
    }
    for (pipe, (readers, writers)) in files.pipes.iter().zip(ends) {
        let matches = match pipe {
            Some(p) => p.readers == readers && p.writers == writers && readers + writers > 0,
            None => readers + writers == 0,
        };
        if !matches {
            return Err(corrupt("pipe end counts do not match the open files"));
        }
    }
    Ok(())
}

fn encode_interval_timer(w: &mut Writer, timer: &IntervalTimer) {
    let IntervalTimer { deadline, interval } = timer;
    w.opt_u64(*deadline);
    w.u64(*interval);
}

fn decode_interval_timer(r: &mut Reader) -> SnapshotResult<IntervalTimer> {
    Ok(IntervalTimer {
        deadline: r.opt_u64()?,
        interval: r.u64()?,
    })
}

fn encode_process_timers(w: &mut Writer, timers: &ProcessTimers) {
    let ProcessTimers {
        real,
        user,
        prof,
        call_deadline,
        wake_at,
    } = timers;
    for timer in [real, user, prof] {
        encode_interval_timer(w, timer);
    }
    w.opt_u64(*call_deadline);
    w.opt_u64(*wake_at);
}

fn decode_process_timers(r: &mut Reader) -> SnapshotResult<ProcessTimers> {
    Ok(ProcessTimers {
        real: decode_interval_timer(r)?,
        user: decode_interval_timer(r)?,
        prof: decode_interval_timer(r)?,
        call_deadline: r.opt_u64()?,
        wake_at: r.opt_u64()?,
    })
}

fn encode_wakeups(w: &mut Writer, wakeups: &Wakeups) {
    let Wakeups {
        filled,
        drained,
        closed,
    } = wakeups;
    for v in [filled, drained, closed] {
        w.u64(*v);
    }
}

fn decode_wakeups(r: &mut Reader) -> SnapshotResult<Wakeups> {
    Ok(Wakeups {
        filled: r.u64()?,
        drained: r.u64()?,
        closed: r.u64()?,
    })
}

fn encode_event_object(w: &mut Writer, object: &EventObject) {
    match object {
        EventObject::Counter(Counter {
            count,
            semaphore,
            wakeups,
        }) => {
            w.u8(0);
            w.u64(*count);
            w.bool(*semaphore);
            encode_wakeups(w, wakeups);
        }
        EventObject::Timer(Timer {
            timer,
            ticks,
            clock,
            wakeups,
        }) => {
            w.u8(1);
            encode_interval_timer(w, timer);
            w.u64(*ticks);
            w.u64(*clock);
            encode_wakeups(w, wakeups);
        }
        EventObject::Epoll(Epoll { interests }) => {
            w.u8(2);
            w.usize(interests.len());
            for interest in interests {
                let Interest {
                    fd,
                    file,
                    events,
                    data,
                    seen,
                    queued,
                    disabled,
                } = interest;
                w.i32(*fd);
                w.usize(*file);
                w.u32(*events);
                w.u64(*data);
                w.u64(*seen);
                w.bool(*queued);
                w.bool(*disabled);
            }
        }
    }
}

fn decode_event_object(r: &mut Reader) -> SnapshotResult<EventObject> {
    Ok(match r.u8()? {
        0 => EventObject::Counter(Counter {
            count: r.u64()?,
            semaphore: r.bool()?,
            wakeups: decode_wakeups(r)?,
        }),
        1 => EventObject::Timer(Timer {
            timer: decode_interval_timer(r)?,
            ticks: r.u64()?,
            clock: r.u64()?,
            wakeups: decode_wakeups(r)?,
        }),
        2 => {
            let n = r.count(34)?;
            let mut interests = Vec::with_capacity(n);
            for _ in 0..n {
                let interest = Interest {
                    fd: r.i32()?,
                    file: r.usize()?,
                    events: r.u32()?,
                    data: r.u64()?,
                    seen: r.u64()?,
                    queued: r.bool()?,
                    disabled: r.bool()?,
                };
                if interest.file >= MAX_FILES {
                    return Err(corrupt("epoll interest in an open-file index out of range"));
                }
                interests.push(interest);
            }
            EventObject::Epoll(Epoll { interests })
        }
        _ => return Err(corrupt("unknown event object")),
    })
}

fn encode_event_objects(w: &mut Writer, objects: &EventObjects) {
    let EventObjects { slots } = objects;
    w.usize(slots.len());
    for slot in slots {
        w.bool(slot.is_some());
        if let Some(object) = slot {
            encode_event_object(w, object);
        }
    }
}

fn decode_event_objects(r: &mut Reader) -> SnapshotResult<EventObjects> {
    let n = r.count(1)?;
    let mut slots = Vec::with_capacity(n);
    for _ in 0..n {
        slots.push(if r.bool()? {
            Some(decode_event_object(r)?)
        } else {
            None
        });
    }
    Ok(EventObjects { slots })
}
