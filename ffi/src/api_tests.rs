//! End-to-end tests of the C ABI from Rust, over tiny hand-assembled RISC-V ELF programs.

use core::ffi::{c_char, c_void, CStr};
use core::mem::size_of;
use core::ptr::{null, null_mut};

use crate::*;

// ---- A minimal RV64 assembler and ELF writer -------------------------------------------

const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const A7: u32 = 17;
const T0: u32 = 5;
const SP: u32 = 2;
const BASE: u64 = 0x10000;
/// File offset (and offset from BASE) of the first instruction: after the ELF and program headers.
const CODE_OFF: u64 = 64 + 56;

fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13
}
fn lui(rd: u32, imm20: u32) -> u32 {
    (imm20 << 12) | (rd << 7) | 0x37
}
fn lbu(rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (4 << 12) | (rd << 7) | 0x03
}
fn ld(rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32 & 0xfff) << 20) | (rs1 << 15) | (3 << 12) | (rd << 7) | 0x03
}
fn bne(rs1: u32, rs2: u32, off: i32) -> u32 {
    let o = off as u32;
    ((o >> 12 & 1) << 31)
        | ((o >> 5 & 0x3f) << 25)
        | (rs2 << 20)
        | (rs1 << 15)
        | (1 << 12)
        | ((o >> 1 & 0xf) << 8)
        | ((o >> 11 & 1) << 7)
        | 0x63
}
const ECALL: u32 = 0x0000_0073;
const EBREAK: u32 = 0x0010_0073;

fn exit_with(code: &mut Vec<u32>, status: i32) {
    code.push(addi(A0, 0, status));
    code.push(addi(A7, 0, 93));
    code.push(ECALL);
}

/// A static ET_EXEC loading the whole file at BASE, entry at the first instruction, with a
/// symbol table naming `symbols` (name, instruction index).
fn elf(code: &[u32], data: &[u8], symbols: &[(&str, usize)]) -> Vec<u8> {
    let mut text: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    text.extend_from_slice(data);
    let mut strtab = vec![0u8];
    let mut symtab = vec![0u8; 24];
    for (name, index) in symbols {
        let mut sym = [0u8; 24];
        sym[0..4].copy_from_slice(&(strtab.len() as u32).to_le_bytes());
        sym[4] = 0x12; // STB_GLOBAL, STT_FUNC
        sym[6..8].copy_from_slice(&1u16.to_le_bytes());
        let value = BASE + CODE_OFF + 4 * *index as u64;
        sym[8..16].copy_from_slice(&value.to_le_bytes());
        symtab.extend_from_slice(&sym);
        strtab.extend_from_slice(name.as_bytes());
        strtab.push(0);
    }
    let text_off = CODE_OFF as usize;
    let symtab_off = (text_off + text.len()).next_multiple_of(8);
    let strtab_off = symtab_off + symtab.len();
    let shoff = (strtab_off + strtab.len()).next_multiple_of(8);
    let total = shoff + 3 * 64;
    let mut f = vec![0u8; total];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[6] = 1;
    f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[18..20].copy_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&(BASE + CODE_OFF).to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[40..48].copy_from_slice(&(shoff as u64).to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&1u16.to_le_bytes());
    f[58..60].copy_from_slice(&64u16.to_le_bytes());
    f[60..62].copy_from_slice(&3u16.to_le_bytes());
    let ph = &mut f[64..120];
    ph[0..4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    ph[4..8].copy_from_slice(&7u32.to_le_bytes()); // RWX
    ph[16..24].copy_from_slice(&BASE.to_le_bytes());
    ph[24..32].copy_from_slice(&BASE.to_le_bytes());
    ph[32..40].copy_from_slice(&(total as u64).to_le_bytes());
    ph[40..48].copy_from_slice(&((total as u64).max(0x2000)).to_le_bytes());
    ph[48..56].copy_from_slice(&0x1000u64.to_le_bytes());
    f[text_off..text_off + text.len()].copy_from_slice(&text);
    f[symtab_off..symtab_off + symtab.len()].copy_from_slice(&symtab);
    f[strtab_off..strtab_off + strtab.len()].copy_from_slice(&strtab);
    let sh = |f: &mut Vec<u8>, i: usize, kind: u32, off: usize, size: usize, link: u32| {
        let s = &mut f[shoff + i * 64..shoff + (i + 1) * 64];
        s[4..8].copy_from_slice(&kind.to_le_bytes());
        s[24..32].copy_from_slice(&(off as u64).to_le_bytes());
        s[32..40].copy_from_slice(&(size as u64).to_le_bytes());
        s[40..44].copy_from_slice(&link.to_le_bytes());
        s[56..64].copy_from_slice(&24u64.to_le_bytes());
    };
    sh(&mut f, 1, 2, symtab_off, symtab.len(), 2); // SHT_SYMTAB, strings in section 2
    sh(&mut f, 2, 3, strtab_off, strtab.len(), 0); // SHT_STRTAB
    f
}

/// Guest address of byte `i` of the data placed after `n_insns` instructions.
fn data_addr(n_insns: usize, i: usize) -> u64 {
    BASE + CODE_OFF + 4 * n_insns as u64 + i as u64
}

// ---- Host side ----------------------------------------------------------------------------

#[derive(Default)]
struct Console {
    out: Vec<u8>,
    input: Vec<u8>,
    /// Answer reads with FRISCY_IO_PENDING while this is set.
    starve: bool,
    reads: usize,
}

unsafe extern "C" fn write_cb(ud: *mut c_void, fd: i32, data: *const u8, len: usize) -> i64 {
    let c = unsafe { &mut *ud.cast::<Console>() };
    assert!(fd == 1 || fd == 2);
    c.out
        .extend_from_slice(unsafe { core::slice::from_raw_parts(data, len) });
    len as i64
}

unsafe extern "C" fn read_cb(ud: *mut c_void, fd: i32, buf: *mut u8, len: usize) -> i64 {
    let c = unsafe { &mut *ud.cast::<Console>() };
    assert_eq!(fd, 0);
    c.reads += 1;
    if c.starve {
        return FRISCY_IO_PENDING;
    }
    let n = c.input.len().min(len);
    unsafe { core::ptr::copy_nonoverlapping(c.input.as_ptr(), buf, n) };
    c.input.drain(..n);
    n as i64
}

fn small_config() -> friscy_config {
    let mut cfg = core::mem::MaybeUninit::<friscy_config>::uninit();
    assert_eq!(
        unsafe { friscy_config_init(cfg.as_mut_ptr(), size_of::<friscy_config>()) },
        FRISCY_OK
    );
    let mut cfg = unsafe { cfg.assume_init() };
    cfg.memory_size = 4 << 20;
    cfg.stack_size = 64 << 10;
    cfg
}

struct Guest {
    m: *mut friscy_machine,
    console: Box<Console>,
}

impl Drop for Guest {
    fn drop(&mut self) {
        unsafe { friscy_machine_free(self.m) };
    }
}

fn load(bytes: &[u8]) -> Guest {
    let mut console = Box::<Console>::default();
    let mut io = friscy_host_io::default();
    assert_eq!(
        unsafe { friscy_host_io_init(&mut io, size_of::<friscy_host_io>()) },
        FRISCY_OK
    );
    io.userdata = (&mut *console as *mut Console).cast();
    io.console_write = Some(write_cb);
    io.console_read = Some(read_cb);
    let cfg = small_config();
    let mut m = null_mut();
    let r = unsafe { friscy_machine_new_from_elf(&cfg, bytes.as_ptr(), bytes.len(), &io, &mut m) };
    assert_eq!(r, FRISCY_OK, "{}", thread_error());
    Guest { m, console }
}

fn run(m: *mut friscy_machine, budget: u64) -> friscy_stop {
    let mut stop = core::mem::MaybeUninit::uninit();
    assert_eq!(
        unsafe { friscy_machine_run(m, budget, stop.as_mut_ptr()) },
        FRISCY_OK
    );
    unsafe { stop.assume_init() }
}

fn thread_error() -> String {
    let mut buf = [0 as c_char; 512];
    let mut n = 0;
    assert_eq!(
        unsafe { friscy_last_error(buf.as_mut_ptr(), buf.len(), &mut n) },
        FRISCY_OK
    );
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn machine_error(m: *const friscy_machine) -> String {
    let mut buf = [0 as c_char; 512];
    let mut n = 0;
    assert_eq!(
        unsafe { friscy_machine_last_error(m, buf.as_mut_ptr(), buf.len(), &mut n) },
        FRISCY_OK
    );
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

use friscy_stop_kind::*;

// ---- Tests --------------------------------------------------------------------------------

#[test]
fn exit_status_and_output() {
    let msg = b"hi from rv64\n";
    let mut code = vec![
        addi(A0, 0, 1),
        lui(A1, 0x10),
        addi(A1, A1, 0), // patched below
        addi(A2, 0, msg.len() as i32),
        addi(A7, 0, 64),
        ECALL,
    ];
    exit_with(&mut code, 42);
    let n = code.len();
    code[2] = addi(A1, A1, (data_addr(n, 0) - BASE) as i32);
    let g = load(&elf(&code, msg, &[]));
    let s = run(g.m, u64::MAX);
    assert_eq!(s.kind, FRISCY_STOP_EXITED);
    assert_eq!(s.exit_status, 42);
    assert_eq!(g.console.out, msg);
    assert_eq!(unsafe { friscy_machine_instructions(g.m) }, n as u64);
    // Exited stays exited.
    assert_eq!(run(g.m, 10).kind, FRISCY_STOP_EXITED);
}

#[test]
fn budget_slices_count_exactly() {
    let n = 1000;
    let mut code = vec![addi(T0, 0, n), addi(T0, T0, -1), bne(T0, 0, -4)];
    exit_with(&mut code, 7);
    let total = 1 + 2 * n as u64 + 3;
    let g = load(&elf(&code, &[], &[]));
    let mut slices = 0;
    loop {
        let before = unsafe { friscy_machine_instructions(g.m) };
        let s = run(g.m, 100);
        let after = unsafe { friscy_machine_instructions(g.m) };
        slices += 1;
        if s.kind == FRISCY_STOP_EXITED {
            assert_eq!(s.exit_status, 7);
            break;
        }
        assert_eq!(s.kind, FRISCY_STOP_BUDGET_SPENT);
        assert_eq!(after - before, 100);
    }
    assert_eq!(unsafe { friscy_machine_instructions(g.m) }, total);
    assert_eq!(slices, total.div_ceil(100));
    assert_eq!(run(g.m, 0).kind, FRISCY_STOP_EXITED);
}

#[test]
fn pending_read_resumes() {
    let code = vec![
        addi(A0, 0, 0),
        addi(A1, SP, -16),
        addi(A2, 0, 1),
        addi(A7, 0, 63),
        ECALL,
        lbu(A0, SP, -16),
        addi(A7, 0, 93),
        ECALL,
    ];
    let mut g = load(&elf(&code, &[], &[]));
    g.console.starve = true;
    let s = run(g.m, u64::MAX);
    assert_eq!(s.kind, FRISCY_STOP_PENDING_IO);
    assert_eq!(s.fd, 0);
    // The pending ecall is not counted: 4 set-up instructions.
    assert_eq!(unsafe { friscy_machine_instructions(g.m) }, 4);
    assert_eq!(run(g.m, u64::MAX).kind, FRISCY_STOP_PENDING_IO);
    g.console.starve = false;
    g.console.input = b"A".to_vec();
    let s = run(g.m, u64::MAX);
    assert_eq!(s.kind, FRISCY_STOP_EXITED);
    assert_eq!(s.exit_status, 65);
    assert_eq!(g.console.reads, 3);
    assert_eq!(unsafe { friscy_machine_instructions(g.m) }, 8);
}

unsafe extern "C" fn double_plus_one(
    ud: *mut c_void,
    g: *mut friscy_guest,
    nr: u64,
    args: *const u64,
) -> i64 {
    let a = unsafe { core::slice::from_raw_parts(args, 6) };
    let m = ud.cast::<friscy_machine>();
    // The machine is running: other calls are refused, stop and instructions work.
    let mut regs = core::mem::MaybeUninit::uninit();
    assert_eq!(
        unsafe { friscy_machine_get_registers(m, regs.as_mut_ptr()) },
        FRISCY_ERR_BUSY
    );
    let mut stop = core::mem::MaybeUninit::uninit();
    assert_eq!(
        unsafe { friscy_machine_run(m, 1, stop.as_mut_ptr()) },
        FRISCY_ERR_BUSY
    );
    unsafe { friscy_machine_free(m) }; // refused: does nothing
    assert_eq!(
        unsafe { friscy_machine_instructions(m) },
        0,
        "count when the run started"
    );
    assert_eq!(nr, 0x10001);
    if a[0] == 6 {
        assert_eq!(unsafe { friscy_guest_stop(g) }, FRISCY_OK);
    }
    (a[0] * 2 + 1) as i64
}

#[test]
fn custom_syscall_result_reaches_guest_and_can_stop() {
    let mut code = vec![lui(A7, 0x10), addi(A7, A7, 1), addi(A0, 0, 5), ECALL];
    // Exit with the handler's result: a0 is already set.
    code.push(addi(A7, 0, 93));
    code.push(ECALL);
    let bytes = elf(&code, &[], &[]);
    let g = load(&bytes);
    let r = unsafe {
        friscy_machine_set_syscall_handler(g.m, 0x10001, Some(double_plus_one), g.m.cast())
    };
    assert_eq!(r, FRISCY_OK);
    let s = run(g.m, u64::MAX);
    assert_eq!((s.kind, s.exit_status), (FRISCY_STOP_EXITED, 11));

    // Same program asking with 6: the handler stops the machine after the call completes.
    let mut code6 = code.clone();
    code6[2] = addi(A0, 0, 6);
    let g = load(&elf(&code6, &[], &[]));
    unsafe { friscy_machine_set_syscall_handler(g.m, 0x10001, Some(double_plus_one), g.m.cast()) };
    let s = run(g.m, u64::MAX);
    assert_eq!(s.kind, FRISCY_STOP_HOST_STOP);
    assert_eq!(s.pc, BASE + CODE_OFF + 16, "stopped after the ecall");
    let s = run(g.m, u64::MAX);
    assert_eq!((s.kind, s.exit_status), (FRISCY_STOP_EXITED, 13));

    // Without a handler the number is unknown to Linux: ENOSYS (-38 → exit status 218).
    let g = load(&bytes);
    let s = run(g.m, u64::MAX);
    assert_eq!(
        (s.kind, s.exit_status),
        (FRISCY_STOP_EXITED, (-38i32) & 0xff)
    );
    // Registering then removing leaves no handler.
    let g = load(&bytes);
    unsafe {
        friscy_machine_set_syscall_handler(g.m, 0x10001, Some(double_plus_one), g.m.cast());
        friscy_machine_set_syscall_handler(g.m, 0x10001, None, null_mut());
    }
    assert_eq!(run(g.m, u64::MAX).exit_status, 218);
}

unsafe extern "C" fn patch_code(
    _ud: *mut c_void,
    g: *mut friscy_guest,
    _nr: u64,
    args: *const u64,
) -> i64 {
    // Overwrite the instruction at args[0] with `addi a0, x0, 99`.
    let insn = addi(A0, 0, 99).to_le_bytes();
    let at = unsafe { *args };
    assert_eq!(
        unsafe { friscy_guest_write_memory(g, at, insn.as_ptr(), 4) },
        FRISCY_OK
    );
    0
}

#[test]
fn handler_writes_to_code_take_effect() {
    // Run the target instruction once (so it is decoded and cached), let the handler patch
    // it, then run it again: the guest must see the new instruction.
    let target = 3u64;
    let code = vec![
        lui(A1, 0x10),                                // 0
        addi(A1, A1, (CODE_OFF + 4 * target) as i32), // 1: a1 = address of insn 3
        addi(T0, 0, 2),                               // 2: two rounds
        addi(A0, 0, 1),                               // 3: target: a0 = 1
        addi(T0, T0, -1),                             // 4
        bne(T0, 0, 12),                               // 5: round 1 → 8
        addi(A7, 0, 93),                              // 6: round 2: exit(a0)
        ECALL,                                        // 7
        lui(A7, 0x10),                                // 8
        addi(A7, A7, 2),                              // 9: a7 = 0x10002
        addi(A0, A1, 0),                              // 10: a0 = target address
        ECALL,                                        // 11: the handler patches insn 3
        bne(T0, 0, (3 - 12) * 4),                     // 12: back to 3
    ];
    let g = load(&elf(&code, &[], &[]));
    unsafe { friscy_machine_set_syscall_handler(g.m, 0x10002, Some(patch_code), null_mut()) };
    let s = run(g.m, 10_000);
    assert_eq!((s.kind, s.exit_status), (FRISCY_STOP_EXITED, 99));
    assert_eq!(unsafe { friscy_machine_instructions(g.m) }, 16);
}

#[test]
fn host_stop_from_outside_and_breakpoints() {
    let mut code = vec![EBREAK];
    exit_with(&mut code, 3);
    let g = load(&elf(&code, &[], &[]));
    let s = run(g.m, u64::MAX);
    assert_eq!(s.kind, FRISCY_STOP_BREAKPOINT);
    assert_eq!(s.pc, BASE + CODE_OFF);
    assert_eq!(s.signal, 5);
    assert_eq!(unsafe { friscy_machine_instructions(g.m) }, 0);
    let mut regs = core::mem::MaybeUninit::<friscy_registers>::uninit();
    assert_eq!(
        unsafe { friscy_machine_get_registers(g.m, regs.as_mut_ptr()) },
        FRISCY_OK
    );
    let mut regs = unsafe { regs.assume_init() };
    regs.pc += 4;
    assert_eq!(
        unsafe { friscy_machine_set_registers(g.m, &regs) },
        FRISCY_OK
    );
    // A stop requested before the run is honoured after the next system call.
    unsafe { friscy_machine_stop(g.m) };
    let s = run(g.m, u64::MAX);
    assert_eq!(
        s.kind, FRISCY_STOP_EXITED,
        "exit is final even with a stop pending"
    );
    assert_eq!(s.exit_status, 3);
}

#[test]
fn faults_and_illegal_instructions() {
    let g = load(&elf(&[ld(A0, 0, 8)], &[], &[]));
    let s = run(g.m, u64::MAX);
    assert_eq!(s.kind, FRISCY_STOP_FAULT);
    assert_eq!(s.fault_address, 8);
    assert_eq!(s.access, friscy_access::FRISCY_ACCESS_LOAD);
    assert_eq!(s.signal, 11);
    let g = load(&elf(&[0xffff_ffff], &[], &[]));
    let s = run(g.m, u64::MAX);
    assert_eq!(s.kind, FRISCY_STOP_ILLEGAL_INSTRUCTION);
    assert_eq!(s.signal, 4);
    assert_eq!(s.pc, BASE + CODE_OFF);
}

#[test]
fn registers_round_trip() {
    let mut code = vec![];
    exit_with(&mut code, 0);
    let g = load(&elf(&code, &[], &[]));
    let mut regs = friscy_registers {
        x: [0; 32],
        f: [0; 32],
        pc: 0,
        fcsr: 0,
    };
    for i in 0..32 {
        regs.x[i] = 0x1111 * i as u64;
        regs.f[i] = 0xfff0_0000_0000_0000 | i as u64;
    }
    regs.pc = BASE + CODE_OFF + 4;
    regs.fcsr = 0b101_10101;
    assert_eq!(
        unsafe { friscy_machine_set_registers(g.m, &regs) },
        FRISCY_OK
    );
    let mut back = core::mem::MaybeUninit::<friscy_registers>::uninit();
    assert_eq!(
        unsafe { friscy_machine_get_registers(g.m, back.as_mut_ptr()) },
        FRISCY_OK
    );
    let back = unsafe { back.assume_init() };
    let mut want = regs;
    want.x[0] = 0;
    assert_eq!(back, want);
    regs.fcsr = 0x100;
    assert_eq!(
        unsafe { friscy_machine_set_registers(g.m, &regs) },
        FRISCY_ERR_INVALID_ARGUMENT
    );
    assert!(machine_error(g.m).contains("fcsr"));
    // Starting at the second instruction skips `a0 = 0`: a0 keeps 0x1111 * 10.
    let s = run(g.m, u64::MAX);
    assert_eq!(s.exit_status, (0x1111 * 10) & 0xff);
}

#[test]
fn guest_memory_copies_are_bounds_checked() {
    let mut code = vec![];
    exit_with(&mut code, 0);
    let g = load(&elf(&code, b"DATA", &[]));
    let mut size = 0;
    assert_eq!(
        unsafe { friscy_machine_memory_size(g.m, &mut size) },
        FRISCY_OK
    );
    assert_eq!(size, 4 << 20);
    let mut buf = [0u8; 4];
    let at = data_addr(code.len(), 0);
    unsafe {
        assert_eq!(
            friscy_machine_read_memory(g.m, at, buf.as_mut_ptr(), 4),
            FRISCY_OK
        );
        assert_eq!(&buf, b"DATA");
        assert_eq!(
            friscy_machine_write_memory(g.m, size - 4, b"TAIL".as_ptr(), 4),
            FRISCY_OK
        );
        assert_eq!(
            friscy_machine_read_memory(g.m, size - 4, buf.as_mut_ptr(), 4),
            FRISCY_OK
        );
        assert_eq!(&buf, b"TAIL");
        assert_eq!(
            friscy_machine_read_memory(g.m, size - 3, buf.as_mut_ptr(), 4),
            FRISCY_ERR_GUEST_ADDRESS
        );
        assert!(
            machine_error(g.m).contains("outside guest memory"),
            "{}",
            machine_error(g.m)
        );
        assert_eq!(
            friscy_machine_write_memory(g.m, u64::MAX - 1, b"XY".as_ptr(), 2),
            FRISCY_ERR_GUEST_ADDRESS
        );
        assert_eq!(
            friscy_machine_read_memory(g.m, 0, buf.as_mut_ptr(), 1),
            FRISCY_ERR_GUEST_ADDRESS
        );
        assert_eq!(friscy_machine_read_memory(g.m, 0, null_mut(), 0), FRISCY_OK);
        assert_eq!(
            friscy_machine_read_memory(g.m, at, null_mut(), 1),
            FRISCY_ERR_NULL_POINTER
        );
    }
}

#[test]
fn symbols_are_found() {
    let mut code = vec![addi(T0, 0, 1)];
    exit_with(&mut code, 0);
    let g = load(&elf(&code, &[], &[("start_here", 0), ("exit_seq", 1)]));
    let mut addr = 0;
    unsafe {
        assert_eq!(
            friscy_machine_symbol(g.m, c"exit_seq".as_ptr(), &mut addr),
            FRISCY_OK
        );
        assert_eq!(addr, BASE + CODE_OFF + 4);
        assert_eq!(
            friscy_machine_symbol(g.m, c"nope".as_ptr(), &mut addr),
            FRISCY_ERR_NOT_FOUND
        );
        assert!(machine_error(g.m).contains("nope"));
        assert_eq!(
            friscy_machine_symbol(g.m, null(), &mut addr),
            FRISCY_ERR_NULL_POINTER
        );
    }
}

#[test]
fn bad_programs_are_refused_with_detail() {
    let mut code = vec![];
    exit_with(&mut code, 0);
    let good = elf(&code, &[], &[]);
    let try_load = |bytes: &[u8]| {
        let mut m = null_mut();
        let r = unsafe {
            friscy_machine_new_from_elf(null(), bytes.as_ptr(), bytes.len(), null(), &mut m)
        };
        assert!(m.is_null(), "no output on failure");
        (r, thread_error())
    };
    assert_eq!(try_load(b"#!/bin/sh\n").0, FRISCY_ERR_NOT_ELF);
    assert_eq!(try_load(b"").0, FRISCY_ERR_NOT_ELF);
    let mut x86 = good.clone();
    x86[18] = 62;
    let (r, detail) = try_load(&x86);
    assert_eq!(r, FRISCY_ERR_WRONG_MACHINE);
    assert!(detail.contains("e_machine 62"), "{detail}");
    assert_eq!(try_load(&good[..40]).0, FRISCY_ERR_MALFORMED_ELF);
    assert_eq!(try_load(&good[..100]).0, FRISCY_ERR_MALFORMED_ELF);
    let mut rel = good.clone();
    rel[16] = 1;
    assert_eq!(try_load(&rel).0, FRISCY_ERR_NOT_EXECUTABLE);

    let mut m = null_mut();
    let mut cfg = small_config();
    cfg.memory_size = 12345;
    let r = unsafe { friscy_machine_new_from_elf(&cfg, good.as_ptr(), good.len(), null(), &mut m) };
    assert_eq!(r, FRISCY_ERR_BAD_MEMORY_SIZE);
    unsafe {
        assert_eq!(
            friscy_machine_new_from_elf(null(), null(), 0, null(), &mut m),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_new_from_elf(null(), good.as_ptr(), good.len(), null(), null_mut()),
            FRISCY_ERR_NULL_POINTER
        );
    }
}

#[test]
fn null_handles_are_refused() {
    let mut stop = core::mem::MaybeUninit::uninit();
    let mut regs = core::mem::MaybeUninit::uninit();
    let mut n = 0usize;
    let mut v = 0u64;
    let mut buf = [0u8; 4];
    unsafe {
        friscy_machine_free(null_mut());
        friscy_machine_stop(null_mut());
        assert_eq!(friscy_machine_instructions(null()), 0);
        assert_eq!(
            friscy_machine_run(null_mut(), 1, stop.as_mut_ptr()),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_get_registers(null(), regs.as_mut_ptr()),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_set_registers(null_mut(), regs.as_ptr()),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_read_memory(null(), 0x1000, buf.as_mut_ptr(), 4),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_write_memory(null_mut(), 0x1000, buf.as_ptr(), 4),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_symbol(null(), c"x".as_ptr(), &mut v),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_memory_size(null(), &mut v),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_set_syscall_handler(null_mut(), 1, None, null_mut()),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_last_error(null(), null_mut(), 0, &mut n),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_guest_read_memory(null_mut(), 0x1000, buf.as_mut_ptr(), 4),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_guest_write_memory(null_mut(), 0x1000, buf.as_ptr(), 4),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(friscy_guest_stop(null_mut()), FRISCY_ERR_NULL_POINTER);
        assert_eq!(friscy_guest_memory_size(null_mut()), 0);
    }
    let mut code = vec![];
    exit_with(&mut code, 0);
    let g = load(&elf(&code, &[], &[]));
    unsafe {
        assert_eq!(
            friscy_machine_run(g.m, 1, null_mut()),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(machine_error(g.m), "out_stop is NULL");
        assert_eq!(
            friscy_machine_get_registers(g.m, null_mut()),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_set_registers(g.m, null()),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_memory_size(g.m, null_mut()),
            FRISCY_ERR_NULL_POINTER
        );
        assert_eq!(
            friscy_machine_symbol(g.m, c"x".as_ptr(), null_mut()),
            FRISCY_ERR_NULL_POINTER
        );
    }
}

#[test]
fn argv_envp_and_cwd_reach_the_guest() {
    // The initial stack starts with argc: exit with it.
    let code = vec![ld(A0, SP, 0), addi(A7, 0, 93), ECALL];
    let bytes = elf(&code, &[], &[]);
    let args = [c"prog".as_ptr(), c"one".as_ptr(), c"two".as_ptr()];
    let env = [c"HOME=/root".as_ptr()];
    let mut cfg = small_config();
    cfg.argv = args.as_ptr();
    cfg.argc = 3;
    cfg.envp = env.as_ptr();
    cfg.envc = 1;
    cfg.working_directory = c"/srv".as_ptr();
    cfg.flags = FRISCY_CONFIG_DETERMINISTIC;
    let mut m = null_mut();
    assert_eq!(
        unsafe { friscy_machine_new_from_elf(&cfg, bytes.as_ptr(), bytes.len(), null(), &mut m) },
        FRISCY_OK
    );
    let s = run(m, u64::MAX);
    assert_eq!((s.kind, s.exit_status), (FRISCY_STOP_EXITED, 3));
    unsafe { friscy_machine_free(m) };
}
