//! `friscy`: run a RISC-V 64 Linux program under libfriscy from the command line.

use std::ffi::OsString;
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::mem::ManuallyDrop;
use std::net::{TcpListener, TcpStream};
use std::os::fd::FromRawFd;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use friscy_core::gdb::{Buffered, SessionEnd, StreamError, Transport};
use friscy_core::host::errno;
use friscy_core::vfs::{ImageBytes, Vfs};
use friscy_core::{Clock, Config, Host, IoResult, Machine, StopReason, SyscallRecord, Timespec};

mod pages;

use pages::FilePages;

#[global_allocator]
static ALLOCATOR: pages::Allocator = pages::Allocator;

const USAGE: &str = "usage: friscy run [--rootfs PATH] [-e KEY=VALUE]... [-w DIR] [--strace] [--memory MIB] [--slice N] [--gdb PORT] [--] PROGRAM [ARG]...";
const DEFAULT_ENV: [&str; 2] = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/root",
];

struct Options {
    rootfs: Option<OsString>,
    env: Vec<Vec<u8>>,
    workdir: Vec<u8>,
    strace: bool,
    memory_mib: u64,
    /// Instructions per `run` call (results must not depend on it; tests vary it).
    slice: u64,
    /// Serve a gdb remote session on this 127.0.0.1 port before running (0: any free port).
    gdb_port: Option<u16>,
    program: OsString,
    args: Vec<OsString>,
}

fn parse_args(mut args: impl Iterator<Item = OsString>) -> Result<Options, String> {
    match args.next() {
        Some(cmd) if cmd == "run" => {}
        Some(cmd) if cmd == "--help" || cmd == "-h" => return Err(USAGE.into()),
        Some(cmd) => {
            return Err(format!(
                "unknown command '{}'\n{USAGE}",
                cmd.to_string_lossy()
            ))
        }
        None => return Err(USAGE.into()),
    }
    let mut opts = Options {
        rootfs: None,
        env: Vec::new(),
        workdir: b"/".to_vec(),
        strace: false,
        memory_mib: 1024,
        slice: u64::MAX,
        gdb_port: None,
        program: OsString::new(),
        args: Vec::new(),
    };
    let value = |args: &mut dyn Iterator<Item = OsString>, flag: &str| {
        args.next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
    };
    loop {
        let Some(arg) = args.next() else {
            return Err(format!("missing PROGRAM\n{USAGE}"));
        };
        match arg.as_bytes() {
            b"--" => {
                opts.program = args
                    .next()
                    .ok_or_else(|| format!("missing PROGRAM\n{USAGE}"))?;
                break;
            }
            b"--rootfs" => opts.rootfs = Some(value(&mut args, "--rootfs")?),
            b"-e" | b"--env" => {
                let kv = value(&mut args, "-e")?;
                if !kv.as_bytes().contains(&b'=') {
                    return Err(format!(
                        "-e expects KEY=VALUE, got '{}'",
                        kv.to_string_lossy()
                    ));
                }
                opts.env.push(kv.as_bytes().to_vec());
            }
            b"-w" | b"--workdir" => {
                let dir = value(&mut args, "-w")?;
                if !dir.as_bytes().starts_with(b"/") {
                    return Err("-w expects an absolute guest path".into());
                }
                opts.workdir = dir.as_bytes().to_vec();
            }
            b"--strace" => opts.strace = true,
            b"--slice" => {
                let v = value(&mut args, "--slice")?;
                opts.slice = v
                    .to_str()
                    .and_then(|s| s.parse().ok())
                    .filter(|&n: &u64| n > 0)
                    .ok_or_else(|| "--slice expects a positive instruction count".to_string())?;
            }
            b"--gdb" => {
                let v = value(&mut args, "--gdb")?;
                opts.gdb_port = Some(
                    v.to_str()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| "--gdb expects a TCP port number (0..65535)".to_string())?,
                );
            }
            b"--memory" => {
                let v = value(&mut args, "--memory")?;
                opts.memory_mib = v
                    .to_str()
                    .and_then(|s| s.parse().ok())
                    .filter(|&m: &u64| (1..=65536).contains(&m))
                    .ok_or_else(|| "--memory expects a size in MiB (1..65536)".to_string())?;
            }
            s if s.starts_with(b"-") && s.len() > 1 => {
                return Err(format!(
                    "unknown option '{}'\n{USAGE}",
                    arg.to_string_lossy()
                ))
            }
            _ => {
                opts.program = arg;
                break;
            }
        }
    }
    opts.args = args.collect();
    if opts.env.is_empty() {
        opts.env = DEFAULT_ENV.iter().map(|s| s.as_bytes().to_vec()).collect();
    }
    Ok(opts)
}

/// Guest console on the process's own stdin/stdout/stderr, host clocks and entropy.
struct ProcessHost {
    stdin: ManuallyDrop<File>,
    stdout: ManuallyDrop<File>,
    stderr: ManuallyDrop<File>,
    started: Instant,
    urandom: Option<File>,
}

impl ProcessHost {
    fn new() -> ProcessHost {
        // SAFETY: fds 0-2 are open for the life of the process; ManuallyDrop keeps them open.
        let file = |fd| ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
        ProcessHost {
            stdin: file(0),
            stdout: file(1),
            stderr: file(2),
            started: Instant::now(),
            urandom: File::open("/dev/urandom").ok(),
        }
    }
}

fn io_error(e: std::io::Error) -> IoResult {
    IoResult::Error(e.raw_os_error().unwrap_or(errno::EIO))
}

impl Host for ProcessHost {
    fn write(&mut self, fd: i32, data: &[u8]) -> IoResult {
        let out = if fd == 2 {
            &mut self.stderr
        } else {
            &mut self.stdout
        };
        match out.write(data) {
            Ok(n) => IoResult::Done(n),
            Err(e) => io_error(e),
        }
    }

    fn read(&mut self, _fd: i32, buf: &mut [u8]) -> IoResult {
        loop {
            match self.stdin.read(buf) {
                Ok(n) => return IoResult::Done(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return io_error(e),
            }
        }
    }

    fn now(&mut self, clock: Clock) -> Option<Timespec> {
        let d = match clock {
            Clock::Realtime => SystemTime::now().duration_since(UNIX_EPOCH).ok()?,
            Clock::Monotonic => self.started.elapsed(),
        };
        Some(Timespec {
            secs: d.as_secs() as i64,
            nanos: d.subsec_nanos(),
        })
    }

    fn sleep(&mut self, duration: Timespec) {
        let d = std::time::Duration::new(duration.secs.max(0) as u64, duration.nanos);
        std::thread::sleep(d);
    }

    fn entropy(&mut self, buf: &mut [u8]) -> bool {
        self.urandom
            .as_mut()
            .is_some_and(|f| f.read_exact(buf).is_ok())
    }

    fn is_terminal(&mut self, fd: i32) -> bool {
        match fd {
            0 => self.stdin.is_terminal(),
            1 => self.stdout.is_terminal(),
            2 => self.stderr.is_terminal(),
            _ => false,
        }
    }

    fn trace_syscall(&mut self, r: &SyscallRecord) {
        let name = friscy_core::linux::syscall_name(r.number).unwrap_or("?");
        let a = r.args;
        let note = if r.known { "" } else { " (not implemented)" };
        let _ = writeln!(
            self.stderr,
            "[friscy] {name}#{}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}) = {}{note}",
            r.number, a[0], a[1], a[2], a[3], a[4], a[5], r.result
        );
    }
}

/// A file's bytes, mapped when it can be: reading a file into fresh memory costs a page fault
/// per 4 KiB (a quarter of a static hello world's page faults), a private read-only mapping
/// of the page cache a handful. Falls back to reading (empty files, file systems without
/// mmap).
fn file_bytes(file: &File) -> std::io::Result<ImageBytes> {
    // SAFETY: the mapping is private and read-only. Its contents change if another process
    // writes the file while it is mapped, and touching a page past the end of a file
    // truncated meanwhile raises SIGBUS; the CLI accepts both (it owns neither the guest's
    // program nor its rootfs), as mapping programs to run them does generally.
    if let Ok(map) = unsafe { memmap2::Mmap::map(file) } {
        return Ok(ImageBytes::Shared(Box::new(map)));
    }
    let mut bytes = Vec::new();
    let mut file = file;
    file.read_to_end(&mut bytes)?;
    Ok(ImageBytes::Owned(bytes.into_boxed_slice()))
}

/// The root file system at `path`: a tar archive or a host directory.
fn open_rootfs(path: &std::ffi::OsStr) -> Result<Vfs, String> {
    let shown = path.to_string_lossy();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot open rootfs '{shown}': {e}"))?;
    if meta.is_dir() {
        return Vfs::from_host_dir(path)
            .map_err(|e| format!("cannot use rootfs directory '{shown}': {e}"));
    }
    let bytes = File::open(path)
        .and_then(|file| file_bytes(&file))
        .map_err(|e| format!("cannot read rootfs '{shown}': {e}"))?;
    Vfs::from_tar(bytes).map_err(|e| format!("rootfs '{shown}' is not a usable tar archive: {e:?}"))
}

fn run(opts: Options) -> Result<u8, String> {
    let program = &opts.program;
    let config = Config {
        memory_size: opts.memory_mib << 20,
        ..Config::default()
    };
    let mut machine = Machine::new(config).map_err(|e| e.to_string())?;
    let mut argv: Vec<&[u8]> = vec![program.as_bytes()];
    argv.extend(opts.args.iter().map(|a| a.as_bytes()));
    let envp: Vec<&[u8]> = opts.env.iter().map(|e| e.as_slice()).collect();
    let shown = program.to_string_lossy();
    match &opts.rootfs {
        Some(rootfs) => {
            machine.set_vfs(open_rootfs(rootfs)?);
            machine.chdir(&opts.workdir).map_err(|_| {
                format!(
                    "working directory '{}' is not a directory in the rootfs",
                    String::from_utf8_lossy(&opts.workdir)
                )
            })?;
            let path = machine
                .find_program(program.as_bytes(), &envp)
                .ok_or_else(|| format!("'{shown}' not found in the rootfs"))?;
            machine
                .load_program(&path, &argv, &envp)
                .map_err(|e| format!("cannot run '{shown}': {e}"))?;
        }
        None => {
            let unreadable = |e: std::io::Error| format!("cannot read '{shown}': {e}");
            let file = File::open(program).map_err(unreadable)?;
            let bytes = file_bytes(&file).map_err(unreadable)?;
            machine
                .load_elf_with(bytes.as_slice(), &mut FilePages::new(&file), &argv, &envp)
                .map_err(|e| format!("cannot run '{shown}': {e}"))?;
            machine.process.set_cwd(&opts.workdir);
        }
    }
    machine.process.trace = opts.strace;
    let opts = &opts;

    let mut host = ProcessHost::new();
    if let Some(port) = opts.gdb_port {
        match debug_session(&mut machine, &mut host, port)? {
            SessionEnd::Detached => {}
            SessionEnd::Killed => return Ok(128 + 9),
            SessionEnd::Exited { status } => return Ok(status as u8),
            SessionEnd::Signaled { signal } => return Ok((128 + signal) as u8),
        }
    }
    loop {
        match machine.run(&mut host, opts.slice) {
            // A guest that pauses for host calls just continues: the CLI makes none.
            StopReason::BudgetSpent | StopReason::Pending { .. } | StopReason::Paused => continue,
            StopReason::Exited { status } => return Ok(status as u8),
            stop => {
                let signal = stop.fatal_signal().unwrap_or(6);
                let detail = match stop {
                    StopReason::Fault { pc, addr, access } => {
                        format!("memory fault ({access:?}) at address {addr:#x}, pc {pc:#x}")
                    }
                    StopReason::IllegalInstruction { pc, bits } => {
                        format!("illegal instruction {bits:#010x} at pc {pc:#x}")
                    }
                    StopReason::Breakpoint { pc } => format!("breakpoint at pc {pc:#x}"),
                    _ => String::new(),
                };
                // qemu-riscv64 and a shell stay silent here too; --strace explains the death.
                if opts.strace && !detail.is_empty() {
                    eprintln!("friscy: guest killed by signal {signal}: {detail}");
                }
                return Ok((128 + signal) as u8);
            }
        }
    }
}

/// gdb's connection: a TCP stream, polled without blocking while the guest runs.
struct GdbSocket(TcpStream);

impl Transport for GdbSocket {
    fn receive(&mut self, buf: &mut [u8], wait: bool) -> Result<usize, StreamError> {
        self.0.set_nonblocking(!wait).map_err(|_| StreamError)?;
        loop {
            match self.0.read(buf) {
                Ok(0) => return Err(StreamError),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if !wait && e.kind() == std::io::ErrorKind::WouldBlock => return Ok(0),
                Err(_) => return Err(StreamError),
            }
        }
    }

    fn send(&mut self, data: &[u8]) -> Result<(), StreamError> {
        self.0.set_nonblocking(false).map_err(|_| StreamError)?;
        self.0.write_all(data).map_err(|_| StreamError)
    }
}

/// Wait for gdb on 127.0.0.1:`port` and serve its session.
// Not inlined: the session's buffers take a large stack frame, whose pages every run would
// otherwise touch (a page fault each) whether or not it debugs.
#[inline(never)]
fn debug_session(
    machine: &mut Machine,
    host: &mut ProcessHost,
    port: u16,
) -> Result<SessionEnd, String> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("friscy: waiting for gdb on {addr} (target remote {addr})");
    let (stream, _) = listener
        .accept()
        .map_err(|e| format!("cannot accept gdb's connection: {e}"))?;
    drop(listener);
    let _ = stream.set_nodelay(true);
    friscy_core::gdb::serve_with_host(machine, host, Buffered::new(GdbSocket(stream)))
        .map_err(|e| format!("gdb: {e}"))
}

fn main() -> ExitCode {
    let opts = match parse_args(std::env::args_os().skip(1)) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("friscy: {msg}");
            return ExitCode::from(2);
        }
    };
    match run(opts) {
        Ok(code) => ExitCode::from(code),
        Err(msg) => {
            eprintln!("friscy: {msg}");
            ExitCode::from(127)
        }
    }
}
