//! Fuzz target: arbitrary sequences of libfriscy C API calls (the `extern "C"` functions of friscy-ffi), with NULLs, odd sizes and bad addresses.
//!
//! Up to two live machines are kept; calls name one of them or pass NULL (never a freed
//! handle: that is undefined by the API contract). Checks: nothing panics or aborts; each
//! call returns one of the codes its documentation lists, never `FRISCY_ERR_INTERNAL`;
//! outputs are pre-filled with a sentinel and must be untouched on failure; memory reads
//! and writes succeed exactly for ranges inside 4096..memory size; registers read back
//! as set; a run retires at most its budget.
#![no_main]

use std::ffi::{c_char, c_void, CStr};
use std::mem::{size_of, MaybeUninit};
use std::ptr::{null, null_mut};

use arbitrary::{Arbitrary, Unstructured};
use friscy::friscy_result::{self, *};
use friscy::*;
use libfuzzer_sys::fuzz_target;

/// Static ELF seeds: a guest making a few system calls (with symbols), and stripped ones.
const ELVES: &[&[u8]] = &[
    include_bytes!("../seeds/elf/syscalls"),
    include_bytes!("../seeds/elf/hello"),
    include_bytes!("../seeds/elf/hello-pie"),
    include_bytes!("../seeds/elf/hello-symbols"),
];
/// Symbol names worth asking for.
const SYMBOLS: &[&[u8]] = &[
    b"_start",
    b"message",
    b"msg",
    b"_end",
    b"__global_pointer$",
    b"",
];
/// Guest memory sizes to try (valid, too small, unaligned); huge sizes are left out so
/// libFuzzer's malloc limit does not count a clean ENOMEM as a crash.
const MEMORY_SIZES: &[u64] = &[1 << 20, 1 << 16, 16384, 4096, 0, 20000, 8 << 20, 12288];
const SENTINEL: u8 = 0xa5;
const SLOTS: usize = 2;

#[derive(Arbitrary, Debug)]
enum ElfChoice {
    Seed(u8),
    Mutated { which: u8, at: u16, bytes: Vec<u8> },
    Raw(Vec<u8>),
}

impl ElfChoice {
    fn bytes(&self) -> Vec<u8> {
        match self {
            ElfChoice::Seed(i) => ELVES[usize::from(*i) % ELVES.len()].to_vec(),
            ElfChoice::Mutated { which, at, bytes } => {
                let mut elf = ELVES[usize::from(*which) % ELVES.len()].to_vec();
                let at = usize::from(*at) % elf.len();
                for (i, b) in bytes.iter().take(64).enumerate() {
                    if let Some(slot) = elf.get_mut(at + i) {
                        *slot = *b;
                    }
                }
                elf
            }
            ElfChoice::Raw(bytes) => bytes.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct ConfigSpec {
    size_delta: i8,
    flags: u32,
    memory: u8,
    stack_size: u32,
    seed: u64,
    args: Vec<Vec<u8>>,
    null_arg: bool,
    env_count_extra: u8,
    cwd: Option<Vec<u8>>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Target {
    Slot(u8),
    Null,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Addr {
    Raw(u64),
    Low(u16),
    NearEnd(u16),
    Inside(u32),
}

#[derive(Arbitrary, Debug)]
enum Call {
    New {
        slot: u8,
        elf: ElfChoice,
        config: Option<ConfigSpec>,
        host_io: bool,
        null_elf: bool,
        null_out: bool,
    },
    Free {
        slot: u8,
    },
    FreeNull,
    Run {
        target: Target,
        budget: u16,
        null_stop: bool,
    },
    Stop {
        target: Target,
    },
    Instructions {
        target: Target,
    },
    ReadMemory {
        target: Target,
        addr: Addr,
        len: u16,
        null_buf: bool,
    },
    WriteMemory {
        target: Target,
        addr: Addr,
        data: Vec<u8>,
        null_data: bool,
    },
    MemorySize {
        target: Target,
        null_out: bool,
    },
    ConsoleMode {
        target: Target,
        null_out: bool,
    },
    Signal {
        target: Target,
        pid: i8,
        signal: i32,
    },
    GetRegisters {
        target: Target,
        null_out: bool,
    },
    SetRegisters {
        target: Target,
        x: [u64; 4],
        which: [u8; 4],
        pc: u64,
        fcsr: u32,
        null_regs: bool,
    },
    Symbol {
        target: Target,
        name: Result<u8, Vec<u8>>,
        null_name: bool,
        null_out: bool,
    },
    MachineLastError {
        target: Target,
        len: u8,
        null_buf: bool,
        null_written: bool,
    },
    ResultMessage {
        code: Result<u16, i32>,
        len: u8,
        null_buf: bool,
        null_written: bool,
    },
    LastError {
        len: u8,
        null_buf: bool,
        null_written: bool,
    },
    ConfigInit {
        size: u16,
        null: bool,
    },
    HostIoInit {
        size: u16,
        null: bool,
    },
    SetSyscallHandler {
        target: Target,
        number: Result<u8, u64>,
        clear: bool,
    },
    Version,
    /// The seed guest with a handler for one of its system calls, run: reaches the
    /// handler (and its `friscy_guest_*` calls) without the fuzzer finding the sequence.
    Program {
        slot: u8,
        number: u8,
        host_io: bool,
        budget: u16,
    },
}

/// Whether to print each call and result (`FRISCY_FUZZ_TRACE=1`), to read a reproducer.
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FRISCY_FUZZ_TRACE").is_some_and(|v| v == "1"))
}

/// `r` must be one of `allowed` (a bug in the library is never acceptable).
fn expect(call: &str, r: friscy_result, allowed: &[friscy_result]) {
    if trace() {
        eprintln!("  {call} -> {r:?}");
    }
    let code = r as i32;
    assert!(
        friscy_result::from_code(code).is_some(),
        "{call}: undocumented result {code}"
    );
    assert_ne!(
        r, FRISCY_ERR_INTERNAL,
        "{call}: internal error (a caught panic)"
    );
    assert!(
        allowed.contains(&r),
        "{call}: {r:?} is not one of {allowed:?}"
    );
}

fn untouched(call: &str, bytes: &[u8]) {
    assert!(
        bytes.iter().all(|&b| b == SENTINEL),
        "{call}: output written on failure"
    );
}

/// A guest address choice resolved against memory size `size`.
fn address(a: Addr, size: u64) -> u64 {
    match a {
        Addr::Raw(v) => v,
        Addr::Low(v) => u64::from(v),
        Addr::NearEnd(v) => size.wrapping_sub(u64::from(v)),
        Addr::Inside(v) => 4096 + u64::from(v) % size.saturating_sub(4096).max(1),
    }
}

/// Syscall handler: reads the string at a0 and memory around it through the guest API,
/// and checks that machine calls from inside a callback are refused as busy.
unsafe extern "C" fn handler(
    userdata: *mut c_void,
    guest: *mut friscy_guest,
    _n: u64,
    args: *const u64,
) -> i64 {
    let args = unsafe { std::slice::from_raw_parts(args, 6) };
    let m = userdata as *mut friscy_machine;
    let size = unsafe { friscy_guest_memory_size(guest) };
    assert!(size >= 16384, "guest memory size {size}");
    let mut buf = [SENTINEL; 16];
    let len = (args[1] as usize).min(buf.len());
    let mut written = usize::MAX;
    let r = unsafe {
        friscy_guest_read_string(guest, args[0], buf.as_mut_ptr().cast(), len, &mut written)
    };
    expect(
        "guest_read_string",
        r,
        &[
            FRISCY_OK,
            FRISCY_ERR_BUFFER_TOO_SMALL,
            FRISCY_ERR_GUEST_ADDRESS,
        ],
    );
    if r == FRISCY_OK {
        assert!(
            written < len && buf[written] == 0,
            "guest_read_string wrote {written} of {len}"
        );
    } else {
        untouched("guest_read_string", &buf);
        assert_eq!(
            written,
            usize::MAX,
            "guest_read_string set *written on failure"
        );
    }
    let r = unsafe { friscy_guest_read_memory(guest, args[0], buf.as_mut_ptr(), len) };
    expect(
        "guest_read_memory",
        r,
        &[FRISCY_OK, FRISCY_ERR_GUEST_ADDRESS],
    );
    let r = unsafe { friscy_guest_write_memory(guest, args[2], buf.as_ptr(), len) };
    expect(
        "guest_write_memory",
        r,
        &[FRISCY_OK, FRISCY_ERR_GUEST_ADDRESS],
    );
    let r = unsafe { friscy_guest_read_memory(null_mut(), 0, buf.as_mut_ptr(), 1) };
    expect("guest_read_memory(NULL)", r, &[FRISCY_ERR_NULL_POINTER]);
    let mut stop = MaybeUninit::<friscy_stop>::uninit();
    let r = unsafe { friscy_machine_run(m, 1, stop.as_mut_ptr()) };
    expect("run from a callback", r, &[FRISCY_ERR_BUSY]);
    let r = unsafe { friscy_machine_read_memory(m, 4096, buf.as_mut_ptr(), 1) };
    expect("read_memory from a callback", r, &[FRISCY_ERR_BUSY]);
    unsafe { friscy_machine_free(m) }; // detected and ignored while running
    if args[3] & 1 == 1 {
        expect(
            "guest_stop",
            unsafe { friscy_guest_stop(guest) },
            &[FRISCY_OK],
        );
    }
    args[4] as i64
}

unsafe extern "C" fn console_write(_u: *mut c_void, fd: i32, _data: *const u8, len: usize) -> i64 {
    assert!(fd == 1 || fd == 2, "console write on fd {fd}");
    if len % 3 == 2 {
        friscy::FRISCY_IO_PENDING
    } else {
        len as i64
    }
}

unsafe extern "C" fn console_read(_u: *mut c_void, fd: i32, buf: *mut u8, len: usize) -> i64 {
    assert_eq!(fd, 0, "console read on fd {fd}");
    if len > 0 {
        unsafe { *buf = b'\n' };
    }
    len.min(1) as i64
}

struct State {
    machines: [*mut friscy_machine; SLOTS],
}

impl State {
    fn target(&self, t: Target) -> *mut friscy_machine {
        match t {
            Target::Slot(i) => self.machines[usize::from(i) % SLOTS],
            Target::Null => null_mut(),
        }
    }

    fn memory_size(&self, m: *mut friscy_machine) -> u64 {
        let mut size = 0;
        expect(
            "memory_size",
            unsafe { friscy_machine_memory_size(m, &mut size) },
            &[FRISCY_OK],
        );
        size
    }

    fn new_machine(
        &mut self,
        slot: u8,
        elf: &ElfChoice,
        config: &Option<ConfigSpec>,
        with_io: bool,
        null_elf: bool,
        null_out: bool,
    ) {
        let elf = elf.bytes();
        let mut cfg = MaybeUninit::<friscy_config>::zeroed();
        let mut cfg = unsafe {
            expect(
                "config_init",
                friscy_config_init(cfg.as_mut_ptr(), size_of::<friscy_config>()),
                &[FRISCY_OK],
            );
            cfg.assume_init()
        };
        // Keeps the config's strings alive until the call returns.
        let mut strings: Vec<Vec<u8>> = Vec::new();
        let mut argv: Vec<*const c_char> = Vec::new();
        let mut envp: Vec<*const c_char> = Vec::new();
        let mut cwd: Vec<u8> = Vec::new();
        if let Some(c) = config {
            cfg.struct_size = (cfg.struct_size as i32 + i32::from(c.size_delta % 16)).max(0) as u32; // at most 15 over
            cfg.flags = if c.flags & 0x100 == 0 {
                c.flags & 1
            } else {
                c.flags
            };
            cfg.memory_size = MEMORY_SIZES[usize::from(c.memory) % MEMORY_SIZES.len()];
            cfg.stack_size = u64::from(c.stack_size);
            cfg.seed = c.seed;
            for a in c.args.iter().take(8) {
                let mut s: Vec<u8> = a.iter().copied().filter(|&b| b != 0).take(64).collect();
                s.push(0);
                strings.push(s);
            }
            for s in &strings {
                argv.push(s.as_ptr().cast());
                envp.push(s.as_ptr().cast());
            }
            if c.null_arg {
                argv.push(null());
            }
            cfg.argv = if argv.is_empty() {
                null()
            } else {
                argv.as_ptr()
            };
            cfg.argc = argv.len();
            // envc larger than the array would be a caller bug; only claim fewer.
            cfg.envp = if envp.is_empty() {
                null()
            } else {
                envp.as_ptr()
            };
            cfg.envc = envp
                .len()
                .saturating_sub(usize::from(c.env_count_extra % 4));
            if let Some(dir) = &c.cwd {
                cwd.extend(dir.iter().copied().filter(|&b| b != 0).take(300));
                cwd.push(0);
                cfg.working_directory = cwd.as_ptr().cast();
            }
        }
        // The library may read up to `struct_size` bytes: back the struct with spare room,
        // zero (a newer caller's unused fields) or not (fields this library lacks).
        let mut cfg_words = vec![0u64; size_of::<friscy_config>() / 8 + 4];
        unsafe { cfg_words.as_mut_ptr().cast::<friscy_config>().write(cfg) };
        if let Some(c) = config {
            let extra = (cfg.struct_size as usize).saturating_sub(size_of::<friscy_config>());
            if extra > 0 && c.flags & 0x200 != 0 {
                let bytes = unsafe {
                    std::slice::from_raw_parts_mut(
                        cfg_words.as_mut_ptr().cast::<u8>(),
                        cfg_words.len() * 8,
                    )
                };
                bytes[size_of::<friscy_config>() + extra - 1] = 1;
            }
        }
        let mut io = MaybeUninit::<friscy_host_io>::zeroed();
        let mut io = unsafe {
            expect(
                "host_io_init",
                friscy_host_io_init(io.as_mut_ptr(), size_of::<friscy_host_io>()),
                &[FRISCY_OK],
            );
            io.assume_init()
        };
        io.console_write = Some(console_write);
        io.console_read = Some(console_read);
        let sentinel = 0x5a5a_5a5a_5a5a_5a58usize as *mut friscy_machine;
        let mut out = sentinel;
        let r = unsafe {
            friscy_machine_new_from_elf(
                if config.is_some() {
                    cfg_words.as_ptr().cast()
                } else {
                    null()
                },
                if null_elf { null() } else { elf.as_ptr() },
                elf.len(),
                if with_io { &io } else { null() },
                if null_out { null_mut() } else { &mut out },
            )
        };
        expect(
            "new_from_elf",
            r,
            &[
                FRISCY_OK,
                FRISCY_ERR_NULL_POINTER,
                FRISCY_ERR_INVALID_ARGUMENT,
                FRISCY_ERR_UNSUPPORTED,
                FRISCY_ERR_BAD_MEMORY_SIZE,
                FRISCY_ERR_OUT_OF_MEMORY,
                FRISCY_ERR_NOT_ELF,
                FRISCY_ERR_WRONG_MACHINE,
                FRISCY_ERR_NOT_EXECUTABLE,
                FRISCY_ERR_MALFORMED_ELF,
                FRISCY_ERR_NEEDS_INTERPRETER,
                FRISCY_ERR_PROGRAM_TOO_BIG,
                FRISCY_ERR_STACK_TOO_SMALL,
            ],
        );
        if null_elf || null_out {
            assert_eq!(
                r, FRISCY_ERR_NULL_POINTER,
                "new_from_elf with a NULL argument"
            );
        }
        if r != FRISCY_OK {
            assert_eq!(out, sentinel, "new_from_elf wrote *out_machine on failure");
            return;
        }
        assert!(
            !out.is_null() && out != sentinel,
            "new_from_elf succeeded without a machine"
        );
        let slot = &mut self.machines[usize::from(slot) % SLOTS];
        unsafe { friscy_machine_free(*slot) };
        *slot = out;
    }

    fn call(&mut self, call: Call) {
        const MACHINE: [friscy_result; 3] = [
            FRISCY_ERR_NULL_POINTER,
            FRISCY_ERR_BUSY,
            FRISCY_ERR_POISONED,
        ];
        let with = |extra: &[friscy_result]| [&MACHINE[..], extra].concat();
        match call {
            Call::New {
                slot,
                elf,
                config,
                host_io,
                null_elf,
                null_out,
            } => self.new_machine(slot, &elf, &config, host_io, null_elf, null_out),
            Call::Free { slot } => {
                let slot = &mut self.machines[usize::from(slot) % SLOTS];
                unsafe { friscy_machine_free(*slot) };
                *slot = null_mut();
            }
            Call::FreeNull => unsafe { friscy_machine_free(null_mut()) },
            Call::Run {
                target,
                budget,
                null_stop,
            } => {
                let m = self.target(target);
                let before = unsafe { friscy_machine_instructions(m) };
                let mut stop = MaybeUninit::<friscy_stop>::uninit();
                unsafe {
                    stop.as_mut_ptr()
                        .cast::<u8>()
                        .write_bytes(SENTINEL, size_of::<friscy_stop>())
                };
                let out = if null_stop {
                    null_mut()
                } else {
                    stop.as_mut_ptr()
                };
                let budget = budget & 0x3fff;
                let r = unsafe { friscy_machine_run(m, u64::from(budget), out) };
                expect("run", r, &with(&[FRISCY_OK]));
                let raw = unsafe {
                    std::slice::from_raw_parts(stop.as_ptr().cast::<u8>(), size_of::<friscy_stop>())
                };
                if r != FRISCY_OK {
                    untouched("run", raw);
                    return;
                }
                let kind = u32::from_ne_bytes(raw[..4].try_into().unwrap());
                assert!(kind <= 7, "run: stop kind {kind}");
                let access = unsafe {
                    std::ptr::addr_of!((*stop.as_ptr()).access)
                        .cast::<u32>()
                        .read()
                };
                assert!(access <= 4, "run: access {access}");
                let stop = unsafe { stop.assume_init() };
                let after = unsafe { friscy_machine_instructions(m) };
                assert!(
                    after >= before && after - before <= u64::from(budget),
                    "run({budget}) retired {before}..{after}"
                );
                match stop.kind {
                    friscy_stop_kind::FRISCY_STOP_EXITED => {
                        assert!((0..=255).contains(&stop.exit_status))
                    }
                    friscy_stop_kind::FRISCY_STOP_SIGNALED => {
                        assert!((1..=64).contains(&stop.signal))
                    }
                    friscy_stop_kind::FRISCY_STOP_PENDING_IO => assert!((0..=2).contains(&stop.fd)),
                    friscy_stop_kind::FRISCY_STOP_BUDGET_SPENT => {
                        assert_eq!(after - before, u64::from(budget))
                    }
                    _ => {}
                }
            }
            Call::Stop { target } => unsafe { friscy_machine_stop(self.target(target)) },
            Call::Instructions { target } => {
                let m = self.target(target);
                let n = unsafe { friscy_machine_instructions(m) };
                if m.is_null() {
                    assert_eq!(n, 0, "instructions(NULL)");
                }
            }
            Call::ReadMemory {
                target,
                addr,
                len,
                null_buf,
            } => {
                let m = self.target(target);
                let size = if m.is_null() {
                    1 << 20
                } else {
                    self.memory_size(m)
                };
                let addr = address(addr, size);
                let len = usize::from(len);
                let mut buf = vec![SENTINEL; len];
                let ptr = if null_buf {
                    null_mut()
                } else {
                    buf.as_mut_ptr()
                };
                let r = unsafe { friscy_machine_read_memory(m, addr, ptr, len) };
                expect(
                    "read_memory",
                    r,
                    &with(&[FRISCY_OK, FRISCY_ERR_GUEST_ADDRESS]),
                );
                if r != FRISCY_OK {
                    untouched("read_memory", &buf);
                }
                check_range("read_memory", m, null_buf, addr, len as u64, size, r);
            }
            Call::WriteMemory {
                target,
                addr,
                data,
                null_data,
            } => {
                let m = self.target(target);
                let size = if m.is_null() {
                    1 << 20
                } else {
                    self.memory_size(m)
                };
                let addr = address(addr, size);
                let ptr = if null_data { null() } else { data.as_ptr() };
                let r = unsafe { friscy_machine_write_memory(m, addr, ptr, data.len()) };
                expect(
                    "write_memory",
                    r,
                    &with(&[FRISCY_OK, FRISCY_ERR_GUEST_ADDRESS]),
                );
                check_range(
                    "write_memory",
                    m,
                    null_data,
                    addr,
                    data.len() as u64,
                    size,
                    r,
                );
                if r == FRISCY_OK && !null_data {
                    let mut back = vec![0u8; data.len()];
                    let r = unsafe {
                        friscy_machine_read_memory(m, addr, back.as_mut_ptr(), back.len())
                    };
                    expect("read back", r, &[FRISCY_OK]);
                    assert_eq!(back, data, "memory reads back differently");
                }
            }
            Call::MemorySize { target, null_out } => {
                let m = self.target(target);
                let mut out = u64::from_ne_bytes([SENTINEL; 8]);
                let r = unsafe {
                    friscy_machine_memory_size(m, if null_out { null_mut() } else { &mut out })
                };
                expect("memory_size", r, &with(&[FRISCY_OK]));
                if r == FRISCY_OK {
                    assert!(out >= 16384 && out % 4096 == 0, "memory size {out}");
                } else {
                    untouched("memory_size", &out.to_ne_bytes());
                }
            }
            Call::ConsoleMode { target, null_out } => {
                let m = self.target(target);
                let mut out = u32::from_ne_bytes([SENTINEL; 4]);
                let r = unsafe {
                    friscy_machine_console_mode(m, if null_out { null_mut() } else { &mut out })
                };
                expect("console_mode", r, &with(&[FRISCY_OK]));
                if r != FRISCY_OK {
                    untouched("console_mode", &out.to_ne_bytes());
                }
            }
            Call::Signal {
                target,
                pid,
                signal,
            } => {
                let m = self.target(target);
                let signal = if signal & 0x100 == 0 {
                    signal % 70
                } else {
                    signal
                };
                let r = unsafe { friscy_machine_signal(m, i32::from(pid % 4), signal) };
                expect(
                    "signal",
                    r,
                    &with(&[FRISCY_OK, FRISCY_ERR_NOT_FOUND, FRISCY_ERR_INVALID_ARGUMENT]),
                );
                if !m.is_null() && !(1..=64).contains(&signal) {
                    assert_eq!(r, FRISCY_ERR_INVALID_ARGUMENT, "signal {signal} accepted");
                }
            }
            Call::GetRegisters { target, null_out } => {
                let m = self.target(target);
                let mut regs = MaybeUninit::<friscy_registers>::uninit();
                unsafe {
                    regs.as_mut_ptr()
                        .cast::<u8>()
                        .write_bytes(SENTINEL, size_of::<friscy_registers>())
                };
                let r = unsafe {
                    friscy_machine_get_registers(
                        m,
                        if null_out {
                            null_mut()
                        } else {
                            regs.as_mut_ptr()
                        },
                    )
                };
                expect("get_registers", r, &with(&[FRISCY_OK]));
                let regs = unsafe { regs.assume_init() };
                if r == FRISCY_OK {
                    assert_eq!(regs.x[0], 0, "x0 reads {:#x}", regs.x[0]);
                    assert!(regs.fcsr <= 0xff, "fcsr {:#x}", regs.fcsr);
                } else {
                    assert!(
                        regs.x
                            .iter()
                            .all(|&v| v == u64::from_ne_bytes([SENTINEL; 8])),
                        "get_registers wrote on failure"
                    );
                }
            }
            Call::SetRegisters {
                target,
                x,
                which,
                pc,
                fcsr,
                null_regs,
            } => {
                let m = self.target(target);
                let mut regs: friscy_registers = unsafe { MaybeUninit::zeroed().assume_init() };
                if !m.is_null() {
                    expect(
                        "get_registers",
                        unsafe { friscy_machine_get_registers(m, &mut regs) },
                        &with(&[FRISCY_OK]),
                    );
                }
                for (v, w) in x.iter().zip(which) {
                    let i = usize::from(w) % 64;
                    if i < 32 {
                        regs.x[i] = *v
                    } else {
                        regs.f[i - 32] = *v
                    }
                }
                regs.pc = pc;
                regs.fcsr = if fcsr & 0x1000 == 0 {
                    fcsr & 0xff
                } else {
                    fcsr
                };
                let r = unsafe {
                    friscy_machine_set_registers(m, if null_regs { null() } else { &regs })
                };
                expect(
                    "set_registers",
                    r,
                    &with(&[FRISCY_OK, FRISCY_ERR_INVALID_ARGUMENT]),
                );
                if !m.is_null() && !null_regs {
                    assert_eq!(
                        r == FRISCY_ERR_INVALID_ARGUMENT,
                        regs.fcsr > 0xff,
                        "set_registers fcsr {:#x}: {r:?}",
                        regs.fcsr
                    );
                }
                if r == FRISCY_OK {
                    let mut back: friscy_registers = unsafe { MaybeUninit::zeroed().assume_init() };
                    expect(
                        "get_registers",
                        unsafe { friscy_machine_get_registers(m, &mut back) },
                        &[FRISCY_OK],
                    );
                    regs.x[0] = 0;
                    assert_eq!(back, regs, "registers read back differently");
                }
            }
            Call::Symbol {
                target,
                name,
                null_name,
                null_out,
            } => {
                let m = self.target(target);
                let mut name: Vec<u8> = match name {
                    Ok(i) => SYMBOLS[usize::from(i) % SYMBOLS.len()].to_vec(),
                    Err(raw) => raw.into_iter().filter(|&b| b != 0).take(512).collect(),
                };
                name.push(0);
                let mut out = u64::from_ne_bytes([SENTINEL; 8]);
                let r = unsafe {
                    friscy_machine_symbol(
                        m,
                        if null_name {
                            null()
                        } else {
                            name.as_ptr().cast()
                        },
                        if null_out { null_mut() } else { &mut out },
                    )
                };
                expect("symbol", r, &with(&[FRISCY_OK, FRISCY_ERR_NOT_FOUND]));
                if r != FRISCY_OK {
                    untouched("symbol", &out.to_ne_bytes());
                }
            }
            Call::MachineLastError {
                target,
                len,
                null_buf,
                null_written,
            } => {
                let m = self.target(target);
                text_call(
                    "machine_last_error",
                    len,
                    null_buf,
                    null_written,
                    &with(&[FRISCY_OK, FRISCY_ERR_BUFFER_TOO_SMALL]),
                    |b, l, w| unsafe { friscy_machine_last_error(m, b, l, w) },
                );
            }
            Call::ResultMessage {
                code,
                len,
                null_buf,
                null_written,
            } => {
                let code = match code {
                    Ok(i) => i32::from(i % 1000),
                    Err(c) => c,
                };
                let known = friscy_result::from_code(code).is_some();
                let allowed: &[friscy_result] = if known {
                    &[
                        FRISCY_OK,
                        FRISCY_ERR_NULL_POINTER,
                        FRISCY_ERR_BUFFER_TOO_SMALL,
                    ]
                } else {
                    &[FRISCY_ERR_INVALID_ARGUMENT, FRISCY_ERR_NULL_POINTER]
                };
                text_call(
                    "result_message",
                    len,
                    null_buf,
                    null_written,
                    allowed,
                    |b, l, w| unsafe { friscy_result_message(code, b, l, w) },
                );
            }
            Call::LastError {
                len,
                null_buf,
                null_written,
            } => {
                text_call(
                    "last_error",
                    len,
                    null_buf,
                    null_written,
                    &[
                        FRISCY_OK,
                        FRISCY_ERR_NULL_POINTER,
                        FRISCY_ERR_BUFFER_TOO_SMALL,
                    ],
                    |b, l, w| unsafe { friscy_last_error(b, l, w) },
                );
            }
            Call::ConfigInit { size, null } => {
                // u64-aligned storage for a struct of `size` bytes, and 8 more.
                let mut words = vec![u64::from_ne_bytes([SENTINEL; 8]); usize::from(size) / 8 + 2];
                let ptr = if null {
                    null_mut()
                } else {
                    words.as_mut_ptr().cast::<friscy_config>()
                };
                let r = unsafe { friscy_config_init(ptr, usize::from(size)) };
                expect(
                    "config_init",
                    r,
                    &[
                        FRISCY_OK,
                        FRISCY_ERR_NULL_POINTER,
                        FRISCY_ERR_INVALID_ARGUMENT,
                    ],
                );
                let filled = if r == FRISCY_OK { usize::from(size) } else { 0 };
                untouched("config_init (past the struct)", &bytemuck(&words)[filled..]);
            }
            Call::HostIoInit { size, null } => {
                let mut words = vec![u64::from_ne_bytes([SENTINEL; 8]); usize::from(size) / 8 + 2];
                let ptr = if null {
                    null_mut()
                } else {
                    words.as_mut_ptr().cast::<friscy_host_io>()
                };
                let r = unsafe { friscy_host_io_init(ptr, usize::from(size)) };
                expect(
                    "host_io_init",
                    r,
                    &[
                        FRISCY_OK,
                        FRISCY_ERR_NULL_POINTER,
                        FRISCY_ERR_INVALID_ARGUMENT,
                    ],
                );
                let filled = if r == FRISCY_OK { usize::from(size) } else { 0 };
                untouched(
                    "host_io_init (past the struct)",
                    &bytemuck(&words)[filled..],
                );
            }
            Call::SetSyscallHandler {
                target,
                number,
                clear,
            } => {
                let m = self.target(target);
                let number = match number {
                    Ok(n) => [0x10000, 64, 172, 214, 93, 63][usize::from(n) % 6],
                    Err(n) => n,
                };
                let h: friscy_syscall_fn = if clear { None } else { Some(handler) };
                let r = unsafe { friscy_machine_set_syscall_handler(m, number, h, m.cast()) };
                expect("set_syscall_handler", r, &with(&[FRISCY_OK]));
            }
            Call::Program {
                slot,
                number,
                host_io,
                budget,
            } => {
                let elf = ElfChoice::Seed(0);
                self.new_machine(slot, &elf, &None, host_io, false, false);
                let target = Target::Slot(slot);
                self.call(Call::SetSyscallHandler {
                    target,
                    number: Ok(number),
                    clear: false,
                });
                self.call(Call::Run {
                    target,
                    budget,
                    null_stop: false,
                });
            }
            Call::Version => {
                let v = unsafe { CStr::from_ptr(friscy_version()) };
                let want =
                    format!("{FRISCY_VERSION_MAJOR}.{FRISCY_VERSION_MINOR}.{FRISCY_VERSION_PATCH}");
                assert_eq!(v.to_str().ok(), Some(want.as_str()), "version string");
            }
        }
    }
}

fn bytemuck(words: &[u64]) -> &[u8] {
    unsafe { std::slice::from_raw_parts(words.as_ptr().cast(), words.len() * 8) }
}

/// A guest range is accepted exactly when it lies inside 4096..size (NULL aside).
fn check_range(
    call: &str,
    m: *mut friscy_machine,
    null_buf: bool,
    addr: u64,
    len: u64,
    size: u64,
    r: friscy_result,
) {
    if m.is_null() || r == FRISCY_ERR_NULL_POINTER || r == FRISCY_ERR_POISONED {
        return;
    }
    if null_buf && len > 0 {
        panic!("{call}: NULL buffer with len {len} gave {r:?}");
    }
    if len == 0 {
        return;
    }
    let inside = addr >= 4096 && addr.checked_add(len).is_some_and(|end| end <= size);
    assert_eq!(
        r == FRISCY_OK,
        inside,
        "{call}({addr:#x}, {len}) in {size:#x} bytes: {r:?}"
    );
}

/// One of the text calls (`buf`, `len`, `written` rules of `friscy_result_message`).
fn text_call(
    call: &str,
    len: u8,
    null_buf: bool,
    null_written: bool,
    allowed: &[friscy_result],
    f: impl FnOnce(*mut c_char, usize, *mut usize) -> friscy_result,
) {
    let len = usize::from(len);
    let mut buf = vec![SENTINEL; len];
    let mut written = usize::MAX;
    let bp = if null_buf {
        null_mut()
    } else {
        buf.as_mut_ptr().cast()
    };
    let blen = if null_buf && len % 2 == 0 { 0 } else { len };
    let r = f(
        bp,
        blen,
        if null_written {
            null_mut()
        } else {
            &mut written
        },
    );
    expect(call, r, allowed);
    if null_written || (null_buf && blen > 0) {
        assert!(r != FRISCY_OK, "{call}: NULL output accepted");
    }
    if r != FRISCY_OK {
        untouched(call, &buf);
        assert_eq!(written, usize::MAX, "{call}: *written set on failure");
        return;
    }
    assert!(
        written <= 127 || call != "result_message",
        "{call}: {written}-byte message"
    );
    if !null_buf && blen > 0 {
        assert!(
            written < blen && buf[written] == 0,
            "{call}: no NUL at {written} of {blen}"
        );
        assert!(!buf[..written].contains(&0), "{call}: NUL inside the text");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mut state = State {
        machines: [null_mut(); SLOTS],
    };
    for _ in 0..48 {
        let Ok(call) = Call::arbitrary(&mut u) else {
            break;
        };
        if trace() {
            eprintln!("{call:?}");
        }
        state.call(call);
        if u.is_empty() {
            break;
        }
    }
    for m in state.machines {
        unsafe { friscy_machine_free(m) };
    }
    unsafe { friscy_machine_free(null_mut()) };
});
