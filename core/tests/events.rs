//! eventfd, epoll and interval timers driven through system calls on a deterministic machine (virtual clock).
//!
//! Expected values are Linux's documented behaviour (eventfd(2), epoll_ctl(2), setitimer(2)),
//! also checked against qemu-riscv64 by tests/guests/events.c.

use friscy_core::linux::ProcessConfig;
use friscy_core::{Config, Machine, NullHost, StopReason};

mod common;
use common::{elf_with_code, machine_with_code, syscall, CODE_BASE};

/// Scratch memory inside the image's writable segment.
const DATA: u64 = 0x1_8000;
const EAGAIN: i64 = -11;
const EINVAL: i64 = -22;
const EEXIST: i64 = -17;
const ENOENT: i64 = -2;
const EINTR: i64 = -4;
const ELOOP: i64 = -40;

const READ: u64 = 63;
const WRITE: u64 = 64;
const CLOSE: u64 = 57;
const DUP: u64 = 23;
const EVENTFD2: u64 = 19;
const EPOLL_CREATE1: u64 = 20;
const EPOLL_CTL: u64 = 21;
const EPOLL_PWAIT: u64 = 22;
const EPOLL_PWAIT2: u64 = 441;
const NANOSLEEP: u64 = 101;
const SETITIMER: u64 = 103;
const GETITIMER: u64 = 102;
const EFD_SEMAPHORE: u64 = 1;
const EFD_NONBLOCK: u64 = 0o4000;
const EPOLLIN: u64 = 1;
const EPOLLOUT: u64 = 4;
const EPOLLET: u64 = 1 << 31;
const SIGALRM: u32 = 14;

/// The guest's instruction words as bytes, for [`elf_with_code`].
fn words(code: &[u32]) -> Vec<u8> {
    code.iter().flat_map(|i| i.to_le_bytes()).collect()
}

fn machine(code: &[u32]) -> Machine {
    machine_with_code(&words(code))
}

const ECALL: u32 = 0x73;
/// `j .`: spin for ever.
const SPIN: u32 = 0x6f;

fn put(m: &mut Machine, value: u64) {
    m.mem.write_u64(DATA, value).unwrap();
}

fn got(m: &Machine) -> u64 {
    m.mem.read_u64(DATA).unwrap()
}

#[test]
fn eventfd_counts_and_semaphore_reads() {
    let mut m = machine(&[ECALL]);
    let fd = syscall(&mut m, EVENTFD2, [3, EFD_NONBLOCK, 0, 0, 0, 0]) as u64;
    put(&mut m, 0);
    assert_eq!(syscall(&mut m, READ, [fd, DATA, 8, 0, 0, 0]), 8);
    assert_eq!(got(&m), 3, "a read takes the whole count");
    assert_eq!(syscall(&mut m, READ, [fd, DATA, 8, 0, 0, 0]), EAGAIN);
    put(&mut m, 5);
    assert_eq!(syscall(&mut m, WRITE, [fd, DATA, 8, 0, 0, 0]), 8);
    put(&mut m, 7);
    assert_eq!(syscall(&mut m, WRITE, [fd, DATA, 8, 0, 0, 0]), 8);
    assert_eq!(syscall(&mut m, READ, [fd, DATA, 8, 0, 0, 0]), 8);
    assert_eq!(got(&m), 12, "writes add up");
    assert_eq!(syscall(&mut m, READ, [fd, DATA, 4, 0, 0, 0]), EINVAL);
    put(&mut m, u64::MAX);
    assert_eq!(syscall(&mut m, WRITE, [fd, DATA, 8, 0, 0, 0]), EINVAL);
    put(&mut m, u64::MAX - 1);
    assert_eq!(syscall(&mut m, WRITE, [fd, DATA, 8, 0, 0, 0]), 8);
    put(&mut m, 1);
    assert_eq!(
        syscall(&mut m, WRITE, [fd, DATA, 8, 0, 0, 0]),
        EAGAIN,
        "the counter would pass its maximum"
    );

    let sem = syscall(
        &mut m,
        EVENTFD2,
        [2, EFD_SEMAPHORE | EFD_NONBLOCK, 0, 0, 0, 0],
    ) as u64;
    for _ in 0..2 {
        put(&mut m, 0);
        assert_eq!(syscall(&mut m, READ, [sem, DATA, 8, 0, 0, 0]), 8);
        assert_eq!(got(&m), 1, "semaphore reads take one");
    }
    assert_eq!(syscall(&mut m, READ, [sem, DATA, 8, 0, 0, 0]), EAGAIN);
    assert_eq!(syscall(&mut m, EVENTFD2, [0, 0x40, 0, 0, 0, 0]), EINVAL);
}

/// epoll_ctl(ep, op, fd, events, data) with the event record at DATA + 64.
fn ctl(m: &mut Machine, ep: u64, op: u64, fd: u64, events: u64, data: u64) -> i64 {
    m.mem.write_u32(DATA + 64, events as u32).unwrap();
    m.mem.write_u64(DATA + 72, data).unwrap();
    syscall(m, EPOLL_CTL, [ep, op, fd, DATA + 64, 0, 0])
}

/// epoll_wait with timeout 0: the (events, data) pairs reported.
fn poll_now(m: &mut Machine, ep: u64) -> Vec<(u32, u64)> {
    let n = syscall(m, EPOLL_PWAIT, [ep, DATA + 128, 8, 0, 0, 0]);
    assert!(n >= 0, "epoll_wait failed: {n}");
    (0..n as u64)
        .map(|i| {
            let at = DATA + 128 + 16 * i;
            (m.mem.read_u32(at).unwrap(), m.mem.read_u64(at + 8).unwrap())
        })
        .collect()
}

#[test]
fn epoll_over_an_eventfd_level_and_edge_triggered() {
    let mut m = machine(&[ECALL]);
    let ep = syscall(&mut m, EPOLL_CREATE1, [0; 6]) as u64;
    let efd = syscall(&mut m, EVENTFD2, [0, EFD_NONBLOCK, 0, 0, 0, 0]) as u64;
    assert_eq!(ctl(&mut m, ep, 1, efd, EPOLLIN, 5), 0);
    assert_eq!(ctl(&mut m, ep, 1, efd, EPOLLIN, 5), EEXIST);
    assert_eq!(ctl(&mut m, ep, 3, 0, EPOLLIN, 5), ENOENT);
    assert_eq!(ctl(&mut m, ep, 1, ep, EPOLLIN, 5), EINVAL);
    assert_eq!(poll_now(&mut m, ep), []);
    put(&mut m, 1);
    syscall(&mut m, WRITE, [efd, DATA, 8, 0, 0, 0]);
    assert_eq!(poll_now(&mut m, ep), [(EPOLLIN as u32, 5)]);
    assert_eq!(
        poll_now(&mut m, ep),
        [(EPOLLIN as u32, 5)],
        "level: while readable"
    );

    assert_eq!(ctl(&mut m, ep, 3, efd, EPOLLIN | EPOLLOUT | EPOLLET, 6), 0);
    assert_eq!(
        poll_now(&mut m, ep),
        [((EPOLLIN | EPOLLOUT) as u32, 6)],
        "a modified interest reports what is ready"
    );
    assert_eq!(poll_now(&mut m, ep), [], "edge: nothing new");
    syscall(&mut m, WRITE, [efd, DATA, 8, 0, 0, 0]);
    assert_eq!(poll_now(&mut m, ep), [((EPOLLIN | EPOLLOUT) as u32, 6)]);

    // A nested instance is readable while the inner one has events; loops are refused.
    let outer = syscall(&mut m, EPOLL_CREATE1, [0; 6]) as u64;
    assert_eq!(ctl(&mut m, ep, 3, efd, EPOLLIN, 6), 0);
    assert_eq!(ctl(&mut m, outer, 1, ep, EPOLLIN, 9), 0);
    assert_eq!(ctl(&mut m, ep, 1, outer, EPOLLIN, 9), ELOOP);
    assert_eq!(poll_now(&mut m, outer), [(EPOLLIN as u32, 9)]);

    // The interest lives as long as the description: a dup keeps it.
    let copy = syscall(&mut m, DUP, [efd, 0, 0, 0, 0, 0]) as u64;
    syscall(&mut m, CLOSE, [efd, 0, 0, 0, 0, 0]);
    assert_eq!(poll_now(&mut m, ep), [(EPOLLIN as u32, 6)]);
    syscall(&mut m, CLOSE, [copy, 0, 0, 0, 0, 0]);
    assert_eq!(poll_now(&mut m, ep), []);
    assert_eq!(poll_now(&mut m, outer), []);
}

/// Code: setitimer(ITIMER_REAL, {value 1 ms}) and spin; SIGALRM's default action kills.
fn alarm_program() -> Vec<u32> {
    let addi =
        |rd: u32, rs: u32, imm: i32| ((imm as u32 & 0xfff) << 20) | (rs << 15) | (rd << 7) | 0x13;
    let lui = |rd: u32, imm: u32| (imm << 12) | (rd << 7) | 0x37;
    let sd = |rs2: u32, rs1: u32, off: u32| {
        ((off >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (3 << 12) | ((off & 31) << 7) | 0x23
    };
    let (a0, a1, a2, a7, t0) = (10, 11, 12, 17, 5);
    vec![
        lui(a1, (DATA >> 12) as u32),
        addi(t0, 0, 1000),
        sd(t0, a1, 24), // it_value.tv_usec = 1000
        addi(a0, 0, 0),
        addi(a2, 0, 0),
        addi(a7, 0, SETITIMER as i32),
        ECALL,
        SPIN,
    ]
}

#[test]
fn alarm_lands_on_the_same_instruction_however_the_budget_is_sliced() {
    let mut outcomes = Vec::new();
    for budget in [u64::MAX, 1, 7, 1000, 99_999] {
        let mut m = machine(&alarm_program());
        let stop = loop {
            match m.run(&mut NullHost, budget) {
                StopReason::BudgetSpent => continue,
                other => break other,
            }
        };
        outcomes.push((stop, m.cpu.instret));
    }
    let (stop, instret) = outcomes[0];
    assert_eq!(stop, StopReason::Signaled { signal: SIGALRM });
    // 1 ms on the virtual clock is 100,000 instructions of 10 ns.
    assert!((100_000..100_010).contains(&instret), "{instret}");
    assert!(
        outcomes.iter().all(|&o| o == (stop, instret)),
        "{outcomes:?}"
    );
}

#[test]
fn alarm_cuts_a_virtual_sleep_short_and_getitimer_reports_it() {
    let mut m = machine(&[ECALL]);
    // itimerval {interval 0.25 s, value 1 s}.
    let tv = [0u64, 250_000, 1, 0];
    for (i, v) in tv.iter().enumerate() {
        m.mem.write_u64(DATA + 8 * i as u64, *v).unwrap();
    }
    assert_eq!(syscall(&mut m, SETITIMER, [0, DATA, 0, 0, 0, 0]), 0);
    assert_eq!(syscall(&mut m, GETITIMER, [0, DATA + 32, 0, 0, 0, 0]), 0);
    let read = |m: &Machine, at: u64| m.mem.read_u64(DATA + at).unwrap();
    assert_eq!((read(&m, 32), read(&m, 40)), (0, 250_000));
    let left_us = read(&m, 48) * 1_000_000 + read(&m, 56);
    assert!(
        (999_000..=1_000_000).contains(&left_us),
        "about 1 s left: {left_us}"
    );
    assert_eq!(syscall(&mut m, SETITIMER, [9, DATA, 0, 0, 0, 0]), EINVAL);

    // A handler for SIGALRM, so the sleep ends with EINTR and the process lives on.
    m.process.sigactions[SIGALRM as usize].handler = CODE_BASE;
    m.mem.write_u64(DATA + 64, 10).unwrap();
    m.mem.write_u64(DATA + 72, 0).unwrap();
    let before = m.process.slept_ns;
    assert_eq!(
        syscall(&mut m, NANOSLEEP, [DATA + 64, DATA + 80, 0, 0, 0, 0]),
        EINTR
    );
    let slept = m.process.slept_ns - before;
    assert!((999_000_000..=1_000_000_000).contains(&slept), "{slept}");
    assert!(
        m.mem.read_u64(DATA + 80).unwrap() == 9,
        "about 9 s remained"
    );
    assert_ne!(m.process.thread.pending & (1 << (SIGALRM - 1)), 0);
}

#[test]
fn epoll_timeout_passes_on_the_virtual_clock_when_nothing_else_runs() {
    // epoll_pwait with 50 ms, epoll_pwait2 with a timespec of 50 ms (qemu 7.2 lacks it).
    for (number, timeout) in [(EPOLL_PWAIT, 50), (EPOLL_PWAIT2, DATA + 256)] {
        let mut m = machine(&[ECALL]);
        m.mem.write_u64(DATA + 256, 0).unwrap();
        m.mem.write_u64(DATA + 264, 50_000_000).unwrap();
        let ep = syscall(&mut m, EPOLL_CREATE1, [0; 6]) as u64;
        let before = m.process.slept_ns;
        // The only process blocks, so the machine lets virtual time pass.
        m.cpu.pc = CODE_BASE;
        m.cpu.x[17] = number;
        m.cpu.x[10..16].copy_from_slice(&[ep, DATA, 1, timeout, 0, 0]);
        assert_eq!(m.run(&mut NullHost, 1), StopReason::BudgetSpent);
        assert_eq!(m.cpu.x[10], 0, "timed out with no events");
        let slept = m.process.slept_ns - before;
        // (A blocked ecall is not counted as retired, so the clock may step back 10 ns.)
        assert!((50_000_000..=50_000_100).contains(&slept), "{slept}");
    }
}

/// A host with a simulated monotonic clock: `sleep` advances it when `can_sleep`, otherwise
/// returns at once (a browser's main thread); every reading ticks it by 1 µs.
struct FakeClockHost {
    now_ns: u64,
    can_sleep: bool,
    sleeps: u32,
    readings: u32,
}

impl friscy_core::Host for FakeClockHost {
    fn now(&mut self, _clock: friscy_core::Clock) -> Option<friscy_core::Timespec> {
        self.readings += 1;
        self.now_ns += 1000;
        Some(friscy_core::Timespec {
            secs: (self.now_ns / 1_000_000_000) as i64,
            nanos: (self.now_ns % 1_000_000_000) as u32,
        })
    }
    fn sleep(&mut self, d: friscy_core::Timespec) {
        self.sleeps += 1;
        if self.can_sleep {
            self.now_ns += d.secs as u64 * 1_000_000_000 + u64::from(d.nanos);
        }
    }
}

/// nanosleep(1 s) of the only process on a host clock, run to completion.
fn host_clock_sleep(host: &mut FakeClockHost) -> i64 {
    let config = Config {
        memory_size: 1 << 20,
        process: ProcessConfig::default(),
    };
    let mut m = Machine::new(config).unwrap();
    m.load_elf(&elf_with_code(&words(&[ECALL])), &[b"events"], &[])
        .unwrap();
    m.mem.write_u64(DATA, 1).unwrap();
    m.cpu.pc = CODE_BASE;
    m.cpu.x[17] = NANOSLEEP;
    m.cpu.x[10..16].copy_from_slice(&[DATA, 0, 0, 0, 0, 0]);
    assert_eq!(m.run(host, 1), StopReason::BudgetSpent);
    m.cpu.x[10] as i64
}

#[test]
fn a_sleep_waits_in_the_host_not_on_its_clock() {
    let mut host = FakeClockHost {
        now_ns: 0,
        can_sleep: true,
        sleeps: 0,
        readings: 0,
    };
    assert_eq!(host_clock_sleep(&mut host), 0);
    assert!(host.now_ns >= 1_000_000_000, "a whole second passed");
    assert_eq!(host.sleeps, 1, "one host sleep, no polling of the clock");
    assert!(host.readings < 20, "{} clock readings", host.readings);
}

#[test]
fn a_host_that_cannot_sleep_gets_a_short_sleep_not_a_hang() {
    let mut host = FakeClockHost {
        now_ns: 0,
        can_sleep: false,
        sleeps: 0,
        readings: 0,
    };
    assert_eq!(host_clock_sleep(&mut host), 0);
    assert!(
        host.now_ns < 1_000_000,
        "run returned without waiting out the clock"
    );
}

#[test]
fn a_masked_repeating_alarm_does_not_keep_a_blocked_machine_waiting() {
    let mut m = machine(&[ECALL]);
    // Every 1 ms, with SIGALRM blocked: its expiries can wake nothing.
    for (i, v) in [0u64, 1000, 0, 1000].iter().enumerate() {
        m.mem.write_u64(DATA + 8 * i as u64, *v).unwrap();
    }
    m.process.thread.sigmask = 1 << (SIGALRM - 1);
    assert_eq!(syscall(&mut m, SETITIMER, [0, DATA, 0, 0, 0, 0]), 0);
    let efd = syscall(&mut m, EVENTFD2, [0, 0, 0, 0, 0, 0]) as u64;
    // A blocking read nobody will satisfy: the deadlock rule answers EAGAIN.
    assert_eq!(syscall(&mut m, READ, [efd, DATA + 64, 8, 0, 0, 0]), EAGAIN);
}
