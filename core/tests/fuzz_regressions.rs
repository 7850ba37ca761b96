//! Minimal reproductions of crashes and invariant violations the fuzz targets (fuzz/) found in code owned elsewhere.
//!
//! Each test reproduces one fuzz finding and guards its fix.

use friscy_core::{Machine, StopReason};

mod common;
use common::{machine_with_code, syscall, CODE_BASE};

const EINVAL: i64 = -22;
const ENOMEM: i64 = -12;

const MMAP: u64 = 222;
const MREMAP: u64 = 216;
const PROT_RW: u64 = 3;
const MAP_PRIVATE_ANONYMOUS: u64 = 0x22;

/// The machine the fuzz targets use: 1 MiB, deterministic, `ecall` at 0x10000.
fn fuzz_machine() -> Machine {
    machine_with_code(&[0x73, 0, 0, 0])
}

/// Every mapping must stay inside the mmap area, above the image and heap.
fn assert_mappings_in_mmap_area(machine: &Machine) {
    let p = &machine.process;
    for r in p.maps.iter() {
        assert!(
            r.start >= p.mmap_min && r.start < r.end && r.end <= p.mmap_max,
            "mapping {r:x?} outside the mmap area {:#x}..{:#x}",
            p.mmap_min,
            p.mmap_max
        );
    }
}

/// fuzz target `syscall_sequence`: `mremap(0, 0, 36 pages, 0)` succeeds and records a
/// mapping 0x0..0x24000 over the NULL page and the program image.
///
/// Root cause (core/src/linux/mod.rs, `Sys::mremap`): `old_len` = 0 is accepted and
/// `Regions::covers(old, 0)` is vacuously true, so any page-aligned `old` "is mapped";
/// the in-place growth then inserts `old..old + new_len` without checking it lies in
/// the mmap area. Linux answers EINVAL for `old_len` = 0 on private mappings (and
/// EFAULT when `old` is not inside a mapping). Fix: reject `old_len == 0` with EINVAL
/// and require `old >= mmap_min` (or `prot_at(old).is_some()`) before growing.
#[test]
fn mremap_with_zero_old_length_is_rejected() {
    let mut machine = fuzz_machine();
    let result = syscall(&mut machine, MREMAP, [0, 0, 36 * 0x1000, 0, 0, 0]);
    assert_eq!(result, EINVAL);
    assert_mappings_in_mmap_area(&machine);
    let result = syscall(&mut machine, MREMAP, [CODE_BASE, 0, 0x1000, 0, 0, 0]);
    assert_eq!(result, EINVAL);
    assert_mappings_in_mmap_area(&machine);
}

/// fuzz target `syscall`: `mremap(0xff9f00f70e000000, 0, 0x1fff9ffffffffff, ..)`
/// panics with "attempt to add with overflow" at `old + new_len` in `Sys::mremap`.
///
/// Same entry as above (`old_len` = 0 makes any `old` look mapped), then the unchecked
/// `old + new_len`. Fix: as above, plus `old.checked_add(new_len)` (ENOMEM on overflow).
#[test]
fn mremap_of_unmapped_high_address_does_not_overflow() {
    let mut machine = fuzz_machine();
    let args = [0xff9f_00f7_0e00_0000, 0, 0x01ff_f9ff_ffff_ffff, 0, 0, 0];
    let result = syscall(&mut machine, MREMAP, args);
    assert!(result == EINVAL || result == -14, "{result}");
    assert_mappings_in_mmap_area(&machine);
}

/// Found while triaging the above: growing a real mapping by a length near 2^64 overflows
/// `old + new_len` in `Sys::mremap` (a debug-build panic; in release the sum wraps, passes
/// the `<= mmap_max` test, and `Regions::insert` records a region whose end is below its
/// start). Fix: `old.checked_add(new_len)` and answer ENOMEM when it overflows.
#[test]
fn mremap_to_huge_length_fails_cleanly() {
    let mut machine = fuzz_machine();
    let args = [0, 0x1000, PROT_RW, MAP_PRIVATE_ANONYMOUS, u64::MAX, 0];
    let addr = syscall(&mut machine, MMAP, args) as u64;
    assert_eq!(addr % 0x1000, 0, "mmap failed: {}", addr as i64);
    let result = syscall(
        &mut machine,
        MREMAP,
        [addr, 0x1000, 0xffff_ffff_ffff_f000, 0, 0, 0],
    );
    assert_eq!(result, ENOMEM);
    assert_mappings_in_mmap_area(&machine);
}

/// A host whose console calls all fail with one fixed, possibly bogus, errno.
struct FailingHost(i32);

impl friscy_core::Host for FailingHost {
    fn write(&mut self, _fd: i32, _data: &[u8]) -> friscy_core::IoResult {
        friscy_core::IoResult::Error(self.0)
    }
    fn read(&mut self, _fd: i32, _buf: &mut [u8]) -> friscy_core::IoResult {
        friscy_core::IoResult::Error(self.0)
    }
}

/// fuzz target `syscall` (host errnos unrestricted): a host answering
/// `IoResult::Error(e)` with `e` outside 1..=4095 puts `-e` in a0 unchanged. With
/// `e = -100`, `read(0, buf, 10)` "returns" 100 — more bytes than the buffer holds, which
/// libc trusts; with `e = 0` a failed write reads as "0 bytes written"; with `e = 5000`
/// a0 is below -4095, which no errno can be.
///
/// Root cause (core/src/linux/mod.rs, `Sys::read`/`Sys::write`: `IoResult::Error(e) =>
/// err(e)`): host errnos are passed through unchecked. Fix: map an errno outside
/// 1..=4095 to EIO before negating it (one place: `err` or the `Stop::Errno` conversion).
#[test]
fn bogus_host_errnos_become_eio() {
    const WRITE: u64 = 64;
    const READ: u64 = 63;
    const EIO: i64 = -5;
    for bogus in [-100, 0, 5000, i32::MIN] {
        let mut machine = fuzz_machine();
        let buf = 0x1_8000;
        for (number, fd) in [(READ, 0), (WRITE, 1)] {
            machine.cpu.pc = CODE_BASE;
            machine.cpu.x[17] = number;
            machine.cpu.x[10..16].copy_from_slice(&[fd, buf, 10, 0, 0, 0]);
            let stop = machine.run(&mut FailingHost(bogus), 1);
            assert_eq!(stop, StopReason::BudgetSpent);
            let result = machine.cpu.x[10] as i64;
            assert_eq!(result, EIO, "syscall {number} with host errno {bogus}");
        }
    }
}

/// fuzz target `syscall_sequence`: `mmap(0x1cf83, 0x77272, PROT_READ|PROT_WRITE,
/// MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)` fails with EINVAL although the range fits.
///
/// Root cause (core/src/linux/mod.rs, `Sys::mmap`: `if len == 0 || addr % PAGE_SIZE != 0
/// { return err(EINVAL) }`): without MAP_FIXED the address is only a hint, which Linux
/// rounds up to a page (`arch_get_unmapped_area_topdown`: `addr = PAGE_ALIGN(addr)`) or
/// ignores; only MAP_FIXED/MAP_FIXED_NOREPLACE need an aligned address. Fix: check the
/// alignment only for the fixed flags, and round a hint up with `page_up`.
#[test]
fn mmap_accepts_an_unaligned_hint() {
    let mut machine = fuzz_machine();
    let args = [
        0x1_cf83,
        0x7_7272,
        PROT_RW,
        MAP_PRIVATE_ANONYMOUS,
        u64::MAX,
        0,
    ];
    let addr = syscall(&mut machine, MMAP, args);
    assert!(addr > 0 && addr % 0x1000 == 0, "mmap failed: {addr}");
    assert_mappings_in_mmap_area(&machine);
    // With MAP_FIXED the same address stays an error.
    let fixed = [
        0x2_0f83,
        0x1000,
        PROT_RW,
        MAP_PRIVATE_ANONYMOUS | 0x10,
        u64::MAX,
        0,
    ];
    assert_eq!(syscall(&mut machine, MMAP, fixed), EINVAL);
}

/// fuzz target `syscall_sequence`: `mremap(a, 0x4d000, 0x4d000, MREMAP_MAYMOVE)` of a
/// mapping `a` fails with EINVAL; Linux returns `a` (a same-size mremap is a no-op).
///
/// Root cause (core/src/linux/mod.rs, `Sys::mremap`): for `new_len <= old_len` it calls
/// `self.munmap(old + new_len, old_len - new_len)`, and `munmap` rejects a zero length
/// with EINVAL. Fix: only unmap when `new_len < old_len`.
#[test]
fn mremap_to_the_same_size_returns_the_address() {
    let mut machine = fuzz_machine();
    let args = [0, 0x4_d000, PROT_RW, MAP_PRIVATE_ANONYMOUS, u64::MAX, 0];
    let addr = syscall(&mut machine, MMAP, args);
    assert!(addr > 0, "mmap failed: {addr}");
    let addr = addr as u64;
    for flags in [0, 1] {
        let result = syscall(
            &mut machine,
            MREMAP,
            [addr, 0x4_d000, 0x4_d000, flags, 0, 0],
        );
        assert_eq!(result, addr as i64, "flags {flags}");
        // Lengths that round to the same number of pages, too.
        let result = syscall(
            &mut machine,
            MREMAP,
            [addr, 0x4_cfff, 0x4_c001, flags, 0, 0],
        );
        assert_eq!(result, addr as i64, "flags {flags}, unrounded lengths");
    }
}

/// fuzz target `syscall`: `nanosleep` in deterministic mode added the sleep to the retired
/// instruction count (a one-instruction run reported ~1.8e18 instructions). Virtual time
/// now advances a separate clock: the count stays exact and the clock still moves.
#[test]
fn deterministic_sleep_keeps_instruction_counts_exact() {
    const NANOSLEEP: u64 = 101;
    const CLOCK_GETTIME: u64 = 113;
    let mut machine = fuzz_machine();
    let ts = 0x1_8000;
    machine.mem.write_u64(ts, 5).unwrap();
    machine.mem.write_u64(ts + 8, 0).unwrap();
    assert_eq!(syscall(&mut machine, NANOSLEEP, [ts, 0, 0, 0, 0, 0]), 0);
    assert_eq!(machine.cpu.instret, 1);
    let mut machine2 = fuzz_machine();
    assert_eq!(
        syscall(&mut machine2, CLOCK_GETTIME, [1, ts, 0, 0, 0, 0]),
        0
    );
    let before = machine2.mem.read_u64(ts).unwrap();
    machine2.mem.write_u64(ts + 0x100, 5).unwrap();
    machine2.mem.write_u64(ts + 0x108, 0).unwrap();
    assert_eq!(
        syscall(&mut machine2, NANOSLEEP, [ts + 0x100, 0, 0, 0, 0, 0]),
        0
    );
    assert_eq!(
        syscall(&mut machine2, CLOCK_GETTIME, [1, ts, 0, 0, 0, 0]),
        0
    );
    assert!(
        machine2.mem.read_u64(ts).unwrap() >= before + 5,
        "the virtual clock moves by the sleep"
    );
}

/// fuzz target `execute`: `rt_sigsuspend` with every signal blocked, in the only process,
/// made `run` loop for ever without retiring an instruction.
///
/// Root cause (core/src/machine.rs, `Machine::run`): the deadlock breaker marks the
/// blocked thread `never_block` so that its next attempt fails instead of blocking, but
/// the run loop cleared the mark right after the system-call layer returned — before
/// process-level calls (`rt_sigsuspend`, `wait4`) that read it ran. Fix: those calls see
/// the mark of their own attempt; nothing can wake the sleeper, so it gets EINTR.
#[test]
fn sigsuspend_that_nothing_can_end_returns_eintr() {
    const RT_SIGSUSPEND: u64 = 133;
    const EINTR: i64 = -4;
    let mut machine = fuzz_machine();
    let mask_at = CODE_BASE + 0x800;
    machine.mem.write_u64(mask_at, u64::MAX).unwrap();
    let result = syscall(&mut machine, RT_SIGSUSPEND, [mask_at, 8, 0, 0, 0, 0]);
    assert_eq!(result, EINTR);
    assert_eq!(
        machine.process.thread.sigmask, 0,
        "the caller's mask is back"
    );
}

/// fuzz target `gdb`: a `vCont;C<sig>` resume with signal 0xff panicked ("index out of bounds:
/// the len is 65 but the index is 255").
///
/// Root cause (core/src/machine.rs, `Machine::send_signal`, reached from the gdb stub's
/// resume-with-signal): the public call indexed the process's 65 signal actions with any
/// number it was given. It now refuses numbers above 64.
#[test]
fn send_signal_refuses_numbers_beyond_64() {
    let mut machine = fuzz_machine();
    let pid = machine.process.pid;
    for signal in [65, 255, u32::MAX] {
        assert!(!machine.send_signal(pid, signal), "signal {signal}");
    }
    assert!(machine.termination().is_none());
    // Signal 0 still only probes for the process.
    assert!(machine.send_signal(pid, 0));
    assert!(machine.termination().is_none());
}

/// fuzz target `elf`: "BudgetSpent after 4880 of 5000" for an ELF that forks and waits.
///
/// Root cause (fuzz/src/lib.rs `drive`, and the C API's `friscy_machine_instructions` and
/// run loop): they counted with `cpu.instret`, which is the running process's own count
/// and changes when another process gets the hart; `Machine::run`'s budget was exact all
/// along. `Machine::instructions` now counts for the whole machine, and both use it.
#[test]
fn instruction_count_spans_processes() {
    const FORK_AND_WAIT: &[u8] = &[
        0x93, 0x08, 0xc0, 0x0d, // li a7, 220 (clone)
        0x13, 0x05, 0x10, 0x01, // li a0, SIGCHLD
        0x93, 0x05, 0x00, 0x00, // li a1, 0
        0x73, 0x00, 0x00, 0x00, // ecall
        0x63, 0x14, 0x05, 0x00, // bnez a0, parent
        0x6f, 0x00, 0x00, 0x00, // child: j child
        0x93, 0x08, 0x40, 0x10, // parent: li a7, 260 (wait4)
        0x13, 0x05, 0xf0, 0xff, // li a0, -1
        0x93, 0x05, 0x00, 0x00, // li a1, 0
        0x13, 0x06, 0x00, 0x00, // li a2, 0
        0x93, 0x06, 0x00, 0x00, // li a3, 0
        0x73, 0x00, 0x00, 0x00, // ecall (blocks: the child gets the hart)
        0x6f, 0xf0, 0x9f, 0xfe, // j parent
    ];
    let mut machine = machine_with_code(FORK_AND_WAIT);
    let parent = machine.process.pid;
    let mut total = 0;
    for budget in [3, 5, 1000, 4000] {
        let stop = machine.run(&mut friscy_core::NullHost, budget);
        assert_eq!(stop, StopReason::BudgetSpent);
        total += budget;
        assert_eq!(machine.instructions(), total, "after a budget of {budget}");
    }
    assert_ne!(machine.process.pid, parent, "the child is running");
    assert!(
        machine.cpu.instret < total,
        "the child's own count is smaller"
    );
}
