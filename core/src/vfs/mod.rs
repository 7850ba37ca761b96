//! The file system a guest sees: a read-only rootfs (tar or host directory) under a writable overlay, plus /dev and /proc.

pub mod tar;
#[cfg(test)]
pub(crate) mod test_tar;

/// Longest path Linux accepts, counting the terminating NUL.
pub const PATH_MAX: usize = 4096;
/// Longest file name component.
pub const NAME_MAX: usize = 255;
