//! Shared pieces of the fuzz targets: a tiny ELF builder, a scripted host, machine set-up and invariant checks.
//!
//! Every check here panics with a message naming the broken invariant, so libFuzzer
//! records the input as a crash.

use std::cell::RefCell;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use friscy_core::cpu::Access;
use friscy_core::host::{Clock, Host, IoResult, Timespec};
use friscy_core::isa::{self, Op};
use friscy_core::linux::{ProcessConfig, Region};
use friscy_core::mem::{Memory, GUARD_SIZE, PAGE_SIZE};
use friscy_core::{Machine, NullHost, StopReason};

/// Guest memory of every fuzzed machine: small, so huge segments and mappings fail cleanly.
pub const MEMORY_SIZE: u64 = 1 << 20;
/// Where the fuzzed code is loaded (and where execution starts).
pub const CODE_BASE: u64 = 0x1_0000;
/// Most code a target places at `CODE_BASE` (two pages, so execution can cross a page).
pub const CODE_MAX: usize = 0x2000;
/// A writable data area inside the loaded image, where memory seeds go.
pub const DATA_BASE: u64 = 0x1_8000;
pub const DATA_SIZE: u64 = 0x8000;
/// End of the loaded image; the heap starts here.
pub const IMAGE_END: u64 = 0x2_0000;
/// Syscall numbers from here up are offered to the host as custom calls.
pub const CUSTOM_SYSCALL_BASE: u64 = 0x1_0000;

const PT_LOAD: u32 = 1;
const PF_RWX: u32 = 7;

/// One PT_LOAD segment for [`elf_image`].
pub struct Segment<'a> {
    pub vaddr: u64,
    pub data: &'a [u8],
    pub memsz: u64,
    pub flags: u32,
}

/// A minimal ELF64 RISC-V executable (`kind` 2 = ET_EXEC, 3 = ET_DYN) with the given
/// segments, laid out header, program headers, then each segment's bytes.
pub fn elf_image(kind: u16, entry: u64, segments: &[Segment<'_>]) -> Vec<u8> {
    let phnum = segments.len();
    let mut out = vec![0u8; 64 + 56 * phnum];
    out[..4].copy_from_slice(b"\x7fELF");
    out[4] = 2; // ELFCLASS64
    out[5] = 1; // little-endian
    out[6] = 1; // EV_CURRENT
    out[16..18].copy_from_slice(&kind.to_le_bytes());
    out[18..20].copy_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    out[20..24].copy_from_slice(&1u32.to_le_bytes());
    out[24..32].copy_from_slice(&entry.to_le_bytes());
    out[32..40].copy_from_slice(&64u64.to_le_bytes());
    out[52..54].copy_from_slice(&64u16.to_le_bytes());
    out[54..56].copy_from_slice(&56u16.to_le_bytes());
    out[56..58].copy_from_slice(&(phnum as u16).to_le_bytes());
    out[58..60].copy_from_slice(&64u16.to_le_bytes());
    for (i, seg) in segments.iter().enumerate() {
        let offset = out.len() as u64;
        let ph = 64 + 56 * i;
        out[ph..ph + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
        out[ph + 4..ph + 8].copy_from_slice(&seg.flags.to_le_bytes());
        out[ph + 8..ph + 16].copy_from_slice(&offset.to_le_bytes());
        out[ph + 16..ph + 24].copy_from_slice(&seg.vaddr.to_le_bytes());
        out[ph + 24..ph + 32].copy_from_slice(&seg.vaddr.to_le_bytes());
        out[ph + 32..ph + 40].copy_from_slice(&(seg.data.len() as u64).to_le_bytes());
        out[ph + 40..ph + 48].copy_from_slice(&seg.memsz.to_le_bytes());
        out[ph + 48..ph + 56].copy_from_slice(&PAGE_SIZE.to_le_bytes());
        out.extend_from_slice(seg.data);
    }
    out
}

/// A deterministic machine with `code` (at most [`CODE_MAX`] bytes) loaded at
/// [`CODE_BASE`] through the real ELF loader, so heap, mmap area and stack are laid out
/// as for any program: image `CODE_BASE..IMAGE_END`, heap from `IMAGE_END`.
pub fn machine_with_code(code: &[u8], deterministic: bool) -> Machine {
    let code = &code[..code.len().min(CODE_MAX)];
    let elf = elf_image(
        2,
        CODE_BASE,
        &[Segment {
            vaddr: CODE_BASE,
            data: code,
            memsz: IMAGE_END - CODE_BASE,
            flags: PF_RWX,
        }],
    );
    let process = ProcessConfig {
        deterministic,
        ..ProcessConfig::default()
    };
    let mut machine = Machine::with_memory(fresh_memory(), process);
    machine
        .load_elf(&elf, &[b"fuzz"], &[b"FUZZ=1"])
        .expect("the fuzz image loads");
    machine
}

thread_local! {
    /// Guest memories of finished runs, kept so each run does not fault in 1 MiB of
    /// fresh pages (page faults were most of the execute target's time).
    static SPARE_MEMORY: RefCell<Vec<Memory>> = const { RefCell::new(Vec::new()) };
}

/// A zeroed guest memory of [`MEMORY_SIZE`] bytes, reused when one is spare.
pub fn fresh_memory() -> Memory {
    match SPARE_MEMORY.with(|spare| spare.borrow_mut().pop()) {
        Some(mut mem) => {
            // The guard page cannot be written, so zeroing the rest restores a fresh state.
            mem.zero(GUARD_SIZE, mem.size() - GUARD_SIZE)
                .expect("whole memory");
            mem
        }
        None => Memory::new(MEMORY_SIZE as usize).expect("1 MiB guest memory"),
    }
}

/// Hand a finished machine's memory back for [`fresh_memory`].
pub fn recycle(machine: Machine) {
    let Machine { mem, .. } = machine;
    if mem.size() == MEMORY_SIZE {
        SPARE_MEMORY.with(|spare| {
            let mut spare = spare.borrow_mut();
            if spare.len() < 4 {
                spare.push(mem);
            }
        });
    }
}

/// A host whose every answer comes from a byte script (and is sane defaults once the
/// script runs out), so a run can be replayed exactly with a fresh copy.
#[derive(Clone, Debug, Default)]
pub struct ScriptedHost {
    script: Vec<u8>,
    pos: usize,
    /// Only hand out errno values the kernel could (1..=4095); otherwise any `i32`.
    pub sane_errnos: bool,
    /// How many times `stop_requested` answered true.
    pub stops: u32,
    /// How many times an I/O call answered `Pending`.
    pub pendings: u32,
    /// Bytes the guest wrote to fd 1 and 2 (only the first KiB is kept).
    pub output: Vec<u8>,
}

impl ScriptedHost {
    pub fn new(script: &[u8]) -> ScriptedHost {
        ScriptedHost {
            script: script.to_vec(),
            pos: 0,
            sane_errnos: true,
            stops: 0,
            pendings: 0,
            output: Vec::new(),
        }
    }

    fn byte(&mut self) -> Option<u8> {
        let b = self.script.get(self.pos).copied();
        self.pos += usize::from(b.is_some());
        b
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in out.iter_mut() {
            *b = self.byte().unwrap_or(0);
        }
        out
    }

    fn errno(&mut self) -> i32 {
        const COMMON: [i32; 8] = [4, 5, 9, 11, 12, 14, 22, 38];
        let pick = self.byte().unwrap_or(0);
        if !self.sane_errnos && pick >= 0xf0 {
            return i32::from_le_bytes(self.bytes());
        }
        match pick % 4 {
            0 | 1 => COMMON[usize::from(pick >> 2) % COMMON.len()],
            2 => 4095,
            _ => 1 + i32::from(u16::from_le_bytes(self.bytes())) % 4095,
        }
    }

    /// The outcome of an I/O call that could move `len` bytes.
    fn io(&mut self, len: usize) -> IoResult {
        let Some(pick) = self.byte() else {
            return IoResult::Done(len);
        };
        match pick % 8 {
            0..=3 => IoResult::Done(len),
            4 => IoResult::Done(usize::from(self.byte().unwrap_or(0)) % (len + 1)),
            5 => {
                self.pendings += 1;
                IoResult::Pending
            }
            6 => IoResult::Error(self.errno()),
            // A host that claims more than it was given: the core must clamp.
            _ => IoResult::Done(len.saturating_add(usize::from(pick))),
        }
    }
}

impl Host for ScriptedHost {
    fn write(&mut self, fd: i32, data: &[u8]) -> IoResult {
        let keep = data.len().min(1024usize.saturating_sub(self.output.len()));
        self.output.extend_from_slice(&data[..keep]);
        assert!((1..=2).contains(&fd), "host write on fd {fd}");
        self.io(data.len())
    }

    fn read(&mut self, fd: i32, buf: &mut [u8]) -> IoResult {
        assert_eq!(fd, 0, "host read on fd {fd}");
        let fill = self.byte().unwrap_or(0x5a);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = fill ^ (i as u8);
        }
        self.io(buf.len())
    }

    fn now(&mut self, _clock: Clock) -> Option<Timespec> {
        match self.byte()? % 4 {
            0 => None,
            1 => Some(Timespec {
                secs: i64::from_le_bytes(self.bytes()),
                nanos: u32::from_le_bytes(self.bytes()),
            }),
            _ => Some(Timespec {
                secs: 1_700_000_000,
                nanos: 123_456_789,
            }),
        }
    }

    fn entropy(&mut self, buf: &mut [u8]) -> bool {
        let fill = self.byte().unwrap_or(1);
        buf.fill(fill);
        !fill.is_multiple_of(4)
    }

    fn is_terminal(&mut self, _fd: i32) -> bool {
        self.byte().unwrap_or(0) & 1 == 1
    }

    fn custom_syscall(&mut self, number: u64, args: &[u64; 6], _mem: &mut Memory) -> Option<i64> {
        if hits_known_bug(number, args) {
            return Some(-22);
        }
        if number < CUSTOM_SYSCALL_BASE {
            return None;
        }
        match self.byte()? % 2 {
            0 => None,
            _ => Some(i64::from_le_bytes(self.bytes())),
        }
    }

    fn stop_requested(&mut self) -> bool {
        let stop = self.byte().unwrap_or(1) == 0;
        self.stops += u32::from(stop);
        stop
    }
}

/// Whether inputs may reach bugs reported in `core/tests/fuzz_regressions.rs`. All of
/// them are fixed, so this is on unless `FRISCY_FUZZ_KNOWN_BUGS=0` asks to steer around
/// them (useful again the next time a finding is reported before its fix lands).
pub fn known_bugs_enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("FRISCY_FUZZ_KNOWN_BUGS").is_none_or(|v| v != "0"))
}

/// Whether system call `number` with `args` would hit a reported, not yet fixed bug.
pub fn hits_known_bug(number: u64, args: &[u64; 6]) -> bool {
    if known_bugs_enabled() {
        return false;
    }
    let page_up = |v: u64| v.checked_add(PAGE_SIZE - 1).map(|v| v & !(PAGE_SIZE - 1));
    match number {
        // mremap: old_len 0 makes any address look mapped; old + new_len overflows.
        216 => {
            page_up(args[1]) == Some(0)
                || page_up(args[2]).is_some_and(|new_len| args[0].checked_add(new_len).is_none())
        }
        _ => false,
    }
}

/// An initial register value, biased toward addresses inside guest memory.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Value {
    Raw(u64),
    Small(i8),
    /// An address in the loaded image (code and data).
    Image(u16),
    /// An address in the data area.
    Data(u16),
    /// An address in the heap / mmap area.
    Heap(u32),
    /// An address at or just below the end of guest memory.
    NearEnd(u8),
    /// An address in the NULL guard page.
    Guard(u16),
    /// A page-aligned value (sizes, mmap addresses).
    Pages(u16),
    /// A size: 0..=65535.
    Size(u16),
}

impl Value {
    pub fn resolve(self) -> u64 {
        match self {
            Value::Raw(v) => v,
            Value::Small(v) => v as i64 as u64,
            Value::Image(o) => CODE_BASE + u64::from(o) % (IMAGE_END - CODE_BASE),
            Value::Data(o) => DATA_BASE + u64::from(o) % DATA_SIZE,
            Value::Heap(o) => IMAGE_END + u64::from(o) % (MEMORY_SIZE - IMAGE_END),
            Value::NearEnd(o) => MEMORY_SIZE - u64::from(o),
            Value::Guard(o) => u64::from(o) % GUARD_SIZE,
            Value::Pages(n) => u64::from(n) * PAGE_SIZE,
            Value::Size(n) => u64::from(n),
        }
    }
}

/// Run `machine` until `budget` instructions have retired in total or it stops for good,
/// resuming after `Pending`/`HostStop` (at most `max_resumes` times) and splitting the
/// budget into the given pieces (0 = the rest). Returns the last stop.
pub fn drive(
    machine: &mut Machine,
    host: &mut ScriptedHost,
    budget: u64,
    pieces: &[u16],
    max_resumes: u32,
) -> StopReason {
    let start = machine.instructions();
    let mut pieces = pieces.iter();
    let mut resumes = 0;
    loop {
        let used = machine.instructions() - start;
        assert!(used <= budget, "retired {used} > budget {budget}");
        let left = budget - used;
        let piece = match pieces.next() {
            Some(&p) if p != 0 => u64::from(p).min(left),
            _ => left,
        };
        let before = machine.instructions();
        let stop = machine.run(host, piece);
        let ran = machine.instructions() - before;
        assert!(ran <= piece, "run({piece}) retired {ran}: {stop:?}");
        check_stop(machine, &stop, piece, ran);
        match stop {
            StopReason::BudgetSpent if machine.instructions() - start < budget => {}
            StopReason::Pending { .. } | StopReason::HostStop | StopReason::Paused
                if resumes < max_resumes =>
            {
                resumes += 1;
                if machine.instructions() - start >= budget {
                    return stop;
                }
            }
            _ => return stop,
        }
    }
}

/// The 16- or 32-bit instruction at `pc`, as the hart would fetch it.
pub fn instruction_at(mem: &Memory, pc: u64) -> Option<u32> {
    let low = mem.read_u16(pc).ok()?;
    if isa::instruction_length(low) == 2 {
        Some(u32::from(low))
    } else {
        Some(u32::from(low) | u32::from(mem.read_u16(pc.wrapping_add(2)).ok()?) << 16)
    }
}

/// What must hold after `run(budget)` returned `stop` having retired `ran` instructions.
pub fn check_stop(machine: &Machine, stop: &StopReason, budget: u64, ran: u64) {
    let cpu = &machine.cpu;
    let size = machine.mem.size();
    assert_eq!(cpu.x[0], 0, "x0 was written: {stop:?}");
    assert!(
        cpu.x[33..].iter().all(|&v| v == 0),
        "register padding was written: {stop:?}"
    );
    assert!(cpu.fflags < 32 && cpu.frm < 8, "fflags/frm out of range");
    match *stop {
        StopReason::BudgetSpent => {
            assert_eq!(ran, budget, "BudgetSpent after {ran} of {budget}")
        }
        StopReason::Exited { status } => {
            assert!((0..=255).contains(&status), "exit status {status}");
            assert!(machine.termination().is_some());
        }
        StopReason::Signaled { signal } => {
            assert!((1..=64).contains(&signal), "signal {signal}");
            assert!(machine.termination().is_some());
        }
        StopReason::Pending { fd } => {
            assert!((0..=2).contains(&fd), "pending on fd {fd}");
            assert_eq!(
                instruction_at(&machine.mem, cpu.pc),
                Some(0x73),
                "Pending must leave pc at the ecall"
            );
        }
        StopReason::HostStop | StopReason::Paused => {}
        StopReason::Returned { .. } => panic!("Returned without a guest call"),
        StopReason::Fault { pc, addr, access } => {
            assert_eq!(pc, cpu.pc, "fault pc");
            match access {
                Access::Fetch => assert!(
                    addr == pc || addr == pc.wrapping_add(2),
                    "fetch fault at {addr:#x} for pc {pc:#x}"
                ),
                Access::Load | Access::Store => assert!(
                    addr < GUARD_SIZE || addr.saturating_add(8) > size,
                    "{access:?} fault at mapped address {addr:#x}"
                ),
                Access::Misaligned => {
                    assert!(addr % 8 != 0, "misaligned fault at aligned {addr:#x}")
                }
            }
        }
        StopReason::IllegalInstruction { pc, bits } => {
            assert_eq!(pc, cpu.pc, "illegal-instruction pc");
            let insn = isa::decode(bits);
            let csr = matches!(
                insn.op,
                Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci
            );
            let bad_dynamic_rounding = insn.rm == 7 && cpu.frm >= 5;
            assert!(
                insn.op == Op::Illegal || csr || bad_dynamic_rounding,
                "IllegalInstruction for {bits:#010x} = {:?} (frm {})",
                insn,
                cpu.frm
            );
            if bits & 3 != 3 {
                assert!(bits <= 0xffff, "compressed bits {bits:#x}");
            }
        }
        StopReason::Breakpoint { pc } => {
            assert_eq!(pc, cpu.pc, "breakpoint pc");
            let bits = instruction_at(&machine.mem, pc).expect("ebreak is readable");
            if isa::decode(bits).op != Op::Ebreak {
                // The guest stored over an ebreak it had already executed into the code
                // cache, without fence.i: RISC-V lets a hart run the old instruction then.
                // A fresh copy of the machine (empty code cache) must run what memory holds.
                let mut fresh = machine.fork().expect("fuzz machines have no host layers");
                let stop = fresh.run(&mut NullHost, 1);
                assert!(
                    !matches!(stop, StopReason::Breakpoint { .. }),
                    "Breakpoint at {bits:#x}, also without stale code"
                );
            }
        }
    }
    if !matches!(stop, StopReason::Fault { .. }) {
        assert_eq!(cpu.pc & 1, 0, "odd pc {:#x}: {stop:?}", cpu.pc);
    }
    check_process(machine);
}

/// Page-rounded end of the heap.
pub fn heap_end(machine: &Machine) -> u64 {
    (machine.process.brk + PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// Lowest address of the stack area.
pub fn stack_limit(machine: &Machine) -> u64 {
    let p = &machine.process;
    p.stack_top - p.config.stack_size.min(machine.mem.size() / 4)
}

/// Address-space bookkeeping: mappings sorted, disjoint, page-aligned, inside the mmap
/// area and clear of the image, heap and stack; the break within its limits.
pub fn check_process(machine: &Machine) {
    let p = &machine.process;
    assert!(
        p.brk >= p.brk_start,
        "brk {:#x} below its start {:#x}",
        p.brk,
        p.brk_start
    );
    assert!(
        heap_end(machine) <= p.mmap_max,
        "heap end {:#x} reaches the stack gap ({:#x})",
        heap_end(machine),
        p.mmap_max
    );
    assert!(p.mmap_max < stack_limit(machine));
    let regions: Vec<Region> = p.maps.iter().copied().collect();
    let mut previous_end = 0;
    for r in &regions {
        assert!(r.start < r.end, "empty region {r:?}");
        assert!(
            r.start % PAGE_SIZE == 0 && r.end % PAGE_SIZE == 0,
            "unaligned region {r:?}"
        );
        assert!(
            r.start >= previous_end,
            "regions overlap or are unsorted: {regions:x?}"
        );
        previous_end = r.end;
        assert!(
            r.start >= p.brk_start && r.end <= p.mmap_max,
            "region {r:x?} outside the mmap area {:#x}..{:#x}",
            p.brk_start,
            p.mmap_max
        );
        assert!(
            r.end <= p.brk_start || r.start >= heap_end(machine),
            "region {r:x?} overlaps the heap {:#x}..{:#x}",
            p.brk_start,
            heap_end(machine)
        );
    }
}
