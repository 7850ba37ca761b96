//! Fuzz target: arbitrary and mutated ELF files give an error or a loaded image, never a panic or huge allocation.
//!
//! Inputs that start with the ELF magic are used as they are (the seed corpus holds real
//! programs for libFuzzer to mutate); any other input describes an ELF structurally
//! (header fields plus program headers with arbitrary values) and is serialised first, so
//! random bytes still reach the loader's deeper checks. A loaded image must lie inside
//! guest memory, hold the file's segment bytes, and run a few thousand instructions cleanly.
//! Loading it again with pages "mapped" (written by an [`ImagePages`] that checks what it is
//! offered, and declines every third offer) must leave the same memory and registers.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use friscy_core::elf::{Elf, ImagePages, PT_LOAD};
use friscy_core::linux::ProcessConfig;
use friscy_core::mem::GUARD_SIZE;
use friscy_core::{LoadError, Machine};
use friscy_fuzz::{check_process, drive, fresh_memory, recycle, ScriptedHost};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Field {
    Raw(u64),
    Small(u16),
    Page(u8),
    Near(u32),
    Max,
}

impl Field {
    fn get(&self) -> u64 {
        match *self {
            Field::Raw(v) => v,
            Field::Small(v) => u64::from(v),
            Field::Page(n) => u64::from(n) << 12,
            Field::Near(v) => 0x1_0000 + u64::from(v),
            Field::Max => u64::MAX,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Phdr {
    kind: u8,
    flags: u8,
    offset: Field,
    vaddr: Field,
    filesz: Field,
    memsz: Field,
    align: Field,
}

#[derive(Arbitrary, Debug)]
struct Described {
    pie: bool,
    entry: Field,
    phoff: Option<u16>,
    shoff: Option<Field>,
    shnum: u8,
    shentsize_64: bool,
    phdrs: Vec<Phdr>,
    payload: Vec<u8>,
}

fn serialise(d: &Described) -> Vec<u8> {
    let phnum = d.phdrs.len().min(64);
    let phoff = d.phoff.map_or(64, u64::from);
    let mut out = vec![0u8; 64];
    out[..4].copy_from_slice(b"\x7fELF");
    out[4] = 2;
    out[5] = 1;
    out[6] = 1;
    out[16..18].copy_from_slice(&(if d.pie { 3u16 } else { 2 }).to_le_bytes());
    out[18..20].copy_from_slice(&243u16.to_le_bytes());
    out[24..32].copy_from_slice(&d.entry.get().to_le_bytes());
    out[32..40].copy_from_slice(&phoff.to_le_bytes());
    out[40..48].copy_from_slice(&d.shoff.as_ref().map_or(0, Field::get).to_le_bytes());
    out[54..56].copy_from_slice(&56u16.to_le_bytes());
    out[56..58].copy_from_slice(&(phnum as u16).to_le_bytes());
    out[58..60].copy_from_slice(&(if d.shentsize_64 { 64u16 } else { 40 }).to_le_bytes());
    out[60..62].copy_from_slice(&u16::from(d.shnum).to_le_bytes());
    let table = phoff as usize;
    out.resize(out.len().max(table + 56 * phnum), 0);
    for (i, ph) in d.phdrs.iter().take(phnum).enumerate() {
        let o = table + 56 * i;
        let kind = match ph.kind % 8 {
            0..=3 => u32::from(PT_LOAD as u8),
            4 => 3, // PT_INTERP
            5 => 6, // PT_PHDR
            _ => u32::from(ph.kind),
        };
        out[o..o + 4].copy_from_slice(&kind.to_le_bytes());
        out[o + 4..o + 8].copy_from_slice(&u32::from(ph.flags).to_le_bytes());
        out[o + 8..o + 16].copy_from_slice(&ph.offset.get().to_le_bytes());
        out[o + 16..o + 24].copy_from_slice(&ph.vaddr.get().to_le_bytes());
        out[o + 32..o + 40].copy_from_slice(&ph.filesz.get().to_le_bytes());
        out[o + 40..o + 48].copy_from_slice(&ph.memsz.get().to_le_bytes());
        out[o + 48..o + 56].copy_from_slice(&ph.align.get().to_le_bytes());
    }
    out.extend_from_slice(&d.payload);
    out
}

/// Plays a host that maps program pages: checks the loader's side of the contract, then
/// writes the file's bytes as a mapping would show them.
struct CheckedPages<'a> {
    file: &'a [u8],
    offers: usize,
}

impl ImagePages for CheckedPages<'_> {
    fn map(&mut self, dest: &mut [u8], offset: u64) -> bool {
        self.offers += 1;
        assert!(
            !dest.is_empty() && dest.len().is_multiple_of(0x1000) && offset.is_multiple_of(0x1000),
            "offered {:#x} bytes from file offset {offset:#x}",
            dest.len()
        );
        let source = usize::try_from(offset)
            .ok()
            .and_then(|start| self.file.get(start..start.checked_add(dest.len())?))
            .expect("offered range is inside the file");
        if self.offers.is_multiple_of(3) {
            return false;
        }
        dest.copy_from_slice(source);
        true
    }
}

/// The same load with pages offered for mapping gives the same machine state.
fn mapped_load_matches(file: &[u8], copied: &Machine) {
    let process = ProcessConfig {
        deterministic: true,
        ..ProcessConfig::default()
    };
    let mut machine = Machine::with_memory(fresh_memory(), process);
    let mut pages = CheckedPages { file, offers: 0 };
    machine
        .load_elf_with(file, &mut pages, &[b"prog", b"arg"], &[b"HOME=/"])
        .expect("loads with pages mapped as it loaded copied");
    assert!(
        machine.mem.as_bytes() == copied.mem.as_bytes(),
        "mapped and copied loads left different memory"
    );
    assert_eq!(machine.cpu.x, copied.cpu.x);
    assert_eq!(machine.cpu.pc, copied.cpu.pc);
    recycle(machine);
}

fn exercise(file: &[u8]) {
    let parsed = Elf::parse(file);
    if let Ok(elf) = &parsed {
        let _ = elf.interpreter();
        let extent = elf.load_extent();
        if let Ok((lo, hi, align)) = extent {
            assert!(align.is_power_of_two(), "alignment {align:#x}");
            assert_eq!(lo % 0x1000, 0, "extent start {lo:#x} not page aligned");
            assert!(lo <= hi || hi == 0, "extent {lo:#x}..{hi:#x}");
        }
        for name in [&b"main"[..], b"_start", b"", b"\xff"] {
            let _ = elf.symbol(name);
        }
        assert_eq!(elf.program_headers().count(), usize::from(elf.phnum));
    }

    let process = ProcessConfig {
        deterministic: true,
        ..ProcessConfig::default()
    };
    let mut machine = Machine::with_memory(fresh_memory(), process);
    let result = machine.load_elf(file, &[b"prog", b"arg"], &[b"HOME=/"]);
    match (&parsed, &result) {
        (Err(e), Err(LoadError::Elf(l))) => assert_eq!(e, l, "load_elf and parse disagree"),
        (Err(e), other) => panic!("parse failed ({e:?}) but load_elf gave {other:?}"),
        _ => {}
    }
    if result.is_err() {
        recycle(machine);
        return;
    }
    let elf = parsed.expect("loaded, so it parsed");
    let image = machine.image;
    let size = machine.mem.size();
    assert!(
        image.start >= GUARD_SIZE,
        "image starts in the guard page: {image:x?}"
    );
    assert!(
        image.start <= image.end && image.end <= size,
        "image {image:x?} outside memory"
    );
    assert_eq!(machine.cpu.pc, image.entry);
    let sp = machine.cpu.x[2];
    assert!(
        sp.is_multiple_of(16) && sp > image.end && sp < size,
        "sp {sp:#x}"
    );
    check_process(&machine);
    mapped_load_matches(file, &machine);

    // Each PT_LOAD's file bytes are where it asked, unless a later segment overlaps it.
    let loads: Vec<_> = elf
        .program_headers()
        .filter(|p| p.kind == PT_LOAD)
        .collect();
    for (i, ph) in loads.iter().enumerate() {
        let start = ph.vaddr.wrapping_add(image.bias);
        let overlapped = loads[i + 1..].iter().any(|later| {
            let s = later.vaddr.wrapping_add(image.bias);
            s < start + ph.memsz && start < s + later.memsz
        });
        if overlapped || ph.filesz == 0 {
            continue;
        }
        let want = &file[ph.offset as usize..(ph.offset + ph.filesz) as usize];
        let have = machine
            .mem
            .slice(start, ph.filesz)
            .expect("segment is in memory");
        assert!(want == have, "segment {i} at {start:#x} holds other bytes");
    }

    let mut host = ScriptedHost::new(&[]);
    drive(&mut machine, &mut host, 5_000, &[], 2);
    recycle(machine);
}

fuzz_target!(|data: &[u8]| {
    if data.starts_with(b"\x7fELF") {
        exercise(data);
        return;
    }
    // Also the raw bytes: most are rejected at once, which is cheap and worth checking.
    exercise(data);
    let mut u = Unstructured::new(data);
    if let Ok(described) = Described::arbitrary(&mut u) {
        exercise(&serialise(&described));
    }
});
