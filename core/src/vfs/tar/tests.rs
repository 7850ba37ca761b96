//! Tests of the tar index: formats, metadata, and hostile archives.

use super::*;
use crate::vfs::test_tar::{seal, Header, TarBuilder};
use alloc::format;
use alloc::string::String;
use alloc::vec;

/// Every reachable name as `path kind perm uid:gid mtime nlink detail`, sorted.
pub(crate) fn dump(index: &TarIndex, bytes: &[u8]) -> Vec<String> {
    fn walk(index: &TarIndex, bytes: &[u8], dir: u32, prefix: &str, out: &mut Vec<String>) {
        index.for_each_child(dir, |name, id| {
            let path = format!("{prefix}/{}", String::from_utf8_lossy(name));
            let node = index.node(id).unwrap();
            let detail = match node.kind {
                TarNodeKind::File { offset, size } => {
                    let data = &bytes[offset as usize..(offset + size) as usize];
                    format!("file {:?}", String::from_utf8_lossy(data))
                }
                TarNodeKind::Dir => String::from("dir"),
                TarNodeKind::Symlink { .. } => {
                    format!(
                        "-> {}",
                        String::from_utf8_lossy(index.symlink_target(id).unwrap())
                    )
                }
                other => format!("{other:?}"),
            };
            out.push(format!(
                "{path} {:o} {}:{} {} {} {detail}",
                node.perm,
                node.uid,
                node.gid,
                node.mtime,
                index.nlink(id)
            ));
            if node.kind == TarNodeKind::Dir {
                walk(index, bytes, id, &path, out);
            }
        });
    }
    let mut out = Vec::new();
    walk(index, bytes, TarIndex::ROOT, "", &mut out);
    out.sort();
    out
}

fn lookup_path(index: &TarIndex, path: &str) -> Option<u32> {
    let mut node = TarIndex::ROOT;
    for name in path.split('/').filter(|n| !n.is_empty()) {
        node = index.lookup(node, name.as_bytes())?;
    }
    Some(node)
}

fn file_data<'b>(index: &TarIndex, bytes: &'b [u8], path: &str) -> &'b [u8] {
    match index.node(lookup_path(index, path).unwrap()).unwrap().kind {
        TarNodeKind::File { offset, size } => &bytes[offset as usize..(offset + size) as usize],
        other => panic!("{path} is {other:?}"),
    }
}

#[test]
fn indexes_files_dirs_links_and_metadata() {
    let bytes = TarBuilder::new()
        .dir("./")
        .dir("./etc/")
        .file_with("./etc/passwd", b"root:x:0:0\n", 0o644, 0, 0, 1_700_000_000)
        .file_with("usr/bin/prog", b"\x7fELF", 0o4755, 1000, 100, 5)
        .symlink("bin", "usr/bin")
        .symlink("usr/bin/abs", "/etc/passwd")
        .hardlink("usr/bin/prog2", "usr/bin/prog")
        .device("dev/null", b'3', 1, 3)
        .device("dev/sda", b'4', 8, 0)
        .device("run/fifo", b'6', 0, 0)
        .finish();
    let index = TarIndex::build(&bytes).unwrap();
    assert_eq!(file_data(&index, &bytes, "etc/passwd"), b"root:x:0:0\n");
    let prog = lookup_path(&index, "usr/bin/prog").unwrap();
    let node = index.node(prog).unwrap();
    assert_eq!(
        (node.perm, node.uid, node.gid, node.mtime),
        (0o4755, 1000, 100, 5)
    );
    assert_eq!(lookup_path(&index, "usr/bin/prog2"), Some(prog));
    assert_eq!(index.nlink(prog), 2);
    let passwd = index
        .node(lookup_path(&index, "etc/passwd").unwrap())
        .unwrap();
    assert_eq!(passwd.mtime, 1_700_000_000);
    assert_eq!(
        index.symlink_target(lookup_path(&index, "bin").unwrap()),
        Some(&b"usr/bin"[..])
    );
    assert_eq!(
        index.symlink_target(lookup_path(&index, "usr/bin/abs").unwrap()),
        Some(&b"/etc/passwd"[..])
    );
    let kind = |path| index.node(lookup_path(&index, path).unwrap()).unwrap().kind;
    assert_eq!(
        kind("dev/null"),
        TarNodeKind::CharDevice { major: 1, minor: 3 }
    );
    assert_eq!(
        kind("dev/sda"),
        TarNodeKind::BlockDevice { major: 8, minor: 0 }
    );
    assert_eq!(kind("run/fifo"), TarNodeKind::Fifo);
    // Implicit parents: usr, usr/bin, dev, run are directories with default metadata.
    let usr = lookup_path(&index, "usr").unwrap();
    assert_eq!(index.node(usr).unwrap().kind, TarNodeKind::Dir);
    assert_eq!(index.node(usr).unwrap().perm, 0o755);
    assert_eq!(index.nlink(usr), 3);
    assert_eq!(index.nlink(TarIndex::ROOT), 2 + 4);
    assert_eq!(index.parent(lookup_path(&index, "usr/bin").unwrap()), usr);
    // Archive order is listing order.
    let mut names = Vec::new();
    index.for_each_child(TarIndex::ROOT, |name, _| {
        names.push(String::from_utf8_lossy(name).into_owned())
    });
    assert_eq!(names, ["etc", "usr", "bin", "dev", "run"]);
}

#[test]
fn plain_ustar_goes_through_tar_no_std_and_agrees_with_the_walker() {
    let bytes = TarBuilder::new()
        .dir("etc/")
        .file("etc/hosts", b"127.0.0.1 localhost\n")
        .symlink("etc/link", "hosts")
        .hardlink("etc/hard", "etc/hosts")
        .finish();
    let via_crate =
        TarIndex::build_with_tar_no_std(&bytes).expect("tar-no-std accepts plain ustar");
    let mut builder = Builder::new(&bytes);
    walk_headers(&bytes, |h, p| builder.member(h, p)).unwrap();
    assert_eq!(dump(&via_crate, &bytes), dump(&builder.finish(), &bytes));
}

#[test]
fn gnu_long_names_and_long_link_targets() {
    let long_dir = "d".repeat(120);
    let long_path = format!("usr/{long_dir}/file-with-a-long-name");
    let long_target = format!("/usr/{long_dir}/file-with-a-long-name");
    let bytes = TarBuilder::new()
        .gnu_long_file(&long_path, b"long")
        .gnu_long_symlink("short", &long_target)
        .finish();
    // tar-no-std rejects the `L`/`K` type flags, so the walker indexes this archive.
    assert!(TarIndex::build_with_tar_no_std(&bytes).is_none());
    let index = TarIndex::build(&bytes).unwrap();
    assert_eq!(file_data(&index, &bytes, &long_path), b"long");
    let link = lookup_path(&index, "short").unwrap();
    assert_eq!(index.symlink_target(link), Some(long_target.as_bytes()));
}

#[test]
fn pax_records_override_header_fields() {
    let long_path = format!("opt/{}/data.txt", "p".repeat(150));
    let bytes = TarBuilder::new()
        .pax(&[
            ("path", long_path.as_bytes()),
            ("uid", b"4242"),
            ("gid", b"77"),
            ("mtime", b"1700000000.123456789"),
            ("atime", b"1"),
        ])
        .file("truncated-name", b"pax data")
        .pax(&[("linkpath", b"/a/target/that/is/long")])
        .symlink("opt/link", "ignored")
        .finish();
    let index = TarIndex::build(&bytes).unwrap();
    assert_eq!(file_data(&index, &bytes, &long_path), b"pax data");
    assert!(lookup_path(&index, "truncated-name").is_none());
    let node = index
        .node(lookup_path(&index, &long_path).unwrap())
        .unwrap();
    assert_eq!((node.uid, node.gid, node.mtime), (4242, 77, 1_700_000_000));
    let link = lookup_path(&index, "opt/link").unwrap();
    assert_eq!(
        index.symlink_target(link),
        Some(&b"/a/target/that/is/long"[..])
    );
}

#[test]
fn pax_size_decides_where_the_next_header_is() {
    let mut builder = TarBuilder::new();
    builder.pax(&[("size", b"600")]);
    // The header's own size field says 0, the data really has 600 bytes.
    builder.member(
        &Header {
            name: b"big",
            typeflag: b'0',
            mode: 0o644,
            size: Some(0),
            ..Header::default()
        },
        &[7u8; 600],
    );
    builder.file("after", b"ok");
    let bytes = builder.finish();
    let index = TarIndex::build(&bytes).unwrap();
    assert_eq!(file_data(&index, &bytes, "big"), &[7u8; 600][..]);
    assert_eq!(file_data(&index, &bytes, "after"), b"ok");
}

#[test]
fn ustar_prefix_joins_the_name() {
    let mut builder = TarBuilder::new();
    builder.member(
        &Header {
            name: b"name.txt",
            prefix: b"some/prefix/dir",
            typeflag: b'0',
            mode: 0o600,
            posix: true,
            ..Header::default()
        },
        b"x",
    );
    let bytes = builder.finish();
    let index = TarIndex::build(&bytes).unwrap();
    assert_eq!(file_data(&index, &bytes, "some/prefix/dir/name.txt"), b"x");
}

#[test]
fn base256_numbers_and_octal_padding() {
    assert_eq!(number(b"0000644\0"), Some(0o644));
    assert_eq!(number(b"   644 \0"), Some(0o644));
    assert_eq!(number(b"\0\0\0\0"), Some(0));
    assert_eq!(number(b"12389\0"), None);
    assert_eq!(
        number(&[0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
        Some(1 << 32)
    );
    assert_eq!(number(&[0xff; 12]), Some(-1));
    assert_eq!(
        number(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]),
        Some(-2)
    );
    assert_eq!(
        number(&[0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        None
    );
    // A uid that only base-256 can hold.
    let mut builder = TarBuilder::new();
    let at = builder.member(
        &Header {
            name: b"f",
            typeflag: b'0',
            mode: 0o644,
            ..Header::default()
        },
        b"",
    );
    let block = &mut builder.bytes[at..at + 512];
    block[108..116].copy_from_slice(&[0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]);
    seal(block);
    let bytes = builder.finish();
    let index = TarIndex::build(&bytes).unwrap();
    assert_eq!(
        index.node(lookup_path(&index, "f").unwrap()).unwrap().uid,
        0x7fff_ffff
    );
}

#[test]
fn hostile_paths_never_leave_the_root() {
    let bytes = TarBuilder::new()
        .file("../escape", b"no")
        .file("a/../../escape2", b"no")
        .file("/abs/file", b"abs")
        .file("//./x/./y", b"y")
        .gnu_long_file(&"n".repeat(256), b"too long")
        .symlink("link", "../../../../etc/shadow")
        .finish();
    let index = TarIndex::build(&bytes).unwrap();
    let listing = dump(&index, &bytes);
    assert!(
        listing.iter().all(|line| !line.contains("escape")),
        "{listing:?}"
    );
    assert_eq!(file_data(&index, &bytes, "abs/file"), b"abs");
    assert_eq!(file_data(&index, &bytes, "x/y"), b"y");
    assert!(
        lookup_path(&index, "a").is_none(),
        "a member naming .. is skipped whole"
    );
    // Targets are text; resolving them inside the root is the VFS's job.
    assert_eq!(
        index.symlink_target(lookup_path(&index, "link").unwrap()),
        Some(&b"../../../../etc/shadow"[..])
    );
    assert_eq!(listing.len(), 5, "{listing:?}");
}

#[test]
fn duplicates_last_wins_and_hard_links_keep_old_data() {
    let bytes = TarBuilder::new()
        .file("f", b"first")
        .hardlink("g", "f")
        .file("f", b"second")
        .dir("d")
        .file("d/inner", b"in")
        .dir_mode("d", 0o700)
        .file("x", b"file")
        .dir("x")
        .file("x/child", b"c")
        .dir("y")
        .file("y/lost", b"l")
        .file("y", b"now a file")
        .finish();
    let index = TarIndex::build(&bytes).unwrap();
    assert_eq!(file_data(&index, &bytes, "f"), b"second");
    assert_eq!(file_data(&index, &bytes, "g"), b"first");
    assert_eq!(index.nlink(lookup_path(&index, "f").unwrap()), 1);
    assert_eq!(index.nlink(lookup_path(&index, "g").unwrap()), 1);
    let d = lookup_path(&index, "d").unwrap();
    assert_eq!(index.node(d).unwrap().perm, 0o700);
    assert_eq!(file_data(&index, &bytes, "d/inner"), b"in");
    assert_eq!(file_data(&index, &bytes, "x/child"), b"c");
    assert_eq!(file_data(&index, &bytes, "y"), b"now a file");
    assert!(lookup_path(&index, "y/lost").is_none());
    assert_eq!(
        index.nlink(TarIndex::ROOT),
        2 + 2,
        "d and x are the only directories left"
    );
}

#[test]
fn bad_hard_links_are_skipped() {
    let bytes = TarBuilder::new()
        .hardlink("to-missing", "nowhere")
        .dir("dir")
        .hardlink("to-dir", "dir")
        .hardlink("self", "self")
        .hardlink("escape", "../../etc/passwd")
        .file("real", b"r")
        .hardlink("sub/ok", "./real")
        .finish();
    let index = TarIndex::build(&bytes).unwrap();
    for missing in ["to-missing", "to-dir", "self", "escape"] {
        assert!(lookup_path(&index, missing).is_none(), "{missing}");
    }
    assert_eq!(file_data(&index, &bytes, "sub/ok"), b"r");
    assert_eq!(index.nlink(lookup_path(&index, "real").unwrap()), 2);
}

#[test]
fn corrupt_archives_are_errors_not_panics() {
    let good = TarBuilder::new()
        .file("a", &[1u8; 700])
        .file("b", b"bb")
        .finish();
    // Cut inside the second data block of "a".
    assert_eq!(
        TarIndex::build(&good[..1024]).unwrap_err(),
        TarError::Truncated { offset: 0 }
    );
    // Cut inside a header.
    assert_eq!(
        TarIndex::build(&good[..1536 + 100]).unwrap_err(),
        TarError::Truncated { offset: 1536 }
    );
    // No end-of-archive marker is fine.
    let index = TarIndex::build(&good[..2560]).unwrap();
    assert!(lookup_path(&index, "b").is_some());
    // A flipped byte breaks the checksum.
    let mut bad = good.clone();
    bad[10] ^= 1;
    assert_eq!(
        TarIndex::build(&bad).unwrap_err(),
        TarError::BadChecksum { offset: 0 }
    );
    // A huge size runs past the end.
    let mut builder = TarBuilder::new();
    builder.member(
        &Header {
            name: b"huge",
            typeflag: b'0',
            size: Some(0o77777777777),
            ..Header::default()
        },
        b"",
    );
    assert!(matches!(
        TarIndex::build(&builder.finish()),
        Err(TarError::Truncated { .. })
    ));
    let mut builder = TarBuilder::new();
    let at = builder.member(
        &Header {
            name: b"huge",
            typeflag: b'0',
            ..Header::default()
        },
        b"",
    );
    builder.bytes[at + 124..at + 136].copy_from_slice(&[
        0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
    seal(&mut builder.bytes[at..at + 512]);
    assert!(TarIndex::build(&builder.finish()).is_err());
    // Empty input is an empty tree.
    assert_eq!(TarIndex::build(&[]).unwrap().node_count(), 1);
}

#[test]
fn random_corruption_never_panics() {
    let good = TarBuilder::new()
        .dir("etc")
        .file("etc/a", b"hello")
        .gnu_long_file(&"l/".repeat(80), b"long")
        .pax(&[("path", b"p/q"), ("size", b"3")])
        .file("ignored", b"abc")
        .symlink("s", "/etc/a")
        .hardlink("h", "etc/a")
        .finish();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..3000 {
        let mut bytes = good.clone();
        for _ in 0..1 + round % 4 {
            let at = (next() as usize) % bytes.len();
            bytes[at] = next() as u8;
        }
        // Keep checksums valid half the time so the parser sees the damage.
        if round % 2 == 0 {
            let mut offset = 0;
            while offset + 512 <= bytes.len() {
                if bytes[offset..offset + 512].iter().any(|&b| b != 0)
                    && checksum_ok(&good[offset..offset + 512])
                {
                    seal(&mut bytes[offset..offset + 512]);
                }
                offset += 512;
            }
        }
        let cut = (next() as usize) % (bytes.len() + 1);
        for input in [&bytes[..], &bytes[..cut]] {
            if let Ok(index) = TarIndex::build(input) {
                let _ = dump(&index, input);
            }
        }
    }
}

#[cfg(feature = "std")]
mod debian_tar {
    //! Archives written by the system's GNU tar in each format it offers.
    use super::*;
    extern crate std;
    use std::process::Command;

    fn make_tree(root: &std::path::Path) {
        let long = "x".repeat(110);
        std::fs::create_dir_all(root.join(format!("usr/share/{long}"))).unwrap();
        std::fs::write(
            root.join(format!("usr/share/{long}/{long}.txt")),
            b"long path",
        )
        .unwrap();
        std::fs::write(root.join("usr/plain"), b"plain").unwrap();
        std::os::unix::fs::symlink(
            format!("/usr/share/{long}/{long}.txt"),
            root.join("usr/longlink"),
        )
        .unwrap();
        std::fs::hard_link(root.join("usr/plain"), root.join("usr/plain2")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
    }

    #[test]
    fn every_gnu_tar_format_indexes_the_same_tree() {
        if Command::new("tar").arg("--version").output().is_err() {
            std::eprintln!("skipping: no tar");
            return;
        }
        let dir = std::env::temp_dir().join(format!("friscy-tar-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("root");
        make_tree(&root);
        let mut dumps = Vec::new();
        for format in ["gnu", "oldgnu", "pax", "posix", "ustar"] {
            let out = dir.join(format!("{format}.tar"));
            let status = Command::new("tar")
                .args([
                    "--sort=name",
                    "--mtime=@1000",
                    "--owner=0",
                    "--group=0",
                    "--numeric-owner",
                ])
                .arg(format!("--format={format}"))
                .arg("-C")
                .arg(&root)
                .arg("-cf")
                .arg(&out)
                .arg(".")
                .status()
                .unwrap();
            if !status.success() {
                // ustar cannot store the 110-byte name component: tar says so and fails.
                assert_eq!(format, "ustar");
                continue;
            }
            let bytes = std::fs::read(&out).unwrap();
            let index = TarIndex::build(&bytes).unwrap();
            let listing = dump(&index, &bytes);
            assert!(
                listing.iter().any(|l| l.ends_with("file \"long path\"")),
                "{format}: {listing:?}"
            );
            dumps.push((format, listing));
        }
        let _ = std::fs::remove_dir_all(&dir);
        for (format, listing) in &dumps[1..] {
            assert_eq!(listing, &dumps[0].1, "{format} differs from gnu");
        }
    }
}

#[test]
fn names_at_the_limits() {
    let name_255 = "n".repeat(255);
    let deep = vec!["d"; 2050].join("/");
    let bytes = TarBuilder::new()
        .gnu_long_file(&name_255, b"ok")
        .gnu_long_file(&format!("{deep}/f"), b"too deep")
        .finish();
    let index = TarIndex::build(&bytes).unwrap();
    assert_eq!(file_data(&index, &bytes, &name_255), b"ok");
    assert!(
        lookup_path(&index, "d").is_none(),
        "a path over PATH_MAX is skipped"
    );
}
