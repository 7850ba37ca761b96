//! Fuzz target: chains of memory-management and I/O system calls keep the address-space bookkeeping sound.
//!
//! Each step is one of read/write/mmap/munmap/mremap/brk/mprotect/madvise/getrandom/
//! clock_gettime made through `ecall`, or a guest store into memory it owns. After every
//! step: mappings never overlap each other, the image, the heap or the stack; the break
//! only moves to what was asked, within its limits; memory that mmap, mremap or brk hands
//! out reads as zero; mremap keeps the contents it moves; results are success or -errno.
#![no_main]

use arbitrary::Arbitrary;
use friscy_core::mem::PAGE_SIZE;
use friscy_core::{Machine, StopReason};
use friscy_fuzz::{
    check_process, heap_end, known_bugs_enabled, machine_with_code, recycle, stack_limit,
    ScriptedHost, CODE_BASE, DATA_BASE, DATA_SIZE, MEMORY_SIZE,
};
use libfuzzer_sys::fuzz_target;

/// `ecall`
const CODE: [u8; 4] = [0x73, 0, 0, 0];

const READ: u64 = 63;
const WRITE: u64 = 64;
const CLOCK_GETTIME: u64 = 113;
const BRK: u64 = 214;
const MUNMAP: u64 = 215;
const MREMAP: u64 = 216;
const MMAP: u64 = 222;
const MPROTECT: u64 = 226;
const MADVISE: u64 = 233;
const GETRANDOM: u64 = 278;

/// An address chosen relative to the current address space.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Target {
    /// A page inside the `index`-th mapping (modulo the count).
    Region {
        index: u8,
        page: u16,
    },
    /// A byte inside the `index`-th mapping.
    RegionByte {
        index: u8,
        offset: u32,
    },
    /// Just past the end of the `index`-th mapping.
    RegionEnd {
        index: u8,
    },
    Heap(u32),
    Data(u16),
    Pages(u16),
    Raw(u64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Length {
    Pages(u8),
    Bytes(u32),
    Raw(u64),
}

impl Length {
    fn get(self) -> u64 {
        match self {
            Length::Pages(n) => u64::from(n) * PAGE_SIZE,
            Length::Bytes(n) => u64::from(n) % (2 * MEMORY_SIZE),
            Length::Raw(v) => v,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Call {
    Read {
        buf: Target,
        len: u16,
    },
    Write {
        fd: u8,
        buf: Target,
        len: u16,
    },
    Mmap {
        addr: Option<Target>,
        len: Length,
        prot: u8,
        flags: u8,
        raw_flags: Option<u64>,
    },
    Munmap {
        addr: Target,
        len: Length,
    },
    Mremap {
        addr: Target,
        old_len: Length,
        new_len: Length,
        flags: u8,
    },
    Brk {
        to: Option<Target>,
    },
    Mprotect {
        addr: Target,
        len: Length,
        prot: u8,
    },
    Madvise {
        addr: Target,
        len: Length,
        advice: u8,
    },
    Getrandom {
        buf: Target,
        len: u16,
        flags: u8,
    },
    ClockGettime {
        clock: u8,
        buf: Target,
    },
    /// The guest stores `byte` over memory it owns (a mapping, the heap or the data area).
    Touch {
        at: Target,
        len: u16,
        byte: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    deterministic: bool,
    host_script: Vec<u8>,
    calls: Vec<Call>,
}

fn resolve(machine: &Machine, target: Target) -> u64 {
    let regions: Vec<_> = machine.process.maps.iter().copied().collect();
    let pick = |index: u8| {
        regions
            .get(usize::from(index) % regions.len().max(1))
            .copied()
    };
    match target {
        Target::Region { index, page } => pick(index).map_or(0, |r| {
            r.start + u64::from(page) % ((r.end - r.start) / PAGE_SIZE) * PAGE_SIZE
        }),
        Target::RegionByte { index, offset } => {
            pick(index).map_or(0, |r| r.start + u64::from(offset) % (r.end - r.start))
        }
        Target::RegionEnd { index } => pick(index).map_or(0, |r| r.end),
        Target::Heap(offset) => machine.process.brk_start + u64::from(offset) % (MEMORY_SIZE / 2),
        Target::Data(offset) => DATA_BASE + u64::from(offset) % DATA_SIZE,
        Target::Pages(n) => u64::from(n) * PAGE_SIZE,
        Target::Raw(v) => v,
    }
}

/// Whether a well-behaved guest may store to `addr..addr+len`.
fn owned(machine: &Machine, addr: u64, len: u64) -> bool {
    let Some(end) = addr.checked_add(len) else {
        return false;
    };
    let p = &machine.process;
    (addr >= DATA_BASE && end <= DATA_BASE + DATA_SIZE)
        || (addr >= p.brk_start && end <= p.brk)
        || p.maps.covers(addr, len)
        || (addr >= stack_limit(machine) && end <= p.stack_top)
}

/// Ranges the guest asked the kernel to write although it does not own them. The core
/// has no page protection, so such writes land in unmapped memory instead of failing
/// with EFAULT, and that memory is no longer zero when mmap or brk hand it out later.
/// That is a known consequence of the design (see fuzz/README.md), not checked here.
#[derive(Default)]
struct Dirty(Vec<(u64, u64)>);

impl Dirty {
    fn note(&mut self, machine: &Machine, addr: u64, len: u64) {
        if len != 0 && !owned(machine, addr, len) {
            self.0.push((addr, addr.saturating_add(len)));
        }
    }

    fn touches(&self, addr: u64, len: u64) -> bool {
        let end = addr.saturating_add(len);
        self.0.iter().any(|&(s, e)| s < end && addr < e)
    }
}

/// Whether `addr..addr+len` reads as zero, or was written by a wild system call.
fn is_zero(machine: &Machine, dirty: &Dirty, addr: u64, len: u64) -> bool {
    dirty.touches(addr, len)
        || machine
            .mem
            .slice(addr, len)
            .is_ok_and(|s| s.iter().all(|&b| b == 0))
}

/// Make one system call through `ecall`; `None` if it stayed pending.
fn syscall(
    machine: &mut Machine,
    host: &mut ScriptedHost,
    number: u64,
    args: [u64; 6],
) -> Option<i64> {
    machine.cpu.x[17] = number;
    machine.cpu.x[10..16].copy_from_slice(&args);
    // A write the guest did not own (see `Dirty`) may have landed on the `ecall` this target
    // runs, as the core allows: put it back, as a program would reload its code.
    let intact = machine
        .mem
        .slice(CODE_BASE, 4)
        .is_ok_and(|code| code == CODE);
    if !intact {
        machine.mem.write_bytes(CODE_BASE, &CODE).unwrap();
        machine.cache.invalidate(CODE_BASE, 4);
    }
    for _ in 0..3 {
        machine.cpu.pc = CODE_BASE;
        let stop = machine.run(host, 1);
        check_process(machine);
        match stop {
            StopReason::BudgetSpent | StopReason::HostStop => {
                assert_eq!(machine.cpu.pc, CODE_BASE + 4);
                let result = machine.cpu.x[10] as i64;
                assert!(
                    result >= -4095,
                    "syscall {number} {args:x?} returned {result}"
                );
                return Some(result);
            }
            StopReason::Pending { fd } => {
                assert!((0..=2).contains(&fd));
                assert_eq!(machine.cpu.pc, CODE_BASE);
            }
            other => panic!("syscall {number} {args:x?} stopped with {other:?}"),
        }
    }
    None
}

/// Whether a `len`-byte gap exists among the mappings inside `floor..ceiling`.
fn has_gap(machine: &Machine, floor: u64, ceiling: u64, len: u64) -> bool {
    let mut at = floor;
    for r in machine.process.maps.iter() {
        if r.end <= at {
            continue;
        }
        if r.start.min(ceiling).saturating_sub(at) >= len {
            return true;
        }
        at = r.end;
    }
    ceiling.saturating_sub(at) >= len
}

/// Lowest address mmap may use now: above the image and the current heap.
fn mmap_floor(machine: &Machine) -> u64 {
    machine.process.mmap_min.max(heap_end(machine))
}

fn page_up(v: u64) -> u64 {
    v.saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

fn step(machine: &mut Machine, host: &mut ScriptedHost, dirty: &mut Dirty, call: Call) {
    let brk_before = machine.process.brk;
    match call {
        Call::Read { buf, len } => {
            let buf = resolve(machine, buf);
            dirty.note(machine, buf, u64::from(len));
            if let Some(n) = syscall(machine, host, READ, [0, buf, u64::from(len), 0, 0, 0]) {
                assert!(n < 0 || n as u64 <= u64::from(len), "read {n} of {len}");
            }
        }
        Call::Write { fd, buf, len } => {
            let buf = resolve(machine, buf);
            let fd = u64::from(fd % 4);
            if let Some(n) = syscall(machine, host, WRITE, [fd, buf, u64::from(len), 0, 0, 0]) {
                assert!(n < 0 || n as u64 <= u64::from(len), "wrote {n} of {len}");
            }
        }
        Call::Mmap {
            addr,
            len,
            prot,
            flags,
            raw_flags,
        } => {
            let addr = addr.map_or(0, |t| resolve(machine, t));
            let len = len.get();
            // MAP_PRIVATE|MAP_ANONYMOUS, plus MAP_FIXED or MAP_FIXED_NOREPLACE sometimes.
            let flags = raw_flags.unwrap_or(match flags % 4 {
                0 | 1 => 0x22,
                2 => 0x32,
                _ => 0x100022,
            });
            // When Linux would certainly succeed (given the same address-space limits).
            let (floor, ceiling) = (mmap_floor(machine), machine.process.mmap_max);
            let pages = page_up(len);
            let must_succeed = len != 0
                && len < MEMORY_SIZE
                && match flags {
                    // An unaligned hint: a reported bug (EINVAL), see fuzz_regressions.rs.
                    0x22 => {
                        (addr % PAGE_SIZE == 0 || known_bugs_enabled())
                            && has_gap(machine, floor, ceiling, pages)
                    }
                    0x32 => addr % PAGE_SIZE == 0 && addr >= floor && addr + pages <= ceiling,
                    _ => false,
                };
            let Some(r) = syscall(
                machine,
                host,
                MMAP,
                [addr, len, u64::from(prot % 8), flags, u64::MAX, 0],
            ) else {
                return;
            };
            assert!(
                r >= 0 || !must_succeed,
                "mmap({addr:#x}, {len:#x}, flags {flags:#x}) failed with {r} though it fits"
            );
            if r >= 0 {
                let r = r as u64;
                assert_eq!(r % PAGE_SIZE, 0, "mmap gave unaligned {r:#x}");
                assert!(
                    machine.process.maps.covers(r, pages),
                    "mmap {r:#x}+{pages:#x} not recorded"
                );
                assert!(
                    is_zero(machine, dirty, r, pages),
                    "mmap {r:#x}+{pages:#x} is not zeroed"
                );
                if flags & 0x100010 != 0 {
                    assert_eq!(r, addr, "fixed mmap moved");
                }
            }
        }
        Call::Munmap { addr, len } => {
            let addr = resolve(machine, addr);
            let len = len.get();
            let result = syscall(machine, host, MUNMAP, [addr, len, 0, 0, 0, 0]);
            let valid = addr.is_multiple_of(PAGE_SIZE)
                && len != 0
                && addr.checked_add(page_up(len)).is_some()
                && len < u64::MAX - PAGE_SIZE;
            if valid && addr + page_up(len) <= MEMORY_SIZE {
                // Linux unmaps whatever is there (possibly nothing) and answers 0.
                assert!(
                    matches!(result, Some(0) | None),
                    "munmap({addr:#x}, {len:#x}) = {result:?}"
                );
            }
            if let Some(0) = result {
                assert!(
                    !machine.process.maps.overlaps(addr, page_up(len)),
                    "munmap {addr:#x}+{len:#x} left a mapping"
                );
            }
        }
        Call::Mremap {
            addr,
            old_len,
            new_len,
            flags,
        } => {
            let addr = resolve(machine, addr);
            let (old_len, new_len) = (old_len.get(), new_len.get());
            let keep = page_up(old_len).min(page_up(new_len)).min(MEMORY_SIZE);
            let before = machine.mem.slice(addr, keep).map(<[u8]>::to_vec).ok();
            let args = [addr, old_len, new_len, u64::from(flags % 4), 0, 0];
            // Shrinking (or keeping the size of) a mapped range always works on Linux.
            let must_succeed = addr.is_multiple_of(PAGE_SIZE)
                && old_len != 0
                && new_len != 0
                && flags & 2 == 0
                // The same size: a reported bug (EINVAL), see fuzz_regressions.rs.
                && (page_up(new_len) < page_up(old_len)
                    || (page_up(new_len) == page_up(old_len) && known_bugs_enabled()))
                && page_up(old_len) < MEMORY_SIZE
                && machine.process.maps.covers(addr, page_up(old_len));
            let Some(r) = syscall(machine, host, MREMAP, args) else {
                return;
            };
            assert!(
                !must_succeed || r == addr as i64,
                "mremap({addr:#x}, {old_len:#x}, {new_len:#x}, {}) = {r}, expected {addr:#x}",
                flags % 4
            );
            if r >= 0 {
                let r = r as u64;
                let pages = page_up(new_len);
                assert_eq!(r % PAGE_SIZE, 0);
                assert!(
                    machine.process.maps.covers(r, pages),
                    "mremap result {r:#x}+{pages:#x} not recorded"
                );
                let before = before.expect("a remapped range was inside memory");
                assert!(
                    machine.mem.slice(r, keep).expect("remapped range") == &before[..],
                    "mremap {addr:#x} -> {r:#x} lost contents"
                );
                assert!(
                    is_zero(machine, dirty, r + keep, pages - keep),
                    "mremap {addr:#x} -> {r:#x}: grown part not zeroed"
                );
            }
        }
        Call::Brk { to } => {
            let want = to.map_or(0, |t| resolve(machine, t));
            let old_end = heap_end(machine);
            let p = &machine.process;
            let fits = want >= p.brk_start
                && page_up(want) <= p.mmap_max
                && (page_up(want) <= old_end || !p.maps.overlaps(old_end, page_up(want) - old_end));
            let Some(r) = syscall(machine, host, BRK, [want, 0, 0, 0, 0, 0]) else {
                return;
            };
            let r = r as u64;
            assert_eq!(r, machine.process.brk, "brk result vs state");
            assert!(!fits || r == want, "brk({want:#x}) refused though it fits");
            assert!(
                r == brk_before || r == want,
                "brk({want:#x}) moved {brk_before:#x} to {r:#x}"
            );
            if r > brk_before {
                assert!(
                    is_zero(machine, dirty, brk_before, r - brk_before),
                    "new heap {brk_before:#x}..{r:#x} not zeroed"
                );
                assert!(
                    !machine
                        .process
                        .maps
                        .overlaps(old_end, heap_end(machine).saturating_sub(old_end)),
                    "heap grew over a mapping"
                );
            }
        }
        Call::Mprotect { addr, len, prot } => {
            let addr = resolve(machine, addr);
            syscall(
                machine,
                host,
                MPROTECT,
                [addr, len.get(), u64::from(prot % 8), 0, 0, 0],
            );
        }
        Call::Madvise { addr, len, advice } => {
            let addr = resolve(machine, addr);
            let len = len.get();
            let advice = u64::from(advice % 12);
            let Some(r) = syscall(machine, host, MADVISE, [addr, len, advice, 0, 0, 0]) else {
                return;
            };
            if r == 0 && advice == 4 && machine.process.maps.covers(addr, page_up(len)) {
                assert!(
                    is_zero(machine, dirty, addr, page_up(len)),
                    "MADV_DONTNEED left data"
                );
            }
        }
        Call::Getrandom { buf, len, flags } => {
            let buf = resolve(machine, buf);
            dirty.note(machine, buf, u64::from(len));
            let args = [buf, u64::from(len), u64::from(flags % 8), 0, 0, 0];
            if let Some(n) = syscall(machine, host, GETRANDOM, args) {
                assert!(
                    n < 0 || n as u64 == u64::from(len),
                    "getrandom {n} of {len}"
                );
            }
        }
        Call::ClockGettime { clock, buf } => {
            let buf = resolve(machine, buf);
            dirty.note(machine, buf, 16);
            syscall(
                machine,
                host,
                CLOCK_GETTIME,
                [u64::from(clock % 16), buf, 0, 0, 0, 0],
            );
        }
        Call::Touch { at, len, byte } => {
            let addr = resolve(machine, at);
            let len = u64::from(len);
            if owned(machine, addr, len) {
                let bytes = vec![byte | 1; len as usize];
                machine
                    .mem
                    .write_bytes(addr, &bytes)
                    .expect("owned memory is writable");
            }
        }
    }
    if !matches!(call, Call::Brk { .. }) {
        assert_eq!(machine.process.brk, brk_before, "{call:?} moved the break");
    }
}

fuzz_target!(|input: Input| {
    let mut machine = machine_with_code(&CODE, input.deterministic);
    let mut host = ScriptedHost::new(&input.host_script);
    let mut dirty = Dirty::default();
    for &call in input.calls.iter().take(64) {
        step(&mut machine, &mut host, &mut dirty, call);
    }
    recycle(machine);
});
