//! Guest function calls (`friscy_core::vmcall`) against a real static riscv64 C program.
//!
//! `tests/guests/vmcall.c` is compiled with riscv64-linux-gnu-gcc; its functions store the
//! arguments they received in globals, which these tests read back and compare with what
//! was passed (the reference is the values themselves and arithmetic done here, never
//! libfriscy's own output).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use friscy_core::cpu::Access;
use friscy_core::elf::Elf;
use friscy_core::mem::Memory;
use friscy_core::vmcall::RETURN_TRAP;
use friscy_core::{
    Arg, ArgKind, CallError, Config, Host, IoResult, Machine, PreparedCall, StopReason,
};

const BUDGET: u64 = 10_000_000;
const HOST_TWICE: u64 = 0x10001;

fn guest_elf() -> &'static [u8] {
    static ELF: OnceLock<Vec<u8>> = OnceLock::new();
    ELF.get_or_init(|| {
        let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/guests/vmcall.c");
        let binary =
            std::env::temp_dir().join(format!("friscy-vmcall-guest-{}", std::process::id()));
        let status = Command::new("riscv64-linux-gnu-gcc")
            .args(["-O2", "-static", "-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&binary)
            .arg(&source)
            .status()
            .expect("riscv64-linux-gnu-gcc is required for the vmcall tests");
        assert!(status.success(), "compiling tests/guests/vmcall.c failed");
        let bytes = std::fs::read(&binary).unwrap();
        let _ = std::fs::remove_file(&binary);
        bytes
    })
}

/// Captures console output, answers one custom system call, and can make stdin pend.
#[derive(Default)]
struct TestHost {
    out: Vec<u8>,
    stdin_pending: bool,
}

impl Host for TestHost {
    fn write(&mut self, _fd: i32, data: &[u8]) -> IoResult {
        self.out.extend_from_slice(data);
        IoResult::Done(data.len())
    }
    fn read(&mut self, _fd: i32, _buf: &mut [u8]) -> IoResult {
        if self.stdin_pending {
            IoResult::Pending
        } else {
            IoResult::Done(0)
        }
    }
    fn custom_syscall(&mut self, number: u64, args: &[u64; 6], _mem: &mut Memory) -> Option<i64> {
        (number == HOST_TWICE).then(|| args[0] as i64 * 2)
    }
}

/// A machine that ran the guest's main up to its pause.
fn paused_machine(host: &mut TestHost) -> Machine {
    let config = Config {
        memory_size: 64 << 20,
        ..Config::default()
    };
    let mut m = Machine::new(config).unwrap();
    m.load_elf(guest_elf(), &[b"vmcall"], &[]).unwrap();
    assert_eq!(m.run(host, BUDGET), StopReason::Paused);
    assert_eq!(host.out, b"ready\n");
    host.out.clear();
    m
}

fn func(m: &Machine, name: &str) -> u64 {
    m.function_address(guest_elf(), name.as_bytes()).unwrap()
}

fn data_symbol(m: &Machine, name: &str) -> u64 {
    Elf::parse(guest_elf())
        .unwrap()
        .symbol(name.as_bytes())
        .unwrap()
        + m.image.bias
}

fn read_u64s(m: &Machine, name: &str, n: usize) -> Vec<u64> {
    let at = data_symbol(m, name);
    (0..n)
        .map(|i| m.mem.read_u64(at + 8 * i as u64).unwrap())
        .collect()
}

/// Registers that must be identical before a call and after it returns or is abandoned.
fn arch_state(m: &Machine) -> (Vec<u64>, [u64; 32], u64, u8, u8, u64) {
    (
        m.cpu.x[1..32].to_vec(),
        m.cpu.f,
        m.cpu.pc,
        m.cpu.fflags,
        m.cpu.frm,
        m.process.thread.sigmask,
    )
}

fn returned(stop: Result<StopReason, CallError>) -> (u64, u64) {
    match stop {
        Ok(StopReason::Returned { a0, fa0 }) => (a0, fa0),
        other => panic!("call did not return: {other:?}"),
    }
}

#[test]
fn integer_arguments_and_result() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let before = arch_state(&m);
    let add2 = func(&m, "add2");
    let (a0, _) = returned(m.call(&mut host, add2, &[Arg::Int(40), Arg::from(-2i64)], BUDGET));
    assert_eq!(a0 as i64, 38);
    assert_eq!(
        arch_state(&m),
        before,
        "registers restored after the return"
    );
    assert!(!m.call_in_progress());
    // The empty function returns whatever a0 held: nothing to check but the round trip.
    assert!(matches!(
        m.call(&mut host, func(&m, "empty"), &[], BUDGET),
        Ok(StopReason::Returned { .. })
    ));
    assert_eq!(arch_state(&m), before);
}

#[test]
fn thirty_two_bit_arguments_are_sign_extended() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let f = func(&m, "whole_register");
    // The psABI widens 32-bit integers (signed or not) by sign extension to 64 bits.
    for (arg, want) in [
        (Arg::Int32(0xffff_ffff), u64::MAX),
        (Arg::from(-5i32), (-5i64) as u64),
        (Arg::from(0x8000_0000u32), 0xffff_ffff_8000_0000),
        (Arg::from(7u32), 7),
        (Arg::Int(0xffff_ffff), 0xffff_ffff),
    ] {
        assert_eq!(
            returned(m.call(&mut host, f, &[arg], BUDGET)).0,
            want,
            "{arg:?}"
        );
    }
}

#[test]
fn twelve_integers_use_the_stack_after_a7() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let values: Vec<i64> = (0..12).map(|i| (i * 7919 - 40_000) * 1_000_003).collect();
    let args: Vec<Arg> = values.iter().map(|&v| Arg::from(v)).collect();
    let (a0, _) = returned(m.call(&mut host, func(&m, "ints12"), &args, BUDGET));
    let seen: Vec<i64> = read_u64s(&m, "seen_int", 12)
        .into_iter()
        .map(|v| v as i64)
        .collect();
    assert_eq!(seen, values);
    let expected: i64 = values
        .iter()
        .enumerate()
        .map(|(i, v)| if i % 2 == 0 { *v } else { -*v })
        .sum();
    assert_eq!(a0 as i64, expected);
}

#[test]
fn ten_doubles_spill_into_integer_registers() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let values: Vec<f64> = (0..10).map(|i| 0.5 + f64::from(i) * 1.25).collect();
    let args: Vec<Arg> = values.iter().map(|&v| Arg::Double(v)).collect();
    let stop = m.call(&mut host, func(&m, "doubles10"), &args, BUDGET);
    let seen: Vec<f64> = read_u64s(&m, "seen_fp", 10)
        .into_iter()
        .map(f64::from_bits)
        .collect();
    assert_eq!(seen, values);
    let expected: f64 = values
        .iter()
        .enumerate()
        .fold(0.0, |s, (i, v)| s + v * (i + 1) as f64);
    assert_eq!(stop.unwrap().returned_f64(), Some(expected));
}

#[test]
fn ten_floats_are_boxed_and_spill_as_low_words() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let values: Vec<f32> = (0..10).map(|i| -1.5 + i as f32 * 0.75).collect();
    let args: Vec<Arg> = values.iter().map(|&v| Arg::Float(v)).collect();
    let stop = m
        .call(&mut host, func(&m, "floats10"), &args, BUDGET)
        .unwrap();
    let at = data_symbol(&m, "seen_f32");
    let seen: Vec<f32> = (0..10)
        .map(|i| f32::from_bits(m.mem.read_u32(at + 4 * i).unwrap()))
        .collect();
    assert_eq!(seen, values);
    let expected = values.iter().fold(0f32, |s, v| s + v);
    assert_eq!(stop.returned_f32(), Some(expected));
}

#[test]
fn mixed_arguments_fill_both_register_files_then_the_stack() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let ints: Vec<i64> = (0..9).map(|i| 1000 + i * 111).collect();
    let doubles: Vec<f64> = (0..9).map(|i| f64::from(i) / 8.0 - 3.0).collect();
    let mut args = Vec::new();
    for i in 0..9 {
        args.push(Arg::from(ints[i]));
        args.push(Arg::Double(doubles[i]));
    }
    args.push(Arg::from(-77i32));
    let (a0, _) = returned(m.call(&mut host, func(&m, "mixed19"), &args, BUDGET));
    let seen_ints: Vec<i64> = read_u64s(&m, "seen_int", 10)
        .into_iter()
        .map(|v| v as i64)
        .collect();
    let mut want_ints = ints.clone();
    want_ints.push(-77);
    assert_eq!(seen_ints, want_ints);
    let seen_fp: Vec<f64> = read_u64s(&m, "seen_fp", 9)
        .into_iter()
        .map(f64::from_bits)
        .collect();
    assert_eq!(seen_fp, doubles);
    assert_eq!(a0 as i64, ints[0] + ints[8] - 77);

    // A small mixed call whose result is exactly representable.
    let stop = m
        .call(
            &mut host,
            func(&m, "mix_small"),
            &[
                Arg::from(3i32),
                Arg::Double(0.5),
                Arg::from(4i64),
                Arg::Float(0.25),
                Arg::Double(20.0),
            ],
            BUDGET,
        )
        .unwrap();
    assert_eq!(stop.returned_f64(), Some(3000.0 + 50.0 + 40.0 + 0.25 + 2.0));
}

#[test]
fn system_calls_and_host_calls_inside_a_call() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let (a0, _) = returned(m.call(
        &mut host,
        func(&m, "with_syscalls"),
        &[Arg::Int(21)],
        BUDGET,
    ));
    assert_eq!(host.out, b"called with 21\n");
    // getpid() is 1; the host's custom call doubled 21.
    assert_eq!(a0, 1000 + 42);
}

#[test]
fn budget_exhaustion_then_resume_is_exact() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let f = func(&m, "sum_to");
    let start = m.cpu.instret;
    let (a0, _) = returned(m.call(&mut host, f, &[Arg::Int(1000)], BUDGET));
    assert_eq!(a0, 500_500);
    let whole = m.cpu.instret - start;

    let before = arch_state(&m);
    let start = m.cpu.instret;
    assert_eq!(
        m.call(&mut host, f, &[Arg::Int(1000)], 100),
        Ok(StopReason::BudgetSpent)
    );
    assert_eq!(m.cpu.instret - start, 100);
    assert!(m.call_in_progress());
    assert_eq!(
        m.call(&mut host, f, &[Arg::Int(1)], BUDGET),
        Err(CallError::CallInProgress)
    );
    assert_eq!(m.resume_call(&mut host, 1), Ok(StopReason::BudgetSpent));
    let (a0, _) = returned(m.resume_call(&mut host, BUDGET));
    assert_eq!(a0, 500_500);
    assert_eq!(
        m.cpu.instret - start,
        whole,
        "slicing never changes the count"
    );
    assert_eq!(arch_state(&m), before);

    // A budget of exactly the call's length returns rather than stopping one short.
    let start = m.cpu.instret;
    let (a0, _) = returned(m.call(&mut host, f, &[Arg::Int(1000)], whole));
    assert_eq!((a0, m.cpu.instret - start), (500_500, whole));
    assert_eq!(m.resume_call(&mut host, 1), Err(CallError::NoCall));
}

#[test]
fn an_endless_call_is_abandoned_and_the_machine_stays_usable() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let before = arch_state(&m);
    let counter = data_symbol(&m, "counter");
    assert_eq!(
        m.call(&mut host, func(&m, "spin"), &[], 50_000),
        Ok(StopReason::BudgetSpent)
    );
    assert!(m.mem.read_u64(counter).unwrap() > 1000, "the loop ran");
    assert_eq!(m.abandon_call(), Ok(()));
    assert_eq!(arch_state(&m), before);
    assert_eq!(m.abandon_call(), Err(CallError::NoCall));
    let (a0, _) = returned(m.call(
        &mut host,
        func(&m, "add2"),
        &[2u64.into(), 3u64.into()],
        BUDGET,
    ));
    assert_eq!(a0, 5);
    // main continues from its pause and exits with its own status.
    assert_eq!(m.run(&mut host, BUDGET), StopReason::Exited { status: 42 });
    assert_eq!(host.out, b"resumed 0 42\n");
    assert_eq!(
        m.call(&mut host, func(&m, "add2"), &[], BUDGET),
        Err(CallError::Terminated)
    );
}

#[test]
fn a_fault_stops_the_call_and_abandon_restores() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let before = arch_state(&m);
    let stop = m
        .call(&mut host, func(&m, "null_write"), &[], BUDGET)
        .unwrap();
    assert!(
        matches!(
            stop,
            StopReason::Fault {
                addr: 0,
                access: Access::Store,
                ..
            }
        ),
        "{stop:?}"
    );
    assert!(m.call_in_progress());
    // Resuming faults again at the same instruction; abandoning restores.
    assert_eq!(m.resume_call(&mut host, BUDGET), Ok(stop));
    m.abandon_call().unwrap();
    assert_eq!(arch_state(&m), before);
    let (old, _) = returned(m.call(
        &mut host,
        func(&m, "set_initialised"),
        &[Arg::Int(7)],
        BUDGET,
    ));
    assert_eq!(old, 42);
    assert_eq!(m.run(&mut host, BUDGET), StopReason::Exited { status: 7 });
}

#[test]
fn fork_is_refused_and_pause_inside_a_call_is_resumable() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let (a0, _) = returned(m.call(&mut host, func(&m, "try_fork"), &[], BUDGET));
    assert_eq!(a0 as i64, -1, "EPERM");
    assert_eq!(
        m.call(&mut host, func(&m, "pause_inside"), &[Arg::Int(9)], BUDGET),
        Ok(StopReason::Paused)
    );
    let (a0, _) = returned(m.resume_call(&mut host, BUDGET));
    assert_eq!(a0, 10);
}

#[test]
fn prepared_calls_set_arguments_in_place() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let mut call = PreparedCall::new(
        func(&m, "mix_small"),
        &[
            ArgKind::Int32,
            ArgKind::Double,
            ArgKind::Int,
            ArgKind::Float,
            ArgKind::Double,
        ],
    )
    .unwrap();
    for frame in 0..20i64 {
        call.set_int(0, frame).unwrap();
        call.set_double(1, 0.5).unwrap();
        call.set_int(2, -frame).unwrap();
        call.set_double(3, 0.75).unwrap();
        call.set_double(4, 10.0).unwrap();
        let stop = m.call_prepared(&mut host, &call, BUDGET).unwrap();
        let want = frame as f64 * 1000.0 + 50.0 - frame as f64 * 10.0 + 0.75 + 1.0;
        assert_eq!(stop.returned_f64(), Some(want));
    }
    assert_eq!(call.set_int(5, 0), Err(CallError::NoSuchArgument(5)));
    assert_eq!(call.kind(3), Some(ArgKind::Float));
    assert_eq!(
        PreparedCall::new(0x1000, &[ArgKind::Int; 33]),
        Err(CallError::TooManyArguments)
    );
}

#[test]
fn bad_addresses_and_symbols_are_refused() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    assert_eq!(
        m.function_address(guest_elf(), b"no_such_function"),
        Err(CallError::UnknownSymbol)
    );
    assert_eq!(
        m.function_address(b"not an elf", b"add2"),
        Err(CallError::UnknownSymbol)
    );
    let add2 = func(&m, "add2");
    let size = m.mem.size();
    for bad in [
        0,
        0x10,
        add2 + 1,
        size,
        RETURN_TRAP,
        m.image.end + 0x10_0000,
    ] {
        assert_eq!(
            m.call(&mut host, bad, &[], BUDGET),
            Err(CallError::BadAddress(bad)),
            "{bad:#x}"
        );
    }
    assert!(!m.call_in_progress());
    // Stack arguments need a stack pointer inside guest memory.
    let saved_sp = m.cpu.x[2];
    m.cpu.x[2] = 0x1008;
    let args = [Arg::Int(0); 12];
    assert_eq!(
        m.call(&mut host, func(&m, "ints12"), &args, BUDGET),
        Err(CallError::StackOutOfRange(0x1008))
    );
    m.cpu.x[2] = saved_sp;
    assert_eq!(
        returned(m.call(&mut host, add2, &[1u64.into(), 1u64.into()], BUDGET)).0,
        2
    );
}

#[test]
fn a_guest_parked_in_a_system_call_cannot_be_called() {
    let mut host = TestHost {
        stdin_pending: true,
        ..TestHost::default()
    };
    let mut m = Machine::new(Config {
        memory_size: 64 << 20,
        ..Config::default()
    })
    .unwrap();
    m.load_elf(guest_elf(), &[b"vmcall", b"read-first"], &[])
        .unwrap();
    assert_eq!(m.run(&mut host, BUDGET), StopReason::Pending { fd: 0 });
    let add2 = m.function_address(guest_elf(), b"add2").unwrap();
    assert_eq!(
        m.call(&mut host, add2, &[], BUDGET),
        Err(CallError::InSystemCall)
    );
    host.stdin_pending = false;
    assert_eq!(m.run(&mut host, BUDGET), StopReason::Paused);
    assert_eq!(
        returned(m.call(&mut host, add2, &[5u64.into(), 6u64.into()], BUDGET)).0,
        11
    );
}

#[test]
fn a_call_is_refused_while_another_process_holds_the_hart() {
    let mut host = TestHost::default();
    let mut m = Machine::new(Config {
        memory_size: 64 << 20,
        ..Config::default()
    })
    .unwrap();
    m.load_elf(guest_elf(), &[b"vmcall", b"fork-spin"], &[])
        .unwrap();
    // The first process sleeps in wait4; its child spins on the hart.
    assert_eq!(m.run(&mut host, 3_000_000), StopReason::BudgetSpent);
    assert_eq!(m.process.pid, 2);
    let add2 = m.function_address(guest_elf(), b"add2").unwrap();
    assert_eq!(
        m.call(&mut host, add2, &[], BUDGET),
        Err(CallError::OtherProcess)
    );
    assert!(!m.call_in_progress());
}

/// A call in progress is part of the machine: a snapshot taken mid-call restores into a
/// machine (and a fork) that finishes the call with the same result, count and registers.
#[test]
fn a_call_in_progress_survives_snapshot_restore_and_fork() {
    let mut host = TestHost::default();
    let mut m = paused_machine(&mut host);
    let f = func(&m, "sum_to");
    let before = arch_state(&m);
    let start = m.cpu.instret;
    assert_eq!(
        m.call(&mut host, f, &[Arg::Int(1000)], 777),
        Ok(StopReason::BudgetSpent)
    );
    let bytes = m.snapshot();
    let config = Config {
        memory_size: 64 << 20,
        ..Config::default()
    };
    let mut restored = Machine::restore(&config, None, &bytes).unwrap();
    let mut forked = m.fork().unwrap();
    for machine in [&mut m, &mut restored, &mut forked] {
        assert!(machine.call_in_progress());
        let (a0, _) = returned(machine.resume_call(&mut host, BUDGET));
        assert_eq!(a0, 500_500);
        assert_eq!(arch_state(machine), before);
        assert!(!machine.call_in_progress());
    }
    assert_eq!(restored.cpu.instret, m.cpu.instret);
    assert_eq!(forked.cpu.instret - start, m.cpu.instret - start);
}
