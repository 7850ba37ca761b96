//! Fuzz target: a VFS over an arbitrary (usually mutated) tar image, then an arbitrary sequence of file-system operations.
//!
//! Input: `[u32 LE n][n bytes of tar][operations]` (n is clamped to what is there and to
//! [`MAX_TAR`]). Checks: no panic; `path_of` gives an absolute path without `..` that
//! resolves back to the same directory; `read` never returns more than asked; `read_dir`
//! cookies strictly increase and a listing ends; whatever `../../..`-prefixed path resolves
//! lands on a live inode.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use friscy_core::host::Timespec;
use friscy_core::vfs::flags::*;
use friscy_core::vfs::{ImageBytes, Ino, ProcessView, Vfs};
use libfuzzer_sys::fuzz_target;

/// Largest tar image taken from the input.
const MAX_TAR: usize = 256 * 1024;
/// Per-file size cap, so many grown files cannot exhaust memory.
const MAX_FILE: u64 = 256 * 1024;
/// Largest single write.
const MAX_WRITE: usize = 64 * 1024;
/// Most operations run per input.
const MAX_OPS: usize = 256;
/// Most `read_dir` calls for one listing; a listing needing more is reported as endless.
const MAX_DIR_CALLS: usize = 20_000;

/// Names that the seed tars and the synthetic trees use, so paths hit real entries often.
const NAMES: &[&[u8]] = &[
    b"dir",
    b"file.txt",
    b"sub",
    b"deep",
    b"rel",
    b"abs",
    b"loop1",
    b"loop2",
    b"self",
    b"up",
    b"hard",
    b"escape",
    b"etc",
    b"tmp",
    b"proc",
    b"fd",
    b"dev",
    b"null",
    b"zero",
    b"urandom",
    b"hosts",
    b"resolv.conf",
    b"new",
    b"x",
    b"cwd",
    b"exe",
    b"root",
    b"maps",
    b"0",
    b"1",
    b"bin",
    b"empty",
];

#[derive(Arbitrary, Debug)]
enum Comp {
    Name(u8),
    Dot,
    DotDot,
    /// An empty component: `//`.
    Empty,
    Raw(Vec<u8>),
    /// A name just over or at NAME_MAX.
    Long(u8),
}

#[derive(Arbitrary, Debug)]
struct PathSpec {
    absolute: bool,
    /// Start with `../../..`: whatever resolves must stay inside the tree.
    escape: bool,
    comps: Vec<Comp>,
    trailing_slash: bool,
}

impl PathSpec {
    fn build(&self) -> Vec<u8> {
        let mut path = Vec::new();
        if self.escape {
            path.extend_from_slice(b"../../..");
        } else if self.absolute {
            path.push(b'/');
        }
        for (i, comp) in self.comps.iter().take(64).enumerate() {
            if i > 0 || self.escape {
                path.push(b'/');
            }
            match comp {
                Comp::Name(n) => path.extend_from_slice(NAMES[usize::from(*n) % NAMES.len()]),
                Comp::Dot => path.push(b'.'),
                Comp::DotDot => path.extend_from_slice(b".."),
                Comp::Empty => {}
                Comp::Raw(bytes) => path.extend_from_slice(&bytes[..bytes.len().min(300)]),
                Comp::Long(n) => path.resize(path.len() + 250 + usize::from(*n % 8), b'L'),
            }
        }
        if self.trailing_slash {
            path.push(b'/');
        }
        path
    }
}

/// An inode argument: one seen earlier (by index), the root, or any number.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum InoRef {
    Seen(u8),
    Root,
    Raw(u64),
}

#[derive(Arbitrary, Debug)]
enum Op {
    Resolve {
        at: InoRef,
        path: PathSpec,
        follow: bool,
    },
    Stat {
        ino: InoRef,
    },
    StatPath {
        at: InoRef,
        path: PathSpec,
        follow: bool,
    },
    Open {
        at: InoRef,
        path: PathSpec,
        flags: u8,
        mode: u16,
    },
    Read {
        ino: InoRef,
        offset: u32,
        len: u16,
    },
    Write {
        ino: InoRef,
        offset: u32,
        data: Vec<u8>,
        repeat: u8,
    },
    Truncate {
        ino: InoRef,
        len: u64,
    },
    ReadDir {
        ino: InoRef,
        batch: u8,
    },
    Readlink {
        at: InoRef,
        path: PathSpec,
    },
    ReadLinkIno {
        ino: InoRef,
    },
    Mkdir {
        at: InoRef,
        path: PathSpec,
        mode: u16,
    },
    Symlink {
        target: PathSpec,
        at: InoRef,
        path: PathSpec,
    },
    Link {
        old_at: InoRef,
        old: PathSpec,
        new_at: InoRef,
        new: PathSpec,
        follow: bool,
    },
    Unlink {
        at: InoRef,
        path: PathSpec,
    },
    Rmdir {
        at: InoRef,
        path: PathSpec,
    },
    Rename {
        old_at: InoRef,
        old: PathSpec,
        new_at: InoRef,
        new: PathSpec,
        flags: u8,
    },
    Chmod {
        ino: InoRef,
        mode: u32,
    },
    PathOf {
        ino: InoRef,
    },
    Close {
        which: u8,
    },
    Retain {
        which: u8,
    },
    ReadOnly(bool),
}

/// Whether to print each operation and some results (`FRISCY_FUZZ_TRACE=1`).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FRISCY_FUZZ_TRACE").is_some_and(|v| v == "1"))
}

struct State {
    vfs: Vfs,
    cx: ProcessView,
    /// Inodes returned by any call (arguments for later ones).
    seen: Vec<Ino>,
    /// References held through `open`/`retain`, to be dropped by `close`.
    open: Vec<Ino>,
}

impl State {
    fn ino(&self, r: InoRef) -> Ino {
        match r {
            InoRef::Seen(i) if !self.seen.is_empty() => self.seen[usize::from(i) % self.seen.len()],
            InoRef::Seen(_) | InoRef::Root => self.vfs.root(),
            InoRef::Raw(n) => n,
        }
    }

    fn saw(&mut self, ino: Ino) {
        if self.seen.len() < 64 {
            self.seen.push(ino);
        } else {
            let slot = (ino as usize) % self.seen.len();
            self.seen[slot] = ino;
        }
    }

    /// A resolve of an escaping path that succeeded must name a live inode.
    fn check_resolved(&self, spec: &PathSpec, path: &[u8], result: Result<Ino, i32>) {
        if let Ok(ino) = result {
            if spec.escape {
                assert!(
                    self.vfs.stat(ino).is_ok(),
                    "{:?} resolved to dead inode {ino}",
                    String::from_utf8_lossy(path)
                );
            }
        }
    }

    fn run(&mut self, op: Op) {
        match op {
            Op::Resolve {
                at,
                path: spec,
                follow,
            } => {
                let (at, path) = (self.ino(at), spec.build());
                let r = self.vfs.resolve(&mut self.cx, at, &path, follow);
                if trace() {
                    eprintln!(
                        "  resolve({at}, {:?}) = {r:?}",
                        String::from_utf8_lossy(&path)
                    );
                }
                self.check_resolved(&spec, &path, r);
                if spec.escape && spec.comps.is_empty() && !spec.trailing_slash {
                    // `../../..` from anywhere inside the tree is a directory of it.
                    if let Ok(ino) = r {
                        let st = self.vfs.stat(ino).expect("checked above");
                        assert_eq!(st.mode & S_IFMT, S_IFDIR, "../../.. is not a directory");
                    }
                }
                if let Ok(ino) = r {
                    self.saw(ino);
                }
            }
            Op::Stat { ino } => {
                let _ = self.vfs.stat(self.ino(ino));
            }
            Op::StatPath {
                at,
                path: spec,
                follow,
            } => {
                let (at, path) = (self.ino(at), spec.build());
                let _ = self.vfs.stat_path(&mut self.cx, at, &path, follow);
            }
            Op::Open {
                at,
                path: spec,
                flags,
                mode,
            } => {
                let (at, path) = (self.ino(at), spec.build());
                let table = [O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_PATH];
                let mut f = u32::from(flags & 3) % 3;
                for (bit, flag) in table.iter().enumerate() {
                    if flags & (4 << bit) != 0 {
                        f |= flag;
                    }
                }
                if let Ok(ino) = self.vfs.open(&mut self.cx, at, &path, f, u32::from(mode)) {
                    self.check_resolved(&spec, &path, Ok(ino));
                    let st = self.vfs.stat(ino).expect("an open inode is alive");
                    if f & O_DIRECTORY != 0 {
                        assert_eq!(
                            st.mode & S_IFMT,
                            S_IFDIR,
                            "O_DIRECTORY opened a non-directory"
                        );
                    }
                    if f & O_TRUNC != 0 && f & O_ACCMODE != O_RDONLY && st.mode & S_IFMT == S_IFREG
                    {
                        assert_eq!(st.size, 0, "O_TRUNC left {} bytes", st.size);
                    }
                    self.open.push(ino);
                    self.saw(ino);
                }
            }
            Op::Read { ino, offset, len } => {
                let ino = self.ino(ino);
                let mut buf = vec![0u8; usize::from(len)];
                if let Ok(n) = self
                    .vfs
                    .read(&mut self.cx, ino, u64::from(offset), &mut buf)
                {
                    assert!(
                        n <= buf.len(),
                        "read returned {n} > {} requested",
                        buf.len()
                    );
                }
            }
            Op::Write {
                ino,
                offset,
                data,
                repeat,
            } => {
                let ino = self.ino(ino);
                let mut bytes = data;
                let copies = usize::from(repeat % 16) + 1;
                if !bytes.is_empty() {
                    bytes = bytes.repeat(copies);
                }
                bytes.truncate(MAX_WRITE);
                if let Ok(n) = self.vfs.write(&mut self.cx, ino, u64::from(offset), &bytes) {
                    assert!(n <= bytes.len(), "write returned {n} > {}", bytes.len());
                    let size = self.vfs.stat(ino).map(|s| s.size).unwrap_or(0);
                    assert!(size <= MAX_FILE, "file grew to {size} past the limit");
                }
            }
            Op::Truncate { ino, len } => {
                let ino = self.ino(ino);
                if self.vfs.truncate(&mut self.cx, ino, len).is_ok() {
                    let size = self.vfs.stat(ino).map(|s| s.size).unwrap_or(len);
                    assert_eq!(size, len, "truncate to {len} left size {size}");
                }
            }
            Op::ReadDir { ino, batch } => self.list(self.ino(ino), usize::from(batch % 8) + 1),
            Op::Readlink { at, path: spec } => {
                let (at, path) = (self.ino(at), spec.build());
                let _ = self.vfs.readlink(&mut self.cx, at, &path);
            }
            Op::ReadLinkIno { ino } => {
                let ino = self.ino(ino);
                let _ = self.vfs.read_link(&mut self.cx, ino);
            }
            Op::Mkdir {
                at,
                path: spec,
                mode,
            } => {
                let (at, path) = (self.ino(at), spec.build());
                if let Ok(ino) = self.vfs.mkdir(&mut self.cx, at, &path, u32::from(mode)) {
                    self.saw(ino);
                }
            }
            Op::Symlink {
                target,
                at,
                path: spec,
            } => {
                let (target, at, path) = (target.build(), self.ino(at), spec.build());
                if let Ok(ino) = self.vfs.symlink(&mut self.cx, &target, at, &path) {
                    self.saw(ino);
                }
            }
            Op::Link {
                old_at,
                old,
                new_at,
                new,
                follow,
            } => {
                let (old_at, new_at) = (self.ino(old_at), self.ino(new_at));
                let _ = self.vfs.link(
                    &mut self.cx,
                    old_at,
                    &old.build(),
                    new_at,
                    &new.build(),
                    follow,
                );
            }
            Op::Unlink { at, path } => {
                let at = self.ino(at);
                let _ = self.vfs.unlink(&mut self.cx, at, &path.build());
            }
            Op::Rmdir { at, path } => {
                let at = self.ino(at);
                let _ = self.vfs.rmdir(&mut self.cx, at, &path.build());
            }
            Op::Rename {
                old_at,
                old,
                new_at,
                new,
                flags,
            } => {
                let (old_at, new_at) = (self.ino(old_at), self.ino(new_at));
                let flags = u32::from(flags % 5);
                let _ = self.vfs.rename(
                    &mut self.cx,
                    old_at,
                    &old.build(),
                    new_at,
                    &new.build(),
                    flags,
                );
            }
            Op::Chmod { ino, mode } => {
                let ino = self.ino(ino);
                let _ = self.vfs.chmod(&mut self.cx, ino, mode);
            }
            Op::PathOf { ino } => self.check_path_of(self.ino(ino)),
            Op::Close { which } => {
                if !self.open.is_empty() {
                    let ino = self.open.swap_remove(usize::from(which) % self.open.len());
                    self.vfs.close(ino);
                }
            }
            Op::Retain { which } => {
                if !self.open.is_empty() {
                    let ino = self.open[usize::from(which) % self.open.len()];
                    self.vfs.retain(ino).expect("an open inode can be retained");
                    self.open.push(ino);
                }
            }
            Op::ReadOnly(on) => self.vfs.set_read_only(on),
        }
    }

    fn check_path_of(&mut self, ino: Ino) {
        let Ok(path) = self.vfs.path_of(ino) else {
            return;
        };
        let shown = String::from_utf8_lossy(&path).into_owned();
        if trace() {
            eprintln!("  path_of({ino}) = {shown:?}");
        }
        assert_eq!(
            path.first(),
            Some(&b'/'),
            "path_of({ino}) = {shown:?} is not absolute"
        );
        assert!(
            !path.split(|&b| b == b'/').any(|c| c == b".."),
            "path_of({ino}) = {shown:?} has a `..`"
        );
        if path.len() < 4096 {
            let back = self.vfs.resolve(&mut self.cx, self.vfs.root(), &path, true);
            assert_eq!(
                back,
                Ok(ino),
                "path_of({ino}) = {shown:?} resolves elsewhere"
            );
        }
    }

    /// Lists a directory `batch` entries per call, as getdents does.
    fn list(&mut self, ino: Ino, batch: usize) {
        let mut cookie = 0u64;
        for _ in 0..MAX_DIR_CALLS {
            let mut accepted = 0usize;
            let mut last = cookie;
            let mut bad = None;
            let start = cookie;
            let result = self.vfs.read_dir(&mut self.cx, ino, cookie, &mut |entry| {
                if accepted == batch {
                    return false;
                }
                if entry.cookie <= last && bad.is_none() {
                    bad = Some((start, last, entry.cookie));
                }
                assert!(!entry.name.is_empty(), "empty name in listing");
                last = entry.cookie;
                accepted += 1;
                true
            });
            if let Some((start, last, next)) = bad {
                panic!("read_dir({ino}, cookie {start}): cookie {next} after {last}");
            }
            if trace() {
                eprintln!("  read_dir({ino}, {start}) = {result:?}: {accepted} entries");
            }
            if result.is_err() || accepted == 0 {
                return;
            }
            cookie = last;
        }
        panic!("read_dir({ino}) still listing after {MAX_DIR_CALLS} calls");
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let n = u32::from_le_bytes(data[..4].try_into().unwrap()) as usize;
    let rest = &data[4..];
    let n = n.min(rest.len()).min(MAX_TAR);
    let (tar, ops) = rest.split_at(n);
    let Ok(mut vfs) = Vfs::from_tar(ImageBytes::Owned(tar.into())) else {
        return;
    };
    vfs.set_max_file_size(MAX_FILE);
    let cx = ProcessView {
        now: Timespec {
            secs: 1_700_000_000,
            nanos: 5,
        },
        uid: 1000,
        gid: 1000,
        pid: 42,
        exe: b"/bin/fuzz".to_vec(),
        cwd: b"/dir".to_vec(),
        cmdline: b"fuzz\0".to_vec(),
        fds: vec![
            (0, b"/dev/null".to_vec()),
            (1, b"/dir/file.txt".to_vec()),
            (7, b"pipe:[3]".to_vec()),
        ],
        ..ProcessView::default()
    };
    let root = vfs.root();
    let mut state = State {
        vfs,
        cx,
        seen: vec![root],
        open: Vec::new(),
    };
    // The root and its `..` are the same directory; `/..` cannot leave it.
    for path in [&b"/.."[..], b"../../..", b"/../../../"] {
        let r = state.vfs.resolve(&mut state.cx, root, path, true);
        assert_eq!(
            r,
            Ok(root),
            "{:?} from the root",
            String::from_utf8_lossy(path)
        );
    }
    let mut u = Unstructured::new(ops);
    for _ in 0..MAX_OPS {
        if u.is_empty() {
            break;
        }
        let Ok(op) = Op::arbitrary(&mut u) else {
            break;
        };
        if trace() {
            eprintln!("{op:?}");
        }
        state.run(op);
    }
    // Drop every reference: the VFS must cope with closing in any order.
    while let Some(ino) = state.open.pop() {
        state.vfs.close(ino);
    }
    for ino in state.seen.clone() {
        let _ = state.vfs.stat(ino);
    }
});
