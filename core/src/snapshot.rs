//! Machine snapshots (serialise a whole `Machine` to bytes and restore it) and cheap machine forks.
//!
//! Layout of a snapshot (all integers little-endian):
//!
//! ```text
//! magic "FRISCYSN" | format version u32 | memory size u64 | rootfs identity (kind u8,
//! size u64, hash u64) | payload length u64 | payload checksum u64 | payload
//! ```
//!
//! The payload is written by small per-struct encoders (here, in `linux/snapshot.rs` and in
//! `vfs/snapshot.rs`). Each one takes its struct apart with an exhaustive `let Struct { .. }`
//! pattern, so adding a field to a state struct breaks the build until the field is saved.
//! Guest memory is saved as runs of non-zero pages of the ranges a process uses (image and
//! heap, mmap regions, stack); the rest of the address space is zero on restore. The code
//! cache is not saved: it is rebuilt on demand. The read-only lower layer of the VFS is
//! not saved either: the caller hands it to [`Machine::restore`] and the identity check
//! rejects a different image.

use alloc::vec::Vec;

use crate::cpu::{CodeCache, Cpu};
use crate::elf::LoadedImage;
use crate::linux::{Process, Termination};
use crate::machine::{Config, Machine};
use crate::mem::{MemError, Memory, GUARD_SIZE, PAGE_SIZE};
use crate::processes::{Processes, Task, Zombie};
use crate::vfs::{Lower, Vfs};

/// First bytes of every snapshot.
pub const MAGIC: [u8; 8] = *b"FRISCYSN";
/// Bumped whenever the payload layout changes; older or newer snapshots are refused.
pub const FORMAT_VERSION: u32 = 3;
/// Bytes before the payload.
const HEADER_LEN: usize = 8 + 4 + 8 + 17 + 8 + 8;

/// Why a snapshot could not be taken, restored or a machine forked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// The bytes do not start with the snapshot magic.
    NotASnapshot,
    /// A snapshot of another format version.
    UnsupportedVersion { found: u32 },
    /// The bytes end before the snapshot does.
    Truncated,
    /// The payload does not match its checksum (damaged in storage or transit).
    ChecksumMismatch,
    /// The checksum matches but the content is inconsistent; says what is wrong.
    Corrupt(&'static str),
    /// The snapshot was taken with another guest memory size.
    MemorySizeMismatch { snapshot: u64, config: u64 },
    /// The snapshot was taken over another root file system image (or none).
    RootfsMismatch,
    /// The machine's lower layer cannot be used this way: a host directory numbers its
    /// files as it finds them, so it can be neither restored nor forked; host callbacks
    /// can be restored (their ids are the host's) but not forked.
    LowerNotShareable,
    /// Guest memory could not be allocated.
    Memory(MemError),
}

impl core::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SnapshotError::NotASnapshot => f.write_str("not a friscy machine snapshot"),
            SnapshotError::UnsupportedVersion { found } => write!(
                f,
                "snapshot format version {found} is not supported (this library reads version {FORMAT_VERSION})"
            ),
            SnapshotError::Truncated => f.write_str("snapshot is truncated"),
            SnapshotError::ChecksumMismatch => f.write_str("snapshot checksum mismatch (damaged)"),
            SnapshotError::Corrupt(what) => write!(f, "snapshot is inconsistent: {what}"),
            SnapshotError::MemorySizeMismatch { snapshot, config } => write!(
                f,
                "snapshot has {snapshot} bytes of guest memory, the configuration {config}"
            ),
            SnapshotError::RootfsMismatch => {
                f.write_str("snapshot was taken over a different root file system")
            }
            SnapshotError::LowerNotShareable => f.write_str(
                "a host directory root file system can be neither restored nor forked, host callbacks cannot be forked",
            ),
            SnapshotError::Memory(MemError::BadSize) => f.write_str("invalid guest memory size"),
            SnapshotError::Memory(MemError::OutOfMemory) => {
                f.write_str("cannot allocate guest memory")
            }
        }
    }
}

impl From<MemError> for SnapshotError {
    fn from(e: MemError) -> Self {
        SnapshotError::Memory(e)
    }
}

pub type SnapshotResult<T> = Result<T, SnapshotError>;

/// A fast 64-bit hash over bytes (four independent lanes of multiply-rotate mixing over
/// 32-byte blocks), used for the payload checksum and the rootfs identity. Not
/// cryptographic: it detects damage and mix-ups, not tampering.
pub fn hash64(seed: u64, data: &[u8]) -> u64 {
    const P1: u64 = 0x9e37_79b1_85eb_ca87;
    const P2: u64 = 0xc2b2_ae3d_27d4_eb4f;
    let mut lanes = [
        seed ^ P1,
        seed.wrapping_add(P2),
        seed.rotate_left(17) ^ P2,
        seed.wrapping_sub(P1),
    ];
    let mut blocks = data.chunks_exact(32);
    for block in &mut blocks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            let word = u64::from_le_bytes(block[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
            *lane = (*lane ^ word.wrapping_mul(P2))
                .rotate_left(31)
                .wrapping_mul(P1);
        }
    }
    let mut h = (data.len() as u64).wrapping_mul(P1);
    for lane in lanes {
        h = (h ^ lane).rotate_left(27).wrapping_mul(P1).wrapping_add(P2);
    }
    for byte in blocks.remainder() {
        h = (h ^ u64::from(*byte)).wrapping_mul(P1).rotate_left(11);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^ (h >> 29)
}

/// Identity of a VFS lower layer, so a snapshot is only restored over the same image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LowerIdentity {
    /// 0: no VFS, 1: empty lower layer, 2: rootfs tar, 3: host directory, 4: host callbacks.
    pub kind: u8,
    /// Size of the tar in bytes (0 for other kinds).
    pub size: u64,
    /// Hash of the tar's index (every name, link, size, offset, mode, owner and mtime) and
    /// of the first and last 256 bytes of every file.
    pub hash: u64,
}

/// Appends little-endian fields to a byte buffer.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }
    /// A length-prefixed byte string.
    pub fn bytes(&mut self, v: &[u8]) {
        self.usize(v.len());
        self.buf.extend_from_slice(v);
    }
    pub fn opt_u64(&mut self, v: Option<u64>) {
        self.bool(v.is_some());
        self.u64(v.unwrap_or(0));
    }
    pub fn opt_i32(&mut self, v: Option<i32>) {
        self.bool(v.is_some());
        self.i32(v.unwrap_or(0));
    }
}

/// Reads what a [`Writer`] wrote; every read fails cleanly on truncated input.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, pos: 0 }
    }
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    pub fn take(&mut self, n: usize) -> SnapshotResult<&'a [u8]> {
        if n > self.remaining() {
            return Err(SnapshotError::Truncated);
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }
    fn array<const N: usize>(&mut self) -> SnapshotResult<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    pub fn u8(&mut self) -> SnapshotResult<u8> {
        Ok(self.take(1)?[0])
    }
    pub fn bool(&mut self) -> SnapshotResult<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(SnapshotError::Corrupt("boolean out of range")),
        }
    }
    pub fn u16(&mut self) -> SnapshotResult<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub fn u32(&mut self) -> SnapshotResult<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn i32(&mut self) -> SnapshotResult<i32> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> SnapshotResult<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub fn i64(&mut self) -> SnapshotResult<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    pub fn usize(&mut self) -> SnapshotResult<usize> {
        usize::try_from(self.u64()?).map_err(|_| SnapshotError::Corrupt("size out of range"))
    }
    /// A count of items that each take at least `min_item_bytes`: refused if the rest of
    /// the input could not hold that many, so a corrupt count never allocates wildly.
    pub fn count(&mut self, min_item_bytes: usize) -> SnapshotResult<usize> {
        let n = self.usize()?;
        if n.saturating_mul(min_item_bytes.max(1)) > self.remaining() {
            return Err(SnapshotError::Truncated);
        }
        Ok(n)
    }
    pub fn bytes(&mut self) -> SnapshotResult<&'a [u8]> {
        let n = self.usize()?;
        self.take(n)
    }
    pub fn opt_u64(&mut self) -> SnapshotResult<Option<u64>> {
        let some = self.bool()?;
        let v = self.u64()?;
        Ok(some.then_some(v))
    }
    pub fn opt_i32(&mut self) -> SnapshotResult<Option<i32>> {
        let some = self.bool()?;
        let v = self.i32()?;
        Ok(some.then_some(v))
    }
}

pub(crate) fn encode_cpu(w: &mut Writer, cpu: &Cpu) {
    let Cpu {
        x,
        f,
        pc,
        fflags,
        frm,
        reservation,
        instret,
    } = cpu;
    // x0..x31 only: the sink (32) and padding hold nothing architectural.
    for v in &x[..32] {
        w.u64(*v);
    }
    for v in f {
        w.u64(*v);
    }
    w.u64(*pc);
    w.u8(*fflags);
    w.u8(*frm);
    w.opt_u64(*reservation);
    w.u64(*instret);
}

pub(crate) fn decode_cpu(r: &mut Reader) -> SnapshotResult<Cpu> {
    let mut cpu = Cpu::default();
    for i in 0..32 {
        cpu.x[i] = r.u64()?;
    }
    if cpu.x[0] != 0 {
        return Err(SnapshotError::Corrupt("x0 is not zero"));
    }
    for i in 0..32 {
        cpu.f[i] = r.u64()?;
    }
    cpu.pc = r.u64()?;
    cpu.fflags = r.u8()?;
    cpu.frm = r.u8()?;
    if cpu.fflags > 0x1f || cpu.frm > 7 {
        return Err(SnapshotError::Corrupt("FP CSR out of range"));
    }
    cpu.reservation = r.opt_u64()?;
    cpu.instret = r.u64()?;
    Ok(cpu)
}

fn encode_image(w: &mut Writer, image: &LoadedImage) {
    let LoadedImage {
        bias,
        entry,
        phdr,
        phnum,
        start,
        end,
    } = image;
    for v in [bias, entry, phdr, start, end] {
        w.u64(*v);
    }
    w.u16(*phnum);
}

fn decode_image(r: &mut Reader) -> SnapshotResult<LoadedImage> {
    let bias = r.u64()?;
    let entry = r.u64()?;
    let phdr = r.u64()?;
    let start = r.u64()?;
    let end = r.u64()?;
    let phnum = r.u16()?;
    Ok(LoadedImage {
        bias,
        entry,
        phdr,
        phnum,
        start,
        end,
    })
}

fn encode_termination(w: &mut Writer, t: Option<Termination>) {
    match t {
        None => w.u8(0),
        Some(Termination::Exited(status)) => {
            w.u8(1);
            w.u32(status as u32);
        }
        Some(Termination::Signaled(sig)) => {
            w.u8(2);
            w.u32(sig);
        }
    }
}

fn decode_termination(r: &mut Reader) -> SnapshotResult<Option<Termination>> {
    Ok(match r.u8()? {
        0 => None,
        1 => Some(Termination::Exited(r.u32()? as i32)),
        2 => Some(Termination::Signaled(r.u32()?)),
        _ => return Err(SnapshotError::Corrupt("unknown termination kind")),
    })
}

/// The page-aligned address ranges a process may have data in, sorted and merged: the
/// image and heap, its mmap regions, and its whole stack (data below the stack pointer
/// is kept too, as a guest may read stale stack slots).
pub(crate) fn used_ranges(
    process: &Process,
    image: &LoadedImage,
    mem_size: u64,
) -> Vec<(u64, u64)> {
    let page_down = |v: u64| v & !(PAGE_SIZE - 1);
    let page_up = |v: u64| v.saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    ranges.push((page_down(image.start), page_up(process.brk.max(image.end))));
    ranges.extend(process.maps.iter().map(|r| (r.start, r.end)));
    let stack_limit = process.stack_top.saturating_sub(process.config.stack_size);
    ranges.push((page_down(stack_limit), page_up(process.stack_top)));
    for range in ranges.iter_mut() {
        range.0 = range.0.clamp(GUARD_SIZE, mem_size);
        range.1 = range.1.clamp(range.0, mem_size);
    }
    ranges.retain(|r| r.0 < r.1);
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

fn page_is_zero(page: &[u8]) -> bool {
    // Word-wise so the compiler vectorises it; pages are 4 KiB, a multiple of 8.
    page.chunks_exact(8).fold(0u64, |acc, w| {
        acc | u64::from_le_bytes(w.try_into().unwrap_or([0; 8]))
    }) == 0
}

/// Calls `run(start, bytes)` for each maximal run of non-zero pages in `ranges`.
fn for_each_data_run(mem: &Memory, ranges: &[(u64, u64)], mut run: impl FnMut(u64, &[u8])) {
    let all = mem.as_bytes();
    for &(start, end) in ranges {
        let mut at = start;
        while at < end {
            let page = &all[at as usize..(at + PAGE_SIZE) as usize];
            if page_is_zero(page) {
                at += PAGE_SIZE;
                continue;
            }
            let first = at;
            while at < end && !page_is_zero(&all[at as usize..(at + PAGE_SIZE) as usize]) {
                at += PAGE_SIZE;
            }
            run(first, &all[first as usize..at as usize]);
        }
    }
}

fn encode_memory(w: &mut Writer, mem: &Memory, ranges: &[(u64, u64)]) {
    for_each_data_run(mem, ranges, |start, data| {
        w.u8(1);
        w.u64(start);
        w.bytes(data);
    });
    w.u8(0);
}

fn decode_memory(r: &mut Reader, size: u64) -> SnapshotResult<Memory> {
    let len = usize::try_from(size).map_err(|_| MemError::BadSize)?;
    let mut mem = Memory::new(len)?;
    let mut previous_end = GUARD_SIZE;
    while r.bool()? {
        let start = r.u64()?;
        let data = r.bytes()?;
        let end = start.checked_add(data.len() as u64);
        let aligned = start % PAGE_SIZE == 0 && data.len() as u64 % PAGE_SIZE == 0;
        if !aligned || start < previous_end || end.is_none_or(|e| e > size) {
            return Err(SnapshotError::Corrupt(
                "memory run out of order or out of range",
            ));
        }
        mem.write_bytes(start, data)
            .map_err(|_| SnapshotError::Corrupt("memory run out of range"))?;
        previous_end = end.unwrap_or(size);
    }
    Ok(mem)
}

/// Copies the pages `process` uses (non-zero ones only) into a fresh zeroed address space.
fn copy_used_memory(
    mem: &Memory,
    process: &Process,
    image: &LoadedImage,
) -> SnapshotResult<Memory> {
    let size = mem.size();
    let mut copy = Memory::new(usize::try_from(size).map_err(|_| MemError::BadSize)?)?;
    let ranges = used_ranges(process, image, size);
    for_each_data_run(mem, &ranges, |start, data| {
        // In range by construction: the same size and page-aligned ranges inside it.
        let _ = copy.write_bytes(start, data);
    });
    Ok(copy)
}

fn encode_task(w: &mut Writer, task: &Task) {
    let Task {
        cpu,
        mem,
        cache: _, // rebuilt on demand
        process,
        image,
        vfork_child,
    } = task;
    encode_cpu(w, cpu);
    encode_image(w, image);
    crate::linux::snapshot::encode_process(w, process);
    w.opt_i32(*vfork_child);
    encode_memory(w, mem, &used_ranges(process, image, mem.size()));
}

fn decode_task(r: &mut Reader, mem_size: u64) -> SnapshotResult<Task> {
    let cpu = decode_cpu(r)?;
    let image = decode_image(r)?;
    let process = crate::linux::snapshot::decode_process(r)?;
    let vfork_child = r.opt_i32()?;
    let mem = decode_memory(r, mem_size)?;
    Ok(Task {
        cpu,
        mem,
        cache: CodeCache::default(),
        process,
        image,
        vfork_child,
    })
}

fn encode_processes(w: &mut Writer, procs: &Processes) {
    let Processes {
        waiting,
        zombies,
        next_pid,
        current_vfork_child,
        slice_used,
        thread_turns,
        retired,
    } = procs;
    w.usize(waiting.len());
    for task in waiting {
        encode_task(w, task);
    }
    w.usize(zombies.len());
    for zombie in zombies {
        let Zombie {
            pid,
            ppid,
            pgid,
            status,
        } = zombie;
        w.i32(*pid);
        w.i32(*ppid);
        w.i32(*pgid);
        encode_termination(w, Some(*status));
    }
    w.i32(*next_pid);
    w.opt_i32(*current_vfork_child);
    w.u64(*slice_used);
    w.usize(*thread_turns);
    w.u64(*retired);
}

fn decode_processes(
    r: &mut Reader,
    mem_size: u64,
    max_processes: usize,
) -> SnapshotResult<Processes> {
    let mut procs = Processes::default();
    let waiting = r.count(64)?;
    if waiting >= max_processes {
        return Err(SnapshotError::Corrupt("too many processes"));
    }
    for _ in 0..waiting {
        procs.waiting.push(decode_task(r, mem_size)?);
    }
    let zombies = r.count(13)?;
    if zombies > max_processes {
        return Err(SnapshotError::Corrupt("too many zombies"));
    }
    for _ in 0..zombies {
        let pid = r.i32()?;
        let ppid = r.i32()?;
        let pgid = r.i32()?;
        let status =
            decode_termination(r)?.ok_or(SnapshotError::Corrupt("zombie without status"))?;
        procs.zombies.push(Zombie {
            pid,
            ppid,
            pgid,
            status,
        });
    }
    procs.next_pid = r.i32()?;
    procs.current_vfork_child = r.opt_i32()?;
    procs.slice_used = r.u64()?;
    procs.thread_turns = r.usize()?;
    procs.retired = r.u64()?;
    Ok(procs)
}

fn encode_identity(w: &mut Writer, id: LowerIdentity) {
    w.u8(id.kind);
    w.u64(id.size);
    w.u64(id.hash);
}

fn machine_lower_identity(vfs: Option<&Vfs>) -> LowerIdentity {
    match vfs {
        None => LowerIdentity::default(),
        Some(vfs) => vfs.lower().identity(),
    }
}

impl Machine {
    /// The whole machine state as bytes (see the module documentation for what is saved).
    pub fn snapshot(&self) -> Vec<u8> {
        let Machine {
            cpu,
            mem,
            cache: _, // rebuilt on demand
            process,
            files,
            vfs,
            image,
            procs,
            terminated,
            call_frame,
        } = self;
        let mut w = Writer {
            buf: Vec::with_capacity(1 << 16),
        };
        w.buf.extend_from_slice(&MAGIC);
        w.u32(FORMAT_VERSION);
        w.u64(mem.size());
        encode_identity(&mut w, machine_lower_identity(vfs.as_ref()));
        w.u64(0); // payload length, patched below
        w.u64(0); // checksum, patched below
        debug_assert_eq!(w.buf.len(), HEADER_LEN);

        encode_cpu(&mut w, cpu);
        encode_image(&mut w, image);
        encode_termination(&mut w, *terminated);
        call_frame.encode(&mut w);
        crate::linux::snapshot::encode_process(&mut w, process);
        crate::linux::snapshot::encode_open_files(&mut w, files);
        w.bool(vfs.is_some());
        if let Some(vfs) = vfs {
            crate::vfs::snapshot::encode_vfs(&mut w, vfs);
        }
        encode_processes(&mut w, procs);
        encode_memory(&mut w, mem, &used_ranges(process, image, mem.size()));

        let payload_len = (w.buf.len() - HEADER_LEN) as u64;
        let checksum = hash64(FORMAT_VERSION.into(), &w.buf[HEADER_LEN..]);
        w.buf[HEADER_LEN - 16..HEADER_LEN - 8].copy_from_slice(&payload_len.to_le_bytes());
        w.buf[HEADER_LEN - 8..HEADER_LEN].copy_from_slice(&checksum.to_le_bytes());
        w.buf
    }

    /// A machine in the state `bytes` (from [`Machine::snapshot`]) describes. `config`'s
    /// memory size must match the snapshot's; the processes' settings (stack size,
    /// deterministic mode, seed) come from the snapshot. `lower` is the read-only layer
    /// the snapshotted machine's VFS was built on (the same tar, checked by identity); it
    /// must be `None` when the snapshotted machine had no VFS.
    pub fn restore(config: &Config, lower: Option<Lower>, bytes: &[u8]) -> SnapshotResult<Machine> {
        let header = SnapshotHeader::parse(bytes)?;
        if header.memory_size != config.memory_size {
            return Err(SnapshotError::MemorySizeMismatch {
                snapshot: header.memory_size,
                config: config.memory_size,
            });
        }
        let lower = match (header.lower.kind, lower) {
            (0, None) => None,
            (0, Some(_)) => return Err(SnapshotError::RootfsMismatch),
            (3, _) => return Err(SnapshotError::LowerNotShareable),
            (_, None) => return Err(SnapshotError::RootfsMismatch),
            (_, Some(lower)) => {
                if lower.identity() != header.lower {
                    return Err(SnapshotError::RootfsMismatch);
                }
                Some(lower)
            }
        };
        let mut r = Reader::new(header.payload);
        let mem_size = header.memory_size;
        let cpu = decode_cpu(&mut r)?;
        let image = decode_image(&mut r)?;
        let terminated = decode_termination(&mut r)?;
        let call_frame = crate::vmcall::CallFrame::decode(&mut r)?;
        let process = crate::linux::snapshot::decode_process(&mut r)?;
        let files = crate::linux::snapshot::decode_open_files(&mut r)?;
        let vfs = if r.bool()? {
            let lower = lower.ok_or(SnapshotError::Corrupt("VFS without a rootfs identity"))?;
            Some(crate::vfs::snapshot::decode_vfs(&mut r, lower)?)
        } else {
            None
        };
        let procs = decode_processes(&mut r, mem_size, process.config.max_processes)?;
        let mem = decode_memory(&mut r, mem_size)?;
        if r.remaining() != 0 {
            return Err(SnapshotError::Corrupt(
                "trailing bytes after the machine state",
            ));
        }
        let tables =
            core::iter::once(&process.fds).chain(procs.waiting.iter().map(|t| &t.process.fds));
        crate::linux::snapshot::check_fd_tables(&files, tables)?;
        // A struct literal, not field updates: a new `Machine` field must be restored too.
        Ok(Machine {
            cpu,
            mem,
            cache: CodeCache::default(),
            process,
            files,
            vfs,
            image,
            procs,
            terminated,
            call_frame,
        })
    }

    /// An independent copy of this machine, cheaper than a snapshot and restore: used
    /// pages are copied into fresh zeroed memory, the read-only rootfs layer is shared, and
    /// the overlay, files and processes are cloned. Fails for host-served lower layers.
    pub fn fork(&self) -> SnapshotResult<Machine> {
        let Machine {
            cpu,
            mem,
            cache: _, // the child rebuilds its own
            process,
            files,
            vfs,
            image,
            procs,
            terminated,
            call_frame,
        } = self;
        let vfs = match vfs {
            None => None,
            Some(vfs) => {
                Some(crate::vfs::snapshot::fork_vfs(vfs).ok_or(SnapshotError::LowerNotShareable)?)
            }
        };
        let mut waiting = Vec::with_capacity(procs.waiting.len());
        for task in &procs.waiting {
            waiting.push(Task {
                cpu: task.cpu.clone(),
                mem: copy_used_memory(&task.mem, &task.process, &task.image)?,
                cache: CodeCache::default(),
                process: task.process.clone(),
                image: task.image,
                vfork_child: task.vfork_child,
            });
        }
        let Processes {
            waiting: _,
            zombies,
            next_pid,
            current_vfork_child,
            slice_used,
            thread_turns,
            retired,
        } = procs;
        let child_procs = Processes {
            waiting,
            zombies: zombies.clone(),
            next_pid: *next_pid,
            current_vfork_child: *current_vfork_child,
            slice_used: *slice_used,
            thread_turns: *thread_turns,
            retired: *retired,
        };
        Ok(Machine {
            cpu: cpu.clone(),
            mem: copy_used_memory(mem, process, image)?,
            cache: CodeCache::default(),
            process: process.clone(),
            files: files.clone(),
            vfs,
            image: *image,
            procs: child_procs,
            terminated: *terminated,
            call_frame: call_frame.clone(),
        })
    }
}

/// The checked header of a snapshot and its payload.
pub struct SnapshotHeader<'a> {
    pub memory_size: u64,
    pub lower: LowerIdentity,
    pub payload: &'a [u8],
}

impl<'a> SnapshotHeader<'a> {
    /// Checks magic, version, length and checksum.
    pub fn parse(bytes: &'a [u8]) -> SnapshotResult<SnapshotHeader<'a>> {
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            return Err(if MAGIC.starts_with(bytes) {
                SnapshotError::Truncated
            } else {
                SnapshotError::NotASnapshot
            });
        }
        let mut r = Reader::new(&bytes[MAGIC.len()..]);
        let version = r.u32()?;
        if version != FORMAT_VERSION {
            return Err(SnapshotError::UnsupportedVersion { found: version });
        }
        let memory_size = r.u64()?;
        let lower = LowerIdentity {
            kind: r.u8()?,
            size: r.u64()?,
            hash: r.u64()?,
        };
        let payload_len = r.usize()?;
        let checksum = r.u64()?;
        if payload_len > r.remaining() {
            return Err(SnapshotError::Truncated);
        }
        if payload_len < r.remaining() {
            return Err(SnapshotError::Corrupt(
                "bytes after the end of the snapshot",
            ));
        }
        let payload = r.take(payload_len)?;
        if hash64(FORMAT_VERSION.into(), payload) != checksum {
            return Err(SnapshotError::ChecksumMismatch);
        }
        Ok(SnapshotHeader {
            memory_size,
            lower,
            payload,
        })
    }
}

/// Recomputes the checksum of a snapshot whose payload was edited (for fuzzing the
/// decoder past the checksum). Does nothing to bytes too short to hold a header.
pub fn reseal(bytes: &mut [u8]) {
    if bytes.len() < HEADER_LEN {
        return;
    }
    let payload_len = (bytes.len() - HEADER_LEN) as u64;
    let checksum = hash64(FORMAT_VERSION.into(), &bytes[HEADER_LEN..]);
    bytes[HEADER_LEN - 16..HEADER_LEN - 8].copy_from_slice(&payload_len.to_le_bytes());
    bytes[HEADER_LEN - 8..HEADER_LEN].copy_from_slice(&checksum.to_le_bytes());
}

#[cfg(test)]
mod tests;
