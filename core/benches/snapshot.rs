//! Snapshot benchmark: busybox `sh` from the test rootfs waiting at its prompt is snapshotted, restored and forked; prints medians.
//!
//! Run with `cargo bench -p friscy-core --bench snapshot`. The rootfs tar comes from
//! `FRISCY_ROOTFS=OUTDIR` (the OUTDIR of scripts/debian-rootfs.sh, holding rootfs.tar), else
//! `build/rootfs/rootfs.tar` of the workspace; without one the benchmark says so and exits.
//! Each restored or forked shell is checked to still work: it runs `echo` and exits.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use friscy_core::host::{Host, IoResult};
use friscy_core::vfs::{ImageBytes, Lower, TarLayer, Vfs};
use friscy_core::{Config, Machine, StopReason};

/// A terminal-like host: stdin is whatever was queued (pending when empty), output is kept.
#[derive(Default)]
struct Console {
    input: Vec<u8>,
    output: Vec<u8>,
}

impl Host for Console {
    fn write(&mut self, _fd: i32, data: &[u8]) -> IoResult {
        self.output.extend_from_slice(data);
        IoResult::Done(data.len())
    }
    fn read(&mut self, _fd: i32, buf: &mut [u8]) -> IoResult {
        if self.input.is_empty() {
            return IoResult::Pending;
        }
        let n = buf.len().min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input.drain(..n);
        IoResult::Done(n)
    }
    fn is_terminal(&mut self, fd: i32) -> bool {
        (0..3).contains(&fd)
    }
}

fn median(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    (
        samples[samples.len() / 2],
        samples[0],
        samples[samples.len() - 1],
    )
}

fn report(name: &str, samples: Vec<Duration>) {
    let (mid, lo, hi) = median(samples);
    println!(
        "{name:<44} {:>9.3} ms   (min {:.3} .. max {:.3} ms)",
        mid.as_secs_f64() * 1e3,
        lo.as_secs_f64() * 1e3,
        hi.as_secs_f64() * 1e3
    );
}

/// Checks that `m` is a live shell at its prompt: it must echo and exit.
fn check_shell(m: &mut Machine) {
    let mut console = Console {
        input: b"echo restored-ok; exit 7\n".to_vec(),
        ..Console::default()
    };
    let stop = m.run(&mut console, 50_000_000);
    let text = String::from_utf8_lossy(&console.output);
    assert_eq!(stop, StopReason::Exited { status: 7 }, "{text}");
    assert!(text.contains("restored-ok"), "{text}");
}

fn main() {
    let tar_path = std::env::var_os("FRISCY_ROOTFS")
        .map(|d| PathBuf::from(d).join("rootfs.tar"))
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build/rootfs/rootfs.tar")
        });
    let Ok(tar) = std::fs::read(&tar_path) else {
        println!(
            "no rootfs at {} (set FRISCY_ROOTFS): skipped",
            tar_path.display()
        );
        return;
    };
    let tar: &'static [u8] = Box::leak(tar.into_boxed_slice());
    let config = Config::default();

    let t = Instant::now();
    let layer = TarLayer::new(ImageBytes::Static(tar)).expect("rootfs tar");
    let index_time = t.elapsed();
    let lower = Lower::Tar(layer);

    let mut m = Machine::new(config.clone()).unwrap();
    m.set_vfs(Vfs::new(lower.share().unwrap()));
    let env: [&[u8]; 3] = [b"PATH=/usr/bin:/bin", b"HOME=/root", b"TERM=dumb"];
    m.load_program(b"/bin/sh", &[b"sh"], &env).unwrap();
    let mut console = Console::default();
    let stop = m.run(&mut console, 100_000_000);
    assert_eq!(
        stop,
        StopReason::Pending { fd: 0 },
        "the shell should wait for input"
    );
    let prompt = String::from_utf8_lossy(&console.output).into_owned();

    let bytes = m.snapshot();
    println!(
        "busybox sh at its prompt {prompt:?} after {} instructions; guest memory {} MiB; rootfs tar {} MiB",
        m.cpu.instret,
        config.memory_size >> 20,
        tar.len() >> 20
    );
    println!("snapshot size: {} KiB", bytes.len() >> 10);
    println!(
        "{:<44} {:>9.3} ms",
        "index the rootfs tar (once per image)",
        index_time.as_secs_f64() * 1e3
    );

    const SAMPLES: usize = 31;
    let time = |f: &mut dyn FnMut()| {
        f();
        (0..SAMPLES)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect::<Vec<_>>()
    };
    report(
        "snapshot",
        time(&mut || {
            std::hint::black_box(m.snapshot());
        }),
    );
    // Restore alone: the machine is dropped (its memory unmapped) outside the timing.
    let restore_only: Vec<Duration> = (0..SAMPLES)
        .map(|_| {
            let t = Instant::now();
            let r = Machine::restore(&config, lower.share(), &bytes).unwrap();
            let elapsed = t.elapsed();
            drop(std::hint::black_box(r));
            elapsed
        })
        .collect();
    report(
        "restore (lower layer shared, already indexed)",
        restore_only,
    );
    report(
        "restore + drop",
        time(&mut || {
            let r = Machine::restore(&config, lower.share(), &bytes).unwrap();
            std::hint::black_box(&r);
        }),
    );
    report(
        "restore + index the tar again",
        time(&mut || {
            let layer = TarLayer::new(ImageBytes::Static(tar)).unwrap();
            let r = Machine::restore(&config, Some(Lower::Tar(layer)), &bytes).unwrap();
            std::hint::black_box(&r);
        }),
    );
    report(
        "fork",
        time(&mut || {
            std::hint::black_box(m.fork().unwrap());
        }),
    );
    report(
        "restore + run `echo; exit` to the end",
        time(&mut || {
            let mut r = Machine::restore(&config, lower.share(), &bytes).unwrap();
            check_shell(&mut r);
        }),
    );
    let mut restored = Machine::restore(&config, lower.share(), &bytes).unwrap();
    check_shell(&mut restored);
    let mut forked = m.fork().unwrap();
    check_shell(&mut forked);
    println!("restored and forked shells echo and exit correctly");
}
