//! Fuzz target: arbitrary code and registers run on a fresh machine without panicking, deterministically.
//!
//! The input is code (loaded at `CODE_BASE` through the ELF loader) plus initial
//! integer/FP registers and a host script. Two fresh machines run it for `BUDGET` instructions: one in a
//! single `run`, the other with the budget cut into the input's pieces. Every stop must
//! be consistent (see `check_stop`), and both machines must end in the same state:
//! registers, pc, instret, memory and process bookkeeping.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use friscy_core::linux::Region;
use friscy_core::{Machine, StopReason};
use friscy_fuzz::{drive, machine_with_code, recycle, ScriptedHost, Value};
use libfuzzer_sys::fuzz_target;

const BUDGET: u64 = 10_000;

/// Everything but the code. The input is `[n][n header bytes][code...]`, so the code
/// stays raw bytes at a fixed place for libFuzzer's mutations and the dictionary, and a
/// seed that is just `[0][code]` runs its code with the loader's initial registers.
#[derive(Arbitrary, Debug, Default)]
struct Header {
    /// x1..x31; `None` keeps what the loader set (sp and zeros).
    regs: [Option<Value>; 31],
    fregs: [u64; 4],
    frm: u8,
    /// How the second machine splits the budget.
    pieces: [u16; 4],
    host_script: Vec<u8>,
}

#[derive(Debug)]
struct Input<'a> {
    header: Header,
    code: &'a [u8],
}

impl<'a> Input<'a> {
    fn parse(data: &'a [u8]) -> Option<Input<'a>> {
        let (&n, rest) = data.split_first()?;
        let (header, code) = rest.split_at(usize::from(n).min(rest.len()));
        let header = Header::arbitrary_take_rest(Unstructured::new(header)).ok()?;
        Some(Input { header, code })
    }
}

fn start(input: &Input) -> (Machine, ScriptedHost) {
    let mut machine = machine_with_code(input.code, true);
    let input = &input.header;
    for (i, value) in input.regs.iter().enumerate() {
        if let Some(value) = value {
            machine.cpu.x[i + 1] = value.resolve();
        }
    }
    // A few FP registers set, the rest NaN-boxed copies: enough to reach every FP path.
    for (i, f) in machine.cpu.f.iter_mut().enumerate() {
        *f = input.fregs[i % 4].rotate_left(i as u32);
    }
    machine.cpu.frm = input.frm & 7;
    (machine, ScriptedHost::new(&input.host_script))
}

fn regions(machine: &Machine) -> Vec<Region> {
    machine.process.maps.iter().copied().collect()
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let (mut one, mut one_host) = start(&input);
    let stop_one = drive(&mut one, &mut one_host, BUDGET, &[], 4);
    assert!(
        one.cpu.instret <= BUDGET,
        "instret {} > budget",
        one.cpu.instret
    );

    let (mut two, mut two_host) = start(&input);
    let stop_two = drive(&mut two, &mut two_host, BUDGET, &input.header.pieces, 4);
    assert_eq!(stop_one, stop_two, "split run stopped differently");
    assert_eq!(
        one.cpu, two.cpu,
        "split run ended in a different hart state"
    );
    assert!(
        one.mem.as_bytes() == two.mem.as_bytes(),
        "split run left different memory"
    );
    assert_eq!(one.process.brk, two.process.brk);
    assert_eq!(regions(&one), regions(&two));
    assert_eq!(one.process.thread.sigmask, two.process.thread.sigmask);
    assert_eq!(
        one_host.output, two_host.output,
        "split run wrote different output"
    );
    // A stopped machine stays stopped.
    if let StopReason::Exited { .. } | StopReason::Signaled { .. } = stop_one {
        assert_eq!(one.run(&mut one_host, 100), stop_one);
    }
    recycle(one);
    recycle(two);
});
