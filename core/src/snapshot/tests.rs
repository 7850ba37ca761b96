//! Snapshot, restore, fork and determinism tests over a real guest (testdata/determinism.c).

use std::path::PathBuf;
use std::process::Command;
use std::string::String;
use std::vec::Vec;

use super::*;
use crate::host::{Clock, Host, IoResult, Timespec};
use crate::linux::{ProcessConfig, Target};
use crate::machine::StopReason;
use crate::vfs::test_tar::TarBuilder;
use crate::vfs::{ImageBytes, TarLayer};

/// Memory for the test machines (small, so each test allocates little).
const MEMORY: u64 = 64 << 20;

/// A host whose clock and entropy differ on every call and every run, so that anything
/// leaking into a deterministic guest shows up as a difference between runs.
struct NoisyHost {
    out: Vec<u8>,
    noise: u64,
}

impl NoisyHost {
    fn new() -> NoisyHost {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        NoisyHost {
            out: Vec::new(),
            noise: nanos ^ (&nanos as *const u64 as u64),
        }
    }
    fn next(&mut self) -> u64 {
        self.noise = self
            .noise
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.noise
    }
}

impl Host for NoisyHost {
    fn write(&mut self, _fd: i32, data: &[u8]) -> IoResult {
        self.out.extend_from_slice(data);
        IoResult::Done(data.len())
    }
    fn read(&mut self, _fd: i32, _buf: &mut [u8]) -> IoResult {
        IoResult::Done(0)
    }
    fn now(&mut self, _clock: Clock) -> Option<Timespec> {
        let n = self.next();
        Some(Timespec {
            secs: (n >> 34) as i64,
            nanos: (n % 1_000_000_000) as u32,
        })
    }
    fn sleep(&mut self, _duration: Timespec) {}
    fn entropy(&mut self, buf: &mut [u8]) -> bool {
        for b in buf {
            *b = self.next() as u8;
        }
        true
    }
}

fn guest_elf() -> Vec<u8> {
    static ELF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ELF.get_or_init(compile_guest).clone()
}

fn compile_guest() -> Vec<u8> {
    let source =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/snapshot/testdata/determinism.c");
    let binary =
        std::env::temp_dir().join(std::format!("friscy-snapshot-guest-{}", std::process::id()));
    let status = Command::new("riscv64-linux-gnu-gcc")
        .args(["-O2", "-static", "-Wall", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .expect("riscv64-linux-gnu-gcc is required for the snapshot tests");
    assert!(status.success(), "compiling the snapshot test guest failed");
    let bytes = std::fs::read(&binary).unwrap();
    let _ = std::fs::remove_file(&binary);
    bytes
}

fn rootfs_tar(elf: &[u8], extra: &str) -> Vec<u8> {
    let mut tar = TarBuilder::new();
    tar.dir("bin/")
        .dir("tmp/")
        .file("etc/motd", extra.as_bytes());
    tar.file_with("bin/det", elf, 0o755, 0, 0, 1_600_000_000);
    tar.finish()
}

fn tar_lower(tar: &[u8]) -> Lower {
    Lower::Tar(TarLayer::new(ImageBytes::Owned(tar.into())).unwrap())
}

fn config() -> Config {
    Config {
        memory_size: MEMORY,
        process: ProcessConfig {
            deterministic: true,
            seed: 0x1234_5678,
            ..ProcessConfig::default()
        },
    }
}

fn new_machine(tar: &[u8]) -> Machine {
    let mut m = Machine::new(config()).unwrap();
    m.set_vfs(Vfs::new(tar_lower(tar)));
    m.load_program(b"/bin/det", &[b"det", b"3"], &[b"PATH=/bin"])
        .unwrap();
    m
}

/// Runs to the end in uneven budget slices; returns the exit stop.
fn finish(m: &mut Machine, host: &mut NoisyHost) -> StopReason {
    for _ in 0..10_000 {
        match m.run(host, 777_777) {
            StopReason::BudgetSpent => continue,
            stop => return stop,
        }
    }
    panic!("guest did not finish");
}

/// Runs exactly `instructions` (the guest must still be running then).
fn advance(m: &mut Machine, host: &mut NoisyHost, instructions: u64) {
    assert_eq!(m.run(host, instructions), StopReason::BudgetSpent);
}

struct Reference {
    tar: Vec<u8>,
    output: String,
    final_state: Vec<u8>,
    instret: u64,
}

fn reference() -> Reference {
    let tar = rootfs_tar(&guest_elf(), "one");
    let mut m = new_machine(&tar);
    let mut host = NoisyHost::new();
    assert_eq!(finish(&mut m, &mut host), StopReason::Exited { status: 0 });
    let output = String::from_utf8(host.out).unwrap();
    Reference {
        final_state: m.snapshot(),
        instret: m.cpu.instret,
        tar,
        output,
    }
}

#[test]
fn deterministic_runs_are_identical_whatever_the_host_clock_and_entropy() {
    let r = reference();
    // The guest really did its work: three children raced over the pipe and were reaped.
    for i in 0..3 {
        for step in 0..3 {
            assert!(
                r.output
                    .contains(&std::format!("child {i} step {step} pid")),
                "{}",
                r.output
            );
        }
        assert!(
            r.output.contains(&std::format!("status {}", i + 1)),
            "{}",
            r.output
        );
    }
    assert!(r.output.contains("after unlink exists 0"), "{}", r.output);
    assert!(
        r.output.contains("eventfd 1 timerfd 1 epoll 1"),
        "{}",
        r.output
    );
    assert!(
        r.output
            .contains("eventfd read 8 value 5 timerfd read 8 ticks>0 1"),
        "{}",
        r.output
    );
    // Children ran interleaved (the scheduler switched between them mid-way).
    let first_lines: Vec<&str> = r
        .output
        .lines()
        .filter(|l| l.starts_with("child"))
        .collect();
    assert_ne!(first_lines[0][..7], first_lines[1][..7], "{}", r.output);

    let mut again = new_machine(&r.tar);
    let mut host = NoisyHost::new();
    assert_eq!(
        finish(&mut again, &mut host),
        StopReason::Exited { status: 0 }
    );
    assert_eq!(String::from_utf8(host.out).unwrap(), r.output);
    assert_eq!(again.cpu.instret, r.instret);
    assert_eq!(again.snapshot(), r.final_state);
}

#[test]
fn snapshot_restore_continue_matches_an_uninterrupted_run() {
    let r = reference();
    // Cut points: before the fork, while children run and the pipe holds data, near the end.
    for cut in [
        150_000u64,
        1_300_000,
        2_600_000,
        3_900_000,
        r.instret / 2,
        r.instret - 5_000,
    ] {
        let mut m = new_machine(&r.tar);
        let mut host = NoisyHost::new();
        advance(&mut m, &mut host, cut);
        let bytes = m.snapshot();
        drop(m);
        let mut restored = Machine::restore(&config(), Some(tar_lower(&r.tar)), &bytes).unwrap();
        // Restoring loses nothing: the restored machine snapshots to the same bytes.
        assert_eq!(restored.snapshot(), bytes, "cut at {cut}");
        assert_eq!(
            finish(&mut restored, &mut host),
            StopReason::Exited { status: 0 }
        );
        assert_eq!(
            String::from_utf8(host.out).unwrap(),
            r.output,
            "cut at {cut}"
        );
        assert_eq!(restored.cpu.instret, r.instret, "cut at {cut}");
        assert_eq!(restored.snapshot(), r.final_state, "cut at {cut}");
    }
}

#[test]
fn snapshot_of_a_finished_machine_keeps_its_termination() {
    let r = reference();
    let mut m = Machine::restore(&config(), Some(tar_lower(&r.tar)), &r.final_state).unwrap();
    let mut host = NoisyHost::new();
    assert_eq!(m.run(&mut host, 1000), StopReason::Exited { status: 0 });
    assert!(host.out.is_empty());
}

#[test]
fn fork_gives_independent_machines() {
    let r = reference();
    let mut parent = new_machine(&r.tar);
    let mut host = NoisyHost::new();
    advance(&mut parent, &mut host, 1_300_000);
    let before = host.out.clone();
    let mut child = parent.fork().unwrap();
    assert_eq!(child.snapshot(), parent.snapshot());

    // Memory: a write in the child is not seen by the parent, and the other way round.
    let addr = parent.process.brk_start;
    let original = parent.mem.read_u64(addr).unwrap();
    child.mem.write_u64(addr, 0xc41d).unwrap();
    parent.mem.write_u64(addr + 8, 0xbabe).unwrap();
    assert_eq!(parent.mem.read_u64(addr).unwrap(), original);
    assert_ne!(child.mem.read_u64(addr + 8).unwrap(), 0xbabe);
    child.mem.write_u64(addr, original).unwrap();
    parent
        .mem
        .write_u64(addr + 8, child.mem.read_u64(addr + 8).unwrap())
        .unwrap();

    // Files: a file created in the child's overlay does not exist in the parent's.
    {
        let vfs = child.vfs.as_mut().unwrap();
        let mut cx = crate::vfs::ProcessView::default();
        let root = vfs.root();
        let ino = vfs
            .open(
                &mut cx,
                root,
                b"/tmp/only-in-child",
                crate::vfs::flags::O_CREAT | crate::vfs::flags::O_WRONLY,
                0o644,
            )
            .unwrap();
        vfs.write(&mut cx, ino, 0, b"child").unwrap();
        vfs.close(ino);
    }
    let exists = |m: &mut Machine| m.is_guest_file(b"/tmp/only-in-child");
    assert!(exists(&mut child));
    assert!(!exists(&mut parent));

    // Fds: closing one in the child leaves the parent's open.
    let mut fds = child.process.fds.clone();
    child.files.close(&mut fds, 2).unwrap();
    child.process.fds = fds;
    assert!(child.process.fds.get(2).is_err());
    assert!(parent.process.fds.get(2).is_ok());

    // The parent, untouched by what the child did, finishes exactly like the reference.
    assert_eq!(
        finish(&mut parent, &mut host),
        StopReason::Exited { status: 0 }
    );
    assert_eq!(String::from_utf8(host.out).unwrap(), r.output);
    assert_eq!(parent.snapshot(), r.final_state);

    // The child runs on its own too (without stderr it prints the same stdout).
    let mut child_host = NoisyHost::new();
    child_host.out = before;
    assert_eq!(
        finish(&mut child, &mut child_host),
        StopReason::Exited { status: 0 }
    );
    assert_eq!(String::from_utf8(child_host.out).unwrap(), r.output);
    assert!(exists(&mut child));
}

#[test]
fn bad_snapshots_are_refused_with_a_reason() {
    let r = reference();
    let mut m = new_machine(&r.tar);
    let mut host = NoisyHost::new();
    advance(&mut m, &mut host, 1_300_000);
    let good = m.snapshot();
    let restore =
        |bytes: &[u8]| Machine::restore(&config(), Some(tar_lower(&r.tar)), bytes).map(|_| ());
    assert_eq!(restore(&good), Ok(()));

    assert_eq!(restore(b""), Err(SnapshotError::Truncated));
    assert_eq!(
        restore(b"\x7fELF\x02\x01\x01\0\0\0\0\0"),
        Err(SnapshotError::NotASnapshot)
    );
    let mut other_version = good.clone();
    let unsupported = FORMAT_VERSION + 1;
    other_version[8..12].copy_from_slice(&unsupported.to_le_bytes());
    assert_eq!(
        restore(&other_version),
        Err(SnapshotError::UnsupportedVersion { found: unsupported })
    );
    // Truncated anywhere: header or payload.
    for len in (0..good.len())
        .step_by(good.len() / 97 + 1)
        .chain([HEADER_LEN - 1, good.len() - 1])
    {
        assert_eq!(
            restore(&good[..len]),
            Err(SnapshotError::Truncated),
            "length {len}"
        );
    }
    // One flipped bit in the payload.
    for at in [HEADER_LEN, HEADER_LEN + 100, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x10;
        assert_eq!(
            restore(&bad),
            Err(SnapshotError::ChecksumMismatch),
            "byte {at}"
        );
    }
    // A process state no machine makes: an mmap window off the page grid (mmap would place
    // regions on it that no snapshot can hold; a fuzzer found one) or upside down.
    for (min_shift, max_shift) in [(0, 0x60), (8, 0), (1 << 40, 0)] {
        let (min, max) = (m.process.mmap_min, m.process.mmap_max);
        m.process.mmap_min = min + min_shift;
        m.process.mmap_max = max + max_shift;
        let bad = m.snapshot();
        (m.process.mmap_min, m.process.mmap_max) = (min, max);
        assert_eq!(
            restore(&bad),
            Err(SnapshotError::Corrupt("mmap window unaligned or inverted")),
            "{min_shift:#x} {max_shift:#x}"
        );
    }
    assert_eq!(restore(&m.snapshot()), Ok(()));
    // Another configuration or image.
    let small = Config {
        memory_size: MEMORY / 2,
        ..config()
    };
    assert_eq!(
        Machine::restore(&small, Some(tar_lower(&r.tar)), &good).map(|_| ()),
        Err(SnapshotError::MemorySizeMismatch {
            snapshot: MEMORY,
            config: MEMORY / 2
        })
    );
    let other_tar = rootfs_tar(&guest_elf(), "two");
    assert_eq!(
        Machine::restore(&config(), Some(tar_lower(&other_tar)), &good).map(|_| ()),
        Err(SnapshotError::RootfsMismatch)
    );
    assert_eq!(
        Machine::restore(&config(), None, &good).map(|_| ()),
        Err(SnapshotError::RootfsMismatch)
    );
    assert_eq!(
        Machine::restore(&config(), Some(Lower::Empty), &good).map(|_| ()),
        Err(SnapshotError::RootfsMismatch)
    );
}

#[test]
fn resealed_garbage_payloads_are_refused_without_panicking() {
    let r = reference();
    let mut m = new_machine(&r.tar);
    let mut host = NoisyHost::new();
    advance(&mut m, &mut host, 1_300_000);
    let good = m.snapshot();
    // Flip bytes across the payload and fix the checksum up, so the decoder itself sees them.
    let mut seed = 0x9e37_79b9u64;
    let mut refused = 0;
    for i in 0..200 {
        let mut bad = good.clone();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Most flips land in the first part (registers, process, files, VFS), not page data.
        let span = if i % 2 == 0 {
            40_000.min(good.len() - HEADER_LEN)
        } else {
            good.len() - HEADER_LEN
        };
        let at = HEADER_LEN + (seed >> 33) as usize % span;
        bad[at] ^= 1 << (seed % 8);
        reseal(&mut bad);
        if Machine::restore(&config(), Some(tar_lower(&r.tar)), &bad).is_err() {
            refused += 1;
        }
    }
    // Many flips hit free-form data (register values, page bytes) and still restore.
    assert!(refused > 0);
}

#[test]
fn snapshot_without_vfs_restores_without_a_lower_layer() {
    let elf = guest_elf();
    let mut m = Machine::new(config()).unwrap();
    m.load_elf(&elf, &[b"det", b"0"], &[]).unwrap();
    let mut host = NoisyHost::new();
    advance(&mut m, &mut host, 20_000);
    let bytes = m.snapshot();
    let restored = Machine::restore(&config(), None, &bytes).unwrap();
    assert_eq!(restored.snapshot(), bytes);
    // The restored machine, a fork and the original all finish alike (without a file
    // system the guest finds no /dev/urandom and no /tmp, and says so).
    let mut a = restored;
    let mut b = m.fork().unwrap();
    let (mut ha, mut hb) = (NoisyHost::new(), NoisyHost::new());
    assert_eq!(finish(&mut a, &mut ha), StopReason::Exited { status: 0 });
    assert_eq!(finish(&mut b, &mut hb), StopReason::Exited { status: 0 });
    assert_eq!(finish(&mut m, &mut host), StopReason::Exited { status: 0 });
    assert_eq!(ha.out, hb.out);
    assert!(host.out.ends_with(&ha.out));
    let text = String::from_utf8(ha.out).unwrap();
    assert!(text.contains("urandom again read -1"), "{text}");
    assert_eq!(a.snapshot(), m.snapshot());
}

#[test]
fn tar_identity_tells_images_apart() {
    let a = tar_lower(&rootfs_tar(b"\x7fELF", "same")).identity();
    let b = tar_lower(&rootfs_tar(b"\x7fELF", "same")).identity();
    let c = tar_lower(&rootfs_tar(b"\x7fELF", "diff")).identity();
    assert_eq!(a, b);
    assert_eq!(a.kind, 2);
    assert_ne!(a, c);
}

/// Regenerates the `snapshot` fuzz target's seeds: snapshots of the `elf` seeds (1 MiB of
/// memory, an empty VFS with a file, a directory, a symlink and a pipe holding data) at
/// several points of their runs.
#[test]
#[ignore = "writes fuzz seeds: FRISCY_WRITE_SEEDS=1 cargo test -p friscy-core write_snapshot_fuzz_seeds -- --ignored"]
fn write_snapshot_fuzz_seeds() {
    if std::env::var_os("FRISCY_WRITE_SEEDS").is_none() {
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let out = root.join("snapshot");
    std::fs::create_dir_all(&out).unwrap();
    let config = Config {
        memory_size: 1 << 20,
        ..Config::default()
    };
    for name in ["hello", "hello-pie", "memory", "syscalls", "selfmod"] {
        let elf = std::fs::read(root.join("elf").join(name)).unwrap();
        for (i, budget) in [0u64, 200, 5_000].into_iter().enumerate() {
            let mut m = Machine::new(config.clone()).unwrap();
            let mut vfs = Vfs::empty();
            let mut cx = crate::vfs::ProcessView::default();
            let root_ino = vfs.root();
            use crate::vfs::flags::*;
            let ino = vfs
                .open(&mut cx, root_ino, b"/tmp/f", O_CREAT | O_RDWR, 0o644)
                .unwrap();
            vfs.write(&mut cx, ino, 0, b"file data").unwrap();
            vfs.close(ino);
            m.set_vfs(vfs);
            m.load_elf(&elf, &[name.as_bytes()], &[b"A=1"]).unwrap();
            let (_read, write) = m.files.pipe(&mut m.process.fds, 0).unwrap();
            let pipe_file = m.files.file(&m.process.fds, write).unwrap();
            if let Target::PipeWrite(id) = pipe_file.target {
                m.files.pipes[id].as_mut().unwrap().buf.extend(b"queued");
            }
            let mut host = NoisyHost::new();
            let _ = m.run(&mut host, budget);
            std::fs::write(out.join(std::format!("{name}-{i}")), m.snapshot()).unwrap();
        }
    }
}
