//! Resource limits of a guest process: the memory limit on heap plus mmap'd bytes.

use super::Process;
use crate::mem::PAGE_SIZE;

impl Process {
    /// Bytes of heap (page-rounded brk extent) and mmap'd regions the process holds.
    pub fn memory_in_use(&self) -> u64 {
        let heap_end = self.brk.saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        let heap = heap_end.saturating_sub(self.brk_start);
        self.maps
            .iter()
            .fold(heap, |sum, r| sum.saturating_add(r.end - r.start))
    }

    /// Whether `extra` more bytes of heap or mappings stay within `config.memory_limit`.
    pub fn may_grow(&self, extra: u64) -> bool {
        let limit = self.config.memory_limit;
        limit == 0 || self.memory_in_use().saturating_add(extra) <= limit
    }
}
