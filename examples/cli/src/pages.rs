//! Start-up without copying: guest memory straight from mmap, program pages mapped from the file.
//!
//! On the VMs this is measured on, touching a fresh page costs ~3 µs (populating pages ahead
//! with MADV_POPULATE_WRITE is no cheaper per page): a third of a static hello world's run
//! time went to it. Pages already in the page cache cost no new page, so the program's code
//! is mapped over guest memory rather than copied into it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::File;
use std::os::fd::AsRawFd;

use friscy_core::elf::ImagePages;

/// Allocations this large come from their own mapping: page-aligned, so program pages can be
/// mapped into guest memory at the guest's page boundaries, and untouched until used.
const OWN_MAPPING: usize = 1 << 20;

/// The system allocator, except that large blocks (guest memory above all) are mappings of
/// their own, page-aligned. glibc maps them too, but 16 bytes into the mapping.
pub struct Allocator;

fn host_page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

fn own_mapping(layout: Layout) -> bool {
    layout.size() >= OWN_MAPPING && layout.align() <= 4096
}

fn map_anonymous(size: usize) -> *mut u8 {
    // SAFETY: a fresh private anonymous mapping; it overlaps nothing.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        ptr.cast()
    }
}

// SAFETY: blocks of `OWN_MAPPING` bytes or more are fresh mappings (page-aligned, which
// satisfies any alignment up to 4096, and zero-filled) released by munmap with the same size;
// all others are the system allocator's, and a block never moves between the two kinds
// without a copy (the size decides the kind, and `realloc` copies when it changes).
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if own_mapping(layout) {
            map_anonymous(layout.size())
        } else {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if own_mapping(layout) {
            map_anonymous(layout.size())
        } else {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if own_mapping(layout) {
            // SAFETY: `ptr` is a mapping of `layout.size()` bytes made by `alloc`.
            unsafe { libc::munmap(ptr.cast(), layout.size()) };
        } else {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded to the alignment, fits an isize.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (own_mapping(layout), own_mapping(new_layout)) {
            // SAFETY: forwarded with the caller's guarantees.
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            (true, true) => {
                // SAFETY: `ptr` is a mapping of `layout.size()` bytes; the kernel moves it
                // whole (no copy) if it cannot grow in place.
                let moved = unsafe {
                    libc::mremap(ptr.cast(), layout.size(), new_size, libc::MREMAP_MAYMOVE)
                };
                if moved == libc::MAP_FAILED {
                    std::ptr::null_mut()
                } else {
                    moved.cast()
                }
            }
            _ => {
                // SAFETY: `new_layout` is valid (above); the old block holds `layout.size()`
                // bytes and is released only after the copy.
                unsafe {
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

/// Maps a program file's pages privately over guest memory (copy-on-write: the guest's
/// stores never reach the file). Declines, so the loader copies, wherever the host's pages
/// do not line up with the guest's (hosts with pages larger than 4 KiB, memory not from
/// [`Allocator`]) or the range is not inside the file as it is now.
pub struct FilePages<'a> {
    file: &'a File,
    len: u64,
    page_size: usize,
}

impl<'a> FilePages<'a> {
    pub fn new(file: &'a File) -> FilePages<'a> {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        FilePages {
            file,
            len,
            page_size: host_page_size(),
        }
    }
}

impl ImagePages for FilePages<'_> {
    fn map(&mut self, dest: &mut [u8], offset: u64) -> bool {
        let page = self.page_size;
        let fits = offset
            .checked_add(dest.len() as u64)
            .is_some_and(|end| end <= self.len);
        let aligned = (dest.as_ptr() as usize).is_multiple_of(page)
            && dest.len().is_multiple_of(page)
            && offset.is_multiple_of(page as u64);
        let Ok(file_offset) = libc::off_t::try_from(offset) else {
            return false;
        };
        if !fits || !aligned || dest.is_empty() {
            return false;
        }
        let addr = dest.as_mut_ptr().cast::<libc::c_void>();
        // SAFETY: `dest` covers whole host pages (checked above), which this process owns
        // exclusively through the unique borrow; replacing them with a private mapping of the
        // file changes only what those bytes hold, as writing through `dest` would. The range is
        // inside the file, so no access to it can fault past the end of the file unless the
        // file is truncated while it runs (as with any mapped executable).
        let mapped = unsafe {
            libc::mmap(
                addr,
                dest.len(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                self.file.as_raw_fd(),
                file_offset,
            )
        };
        if mapped == addr {
            return true;
        }
        // A failed MAP_FIXED may already have unmapped the range: put zeroed memory back, as
        // the loader expects, or stop before the guest can touch a hole.
        // SAFETY: as above; an anonymous private mapping over the same owned range.
        let restored = unsafe {
            libc::mmap(
                addr,
                dest.len(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if restored != addr {
            eprintln!("friscy: cannot restore guest memory after a failed mapping");
            std::process::abort();
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages line up only on the host's page size (4 KiB on x86-64, larger on some hosts).
    fn page() -> usize {
        host_page_size()
    }

    /// A file of three pages, each byte telling its offset apart from its neighbours'.
    fn three_page_file(name: &str) -> (std::path::PathBuf, Vec<u8>) {
        let bytes: Vec<u8> = (0..3 * page())
            .map(|i| (i ^ ((i >> 12) * 101)) as u8)
            .collect();
        let path = std::env::temp_dir().join(format!("friscy-pages-{}-{name}", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        (path, bytes)
    }

    struct Block {
        ptr: *mut u8,
        layout: Layout,
    }

    impl Block {
        fn zeroed(size: usize) -> Block {
            let layout = Layout::from_size_align(size, 1).unwrap();
            // SAFETY: non-zero size.
            let ptr = unsafe { Allocator.alloc_zeroed(layout) };
            assert!(!ptr.is_null());
            Block { ptr, layout }
        }

        fn bytes(&mut self) -> &mut [u8] {
            // SAFETY: `ptr` holds `layout.size()` initialised bytes owned by this block.
            unsafe { std::slice::from_raw_parts_mut(self.ptr, self.layout.size()) }
        }
    }

    impl Drop for Block {
        fn drop(&mut self) {
            // SAFETY: allocated by `Allocator` with this layout.
            unsafe { Allocator.dealloc(self.ptr, self.layout) }
        }
    }

    #[test]
    fn large_blocks_are_page_aligned_and_zeroed_and_keep_their_bytes_when_resized() {
        let mut block = Block::zeroed(OWN_MAPPING);
        assert_eq!(block.ptr as usize % page(), 0);
        assert!(block.bytes().iter().all(|&b| b == 0));
        block.bytes()[..3].copy_from_slice(b"abc");
        let last = OWN_MAPPING - 1;
        block.bytes()[last] = 7;
        // Larger (a mapping moved or grown), then small (back to the system allocator),
        // then large again: the bytes survive every move.
        for size in [3 * OWN_MAPPING, 100, 2 * OWN_MAPPING] {
            // SAFETY: `block` is live with its layout; `size` is non-zero.
            let ptr = unsafe { Allocator.realloc(block.ptr, block.layout, size) };
            assert!(!ptr.is_null());
            block.ptr = ptr;
            block.layout = Layout::from_size_align(size, 1).unwrap();
            assert_eq!(&block.bytes()[..3], b"abc", "after resizing to {size}");
            if size > last {
                assert_eq!(block.bytes()[last], 7 * u8::from(size == 3 * OWN_MAPPING));
            }
        }
        // Vec growth across the threshold goes through the same paths.
        let mut v: Vec<u64> = (0..1000).collect();
        v.extend(1000..1 << 20);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
    }

    #[test]
    fn file_pages_are_mapped_privately_where_they_line_up() {
        let (path, bytes) = three_page_file("map");
        let file = File::open(&path).unwrap();
        let mut block = Block::zeroed(OWN_MAPPING);
        let mut pages = FilePages::new(&file);
        assert!(pages.map(&mut block.bytes()[page()..3 * page()], page() as u64));
        assert_eq!(&block.bytes()[page()..3 * page()], &bytes[page()..]);
        assert!(block.bytes()[..page()].iter().all(|&b| b == 0));
        assert!(block.bytes()[3 * page()..].iter().all(|&b| b == 0));
        // The guest's stores stay in its memory, never in the file.
        block.bytes()[page()..2 * page()].fill(0x55);
        drop(block);
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn pages_that_do_not_line_up_or_fit_are_declined_untouched() {
        let (path, _) = three_page_file("decline");
        let file = File::open(&path).unwrap();
        let mut block = Block::zeroed(OWN_MAPPING);
        let mut pages = FilePages::new(&file);
        let cases: [(std::ops::Range<usize>, u64); 4] = [
            (1..page() + 1, 0),                      // memory not on a host page
            (page()..2 * page(), 100),               // file offset not on a page
            (page()..3 * page(), 2 * page() as u64), // past the end of the file
            (page()..page() + 100, 0),               // not whole pages
        ];
        for (range, offset) in cases {
            assert!(
                !pages.map(&mut block.bytes()[range.clone()], offset),
                "{range:?} {offset}"
            );
        }
        assert!(block.bytes().iter().all(|&b| b == 0));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_failed_mapping_leaves_zeroed_writable_memory() {
        let (path, _) = three_page_file("failed");
        // mmap needs a readable descriptor: this one makes the kernel refuse (EACCES).
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let mut block = Block::zeroed(OWN_MAPPING);
        assert!(!FilePages::new(&file).map(&mut block.bytes()[page()..3 * page()], 0));
        assert!(block.bytes().iter().all(|&b| b == 0));
        block.bytes()[page()..3 * page()].fill(1);
        assert!(block.bytes()[page()..3 * page()].iter().all(|&b| b == 1));
        std::fs::remove_file(&path).unwrap();
    }
}
