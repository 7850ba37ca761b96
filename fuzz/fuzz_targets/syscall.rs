//! Fuzz target: one system call with biased number and arguments, against a host that answers arbitrarily.
//!
//! The call is made the way a guest makes it: registers set, `ecall` executed by the
//! interpreter. Afterwards the call either finished (a0 is a success value or a negated
//! errno in -4095..=-1, pc moved past the ecall, no other register changed), is pending
//! (pc still at the ecall, nothing retired, and it can be resumed), or ended the process.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use friscy_core::linux::syscall_name;
use friscy_core::StopReason;
use friscy_fuzz::{
    check_process, known_bugs_enabled, machine_with_code, recycle, ScriptedHost, Value, CODE_BASE,
    CUSTOM_SYSCALL_BASE, DATA_BASE,
};
use libfuzzer_sys::fuzz_target;

/// `ecall; ebreak`
const CODE: [u8; 8] = [0x73, 0, 0, 0, 0x73, 0, 0x10, 0];

/// The numbers the core implements (it names exactly those).
fn implemented() -> &'static [u64] {
    static LIST: OnceLock<Vec<u64>> = OnceLock::new();
    LIST.get_or_init(|| (0..1024).filter(|&n| syscall_name(n).is_some()).collect())
}

#[derive(Arbitrary, Debug)]
enum Number {
    Implemented(u8),
    Raw(u64),
    Custom(u16),
}

#[derive(Arbitrary, Debug)]
struct Input {
    number: Number,
    args: [Value; 6],
    deterministic: bool,
    /// Written to the data area before the call (iovecs, sigactions, paths, …).
    memory_seed: Vec<u8>,
    host_script: Vec<u8>,
    /// Let the host fail with any `i32` errno, not just 1..=4095 (a reported bug: the
    /// core passes them through, so only with FRISCY_FUZZ_KNOWN_BUGS=1).
    any_errno: bool,
    resumes: u8,
}

fuzz_target!(|input: Input| {
    let number = match input.number {
        Number::Implemented(i) => implemented()[usize::from(i) % implemented().len()],
        Number::Raw(n) => n,
        Number::Custom(n) => CUSTOM_SYSCALL_BASE + u64::from(n),
    };
    let mut machine = machine_with_code(&CODE, input.deterministic);
    let seed = &input.memory_seed[..input.memory_seed.len().min(0x8000)];
    machine.mem.write_bytes(DATA_BASE, seed).expect("data area");
    machine.cpu.x[17] = number;
    for (i, arg) in input.args.iter().enumerate() {
        machine.cpu.x[10 + i] = arg.resolve();
    }
    let mut host = ScriptedHost::new(&input.host_script);
    host.sane_errnos = !(input.any_errno && known_bugs_enabled());
    let before = machine.cpu.clone();
    // These calls replace the running context (a forked child runs next, a new image, a
    // signal frame's registers): only "no panic, a documented stop" applies to them.
    const CLONE: u64 = 220;
    const CLONE3: u64 = 435;
    const EXECVE: u64 = 221;
    const RT_SIGRETURN: u64 = 139;
    if matches!(number, CLONE | CLONE3 | EXECVE | RT_SIGRETURN) {
        for _ in 0..=u32::from(input.resumes % 4) {
            let _ = machine.run(&mut host, 1);
            check_process(&machine);
        }
        return;
    }

    for _ in 0..=u32::from(input.resumes % 4) {
        let stop = machine.run(&mut host, 1);
        check_process(&machine);
        let cpu = &machine.cpu;
        match stop {
            StopReason::Pending { fd } => {
                assert!((0..=2).contains(&fd), "pending on fd {fd}");
                assert_eq!(cpu.pc, CODE_BASE, "pending call must stay at the ecall");
                assert_eq!(cpu.instret, 0, "pending call must not retire");
                assert_eq!(cpu.x, before.x, "pending call changed registers");
                continue;
            }
            StopReason::BudgetSpent | StopReason::HostStop => {
                assert_eq!(
                    cpu.pc,
                    CODE_BASE + 4,
                    "finished call must move past the ecall"
                );
                assert_eq!(cpu.instret, 1);
                let result = cpu.x[10] as i64;
                if number < CUSTOM_SYSCALL_BASE {
                    assert!(
                        result >= -4095,
                        "{} ({number}) returned {result}, neither success nor -errno",
                        syscall_name(number).unwrap_or("?")
                    );
                }
                for r in (1..32).filter(|&r| r != 10) {
                    assert_eq!(cpu.x[r], before.x[r], "x{r} changed by syscall {number}");
                }
                assert_eq!(cpu.f, before.f, "FP registers changed by syscall {number}");
                break;
            }
            StopReason::Paused => {
                // The embedding API's pause call: it retires and moves past the ecall.
                assert_eq!(
                    number,
                    friscy_core::vmcall::PAUSE_SYSCALL,
                    "pause from {number}"
                );
                assert_eq!(cpu.pc, CODE_BASE + 4, "a pause must move past the ecall");
                assert_eq!(cpu.instret, 1);
                break;
            }
            StopReason::Exited { status } => {
                assert!((0..=255).contains(&status));
                assert!(matches!(number, 93 | 94), "exit from syscall {number}");
                break;
            }
            StopReason::Signaled { signal } => {
                assert!((1..=64).contains(&signal));
                break;
            }
            other => panic!("syscall {number} stopped with {other:?}"),
        }
    }
    recycle(machine);
});
