//! The RV64GC hart: architectural state and the interpreter loop over pre-decoded code pages.
//!
//! Code is decoded once per instruction slot into a per-page cache ([`CodeCache`]) and
//! executed from there. Integer writes to x0 are redirected at cache-fill time to a sink
//! register (index 32) so the hot loop never tests for x0.

use crate::fpu::{self, RoundingMode};
use crate::isa::{self, Insn, Op};
use crate::mem::{MemFault, Memory};

/// Index of the write sink that stands in for x0 as a destination.
const SINK: u8 = 32;
/// The `rm` of a cached `flw` or `fsw` (decoded FP loads and stores have 0 there). The
/// arms they share with `fld` and `fsd` test it rather than the operation: testing the
/// operation kept it in a register through the dispatch, one more host instruction for
/// every guest instruction (+6% on integer guests).
const SINGLE_WIDTH: u8 = 1;
/// The `rd` of a conditional branch decoded through (see `is_folded_branch`): decoded
/// branches have `SINK` there, as they write no register.
const FOLDED_BRANCH_RD: u8 = 0;
/// log2 of the bytes of guest code one cache page covers. A transfer out of the page leaves
/// the hot loop, so with a heap the pages are large (32 KiB: a guest calling a function
/// in another 4 KiB page, like `qsort`'s comparator, ran 19% more host instructions);
/// without one the cache holds a single page, kept at 4 KiB so its fixed buffer stays small.
#[cfg(feature = "alloc")]
const PAGE_SHIFT: u32 = 15;
#[cfg(not(feature = "alloc"))]
const PAGE_SHIFT: u32 = 12;
const SLOTS_PER_PAGE: usize = 1 << (PAGE_SHIFT - 1);
// Offsets within a page, including the one just past its end, are `u16`s.
const _: () = assert!(1 << PAGE_SHIFT <= u16::MAX as usize);

/// Architectural state of one hart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cpu {
    /// x0..x31, then the x0 write sink (32) and padding: 256 entries so that any `u8`
    /// register index is in bounds without a mask or a check.
    pub x: [u64; 256],
    /// f0..f31 as raw 64-bit patterns (singles are NaN-boxed).
    pub f: [u64; 32],
    pub pc: u64,
    /// Accrued FP exception flags (fflags CSR, 5 bits).
    pub fflags: u8,
    /// Dynamic rounding mode (frm CSR, 3 bits).
    pub frm: u8,
    /// Address reserved by the last LR, if any.
    pub reservation: Option<u64>,
    /// Instructions retired since the hart was created.
    pub instret: u64,
}

impl Default for Cpu {
    fn default() -> Self {
        Cpu {
            x: [0; 256],
            f: [0; 32],
            pc: 0,
            fflags: 0,
            frm: 0,
            reservation: None,
            instret: 0,
        }
    }
}

/// What kind of access faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Fetch,
    Load,
    Store,
    /// A misaligned atomic (Linux delivers SIGBUS).
    Misaligned,
}

/// Why the interpreter loop returned. `cpu.pc` points at the instruction concerned
/// (for `Ecall`/`Ebreak` the trapping instruction, which has been counted as retired).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The instruction budget is spent.
    Budget,
    /// An `ecall`: the caller handles the system call and advances pc by 4.
    Ecall,
    /// An `ebreak` (or `c.ebreak`); its length is in `len`.
    Ebreak { len: u8 },
    /// A memory access outside the address space.
    Fault { addr: u64, access: Access },
    /// An illegal or unsupported instruction, with its raw bits.
    Illegal { bits: u32 },
}

/// Internal control flow from one executed instruction.
enum Flow {
    Exit(Exit),
    FenceI,
    /// A valid encoding this hart refuses (an unknown or read-only CSR, a reserved
    /// rounding mode): reported as an illegal instruction with the bits it was decoded from.
    Unsupported,
}

/// One pre-decoded instruction in a page's code array, with its offset in the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
struct Slot {
    insn: Insn,
    pc_off: u16,
    /// Instructions from this one to the end of its run, inclusive (0 for a continuation;
    /// a fused operation counts each of its instructions, and a jump decoded through
    /// counts in the slot before it): the budget is charged once per run entered, not once
    /// per instruction.
    to_end: u16,
}

/// Marks the end of a straight-line run that did not end in a control transfer:
/// execution continues at `pc_off` (possibly the next page). It retires nothing.
const fn continue_at(pc_off: u16) -> Slot {
    Slot {
        insn: Insn::UNDECODED,
        pc_off,
        to_end: 0,
    }
}

/// `entry` value of a 2-byte offset where no decoded instruction starts.
/// Index 0 of every page's code is a placeholder no entry points to, so that an all-zero
/// table is an empty one.
const NO_ENTRY: u16 = 0;
const PLACEHOLDER: Slot = continue_at(0);
/// Longest straight-line run decoded in one go (bounds the work a single decode does).
const MAX_RUN: usize = 256;
/// Plain jumps and loop branches one run is decoded through (see `decode_run`). Each copies
/// code, so more cost start-up (callgrind, hello world: 2.40M host instructions at 1 and 1,
/// 2.50M at 2 and 2, 2.74M at 8 and 4); 2 and 2 gave the loops most of what 8 and 4 did
/// (hash -2.3% of -2.5%, the others -0.2 to -1% against 1 and 1).
const MAX_JUMPS_FOLDED: u32 = 2;
const MAX_BRANCHES_FOLDED: u32 = 2;
/// Slots a page's code may hold before the page is cleared and refilled: without an
/// allocator a full page plus run ends; with one, as many as `u16` entries can index (runs
/// decoded from every offset of a page could otherwise grow it without bound).
#[cfg(not(feature = "alloc"))]
const CODE_CAPACITY: usize = 1 + 2 * SLOTS_PER_PAGE + MAX_RUN;
#[cfg(feature = "alloc")]
const CODE_CAPACITY: usize = u16::MAX as usize + 1;
const _: () = assert!(CODE_CAPACITY <= u16::MAX as usize + 1);

#[cfg(feature = "alloc")]
type CodeVec = alloc::vec::Vec<Slot>;
/// Slots a page's code starts with room for (32 KiB, as its entry table): grown from one
/// slot by doubling, hello world ran 4% more host instructions (callgrind), reallocating.
#[cfg(feature = "alloc")]
const INITIAL_CODE_CAPACITY: usize = 2048;
#[cfg(not(feature = "alloc"))]
type CodeVec = heapless::Vec<Slot, CODE_CAPACITY>;

/// The decoded code of one guest page: straight-line runs stored contiguously, so the
/// interpreter steps to the next instruction by index (no dependence on instruction
/// length), plus a map from 2-byte offsets to where each decoded instruction lives.
#[derive(Clone)]
struct Page {
    entry: [u16; SLOTS_PER_PAGE],
    code: CodeVec,
}

impl Page {
    #[cfg(not(feature = "alloc"))]
    fn new() -> Page {
        let mut page = Page {
            entry: [NO_ENTRY; SLOTS_PER_PAGE],
            code: CodeVec::new(),
        };
        page.push(PLACEHOLDER);
        page
    }

    /// A new page built in place on the heap: its entry table (32 KiB) would not fit a small
    /// (wasm) stack, and keeping the table inside the page rather than behind a second box
    /// saves the hot loop a load per transfer (1% of host instructions).
    #[cfg(feature = "alloc")]
    fn new_boxed() -> alloc::boxed::Box<Page> {
        let layout = core::alloc::Layout::new::<Page>();
        // SAFETY: `Page` is not zero-sized. The zeroed allocation is a valid entry table
        // (all `NO_ENTRY`); `code` is written before the box is made, through a raw pointer
        // (no reference to its uninitialised bytes is created). The memory comes from the
        // global allocator with `Page`'s layout, as `Box::from_raw` requires.
        unsafe {
            let raw = alloc::alloc::alloc_zeroed(layout).cast::<Page>();
            if raw.is_null() {
                alloc::alloc::handle_alloc_error(layout);
            }
            let mut code = CodeVec::with_capacity(INITIAL_CODE_CAPACITY);
            code.push(PLACEHOLDER);
            core::ptr::addr_of_mut!((*raw).code).write(code);
            alloc::boxed::Box::from_raw(raw)
        }
    }

    fn clear(&mut self) {
        self.entry.fill(NO_ENTRY);
        self.code.clear();
        self.push(PLACEHOLDER);
    }

    fn push(&mut self, slot: Slot) {
        #[cfg(feature = "alloc")]
        self.code.push(slot);
        #[cfg(not(feature = "alloc"))]
        {
            // `decode_run` makes room for a whole run before it starts.
            let _ = self.code.push(slot);
        }
    }

    /// Index in `code` of the instruction at `pc` (which must be in this page) if a run
    /// holding it has been decoded.
    #[inline(always)]
    fn decoded(&self, page_base: u64, pc: u64) -> Option<usize> {
        let slot = ((pc - page_base) >> 1) as usize & (SLOTS_PER_PAGE - 1);
        match self.entry[slot] {
            NO_ENTRY => None,
            k => Some(k as usize),
        }
    }

    /// Index in `code` of the instruction at `pc` (which must be in this page), decoding a
    /// new straight-line run from there if needed.
    #[inline(always)]
    fn lookup(&mut self, mem: &Memory, page_base: u64, pc: u64) -> Result<usize, Exit> {
        let slot = ((pc - page_base) >> 1) as usize & (SLOTS_PER_PAGE - 1);
        match self.entry[slot] {
            NO_ENTRY => self.decode_run(mem, page_base, pc),
            k => Ok(k as usize),
        }
    }

    /// [`Page::lookup`] for an unlinked direct transfer at page offset `from`: decodes the
    /// target's run if needed and links the transfer at page offset `from` to it: every
    /// slot of it with that target, since an instruction can have several (runs entered
    /// part-way, runs decoded on through a jump or a loop's branch). Naming the transfer by
    /// offset rather than by slot keeps the hot loop to one induction variable (passing the
    /// slot's index made the compiler keep a second one: +4-9%); the scan runs once per
    /// unlinked slot taken.
    #[cold]
    #[inline(never)]
    fn lookup_linking(
        &mut self,
        mem: &Memory,
        page_base: u64,
        pc: u64,
        from: u16,
    ) -> Result<usize, Exit> {
        let target = self.lookup(mem, page_base, pc)?;
        let to = Some((pc - page_base) as u16);
        // Copies come after the first, which the entry table names.
        let first = usize::from(self.entry[usize::from(from >> 1) & (SLOTS_PER_PAGE - 1)]);
        for slot in self.code.iter_mut().skip(first) {
            // A copy of a folded branch has the fall-through as its target, not `pc`.
            let to_target = target_in_page(slot.pc_off, slot.insn.imm);
            if slot.pc_off == from && links_directly(slot.insn.op) && to_target == to {
                link(&mut slot.insn, target);
            }
        }
        Ok(target)
    }

    #[cold]
    fn decode_run(&mut self, mem: &Memory, page_base: u64, start: u64) -> Result<usize, Exit> {
        if self.code.len() + MAX_RUN + 1 > CODE_CAPACITY {
            self.clear();
        }
        let first = self.code.len();
        let mut pc = start;
        let (mut jumps_folded, mut branches_folded) = (0, 0);
        // The instruction before is a jump hidden in its slot: not to be fused across.
        let mut after_hidden_jump = false;
        loop {
            let off = (pc - page_base) as u16;
            if self.code.len() - first >= MAX_RUN || pc - page_base >= 1 << PAGE_SHIFT {
                self.push(continue_at(off));
                break;
            }
            let mut insn = match fetch_decode(mem, pc) {
                Ok(i) => i,
                Err(e) if self.code.len() == first => return Err(e),
                // Fault when (and if) execution gets there, not now.
                Err(_) => {
                    self.push(continue_at(off));
                    break;
                }
            };
            let at = pc;
            pc += u64::from(insn.len);
            // A plain jump inside the page (the `j` closing a loop body, or joining the
            // arms of an if) is decoded through: the run goes on at its target. It gets no
            // slot of its own but counts in the previous one's instructions (see
            // `hidden_jump_after`), so taking it costs nothing; first in a run, it keeps a
            // slot that does nothing.
            if insn.op == Op::Jal && insn.rd == SINK && jumps_folded < MAX_JUMPS_FOLDED {
                if let Some(target) = target_in_page(off, insn.imm) {
                    jumps_folded += 1;
                    pc = page_base + u64::from(target);
                    // Not after a folded branch or another hidden jump: stepping could not
                    // tell the jump's own pc.
                    let hide_in = self.code.len().checked_sub(1).filter(|&last| {
                        last >= first
                            && !after_hidden_jump
                            && !is_folded_branch(&self.code[last].insn)
                    });
                    if let Some(last) = hide_in {
                        self.code[last].to_end += 1;
                        after_hidden_jump = true;
                        continue;
                    }
                    insn.op = Op::JalFolded;
                }
            }
            // A backward conditional branch inside the page (a loop's) is decoded through
            // as if taken, which it nearly always is: inverted, with the fall-through as
            // its target, so leaving the loop leaves the run. A loop then enters its run
            // once every few iterations instead of every one.
            if insn.imm < 0 && branches_folded < MAX_BRANCHES_FOLDED {
                let target = target_in_page(off, insn.imm);
                if let (Some(inverse), Some(target)) = (inverse_branch(insn.op), target) {
                    insn.op = inverse;
                    insn.imm = i32::from(insn.len);
                    insn.rd = FOLDED_BRANCH_RD;
                    branches_folded += 1;
                    pc = page_base + u64::from(target);
                }
            }
            if matches!(insn.op, Op::Flw | Op::Fsw) {
                // Single-precision loads and stores share the double-precision arms, which
                // tell them apart by this (see `SINGLE_WIDTH`).
                insn.rm = SINGLE_WIDTH;
            }
            if links_directly(insn.op) {
                // Not linked to its target yet (see `direct_transfer` in `run_page`).
                (insn.rs3, insn.rm) = (0, 0);
            }
            // The second of a fused pair gets no slot (and no entry: a jump to it decodes a
            // run of its own).
            if self.code.len() > first && !core::mem::take(&mut after_hidden_jump) {
                let last = self.code.len() - 1;
                if let Some(fused) = fuse(&self.code[last].insn, &insn) {
                    let first_pc = at - u64::from(self.code[last].insn.len);
                    self.code[last].insn = constant_address(fused, first_pc).unwrap_or(fused);
                    self.code[last].to_end += 1;
                    if ends_run(fused.op) {
                        break;
                    }
                    continue;
                }
            }
            let slot = (off >> 1) as usize;
            if self.entry[slot] == NO_ENTRY {
                // Below CODE_CAPACITY, so it fits.
                self.entry[slot] = self.code.len() as u16;
            }
            // The slot's own instruction count until the run is complete.
            self.push(Slot {
                insn,
                pc_off: off,
                to_end: 1,
            });
            if ends_run(insn.op) {
                break;
            }
        }
        let end = self.code.len();
        let real = if self.code[end - 1].insn.op == Op::Undecoded {
            end - 1
        } else {
            end
        };
        // Each slot holds its own instruction count so far (see `Slot::to_end`); summed
        // from the run's end, they become what is left of the run.
        let mut to_end = 0;
        for slot in self.code[first..real].iter_mut().rev() {
            to_end += slot.to_end;
            slot.to_end = to_end;
        }
        // Link the run's direct transfers to targets already decoded (loops, mostly).
        for slot in &mut self.code[first..real] {
            if !links_directly(slot.insn.op) {
                continue;
            }
            if let Some(offset) = target_in_page(slot.pc_off, slot.insn.imm) {
                let target = self.entry[usize::from(offset >> 1)];
                if target != NO_ENTRY {
                    link(&mut slot.insn, usize::from(target));
                }
            }
        }
        Ok(first)
    }
}

/// How stepping part of a run (when the budget does not cover all of it) ended.
enum Stepped {
    /// Every instruction asked for ran, in sequence; `next` is the pc after them.
    All { next: u64 },
    /// A branch was taken: `done` instructions retired, including the branch.
    Branched { done: usize, target: u64 },
}

/// An instruction that stopped a stepped run: `done` retired before it.
struct StepExit {
    done: usize,
    pc: u64,
    insn: Insn,
    flow: Flow,
}

/// Operations that end a straight-line run: after them execution never simply goes on with
/// the following instruction. Conditional branches do not end runs: not taken, they fall
/// through to the next slot at no cost; taken, they give back the rest of the run's charge.
fn ends_run(op: Op) -> bool {
    use Op::*;
    matches!(op, Jal | Jalr | AddJalr | Ecall | Ebreak | FenceI | Illegal)
}

/// Direct transfers, whose slots keep the index of their target slot in `rs3`/`rm` (a
/// `u16`, little-endian; [`NO_ENTRY`] while not linked) when the target is in the same
/// page and was decoded before the transfer or because of it.
fn links_directly(op: Op) -> bool {
    use Op::*;
    matches!(op, Jal | Beq | Bne | Blt | Bge | Bltu | Bgeu)
}

/// The page offset of the direct transfer at page offset `from` with offset `imm`, if its
/// target is in the same page.
fn target_in_page(from: u16, imm: i32) -> Option<u16> {
    let offset = i64::from(from) + i64::from(imm);
    u16::try_from(offset)
        .ok()
        .filter(|&o| u64::from(o) < 1 << PAGE_SHIFT)
}

/// The branch taken exactly when `op` is not, for the conditional branches.
fn inverse_branch(op: Op) -> Option<Op> {
    use Op::*;
    Some(match op {
        Beq => Bne,
        Bne => Beq,
        Blt => Bge,
        Bge => Blt,
        Bltu => Bgeu,
        Bgeu => Bltu,
        _ => return None,
    })
}

/// Whether `insn` is a branch decoded through (see `decode_run`): its slot is followed by
/// its original target's, and taking it (to the fall-through) leaves the run.
fn is_folded_branch(insn: &Insn) -> bool {
    inverse_branch(insn.op).is_some() && insn.rd == FOLDED_BRANCH_RD
}

/// Whether a plain jump decoded through is hidden after `slot`, which holds `count`
/// instructions and is followed in its run by `next` (see `decode_run`): the slot counts one
/// more. The jump's pc is the one after the slot's instructions; its target is `next`'s.
fn hidden_jump_after(slot: &Slot, count: usize, next: &Slot) -> bool {
    let own = slot.to_end.checked_sub(next.to_end);
    own.is_some_and(|own| usize::from(own) > count)
}

/// Records slot index `target` in a direct transfer (see `links_directly`).
fn link(transfer: &mut Insn, target: usize) {
    // Indices fit in u16 (see CODE_CAPACITY).
    (transfer.rs3, transfer.rm) = (target as u16).to_le_bytes().into();
}

/// The operation that runs `first` and then `second` (adjacent in one run) in one dispatch,
/// for the pairs compilers emit most (array indexing, hashing, pointer walks, address and
/// constant building; measured by stepping the bench guests and Debian's bc); `None` for
/// any other pair. Only `add` + `jalr` (a `switch` through a jump table) transfers, in its
/// second half, and ends its run like a `jalr`. Only loads fault: a load first faults before
/// anything retires, a load second after the first half retired. When the budget ends
/// between the halves, `step_within_run` runs them one by one.
///
/// Fields: `rd` = first's rd; shift pairs: `rs1` = shift source, `imm` = shift amount |
/// first's length << 8, `rs2`/`rs3`/`rm` = second's rd/rs1/rs2; upper-immediate pairs:
/// `imm` = first's immediate, `rs1`/`rs2` = second's rs1/rd, `rs3`/`rm` = second's 12-bit
/// immediate with bit 12 set when the first is 4 bytes long; load + `addi r, r, i`: `rs1`
/// and `imm` = the load's, `rs2` = r, `rs3`/`rm` = i as in upper-immediate pairs;
/// `add` + load: `rs1`/`rs2` = the add's, `rs3`/`rm`/`imm` = the load's rd/rs1/offset,
/// fused only when the first's length follows from `len` (see [`add_load_first_len`]);
/// `addi` + `addi r, r, i` as load + addi; register pairs (`add` + `add`, `mulw` + `addw`):
/// `rs1`/`rs2` = the first's, `rs3`/`rm` = the second's rd/rs1, `imm` = the second's rs2 |
/// the first's length << 8; `lbu` + `lbu` and `ld` + `ld`: `rs1`/`imm` = the first's,
/// `rs2`/`rs3` = the second's rd/rs1, `rm` = the second's offset (fused only when it fits an
/// `i8`), lengths as in `add` + load; `add` + `jalr`: as register pairs, but `imm` = the `jalr`'s offset << 8
/// | the first's length. `len` covers both.
///
/// A shift + add pair fuses once more with a load through the sum, when the shift and the
/// add write the load's base register A and the add's other operand is not A: `rd` = A,
/// `rs1` = the shift's source, `rs2` = the add's other operand, `rs3` = the load's rd,
/// `imm` = shift amount | the shift's length << 8 | the add's << 12 | the load's offset
/// << 16. A fault in the load retires the first two.
///
/// Shift pairs that extend a register (rv64gc has no `zext.w` or `sext.b`) become the
/// operation that extends it: see [`shift_pair_extension`].
fn fuse(first: &Insn, second: &Insn) -> Option<Insn> {
    let shift_pair = |op| Insn {
        op,
        rd: first.rd,
        rs1: first.rs1,
        rs2: second.rd,
        rs3: second.rs1,
        rm: second.rs2,
        len: first.len + second.len,
        imm: (first.imm & 63) | i32::from(first.len) << 8,
    };
    let upper_pair = |op| {
        let packed = (second.imm as u16 & 0xfff) | if first.len == 4 { 0x1000 } else { 0 };
        let [rs3, rm] = packed.to_le_bytes();
        Insn {
            op,
            rd: first.rd,
            rs1: second.rs1,
            rs2: second.rd,
            rs3,
            rm,
            len: first.len + second.len,
            imm: first.imm,
        }
    };
    let load_addi = |op| {
        if second.rd != second.rs1 {
            return None;
        }
        Some(Insn {
            rs1: first.rs1,
            ..upper_pair(op)
        })
    };
    let register_pair = |op| Insn {
        op,
        rd: first.rd,
        rs1: first.rs1,
        rs2: first.rs2,
        rs3: second.rd,
        rm: second.rs1,
        len: first.len + second.len,
        imm: i32::from(second.rs2) | i32::from(first.len) << 8,
    };
    let load_load = |op| {
        let len = first.len + second.len;
        let offset = i8::try_from(second.imm).ok()?;
        if add_load_first_len(len) != first.len {
            return None;
        }
        Some(Insn {
            op,
            rd: first.rd,
            rs1: first.rs1,
            rs2: second.rd,
            rs3: second.rs1,
            rm: offset as u8,
            len,
            imm: first.imm,
        })
    };
    let add_load = |op| {
        let len = first.len + second.len;
        if add_load_first_len(len) != first.len {
            return None;
        }
        Some(Insn {
            op,
            rd: first.rd,
            rs1: first.rs1,
            rs2: first.rs2,
            rs3: second.rd,
            rm: second.rs1,
            len,
            imm: second.imm,
        })
    };
    Some(match (first.op, second.op) {
        (Op::Slli, Op::Add) => shift_pair(Op::SlliAdd),
        (Op::Srli, Op::Xor) => shift_pair(Op::SrliXor),
        (Op::Auipc, Op::Addi) => upper_pair(Op::AuipcAddi),
        (Op::Lui, Op::Addi) => upper_pair(Op::LuiAddi),
        (Op::Lui, Op::Addiw) => upper_pair(Op::LuiAddiw),
        (Op::Ld, Op::Addi) => return load_addi(Op::LdAddi),
        (Op::Lw, Op::Addi) => return load_addi(Op::LwAddi),
        (Op::Lbu, Op::Addi) => return load_addi(Op::LbuAddi),
        (Op::Add, Op::Ld) => return add_load(Op::AddLd),
        (Op::Add, Op::Lw) => return add_load(Op::AddLw),
        (Op::Add, Op::Lbu) => return add_load(Op::AddLbu),
        (Op::Addi, Op::Addi) => return load_addi(Op::AddiAddi),
        (Op::Add, Op::Add) => register_pair(Op::AddAdd),
        (Op::Mulw, Op::Addw) => register_pair(Op::MulwAddw),
        (Op::Lbu, Op::Lbu) => return load_load(Op::LbuLbu),
        (Op::Ld, Op::Ld) => return load_load(Op::LdLd),
        (Op::Add, Op::Jalr) => Insn {
            imm: second.imm << 8 | i32::from(first.len),
            ..register_pair(Op::AddJalr)
        },
        (Op::SlliAdd, Op::Lw) => return slli_add_load(first, second, Op::SlliAddLw),
        (Op::SlliAdd, Op::Ld) => return slli_add_load(first, second, Op::SlliAddLd),
        (Op::Slli | Op::Slliw, Op::Srli | Op::Srai | Op::Srliw | Op::Sraiw) => {
            return shift_pair_extension(first, second)
        }
        (Op::Csrrs, Op::Csrrw) if first.imm & QUIET_PAIR != 0 => {
            return quiet_compare(first, second)
        }
        (Op::Csrrs, _) => return frflags_compare(first, second),
        _ => return None,
    })
}

/// The `fflags` CSR's number.
const CSR_FFLAGS: i32 = 0x001;
/// Marks in the `imm` of a `csrrs` standing for the quiet-comparison idiom (decoded CSR
/// instructions carry only the CSR's 12-bit number there).
const QUIET_PAIR: i32 = 1 << 12;
const QUIET_TRIPLE: i32 = 1 << 13;
/// The comparisons the quiet-comparison idiom may hold, in the order its `imm` numbers them.
const QUIET_COMPARISONS: [Op; 6] = [Op::FeqD, Op::FltD, Op::FleD, Op::FeqS, Op::FltS, Op::FleS];

/// `frflags t` and then a comparison whose result does not go to `t`, as one operation: the
/// first two of the quiet-comparison idiom `frflags t; flt/fle/feq; fsflags t`, with which
/// C code compares without raising flags (`isless`, and the domain check of every `sqrt()`
/// call). It stays a `csrrs` (a new operation made the hot loop's code worse for every
/// guest, +0.8-1% host instructions, as new arms have before; the idiom runs out of line):
/// `rd`/`rs1` = the `frflags`', `rs2`/`rs3`/`rm` = the comparison's rd/rs1/rs2, `imm` =
/// the CSR | [`QUIET_PAIR`] | the comparison's index in [`QUIET_COMPARISONS`] << 16. All
/// three instructions are 4 bytes long: the C extension has no CSR or FP comparison forms.
fn frflags_compare(frflags: &Insn, compare: &Insn) -> Option<Insn> {
    let t = frflags.rd;
    if frflags.imm != CSR_FFLAGS || frflags.rs1 != 0 || t == SINK || compare.rd == t {
        return None;
    }
    let index = QUIET_COMPARISONS.iter().position(|&op| op == compare.op)?;
    Some(Insn {
        rs2: compare.rd,
        rs3: compare.rs1,
        rm: compare.rs2,
        len: frflags.len + compare.len,
        imm: CSR_FFLAGS | QUIET_PAIR | (index as i32) << 16,
        ..*frflags
    })
}

/// The quiet-comparison idiom completed by `fsflags t` (`csrrw x0, fflags, t`): the flags
/// the comparison may raise are thrown away. Marked [`QUIET_TRIPLE`] as well.
fn quiet_compare(pair: &Insn, fsflags: &Insn) -> Option<Insn> {
    let restores = fsflags.imm == CSR_FFLAGS && fsflags.rs1 == pair.rd && fsflags.rd == SINK;
    (restores && pair.imm & QUIET_TRIPLE == 0).then_some(Insn {
        len: pair.len + fsflags.len,
        imm: pair.imm | QUIET_TRIPLE,
        ..*pair
    })
}

/// The comparison of the quiet-comparison idiom on raw register values, raising nothing.
fn quiet_comparison(index: i32, d1: u64, d2: u64) -> bool {
    let mut ignored = 0;
    let (s1, s2) = (unbox32(d1), unbox32(d2));
    match index {
        0 => fpu::f64_eq(d1, d2, &mut ignored),
        1 => fpu::f64_lt(d1, d2, &mut ignored),
        2 => fpu::f64_le(d1, d2, &mut ignored),
        3 => fpu::f32_eq(s1, s2, &mut ignored),
        4 => fpu::f32_lt(s1, s2, &mut ignored),
        _ => fpu::f32_le(s1, s2, &mut ignored),
    }
}

/// `pair` (a fused shift + add) and then `load` as one operation, if its registers allow
/// (see `fuse`).
fn slli_add_load(pair: &Insn, load: &Insn, op: Op) -> Option<Insn> {
    let (shift, add) = unfuse(pair)?;
    let base = shift.rd;
    let other = match (add.rs1 == base, add.rs2 == base) {
        (true, false) => add.rs2,
        (false, true) => add.rs1,
        _ => return None,
    };
    if add.rd != base || load.rs1 != base {
        return None;
    }
    Some(Insn {
        op,
        rd: base,
        rs1: shift.rs1,
        rs2: other,
        rs3: load.rd,
        rm: 0,
        len: pair.len + load.len,
        imm: shift.imm | i32::from(shift.len) << 8 | i32::from(add.len) << 12 | load.imm << 16,
    })
}

/// A left shift of A into B and a right shift of B in place, when the two compute a zero or
/// sign extension that one instruction's code in the hot loop computes (a `Pair*`
/// operation, run as that instruction): `rd` = B, `rs1` = A, `rs2` = x0, `imm` = the
/// `slli.uw` shift (zero otherwise); `rs3` = the left shift's amount | 0x40 for the word
/// forms | 0x80 when the first is 4 bytes long, `rm` = the right shift's amount.
fn shift_pair_extension(first: &Insn, second: &Insn) -> Option<Insn> {
    if second.rd != first.rd || second.rs1 != first.rd {
        return None;
    }
    let (left, right) = (first.imm & 63, second.imm & 63);
    let (op, imm) = match (first.op, second.op, left, right) {
        (Op::Slli, Op::Srli, 32, right) if right <= 32 => (Op::PairSlliUw, 32 - right),
        (Op::Slli, Op::Srai, 56, 56) | (Op::Slliw, Op::Sraiw, 24, 24) => (Op::PairSextB, 0),
        (Op::Slli, Op::Srai, 48, 48) | (Op::Slliw, Op::Sraiw, 16, 16) => (Op::PairSextH, 0),
        (Op::Slli, Op::Srli, 48, 48) | (Op::Slliw, Op::Srliw, 16, 16) => (Op::PairZextH, 0),
        (Op::Slli, Op::Srai, 32, 32) => (Op::PairSextW, 0),
        _ => return None,
    };
    let word = first.op == Op::Slliw;
    Some(Insn {
        op,
        rd: first.rd,
        rs1: first.rs1,
        rs2: 0,
        rs3: left as u8 | u8::from(word) << 6 | u8::from(first.len == 4) << 7,
        rm: right as u8,
        len: first.len + second.len,
        imm,
    })
}

/// `auipc r` + `addi r, r` at `pc` (fused as `pair`) as the constant it leaves in r, when
/// that fits `lui`'s sign-extended 32 bits (code below 2 GiB: static programs): `imm` = the
/// constant, `rs3`/`rm` = the `addi`'s immediate and length flag as in `pair`. Only r is
/// written, so the `auipc` alone leaves the constant minus that immediate (see `unfuse`).
fn constant_address(pair: Insn, pc: u64) -> Option<Insn> {
    if pair.op != Op::AuipcAddi || pair.rd != pair.rs1 || pair.rs1 != pair.rs2 {
        return None;
    }
    let low = fused_low_imm(&pair);
    let value = pc.wrapping_add(pair.imm as i64 as u64).wrapping_add(low);
    let imm = i32::try_from(value as i64).ok()?;
    // The `auipc` alone must fit too (see `unfuse`).
    i32::try_from((value as i64).wrapping_sub(low as i64)).ok()?;
    Some(Insn {
        op: Op::AuipcAddiConst,
        imm,
        ..pair
    })
}

/// The instructions a slot's operation stands for (one, two or three), in order.
fn parts(i: &Insn) -> ([Insn; 3], usize) {
    match unfuse(i) {
        None => ([*i, Insn::UNDECODED, Insn::UNDECODED], 1),
        Some((first, second)) => match unfuse(&first) {
            None => ([first, second, Insn::UNDECODED], 2),
            Some((one, two)) => ([one, two, second], 3),
        },
    }
}

/// The length of the `add` in an add + load pair of total length `len`: 4 + 4, 2 + 4 and
/// 2 + 2 are fused (4 + 2 is not, it would be ambiguous with 2 + 4).
#[inline(always)]
fn add_load_first_len(len: u8) -> u8 {
    if len == 8 {
        4
    } else {
        2
    }
}

/// The second instruction's immediate in an upper-immediate pair (see `fuse`).
#[inline(always)]
fn fused_low_imm(i: &Insn) -> u64 {
    ((u16::from_le_bytes([i.rs3, i.rm]) << 4) as i16 >> 4) as i64 as u64
}

/// An instruction with only its operation and length set, for `unfuse` to fill in.
fn blank(op: Op, len: u8) -> Insn {
    Insn {
        op,
        len,
        ..Insn::UNDECODED
    }
}

/// The parts of a `csrrs` that stands for the quiet-comparison idiom (see
/// [`frflags_compare`]); `None` for a plain `csrrs`.
fn unfuse_quiet_compare(i: &Insn) -> Option<(Insn, Insn)> {
    if i.imm & QUIET_TRIPLE != 0 {
        let pair = Insn {
            len: i.len - 4,
            imm: i.imm & !QUIET_TRIPLE,
            ..*i
        };
        let fsflags = Insn {
            rd: SINK,
            rs1: i.rd,
            imm: CSR_FFLAGS,
            ..blank(Op::Csrrw, 4)
        };
        return Some((pair, fsflags));
    }
    if i.imm & QUIET_PAIR != 0 {
        let frflags = Insn {
            rd: i.rd,
            imm: CSR_FFLAGS,
            ..blank(Op::Csrrs, 4)
        };
        let compare_op = QUIET_COMPARISONS.get((i.imm >> 16) as usize).copied();
        let compare = Insn {
            rd: i.rs2,
            rs1: i.rs3,
            rs2: i.rm,
            ..blank(compare_op.unwrap_or(Op::Illegal), i.len - 4)
        };
        return Some((frflags, compare));
    }
    None
}

/// The two instructions a fused operation stands for, `None` for any other operation.
fn unfuse(i: &Insn) -> Option<(Insn, Insn)> {
    let (first_op, second_op) = match i.op {
        Op::SlliAdd => (Op::Slli, Op::Add),
        Op::SrliXor => (Op::Srli, Op::Xor),
        Op::AuipcAddi => (Op::Auipc, Op::Addi),
        Op::LuiAddi => (Op::Lui, Op::Addi),
        Op::LuiAddiw => (Op::Lui, Op::Addiw),
        Op::LdAddi => (Op::Ld, Op::Addi),
        Op::LwAddi => (Op::Lw, Op::Addi),
        Op::LbuAddi => (Op::Lbu, Op::Addi),
        Op::AddLd => (Op::Add, Op::Ld),
        Op::AddLw => (Op::Add, Op::Lw),
        Op::AddLbu => (Op::Add, Op::Lbu),
        Op::AddiAddi => (Op::Addi, Op::Addi),
        Op::AddAdd => (Op::Add, Op::Add),
        Op::MulwAddw => (Op::Mulw, Op::Addw),
        Op::LbuLbu => (Op::Lbu, Op::Lbu),
        Op::LdLd => (Op::Ld, Op::Ld),
        Op::AddJalr => (Op::Add, Op::Jalr),
        Op::SlliAddLw => (Op::SlliAdd, Op::Lw),
        Op::SlliAddLd => (Op::SlliAdd, Op::Ld),
        Op::AuipcAddiConst => (Op::Lui, Op::Addi),
        Op::PairSlliUw | Op::PairZextH => (Op::Slli, Op::Srli),
        Op::PairSextB | Op::PairSextH | Op::PairSextW => (Op::Slli, Op::Srai),
        Op::Csrrs => return unfuse_quiet_compare(i),
        _ => return None,
    };
    if matches!(
        i.op,
        Op::PairSlliUw | Op::PairSextB | Op::PairSextH | Op::PairZextH | Op::PairSextW
    ) {
        let word = i.rs3 & 0x40 != 0;
        let (first_op, second_op) = match (word, second_op) {
            (false, _) => (first_op, second_op),
            (true, Op::Srli) => (Op::Slliw, Op::Srliw),
            (true, _) => (Op::Slliw, Op::Sraiw),
        };
        let first_len = if i.rs3 & 0x80 != 0 { 4 } else { 2 };
        let first = Insn {
            rd: i.rd,
            rs1: i.rs1,
            imm: i32::from(i.rs3 & 63),
            ..blank(first_op, first_len)
        };
        let second = Insn {
            rd: i.rd,
            rs1: i.rd,
            imm: i32::from(i.rm),
            ..blank(second_op, i.len - first_len)
        };
        return Some((first, second));
    }
    if i.op == Op::AuipcAddiConst {
        let first_len = if i.rm & 0x10 != 0 { 4 } else { 2 };
        let low = fused_low_imm(i);
        let upper = Insn {
            rd: i.rd,
            imm: (i.imm as i64 as u64).wrapping_sub(low) as i32,
            ..blank(first_op, first_len)
        };
        let addi = Insn {
            rd: i.rd,
            rs1: i.rd,
            imm: low as i32,
            ..blank(second_op, i.len - first_len)
        };
        return Some((upper, addi));
    }
    if matches!(i.op, Op::SlliAddLw | Op::SlliAddLd) {
        // The first half is the fused shift + add, which `parts` splits again.
        let (shift_len, add_len) = ((i.imm >> 8 & 15) as u8, (i.imm >> 12 & 15) as u8);
        let pair = Insn {
            rd: i.rd,
            rs1: i.rs1,
            rs2: i.rd,
            rs3: i.rd,
            rm: i.rs2,
            imm: (i.imm & 63) | i32::from(shift_len) << 8,
            ..blank(first_op, shift_len + add_len)
        };
        let load = Insn {
            rd: i.rs3,
            rs1: i.rd,
            imm: i.imm >> 16,
            ..blank(second_op, i.len - shift_len - add_len)
        };
        return Some((pair, load));
    }
    if i.op == Op::AddJalr {
        let first_len = i.imm as u8;
        let first = Insn {
            rd: i.rd,
            rs1: i.rs1,
            rs2: i.rs2,
            ..blank(first_op, first_len)
        };
        let second = Insn {
            rd: i.rs3,
            rs1: i.rm,
            imm: i.imm >> 8,
            ..blank(second_op, i.len - first_len)
        };
        return Some((first, second));
    }
    if matches!(i.op, Op::LbuLbu | Op::LdLd) {
        let first_len = add_load_first_len(i.len);
        let first = Insn {
            rd: i.rd,
            rs1: i.rs1,
            imm: i.imm,
            ..blank(first_op, first_len)
        };
        let second = Insn {
            rd: i.rs2,
            rs1: i.rs3,
            imm: i32::from(i.rm as i8),
            ..blank(second_op, i.len - first_len)
        };
        return Some((first, second));
    }
    if matches!(i.op, Op::AddAdd | Op::MulwAddw) {
        let first_len = (i.imm >> 8) as u8;
        let first = Insn {
            rd: i.rd,
            rs1: i.rs1,
            rs2: i.rs2,
            ..blank(first_op, first_len)
        };
        let second = Insn {
            rd: i.rs3,
            rs1: i.rm,
            rs2: i.imm as u8,
            ..blank(second_op, i.len - first_len)
        };
        return Some((first, second));
    }
    if matches!(i.op, Op::AddLd | Op::AddLw | Op::AddLbu) {
        let first_len = add_load_first_len(i.len);
        let first = Insn {
            rd: i.rd,
            rs1: i.rs1,
            rs2: i.rs2,
            ..blank(first_op, first_len)
        };
        let second = Insn {
            rd: i.rs3,
            rs1: i.rm,
            imm: i.imm,
            ..blank(second_op, i.len - first_len)
        };
        return Some((first, second));
    }
    if matches!(i.op, Op::SlliAdd | Op::SrliXor) {
        let first_len = (i.imm >> 8) as u8;
        let first = Insn {
            rd: i.rd,
            rs1: i.rs1,
            imm: i.imm & 63,
            ..blank(first_op, first_len)
        };
        let second = Insn {
            rd: i.rs2,
            rs1: i.rs3,
            rs2: i.rm,
            ..blank(second_op, i.len - first_len)
        };
        return Some((first, second));
    }
    let first_len = if i.rm & 0x10 != 0 { 4 } else { 2 };
    // The upper-immediate layout also carries pairs whose first half reads a register
    // (load + addi, addi + addi); their second half reads the register it writes.
    let first_reads_rs1 = matches!(i.op, Op::LdAddi | Op::LwAddi | Op::LbuAddi | Op::AddiAddi);
    let first = Insn {
        rd: i.rd,
        rs1: if first_reads_rs1 { i.rs1 } else { 0 },
        imm: i.imm,
        ..blank(first_op, first_len)
    };
    let second = Insn {
        rd: i.rs2,
        rs1: if first_reads_rs1 { i.rs2 } else { i.rs1 },
        imm: fused_low_imm(i) as i32,
        ..blank(second_op, i.len - first_len)
    };
    Some((first, second))
}

/// Pre-decoded code, per guest page.
#[cfg(feature = "alloc")]
#[derive(Clone, Default)]
pub struct CodeCache {
    pages: alloc::vec::Vec<Option<alloc::boxed::Box<Page>>>,
}

/// Without an allocator the cache holds the one page being executed.
#[cfg(not(feature = "alloc"))]
#[derive(Clone)]
pub struct CodeCache {
    page_no: Option<u64>,
    page: Page,
}

#[cfg(not(feature = "alloc"))]
impl Default for CodeCache {
    fn default() -> Self {
        CodeCache {
            page_no: None,
            page: Page::new(),
        }
    }
}

impl core::fmt::Debug for CodeCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        #[cfg(feature = "alloc")]
        let cached = self.pages.iter().filter(|p| p.is_some()).count();
        #[cfg(not(feature = "alloc"))]
        let cached = usize::from(self.page_no.is_some());
        f.debug_struct("CodeCache").field("pages", &cached).finish()
    }
}

impl CodeCache {
    /// Forget every decoded instruction (fence.i, exec).
    pub fn flush(&mut self) {
        #[cfg(feature = "alloc")]
        self.pages.clear();
        #[cfg(not(feature = "alloc"))]
        {
            self.page_no = None;
        }
    }

    /// Forget decoded instructions overlapping `addr..addr+len` (a write or remap over code).
    pub fn invalidate(&mut self, addr: u64, len: u64) {
        if len == 0 {
            return;
        }
        // An instruction may start in the page before and straddle into this range.
        let first = (addr >> PAGE_SHIFT).saturating_sub(1);
        let last = addr.saturating_add(len - 1) >> PAGE_SHIFT;
        #[cfg(feature = "alloc")]
        {
            let end = (last + 1).min(self.pages.len() as u64);
            for p in first..end {
                self.pages[p as usize] = None;
            }
        }
        #[cfg(not(feature = "alloc"))]
        if self.page_no.is_some_and(|p| (first..=last).contains(&p)) {
            self.page_no = None;
        }
    }

    fn page(&mut self, page_no: u64, mem_size: u64) -> Option<&mut Page> {
        if page_no >= mem_size.div_ceil(1 << PAGE_SHIFT) {
            return None;
        }
        #[cfg(feature = "alloc")]
        {
            let idx = page_no as usize;
            if idx >= self.pages.len() {
                self.pages.resize(idx + 1, None);
            }
            Some(self.pages[idx].get_or_insert_with(Page::new_boxed))
        }
        #[cfg(not(feature = "alloc"))]
        {
            if self.page_no != Some(page_no) {
                self.page.clear();
                self.page_no = Some(page_no);
            }
            Some(&mut self.page)
        }
    }
}

/// Operations whose `rd` names an FP register (so x0 remapping must not touch it).
fn writes_fp_rd(op: Op) -> bool {
    use Op::*;
    matches!(
        op,
        Flw | Fld
            | FmaddS
            | FmsubS
            | FnmsubS
            | FnmaddS
            | FaddS
            | FsubS
            | FmulS
            | FdivS
            | FsqrtS
            | FsgnjS
            | FsgnjnS
            | FsgnjxS
            | FminS
            | FmaxS
            | FcvtSW
            | FcvtSWu
            | FcvtSL
            | FcvtSLu
            | FmvWX
            | FmaddD
            | FmsubD
            | FnmsubD
            | FnmaddD
            | FaddD
            | FsubD
            | FmulD
            | FdivD
            | FsqrtD
            | FsgnjD
            | FsgnjnD
            | FsgnjxD
            | FminD
            | FmaxD
            | FcvtSD
            | FcvtDS
            | FcvtDW
            | FcvtDWu
            | FcvtDL
            | FcvtDLu
            | FmvDX
    )
}

/// Decode the instruction at `pc` into its executable form.
fn fetch_decode(mem: &Memory, pc: u64) -> Result<Insn, Exit> {
    let fault = |f: MemFault| Exit::Fault {
        addr: f.addr,
        access: Access::Fetch,
    };
    let low = mem.read_u16(pc).map_err(fault)?;
    let mut insn = if isa::instruction_length(low) == 2 {
        isa::decode_compressed(low)
    } else {
        let high = mem.read_u16(pc.wrapping_add(2)).map_err(fault)?;
        isa::decode_word(u32::from(low) | u32::from(high) << 16)
    };
    if insn.rd == 0 && !writes_fp_rd(insn.op) {
        insn.rd = SINK;
    }
    Ok(insn)
}

#[inline(always)]
fn unbox32(v: u64) -> u32 {
    if v >> 32 == 0xffff_ffff {
        v as u32
    } else {
        fpu::CANONICAL_NAN_F32
    }
}

#[inline(always)]
fn box32(v: u32) -> u64 {
    0xffff_ffff_0000_0000 | u64::from(v)
}

#[inline(always)]
fn sext32(v: u64) -> u64 {
    v as i32 as i64 as u64
}

/// The value a pure integer operation (RV64I/M register and immediate arithmetic, Zba, Zbb,
/// Zbs, Zicond) writes to `rd`, from its operands; `None` for every other operation.
/// Inlined with a constant `op` into the hot loop's arms, so each arm compiles to its own
/// few instructions; `execute` shares it so both paths compute the same thing.
#[inline(always)]
fn int_op(op: Op, a: u64, b: u64, imm: u64) -> Option<u64> {
    Some(match op {
        Op::Lui => imm,
        Op::Addi => a.wrapping_add(imm),
        Op::Slti => ((a as i64) < (imm as i64)) as u64,
        Op::Sltiu => (a < imm) as u64,
        Op::Xori => a ^ imm,
        Op::Ori => a | imm,
        Op::Andi => a & imm,
        Op::Slli => a << (imm & 63),
        Op::Srli => a >> (imm & 63),
        Op::Srai => ((a as i64) >> (imm & 63)) as u64,
        Op::Add => a.wrapping_add(b),
        Op::Sub => a.wrapping_sub(b),
        Op::Sll => a << (b & 63),
        Op::Slt => ((a as i64) < (b as i64)) as u64,
        Op::Sltu => (a < b) as u64,
        Op::Xor => a ^ b,
        Op::Srl => a >> (b & 63),
        Op::Sra => ((a as i64) >> (b & 63)) as u64,
        Op::Or => a | b,
        Op::And => a & b,
        Op::Addiw => sext32(a.wrapping_add(imm)),
        Op::Slliw => sext32(((a as u32) << (imm & 31)) as u64),
        Op::Srliw => sext32(((a as u32) >> (imm & 31)) as u64),
        Op::Sraiw => ((a as i32) >> (imm & 31)) as i64 as u64,
        Op::Addw => sext32(a.wrapping_add(b)),
        Op::Subw => sext32(a.wrapping_sub(b)),
        Op::Sllw => sext32(((a as u32) << (b & 31)) as u64),
        Op::Srlw => sext32(((a as u32) >> (b & 31)) as u64),
        Op::Sraw => ((a as i32) >> (b & 31)) as i64 as u64,
        Op::Mul => a.wrapping_mul(b),
        Op::Mulh => ((i128::from(a as i64) * i128::from(b as i64)) >> 64) as u64,
        Op::Mulhsu => ((i128::from(a as i64) * i128::from(b)) >> 64) as u64,
        Op::Mulhu => ((u128::from(a) * u128::from(b)) >> 64) as u64,
        Op::Div => {
            if b == 0 {
                u64::MAX
            } else {
                (a as i64).wrapping_div(b as i64) as u64
            }
        }
        Op::Divu => a.checked_div(b).unwrap_or(u64::MAX),
        Op::Rem => {
            if b == 0 {
                a
            } else {
                (a as i64).wrapping_rem(b as i64) as u64
            }
        }
        Op::Remu => {
            if b == 0 {
                a
            } else {
                a % b
            }
        }
        Op::Mulw => sext32(a.wrapping_mul(b)),
        Op::Divw => {
            let (a, b) = (a as i32, b as i32);
            if b == 0 {
                u64::MAX
            } else {
                a.wrapping_div(b) as i64 as u64
            }
        }
        Op::Divuw => {
            let (a, b) = (a as u32, b as u32);
            a.checked_div(b).map_or(u64::MAX, |q| sext32(u64::from(q)))
        }
        Op::Remw => {
            let (a, b) = (a as i32, b as i32);
            if b == 0 {
                a as i64 as u64
            } else {
                a.wrapping_rem(b) as i64 as u64
            }
        }
        Op::Remuw => {
            let (a, b) = (a as u32, b as u32);
            if b == 0 {
                sext32(a as u64)
            } else {
                sext32((a % b) as u64)
            }
        }

        // Zba
        Op::AddUw => b.wrapping_add(a & 0xffff_ffff),
        Op::Sh1add => b.wrapping_add(a << 1),
        Op::Sh2add => b.wrapping_add(a << 2),
        Op::Sh3add => b.wrapping_add(a << 3),
        Op::Sh1addUw => b.wrapping_add((a & 0xffff_ffff) << 1),
        Op::Sh2addUw => b.wrapping_add((a & 0xffff_ffff) << 2),
        Op::Sh3addUw => b.wrapping_add((a & 0xffff_ffff) << 3),
        Op::SlliUw => (a & 0xffff_ffff) << (imm & 63),
        // Zbb
        Op::Andn => a & !b,
        Op::Orn => a | !b,
        Op::Xnor => !(a ^ b),
        Op::Clz => u64::from(a.leading_zeros()),
        Op::Clzw => u64::from((a as u32).leading_zeros()),
        Op::Ctz => u64::from(a.trailing_zeros()),
        Op::Ctzw => u64::from((a as u32).trailing_zeros()),
        Op::Cpop => u64::from(a.count_ones()),
        Op::Cpopw => u64::from((a as u32).count_ones()),
        Op::Max => (a as i64).max(b as i64) as u64,
        Op::Maxu => a.max(b),
        Op::Min => (a as i64).min(b as i64) as u64,
        Op::Minu => a.min(b),
        Op::SextB => a as i8 as i64 as u64,
        Op::SextH => a as i16 as i64 as u64,
        Op::ZextH => a & 0xffff,
        Op::Rol => a.rotate_left((b & 63) as u32),
        Op::Rolw => sext32(u64::from((a as u32).rotate_left((b & 31) as u32))),
        Op::Ror => a.rotate_right((b & 63) as u32),
        Op::Rori => a.rotate_right((imm & 63) as u32),
        Op::Roriw => sext32(u64::from((a as u32).rotate_right((imm & 31) as u32))),
        Op::Rorw => sext32(u64::from((a as u32).rotate_right((b & 31) as u32))),
        Op::OrcB => {
            let mut r = 0u64;
            for byte in 0..8 {
                if (a >> (byte * 8)) & 0xff != 0 {
                    r |= 0xff << (byte * 8);
                }
            }
            r
        }
        Op::Rev8 => a.swap_bytes(),
        // Zbs
        Op::Bclr => a & !(1 << (b & 63)),
        Op::Bclri => a & !(1 << (imm & 63)),
        Op::Bext => (a >> (b & 63)) & 1,
        Op::Bexti => (a >> (imm & 63)) & 1,
        Op::Binv => a ^ (1 << (b & 63)),
        Op::Binvi => a ^ (1 << (imm & 63)),
        Op::Bset => a | (1 << (b & 63)),
        Op::Bseti => a | (1 << (imm & 63)),
        // Zicond
        Op::CzeroEqz => {
            if b == 0 {
                0
            } else {
                a
            }
        }
        Op::CzeroNez => {
            if b != 0 {
                0
            } else {
                a
            }
        }
        _ => return None,
    })
}

impl Cpu {
    /// Run at most `budget` instructions.
    pub fn run(&mut self, mem: &mut Memory, cache: &mut CodeCache, budget: u64) -> Exit {
        let exit = self.run_pages(mem, cache, budget);
        // What writes to x0 left in the sink is no part of the state: which of them ran
        // (jumps decoded through write none) depends on how the budget was split.
        self.x[usize::from(SINK)] = 0;
        exit
    }

    fn run_pages(&mut self, mem: &mut Memory, cache: &mut CodeCache, budget: u64) -> Exit {
        let mut remaining = budget;
        loop {
            if remaining == 0 {
                return Exit::Budget;
            }
            match self.run_page(mem, cache, &mut remaining) {
                None => {}
                Some(Flow::Exit(e)) => return e,
                Some(Flow::FenceI) => cache.flush(),
                // run_page reports refused instructions with their bits already.
                Some(Flow::Unsupported) => return Exit::Illegal { bits: 0 },
            }
        }
    }

    /// Execute from the cached page holding `pc` until control leaves it, the budget
    /// runs out (returns `None` in both cases) or something needs the caller.
    ///
    /// The common integer operations are executed inline here; everything else goes
    /// through the out-of-line [`Cpu::execute`].
    #[inline(never)]
    fn run_page(
        &mut self,
        mem: &mut Memory,
        cache: &mut CodeCache,
        remaining: &mut u64,
    ) -> Option<Flow> {
        let mut pc = self.pc;
        let page_base = pc & !((1 << PAGE_SHIFT) - 1);
        let Some(page) = cache.page(pc >> PAGE_SHIFT, mem.size()) else {
            return Some(Flow::Exit(Exit::Fault {
                addr: pc,
                access: Access::Fetch,
            }));
        };
        let mut k = match page.lookup(mem, page_base, pc) {
            Ok(k) => k,
            Err(e) => return Some(Flow::Exit(e)),
        };
        let mut left = *remaining;
        // Re-borrowed after every decode so the hot path reads straight from the slice.
        let mut code: &[Slot] = &page.code;
        // Charge a whole run on entry; a run that does not fit in the budget is stepped.
        macro_rules! enter_run {
            () => {{
                debug_assert!(k < code.len());
                // SAFETY: `k` is an index `lookup` took from the page's entry table or a
                // direct transfer's link; both only ever hold indices of slots already in
                // `code`, which only grows until it is cleared, and clearing resets both.
                let n = u64::from(unsafe { code.get_unchecked(k) }.to_end);
                if n > left {
                    let retired = *remaining - left;
                    let steps = left as usize;
                    match self.step_within_run(mem, &code[k..], steps, page_base, retired) {
                        Ok(Stepped::All { next }) => {
                            left = 0;
                            pc = next;
                            break None;
                        }
                        Ok(Stepped::Branched { done, target }) => {
                            left -= done as u64;
                            pc = target;
                            break None;
                        }
                        Err(exit) => {
                            left -= exit.done as u64;
                            pc = exit.pc;
                            break Some(with_raw_bits(mem, pc, &exit.insn, exit.flow));
                        }
                    }
                }
                left -= n;
            }};
        }
        let flow = 'runs: loop {
            enter_run!();
            // Inside a run the slots are walked by a pointer to the one executing, advanced
            // before the dispatch; `k` changes only between runs. Stepping `k` itself let
            // the compiler keep an index beside the pointer whenever the match grew an arm
            // (+8-16% on every guest, twice); this shape also spares a register copy.
            debug_assert!(k >= 1);
            // SAFETY: `k - 1` is inside `code`: `enter_run!` checked that `k` is, and no run
            // starts at 0, which holds the placeholder (entry tables and links use 0 for
            // "none"; decoding appends after it).
            let mut cursor = unsafe { code.as_ptr().add(k - 1) };
            loop {
                // SAFETY: the cursor starts just before a run's first slot and steps forward
                // inside the run; every run ends in a slot that leaves this loop (a control
                // transfer, a trap, or the `continue_at` sentinel), so it never passes the
                // end of `code`, which is not re-borrowed while a run executes.
                let slot = unsafe {
                    cursor = cursor.add(1);
                    &*cursor
                };
                let i = &slot.insn;
                // The instruction's own pc, computed only by the operations that need it.
                macro_rules! here {
                    () => {
                        page_base + u64::from(slot.pc_off)
                    };
                }
                let x = &mut self.x;
                let rd = usize::from(i.rd);
                let rs1 = usize::from(i.rs1);
                let rs2 = usize::from(i.rs2);
                // The immediate and `x[rs2]` are read inside the arms that use them, not
                // before the dispatch: about half of all operations need neither, and loading
                // them up front cost every instruction its share (callgrind: 3-20% of the
                // host instructions on the benchmark guests).
                macro_rules! imm {
                    () => {
                        i.imm as i64 as u64
                    };
                }
                // Leave the run early (fault, trap): give back what was charged for the
                // instructions from this one on; `$retired` says whether this one counts.
                macro_rules! exit_run {
                    ($retired:expr, $pc:expr, $flow:expr) => {{
                        left += u64::from(slot.to_end) - u64::from($retired);
                        pc = $pc;
                        break 'runs Some($flow);
                    }};
                }
                macro_rules! load {
                    ($read:ident, $conv:expr) => {{
                        match mem.$read(x[rs1].wrapping_add(imm!())) {
                            Ok(v) => x[rd] = $conv(v),
                            Err(f) => exit_run!(false, here!(), fault(f, Access::Load)),
                        }
                    }};
                }
                // An add, then a load (see `fuse`): a fault retires the add alone.
                macro_rules! add_load {
                    ($read:ident, $conv:expr) => {{
                        x[rd] = x[rs1].wrapping_add(x[rs2]);
                        let base = x[usize::from(i.rm)];
                        match mem.$read(base.wrapping_add(imm!())) {
                            Ok(v) => x[usize::from(i.rs3)] = $conv(v),
                            Err(f) => {
                                let at = here!() + u64::from(add_load_first_len(i.len));
                                exit_run!(true, at, fault(f, Access::Load))
                            }
                        }
                    }};
                }
                // Shift, add, then a load through the sum (see `fuse`): a fault in the load
                // retires the first two.
                macro_rules! slli_add_load {
                    ($read:ident, $conv:expr) => {{
                        let addr = (x[rs1] << (i.imm & 63)).wrapping_add(x[rs2]);
                        x[rd] = addr;
                        match mem.$read(addr.wrapping_add((i.imm >> 16) as i64 as u64)) {
                            Ok(v) => x[usize::from(i.rs3)] = $conv(v),
                            Err(f) => {
                                let shift_and_add = (i.imm >> 8 & 15) + (i.imm >> 12 & 15);
                                let at = here!() + shift_and_add as u64;
                                exit_run!(2u64, at, fault(f, Access::Load))
                            }
                        }
                    }};
                }
                // The second load of a load + load pair: a fault retires the first alone.
                macro_rules! second_load {
                    ($read:ident, $conv:expr) => {{
                        let base = x[usize::from(i.rs3)];
                        match mem.$read(base.wrapping_add(i.rm as i8 as i64 as u64)) {
                            Ok(v) => x[rs2] = $conv(v),
                            Err(f) => {
                                let at = here!() + u64::from(add_load_first_len(i.len));
                                exit_run!(true, at, fault(f, Access::Load))
                            }
                        }
                    }};
                }
                macro_rules! store {
                    ($write:ident, $v:expr) => {{
                        if let Err(f) = mem.$write(x[rs1].wrapping_add(imm!()), $v) {
                            exit_run!(false, here!(), fault(f, Access::Store));
                        }
                    }};
                }
                // The run is over: continue at `$target` (this page: next run; else: return).
                macro_rules! transfer {
                    ($target:expr) => {{
                        pc = $target;
                        if pc.wrapping_sub(page_base) >= 1 << PAGE_SHIFT {
                            break 'runs None;
                        }
                        // Already decoded (the usual case): `code` is still valid, and not
                        // re-borrowing it lets the compiler keep it in registers.
                        if let Some(next) = page.decoded(page_base, pc) {
                            k = next;
                            continue 'runs;
                        }
                        match page.lookup(mem, page_base, pc) {
                            Ok(next) => {
                                k = next;
                                code = &page.code;
                                continue 'runs;
                            }
                            Err(e) => break 'runs Some(Flow::Exit(e)),
                        }
                    }};
                }
                // A direct transfer (branch, jal) to `$target`. A slot linked to its target
                // (see `links_directly`) goes there without computing the pc or looking it
                // up; an unlinked one is linked the first time it is taken.
                macro_rules! direct_transfer {
                    ($target:expr) => {{
                        let linked = usize::from(u16::from_le_bytes([i.rs3, i.rm]));
                        if linked != NO_ENTRY.into() {
                            k = linked;
                            continue 'runs;
                        }
                        pc = $target;
                        if pc.wrapping_sub(page_base) < 1 << PAGE_SHIFT {
                            // Decode the target's run if needed, and link this slot to it.
                            match page.lookup_linking(mem, page_base, pc, slot.pc_off) {
                                Ok(next) => {
                                    k = next;
                                    code = &page.code;
                                    continue 'runs;
                                }
                                Err(e) => break 'runs Some(Flow::Exit(e)),
                            }
                        }
                        transfer!(pc)
                    }};
                }
                // Not taken: the run goes on with the next slot. Taken: give back the charge
                // for the rest of the run (the branch itself retires) and leave it.
                macro_rules! branch {
                    ($cond:expr) => {{
                        if $cond {
                            left += u64::from(slot.to_end) - 1;
                            direct_transfer!(here!().wrapping_add(imm!()))
                        }
                    }};
                }
                // Everything not executed inline: the out-of-line interpreter.
                macro_rules! generic {
                    () => {{
                        // `instret` is brought up to date once per run_page call; CSR reads
                        // of cycle/time/instret must see the instructions retired before
                        // this one, however the host split the budget.
                        let retired = *remaining - left - u64::from(slot.to_end);
                        self.instret = self.instret.wrapping_add(retired);
                        let result = self.execute(mem, i, here!());
                        self.instret = self.instret.wrapping_sub(retired);
                        match result {
                            Ok(next) if ends_run(i.op) => transfer!(next),
                            Ok(_) => {}
                            Err(Flow::Exit(e @ (Exit::Ecall | Exit::Ebreak { .. }))) => {
                                exit_run!(true, here!(), Flow::Exit(e))
                            }
                            Err(Flow::FenceI) => {
                                exit_run!(true, here!() + u64::from(i.len), Flow::FenceI)
                            }
                            Err(other) => {
                                let at = here!();
                                exit_run!(false, at, with_raw_bits(mem, at, i, other))
                            }
                        }
                    }};
                }
                let a = x[rs1];
                // A pure integer operation: `int_op` with a constant operation folds to its
                // few instructions.
                macro_rules! int {
                    ($op:ident) => {{
                        if let Some(v) = int_op(Op::$op, a, x[rs2], imm!()) {
                            x[rd] = v;
                        }
                    }};
                }
                match i.op {
                    // End of a run that fell through: carry on at its pc.
                    Op::Undecoded => transfer!(here!()),
                    // Fused pairs (see `fuse`): the first half's result is written before
                    // the second half reads its operands.
                    Op::SlliAdd => {
                        x[rd] = a << (i.imm & 63);
                        x[usize::from(i.rs2)] =
                            x[usize::from(i.rs3)].wrapping_add(x[usize::from(i.rm)]);
                    }
                    Op::SrliXor => {
                        x[rd] = a >> (i.imm & 63);
                        x[usize::from(i.rs2)] = x[usize::from(i.rs3)] ^ x[usize::from(i.rm)];
                    }
                    Op::AuipcAddi => {
                        x[rd] = here!().wrapping_add(imm!());
                        x[usize::from(i.rs2)] = x[rs1].wrapping_add(fused_low_imm(i));
                    }
                    Op::LuiAddi => {
                        x[rd] = imm!();
                        x[usize::from(i.rs2)] = x[rs1].wrapping_add(fused_low_imm(i));
                    }
                    Op::LuiAddiw => {
                        x[rd] = imm!();
                        x[usize::from(i.rs2)] = sext32(x[rs1].wrapping_add(fused_low_imm(i)));
                    }
                    Op::LdAddi => {
                        load!(read_u64, |v: u64| v);
                        x[rs2] = x[rs2].wrapping_add(fused_low_imm(i));
                    }
                    Op::LwAddi => {
                        load!(read_u32, |v: u32| v as i32 as i64 as u64);
                        x[rs2] = x[rs2].wrapping_add(fused_low_imm(i));
                    }
                    Op::LbuAddi => {
                        load!(read_u8, u64::from);
                        x[rs2] = x[rs2].wrapping_add(fused_low_imm(i));
                    }
                    Op::AddiAddi => {
                        x[rd] = a.wrapping_add(imm!());
                        x[rs2] = x[rs2].wrapping_add(fused_low_imm(i));
                    }
                    Op::AddAdd => {
                        x[rd] = a.wrapping_add(x[rs2]);
                        let second_rs2 = usize::from(i.imm as u8);
                        x[usize::from(i.rs3)] = x[usize::from(i.rm)].wrapping_add(x[second_rs2]);
                    }
                    Op::MulwAddw => {
                        x[rd] = sext32(a.wrapping_mul(x[rs2]));
                        let second_rs2 = usize::from(i.imm as u8);
                        x[usize::from(i.rs3)] =
                            sext32(x[usize::from(i.rm)].wrapping_add(x[second_rs2]));
                    }
                    Op::LbuLbu => {
                        load!(read_u8, u64::from);
                        second_load!(read_u8, u64::from);
                    }
                    Op::LdLd => {
                        load!(read_u64, |v: u64| v);
                        second_load!(read_u64, |v: u64| v);
                    }
                    Op::AddJalr => {
                        x[rd] = a.wrapping_add(x[rs2]);
                        let base = x[usize::from(i.rm)];
                        x[usize::from(i.rs3)] = here!() + u64::from(i.len);
                        transfer!(base.wrapping_add((i.imm >> 8) as i64 as u64) & !1)
                    }
                    Op::AddLd => add_load!(read_u64, |v: u64| v),
                    Op::AddLw => add_load!(read_u32, |v: u32| v as i32 as i64 as u64),
                    Op::SlliAddLw => slli_add_load!(read_u32, |v: u32| v as i32 as i64 as u64),
                    Op::SlliAddLd => slli_add_load!(read_u64, |v: u64| v),
                    Op::AddLbu => add_load!(read_u8, u64::from),
                    // Register arithmetic: `int_op` folded to this one operation.
                    Op::Lui | Op::AuipcAddiConst => int!(Lui),
                    Op::Addi => int!(Addi),
                    Op::Slti => int!(Slti),
                    Op::Sltiu => int!(Sltiu),
                    Op::Xori => int!(Xori),
                    Op::Ori => int!(Ori),
                    Op::Andi => int!(Andi),
                    Op::Slli => int!(Slli),
                    Op::Srli => int!(Srli),
                    Op::Srai => int!(Srai),
                    Op::Add => int!(Add),
                    Op::Sub => int!(Sub),
                    Op::Sll => int!(Sll),
                    Op::Slt => int!(Slt),
                    Op::Sltu => int!(Sltu),
                    Op::Xor => int!(Xor),
                    Op::Srl => int!(Srl),
                    Op::Sra => int!(Sra),
                    Op::Or => int!(Or),
                    Op::And => int!(And),
                    Op::Addiw | Op::PairSextW => int!(Addiw),
                    Op::Slliw => int!(Slliw),
                    Op::Srliw => int!(Srliw),
                    Op::Sraiw => int!(Sraiw),
                    Op::Addw => int!(Addw),
                    Op::Subw => int!(Subw),
                    Op::Sllw => int!(Sllw),
                    Op::Srlw => int!(Srlw),
                    Op::Sraw => int!(Sraw),
                    Op::Mul => int!(Mul),
                    Op::Mulh => int!(Mulh),
                    Op::Mulhsu => int!(Mulhsu),
                    Op::Mulhu => int!(Mulhu),
                    Op::Div => int!(Div),
                    Op::Divu => int!(Divu),
                    Op::Rem => int!(Rem),
                    Op::Remu => int!(Remu),
                    Op::Mulw => int!(Mulw),
                    Op::Divw => int!(Divw),
                    Op::Divuw => int!(Divuw),
                    Op::Remw => int!(Remw),
                    Op::Remuw => int!(Remuw),
                    Op::AddUw => int!(AddUw),
                    Op::Sh1add => int!(Sh1add),
                    Op::Sh2add => int!(Sh2add),
                    Op::Sh3add => int!(Sh3add),
                    Op::Sh1addUw => int!(Sh1addUw),
                    Op::Sh2addUw => int!(Sh2addUw),
                    Op::Sh3addUw => int!(Sh3addUw),
                    Op::SlliUw | Op::PairSlliUw => int!(SlliUw),
                    Op::Andn => int!(Andn),
                    Op::Orn => int!(Orn),
                    Op::Xnor => int!(Xnor),
                    Op::Clz => int!(Clz),
                    Op::Clzw => int!(Clzw),
                    Op::Ctz => int!(Ctz),
                    Op::Ctzw => int!(Ctzw),
                    Op::Cpop => int!(Cpop),
                    Op::Cpopw => int!(Cpopw),
                    Op::Max => int!(Max),
                    Op::Maxu => int!(Maxu),
                    Op::Min => int!(Min),
                    Op::Minu => int!(Minu),
                    Op::SextB | Op::PairSextB => int!(SextB),
                    Op::SextH | Op::PairSextH => int!(SextH),
                    Op::ZextH | Op::PairZextH => int!(ZextH),
                    Op::Rol => int!(Rol),
                    Op::Rolw => int!(Rolw),
                    Op::Ror => int!(Ror),
                    Op::Rori => int!(Rori),
                    Op::Roriw => int!(Roriw),
                    Op::Rorw => int!(Rorw),
                    Op::OrcB => int!(OrcB),
                    Op::Rev8 => int!(Rev8),
                    Op::Bclr => int!(Bclr),
                    Op::Bclri => int!(Bclri),
                    Op::Bext => int!(Bext),
                    Op::Bexti => int!(Bexti),
                    Op::Binv => int!(Binv),
                    Op::Binvi => int!(Binvi),
                    Op::Bset => int!(Bset),
                    Op::Bseti => int!(Bseti),
                    Op::CzeroEqz => int!(CzeroEqz),
                    Op::CzeroNez => int!(CzeroNez),
                    Op::Auipc => x[rd] = here!().wrapping_add(imm!()),
                    Op::Ld => load!(read_u64, |v: u64| v),
                    Op::Lw => load!(read_u32, |v: u32| v as i32 as i64 as u64),
                    Op::Lwu => load!(read_u32, u64::from),
                    Op::Lbu => load!(read_u8, u64::from),
                    Op::Lb => load!(read_u8, |v: u8| v as i8 as i64 as u64),
                    Op::Lhu => load!(read_u16, u64::from),
                    Op::Lh => load!(read_u16, |v: u16| v as i16 as i64 as u64),
                    Op::Sd => store!(write_u64, x[rs2]),
                    Op::Sw => store!(write_u32, x[rs2] as u32),
                    Op::Sb => store!(write_u8, x[rs2] as u8),
                    Op::Sh => store!(write_u16, x[rs2] as u16),
                    Op::Beq => branch!(a == x[rs2]),
                    Op::Bne => branch!(a != x[rs2]),
                    Op::Blt => branch!((a as i64) < (x[rs2] as i64)),
                    Op::Bge => branch!((a as i64) >= (x[rs2] as i64)),
                    Op::Bltu => branch!(a < x[rs2]),
                    Op::Bgeu => branch!(a >= x[rs2]),
                    Op::Jal => {
                        x[rd] = here!() + u64::from(i.len);
                        direct_transfer!(here!().wrapping_add(imm!()))
                    }
                    // Its run goes on with the target's instructions; it links to the sink.
                    Op::JalFolded => {}
                    Op::Jalr => {
                        let target = a.wrapping_add(imm!()) & !1;
                        x[rd] = here!() + u64::from(i.len);
                        transfer!(target)
                    }
                    // FP loads, stores and arithmetic: the bulk of FP code. Single precision
                    // shares the double-precision arms (new arms cost every guest).
                    Op::Fld | Op::Flw => {
                        let addr = x[rs1].wrapping_add(imm!());
                        let loaded = if i.rm != SINGLE_WIDTH {
                            mem.read_u64(addr)
                        } else {
                            mem.read_u32(addr).map(box32)
                        };
                        match loaded {
                            Ok(v) => self.f[usize::from(i.rd & 31)] = v,
                            Err(f) => exit_run!(false, here!(), fault(f, Access::Load)),
                        }
                    }
                    Op::Fsd | Op::Fsw => {
                        let addr = x[rs1].wrapping_add(imm!());
                        let v = self.f[usize::from(i.rs2 & 31)];
                        let stored = if i.rm != SINGLE_WIDTH {
                            mem.write_u64(addr, v)
                        } else {
                            mem.write_u32(addr, v as u32)
                        };
                        if let Err(f) = stored {
                            exit_run!(false, here!(), fault(f, Access::Store));
                        }
                    }
                    Op::FaddD
                    | Op::FsubD
                    | Op::FmulD
                    | Op::FdivD
                    | Op::FmaddD
                    | Op::FmsubD
                    | Op::FnmaddD
                    | Op::FnmsubD
                    | Op::FsqrtD
                    | Op::FsgnjD
                    | Op::FsgnjnD
                    | Op::FsgnjxD
                    | Op::FeqD
                    | Op::FltD
                    | Op::FleD
                    | Op::FaddS
                    | Op::FsubS
                    | Op::FmulS
                    | Op::FdivS
                    | Op::FmaddS
                    | Op::FmsubS
                    | Op::FnmaddS
                    | Op::FnmsubS
                    | Op::FsqrtS
                    | Op::FsgnjS
                    | Op::FsgnjnS
                    | Op::FsgnjxS
                    | Op::FeqS
                    | Op::FltS
                    | Op::FleS
                    | Op::FmvXD
                    | Op::FmvDX
                    | Op::FcvtWD
                    | Op::FcvtLD
                    | Op::FcvtDW
                    | Op::FcvtDL
                    | Op::FcvtDS
                    | Op::FcvtSD
                    | Op::FmvXW
                    | Op::FmvWX
                    | Op::FcvtWS
                    | Op::FcvtLS
                    | Op::FcvtSW
                    | Op::FcvtSL
                    | Op::FminS
                    | Op::FmaxS
                    | Op::FminD
                    | Op::FmaxD => {
                        // Sign injections (`fmv`, `fneg`, `fabs`), comparisons and moves
                        // between register files are decoded with 0 in `rm`, which reads as a
                        // rounding mode they ignore.
                        // Comparisons share this arm rather than have their own: a new arm
                        // made the whole loop's code worse (+6-8% host instructions on every
                        // guest), as new arms have before.
                        let bits = if i.rm == 7 { self.frm } else { i.rm };
                        let Some(rm) = RoundingMode::from_bits(bits) else {
                            // A reserved rounding mode: the generic path reports it.
                            generic!();
                            continue;
                        };
                        let f = &mut self.f;
                        let (d1, d2, d3) = (
                            f[usize::from(i.rs1 & 31)],
                            f[usize::from(i.rs2 & 31)],
                            f[usize::from(i.rs3 & 31)],
                        );
                        const SIGN: u64 = 1 << 63;
                        // The accrued flags themselves (see `fpu` on round to nearest with NX
                        // set): a copy made and written back for each operation put a chain of
                        // stores and loads between consecutive ones (matmul 25% slower).
                        let flags = &mut self.fflags;
                        let result = match i.op {
                            Op::FaddD => fpu::f64_add(d1, d2, rm, flags),
                            Op::FsubD => fpu::f64_sub(d1, d2, rm, flags),
                            Op::FmulD => fpu::f64_mul(d1, d2, rm, flags),
                            Op::FdivD => fpu::f64_div(d1, d2, rm, flags),
                            Op::FmaddD => fpu::f64_mul_add(d1, d2, d3, rm, flags),
                            Op::FmsubD => fpu::f64_mul_add(d1, d2, d3 ^ SIGN, rm, flags),
                            Op::FnmsubD => fpu::f64_mul_add(d1 ^ SIGN, d2, d3, rm, flags),
                            Op::FsqrtD => fpu::f64_sqrt(d1, rm, flags),
                            Op::FsgnjD => d1 & !SIGN | d2 & SIGN,
                            Op::FsgnjnD => d1 & !SIGN | !d2 & SIGN,
                            Op::FsgnjxD => d1 ^ d2 & SIGN,
                            Op::FeqD => u64::from(fpu::f64_eq(d1, d2, flags)),
                            Op::FltD => u64::from(fpu::f64_lt(d1, d2, flags)),
                            Op::FleD => u64::from(fpu::f64_le(d1, d2, flags)),
                            // Moves and the common conversions.
                            Op::FmvXD => d1,
                            Op::FmvDX => x[rs1],
                            Op::FcvtWD => fpu::f64_to_i32(d1, rm, flags) as i64 as u64,
                            Op::FcvtLD => fpu::f64_to_i64(d1, rm, flags) as u64,
                            Op::FcvtDW => {
                                fpu::f64_from_i32(x[rs1] as i32, RoundingMode::Rne, flags)
                            }
                            Op::FcvtDL => fpu::f64_from_i64(x[rs1] as i64, rm, flags),
                            Op::FcvtDS => fpu::f32_to_f64(unbox32(d1), flags),
                            Op::FcvtSD => box32(fpu::f64_to_f32(d1, rm, flags)),
                            Op::FmvXW => sext32(d1),
                            Op::FminD => fpu::f64_min(d1, d2, flags),
                            Op::FmaxD => fpu::f64_max(d1, d2, flags),
                            Op::FnmaddD => fpu::f64_mul_add(d1 ^ SIGN, d2, d3 ^ SIGN, rm, flags),
                            // Single precision: NaN-boxed operands and results.
                            _ => {
                                const S: u32 = 1 << 31;
                                let (s1, s2, s3) = (unbox32(d1), unbox32(d2), unbox32(d3));
                                match i.op {
                                    Op::FeqS => u64::from(fpu::f32_eq(s1, s2, flags)),
                                    Op::FltS => u64::from(fpu::f32_lt(s1, s2, flags)),
                                    Op::FleS => u64::from(fpu::f32_le(s1, s2, flags)),
                                    Op::FcvtWS => fpu::f32_to_i32(s1, rm, flags) as i64 as u64,
                                    Op::FcvtLS => fpu::f32_to_i64(s1, rm, flags) as u64,
                                    op => box32(match op {
                                        Op::FaddS => fpu::f32_add(s1, s2, rm, flags),
                                        Op::FsubS => fpu::f32_sub(s1, s2, rm, flags),
                                        Op::FmulS => fpu::f32_mul(s1, s2, rm, flags),
                                        Op::FdivS => fpu::f32_div(s1, s2, rm, flags),
                                        Op::FmaddS => fpu::f32_mul_add(s1, s2, s3, rm, flags),
                                        Op::FmsubS => fpu::f32_mul_add(s1, s2, s3 ^ S, rm, flags),
                                        Op::FnmsubS => fpu::f32_mul_add(s1 ^ S, s2, s3, rm, flags),
                                        Op::FnmaddS => {
                                            fpu::f32_mul_add(s1 ^ S, s2, s3 ^ S, rm, flags)
                                        }
                                        Op::FsqrtS => fpu::f32_sqrt(s1, rm, flags),
                                        Op::FmvWX => x[rs1] as u32,
                                        Op::FminS => fpu::f32_min(s1, s2, flags),
                                        Op::FmaxS => fpu::f32_max(s1, s2, flags),
                                        Op::FcvtSW => fpu::f32_from_i32(x[rs1] as i32, rm, flags),
                                        Op::FcvtSL => fpu::f32_from_i64(x[rs1] as i64, rm, flags),
                                        Op::FsgnjS => s1 & !S | s2 & S,
                                        Op::FsgnjnS => s1 & !S | !s2 & S,
                                        _ => s1 ^ s2 & S,
                                    }),
                                }
                            }
                        };
                        // Comparisons, moves to `x` and conversions to integers write `x[rd]`;
                        // the rest an FP register.
                        if writes_fp_rd(i.op) {
                            f[usize::from(i.rd & 31)] = result;
                        } else {
                            x[rd] = result;
                        }
                    }
                    // Everything else goes out of line; listed in full so the dispatch
                    // table covers every operation and needs no range check.
                    Op::Illegal
                    | Op::Fence
                    | Op::FenceI
                    | Op::Ecall
                    | Op::Ebreak
                    | Op::LrW
                    | Op::ScW
                    | Op::AmoswapW
                    | Op::AmoaddW
                    | Op::AmoxorW
                    | Op::AmoandW
                    | Op::AmoorW
                    | Op::AmominW
                    | Op::AmomaxW
                    | Op::AmominuW
                    | Op::AmomaxuW
                    | Op::LrD
                    | Op::ScD
                    | Op::AmoswapD
                    | Op::AmoaddD
                    | Op::AmoxorD
                    | Op::AmoandD
                    | Op::AmoorD
                    | Op::AmominD
                    | Op::AmomaxD
                    | Op::AmominuD
                    | Op::AmomaxuD
                    | Op::Csrrw
                    | Op::Csrrs
                    | Op::Csrrc
                    | Op::Csrrwi
                    | Op::Csrrsi
                    | Op::Csrrci
                    | Op::FcvtWuS
                    | Op::FcvtLuS
                    | Op::FclassS
                    | Op::FcvtSWu
                    | Op::FcvtSLu
                    | Op::FclassD
                    | Op::FcvtWuD
                    | Op::FcvtLuD
                    | Op::FcvtDWu
                    | Op::FcvtDLu => generic!(),
                }
            }
        };
        // The counter wraps, as the CSR does (only a restored snapshot gets near it).
        self.instret = self.instret.wrapping_add(*remaining - left);
        *remaining = left;
        self.pc = pc;
        flow
    }

    /// Execute the first `steps` instructions of the run starting at `slots[0]` one by one
    /// (the budget ends inside the run; a fused operation may be cut between its parts, and
    /// a jump decoded through counts as one), stopping early at a taken branch or an exit.
    #[cold]
    fn step_within_run(
        &mut self,
        mem: &mut Memory,
        slots: &[Slot],
        steps: usize,
        page_base: u64,
        retired_before: u64,
    ) -> Result<Stepped, StepExit> {
        let mut done = 0;
        let mut next = page_base + slots.first().map_or(0, |s| u64::from(s.pc_off));
        for (index, slot) in slots.iter().enumerate() {
            if is_folded_branch(&slot.insn) {
                if done == steps {
                    return Ok(Stepped::All { next });
                }
                // Both of its outcomes name the fall-through; with no offset, taking it
                // (leaving the run) names itself instead.
                let here = next;
                let probe = Insn {
                    imm: 0,
                    ..slot.insn
                };
                match self.execute(mem, &probe, here) {
                    Ok(target) if target == here => {
                        return Ok(Stepped::Branched {
                            done: done + 1,
                            target: here + u64::from(slot.insn.len),
                        });
                    }
                    // Going on: the next slot holds the original target.
                    Ok(_) => next = page_base + u64::from(slots[index + 1].pc_off),
                    Err(flow) => {
                        return Err(StepExit {
                            done,
                            pc: here,
                            insn: slot.insn,
                            flow,
                        })
                    }
                }
                done += 1;
                continue;
            }
            let (parts, count) = parts(&slot.insn);
            for &insn in &parts[..count] {
                if done == steps {
                    return Ok(Stepped::All { next });
                }
                let here = next;
                // As in the hot loop: counter CSRs read the exact count retired so far.
                let retired = retired_before + done as u64;
                self.instret = self.instret.wrapping_add(retired);
                let result = self.execute(mem, &insn, here);
                self.instret = self.instret.wrapping_sub(retired);
                match result {
                    Ok(target) if target != here + u64::from(insn.len) => {
                        return Ok(Stepped::Branched {
                            done: done + 1,
                            target,
                        });
                    }
                    Ok(after) => next = after,
                    Err(flow) => {
                        return Err(StepExit {
                            done,
                            pc: here,
                            insn,
                            flow,
                        })
                    }
                }
                done += 1;
            }
            // Reached only inside the run (stepping ends before its last instruction), so
            // the next slot is the run's.
            let jump = slots.get(index + 1);
            if let Some(target) = jump.filter(|n| hidden_jump_after(slot, count, n)) {
                if done == steps {
                    return Ok(Stepped::All { next });
                }
                done += 1;
                next = page_base + u64::from(target.pc_off);
            }
        }
        // Runs end in a transfer, an exit or a continuation, all before `steps` runs out.
        Ok(Stepped::All { next })
    }

    /// The rounding mode an FP instruction uses, or `None` if it is reserved.
    #[inline(always)]
    fn rounding(&self, rm: u8) -> Option<RoundingMode> {
        RoundingMode::from_bits(if rm == 7 { self.frm } else { rm })
    }

    /// Execute any instruction at `pc`; returns the next pc. The hot loop inlines the
    /// common operations and calls this for the rest.
    #[inline(never)]
    fn execute(&mut self, mem: &mut Memory, i: &Insn, pc: u64) -> Result<u64, Flow> {
        // The F and D operations (contiguous in `Op`) that run out of line (unsigned
        // conversions, `fclass`, reserved rounding modes, stepped runs) go straight on, not
        // through `int_op`'s dispatch and this function's own.
        if (Op::Flw as u16..=Op::FmvDX as u16).contains(&(i.op as u16)) {
            return self.execute_fp(mem, *i, pc, pc.wrapping_add(u64::from(i.len)));
        }
        let rd = usize::from(i.rd);
        let rs1 = usize::from(i.rs1);
        let rs2 = usize::from(i.rs2);
        let imm = i.imm as i64 as u64;
        let next = pc.wrapping_add(u64::from(i.len));
        let x = &mut self.x;
        let a = x[rs1];
        let b = x[rs2];
        if let Some(v) = int_op(i.op, a, b, imm) {
            x[rd] = v;
            return Ok(next);
        }
        // Most operations here are not fused: `unfuse` is only asked about the ones that may be.
        let quiet_compare = i.op == Op::Csrrs && i.imm & QUIET_PAIR != 0;
        if i.op as u16 > Op::LAST as u16 || quiet_compare {
            if quiet_compare && i.imm & QUIET_TRIPLE != 0 {
                let (d1, d2) = (
                    self.f[usize::from(i.rs3 & 31)],
                    self.f[usize::from(i.rm & 31)],
                );
                self.x[rd] = u64::from(self.fflags);
                self.x[rs2] = u64::from(quiet_comparison(i.imm >> 16, d1, d2));
                return Ok(next);
            }
            if let Some((first, second)) = unfuse(i) {
                let between = self.execute(mem, &first, pc)?;
                return self.execute(mem, &second, between);
            }
        }

        macro_rules! load {
            ($read:ident, $conv:expr) => {{
                let addr = a.wrapping_add(imm);
                match mem.$read(addr) {
                    Ok(v) => x[rd] = $conv(v),
                    Err(f) => return Err(fault(f, Access::Load)),
                }
            }};
        }
        macro_rules! store {
            ($write:ident, $v:expr) => {{
                let addr = a.wrapping_add(imm);
                if let Err(f) = mem.$write(addr, $v) {
                    return Err(fault(f, Access::Store));
                }
            }};
        }
        macro_rules! branch {
            ($cond:expr) => {{
                if $cond {
                    return Ok(pc.wrapping_add(imm));
                }
            }};
        }

        match i.op {
            Op::Auipc => x[rd] = pc.wrapping_add(imm),
            Op::Jal | Op::JalFolded => {
                x[rd] = next;
                return Ok(pc.wrapping_add(imm));
            }
            Op::Jalr => {
                let target = a.wrapping_add(imm) & !1;
                x[rd] = next;
                return Ok(target);
            }
            Op::Beq => branch!(a == b),
            Op::Bne => branch!(a != b),
            Op::Blt => branch!((a as i64) < (b as i64)),
            Op::Bge => branch!((a as i64) >= (b as i64)),
            Op::Bltu => branch!(a < b),
            Op::Bgeu => branch!(a >= b),
            Op::Lb => load!(read_u8, |v: u8| v as i8 as i64 as u64),
            Op::Lh => load!(read_u16, |v: u16| v as i16 as i64 as u64),
            Op::Lw => load!(read_u32, |v: u32| v as i32 as i64 as u64),
            Op::Ld => load!(read_u64, |v: u64| v),
            Op::Lbu => load!(read_u8, u64::from),
            Op::Lhu => load!(read_u16, u64::from),
            Op::Lwu => load!(read_u32, u64::from),
            Op::Sb => store!(write_u8, b as u8),
            Op::Sh => store!(write_u16, b as u16),
            Op::Sw => store!(write_u32, b as u32),
            Op::Sd => store!(write_u64, b),
            Op::Fence => {}
            Op::FenceI => return Err(Flow::FenceI),
            Op::Ecall => return Err(Flow::Exit(Exit::Ecall)),
            Op::Ebreak => return Err(Flow::Exit(Exit::Ebreak { len: i.len })),

            Op::LrW | Op::LrD => {
                let width = if i.op == Op::LrW { 4 } else { 8 };
                if a % width != 0 {
                    return Err(misaligned(a));
                }
                let v = if width == 4 {
                    mem.read_u32(a).map(|v| v as i32 as i64 as u64)
                } else {
                    mem.read_u64(a)
                };
                match v {
                    Ok(v) => {
                        x[rd] = v;
                        self.reservation = Some(a);
                    }
                    Err(f) => return Err(fault(f, Access::Load)),
                }
            }
            Op::ScW | Op::ScD => {
                let width = if i.op == Op::ScW { 4 } else { 8 };
                if a % width != 0 {
                    return Err(misaligned(a));
                }
                if self.reservation.take() == Some(a) {
                    let r = if width == 4 {
                        mem.write_u32(a, b as u32)
                    } else {
                        mem.write_u64(a, b)
                    };
                    if let Err(f) = r {
                        return Err(fault(f, Access::Store));
                    }
                    x[rd] = 0;
                } else {
                    x[rd] = 1;
                }
            }
            Op::AmoswapW
            | Op::AmoaddW
            | Op::AmoxorW
            | Op::AmoandW
            | Op::AmoorW
            | Op::AmominW
            | Op::AmomaxW
            | Op::AmominuW
            | Op::AmomaxuW => {
                if a % 4 != 0 {
                    return Err(misaligned(a));
                }
                let old = match mem.read_u32(a) {
                    Ok(v) => v,
                    Err(f) => return Err(fault(f, Access::Store)),
                };
                let src = b as u32;
                let new = match i.op {
                    Op::AmoswapW => src,
                    Op::AmoaddW => old.wrapping_add(src),
                    Op::AmoxorW => old ^ src,
                    Op::AmoandW => old & src,
                    Op::AmoorW => old | src,
                    Op::AmominW => (old as i32).min(src as i32) as u32,
                    Op::AmomaxW => (old as i32).max(src as i32) as u32,
                    Op::AmominuW => old.min(src),
                    _ => old.max(src),
                };
                if let Err(f) = mem.write_u32(a, new) {
                    return Err(fault(f, Access::Store));
                }
                x[rd] = old as i32 as i64 as u64;
            }
            Op::AmoswapD
            | Op::AmoaddD
            | Op::AmoxorD
            | Op::AmoandD
            | Op::AmoorD
            | Op::AmominD
            | Op::AmomaxD
            | Op::AmominuD
            | Op::AmomaxuD => {
                if a % 8 != 0 {
                    return Err(misaligned(a));
                }
                let old = match mem.read_u64(a) {
                    Ok(v) => v,
                    Err(f) => return Err(fault(f, Access::Store)),
                };
                let new = match i.op {
                    Op::AmoswapD => b,
                    Op::AmoaddD => old.wrapping_add(b),
                    Op::AmoxorD => old ^ b,
                    Op::AmoandD => old & b,
                    Op::AmoorD => old | b,
                    Op::AmominD => (old as i64).min(b as i64) as u64,
                    Op::AmomaxD => (old as i64).max(b as i64) as u64,
                    Op::AmominuD => old.min(b),
                    _ => old.max(b),
                };
                if let Err(f) = mem.write_u64(a, new) {
                    return Err(fault(f, Access::Store));
                }
                x[rd] = old;
            }

            Op::Csrrw | Op::Csrrs | Op::Csrrc | Op::Csrrwi | Op::Csrrsi | Op::Csrrci => {
                return self.csr(*i, pc, next);
            }

            Op::Undecoded | Op::Illegal => {
                return Err(Flow::Exit(Exit::Illegal { bits: i.imm as u32 }));
            }
            _ => return self.execute_fp(mem, *i, pc, next),
        }
        Ok(next)
    }

    fn csr(&mut self, i: Insn, pc: u64, next: u64) -> Result<u64, Flow> {
        let _ = pc;
        let rd = usize::from(i.rd);
        let illegal = Err(Flow::Unsupported);
        let operand = match i.op {
            Op::Csrrwi | Op::Csrrsi | Op::Csrrci => u64::from(i.rs1),
            _ => self.x[usize::from(i.rs1)],
        };
        let writes = match i.op {
            Op::Csrrw | Op::Csrrwi => true,
            _ => i.rs1 != 0,
        };
        let csr = i.imm as u32 & 0xfff;
        let old = match csr {
            0x001 => u64::from(self.fflags),
            0x002 => u64::from(self.frm),
            0x003 => u64::from(self.frm) << 5 | u64::from(self.fflags),
            // cycle, time and instret all count retired instructions, so runs are reproducible.
            0xc00..=0xc02 => {
                if writes {
                    return illegal;
                }
                self.instret
            }
            _ => return illegal,
        };
        let new = match i.op {
            Op::Csrrw | Op::Csrrwi => operand,
            Op::Csrrs | Op::Csrrsi => old | operand,
            _ => old & !operand,
        };
        if writes {
            match csr {
                0x001 => self.fflags = (new & 0x1f) as u8,
                0x002 => self.frm = (new & 0x7) as u8,
                _ => {
                    self.fflags = (new & 0x1f) as u8;
                    self.frm = ((new >> 5) & 0x7) as u8;
                }
            }
        }
        self.x[rd] = old;
        Ok(next)
    }

    #[inline(never)]
    fn execute_fp(&mut self, mem: &mut Memory, i: Insn, _pc: u64, next: u64) -> Result<u64, Flow> {
        let rd = usize::from(i.rd);
        let frd = (i.rd & 31) as usize;
        let fs1 = (i.rs1 & 31) as usize;
        let fs2 = (i.rs2 & 31) as usize;
        let fs3 = (i.rs3 & 31) as usize;
        let illegal = Flow::Unsupported;
        let imm = i.imm as i64 as u64;
        // Operands are read where an operation uses them: reading all of them up front cost
        // every conversion and move its share (a third of this function's instructions).
        macro_rules! xa {
            () => {
                self.x[usize::from(i.rs1)]
            };
        }
        macro_rules! d1 {
            () => {
                self.f[fs1]
            };
        }
        macro_rules! d2 {
            () => {
                self.f[fs2]
            };
        }
        macro_rules! d3 {
            () => {
                self.f[fs3]
            };
        }
        macro_rules! s1 {
            () => {
                unbox32(self.f[fs1])
            };
        }
        macro_rules! s2 {
            () => {
                unbox32(self.f[fs2])
            };
        }
        macro_rules! s3 {
            () => {
                unbox32(self.f[fs3])
            };
        }
        // The accrued flags go in: see `fpu` on round to nearest with NX set.
        let mut flags = self.fflags;
        const SIGN32: u32 = 0x8000_0000;
        const SIGN64: u64 = 0x8000_0000_0000_0000;
        macro_rules! rm {
            () => {
                match self.rounding(i.rm) {
                    Some(rm) => rm,
                    None => return Err(illegal),
                }
            };
        }
        macro_rules! set_s {
            ($v:expr) => {
                self.f[frd] = box32($v)
            };
        }
        macro_rules! set_d {
            ($v:expr) => {
                self.f[frd] = $v
            };
        }
        match i.op {
            Op::Flw => match mem.read_u32(xa!().wrapping_add(imm)) {
                Ok(v) => set_s!(v),
                Err(f) => return Err(fault(f, Access::Load)),
            },
            Op::Fld => match mem.read_u64(xa!().wrapping_add(imm)) {
                Ok(v) => set_d!(v),
                Err(f) => return Err(fault(f, Access::Load)),
            },
            Op::Fsw => {
                if let Err(f) = mem.write_u32(xa!().wrapping_add(imm), d2!() as u32) {
                    return Err(fault(f, Access::Store));
                }
            }
            Op::Fsd => {
                if let Err(f) = mem.write_u64(xa!().wrapping_add(imm), d2!()) {
                    return Err(fault(f, Access::Store));
                }
            }
            Op::FmaddS => set_s!(fpu::f32_mul_add(s1!(), s2!(), s3!(), rm!(), &mut flags)),
            Op::FmsubS => set_s!(fpu::f32_mul_add(
                s1!(),
                s2!(),
                s3!() ^ SIGN32,
                rm!(),
                &mut flags
            )),
            Op::FnmsubS => set_s!(fpu::f32_mul_add(
                s1!() ^ SIGN32,
                s2!(),
                s3!(),
                rm!(),
                &mut flags
            )),
            Op::FnmaddS => {
                set_s!(fpu::f32_mul_add(
                    s1!() ^ SIGN32,
                    s2!(),
                    s3!() ^ SIGN32,
                    rm!(),
                    &mut flags
                ))
            }
            Op::FaddS => set_s!(fpu::f32_add(s1!(), s2!(), rm!(), &mut flags)),
            Op::FsubS => set_s!(fpu::f32_sub(s1!(), s2!(), rm!(), &mut flags)),
            Op::FmulS => set_s!(fpu::f32_mul(s1!(), s2!(), rm!(), &mut flags)),
            Op::FdivS => set_s!(fpu::f32_div(s1!(), s2!(), rm!(), &mut flags)),
            Op::FsqrtS => set_s!(fpu::f32_sqrt(s1!(), rm!(), &mut flags)),
            Op::FsgnjS => set_s!((s1!() & !SIGN32) | (s2!() & SIGN32)),
            Op::FsgnjnS => set_s!((s1!() & !SIGN32) | (!s2!() & SIGN32)),
            Op::FsgnjxS => set_s!(s1!() ^ (s2!() & SIGN32)),
            Op::FminS => set_s!(fpu::f32_min(s1!(), s2!(), &mut flags)),
            Op::FmaxS => set_s!(fpu::f32_max(s1!(), s2!(), &mut flags)),
            Op::FcvtWS => self.x[rd] = fpu::f32_to_i32(s1!(), rm!(), &mut flags) as i64 as u64,
            Op::FcvtWuS => {
                self.x[rd] = fpu::f32_to_u32(s1!(), rm!(), &mut flags) as i32 as i64 as u64
            }
            Op::FcvtLS => self.x[rd] = fpu::f32_to_i64(s1!(), rm!(), &mut flags) as u64,
            Op::FcvtLuS => self.x[rd] = fpu::f32_to_u64(s1!(), rm!(), &mut flags),
            Op::FmvXW => self.x[rd] = sext32(d1!()),
            Op::FeqS => self.x[rd] = u64::from(fpu::f32_eq(s1!(), s2!(), &mut flags)),
            Op::FltS => self.x[rd] = u64::from(fpu::f32_lt(s1!(), s2!(), &mut flags)),
            Op::FleS => self.x[rd] = u64::from(fpu::f32_le(s1!(), s2!(), &mut flags)),
            Op::FclassS => self.x[rd] = fpu::f32_classify(s1!()),
            Op::FcvtSW => set_s!(fpu::f32_from_i32(xa!() as i32, rm!(), &mut flags)),
            Op::FcvtSWu => set_s!(fpu::f32_from_u32(xa!() as u32, rm!(), &mut flags)),
            Op::FcvtSL => set_s!(fpu::f32_from_i64(xa!() as i64, rm!(), &mut flags)),
            Op::FcvtSLu => set_s!(fpu::f32_from_u64(xa!(), rm!(), &mut flags)),
            Op::FmvWX => set_s!(xa!() as u32),

            Op::FmaddD => set_d!(fpu::f64_mul_add(d1!(), d2!(), d3!(), rm!(), &mut flags)),
            Op::FmsubD => set_d!(fpu::f64_mul_add(
                d1!(),
                d2!(),
                d3!() ^ SIGN64,
                rm!(),
                &mut flags
            )),
            Op::FnmsubD => set_d!(fpu::f64_mul_add(
                d1!() ^ SIGN64,
                d2!(),
                d3!(),
                rm!(),
                &mut flags
            )),
            Op::FnmaddD => {
                set_d!(fpu::f64_mul_add(
                    d1!() ^ SIGN64,
                    d2!(),
                    d3!() ^ SIGN64,
                    rm!(),
                    &mut flags
                ))
            }
            Op::FaddD => set_d!(fpu::f64_add(d1!(), d2!(), rm!(), &mut flags)),
            Op::FsubD => set_d!(fpu::f64_sub(d1!(), d2!(), rm!(), &mut flags)),
            Op::FmulD => set_d!(fpu::f64_mul(d1!(), d2!(), rm!(), &mut flags)),
            Op::FdivD => set_d!(fpu::f64_div(d1!(), d2!(), rm!(), &mut flags)),
            Op::FsqrtD => set_d!(fpu::f64_sqrt(d1!(), rm!(), &mut flags)),
            Op::FsgnjD => set_d!((d1!() & !SIGN64) | (d2!() & SIGN64)),
            Op::FsgnjnD => set_d!((d1!() & !SIGN64) | (!d2!() & SIGN64)),
            Op::FsgnjxD => set_d!(d1!() ^ (d2!() & SIGN64)),
            Op::FminD => set_d!(fpu::f64_min(d1!(), d2!(), &mut flags)),
            Op::FmaxD => set_d!(fpu::f64_max(d1!(), d2!(), &mut flags)),
            Op::FcvtSD => set_s!(fpu::f64_to_f32(d1!(), rm!(), &mut flags)),
            Op::FcvtDS => {
                // Validate the rounding field even though widening is exact.
                let _ = rm!();
                set_d!(fpu::f32_to_f64(s1!(), &mut flags))
            }
            Op::FeqD => self.x[rd] = u64::from(fpu::f64_eq(d1!(), d2!(), &mut flags)),
            Op::FltD => self.x[rd] = u64::from(fpu::f64_lt(d1!(), d2!(), &mut flags)),
            Op::FleD => self.x[rd] = u64::from(fpu::f64_le(d1!(), d2!(), &mut flags)),
            Op::FclassD => self.x[rd] = fpu::f64_classify(d1!()),
            Op::FcvtWD => self.x[rd] = fpu::f64_to_i32(d1!(), rm!(), &mut flags) as i64 as u64,
            Op::FcvtWuD => {
                self.x[rd] = fpu::f64_to_u32(d1!(), rm!(), &mut flags) as i32 as i64 as u64
            }
            Op::FcvtLD => self.x[rd] = fpu::f64_to_i64(d1!(), rm!(), &mut flags) as u64,
            Op::FcvtLuD => self.x[rd] = fpu::f64_to_u64(d1!(), rm!(), &mut flags),
            Op::FmvXD => self.x[rd] = d1!(),
            Op::FcvtDW => {
                let _ = rm!();
                set_d!(fpu::f64_from_i32(
                    xa!() as i32,
                    RoundingMode::Rne,
                    &mut flags
                ))
            }
            Op::FcvtDWu => {
                let _ = rm!();
                set_d!(fpu::f64_from_u32(
                    xa!() as u32,
                    RoundingMode::Rne,
                    &mut flags
                ))
            }
            Op::FcvtDL => set_d!(fpu::f64_from_i64(xa!() as i64, rm!(), &mut flags)),
            Op::FcvtDLu => set_d!(fpu::f64_from_u64(xa!(), rm!(), &mut flags)),
            Op::FmvDX => set_d!(xa!()),
            _ => return Err(illegal),
        }
        self.fflags = flags;
        Ok(next)
    }
}

/// Report a refused instruction as illegal, with the bits it was decoded from (memory may
/// have changed since, without a fence.i, so re-encode rather than re-read when possible).
#[cold]
fn with_raw_bits(mem: &Memory, pc: u64, insn: &Insn, flow: Flow) -> Flow {
    match flow {
        Flow::Unsupported => {
            let mut original = *insn;
            if original.rd == SINK {
                original.rd = 0;
            }
            if let Some(bits) = isa::encode(&original) {
                return Flow::Exit(Exit::Illegal { bits });
            }
            let low = mem.read_u16(pc).unwrap_or(0);
            let bits = if isa::instruction_length(low) == 2 {
                u32::from(low)
            } else {
                u32::from(low) | u32::from(mem.read_u16(pc.wrapping_add(2)).unwrap_or(0)) << 16
            };
            Flow::Exit(Exit::Illegal { bits })
        }
        other => other,
    }
}

#[inline(always)]
fn fault(f: MemFault, access: Access) -> Flow {
    Flow::Exit(Exit::Fault {
        addr: f.addr,
        access,
    })
}

#[cold]
fn misaligned(addr: u64) -> Flow {
    Flow::Exit(Exit::Fault {
        addr,
        access: Access::Misaligned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sum 1..=100 in a loop, spill through the stack with compressed sd/ld, then ecall.
    const PROGRAM: &[u8] = &[
        0x13, 0x05, 0x00, 0x00, // addi a0, zero, 0
        0x93, 0x05, 0x40, 0x06, // addi a1, zero, 100
        0x33, 0x05, 0xb5, 0x00, // loop: add a0, a0, a1
        0x93, 0x85, 0xf5, 0xff, // addi a1, a1, -1
        0xe3, 0x9c, 0x05, 0xfe, // bnez a1, loop
        0x41, 0x11, // c.addi sp, -16
        0x2a, 0xe4, // c.sdsp a0, 8(sp)
        0x22, 0x66, // c.ldsp a2, 8(sp)
        0x93, 0x08, 0xd0, 0x05, // addi a7, zero, 93
        0x73, 0x00, 0x00, 0x00, // ecall
    ];
    const CODE: u64 = 0x2000;
    /// Instructions up to and including the ecall: 2 + 3 * 100 + 4 + 1.
    const TOTAL: u64 = 307;

    fn memory() -> Memory {
        #[cfg(feature = "alloc")]
        let mut mem = Memory::new(0x10000).unwrap();
        #[cfg(not(feature = "alloc"))]
        let mut mem = Memory::from_buffer(std::vec![0u8; 0x10000].leak()).unwrap();
        mem.write_bytes(CODE, PROGRAM).unwrap();
        mem
    }

    fn fresh(mem: &Memory) -> Cpu {
        let mut cpu = Cpu {
            pc: CODE,
            ..Cpu::default()
        };
        cpu.x[2] = mem.size();
        cpu
    }

    /// Runs `cpu` with a fresh code cache, `slice` instructions per call, until it stops
    /// for anything but the budget.
    fn run_to_exit(mem: &mut Memory, cpu: &mut Cpu, slice: u64) -> Exit {
        let mut cache = CodeCache::default();
        loop {
            match cpu.run(mem, &mut cache, slice) {
                Exit::Budget => {}
                exit => break exit,
            }
        }
    }

    /// Runs `program` placed at `CODE` with `data` written at its addresses and registers
    /// set as `regs` says, as `run_to_exit` does.
    fn run_with(
        program: &[u8],
        data: &[(u64, &[u8])],
        regs: &[(usize, u64)],
        slice: u64,
    ) -> (Exit, Cpu) {
        let mut mem = memory();
        mem.write_bytes(CODE, program).unwrap();
        for (addr, bytes) in data {
            mem.write_bytes(*addr, bytes).unwrap();
        }
        let mut cpu = fresh(&mem);
        for &(r, v) in regs {
            cpu.x[r] = v;
        }
        let exit = run_to_exit(&mut mem, &mut cpu, slice);
        (exit, cpu)
    }

    /// Asserts that a run stopped on a load from `addr` at `pc` after `retired` instructions.
    fn assert_load_fault((exit, cpu): (Exit, Cpu), addr: u64, pc: u64, retired: u64) {
        let access = Access::Load;
        assert_eq!(exit, Exit::Fault { addr, access });
        assert_eq!((cpu.pc, cpu.instret), (pc, retired));
    }

    /// The instructions of the run decoded from `program` placed at `CODE`.
    fn first_run(program: &[u8]) -> std::vec::Vec<Insn> {
        let mut mem = memory();
        mem.write_bytes(CODE, program).unwrap();
        let mut cache = CodeCache::default();
        let page = cache.page(CODE >> PAGE_SHIFT, mem.size()).unwrap();
        let k = page
            .lookup(&mem, CODE & !((1 << PAGE_SHIFT) - 1), CODE)
            .unwrap();
        page.code[k..].iter().map(|s| s.insn).collect()
    }

    /// The operations of [`first_run`].
    fn first_run_ops(program: &[u8]) -> std::vec::Vec<Op> {
        first_run(program).iter().map(|i| i.op).collect()
    }

    #[test]
    fn runs_loop_to_ecall_with_exact_count() {
        let mut mem = memory();
        let mut cache = CodeCache::default();
        let mut cpu = fresh(&mem);
        assert_eq!(cpu.run(&mut mem, &mut cache, 1_000_000), Exit::Ecall);
        assert_eq!(cpu.instret, TOTAL);
        assert_eq!(cpu.pc, CODE + 0x1e);
        assert_eq!(cpu.x[10], 5050);
        assert_eq!(cpu.x[12], 5050);
        assert_eq!(cpu.x[17], 93);
        assert_eq!(cpu.x[0], 0);
    }

    /// The instruction counter wraps, as the CSR does: a count near the top (a restored
    /// snapshot can hold any) runs on under any budget split without overflowing.
    #[test]
    fn instret_wraps_under_any_split() {
        for slice in [1, 2, 7, 1_000_000] {
            let mut mem = memory();
            let mut cache = CodeCache::default();
            let mut cpu = fresh(&mem);
            cpu.instret = u64::MAX - 100;
            while cpu.run(&mut mem, &mut cache, slice) == Exit::Budget {}
            let wrapped = (u64::MAX - 100).wrapping_add(TOTAL);
            assert_eq!((cpu.instret, cpu.x[10]), (wrapped, 5050), "slice {slice}");
        }
    }

    /// Entering a page at many different offsets decodes overlapping runs until the page's
    /// code is full; the page is then cleared and refilled, and every entry still runs right.
    #[test]
    fn page_refills_when_runs_from_every_offset_fill_it() {
        const ADDI_A0_1: [u8; 4] = [0x13, 0x05, 0x15, 0x00];
        const ECALL: [u8; 4] = [0x73, 0x00, 0x00, 0x00];
        let page: u64 = 1 << PAGE_SHIFT;
        let size = 4 * page as usize;
        #[cfg(feature = "alloc")]
        let mut mem = Memory::new(size).unwrap();
        #[cfg(not(feature = "alloc"))]
        let mut mem = Memory::from_buffer(std::vec![0u8; size].leak()).unwrap();
        let count = page / 4;
        for n in 0..count {
            mem.write_bytes(page + 4 * n, &ADDI_A0_1).unwrap();
        }
        mem.write_bytes(2 * page, &ECALL).unwrap();
        let mut cache = CodeCache::default();
        let starts: std::vec::Vec<u64> = (0..count).step_by(7).collect();
        // Enough overlapping runs to fill the page's code more than once.
        assert!(starts.len() * MAX_RUN > 2 * CODE_CAPACITY);
        for start in starts {
            let mut cpu = fresh(&mem);
            cpu.pc = page + 4 * start;
            assert_eq!(cpu.run(&mut mem, &mut cache, u64::MAX), Exit::Ecall);
            assert_eq!(cpu.x[10], count - start, "entered at instruction {start}");
            assert_eq!(cpu.instret, count - start + 1);
        }
    }

    #[test]
    fn any_budget_split_gives_the_same_state() {
        let mut reference_mem = memory();
        let mut cache = CodeCache::default();
        let mut reference = fresh(&reference_mem);
        reference.run(&mut reference_mem, &mut cache, u64::MAX);
        for slice in [1, 2, 3, 7, 100, 306] {
            let mut mem = memory();
            let mut cache = CodeCache::default();
            let mut cpu = fresh(&mem);
            let mut calls = 0;
            loop {
                let before = cpu.instret;
                match cpu.run(&mut mem, &mut cache, slice) {
                    Exit::Budget => assert_eq!(cpu.instret - before, slice),
                    Exit::Ecall => break,
                    other => panic!("unexpected exit {other:?}"),
                }
                calls += 1;
                assert!(calls <= TOTAL, "no progress with slice {slice}");
            }
            assert_eq!(cpu, reference, "slice {slice}");
        }
    }

    /// Conditional branches do not end runs: a taken one in the middle of a run, forward
    /// or back, gives back the rest of the run's charge, also when the budget ends inside
    /// the run and it is stepped.
    #[test]
    fn branches_inside_runs_retire_exactly_under_any_split() {
        const BRANCHES: &[u8] = &[
            0x13, 0x05, 0x00, 0x00, // addi a0, zero, 0
            0x93, 0x05, 0x50, 0x00, // addi a1, zero, 5
            0x93, 0x85, 0xf5, 0xff, // loop: addi a1, a1, -1
            0x63, 0x88, 0x05, 0x00, // beqz a1, done
            0x13, 0x05, 0x35, 0x00, // addi a0, a0, 3
            0xe3, 0x9a, 0x05, 0xfe, // bnez a1, loop
            0x13, 0x05, 0x45, 0x06, // addi a0, a0, 100 (never reached)
            0xf3, 0x26, 0x20, 0xc0, // done: rdinstret a3
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        for slice in (1..=23).chain([1000]) {
            let mut mem = memory();
            mem.write_bytes(CODE, BRANCHES).unwrap();
            let mut cache = CodeCache::default();
            let mut cpu = fresh(&mem);
            while cpu.run(&mut mem, &mut cache, slice) == Exit::Budget {}
            assert_eq!(cpu.x[10], 12, "slice {slice}");
            // 2 + 4 iterations of 4 + the last addi and the taken beqz.
            assert_eq!(cpu.x[13], 20, "rdinstret, slice {slice}");
            assert_eq!(cpu.instret, 22, "slice {slice}");
            assert_eq!(cpu.pc, CODE + 32, "slice {slice}");
        }
    }

    /// Adjacent pairs the code cache fuses (slli+add, srli+xor, auipc/lui+addi(w)), with
    /// aliasing operands, x0 as a destination, compressed halves and a jump into a pair's
    /// second half: the same registers and exact counts whether the run executes whole
    /// (fused arms) or is stepped because the budget ends inside it (the halves one by one).
    #[test]
    fn fused_pairs_match_their_halves_under_any_split() {
        const PAIRS: &[u8] = &[
            0x93, 0x12, 0x35, 0x00, // slli t0, a0, 3
            0xb3, 0x82, 0xb2, 0x00, // add t0, t0, a1
            0x13, 0x13, 0x25, 0x00, // slli t1, a0, 2
            0x33, 0x06, 0x63, 0x00, // add a2, t1, t1
            0x93, 0xd3, 0x45, 0x00, // srli t2, a1, 4
            0xb3, 0xc6, 0xa3, 0x00, // xor a3, t2, a0
            0x13, 0x10, 0x15, 0x00, // slli zero, a0, 1
            0x33, 0x07, 0xb0, 0x00, // add a4, zero, a1
            0x97, 0x57, 0x34, 0x12, // 0x20: auipc a5, 0x12345
            0x93, 0x87, 0xf7, 0xff, // addi a5, a5, -1
            0x17, 0x08, 0x00, 0x00, // 0x28: auipc a6, 0
            0x93, 0x08, 0xf8, 0x7f, // addi a7, a6, 2047
            0x37, 0x09, 0x00, 0x80, // lui s2, 0x80000
            0x1b, 0x09, 0xf9, 0xff, // addiw s2, s2, -1
            0xb7, 0xf9, 0xff, 0xff, // lui s3, 0xfffff
            0x93, 0x89, 0x09, 0x80, // addi s3, s3, -2048
            0x7d, 0x6a, // c.lui s4, 0x1f
            0x15, 0x0a, // c.addi s4, 5
            0x06, 0x05, // c.slli a0, 1
            0x2e, 0x95, // c.add a0, a1
            0x63, 0x84, 0xb5, 0x00, // beq a1, a1, 0x50
            0x93, 0x1a, 0x15, 0x00, // slli s5, a0, 1 (skipped)
            0xb3, 0x0a, 0xb5, 0x00, // 0x50: add s5, a0, a1
            0x73, 0x2b, 0x20, 0xc0, // rdinstret s6
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        const A: u64 = 0x1234_5678_9abc_def1;
        const B: u64 = 0xfedc_ba98_7654_3210;
        let mut states = std::vec::Vec::new();
        for slice in (1..=25).chain([1000]) {
            let mut mem = memory();
            mem.write_bytes(CODE, PAIRS).unwrap();
            let mut cache = CodeCache::default();
            let mut cpu = fresh(&mem);
            cpu.x[10] = A;
            cpu.x[11] = B;
            while cpu.run(&mut mem, &mut cache, slice) == Exit::Budget {}
            let x = &cpu.x;
            let a0 = (A << 1).wrapping_add(B);
            assert_eq!(x[5], (A << 3).wrapping_add(B), "t0, slice {slice}");
            assert_eq!(
                (x[6], x[12]),
                (A << 2, (A << 2).wrapping_mul(2)),
                "slice {slice}"
            );
            assert_eq!((x[7], x[13]), (B >> 4, (B >> 4) ^ A), "slice {slice}");
            assert_eq!((x[0], x[14]), (0, B), "slice {slice}");
            assert_eq!(x[15], CODE + 0x20 + 0x1234_5000 - 1, "a5, slice {slice}");
            assert_eq!(
                (x[16], x[17]),
                (CODE + 0x28, CODE + 0x28 + 2047),
                "slice {slice}"
            );
            assert_eq!(x[18], 0x7fff_ffff, "s2, slice {slice}");
            assert_eq!(x[19], (-6144i64) as u64, "s3, slice {slice}");
            assert_eq!(x[20], 0x1f005, "s4, slice {slice}");
            assert_eq!((x[10], x[21]), (a0, a0.wrapping_add(B)), "slice {slice}");
            // 21 instructions up to the beq, then the add it jumps to.
            assert_eq!(x[22], 22, "rdinstret, slice {slice}");
            assert_eq!(cpu.instret, 24, "slice {slice}");
            states.push(cpu);
        }
        assert!(states.windows(2).all(|w| w[0] == w[1]));
    }

    /// The fused load pairs (load + `addi r, r, i`, `add` + load) with compressed halves,
    /// aliasing registers and x0 as a destination: the same state under any budget split,
    /// and a fault in the load of an `add` + load retires the `add` alone.
    #[test]
    fn fused_load_pairs_match_their_halves_and_fault_exactly() {
        const LOAD_PAIRS: &[u8] = &[
            0x83, 0xb2, 0x04, 0x00, // ld t0, 0(s1)
            0x93, 0x84, 0x84, 0x00, // addi s1, s1, 8
            0x03, 0xa3, 0x04, 0x00, // lw t1, 0(s1)
            0x93, 0x84, 0x84, 0x00, // addi s1, s1, 8
            0x83, 0xc3, 0x04, 0x00, // lbu t2, 0(s1)
            0x93, 0x84, 0x04, 0xff, // addi s1, s1, -16
            0x33, 0x86, 0xb4, 0x00, // add a2, s1, a1
            0x83, 0x26, 0x06, 0x00, // lw a3, 0(a2)
            0x2e, 0x96, // c.add a2, a1
            0x03, 0x47, 0x06, 0x00, // lbu a4, 0(a2)
            0x93, 0x87, 0x04, 0x00, // addi a5, s1, 0 (not c.mv: add + add would fuse)
            0xae, 0x97, // c.add a5, a1
            0x9c, 0x63, // c.ld a5, 0(a5)
            0x83, 0xb4, 0x04, 0x00, // ld s1, 0(s1)
            0x93, 0x84, 0x14, 0x00, // addi s1, s1, 1
            0x33, 0x88, 0x04, 0x00, // add a6, s1, zero
            0x03, 0x40, 0x08, 0x00, // lbu zero, 0(a6)
            0x83, 0x28, 0x44, 0x00, // lw a7, 4(s0)
            0x13, 0x04, 0x44, 0x00, // addi s0, s0, 4
            0x33, 0x09, 0xb5, 0x00, // 0x46: add s2, a0, a1
            0x83, 0x39, 0x09, 0x00, // 0x4a: ld s3, 0(s2)
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        const DATA: u64 = 0x8000;
        let run = |a0: u64, slice: u64| {
            let mut mem = memory();
            mem.write_bytes(CODE, LOAD_PAIRS).unwrap();
            mem.write_bytes(DATA, &0x9001u64.to_le_bytes()).unwrap();
            mem.write_bytes(DATA + 8, &0x1122_3344_8765_4321u64.to_le_bytes())
                .unwrap();
            mem.write_bytes(DATA + 16, &[0xfe]).unwrap();
            let mut cpu = fresh(&mem);
            cpu.x[8] = DATA;
            cpu.x[9] = DATA;
            cpu.x[10] = a0;
            cpu.x[11] = 8;
            let exit = run_to_exit(&mut mem, &mut cpu, slice);
            (exit, cpu)
        };
        // The pairs above are fused (so both the fused arms and the stepped halves run).
        let mut mem = memory();
        mem.write_bytes(CODE, LOAD_PAIRS).unwrap();
        let mut cache = CodeCache::default();
        let page = cache.page(CODE >> PAGE_SHIFT, mem.size()).unwrap();
        let k = page
            .lookup(&mem, CODE & !((1 << PAGE_SHIFT) - 1), CODE)
            .unwrap();
        let ops: std::vec::Vec<Op> = page.code[k..].iter().map(|s| s.insn.op).collect();
        use Op::*;
        let expected = [
            LdAddi, LwAddi, LbuAddi, AddLw, AddLbu, Addi, AddLd, LdAddi, AddLbu, LwAddi, AddLd,
            Ecall,
        ];
        assert_eq!(ops, expected);
        let mut states = std::vec::Vec::new();
        for slice in (1..=23).chain([1000]) {
            let (exit, cpu) = run(DATA - 8, slice);
            assert_eq!(exit, Exit::Ecall, "slice {slice}");
            let x = &cpu.x;
            assert_eq!((x[5], x[6], x[7]), (0x9001, 0xffff_ffff_8765_4321, 0xfe));
            assert_eq!(
                (x[12], x[13], x[14]),
                (DATA + 16, 0xffff_ffff_8765_4321, 0xfe)
            );
            assert_eq!(x[15], 0x1122_3344_8765_4321, "a5, slice {slice}");
            assert_eq!((x[9], x[16], x[0]), (0x9002, 0x9002, 0), "slice {slice}");
            assert_eq!((x[17], x[8]), (0, DATA + 4), "slice {slice}");
            assert_eq!((x[18], x[19]), (DATA, 0x9001), "slice {slice}");
            assert_eq!(cpu.instret, 22, "slice {slice}");
            states.push(cpu);
        }
        assert!(states.windows(2).all(|w| w[0] == w[1]));
        let outside = memory().size() + 0x100;
        for slice in (1..=21).chain([1000]) {
            let (exit, cpu) = run(outside - 8, slice);
            assert_eq!(
                exit,
                Exit::Fault {
                    addr: outside,
                    access: Access::Load
                },
                "slice {slice}"
            );
            assert_eq!(cpu.pc, CODE + 0x4a, "slice {slice}");
            assert_eq!(cpu.instret, 20, "slice {slice}");
            assert_eq!(cpu.x[18], outside, "slice {slice}");
        }
    }

    /// The fused register pairs (`addi` + `addi r, r, i`, `add` + `add`, `mulw` + `addw`)
    /// with compressed halves, aliasing and x0: the same state under any budget split.
    #[test]
    fn fused_register_pairs_match_their_halves_under_any_split() {
        const REGISTER_PAIRS: &[u8] = &[
            0x93, 0x02, 0x55, 0x00, // addi t0, a0, 5
            0x93, 0x85, 0x95, 0xff, // addi a1, a1, -7
            0x0d, 0x05, // c.addi a0, 3
            0x05, 0x05, // c.addi a0, 1
            0x2a, 0x96, // c.add a2, a0
            0x2e, 0x96, // c.add a2, a1
            0xb3, 0x06, 0xb5, 0x00, // add a3, a0, a1
            0x33, 0x87, 0xd6, 0x00, // add a4, a3, a3
            0xbb, 0x07, 0xb5, 0x02, // mulw a5, a0, a1
            0x3b, 0x88, 0xa7, 0x00, // addw a6, a5, a0
            0x3b, 0x04, 0xb5, 0x02, // mulw s0, a0, a1
            0x2d, 0x9c, // c.addw s0, a1
            0x3b, 0x00, 0xb5, 0x02, // mulw zero, a0, a1
            0xbb, 0x03, 0xb0, 0x00, // addw t2, zero, a1
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        const A: u64 = 0x1234_5678_9abc_def1;
        const B: u64 = 0xfedc_ba98_7654_3210;
        const C: u64 = 0x1111;
        let mut mem = memory();
        mem.write_bytes(CODE, REGISTER_PAIRS).unwrap();
        let mut cache = CodeCache::default();
        let page = cache.page(CODE >> PAGE_SHIFT, mem.size()).unwrap();
        let k = page
            .lookup(&mem, CODE & !((1 << PAGE_SHIFT) - 1), CODE)
            .unwrap();
        let ops: std::vec::Vec<Op> = page.code[k..].iter().map(|s| s.insn.op).collect();
        use Op::*;
        let expected = [
            AddiAddi, AddiAddi, AddAdd, AddAdd, MulwAddw, MulwAddw, MulwAddw, Ecall,
        ];
        assert_eq!(ops, expected);
        let (a, b) = (A + 4, B - 7);
        let product = sext32(a.wrapping_mul(b));
        let mut states = std::vec::Vec::new();
        for slice in (1..=16).chain([1000]) {
            let mut mem = memory();
            mem.write_bytes(CODE, REGISTER_PAIRS).unwrap();
            let mut cache = CodeCache::default();
            let mut cpu = fresh(&mem);
            (cpu.x[10], cpu.x[11], cpu.x[12]) = (A, B, C);
            while cpu.run(&mut mem, &mut cache, slice) == Exit::Budget {}
            let x = &cpu.x;
            assert_eq!((x[5], x[10], x[11]), (A + 5, a, b), "slice {slice}");
            assert_eq!(x[12], C.wrapping_add(a).wrapping_add(b), "slice {slice}");
            let sum = a.wrapping_add(b);
            assert_eq!((x[13], x[14]), (sum, sum.wrapping_mul(2)), "slice {slice}");
            assert_eq!(x[15], product, "slice {slice}");
            assert_eq!(x[16], sext32(product.wrapping_add(a)), "slice {slice}");
            assert_eq!(x[8], sext32(product.wrapping_add(b)), "slice {slice}");
            assert_eq!((x[0], x[7]), (0, sext32(b)), "slice {slice}");
            assert_eq!(cpu.instret, 15, "slice {slice}");
            states.push(cpu);
        }
        assert!(states.windows(2).all(|w| w[0] == w[1]));
    }

    /// The double-precision operations run inline (square root, sign injection, comparisons)
    /// give the state the out-of-line interpreter gives under any budget split, among the
    /// `fflags` reads and writes of C's quiet comparisons; a square root after NX has accrued
    /// takes the host's result.
    #[test]
    fn inline_fp_roots_sign_injections_and_comparisons_match_under_any_split() {
        const PROGRAM: &[u8] = &[
            0x53, 0x05, 0x05, 0xf2, // fmv.d.x fa0,a0
            0xd3, 0x85, 0x05, 0xf2, // fmv.d.x fa1,a1
            0x53, 0x76, 0x05, 0x5a, // fsqrt.d fa2,fa0
            0xd3, 0x06, 0xb5, 0x22, // fsgnj.d fa3,fa0,fa1
            0x53, 0x17, 0xb5, 0x22, // fsgnjn.d fa4,fa0,fa1
            0xd3, 0xa7, 0xb5, 0x22, // fabs.d fa5,fa1
            0xf3, 0x22, 0x10, 0x00, // frflags t0
            0x53, 0x78, 0x05, 0x5a, // fsqrt.d fa6,fa0
            0x53, 0x00, 0x06, 0xf2, // fmv.d.x ft0,a2
            0x53, 0x13, 0xa0, 0xa2, // flt.d t1,ft0,fa0
            0xd3, 0x83, 0xa5, 0xa2, // fle.d t2,fa1,fa0
            0x53, 0x24, 0xa5, 0xa2, // feq.d s0,fa0,fa0
            0x53, 0x19, 0xa5, 0xa2, // flt.d s2,fa0,fa0
            0xd3, 0x29, 0xb5, 0xa2, // feq.d s3,fa0,fa1
            0xf3, 0x24, 0x10, 0x00, // frflags s1
            0x73, 0x90, 0x12, 0x00, // fsflags t0
            0xf3, 0x26, 0x17, 0x00, // csrrs a3,fflags,a4
            0xf3, 0x27, 0x10, 0x00, // frflags a5
            0x73, 0x98, 0x18, 0x00, // fsflags a6,a7
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        let qnan = f64::NAN.to_bits();
        let regs = [(10, 2f64.to_bits()), (11, (-3f64).to_bits()), (12, qnan)];
        let regs = [regs.as_slice(), &[(14, 4), (17, 0x3f)]].concat();
        for slice in (1..=20).chain([1000]) {
            let (exit, cpu) = run_with(PROGRAM, &[], &regs, slice);
            assert_eq!(exit, Exit::Ecall, "slice {slice}");
            let root = 2f64.sqrt().to_bits();
            let f = &cpu.f;
            assert_eq!((f[12], f[16]), (root, root), "slice {slice}");
            let (minus_two, two, three) = ((-2f64).to_bits(), 2f64.to_bits(), 3f64.to_bits());
            assert_eq!(
                (f[13], f[14], f[15]),
                (minus_two, two, three),
                "slice {slice}"
            );
            let x = &cpu.x;
            // NX after the root; flt of a NaN raises NV, restored away by fsflags.
            assert_eq!(
                (x[5], x[6], x[7], x[8], x[9]),
                (1, 0, 1, 1, 0x11),
                "slice {slice}"
            );
            assert_eq!((x[18], x[19]), (0, 0), "slice {slice}");
            assert_eq!((x[13], x[15], x[16]), (1, 5, 5), "slice {slice}");
            assert_eq!(cpu.fflags, 0x1f, "slice {slice}");
        }
    }

    /// The quiet-comparison idiom (`frflags t; compare; fsflags t`) runs as one operation and
    /// gives what its three instructions give under any budget split: `t` gets the flags,
    /// the comparison its result, and the flags it raises are gone. A comparison into `t`
    /// itself is not fused (the `fsflags` then writes its result), nor is an idiom with no
    /// `fsflags`, which keeps the flags raised.
    #[test]
    fn quiet_comparisons_match_their_parts_under_any_split() {
        const PROGRAM: &[u8] = &[
            0x53, 0x05, 0x05, 0xf2, // fmv.d.x fa0,a0
            0xd3, 0x85, 0x05, 0xf2, // fmv.d.x fa1,a1
            0x53, 0x06, 0x06, 0xf0, // fmv.w.x fa2,a2
            0xd3, 0x86, 0x06, 0xf0, // fmv.w.x fa3,a3
            0xd3, 0x87, 0x0a, 0xf2, // fmv.d.x fa5,s5
            0x73, 0xd0, 0x10, 0x00, // csrwi fflags,1
            0xf3, 0x22, 0x10, 0x00, // frflags t0
            0x53, 0x93, 0xa5, 0xa2, // flt.d t1,fa1,fa0
            0x73, 0x90, 0x12, 0x00, // fsflags t0
            0xf3, 0x23, 0x10, 0x00, // frflags t2
            0x53, 0x94, 0xa7, 0xa2, // flt.d s0,fa5,fa0
            0x73, 0x90, 0x13, 0x00, // fsflags t2
            0xf3, 0x24, 0x10, 0x00, // frflags s1
            0x53, 0x29, 0xd6, 0xa0, // feq.s s2,fa2,fa3
            0x73, 0x90, 0x14, 0x00, // fsflags s1
            0x73, 0x27, 0x10, 0x00, // frflags a4
            0xd3, 0x07, 0xc6, 0xa0, // fle.s a5,fa2,fa2
            0x73, 0x10, 0x17, 0x00, // fsflags a4
            0x73, 0x2e, 0x10, 0x00, // frflags t3
            0x53, 0x90, 0xa5, 0xa2, // flt.d zero,fa1,fa0
            0x73, 0x10, 0x1e, 0x00, // fsflags t3
            0xf3, 0x29, 0x10, 0x00, // frflags s3
            0x73, 0x28, 0x10, 0x00, // frflags a6
            0x53, 0x18, 0xb5, 0xa2, // flt.d a6,fa0,fa1
            0x73, 0x10, 0x18, 0x00, // fsflags a6
            0xf3, 0x28, 0x10, 0x00, // frflags a7
            0x53, 0x8a, 0xb5, 0xa2, // fle.d s4,fa1,fa1
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        let slots = first_run(PROGRAM);
        let quiet = |mark| {
            let marked =
                |i: &&Insn| i.op == Op::Csrrs && i.imm & (QUIET_PAIR | QUIET_TRIPLE) == mark;
            slots.iter().filter(marked).count()
        };
        assert_eq!(quiet(QUIET_PAIR | QUIET_TRIPLE), 5);
        assert_eq!(quiet(QUIET_PAIR), 1);
        let signaling_f32 = 0xffff_ffff_7fa0_0000;
        let regs = [
            (10, 2f64.to_bits()),
            (11, f64::NAN.to_bits()),
            (12, u64::from(1.5f32.to_bits())),
            (13, signaling_f32),
            (21, (-3f64).to_bits()),
        ];
        for slice in (1..=28).chain([1000]) {
            let (exit, cpu) = run_with(PROGRAM, &[], &regs, slice);
            assert_eq!(exit, Exit::Ecall, "slice {slice}");
            let x = &cpu.x;
            assert_eq!((x[5], x[6], x[7], x[8]), (1, 0, 1, 1), "slice {slice}");
            assert_eq!((x[9], x[18], x[14], x[15]), (1, 0, 1, 1), "slice {slice}");
            assert_eq!((x[28], x[0], x[19]), (1, 0, 1), "slice {slice}");
            assert_eq!((x[16], x[17], x[20]), (0, 0, 0), "slice {slice}");
            assert_eq!(cpu.fflags, fpu::NV, "slice {slice}");
            assert_eq!(cpu.instret, 28, "slice {slice}");
        }
    }

    /// Moves between the register files and the common conversions run inline: the state
    /// the out-of-line interpreter gives under any budget split (rounding by the field and
    /// by `frm`, NaN-boxing of single results, a non-boxed single operand read as the
    /// canonical NaN, saturation of NaN with NV).
    #[test]
    fn inline_moves_and_conversions_match_under_any_split() {
        const PROGRAM: &[u8] = &[
            0x53, 0x05, 0x05, 0xf2, // fmv.d.x fa0,a0
            0xd3, 0x05, 0x05, 0xe2, // fmv.x.d a1,fa0
            0x53, 0x26, 0x05, 0xc2, // fcvt.w.d a2,fa0,rdn
            0xd3, 0x76, 0x25, 0xc2, // fcvt.l.d a3,fa0
            0xd3, 0x05, 0x07, 0xd2, // fcvt.d.w fa1,a4
            0x53, 0xf6, 0x27, 0xd2, // fcvt.d.l fa2,a5
            0xd3, 0x76, 0x15, 0x40, // fcvt.s.d fa3,fa0
            0x53, 0x87, 0x06, 0x42, // fcvt.d.s fa4,fa3
            0xd3, 0x87, 0x08, 0xf0, // fmv.w.x fa5,a7
            0x53, 0x88, 0x07, 0xe0, // fmv.x.w a6,fa5
            0x53, 0xa9, 0x07, 0xc0, // fcvt.w.s s2,fa5,rdn
            0xd3, 0xf9, 0x27, 0xc0, // fcvt.l.s s3,fa5
            0x53, 0x78, 0x07, 0xd0, // fcvt.s.w fa6,a4
            0xd3, 0xf8, 0x27, 0xd0, // fcvt.s.l fa7,a5
            0x53, 0x80, 0x02, 0xf2, // fmv.d.x ft0,t0
            0x53, 0x73, 0x00, 0xc2, // fcvt.w.d t1,ft0
            0xd3, 0x00, 0x05, 0x42, // fcvt.d.s ft1,fa0
            0x53, 0x8a, 0x05, 0xe2, // fmv.x.d s4,fa1
            0xd3, 0x0a, 0x06, 0xe2, // fmv.x.d s5,fa2
            0x53, 0x0b, 0x07, 0xe2, // fmv.x.d s6,fa4
            0xd3, 0x0b, 0x08, 0xe2, // fmv.x.d s7,fa6
            0x53, 0x8c, 0x08, 0xe2, // fmv.x.d s8,fa7
            0xd3, 0x83, 0x00, 0xe2, // fmv.x.d t2,ft1
            0xf3, 0x2c, 0x10, 0x00, // frflags s9
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        let two_to_53_plus_1 = (1u64 << 53) + 1;
        let regs = [
            (10, (-2.5f64).to_bits()),
            (14, 0x1_ffff_fff9), // -7 in the low word: the word conversions ignore the rest
            (15, two_to_53_plus_1),
            (17, 0xdead_beef_0000_0000 | u64::from(1.75f32.to_bits())),
            (5, f64::NAN.to_bits()),
        ];
        let minus_2_5_single = (-2.5f32).to_bits();
        for slice in (1..=25).chain([1000]) {
            let (exit, cpu) = run_with(PROGRAM, &[], &regs, slice);
            assert_eq!(exit, Exit::Ecall, "slice {slice}");
            let x = &cpu.x;
            // -2.5 rounded down by the field, to even by `frm`.
            let (minus_three, minus_two) = (-3i64 as u64, -2i64 as u64);
            assert_eq!(
                (x[11], x[12], x[13]),
                ((-2.5f64).to_bits(), minus_three, minus_two)
            );
            let (two_to_53_double, two_to_53_single) = (2f64.powi(53), 2f32.powi(53));
            assert_eq!(
                (x[20], x[21]),
                ((-7f64).to_bits(), two_to_53_double.to_bits())
            );
            assert_eq!(cpu.f[13], box32(minus_2_5_single), "slice {slice}");
            assert_eq!(
                (x[22], x[16]),
                ((-2.5f64).to_bits(), u64::from(1.75f32.to_bits()))
            );
            assert_eq!(cpu.f[15], box32(1.75f32.to_bits()), "slice {slice}");
            assert_eq!((x[18], x[19]), (1, 2), "slice {slice}");
            let single = |v: f32| box32(v.to_bits());
            assert_eq!((x[23], x[24]), (single(-7.0), single(two_to_53_single)));
            assert_eq!((x[6], x[7]), (0x7fff_ffff, fpu::CANONICAL_NAN_F64));
            assert_eq!((x[25], cpu.instret), (u64::from(fpu::NX | fpu::NV), 25));
        }
    }

    /// `fmin` and `fmax` run inline: -0 below +0, a single NaN operand ignored, NV only for
    /// a signaling one, two NaNs (a non-boxed single counts as one) giving the canonical
    /// NaN, under any budget split.
    #[test]
    fn inline_min_max_match_under_any_split() {
        const PROGRAM: &[u8] = &[
            0x53, 0x05, 0x05, 0xf2, // fmv.d.x fa0,a0
            0xd3, 0x85, 0x05, 0xf2, // fmv.d.x fa1,a1
            0x53, 0x06, 0x06, 0xf2, // fmv.d.x fa2,a2
            0xd3, 0x86, 0x06, 0xf2, // fmv.d.x fa3,a3
            0x53, 0x07, 0xb5, 0x2a, // fmin.d fa4,fa0,fa1
            0xd3, 0x17, 0xb5, 0x2a, // fmax.d fa5,fa0,fa1
            0x53, 0x08, 0xd6, 0x2a, // fmin.d fa6,fa2,fa3
            0xd3, 0x98, 0xc5, 0x2a, // fmax.d fa7,fa1,fa2
            0x53, 0x00, 0x07, 0xf0, // fmv.w.x ft0,a4
            0xd3, 0x80, 0x07, 0xf0, // fmv.w.x ft1,a5
            0x53, 0x01, 0x10, 0x28, // fmin.s ft2,ft0,ft1
            0xd3, 0x11, 0x10, 0x28, // fmax.s ft3,ft0,ft1
            0x53, 0x02, 0xa0, 0x28, // fmin.s ft4,ft0,fa0
            0x53, 0x09, 0x07, 0xe2, // fmv.x.d s2,fa4
            0xd3, 0x89, 0x07, 0xe2, // fmv.x.d s3,fa5
            0x53, 0x0a, 0x08, 0xe2, // fmv.x.d s4,fa6
            0xd3, 0x8a, 0x08, 0xe2, // fmv.x.d s5,fa7
            0x53, 0x0b, 0x01, 0xe2, // fmv.x.d s6,ft2
            0xd3, 0x8b, 0x01, 0xe2, // fmv.x.d s7,ft3
            0x53, 0x0c, 0x02, 0xe2, // fmv.x.d s8,ft4
            0xf3, 0x2c, 0x10, 0x00, // frflags s9
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        let regs = [
            (10, (-0f64).to_bits()),
            (11, 0f64.to_bits()),
            (12, f64::NAN.to_bits()),
            (13, 3f64.to_bits()),
            (14, 0x7fa0_0000),
            (15, u64::from(1.5f32.to_bits())),
        ];
        let one_and_a_half = box32(1.5f32.to_bits());
        for slice in (1..=22).chain([1000]) {
            let (exit, cpu) = run_with(PROGRAM, &[], &regs, slice);
            assert_eq!(exit, Exit::Ecall, "slice {slice}");
            let x = &cpu.x;
            assert_eq!((x[18], x[19]), ((-0f64).to_bits(), 0), "slice {slice}");
            assert_eq!((x[20], x[21]), (3f64.to_bits(), 0), "slice {slice}");
            assert_eq!(
                (x[22], x[23]),
                (one_and_a_half, one_and_a_half),
                "slice {slice}"
            );
            let nan = box32(fpu::CANONICAL_NAN_F32);
            assert_eq!((x[24], x[25]), (nan, u64::from(fpu::NV)), "slice {slice}");
            assert_eq!(cpu.instret, 22, "slice {slice}");
        }
    }

    /// The single-precision operations run inline (arithmetic, fused forms, square root,
    /// sign injection, comparisons; NaN-boxed operands and results) give the state the
    /// out-of-line interpreter gives under any budget split.
    #[test]
    fn inline_single_precision_matches_under_any_split() {
        const PROGRAM: &[u8] = &[
            0x53, 0x05, 0x05, 0xf0, // fmv.w.x fa0,a0
            0xd3, 0x85, 0x05, 0xf0, // fmv.w.x fa1,a1
            0x53, 0x76, 0x05, 0x58, // fsqrt.s fa2,fa0
            0xd3, 0x76, 0xb5, 0x00, // fadd.s fa3,fa0,fa1
            0x53, 0x77, 0xb5, 0x08, // fsub.s fa4,fa0,fa1
            0xd3, 0x77, 0xb5, 0x10, // fmul.s fa5,fa0,fa1
            0x53, 0x78, 0xb5, 0x18, // fdiv.s fa6,fa0,fa1
            0xc3, 0x78, 0xb5, 0x50, // fmadd.s fa7,fa0,fa1,fa0
            0x47, 0x70, 0xb5, 0x50, // fmsub.s ft0,fa0,fa1,fa0
            0xcf, 0x70, 0xb5, 0x50, // fnmadd.s ft1,fa0,fa1,fa0
            0x4b, 0x71, 0xb5, 0x50, // fnmsub.s ft2,fa0,fa1,fa0
            0xd3, 0x01, 0xb5, 0x20, // fsgnj.s ft3,fa0,fa1
            0x53, 0x12, 0xb5, 0x20, // fsgnjn.s ft4,fa0,fa1
            0xd3, 0xa2, 0xb5, 0x20, // fabs.s ft5,fa1
            0x53, 0x93, 0xa5, 0xa0, // flt.s t1,fa1,fa0
            0xd3, 0x03, 0xa5, 0xa0, // fle.s t2,fa0,fa0
            0x53, 0x24, 0xb5, 0xa0, // feq.s s0,fa0,fa1
            0x53, 0x19, 0xa5, 0xa0, // flt.s s2,fa0,fa0
            0x53, 0x03, 0x06, 0xf2, // fmv.d.x ft6,a2
            0xd3, 0x73, 0xa3, 0x00, // fadd.s ft7,ft6,fa0
            0xf3, 0x24, 0x10, 0x00, // frflags s1
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        let regs = [(10, 0x4000_0000), (11, 0xc040_0000), (12, 0x4000_0000)];
        let boxed = |v: u32| 0xffff_ffff_0000_0000 | u64::from(v);
        for slice in (1..=23).chain([1000]) {
            let (exit, cpu) = run_with(PROGRAM, &[], &regs, slice);
            assert_eq!(exit, Exit::Ecall, "slice {slice}");
            let f = &cpu.f;
            let arithmetic = [
                0x3fb5_04f3,
                0xbf80_0000,
                0x40a0_0000,
                0xc0c0_0000,
                0xbf2a_aaab,
            ];
            assert_eq!(f[12..17], arithmetic.map(boxed), "slice {slice}");
            let fused = [0xc080_0000, 0xc100_0000, 0x4080_0000, 0x4100_0000];
            assert_eq!([f[17], f[0], f[1], f[2]], fused.map(boxed), "slice {slice}");
            let signs = [0xc000_0000, 0x4000_0000, 0x4040_0000];
            assert_eq!(f[3..6], signs.map(boxed), "slice {slice}");
            // An operand that is not NaN-boxed reads as the canonical NaN.
            assert_eq!(f[7], boxed(0x7fc0_0000), "slice {slice}");
            let x = &cpu.x;
            assert_eq!((x[6], x[7], x[8], x[18]), (1, 1, 0, 0), "slice {slice}");
            assert_eq!(x[9], 1, "slice {slice}");
        }
    }

    /// Shift pairs that zero- or sign-extend one register (`slli` 32 then `srli` 32 or 29,
    /// `slli` then `srai` 56, 48 or 32, their word forms, compressed halves) run as one
    /// operation; pairs whose second shift reads another register, or that an extension
    /// cannot express, stay two. The same state as the shifts under any budget split.
    #[test]
    fn extending_shift_pairs_match_their_halves_under_any_split() {
        const SHIFT_PAIRS: &[u8] = &[
            0x93, 0x15, 0x05, 0x02, // slli a1, a0, 32
            0x81, 0x91, // c.srli a1, 32
            0x13, 0x16, 0x05, 0x02, // slli a2, a0, 32
            0x75, 0x82, // c.srli a2, 29
            0x93, 0x16, 0x85, 0x03, // slli a3, a0, 56
            0xe1, 0x96, // c.srai a3, 56
            0x1b, 0x17, 0x85, 0x01, // slliw a4, a0, 24
            0x1b, 0x57, 0x87, 0x41, // sraiw a4, a4, 24
            0x9b, 0x17, 0x05, 0x01, // slliw a5, a0, 16
            0x9b, 0xd7, 0x07, 0x41, // sraiw a5, a5, 16
            0x93, 0x12, 0x05, 0x03, // slli t0, a0, 48
            0x93, 0xd2, 0x02, 0x43, // srai t0, t0, 48
            0x13, 0x13, 0x05, 0x03, // slli t1, a0, 48
            0x13, 0x53, 0x03, 0x03, // srli t1, t1, 48
            0x9b, 0x13, 0x05, 0x01, // slliw t2, a0, 16
            0x9b, 0xd3, 0x03, 0x01, // srliw t2, t2, 16
            0x13, 0x14, 0x05, 0x02, // slli s0, a0, 32
            0x13, 0x54, 0x04, 0x42, // srai s0, s0, 32
            0x82, 0x14, // c.slli s1, 32
            0x81, 0x90, // c.srli s1, 32
            0x13, 0x18, 0x05, 0x02, // slli a6, a0, 32
            0x13, 0x58, 0x18, 0x02, // srli a6, a6, 33: not an extension
            0x93, 0x18, 0x85, 0x01, // slli a7, a0, 24
            0x93, 0x58, 0x85, 0x41, // srai a7, a0, 24: not in place
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        use Op::*;
        let expected = [
            PairSlliUw, PairSlliUw, PairSextB, PairSextB, PairSextH, PairSextH, PairZextH,
            PairZextH, PairSextW, PairSlliUw, Slli, Srli, Slli, Srai, Ecall,
        ];
        assert_eq!(first_run_ops(SHIFT_PAIRS), expected);
        const A: u64 = 0x1234_5678_9abc_def1;
        const B: u64 = 0xfedc_ba98_8654_3210;
        let mut states = std::vec::Vec::new();
        for slice in (1..=16).chain([1000]) {
            let (exit, cpu) = run_with(SHIFT_PAIRS, &[], &[(10, A), (9, B)], slice);
            assert_eq!(exit, Exit::Ecall, "slice {slice}");
            let x = &cpu.x;
            let (byte, half) = (0xffff_ffff_ffff_fff1, 0xffff_ffff_ffff_def1);
            assert_eq!(
                (x[11], x[12]),
                (0x9abc_def1, 0x9abc_def1 << 3),
                "slice {slice}"
            );
            assert_eq!(
                (x[13], x[14], x[15], x[5]),
                (byte, byte, half, half),
                "slice {slice}"
            );
            assert_eq!((x[6], x[7]), (0xdef1, 0xdef1), "slice {slice}");
            assert_eq!(
                (x[8], x[9]),
                (0xffff_ffff_9abc_def1, 0x8654_3210),
                "slice {slice}"
            );
            assert_eq!(
                (x[16], x[17]),
                ((A << 32) >> 33, 0x12_3456_789a),
                "slice {slice}"
            );
            assert_eq!(cpu.instret, 25, "slice {slice}");
            states.push(cpu);
        }
        assert!(states.windows(2).all(|w| w[0] == w[1]));
    }

    /// Direct transfers are linked to their target slots, at decode time when the target
    /// is already decoded (the loop's backward branch) and when the transfer first decodes
    /// it (the forward branch and the jump, whose targets follow a run end): the same
    /// result and exact counts under any budget split, with every transfer linked.
    #[test]
    fn direct_transfers_link_to_their_targets_under_any_split() {
        const LOOP: &[u8] = &[
            0x13, 0x05, 0x00, 0x00, // li a0, 0
            0x93, 0x05, 0x20, 0x03, // li a1, 50
            0x93, 0xf2, 0x15, 0x00, // 0x08 loop: andi t0, a1, 1
            0x63, 0x86, 0x02, 0x00, // beqz t0, even
            0x13, 0x05, 0x35, 0x00, // addi a0, a0, 3
            0x6f, 0x00, 0x80, 0x00, // j next
            0x13, 0x05, 0x55, 0x00, // 0x18 even: addi a0, a0, 5
            0x93, 0x85, 0xf5, 0xff, // 0x1c next: addi a1, a1, -1
            0xe3, 0x94, 0x05, 0xfe, // bnez a1, loop
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        // Two, then 25 odd iterations of six instructions and 25 even ones of five, then ecall.
        const TOTAL: u64 = 2 + 25 * 6 + 25 * 5 + 1;
        for slice in (1..=12).chain([1000]) {
            let mut mem = memory();
            mem.write_bytes(CODE, LOOP).unwrap();
            let mut cache = CodeCache::default();
            let mut cpu = fresh(&mem);
            while cpu.run(&mut mem, &mut cache, slice) == Exit::Budget {}
            assert_eq!(cpu.x[10], 25 * 3 + 25 * 5, "slice {slice}");
            assert_eq!(cpu.instret, TOTAL, "slice {slice}");
            assert_eq!(cpu.pc, CODE + 0x24, "slice {slice}");
            if slice == 1000 {
                let page = cache.page(CODE >> PAGE_SHIFT, mem.size()).unwrap();
                let transfers: std::vec::Vec<&Slot> = page
                    .code
                    .iter()
                    .filter(|s| links_directly(s.insn.op))
                    .collect();
                assert!(transfers.len() >= 3);
                // Copies decoded through a jump or a loop's branch may never have been
                // taken; every transfer taken has a linked copy, and links are right.
                let mut linked_transfers = std::vec::Vec::new();
                for slot in transfers {
                    let linked = usize::from(u16::from_le_bytes([slot.insn.rs3, slot.insn.rm]));
                    let target_off = i64::from(slot.pc_off) + i64::from(slot.insn.imm);
                    if linked != 0 {
                        linked_transfers.push(slot.pc_off);
                        assert_eq!(
                            i64::from(page.code[linked].pc_off),
                            target_off,
                            "{:?} at {:#x}",
                            slot.insn.op,
                            slot.pc_off
                        );
                    }
                }
                let page_off = |off: u64| ((CODE + off) & ((1 << PAGE_SHIFT) - 1)) as u16;
                for taken in [0xc, 0x14, 0x20] {
                    assert!(linked_transfers.contains(&page_off(taken)), "{taken:#x}");
                }
            }
        }
    }

    /// A loop's backward branch is decoded through as if taken, inverted to leave the run:
    /// every kind of branch, also compressed, leaving after one, two or seven iterations,
    /// with exact counts and the same state under any budget split.
    #[test]
    fn backward_branches_are_decoded_through_under_any_split() {
        // loop: addi a0, a0, 3; addi a1, a1, -1; snez t0, a1; (branch to loop); ld a3, 0(zero)
        const BODY: [u32; 3] = [0x0035_0513, 0xfff5_8593, 0x00b0_32b3];
        const LOAD: u32 = 0x0000_3683;
        // Each loops while t0 is 1, given a2.
        const BRANCHES: [(Op, u32, u64); 6] = [
            (Op::Beq, 0xfec2_8ae3, 1),  // beq t0, a2
            (Op::Bne, 0xfe02_9ae3, 0),  // bne t0, zero
            (Op::Blt, 0xfe56_4ae3, 0),  // blt a2, t0
            (Op::Bge, 0xfec2_dae3, 1),  // bge t0, a2
            (Op::Bltu, 0xfe56_6ae3, 0), // bltu a2, t0
            (Op::Bgeu, 0xfec2_fae3, 1), // bgeu t0, a2
        ];
        // c.addi a0, 3; c.addi a1, -1; c.bnez a1, loop; ld a3, 0(zero)
        const COMPRESSED: &[u8] = &[0x0d, 0x05, 0xfd, 0x15, 0xf5, 0xfd, 0x83, 0x36, 0x00, 0x00];
        let mut programs = std::vec::Vec::new();
        for (op, branch, a2) in BRANCHES {
            let words = BODY.iter().chain([&branch, &LOAD]);
            let bytes: std::vec::Vec<u8> = words.flat_map(|w| w.to_le_bytes()).collect();
            assert_eq!(isa::decode_word(branch).op, op);
            programs.push((bytes, a2, 4, 16));
        }
        programs.push((COMPRESSED.to_vec(), 0, 3, 6));
        for (program, a2, per_iteration, load_at) in &programs {
            assert!(first_run(program).iter().any(is_folded_branch));
            for iterations in [1, 2, 7] {
                let mut states = std::vec::Vec::new();
                for slice in (1..=12).chain([1000]) {
                    let regs = [(11, iterations), (12, *a2)];
                    let (exit, cpu) = run_with(program, &[], &regs, slice);
                    assert_eq!(cpu.x[10], 3 * iterations, "slice {slice}");
                    let retired = per_iteration * iterations;
                    assert_load_fault((exit, cpu.clone()), 0, CODE + load_at, retired);
                    states.push(cpu);
                }
                assert!(states.windows(2).all(|w| w[0] == w[1]));
            }
        }
    }

    /// A plain jump (`jal zero`) inside the page is decoded through: its run goes on with the
    /// target's instructions, and the jump has no slot unless it is the first of its run or
    /// follows a folded branch. The loop closed by a jump, a jump onto a faulting load, a
    /// loop whose head is a jump and a jump to itself give exact counts and pcs under any
    /// budget split, and the copy of the loop's exit branch is linked like the original.
    #[test]
    fn plain_jumps_are_decoded_through_under_any_split() {
        const JUMPS: &[u8] = &[
            0x13, 0x05, 0x00, 0x00, // li a0, 0
            0x93, 0x05, 0x40, 0x01, // li a1, 20
            0x63, 0x88, 0x05, 0x00, // 0x08 loop: beqz a1, done
            0x13, 0x05, 0x35, 0x00, // addi a0, a0, 3
            0x93, 0x85, 0xf5, 0xff, // addi a1, a1, -1
            0x6f, 0xf0, 0x5f, 0xff, // j loop
            0x6f, 0x00, 0x80, 0x00, // 0x18 done: j bad
            0x73, 0x00, 0x10, 0x00, // ebreak
            0x83, 0x36, 0x00, 0x00, // 0x20 bad: ld a3, 0(zero)
        ];
        // Two, twenty iterations of four, the taken beqz and the jump to the load.
        const RETIRED: u64 = 2 + 20 * 4 + 1 + 1;
        // Two iterations unrolled: their jumps hidden, the third ends the run.
        let ops = first_run_ops(JUMPS);
        assert_eq!(ops.iter().filter(|&&op| op == Op::Beq).count(), 3);
        let jumps = ops
            .iter()
            .filter(|&&op| matches!(op, Op::Jal | Op::JalFolded));
        assert_eq!(jumps.count(), 1);
        for slice in (1..=12).chain([1000]) {
            let (exit, cpu) = run_with(JUMPS, &[], &[], slice);
            assert_eq!(cpu.x[10], 60, "slice {slice}");
            assert_load_fault((exit, cpu), 0, CODE + 0x20, RETIRED);
        }
        let mut mem = memory();
        mem.write_bytes(CODE, JUMPS).unwrap();
        let mut cache = CodeCache::default();
        let mut cpu = fresh(&mem);
        let _ = cpu.run(&mut mem, &mut cache, 1000);
        let page = cache.page(CODE >> PAGE_SHIFT, mem.size()).unwrap();
        let exits: std::vec::Vec<&Slot> =
            page.code.iter().filter(|s| s.insn.op == Op::Beq).collect();
        assert!(exits.len() >= 2, "the beqz and its copy after the jump");
        for slot in exits {
            let linked = usize::from(u16::from_le_bytes([slot.insn.rs3, slot.insn.rm]));
            let done = (CODE + 0x18) & ((1 << PAGE_SHIFT) - 1);
            assert_eq!(u64::from(page.code[linked].pc_off), done);
        }

        // The loop branch, folded, goes on at a jump, which keeps its slot.
        const JUMP_HEAD: &[u8] = &[
            0x13, 0x05, 0x00, 0x00, // li a0, 0
            0x93, 0x05, 0x50, 0x00, // li a1, 5
            0x6f, 0x00, 0x80, 0x00, // 0x08 head: j body
            0x73, 0x00, 0x10, 0x00, // ebreak
            0x13, 0x05, 0x35, 0x00, // 0x10 body: addi a0, a0, 3
            0x93, 0x85, 0xf5, 0xff, // addi a1, a1, -1
            0xe3, 0x98, 0x05, 0xfe, // bnez a1, head
            0x83, 0x36, 0x00, 0x00, // 0x1c: ld a3, 0(zero)
        ];
        assert!(first_run_ops(JUMP_HEAD).contains(&Op::JalFolded));
        for slice in (1..=12).chain([1000]) {
            let (exit, cpu) = run_with(JUMP_HEAD, &[], &[], slice);
            assert_eq!(cpu.x[10], 15, "slice {slice}");
            assert_load_fault((exit, cpu), 0, CODE + 0x1c, 2 + 5 * 4);
        }

        // A jump to a jump: the second keeps its slot.
        const CHAIN: &[u8] = &[
            0x13, 0x05, 0x00, 0x00, // li a0, 0
            0x6f, 0x00, 0x80, 0x00, // j a
            0x73, 0x00, 0x10, 0x00, // ebreak
            0x6f, 0x00, 0x80, 0x00, // 0x0c a: j b
            0x73, 0x00, 0x10, 0x00, // ebreak
            0x13, 0x05, 0x75, 0x00, // 0x14 b: addi a0, a0, 7
            0x83, 0x36, 0x00, 0x00, // 0x18: ld a3, 0(zero)
        ];
        for slice in (1..=5).chain([1000]) {
            let (exit, cpu) = run_with(CHAIN, &[], &[], slice);
            assert_eq!(cpu.x[10], 7, "slice {slice}");
            assert_load_fault((exit, cpu), 0, CODE + 0x18, 4);
        }

        // Nothing fuses across a hidden jump.
        const ACROSS: &[u8] = &[
            0x33, 0x86, 0xb4, 0x00, // add a2, s1, a1
            0x6f, 0x00, 0x80, 0x00, // j l
            0x73, 0x00, 0x10, 0x00, // ebreak
            0x83, 0x36, 0x06, 0x00, // 0x0c l: ld a3, 0(a2)
        ];
        for slice in [1, 2, 1000] {
            assert_load_fault(run_with(ACROSS, &[], &[], slice), 0, CODE + 0x0c, 2);
        }

        // A jump to itself is decoded through a few times per run, not without bound.
        const SPIN: &[u8] = &[0x6f, 0x00, 0x00, 0x00]; // j .
        for slice in [1, 2, 8, 1000] {
            let mut mem = memory();
            mem.write_bytes(CODE, SPIN).unwrap();
            let mut cache = CodeCache::default();
            let mut cpu = fresh(&mem);
            for _ in 0..1000 / slice {
                assert_eq!(cpu.run(&mut mem, &mut cache, slice), Exit::Budget);
            }
            assert_eq!((cpu.pc, cpu.instret), (CODE, 1000), "slice {slice}");
            let page = cache.page(CODE >> PAGE_SHIFT, mem.size()).unwrap();
            // The placeholder, the first jump (hiding the others decoded through) and the
            // one that ends the run.
            assert_eq!(page.code.len(), 3);
        }
    }

    /// `add` + `jalr` (a jump-table `switch`), also compressed and with the `jalr` writing
    /// its own base register: taken in one dispatch, ending its run, with exact counts and
    /// the same state under any budget split.
    #[test]
    fn fused_computed_jumps_match_their_halves_under_any_split() {
        const SWITCH: &[u8] = &[
            0xa9, 0x45, // c.li a1, 10
            0x01, 0x46, // c.li a2, 0
            0x13, 0xf5, 0x15, 0x00, // 0x04 loop: andi a0, a1, 1
            0x0a, 0x05, // c.slli a0, 2
            0x17, 0x03, 0x00, 0x00, // 0x0a: auipc t1, 0
            0xb3, 0x02, 0xa3, 0x00, // add t0, t1, a0
            0x67, 0x80, 0x02, 0x01, // jalr zero, 16(t0): case0 or case1
            0x73, 0x00, 0x10, 0x00, // ebreak
            0x0d, 0x06, // 0x1a case0: c.addi a2, 3
            0x19, 0xa0, // c.j next
            0x15, 0x06, // 0x1e case1: c.addi a2, 5
            0x09, 0xa0, // c.j next
            0xfd, 0x15, // 0x22 next: c.addi a1, -1
            0xe5, 0xf1, // c.bnez a1, loop
            0x97, 0x02, 0x00, 0x00, // 0x26: auipc t0, 0
            0x39, 0x45, // c.li a0, 14
            0xaa, 0x92, // c.add t0, a0
            0x82, 0x92, // c.jalr t0: to 0x34
            0x73, 0x00, 0x10, 0x00, // ebreak
            0xb3, 0x82, 0x02, 0x00, // 0x34: add t0, t0, zero
            0xe7, 0x82, 0x42, 0x01, // jalr t0, 20(t0): to 0x48
            0x73, 0x00, 0x10, 0x00, // ebreak
            0x73, 0x00, 0x10, 0x00, // ebreak
            0x73, 0x00, 0x10, 0x00, // ebreak
            0x73, 0x00, 0x00, 0x00, // 0x48: ecall
        ];
        // Two, ten iterations of nine, four, two and the ecall.
        const TOTAL: u64 = 2 + 10 * 9 + 4 + 2 + 1;
        let mut states = std::vec::Vec::new();
        for slice in (1..=12).chain([1000]) {
            let mut mem = memory();
            mem.write_bytes(CODE, SWITCH).unwrap();
            let mut cache = CodeCache::default();
            let mut cpu = fresh(&mem);
            while cpu.run(&mut mem, &mut cache, slice) == Exit::Budget {}
            let x = &cpu.x;
            // Five odd counts (case1) and five even ones.
            assert_eq!(x[12], 5 * 5 + 5 * 3, "slice {slice}");
            assert_eq!((x[1], x[5]), (CODE + 0x30, CODE + 0x3c), "slice {slice}");
            assert_eq!((x[0], x[6]), (0, CODE + 0xa), "slice {slice}");
            assert_eq!((cpu.pc, cpu.instret), (CODE + 0x48, TOTAL), "slice {slice}");
            if slice == 1000 {
                let page = cache.page(CODE >> PAGE_SHIFT, mem.size()).unwrap();
                // Three pairs, some decoded more than once (through the jumps to `next`).
                let mut fused: std::vec::Vec<u16> = page
                    .code
                    .iter()
                    .filter(|s| s.insn.op == Op::AddJalr)
                    .map(|s| s.pc_off)
                    .collect();
                fused.sort_unstable();
                fused.dedup();
                assert_eq!(fused.len(), 3);
            }
            states.push(cpu);
        }
        assert!(states.windows(2).all(|w| w[0] == w[1]));
    }

    /// Shift + add + load through the sum (array indexing): fused for words and doublewords,
    /// 4- and 2-byte forms, the add's operands either way round and the load writing the
    /// base; not when the load's base is another register. A fault in the load retires the
    /// shift and the add. Exact counts and the same state under any budget split.
    #[test]
    fn indexed_loads_match_their_parts_and_fault_exactly() {
        const INDEXED: &[u8] = &[
            0x93, 0x97, 0x25, 0x00, // slli a5, a1, 2
            0xb3, 0x87, 0xc7, 0x00, // add a5, a5, a2
            0x83, 0xa6, 0x47, 0x00, // 0x08: lw a3, 4(a5)
            0x13, 0x97, 0x35, 0x00, // slli a4, a1, 3
            0x33, 0x07, 0xe6, 0x00, // add a4, a2, a4
            0x03, 0x37, 0x87, 0xff, // ld a4, -8(a4)
            0x8a, 0x04, // c.slli s1, 2
            0xb2, 0x94, // c.add s1, a2
            0x88, 0x40, // c.lw a0, 0(s1)
            0x93, 0x93, 0x25, 0x00, // slli t2, a1, 2
            0xb3, 0x83, 0xc3, 0x00, // add t2, t2, a2
            0x03, 0x2e, 0x06, 0x00, // lw t3, 0(a2): not through t2
            0x73, 0x00, 0x00, 0x00, // 0x2a: ecall
        ];
        const DATA: u64 = 0x8000;
        let words: std::vec::Vec<u8> = (0..16u32)
            .flat_map(|j| (0x1000 + j).to_le_bytes())
            .collect();
        let ops = first_run_ops(INDEXED);
        assert_eq!(ops.iter().filter(|&&op| op == Op::SlliAddLw).count(), 2);
        assert_eq!(ops.iter().filter(|&&op| op == Op::SlliAddLd).count(), 1);
        let mut states = std::vec::Vec::new();
        for slice in (1..=14).chain([1000]) {
            let regs = [(11, 3), (12, DATA), (9, 5)];
            let (exit, cpu) = run_with(INDEXED, &[(DATA, &words)], &regs, slice);
            assert_eq!(exit, Exit::Ecall, "slice {slice}");
            assert_eq!((cpu.pc, cpu.instret), (CODE + 0x2a, 13), "slice {slice}");
            assert_eq!((cpu.x[15], cpu.x[13]), (DATA + 12, 0x1004), "slice {slice}");
            assert_eq!(cpu.x[14], 0x1005_0000_1004, "slice {slice}");
            assert_eq!((cpu.x[9], cpu.x[10]), (DATA + 20, 0x1005), "slice {slice}");
            assert_eq!((cpu.x[7], cpu.x[28]), (DATA + 12, 0x1000), "slice {slice}");
            states.push(cpu);
        }
        assert!(states.windows(2).all(|w| w[0] == w[1]));
        // With no array the first load faults: the shift and the add retired.
        for slice in (1..=4).chain([1000]) {
            let (exit, cpu) = run_with(INDEXED, &[], &[(11, 3)], slice);
            assert_eq!(cpu.x[15], 12, "slice {slice}");
            assert_load_fault((exit, cpu), 16, CODE + 8, 2);
        }
    }

    /// `auipc r` + `addi r, r` becomes the constant it computes (also with a compressed
    /// `addi`); with another destination it stays a pair. Any budget split, including one
    /// between the two, leaves what stepping them would.
    #[test]
    fn constant_addresses_match_their_halves_under_any_split() {
        const ADDRESSES: &[u8] = &[
            0x17, 0x05, 0x00, 0x00, // auipc a0, 0
            0x13, 0x05, 0x05, 0x01, // addi a0, a0, 16
            0x97, 0x05, 0x00, 0x00, // auipc a1, 0
            0x13, 0x86, 0x85, 0xff, // addi a2, a1, -8
            0x97, 0x06, 0x00, 0x00, // auipc a3, 0
            0x91, 0x06, // c.addi a3, 4
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        let ops = first_run_ops(ADDRESSES);
        assert_eq!(
            ops.iter().filter(|&&op| op == Op::AuipcAddiConst).count(),
            2
        );
        assert!(ops.contains(&Op::AuipcAddi));
        for slice in (1..=7).chain([1000]) {
            let (exit, cpu) = run_with(ADDRESSES, &[], &[], slice);
            assert_eq!(exit, Exit::Ecall);
            assert_eq!((cpu.pc, cpu.instret), (CODE + 0x16, 7), "slice {slice}");
            assert_eq!(
                (cpu.x[10], cpu.x[11]),
                (CODE + 16, CODE + 8),
                "slice {slice}"
            );
            assert_eq!((cpu.x[12], cpu.x[13]), (CODE, CODE + 20), "slice {slice}");
        }
        // Split between the halves: the `auipc` alone.
        let mut mem = memory();
        mem.write_bytes(CODE, ADDRESSES).unwrap();
        let mut cache = CodeCache::default();
        let mut cpu = fresh(&mem);
        assert_eq!(cpu.run(&mut mem, &mut cache, 1), Exit::Budget);
        assert_eq!((cpu.pc, cpu.x[10]), (CODE + 4, CODE));
    }

    /// `lbu` + `lbu` pairs: fused only when the second offset fits a byte, both halves may
    /// write one register, and a fault in the second retires the first alone.
    #[test]
    fn fused_byte_load_pairs_match_their_halves_and_fault_exactly() {
        const BYTE_LOADS: &[u8] = &[
            0x83, 0x42, 0x05, 0x00, // lbu t0, 0(a0)
            0x03, 0xc3, 0xf5, 0xff, // lbu t1, -1(a1)
            0x83, 0x43, 0x05, 0x00, // lbu t2, 0(a0)
            0x03, 0x4e, 0x85, 0x0c, // lbu t3, 200(a0)
            0x03, 0xc6, 0x06, 0x00, // 0x10: lbu a2, 0(a3)
            0x03, 0x47, 0x05, 0x00, // lbu a4, 0(a0)
            0x03, 0x47, 0x45, 0x00, // lbu a4, 4(a0): the second write wins
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        const DATA: u64 = 0x8000;
        assert_eq!(
            first_run_ops(BYTE_LOADS),
            [Op::LbuLbu, Op::Lbu, Op::LbuLbu, Op::LbuLbu, Op::Ecall]
        );
        let data: &[(u64, &[u8])] = &[(DATA, &[0x10, 0x22, 0, 0, 0x44]), (DATA + 200, &[0x77])];
        let run = |a3, slice| {
            run_with(
                BYTE_LOADS,
                data,
                &[(10, DATA), (11, DATA + 5), (13, a3)],
                slice,
            )
        };
        for slice in (1..=9).chain([1000]) {
            let (exit, cpu) = run(DATA + 1, slice);
            assert_eq!(exit, Exit::Ecall, "slice {slice}");
            let x = &cpu.x;
            assert_eq!(
                (x[5], x[6], x[7], x[28]),
                (0x10, 0x44, 0x10, 0x77),
                "slice {slice}"
            );
            assert_eq!((x[12], x[14]), (0x22, 0x44), "slice {slice}");
            assert_eq!(cpu.instret, 8, "slice {slice}");
            let outside = memory().size() + 3;
            let stopped = run(outside, slice);
            assert_eq!(stopped.1.x[28], 0x77, "slice {slice}");
            assert_load_fault(stopped, outside, CODE + 0x10, 4);
        }
    }

    /// Single-precision loads and stores run in the double-precision arms (told apart by
    /// `SINGLE_WIDTH`): the same state as the out-of-line interpreter under any budget
    /// split, `flw` results NaN-boxed, `fsw` writing only the low word, and a fault exactly
    /// where the access leaves memory (a word at the last four bytes is inside).
    #[test]
    fn single_precision_loads_and_stores_match_under_any_split_and_fault_exactly() {
        const PROGRAM: &[u8] = &[
            0x07, 0x25, 0x05, 0x00, // 0x00: flw fa0,0(a0)
            0x0c, 0x25, // 0x04: c.fld fa1,8(a0)
            0x27, 0x28, 0xb5, 0x00, // 0x06: fsw fa1,16(a0)
            0x08, 0xad, // 0x0a: c.fsd fa0,24(a0)
            0x07, 0xa6, 0x05, 0x00, // 0x0c: flw fa2,0(a1)
            0x27, 0x20, 0xa6, 0x00, // 0x10: fsw fa0,0(a2)
            0xd3, 0x06, 0x05, 0xe2, // 0x14: fmv.x.d a3,fa0
            0x53, 0x07, 0x06, 0xe2, // 0x18: fmv.x.d a4,fa2
            0x1c, 0x49, // 0x1c: c.lw a5,16(a0)
            0x03, 0x38, 0x85, 0x01, // 0x1e: ld a6,24(a0)
            0x1c, 0x25, // 0x22: c.fld fa5,8(a0)
            0x73, 0x00, 0x00, 0x00, // 0x24: ecall
        ];
        const DATA: u64 = 0x8000;
        let single = 1.5f32.to_bits();
        let double: u64 = 0x4000_0000_1234_5678;
        let bytes = [u64::from(single).to_le_bytes(), double.to_le_bytes()].concat();
        let size = memory().size();
        let run = |a1, a2, slice| {
            let regs = [(10, DATA), (11, a1), (12, a2)];
            run_with(PROGRAM, &[(DATA, &bytes)], &regs, slice)
        };
        let boxed = box32(single);
        for slice in (1..=12).chain([1000]) {
            let (exit, cpu) = run(DATA, DATA + 32, slice);
            assert_eq!(exit, Exit::Ecall, "slice {slice}");
            assert_eq!((cpu.f[10], cpu.f[11], cpu.f[15]), (boxed, double, double));
            let x = &cpu.x;
            assert_eq!(
                (x[13], x[14], x[15], x[16]),
                (boxed, boxed, 0x1234_5678, boxed)
            );
            assert_eq!(cpu.instret, 12, "slice {slice}");
            let (exit, cpu) = run(size - 4, size - 4, slice);
            assert_eq!((exit, cpu.x[14]), (Exit::Ecall, box32(0)), "slice {slice}");
            assert_load_fault(run(size - 2, DATA + 32, slice), size - 2, CODE + 0x0c, 4);
            let (exit, cpu) = run(DATA, size - 2, slice);
            let access = Access::Store;
            assert_eq!(
                exit,
                Exit::Fault {
                    addr: size - 2,
                    access
                },
                "slice {slice}"
            );
            assert_eq!((cpu.pc, cpu.instret), (CODE + 0x10, 5), "slice {slice}");
        }
    }

    /// `ld` + `ld` pairs, plain and compressed: the same state as the two loads under any
    /// budget split; the pair is formed only when the second offset fits an `i8`, and a
    /// fault in the second load retires the first.
    #[test]
    fn fused_doubleword_load_pairs_match_their_halves_and_fault_exactly() {
        const DOUBLEWORD_LOADS: &[u8] = &[
            0x83, 0x32, 0x05, 0x00, // ld t0, 0(a0)
            0x03, 0xb3, 0x85, 0xff, // ld t1, -8(a1)
            0x83, 0x33, 0x05, 0x00, // ld t2, 0(a0)
            0x03, 0x3e, 0x85, 0x0c, // ld t3, 200(a0)
            0x03, 0xb6, 0x06, 0x00, // 0x10: ld a2, 0(a3)
            0x03, 0x37, 0x05, 0x00, // ld a4, 0(a0)
            0x03, 0x37, 0x85, 0x00, // ld a4, 8(a0): the second write wins
            0x1c, 0x65, // c.ld a5, 8(a0)
            0x04, 0x69, // c.ld s1, 16(a0)
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        const DATA: u64 = 0x8000;
        const WORDS: [u64; 4] = [
            0x1111_2222_3333_4444,
            0x5555_6666_7777_8888,
            0x9999_aaaa_bbbb_cccc,
            0xdddd_eeee_ffff_0001,
        ];
        assert_eq!(
            first_run_ops(DOUBLEWORD_LOADS),
            [Op::LdLd, Op::Ld, Op::LdLd, Op::LdLd, Op::LdLd, Op::Ecall]
        );
        let [a, b, c, d] = WORDS;
        let first_three: std::vec::Vec<u8> =
            [a, b, c].iter().flat_map(|w| w.to_le_bytes()).collect();
        let data: &[(u64, &[u8])] = &[(DATA, &first_three), (DATA + 200, &d.to_le_bytes())];
        let run = |a3, slice| {
            run_with(
                DOUBLEWORD_LOADS,
                data,
                &[(10, DATA), (11, DATA + 16), (13, a3)],
                slice,
            )
        };
        for slice in (1..=11).chain([1000]) {
            let (exit, cpu) = run(DATA + 16, slice);
            assert_eq!(exit, Exit::Ecall, "slice {slice}");
            let x = &cpu.x;
            assert_eq!((x[5], x[6], x[7], x[28]), (a, b, a, d), "slice {slice}");
            assert_eq!((x[12], x[14], x[15], x[9]), (c, b, b, c), "slice {slice}");
            assert_eq!(cpu.instret, 10, "slice {slice}");
            let outside = memory().size() + 3;
            let stopped = run(outside, slice);
            assert_eq!(stopped.1.x[28], d, "slice {slice}");
            assert_load_fault(stopped, outside, CODE + 0x10, 4);
        }
    }

    /// rdinstret/rdcycle in the middle of a straight-line run read the number of
    /// instructions retired before them, whether the run executes whole or is stepped
    /// because the budget ends inside it (a fuzz finding: they read a stale count).
    #[test]
    fn counter_csrs_read_the_exact_count_under_any_split() {
        const COUNTERS: &[u8] = &[
            0x13, 0x00, 0x00, 0x00, // nop
            0x13, 0x00, 0x00, 0x00, // nop
            0xf3, 0x26, 0x20, 0xc0, // rdinstret a3
            0x13, 0x00, 0x00, 0x00, // nop
            0x73, 0x27, 0x00, 0xc0, // rdcycle a4
            0x73, 0x00, 0x00, 0x00, // ecall
        ];
        for slice in [1, 2, 3, 4, 5, 6, 1000] {
            let mut mem = memory();
            mem.write_bytes(CODE, COUNTERS).unwrap();
            let mut cache = CodeCache::default();
            let mut cpu = fresh(&mem);
            cpu.instret = 1000;
            while cpu.run(&mut mem, &mut cache, slice) == Exit::Budget {}
            assert_eq!(cpu.x[13], 1002, "rdinstret, slice {slice}");
            assert_eq!(cpu.x[14], 1004, "rdcycle, slice {slice}");
            assert_eq!(cpu.instret, 1006, "slice {slice}");
        }
    }

    #[test]
    fn fetch_outside_memory_faults_without_retiring() {
        let mut mem = memory();
        let mut cache = CodeCache::default();
        let mut cpu = fresh(&mem);
        cpu.pc = 0x10;
        assert_eq!(
            cpu.run(&mut mem, &mut cache, 10),
            Exit::Fault {
                addr: 0x10,
                access: Access::Fetch
            }
        );
        assert_eq!(cpu.instret, 0);
        // A 32-bit instruction whose second half lies past the end of memory.
        cpu.pc = mem.size() - 2;
        mem.write_u16(cpu.pc, 0x0513).unwrap();
        assert_eq!(
            cpu.run(&mut mem, &mut cache, 10),
            Exit::Fault {
                addr: mem.size(),
                access: Access::Fetch
            }
        );
        // All-zero parcels are the defined illegal instruction.
        cpu.pc = CODE + 0x100;
        assert_eq!(cpu.run(&mut mem, &mut cache, 10), Exit::Illegal { bits: 0 });
    }

    #[test]
    fn fault_mid_run_retires_exactly_the_instructions_before_it() {
        let mut mem = memory();
        // addi a0, zero, 1; addi a0, a0, 1; ld a1, 0(zero); addi a0, a0, 1; ecall
        let code: [u32; 5] = [
            0x0010_0513,
            0x0015_0513,
            0x0000_3583,
            0x0015_0513,
            0x0000_0073,
        ];
        for (n, word) in code.iter().enumerate() {
            mem.write_u32(CODE + 0x200 + 4 * n as u64, *word).unwrap();
        }
        let mut cache = CodeCache::default();
        let mut cpu = fresh(&mem);
        cpu.pc = CODE + 0x200;
        assert_eq!(
            cpu.run(&mut mem, &mut cache, 100),
            Exit::Fault {
                addr: 0,
                access: Access::Load
            }
        );
        assert_eq!(cpu.instret, 2);
        assert_eq!(cpu.pc, CODE + 0x208);
        assert_eq!(cpu.x[10], 2);
    }

    #[test]
    fn illegal_reports_the_bits_it_was_decoded_from() {
        let mut mem = memory();
        let mut cache = CodeCache::default();
        let mut cpu = fresh(&mem);
        cpu.pc = CODE + 0x300;
        mem.write_u32(cpu.pc, 0xffff_ffff).unwrap();
        let first = cpu.run(&mut mem, &mut cache, 10);
        assert_eq!(first, Exit::Illegal { bits: 0xffff_ffff });
        // Rewritten without fence.i: the stale decode may run, but it must report its own bits.
        mem.write_u32(CODE + 0x300, 0x02a0_0513).unwrap();
        assert_eq!(cpu.run(&mut mem, &mut cache, 10), first);
        // A CSR this hart does not have is reported with its encoding.
        cpu.pc = CODE + 0x380;
        mem.write_u32(cpu.pc, 0x3000_2573).unwrap(); // csrr a0, mstatus
        assert_eq!(
            cpu.run(&mut mem, &mut cache, 10),
            Exit::Illegal { bits: 0x3000_2573 }
        );
    }

    #[test]
    fn fence_i_sees_rewritten_code() {
        let mut mem = memory();
        let mut cache = CodeCache::default();
        let mut cpu = fresh(&mem);
        cpu.run(&mut mem, &mut cache, 2);
        // Patch `addi a1, zero, 100` into `addi a1, zero, 1` and restart after a flush.
        mem.write_u32(CODE + 4, 0x0010_0593).unwrap();
        cache.flush();
        cpu.pc = CODE;
        assert_eq!(cpu.run(&mut mem, &mut cache, 1_000), Exit::Ecall);
        assert_eq!(cpu.x[10], 1);
    }
}
