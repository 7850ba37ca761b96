//! Guest threads: futex wake/requeue semantics through the system-call interface, and a
//! two-thread schedule that must not depend on how the host slices its `run` budget.

use friscy_core::cpu::Cpu;
use friscy_core::linux::{FutexWait, Thread, ThreadState, WaitOutcome};
use friscy_core::{Machine, NullHost, StopReason};

mod common;
use common::{machine_with_code, syscall};

const FUTEX: u64 = 98;
const FUTEX_WAKE_PRIVATE: u64 = 1 | 128;
const FUTEX_CMP_REQUEUE_PRIVATE: u64 = 4 | 128;
const FUTEX_WAKE_BITSET_PRIVATE: u64 = 10 | 128;
const EAGAIN: i64 = -11;

fn machine_with(code: &[u32]) -> Machine {
    let code_bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    machine_with_code(&code_bytes)
}

/// A thread of the running process asleep on futex `addr` (the `order`-th wait to begin).
fn sleeper(tid: i32, addr: u64, bitset: u32, order: u64) -> Thread {
    let mut state = ThreadState::main(tid);
    state.in_blocking_call = true;
    state.futex = Some(FutexWait {
        addr,
        bitset,
        deadline_ns: None,
        realtime: false,
        order,
        outcome: WaitOutcome::Waiting,
    });
    Thread {
        cpu: Cpu::default(),
        state,
    }
}

/// (tid, futex address, outcome) of each thread that is not running.
fn waits(machine: &Machine) -> Vec<(i32, u64, WaitOutcome)> {
    let mut v: Vec<_> = machine
        .process
        .threads
        .iter()
        .filter_map(|t| t.state.futex.map(|w| (t.state.tid, w.addr, w.outcome)))
        .collect();
    v.sort_by_key(|w| w.0);
    v
}

const WORD_A: u64 = 0x1_f000;
const WORD_B: u64 = 0x1_f004;

#[test]
fn futex_wake_goes_first_come_first_served_and_honours_bitsets() {
    let mut m = machine_with(&[0x73]);
    // Threads listed out of wait order: the wake must follow the order, not the list.
    m.process.threads = vec![
        sleeper(12, WORD_A, u32::MAX, 3),
        sleeper(10, WORD_A, u32::MAX, 1),
        sleeper(11, WORD_A, 0b01, 2),
        sleeper(13, WORD_B, u32::MAX, 4),
    ];
    assert_eq!(
        syscall(&mut m, FUTEX, [WORD_A, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0]),
        1
    );
    assert_eq!(
        waits(&m),
        vec![
            (10, WORD_A, WaitOutcome::Woken),
            (11, WORD_A, WaitOutcome::Waiting),
            (12, WORD_A, WaitOutcome::Waiting),
            (13, WORD_B, WaitOutcome::Waiting),
        ]
    );
    // Bitset 0b10 misses thread 11 (bitset 0b01): only 12 wakes, though 5 were asked for.
    let woken = syscall(
        &mut m,
        FUTEX,
        [WORD_A, FUTEX_WAKE_BITSET_PRIVATE, 5, 0, 0, 0b10],
    );
    assert_eq!(woken, 1);
    assert_eq!(waits(&m)[1], (11, WORD_A, WaitOutcome::Waiting));
    assert_eq!(waits(&m)[2], (12, WORD_A, WaitOutcome::Woken));
    // Bitset 0 is invalid for WAKE_BITSET.
    assert_eq!(
        syscall(
            &mut m,
            FUTEX,
            [WORD_A, FUTEX_WAKE_BITSET_PRIVATE, 5, 0, 0, 0]
        ),
        -22
    );
}

#[test]
fn cmp_requeue_checks_the_word_wakes_then_moves_waiters() {
    let mut m = machine_with(&[0x73]);
    m.mem.write_u32(WORD_A, 7).unwrap();
    m.process.threads = (0..5)
        .map(|i| sleeper(20 + i, WORD_A, u32::MAX, u64::from(i as u32) + 1))
        .collect();
    // The word is 7, not 6: nothing happens.
    let args = [WORD_A, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, WORD_B, 6];
    assert_eq!(syscall(&mut m, FUTEX, args), EAGAIN);
    assert!(waits(&m)
        .iter()
        .all(|w| w.1 == WORD_A && w.2 == WaitOutcome::Waiting));
    // Wake 1, requeue 2 to WORD_B; the result counts both (what the kernel returns).
    let args = [WORD_A, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, WORD_B, 7];
    assert_eq!(syscall(&mut m, FUTEX, args), 3);
    assert_eq!(
        waits(&m),
        vec![
            (20, WORD_A, WaitOutcome::Woken),
            (21, WORD_B, WaitOutcome::Waiting),
            (22, WORD_B, WaitOutcome::Waiting),
            (23, WORD_A, WaitOutcome::Waiting),
            (24, WORD_A, WaitOutcome::Waiting),
        ]
    );
    // Requeued waiters now answer to WORD_B only.
    assert_eq!(
        syscall(&mut m, FUTEX, [WORD_A, FUTEX_WAKE_PRIVATE, 9, 0, 0, 0]),
        2
    );
    assert_eq!(
        syscall(&mut m, FUTEX, [WORD_B, FUTEX_WAKE_PRIVATE, 9, 0, 0, 0]),
        2
    );
    assert!(waits(&m).iter().all(|w| w.2 == WaitOutcome::Woken));
}

#[test]
fn signal_to_a_thread_ends_its_futex_wait_unless_blocked() {
    let mut m = machine_with(&[0x73]);
    m.process.sigactions[10].handler = 0x1_0000;
    let mut blocked = sleeper(31, WORD_A, u32::MAX, 1);
    blocked.state.sigmask = 1 << (10 - 1);
    m.process.threads = vec![sleeper(30, WORD_A, u32::MAX, 2), blocked];
    let pid = m.process.pid as u64;
    const TGKILL: u64 = 131;
    assert_eq!(syscall(&mut m, TGKILL, [pid, 30, 10, 0, 0, 0]), 0);
    assert_eq!(syscall(&mut m, TGKILL, [pid, 31, 10, 0, 0, 0]), 0);
    let state = |tid: i32| {
        m.process
            .threads
            .iter()
            .find(|t| t.state.tid == tid)
            .map(|t| (t.state.pending, t.state.runnable()))
            .unwrap()
    };
    assert_eq!(state(30), (1 << 9, true));
    assert_eq!(state(31), (1 << 9, false));
    assert_eq!(syscall(&mut m, TGKILL, [pid, 99, 10, 0, 0, 0]), -3);
}

/// Two threads (clone with glibc's pthread flags) each add 1 to a shared counter 300000
/// times with amoadd.w; every 1024 rounds each appends its number (1 or 2) to a log, every
/// 2048 it calls sched_yield. The first thread then waits on the futex that
/// CLONE_CHILD_CLEARTID clears when the second exits, and exits with the counter.
/// Assembled from (riscv64-linux-gnu-as -march=rv64ima):
///   li s0,0x1f000; li a0,0x3d0f00; li a1,0x1c000; addi a2,s0,16; li a3,0; addi a4,s0,16
///   li a7,220; ecall; mv s1,a0; li s2,1; bnez s1,work; li s2,2
///   work: li s3,300000
///   loop: li t0,1; amoadd.w zero,t0,(s0); andi t1,s3,1023; bnez t1,skip
///     addi t2,s0,8; amoadd.w t3,t0,(t2); li t4,0x1e000; andi t3,t3,2047; add t4,t4,t3
///     sb s2,0(t4); andi t1,s3,2047; bnez t1,skip; li a7,124; ecall
///   skip: addi s3,s3,-1; bnez s3,loop; beqz s1,child_exit
///   wait: lw a2,16(s0); beqz a2,done; addi a0,s0,16; li a1,128; li a3,0; li a7,98; ecall; j wait
///   done: lw a0,0(s0); li a7,94; ecall
///   child_exit: li a0,0; li a7,93; ecall
const TWO_THREADS: [u32; 46] = [
    0x0001f437, 0x003d1537, 0xf005051b, 0x0001c5b7, 0x01040613, 0x00000693, 0x01040713, 0x0dc00893,
    0x00000073, 0x00050493, 0x00100913, 0x00049463, 0x00200913, 0x000499b7, 0x3e09899b, 0x00100293,
    0x0054202f, 0x3ff9f313, 0x02031663, 0x00840393, 0x0053ae2f, 0x0001eeb7, 0x7ffe7e13, 0x01ce8eb3,
    0x012e8023, 0x7ff9f313, 0x00031663, 0x07c00893, 0x00000073, 0xfff98993, 0xfc0992e3, 0x02048863,
    0x01042603, 0x00060e63, 0x01040513, 0x08000593, 0x00000693, 0x06200893, 0x00000073, 0xfe5ff06f,
    0x00042503, 0x05e00893, 0x00000073, 0x00000513, 0x05d00893, 0x00000073,
];

/// Run TWO_THREADS to the end, `budget(i)` instructions per `run` call; the stop, the
/// instruction count and the log of who ran when.
fn run_two_threads(budget: impl Fn(usize) -> u64) -> (StopReason, u64, Vec<u8>) {
    let mut m = machine_with(&TWO_THREADS);
    for call in 0.. {
        match m.run(&mut NullHost, budget(call)) {
            StopReason::BudgetSpent => continue,
            stop => {
                let log = m.mem.slice(0x1_e000, 584).unwrap().to_vec();
                return (stop, m.cpu.instret, log);
            }
        }
    }
    unreachable!()
}

#[test]
fn thread_schedule_does_not_depend_on_budget_slicing() {
    let whole = run_two_threads(|_| u64::MAX);
    // Both threads finished all 600000 increments: 600000 % 256 = 192.
    assert_eq!(whole.0, StopReason::Exited { status: 192 });
    // Each thread logged 292 times, and they took turns more than once.
    let log = &whole.2;
    assert_eq!(log.iter().filter(|&&b| b == 1).count(), 292);
    assert_eq!(log.iter().filter(|&&b| b == 2).count(), 292);
    let turns = log.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(turns > 4, "threads alternated only {turns} times");
    for slicing in [
        &(|_| 1_000_003u64) as &dyn Fn(usize) -> u64,
        &|_| 65_537,
        &|call| [1, 7, 4096, 999_999, 123][call % 5],
    ] {
        assert_eq!(run_two_threads(slicing), whole);
    }
}

#[test]
fn lone_futex_wait_times_out_on_the_virtual_clock_or_fails_instead_of_hanging() {
    const FUTEX_WAIT_PRIVATE: u64 = 128;
    let mut m = machine_with(&[0x73]);
    m.mem.write_u32(WORD_A, 3).unwrap();
    // A changed word: EAGAIN at once.
    assert_eq!(
        syscall(&mut m, FUTEX, [WORD_A, FUTEX_WAIT_PRIVATE, 4, 0, 0, 0]),
        EAGAIN
    );
    // A 2.5 ms timeout and nobody to wake it: the virtual clock jumps to the deadline.
    let timeout = 0x1_f100;
    m.mem.write_u64(timeout, 0).unwrap();
    m.mem.write_u64(timeout + 8, 2_500_000).unwrap();
    let slept = m.process.slept_ns;
    let args = [WORD_A, FUTEX_WAIT_PRIVATE, 3, timeout, 0, 0];
    assert_eq!(syscall(&mut m, FUTEX, args), -110);
    // (plus 10 ns: the blocked ecall is not counted until it runs again, one instruction.)
    let waited = m.process.slept_ns - slept;
    assert!(
        (2_500_000..=2_500_010).contains(&waited),
        "slept {waited} ns"
    );
    // No timeout and nobody to wake it: a deadlock, which the wait reports as EINTR (a
    // spurious wake-up) rather than hanging `run`.
    assert_eq!(
        syscall(&mut m, FUTEX, [WORD_A, FUTEX_WAIT_PRIVATE, 3, 0, 0, 0]),
        -4
    );
    assert!(m.process.thread.futex.is_none());
}

#[test]
fn dying_thread_marks_its_robust_futexes_owner_died_and_wakes_a_waiter() {
    const HEAD: u64 = 0x1_f200;
    const LOCK_OFFSET: u64 = 16; // futex word 16 bytes after each list entry
    let entries = [0x1_f300u64, 0x1_f340, 0x1_f380];
    let mut m = machine_with(&[0x73]);
    let tid = m.process.thread.tid as u32;
    // head -> e0 -> e1 -> e2 -> head; e2 is also list_op_pending.
    m.mem.write_u64(HEAD, entries[0]).unwrap();
    m.mem.write_u64(HEAD + 8, LOCK_OFFSET).unwrap();
    m.mem.write_u64(HEAD + 16, entries[2]).unwrap();
    for (i, &e) in entries.iter().enumerate() {
        let next = entries.get(i + 1).copied().unwrap_or(HEAD);
        m.mem.write_u64(e, next).unwrap();
    }
    // e0: ours with a waiter; e1: another thread's; e2: ours, no waiters.
    m.mem
        .write_u32(entries[0] + LOCK_OFFSET, 0x8000_0000 | tid)
        .unwrap();
    m.mem.write_u32(entries[1] + LOCK_OFFSET, 77).unwrap();
    m.mem.write_u32(entries[2] + LOCK_OFFSET, tid).unwrap();
    const SET_ROBUST_LIST: u64 = 99;
    assert_eq!(
        syscall(&mut m, SET_ROBUST_LIST, [HEAD, 23, 0, 0, 0, 0]),
        -22
    );
    assert_eq!(syscall(&mut m, SET_ROBUST_LIST, [HEAD, 24, 0, 0, 0, 0]), 0);
    m.process.threads = vec![
        sleeper(40, entries[0] + LOCK_OFFSET, u32::MAX, 1),
        sleeper(41, entries[0] + LOCK_OFFSET, u32::MAX, 2),
    ];
    m.process.release_robust_list(&mut m.mem);
    let word = |m: &Machine, e: u64| m.mem.read_u32(e + LOCK_OFFSET).unwrap();
    assert_eq!(
        word(&m, entries[0]),
        0xc000_0000,
        "waiters bit kept, owner died set"
    );
    assert_eq!(word(&m, entries[1]), 77, "another owner's lock untouched");
    assert_eq!(word(&m, entries[2]), 0x4000_0000);
    let outcomes: Vec<_> = waits(&m).iter().map(|w| w.2).collect();
    assert_eq!(outcomes, [WaitOutcome::Woken, WaitOutcome::Waiting]);
    assert_eq!(m.process.thread.robust_list, 0);
}
