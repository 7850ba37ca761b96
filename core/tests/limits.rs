//! Resource limits from `ProcessConfig` (memory, open files, processes) as a real static C guest sees them.
//!
//! `tests/guests/limits.c` probes each limit until the system call fails and prints what it
//! found; the expected numbers come from the configured limits, not from libfriscy.

use std::path::PathBuf;
use std::process::Command;

use friscy_core::linux::ProcessConfig;
use friscy_core::{Config, Host, IoResult, Machine, StopReason};

const ENOMEM: i64 = 12;
const EMFILE: i64 = 24;
const EBADF: i64 = 9;
const EAGAIN: i64 = 11;
const MIB: i64 = 1 << 20;

#[derive(Default)]
struct Capture(Vec<u8>);

impl Host for Capture {
    fn write(&mut self, _fd: i32, data: &[u8]) -> IoResult {
        self.0.extend_from_slice(data);
        IoResult::Done(data.len())
    }
}

fn run_probe(process: ProcessConfig) -> Vec<(String, Vec<i64>)> {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/guests/limits.c");
    let binary = std::env::temp_dir().join(format!(
        "friscy-limits-guest-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let status = Command::new("riscv64-linux-gnu-gcc")
        .args(["-O2", "-static", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .expect("riscv64-linux-gnu-gcc is required for the limits tests");
    assert!(status.success());
    let elf = std::fs::read(&binary).unwrap();
    let _ = std::fs::remove_file(&binary);
    let mut m = Machine::new(Config {
        memory_size: 512 << 20,
        process,
    })
    .unwrap();
    m.load_elf(&elf, &[b"limits"], &[]).unwrap();
    let mut out = Capture::default();
    assert_eq!(
        m.run(&mut out, 2_000_000_000),
        StopReason::Exited { status: 0 }
    );
    String::from_utf8(out.0)
        .unwrap()
        .lines()
        .map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next().unwrap().to_string();
            let values = words.filter_map(|w| w.parse().ok()).collect();
            (name, values)
        })
        .collect()
}

fn value(lines: &[(String, Vec<i64>)], name: &str) -> Vec<i64> {
    lines
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no {name} line in {lines:?}"))
        .1
        .clone()
}

#[test]
fn configured_limits_are_enforced_and_visible() {
    let limit = 16 * MIB;
    let lines = run_probe(ProcessConfig {
        memory_limit: limit as u64,
        max_open_files: 10,
        max_processes: 3,
        ..ProcessConfig::default()
    });
    assert_eq!(value(&lines, "nofile"), [10, 10]);
    assert_eq!(value(&lines, "nproc"), [3]);
    assert_eq!(value(&lines, "data"), [limit]);
    // fds 0..2 are open: 3..9 remain below the limit of 10.
    assert_eq!(value(&lines, "dups"), [7, EMFILE]);
    assert_eq!(value(&lines, "dup2"), [-1, EBADF]);
    // 1 MiB mappings until ENOMEM: never past the limit, and the C runtime's own heap
    // (stdio buffers) is all that may be missing from it.
    let maps = value(&lines, "maps");
    assert_eq!(maps[1], ENOMEM);
    assert!(
        maps[0] * MIB <= limit && maps[0] >= limit / MIB - 1,
        "{maps:?}"
    );
    assert_eq!(value(&lines, "sbrk_fails"), [1, ENOMEM]);
    // The first process and two children (zombies until waited for) make three.
    assert_eq!(value(&lines, "forks"), [2, EAGAIN]);
}

#[test]
fn defaults_match_the_documented_values() {
    let lines = run_probe(ProcessConfig::default());
    assert_eq!(value(&lines, "nofile"), [256, 256]);
    assert_eq!(value(&lines, "nproc"), [64]);
    assert_eq!(value(&lines, "data"), [-1], "RLIM_INFINITY");
    assert_eq!(value(&lines, "dups"), [253, EMFILE]);
    // Without a memory limit the probe's own bound (256 MiB) ends the loop.
    assert_eq!(value(&lines, "maps")[0], 256);
    assert_eq!(value(&lines, "forks")[0], 63);
}
