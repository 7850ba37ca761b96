//! ELF64 RISC-V loader: validates headers, maps PT_LOAD segments into guest memory, finds symbols.
//!
//! Every offset and size read from the file is checked against the file and the address
//! space before use, so a malformed ELF gives an [`ElfError`], never a panic.

use crate::mem::{Memory, GUARD_SIZE, PAGE_SIZE};

const EM_RISCV: u16 = 243;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
pub const PT_LOAD: u32 = 1;
pub const PT_INTERP: u32 = 3;
pub const PT_PHDR: u32 = 6;
const PHDR_SIZE: usize = 56;
const EHDR_SIZE: usize = 64;

/// Puts whole pages of the program file into guest memory without copying them, where the
/// host can: a POSIX host maps the file privately over the guest's pages, so a program's code
/// costs page-cache pages instead of a fresh page (a page fault) per 4 KiB copied.
pub trait ImagePages {
    /// Make `dest` hold the program file's bytes from `offset` on, `dest.len()` of them, and
    /// return true; or return false, and the loader copies them. `dest` starts on a guest page
    /// and spans whole guest pages, `offset` is a multiple of the guest page size, and the
    /// range is inside the file given to the loader.
    fn map(&mut self, dest: &mut [u8], offset: u64) -> bool;
}

/// The loader copies every byte (hosts without file mappings).
pub struct CopyPages;

impl ImagePages for CopyPages {
    fn map(&mut self, _dest: &mut [u8], _offset: u64) -> bool {
        false
    }
}

/// Why an ELF file could not be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Not an ELF file (bad magic) or too short to hold a header.
    NotElf,
    /// An ELF, but not 64-bit little-endian RISC-V.
    WrongMachine,
    /// Neither an executable nor a position-independent executable.
    NotExecutable,
    /// Headers point outside the file, overlap impossibly, or are inconsistent.
    Malformed(&'static str),
    /// A segment does not fit in the guest address space.
    TooBig,
}

impl core::fmt::Display for ElfError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ElfError::NotElf => f.write_str("not an ELF file"),
            ElfError::WrongMachine => f.write_str("not a 64-bit little-endian RISC-V ELF"),
            ElfError::NotExecutable => f.write_str("ELF is not an executable (ET_EXEC or ET_DYN)"),
            ElfError::Malformed(what) => write!(f, "malformed ELF: {what}"),
            ElfError::TooBig => f.write_str("ELF segments do not fit in guest memory"),
        }
    }
}

/// One program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramHeader {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

/// A parsed (not yet loaded) ELF file borrowed from the host.
#[derive(Clone, Copy, Debug)]
pub struct Elf<'a> {
    pub data: &'a [u8],
    pub kind: u16,
    pub entry: u64,
    pub phoff: u64,
    pub phnum: u16,
    shoff: u64,
    shnum: u16,
    shentsize: u16,
}

/// Where an ELF ended up in guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LoadedImage {
    /// Added to every virtual address in the file (0 for ET_EXEC).
    pub bias: u64,
    pub entry: u64,
    /// Guest address of the program headers (for AT_PHDR), 0 if not mapped.
    pub phdr: u64,
    pub phnum: u16,
    /// Lowest and one-past-highest guest address of the loaded segments.
    pub start: u64,
    pub end: u64,
}

fn u16_at(d: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(off..off + 2)?.try_into().ok()?))
}
fn u32_at(d: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(off..off + 4)?.try_into().ok()?))
}
fn u64_at(d: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(off..off + 8)?.try_into().ok()?))
}

impl<'a> Elf<'a> {
    /// Validate the ELF header.
    pub fn parse(data: &'a [u8]) -> Result<Elf<'a>, ElfError> {
        if data.len() < 4 || &data[..4] != b"\x7fELF" {
            return Err(ElfError::NotElf);
        }
        if data.len() < EHDR_SIZE {
            return Err(ElfError::Malformed("truncated ELF header"));
        }
        // EI_CLASS = 64-bit, EI_DATA = little-endian.
        if data[4] != 2 || data[5] != 1 {
            return Err(ElfError::WrongMachine);
        }
        let machine = u16_at(data, 18).ok_or(ElfError::NotElf)?;
        if machine != EM_RISCV {
            return Err(ElfError::WrongMachine);
        }
        let kind = u16_at(data, 16).ok_or(ElfError::NotElf)?;
        if kind != ET_EXEC && kind != ET_DYN {
            return Err(ElfError::NotExecutable);
        }
        let bad = ElfError::Malformed("truncated ELF header");
        let entry = u64_at(data, 24).ok_or(bad)?;
        let phoff = u64_at(data, 32).ok_or(bad)?;
        let shoff = u64_at(data, 40).ok_or(bad)?;
        let phentsize = u16_at(data, 54).ok_or(bad)?;
        let phnum = u16_at(data, 56).ok_or(bad)?;
        let shentsize = u16_at(data, 58).ok_or(bad)?;
        let shnum = u16_at(data, 60).ok_or(bad)?;
        if phnum == 0 {
            return Err(ElfError::Malformed("no program headers"));
        }
        // With RVC, instructions are 2-byte aligned and the hart cannot hold an odd pc.
        if entry % 2 != 0 {
            return Err(ElfError::Malformed("entry point not 2-byte aligned"));
        }
        if phentsize as usize != PHDR_SIZE {
            return Err(ElfError::Malformed("unexpected program header size"));
        }
        let table_end = (phnum as u64)
            .checked_mul(PHDR_SIZE as u64)
            .and_then(|n| n.checked_add(phoff));
        match table_end {
            Some(end) if end <= data.len() as u64 => {}
            _ => return Err(ElfError::Malformed("program headers outside the file")),
        }
        Ok(Elf {
            data,
            kind,
            entry,
            phoff,
            phnum,
            shoff,
            shnum,
            shentsize,
        })
    }

    /// Whether the file is position independent (ET_DYN).
    pub fn is_pie(&self) -> bool {
        self.kind == ET_DYN
    }

    /// The program headers, in file order.
    pub fn program_headers(&self) -> impl Iterator<Item = ProgramHeader> + 'a {
        let data = self.data;
        let phoff = self.phoff as usize;
        (0..self.phnum as usize).map(move |i| {
            let o = phoff + i * PHDR_SIZE;
            // In bounds: `parse` checked the whole table.
            ProgramHeader {
                kind: u32_at(data, o).unwrap_or(0),
                flags: u32_at(data, o + 4).unwrap_or(0),
                offset: u64_at(data, o + 8).unwrap_or(0),
                vaddr: u64_at(data, o + 16).unwrap_or(0),
                filesz: u64_at(data, o + 32).unwrap_or(0),
                memsz: u64_at(data, o + 40).unwrap_or(0),
                align: u64_at(data, o + 48).unwrap_or(0),
            }
        })
    }

    /// The PT_INTERP path (without its NUL), if the program asks for a dynamic linker.
    pub fn interpreter(&self) -> Result<Option<&'a [u8]>, ElfError> {
        for ph in self.program_headers() {
            if ph.kind == PT_INTERP {
                let bytes = file_range(self.data, ph.offset, ph.filesz)
                    .ok_or(ElfError::Malformed("PT_INTERP outside the file"))?;
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                return Ok(Some(&bytes[..end]));
            }
        }
        Ok(None)
    }

    /// Lowest page-aligned address and one-past-highest address of the PT_LOAD segments
    /// (before relocation), and the largest alignment any of them asks for.
    pub fn load_extent(&self) -> Result<(u64, u64, u64), ElfError> {
        let mut lo = u64::MAX;
        let mut hi = 0u64;
        let mut align = PAGE_SIZE;
        for ph in self.program_headers().filter(|p| p.kind == PT_LOAD) {
            if ph.filesz > ph.memsz {
                return Err(ElfError::Malformed("segment file size exceeds memory size"));
            }
            // An empty segment maps nothing, so it must not place the image (e.g. at 0).
            if ph.memsz == 0 {
                continue;
            }
            let end = ph.vaddr.checked_add(ph.memsz).ok_or(ElfError::TooBig)?;
            lo = lo.min(ph.vaddr & !(PAGE_SIZE - 1));
            hi = hi.max(end);
            if ph.align.is_power_of_two() && ph.align > align && ph.align <= 0x10_0000 {
                align = ph.align;
            }
        }
        if lo == u64::MAX {
            return Err(ElfError::Malformed("no loadable segments"));
        }
        Ok((lo, hi, align))
    }

    /// Copy the PT_LOAD segments into `mem`, adding `bias` to their addresses.
    /// The memory they cover must already be zero (bss is not cleared again).
    pub fn load(&self, mem: &mut Memory, bias: u64) -> Result<LoadedImage, ElfError> {
        self.load_with(mem, bias, &mut CopyPages)
    }

    /// [`Elf::load`], offering `pages` the whole pages of each segment's file bytes to map
    /// instead of copying them.
    pub fn load_with(
        &self,
        mem: &mut Memory,
        bias: u64,
        pages: &mut dyn ImagePages,
    ) -> Result<LoadedImage, ElfError> {
        let (lo, hi, _) = self.load_extent()?;
        // `bias` may be "negative" (a PIE linked above where it is placed): wrap, like
        // the per-segment addresses below, and check the relocated span instead.
        let start = lo.wrapping_add(bias);
        let end = start.checked_add(hi - lo).ok_or(ElfError::TooBig)?;
        if start < GUARD_SIZE || mem.slice(start, end - start).is_err() {
            return Err(ElfError::TooBig);
        }
        let mut phdr = 0;
        for ph in self.program_headers() {
            match ph.kind {
                PT_LOAD => {
                    let bytes = file_range(self.data, ph.offset, ph.filesz)
                        .ok_or(ElfError::Malformed("segment outside the file"))?;
                    let addr = ph.vaddr.wrapping_add(bias);
                    load_segment(mem, addr, bytes, ph.offset, pages)?;
                    // The program headers are usually inside the first segment.
                    if phdr == 0 && ph.offset <= self.phoff && self.phoff - ph.offset < ph.filesz {
                        phdr = addr + (self.phoff - ph.offset);
                    }
                }
                PT_PHDR => phdr = ph.vaddr.wrapping_add(bias),
                _ => {}
            }
        }
        Ok(LoadedImage {
            bias,
            entry: self.entry.wrapping_add(bias),
            phdr,
            phnum: self.phnum,
            start,
            end,
        })
    }

    /// Address (before relocation) of the symbol `name` in `.symtab` or `.dynsym`.
    pub fn symbol(&self, name: &[u8]) -> Option<u64> {
        const SHT_SYMTAB: u32 = 2;
        const SHT_DYNSYM: u32 = 11;
        const SYM_SIZE: u64 = 24;
        if self.shentsize != 64 {
            return None;
        }
        // Offset of section header `index`, if all 64 bytes of it are inside the file.
        let section = |index: u64| -> Option<usize> {
            let start = self.shoff.checked_add(index.checked_mul(64)?)?;
            file_range(self.data, start, 64)?;
            usize::try_from(start).ok()
        };
        for i in 0..u64::from(self.shnum) {
            let sh = section(i)?;
            let kind = u32_at(self.data, sh + 4)?;
            if kind != SHT_SYMTAB && kind != SHT_DYNSYM {
                continue;
            }
            let offset = u64_at(self.data, sh + 24)?;
            let size = u64_at(self.data, sh + 32)?;
            let link = u64::from(u32_at(self.data, sh + 40)?);
            let strtab_sh = section(link)?;
            let str_off = u64_at(self.data, strtab_sh + 24)?;
            let str_size = u64_at(self.data, strtab_sh + 32)?;
            let strtab = file_range(self.data, str_off, str_size)?;
            let syms = file_range(self.data, offset, size)?;
            for sym in syms.chunks_exact(SYM_SIZE as usize) {
                let name_off = u32::from_le_bytes(sym[0..4].try_into().ok()?) as usize;
                let value = u64::from_le_bytes(sym[8..16].try_into().ok()?);
                let shndx = u16::from_le_bytes(sym[6..8].try_into().ok()?);
                if shndx == 0 || name_off >= strtab.len() {
                    continue;
                }
                let rest = &strtab[name_off..];
                let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                if &rest[..end] == name {
                    return Some(value);
                }
            }
        }
        None
    }
}

/// Put a segment's file `bytes` (from file offset `offset`) at guest `addr`: the whole pages
/// in the middle mapped by `pages` if it can, the rest copied.
fn load_segment(
    mem: &mut Memory,
    addr: u64,
    bytes: &[u8],
    offset: u64,
    pages: &mut dyn ImagePages,
) -> Result<(), ElfError> {
    let head = (addr.wrapping_neg() & (PAGE_SIZE - 1)).min(bytes.len() as u64);
    let body = (bytes.len() as u64 - head) & !(PAGE_SIZE - 1);
    // A file offset not congruent to the address leaves nothing mappable (malformed, but
    // still loadable by copying).
    if body > 0 && (offset + head) % PAGE_SIZE == 0 {
        let body_addr = addr.wrapping_add(head);
        let dest = mem
            .slice_mut(body_addr, body)
            .map_err(|_| ElfError::TooBig)?;
        if pages.map(dest, offset + head) {
            let (head_bytes, rest) = bytes.split_at(head as usize);
            let tail_bytes = &rest[body as usize..];
            mem.write_bytes(addr, head_bytes)
                .map_err(|_| ElfError::TooBig)?;
            return mem
                .write_bytes(body_addr.wrapping_add(body), tail_bytes)
                .map_err(|_| ElfError::TooBig);
        }
    }
    mem.write_bytes(addr, bytes).map_err(|_| ElfError::TooBig)
}

fn file_range(data: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let end = offset.checked_add(len)?;
    if end > data.len() as u64 {
        return None;
    }
    Some(&data[offset as usize..end as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(machine: u16, kind: u16) -> [u8; 64 + 56] {
        let mut h = [0u8; 120];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[16..18].copy_from_slice(&kind.to_le_bytes());
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h[24..32].copy_from_slice(&0x10078u64.to_le_bytes());
        h[32..40].copy_from_slice(&64u64.to_le_bytes());
        h[54..56].copy_from_slice(&56u16.to_le_bytes());
        h[56..58].copy_from_slice(&1u16.to_le_bytes());
        // One PT_LOAD of the whole file at 0x10000.
        h[64..68].copy_from_slice(&PT_LOAD.to_le_bytes());
        h[80..88].copy_from_slice(&0x10000u64.to_le_bytes());
        h[96..104].copy_from_slice(&120u64.to_le_bytes());
        h[104..112].copy_from_slice(&0x2000u64.to_le_bytes());
        h
    }

    #[test]
    fn rejects_non_elf_and_other_machines() {
        assert_eq!(Elf::parse(b"hello").unwrap_err(), ElfError::NotElf);
        assert_eq!(Elf::parse(&[]).unwrap_err(), ElfError::NotElf);
        assert_eq!(
            Elf::parse(&header(62, ET_EXEC)).unwrap_err(),
            ElfError::WrongMachine
        );
        assert_eq!(
            Elf::parse(&header(EM_RISCV, 1)).unwrap_err(),
            ElfError::NotExecutable
        );
        assert!(matches!(
            Elf::parse(&header(EM_RISCV, ET_EXEC)[..100]),
            Err(ElfError::Malformed(_))
        ));
    }

    #[test]
    fn rejects_odd_entry_point() {
        // Found by fuzz/elf: an odd entry ran at an odd pc, whose decoded instruction
        // shares a code-cache slot with the one at pc - 1.
        let mut h = header(EM_RISCV, ET_EXEC);
        h[24..32].copy_from_slice(&0x10079u64.to_le_bytes());
        assert!(matches!(Elf::parse(&h), Err(ElfError::Malformed(_))));
        h[24..32].copy_from_slice(&0x1007au64.to_le_bytes());
        assert!(Elf::parse(&h).is_ok());
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn loads_segment_and_finds_phdr() {
        let h = header(EM_RISCV, ET_EXEC);
        let elf = Elf::parse(&h).unwrap();
        let mut mem = Memory::new(0x100000).unwrap();
        let img = elf.load(&mut mem, 0).unwrap();
        assert_eq!(img.entry, 0x10078);
        assert_eq!(img.phdr, 0x10040);
        assert_eq!(img.end, 0x12000);
        assert_eq!(mem.read_u8(0x10000).unwrap(), 0x7f);
    }

    #[test]
    fn symbol_lookup_survives_section_offsets_near_the_top() {
        // Found by fuzz/elf: e_shoff near 2^64 overflowed `sh + 4` in `symbol`.
        let mut h = header(EM_RISCV, ET_EXEC);
        h[40..48].copy_from_slice(&(u64::MAX - 70).to_le_bytes());
        h[58..60].copy_from_slice(&64u16.to_le_bytes());
        h[60..62].copy_from_slice(&3u16.to_le_bytes());
        let elf = Elf::parse(&h).unwrap();
        assert_eq!(elf.symbol(b"main"), None);
        // A section header whose sh_link points past the end of the address range.
        let mut file = h.to_vec();
        let shoff = file.len() as u64;
        file[40..48].copy_from_slice(&shoff.to_le_bytes());
        file[60..62].copy_from_slice(&1u16.to_le_bytes());
        let mut sh = [0u8; 64];
        sh[4..8].copy_from_slice(&2u32.to_le_bytes()); // SHT_SYMTAB
        sh[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        file.extend_from_slice(&sh);
        assert_eq!(Elf::parse(&file).unwrap().symbol(b"main"), None);
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn empty_segments_do_not_place_the_image() {
        // Found by fuzz/elf: a lone PT_LOAD with memsz 0 at vaddr 0 "loaded" an image at
        // 0..0, in the NULL page, and the heap started there.
        let mut h = header(EM_RISCV, ET_EXEC);
        h[80..88].copy_from_slice(&0u64.to_le_bytes());
        h[96..104].copy_from_slice(&0u64.to_le_bytes());
        h[104..112].copy_from_slice(&0u64.to_le_bytes());
        let elf = Elf::parse(&h).unwrap();
        assert!(matches!(elf.load_extent(), Err(ElfError::Malformed(_))));
        let mut mem = Memory::new(0x100000).unwrap();
        assert!(elf.load(&mut mem, 0).is_err());
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn segments_never_load_into_the_guard_page() {
        let mut h = header(EM_RISCV, ET_EXEC);
        h[80..88].copy_from_slice(&0x800u64.to_le_bytes());
        let elf = Elf::parse(&h).unwrap();
        let mut mem = Memory::new(0x100000).unwrap();
        assert_eq!(elf.load(&mut mem, 0).unwrap_err(), ElfError::TooBig);
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn pie_linked_above_its_load_address_loads() {
        // A PIE linked at 0x40000 and placed at 0x10000: the bias wraps below zero.
        let mut h = header(EM_RISCV, ET_DYN);
        h[80..88].copy_from_slice(&0x40000u64.to_le_bytes());
        h[24..32].copy_from_slice(&0x40078u64.to_le_bytes());
        let elf = Elf::parse(&h).unwrap();
        let mut mem = Memory::new(0x100000).unwrap();
        let bias = 0x10000u64.wrapping_sub(0x40000);
        let img = elf.load(&mut mem, bias).unwrap();
        assert_eq!((img.start, img.end, img.entry), (0x10000, 0x12000, 0x10078));
        assert_eq!(img.phdr, 0x10040);
        assert_eq!(mem.read_u8(0x10000).unwrap(), 0x7f);
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn segment_outside_memory_is_an_error() {
        let mut h = header(EM_RISCV, ET_EXEC);
        h[80..88].copy_from_slice(&u64::MAX.to_le_bytes());
        let elf = Elf::parse(&h).unwrap();
        let mut mem = Memory::new(0x100000).unwrap();
        assert_eq!(elf.load(&mut mem, 0).unwrap_err(), ElfError::TooBig);
        let mut h = header(EM_RISCV, ET_EXEC);
        h[96..104].copy_from_slice(&u64::MAX.to_le_bytes());
        let elf = Elf::parse(&h).unwrap();
        assert!(elf.load(&mut mem, 0).is_err());
    }

    /// A file whose one segment starts mid-page at `vaddr`, from file offset `offset`, with
    /// `filesz` bytes of a pattern no two pages share.
    #[cfg(feature = "alloc")]
    fn unaligned_segment(vaddr: u64, offset: u64, filesz: u64) -> alloc::vec::Vec<u8> {
        let mut file = header(EM_RISCV, ET_EXEC).to_vec();
        file[24..32].copy_from_slice(&vaddr.to_le_bytes());
        file[72..80].copy_from_slice(&offset.to_le_bytes());
        file[80..88].copy_from_slice(&vaddr.to_le_bytes());
        file[96..104].copy_from_slice(&filesz.to_le_bytes());
        file[104..112].copy_from_slice(&(filesz + 0x1800).to_le_bytes());
        file.resize((offset + filesz) as usize, 0);
        for (i, b) in file.iter_mut().enumerate().skip(120) {
            *b = (i ^ ((i >> 12) * 37)) as u8 | 1;
        }
        file
    }

    /// Records what it is offered; "maps" by writing `fill` (the file's bytes, or a marker
    /// that shows whether the loader wrote over pages it was told were mapped).
    #[cfg(feature = "alloc")]
    struct Recorder<'a> {
        fill: Option<&'a [u8]>,
        offered: alloc::vec::Vec<(usize, usize, u64)>,
    }

    #[cfg(feature = "alloc")]
    impl ImagePages for Recorder<'_> {
        fn map(&mut self, dest: &mut [u8], offset: u64) -> bool {
            self.offered
                .push((dest.as_ptr() as usize, dest.len(), offset));
            match self.fill {
                Some(file) => dest.copy_from_slice(&file[offset as usize..][..dest.len()]),
                None => dest.fill(0xAA),
            }
            true
        }
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn whole_pages_are_offered_to_map_and_the_rest_copied() {
        // 0x544 bytes before the first page boundary, two whole pages, 0xBC after them.
        let (vaddr, offset, filesz) = (0x10ABC, 0xABC, 0x2600);
        let file = unaligned_segment(vaddr, offset, filesz);
        let elf = Elf::parse(&file).unwrap();
        let mut copied = Memory::new(0x100000).unwrap();
        elf.load(&mut copied, 0).unwrap();
        let mut mem = Memory::new(0x100000).unwrap();
        let mut pages = Recorder {
            fill: Some(&file),
            offered: alloc::vec::Vec::new(),
        };
        elf.load_with(&mut mem, 0, &mut pages).unwrap();
        let body = mem.slice(0x11000, 0x2000).unwrap().as_ptr() as usize;
        assert_eq!(pages.offered, [(body, 0x2000, 0x1000)]);
        assert_eq!(mem.as_bytes(), copied.as_bytes());
        let segment = mem.slice(vaddr, filesz).unwrap();
        assert_eq!(segment, &file[offset as usize..]);
        assert!(mem
            .slice(vaddr + filesz, 0x1800)
            .unwrap()
            .iter()
            .all(|&b| b == 0));

        // Pages reported mapped are left as the mapper made them; only head and tail copied.
        let mut mem = Memory::new(0x100000).unwrap();
        let mut marker = Recorder {
            fill: None,
            offered: alloc::vec::Vec::new(),
        };
        elf.load_with(&mut mem, 0, &mut marker).unwrap();
        assert!(mem
            .slice(0x11000, 0x2000)
            .unwrap()
            .iter()
            .all(|&b| b == 0xAA));
        assert_eq!(mem.slice(vaddr, 0x544).unwrap(), &file[0xABC..0x1000]);
        assert_eq!(mem.slice(0x13000, 0xBC).unwrap(), &file[0x3000..]);
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn pages_are_copied_when_declined_or_not_mappable() {
        let file = unaligned_segment(0x10ABC, 0xABC, 0x2600);
        let elf = Elf::parse(&file).unwrap();
        let mut mem = Memory::new(0x100000).unwrap();
        elf.load_with(&mut mem, 0, &mut CopyPages).unwrap();
        assert_eq!(mem.slice(0x10ABC, 0x2600).unwrap(), &file[0xABC..]);

        // File offsets out of step with addresses (malformed, still loadable), and segments
        // with no whole page of file bytes, offer nothing.
        for (vaddr, offset, filesz) in [(0x10ABC, 0xABD, 0x2600), (0x10ABC, 0xABC, 0x1500)] {
            let file = unaligned_segment(vaddr, offset, filesz);
            let elf = Elf::parse(&file).unwrap();
            let mut mem = Memory::new(0x100000).unwrap();
            let mut pages = Recorder {
                fill: None,
                offered: alloc::vec::Vec::new(),
            };
            elf.load_with(&mut mem, 0, &mut pages).unwrap();
            assert!(
                pages.offered.is_empty(),
                "{vaddr:#x} {offset:#x} {filesz:#x}"
            );
            assert_eq!(mem.slice(vaddr, filesz).unwrap(), &file[offset as usize..]);
        }
    }
}
