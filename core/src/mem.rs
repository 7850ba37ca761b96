//! Guest address space: one contiguous host buffer; every guest access is bounds-checked into it.
//!
//! Guest address `a` lives at byte `a` of the buffer. Addresses below [`GUARD_SIZE`] (the
//! NULL page) and at or beyond the buffer's end fault, so a guest can never reach host
//! memory outside its buffer: the check is a single unsigned compare per access.

/// The first page is never mapped, so NULL dereferences fault as on Linux.
pub const GUARD_SIZE: u64 = 0x1000;
/// Guest page size (Linux on RISC-V uses 4 KiB pages).
pub const PAGE_SIZE: u64 = 0x1000;

#[cfg(feature = "alloc")]
type Buffer = alloc::boxed::Box<[u8]>;
#[cfg(not(feature = "alloc"))]
type Buffer = &'static mut [u8];

/// Why a memory access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemFault {
    pub addr: u64,
}

/// The guest's address space.
pub struct Memory {
    buf: Buffer,
    /// `buf.len() - GUARD_SIZE - n` for accesses of n = 1, 2, 4 and 8 bytes: the bound the
    /// single compare uses, kept here so the hot loop compares against memory instead of
    /// recomputing it in a register it may not have to spare.
    spans: [u64; 4],
}

impl core::fmt::Debug for Memory {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Memory")
            .field("size", &self.buf.len())
            .finish()
    }
}

/// Errors creating an address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemError {
    /// The size is too small to hold the guard page plus a program, or not page-aligned.
    BadSize,
    /// The host allocator refused the buffer.
    OutOfMemory,
}

impl Memory {
    /// Allocate a zeroed address space of `size` bytes (a multiple of the page size).
    ///
    /// Zeroed allocation lets hosts with lazy OS paging commit only the pages a guest touches.
    #[cfg(feature = "alloc")]
    pub fn new(size: usize) -> Result<Memory, MemError> {
        if size < 4 * PAGE_SIZE as usize || size % PAGE_SIZE as usize != 0 {
            return Err(MemError::BadSize);
        }
        let layout = core::alloc::Layout::array::<u8>(size).map_err(|_| MemError::BadSize)?;
        // Zeroed allocation, not a memset: on hosts with lazy paging only touched pages cost RAM.
        // SAFETY: `layout` has non-zero size (checked above).
        let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(MemError::OutOfMemory);
        }
        // SAFETY: `ptr` was just allocated by the global allocator with the layout of a
        // `[u8; size]`, is zero-initialised and uniquely owned; Box frees it with that layout.
        let buf =
            unsafe { alloc::boxed::Box::from_raw(core::ptr::slice_from_raw_parts_mut(ptr, size)) };
        Ok(Memory::with_buffer(buf))
    }

    fn with_buffer(buf: Buffer) -> Memory {
        let span = |n: u64| buf.len() as u64 - GUARD_SIZE - n;
        let spans = [span(1), span(2), span(4), span(8)];
        Memory { buf, spans }
    }

    /// Use a host-provided buffer as the address space (it is zeroed first).
    #[cfg_attr(not(feature = "alloc"), allow(unused_mut))]
    pub fn from_buffer(mut buf: Buffer) -> Result<Memory, MemError> {
        let len = buf.len();
        if len < 4 * PAGE_SIZE as usize || len % PAGE_SIZE as usize != 0 {
            return Err(MemError::BadSize);
        }
        buf.fill(0);
        Ok(Memory::with_buffer(buf))
    }

    /// Size of the address space in bytes; valid addresses are `GUARD_SIZE..size()`.
    #[inline]
    pub fn size(&self) -> u64 {
        self.buf.len() as u64
    }

    /// Offset into the buffer of an `n`-byte access at `addr`, if it is inside the address space.
    /// This single compare is the only check on the hot path: `load`/`store` rely on it.
    #[inline(always)]
    fn offset(&self, addr: u64, n: usize) -> Option<usize> {
        let span = match n {
            1 => self.spans[0],
            2 => self.spans[1],
            4 => self.spans[2],
            8 => self.spans[3],
            _ => self.buf.len() as u64 - GUARD_SIZE - n as u64,
        };
        if addr.wrapping_sub(GUARD_SIZE) <= span {
            Some(addr as usize)
        } else {
            None
        }
    }

    #[inline(always)]
    fn load<const N: usize>(&self, addr: u64) -> Result<[u8; N], MemFault> {
        match self.offset(addr, N) {
            Some(o) => {
                // SAFETY: `offset` proved `GUARD_SIZE <= o` and `o + N <= buf.len()`.
                let bytes = unsafe { self.buf.get_unchecked(o..o + N) };
                let mut out = [0u8; N];
                out.copy_from_slice(bytes);
                Ok(out)
            }
            None => Err(MemFault { addr }),
        }
    }

    #[inline(always)]
    fn store<const N: usize>(&mut self, addr: u64, bytes: [u8; N]) -> Result<(), MemFault> {
        match self.offset(addr, N) {
            Some(o) => {
                // SAFETY: `offset` proved `GUARD_SIZE <= o` and `o + N <= buf.len()`.
                unsafe { self.buf.get_unchecked_mut(o..o + N) }.copy_from_slice(&bytes);
                Ok(())
            }
            None => Err(MemFault { addr }),
        }
    }

    #[inline(always)]
    pub fn read_u8(&self, addr: u64) -> Result<u8, MemFault> {
        self.load::<1>(addr).map(|b| b[0])
    }
    #[inline(always)]
    pub fn read_u16(&self, addr: u64) -> Result<u16, MemFault> {
        self.load(addr).map(u16::from_le_bytes)
    }
    #[inline(always)]
    pub fn read_u32(&self, addr: u64) -> Result<u32, MemFault> {
        self.load(addr).map(u32::from_le_bytes)
    }
    #[inline(always)]
    pub fn read_u64(&self, addr: u64) -> Result<u64, MemFault> {
        self.load(addr).map(u64::from_le_bytes)
    }
    #[inline(always)]
    pub fn write_u8(&mut self, addr: u64, v: u8) -> Result<(), MemFault> {
        self.store(addr, [v])
    }
    #[inline(always)]
    pub fn write_u16(&mut self, addr: u64, v: u16) -> Result<(), MemFault> {
        self.store(addr, v.to_le_bytes())
    }
    #[inline(always)]
    pub fn write_u32(&mut self, addr: u64, v: u32) -> Result<(), MemFault> {
        self.store(addr, v.to_le_bytes())
    }
    #[inline(always)]
    pub fn write_u64(&mut self, addr: u64, v: u64) -> Result<(), MemFault> {
        self.store(addr, v.to_le_bytes())
    }

    /// The guest bytes `addr..addr+len`, if all of them are inside the address space.
    pub fn slice(&self, addr: u64, len: u64) -> Result<&[u8], MemFault> {
        let o = self.range(addr, len)?;
        Ok(&self.buf[o..o + len as usize])
    }

    /// Mutable view of the guest bytes `addr..addr+len`.
    pub fn slice_mut(&mut self, addr: u64, len: u64) -> Result<&mut [u8], MemFault> {
        let o = self.range(addr, len)?;
        Ok(&mut self.buf[o..o + len as usize])
    }

    fn range(&self, addr: u64, len: u64) -> Result<usize, MemFault> {
        if len == 0 {
            return Ok(0);
        }
        let end = addr.checked_add(len).ok_or(MemFault { addr })?;
        if addr < GUARD_SIZE || end > self.size() {
            return Err(MemFault {
                addr: if addr < GUARD_SIZE {
                    addr
                } else {
                    self.size().max(addr)
                },
            });
        }
        Ok(addr as usize)
    }

    /// Copy host bytes into the guest.
    pub fn write_bytes(&mut self, addr: u64, data: &[u8]) -> Result<(), MemFault> {
        self.slice_mut(addr, data.len() as u64)?
            .copy_from_slice(data);
        Ok(())
    }

    /// Copy guest bytes out to the host.
    pub fn read_bytes(&self, addr: u64, out: &mut [u8]) -> Result<(), MemFault> {
        out.copy_from_slice(self.slice(addr, out.len() as u64)?);
        Ok(())
    }

    /// Zero a guest range.
    pub fn zero(&mut self, addr: u64, len: u64) -> Result<(), MemFault> {
        self.slice_mut(addr, len)?.fill(0);
        Ok(())
    }

    /// Length of the NUL-terminated string at `addr` (not counting the NUL), reading at most `max` bytes.
    pub fn c_str_len(&self, addr: u64, max: u64) -> Result<u64, MemFault> {
        let avail = self.size().saturating_sub(addr).min(max);
        let bytes = self.slice(addr, avail)?;
        match bytes.iter().position(|&b| b == 0) {
            Some(n) => Ok(n as u64),
            None => Err(MemFault {
                addr: addr.saturating_add(avail),
            }),
        }
    }

    /// Whole buffer, for snapshots and bulk copies.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..]
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;

    #[test]
    fn rejects_guard_page_and_past_end() {
        let mut m = Memory::new(0x10000).unwrap();
        assert_eq!(m.read_u8(0), Err(MemFault { addr: 0 }));
        assert_eq!(m.read_u64(0xfff), Err(MemFault { addr: 0xfff }));
        assert!(m.read_u64(0x1000).is_ok());
        assert!(m.read_u64(0xfff8).is_ok());
        assert!(m.read_u64(0xfff9).is_err());
        assert!(m.write_u32(u64::MAX - 1, 1).is_err());
        assert!(m.slice(0xff00, 0x100).is_ok());
        assert!(m.slice(0xff00, 0x101).is_err());
        assert!(m.slice(u64::MAX, 2).is_err());
    }

    #[test]
    fn misaligned_round_trip() {
        let mut m = Memory::new(0x10000).unwrap();
        m.write_u64(0x2003, 0x1122_3344_5566_7788).unwrap();
        assert_eq!(m.read_u64(0x2003).unwrap(), 0x1122_3344_5566_7788);
        assert_eq!(m.read_u16(0x2004).unwrap(), 0x6677);
    }

    #[test]
    fn c_strings_are_bounded() {
        let mut m = Memory::new(0x10000).unwrap();
        m.write_bytes(0x3000, b"hi\0").unwrap();
        assert_eq!(m.c_str_len(0x3000, 100), Ok(2));
        m.write_bytes(0xfffe, b"ab").unwrap();
        assert!(m.c_str_len(0xfffe, 100).is_err());
    }
}
