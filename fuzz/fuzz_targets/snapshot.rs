//! Fuzz target: machine snapshots — arbitrary and mutated bytes fed to `Machine::restore`, as they are and with the checksum fixed up.
//!
//! Input: snapshot bytes (the seeds are real snapshots of small machines with an empty VFS
//! and `MEMORY_SIZE` bytes of memory). Each input is restored twice: as given (almost
//! always refused by the header or checksum check) and resealed with a correct checksum, so
//! mutations reach the decoders. Checks: no panic, no hang; a snapshot that restores runs
//! 20k instructions without a panic, and snapshotting it again restores to the same bytes.
#![no_main]

use friscy_core::snapshot::{reseal, SnapshotHeader};
use friscy_core::vfs::Lower;
use friscy_core::{Config, Machine, NullHost};
use friscy_fuzz::MEMORY_SIZE;
use libfuzzer_sys::fuzz_target;

fn config() -> Config {
    Config {
        memory_size: MEMORY_SIZE,
        ..Config::default()
    }
}

/// The lower layer a snapshot asks for, if this target can give it (empty VFS or none).
fn lower_for(bytes: &[u8]) -> Option<Lower> {
    match SnapshotHeader::parse(bytes).map(|h| h.lower.kind) {
        Ok(0) => None,
        _ => Some(Lower::Empty),
    }
}

fn check(bytes: &[u8]) {
    let Ok(mut machine) = Machine::restore(&config(), lower_for(bytes), bytes) else {
        return;
    };
    let _ = machine.run(&mut NullHost, 20_000);
    let again = machine.snapshot();
    let restored = Machine::restore(&config(), lower_for(&again), &again)
        .unwrap_or_else(|e| panic!("a machine's own snapshot is refused: {e}"));
    assert!(
        restored.snapshot() == again,
        "restoring a snapshot and snapshotting again changed the bytes"
    );
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut sealed = data.to_vec();
    reseal(&mut sealed);
    check(&sealed);
});
