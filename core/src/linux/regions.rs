//! Sorted, non-overlapping list of the guest's mmap'd page ranges, with first-fit placement.
//!
//! Bounded capacity (held inline when there is no allocator); adjacent ranges with the same
//! protection merge, so the list stays short for real programs.

/// Maximum number of distinct mappings.
pub const MAX_REGIONS: usize = 1024;

/// With an allocator the list lives on the heap: inline it is 24 KiB of the `Machine`'s
/// 42 KiB, copied whenever a machine or process moves and stack-probed page by page in every
/// frame that holds one (13 of a static hello world's page faults were those stack pages).
#[cfg(feature = "alloc")]
type List = alloc::vec::Vec<Region>;
#[cfg(not(feature = "alloc"))]
type List = heapless::Vec<Region, MAX_REGIONS>;

/// Append `region` unless the list is full.
fn push(list: &mut List, region: Region) -> Result<(), ()> {
    insert_at(list, list.len(), region)
}

/// Insert `region` at `pos` unless the list is full.
fn insert_at(list: &mut List, pos: usize, region: Region) -> Result<(), ()> {
    if list.len() >= MAX_REGIONS {
        return Err(());
    }
    #[cfg(feature = "alloc")]
    list.insert(pos, region);
    #[cfg(not(feature = "alloc"))]
    list.insert(pos, region).map_err(|_| ())?;
    Ok(())
}

/// One mapped range `start..end` (page-aligned) with its PROT_* bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub start: u64,
    pub end: u64,
    pub prot: u8,
}

#[derive(Clone, Debug, Default)]
pub struct Regions {
    pub(crate) list: List,
}

impl Regions {
    pub fn new() -> Regions {
        Regions::default()
    }

    /// Append a range that starts at or above every range in the list (restoring a sorted
    /// list, as snapshots do); fails when the list is full.
    #[cfg(feature = "alloc")]
    pub(crate) fn push_last(&mut self, region: Region) -> Result<(), ()> {
        push(&mut self.list, region)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Region> {
        self.list.iter()
    }

    /// Whether any byte of `start..start+len` is mapped.
    pub fn overlaps(&self, start: u64, len: u64) -> bool {
        let end = start.saturating_add(len);
        self.list.iter().any(|r| r.start < end && start < r.end)
    }

    /// Whether every byte of `start..start+len` is mapped.
    pub fn covers(&self, start: u64, len: u64) -> bool {
        let end = start.saturating_add(len);
        let mut at = start;
        for r in self.list.iter() {
            if r.end <= at {
                continue;
            }
            if r.start > at {
                return false;
            }
            at = r.end;
            if at >= end {
                return true;
            }
        }
        at >= end
    }

    pub fn prot_at(&self, addr: u64) -> Option<u8> {
        self.list
            .iter()
            .find(|r| r.start <= addr && addr < r.end)
            .map(|r| r.prot)
    }

    /// The mapped parts of `start..start+len`.
    pub fn intersections(&self, start: u64, len: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        let end = start.saturating_add(len);
        self.list
            .iter()
            .filter(move |r| r.start < end && start < r.end)
            .map(move |r| (r.start.max(start), r.end.min(end)))
    }

    /// Highest gap of `len` bytes inside `floor..ceiling` (top-down, as Linux places mmaps).
    pub fn find_gap(&self, floor: u64, ceiling: u64, len: u64) -> Option<u64> {
        let mut top = ceiling;
        for r in self.list.iter().rev() {
            if r.start >= top {
                top = top.min(r.start);
                continue;
            }
            if r.end <= top && top - r.end >= len && top - len >= floor {
                return Some(top - len);
            }
            top = top.min(r.start);
        }
        if top >= floor && top - floor >= len {
            Some(top - len)
        } else {
            None
        }
    }

    /// Unmap `start..start+len` (splitting ranges as needed). Returns false only when a
    /// split would exceed the capacity (the list is left unchanged then).
    pub fn remove(&mut self, start: u64, len: u64) -> bool {
        let end = start.saturating_add(len);
        let mut out = List::new();
        for r in self.list.iter() {
            if r.end <= start || r.start >= end {
                if push(&mut out, *r).is_err() {
                    return false;
                }
                continue;
            }
            if r.start < start
                && push(
                    &mut out,
                    Region {
                        start: r.start,
                        end: start,
                        prot: r.prot,
                    },
                )
                .is_err()
            {
                return false;
            }
            if r.end > end
                && push(
                    &mut out,
                    Region {
                        start: end,
                        end: r.end,
                        prot: r.prot,
                    },
                )
                .is_err()
            {
                return false;
            }
        }
        self.list = out;
        true
    }

    /// Map `start..start+len` (replacing what was there). Returns false if out of slots.
    pub fn insert(&mut self, start: u64, len: u64, prot: u8) -> bool {
        let saved = self.list.clone();
        if !self.remove(start, len) {
            return false;
        }
        let end = start + len;
        let pos = self
            .list
            .iter()
            .position(|r| r.start > start)
            .unwrap_or(self.list.len());
        if insert_at(&mut self.list, pos, Region { start, end, prot }).is_err() {
            self.list = saved;
            return false;
        }
        // Merge with neighbours of the same protection.
        if pos + 1 < self.list.len() {
            let (a, b) = (self.list[pos], self.list[pos + 1]);
            if a.end == b.start && a.prot == b.prot {
                self.list[pos].end = b.end;
                self.list.remove(pos + 1);
            }
        }
        if pos > 0 {
            let (a, b) = (self.list[pos - 1], self.list[pos]);
            if a.end == b.start && a.prot == b.prot {
                self.list[pos - 1].end = b.end;
                self.list.remove(pos);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_found_top_down_and_reused() {
        let mut r = Regions::new();
        let a = r.find_gap(0x1000, 0x10000, 0x2000).unwrap();
        assert_eq!(a, 0xe000);
        assert!(r.insert(a, 0x2000, 3));
        let b = r.find_gap(0x1000, 0x10000, 0x1000).unwrap();
        assert_eq!(b, 0xd000);
        assert!(r.insert(b, 0x1000, 3));
        assert_eq!(r.iter().count(), 1, "adjacent same-prot ranges merge");
        assert!(r.remove(0xe000, 0x1000));
        assert_eq!(r.iter().count(), 2);
        assert_eq!(r.find_gap(0x1000, 0x10000, 0x1000), Some(0xe000));
        assert!(r.covers(0xd000, 0x1000));
        assert!(!r.covers(0xd000, 0x2000));
        assert!(r.overlaps(0xc000, 0x2000));
        assert_eq!(r.find_gap(0x1000, 0x10000, 0x10000), None);
    }

    #[test]
    fn capacity_is_enforced_and_a_refused_change_leaves_the_list_as_it_was() {
        // Every other page mapped: MAX_REGIONS ranges that cannot merge.
        let mut r = Regions::new();
        for i in 0..MAX_REGIONS as u64 {
            assert!(r.insert(0x10_0000 + i * 0x2000, 0x1000, 3), "range {i}");
        }
        assert_eq!(r.iter().count(), MAX_REGIONS);
        let full = r.list.clone();
        // A new range and a split both need one more slot.
        assert!(!r.insert(0x1000, 0x1000, 3));
        assert!(!r.remove(0x10_0000 + 512 * 0x2000 + 0x400, 0x200));
        assert!(r.list == full);
        // Replacing a range fits; so does a range that merges once a slot is free.
        assert!(r.insert(0x10_0000, 0x1000, 1));
        assert_eq!(r.prot_at(0x10_0000), Some(1));
        assert!(r.remove(0x10_4000, 0x1000));
        assert_eq!(r.iter().count(), MAX_REGIONS - 1);
        assert!(r.insert(0x10_1000, 0x1000, 3));
        assert_eq!(
            r.iter().count(),
            MAX_REGIONS - 1,
            "merged with the range above"
        );
        assert!(r.insert(0x1000, 0x1000, 3));
        assert_eq!(r.iter().count(), MAX_REGIONS);
    }
}
