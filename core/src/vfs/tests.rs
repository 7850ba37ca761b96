//! Tests of path resolution, the overlay, and the synthetic files, on small in-test tars.

use super::flags::*;
use super::test_tar::TarBuilder;
use super::*;
use alloc::string::String;
use alloc::vec;

fn image(builder: &mut TarBuilder) -> Vfs {
    Vfs::from_tar(ImageBytes::Owned(builder.finish().into_boxed_slice())).unwrap()
}

/// A small Debian-like tree: merged /usr, relative and absolute links, a loop.
fn sample() -> Vfs {
    image(
        TarBuilder::new()
            .dir("./")
            .symlink("bin", "usr/bin")
            .symlink("lib", "usr/lib")
            .file_with("usr/bin/prog", b"#!prog", 0o755, 0, 0, 1000)
            .file("usr/lib/libc.so.6", b"libc")
            .symlink("usr/lib/libc.so", "libc.so.6")
            .file_with(
                "etc/passwd",
                b"root:x:0:0:root:/root:/bin/sh\n",
                0o644,
                0,
                0,
                77,
            )
            .file("etc/hosts", b"10.0.0.1 image\n")
            .symlink("etc/abs", "/etc/passwd")
            .symlink("etc/up", "../../../../../etc/passwd")
            .symlink("etc/dangling", "/nowhere/file")
            .symlink("loop/a", "b")
            .symlink("loop/b", "a")
            .symlink("loop/self", "self")
            .dir("data")
            .file("data/one", b"1")
            .hardlink("data/one-again", "data/one"),
    )
}

fn cx() -> ProcessView {
    ProcessView {
        pid: 42,
        exe: b"/usr/bin/prog".to_vec(),
        ..ProcessView::default()
    }
}

fn resolve(vfs: &mut Vfs, path: &str) -> VfsResult<Ino> {
    let root = vfs.root();
    vfs.resolve(&mut cx(), root, path.as_bytes(), true)
}

fn stat_of(vfs: &mut Vfs, path: &str) -> Stat {
    let ino = resolve(vfs, path).unwrap();
    vfs.stat(ino).unwrap()
}

fn read_all(vfs: &mut Vfs, ino: Ino) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = vfs
            .read(&mut cx(), ino, out.len() as u64, &mut buf)
            .unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn cat(vfs: &mut Vfs, path: &str) -> VfsResult<Vec<u8>> {
    let root = vfs.root();
    let ino = vfs.open(&mut cx(), root, path.as_bytes(), O_RDONLY, 0)?;
    let data = read_all(vfs, ino);
    vfs.close(ino);
    Ok(data)
}

fn write_file(vfs: &mut Vfs, path: &str, data: &[u8]) -> Ino {
    let root = vfs.root();
    let ino = vfs
        .open(
            &mut cx(),
            root,
            path.as_bytes(),
            O_WRONLY | O_CREAT | O_TRUNC,
            0o644,
        )
        .unwrap();
    assert_eq!(vfs.write(&mut cx(), ino, 0, data), Ok(data.len()));
    vfs.close(ino);
    ino
}

fn list(vfs: &mut Vfs, path: &str) -> Vec<String> {
    let ino = resolve(vfs, path).unwrap();
    let mut names = Vec::new();
    vfs.read_dir(&mut cx(), ino, 0, &mut |entry| {
        names.push(String::from_utf8_lossy(entry.name).into_owned());
        true
    })
    .unwrap();
    names
}

#[test]
fn resolves_absolute_relative_dot_and_dotdot() {
    let mut vfs = sample();
    let etc = resolve(&mut vfs, "/etc").unwrap();
    let passwd = resolve(&mut vfs, "/etc/passwd").unwrap();
    assert_eq!(vfs.resolve(&mut cx(), etc, b"passwd", true), Ok(passwd));
    assert_eq!(
        vfs.resolve(&mut cx(), etc, b"./../etc//passwd", true),
        Ok(passwd)
    );
    assert_eq!(resolve(&mut vfs, "/../../.."), Ok(vfs.root()));
    assert_eq!(resolve(&mut vfs, "/../etc/../../etc/passwd"), Ok(passwd));
    assert_eq!(resolve(&mut vfs, "/etc/passwd/"), Err(ENOTDIR));
    assert_eq!(resolve(&mut vfs, "/etc/passwd/x"), Err(ENOTDIR));
    assert_eq!(resolve(&mut vfs, "/etc/passwd/.."), Err(ENOTDIR));
    assert_eq!(resolve(&mut vfs, "/etc/missing"), Err(ENOENT));
    assert_eq!(resolve(&mut vfs, ""), Err(ENOENT));
    assert_eq!(vfs.resolve(&mut cx(), passwd, b"x", true), Err(ENOTDIR));
    assert_eq!(resolve(&mut vfs, "/etc/"), Ok(etc));
}

#[test]
fn symlinks_resolve_inside_the_root() {
    let mut vfs = sample();
    let passwd = resolve(&mut vfs, "/etc/passwd").unwrap();
    let prog = resolve(&mut vfs, "/usr/bin/prog").unwrap();
    assert_eq!(resolve(&mut vfs, "/bin/prog"), Ok(prog));
    assert_eq!(resolve(&mut vfs, "/etc/abs"), Ok(passwd));
    assert_eq!(
        resolve(&mut vfs, "/etc/up"),
        Ok(passwd),
        "../ past the root stays at the root"
    );
    assert_eq!(
        resolve(&mut vfs, "/lib/libc.so"),
        resolve(&mut vfs, "/usr/lib/libc.so.6")
    );
    assert_eq!(
        resolve(&mut vfs, "/bin/../lib/libc.so.6"),
        resolve(&mut vfs, "/usr/lib/libc.so.6")
    );
    assert_eq!(resolve(&mut vfs, "/etc/dangling"), Err(ENOENT));
    // Without following, the link itself.
    let root = vfs.root();
    let link = vfs.resolve(&mut cx(), root, b"/etc/abs", false).unwrap();
    assert_eq!(vfs.stat(link).unwrap().mode & S_IFMT, S_IFLNK);
    assert_eq!(
        vfs.readlink(&mut cx(), root, b"/etc/abs"),
        Ok(b"/etc/passwd".to_vec())
    );
    assert_eq!(vfs.readlink(&mut cx(), root, b"/etc/passwd"), Err(EINVAL));
    // A trailing slash follows even without follow_last.
    let usr_bin = resolve(&mut vfs, "/usr/bin").unwrap();
    assert_eq!(vfs.resolve(&mut cx(), root, b"/bin/", false), Ok(usr_bin));
}

#[test]
fn symlink_loops_and_the_follow_limit() {
    let mut vfs = sample();
    assert_eq!(resolve(&mut vfs, "/loop/a"), Err(ELOOP));
    assert_eq!(resolve(&mut vfs, "/loop/self/x"), Err(ELOOP));
    let root = vfs.root();
    assert!(vfs.resolve(&mut cx(), root, b"/loop/a", false).is_ok());
    // A chain of exactly 40 links resolves; 41 does not.
    let mut builder = TarBuilder::new();
    builder.file("target", b"t");
    for i in 0..41 {
        let next = if i == 0 {
            String::from("target")
        } else {
            alloc::format!("l{}", i - 1)
        };
        builder.symlink(&alloc::format!("l{i}"), &next);
    }
    let mut vfs = image(&mut builder);
    assert!(resolve(&mut vfs, "/l39").is_ok());
    assert_eq!(resolve(&mut vfs, "/l40"), Err(ELOOP));
}

#[test]
fn name_and_path_limits() {
    let mut vfs = sample();
    let long_name = "n".repeat(256);
    assert_eq!(
        resolve(&mut vfs, &alloc::format!("/etc/{long_name}")),
        Err(ENAMETOOLONG)
    );
    assert_eq!(
        resolve(&mut vfs, &alloc::format!("/etc/{}", "n".repeat(255))),
        Err(ENOENT)
    );
    let long_path = "/.".repeat(2048);
    assert_eq!(resolve(&mut vfs, &long_path), Err(ENAMETOOLONG));
    assert_eq!(resolve(&mut vfs, &long_path[..4094]), Ok(vfs.root()));
    let root = vfs.root();
    assert_eq!(
        vfs.mkdir(
            &mut cx(),
            root,
            alloc::format!("/tmp/{long_name}").as_bytes(),
            0o755
        ),
        Err(ENAMETOOLONG)
    );
}

#[test]
fn stat_reports_tar_metadata() {
    let mut vfs = sample();
    let prog = resolve(&mut vfs, "/usr/bin/prog").unwrap();
    let stat = vfs.stat(prog).unwrap();
    assert_eq!(stat.mode, S_IFREG | 0o755);
    assert_eq!(
        (stat.size, stat.blocks, stat.nlink, stat.dev),
        (6, 1, 1, DEV_ROOT)
    );
    assert_eq!(
        stat.mtime,
        Timespec {
            secs: 1000,
            nanos: 0
        }
    );
    assert_eq!(stat.ino, prog);
    let one = resolve(&mut vfs, "/data/one").unwrap();
    assert_eq!(resolve(&mut vfs, "/data/one-again"), Ok(one));
    assert_eq!(vfs.stat(one).unwrap().nlink, 2);
    let root = vfs.stat(vfs.root()).unwrap();
    assert_eq!(root.mode & S_IFMT, S_IFDIR);
    let null = resolve(&mut vfs, "/dev/null").unwrap();
    let stat = vfs.stat(null).unwrap();
    assert_eq!((stat.mode, stat.rdev), (S_IFCHR | 0o666, makedev(1, 3)));
    assert_eq!(vfs.device(null), Some(Device::Null));
    // Inode numbers of image nodes do not depend on the order they are looked at.
    let mut other = sample();
    assert_eq!(resolve(&mut other, "/data/one"), Ok(one));
    assert_eq!(resolve(&mut other, "/usr/bin/prog"), Ok(prog));
}

#[test]
fn reads_at_offsets() {
    let mut vfs = sample();
    assert_eq!(
        cat(&mut vfs, "/etc/passwd").unwrap(),
        b"root:x:0:0:root:/root:/bin/sh\n"
    );
    let root = vfs.root();
    let ino = vfs
        .open(&mut cx(), root, b"/etc/passwd", O_RDONLY, 0)
        .unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(vfs.read(&mut cx(), ino, 5, &mut buf), Ok(4));
    assert_eq!(&buf, b"x:0:");
    assert_eq!(vfs.read(&mut cx(), ino, 1000, &mut buf), Ok(0));
    let etc = resolve(&mut vfs, "/etc").unwrap();
    assert_eq!(vfs.read(&mut cx(), etc, 0, &mut buf), Err(EISDIR));
}

#[test]
fn listing_has_dot_entries_and_stable_cookies() {
    let mut vfs = sample();
    assert_eq!(list(&mut vfs, "/data"), [".", "..", "one", "one-again"]);
    let data = resolve(&mut vfs, "/data").unwrap();
    let root = vfs.root();
    for i in 0..5 {
        write_file(&mut vfs, &alloc::format!("/data/f{i}"), b"");
    }
    // Read three entries, then change the directory, then continue from the cookie.
    let mut seen = Vec::new();
    let mut cookie = 0;
    vfs.read_dir(&mut cx(), data, 0, &mut |entry| {
        if seen.len() == 3 {
            return false;
        }
        seen.push(String::from_utf8_lossy(entry.name).into_owned());
        cookie = entry.cookie;
        true
    })
    .unwrap();
    assert_eq!(seen, [".", "..", "one"]);
    vfs.unlink(&mut cx(), root, b"/data/f0").unwrap();
    write_file(&mut vfs, "/data/new", b"");
    vfs.read_dir(&mut cx(), data, cookie, &mut |entry| {
        seen.push(String::from_utf8_lossy(entry.name).into_owned());
        true
    })
    .unwrap();
    assert_eq!(
        seen,
        [".", "..", "one", "one-again", "f1", "f2", "f3", "f4", "new"]
    );
    // `..` of the root is the root.
    let mut dotdot = 0;
    vfs.read_dir(&mut cx(), root, 1, &mut |entry| {
        dotdot = entry.ino;
        false
    })
    .unwrap();
    assert_eq!(dotdot, root);
    let prog = resolve(&mut vfs, "/usr/bin/prog").unwrap();
    assert_eq!(
        vfs.read_dir(&mut cx(), prog, 0, &mut |_| true),
        Err(ENOTDIR)
    );
}

#[test]
fn create_write_and_copy_up_anywhere() {
    let mut vfs = sample();
    let root = vfs.root();
    write_file(&mut vfs, "/tmp/new", b"hello");
    write_file(&mut vfs, "/etc/new.conf", b"conf");
    write_file(&mut vfs, "/root-file", b"r");
    assert_eq!(cat(&mut vfs, "/tmp/new").unwrap(), b"hello");
    assert_eq!(cat(&mut vfs, "/etc/new.conf").unwrap(), b"conf");
    // Writing a lower file copies it up; the name keeps its inode.
    let passwd = resolve(&mut vfs, "/etc/passwd").unwrap();
    let ino = vfs
        .open(&mut cx(), root, b"/etc/passwd", O_RDWR, 0)
        .unwrap();
    assert_eq!(ino, passwd);
    vfs.write(&mut cx(), ino, 0, b"ROOT").unwrap();
    vfs.write(&mut cx(), ino, 40, b"!").unwrap();
    vfs.close(ino);
    let data = cat(&mut vfs, "/etc/passwd").unwrap();
    assert_eq!(&data[..10], b"ROOT:x:0:0");
    assert_eq!(data.len(), 41);
    assert_eq!(&data[30..40], &[0u8; 10]);
    // O_TRUNC, truncate, O_EXCL.
    write_file(&mut vfs, "/usr/lib/libc.so.6", b"new libc");
    assert_eq!(cat(&mut vfs, "/lib/libc.so").unwrap(), b"new libc");
    vfs.truncate(&mut cx(), passwd, 4).unwrap();
    assert_eq!(cat(&mut vfs, "/etc/passwd").unwrap(), b"ROOT");
    vfs.truncate(&mut cx(), passwd, 6).unwrap();
    assert_eq!(cat(&mut vfs, "/etc/passwd").unwrap(), b"ROOT\0\0");
    assert_eq!(
        vfs.open(
            &mut cx(),
            root,
            b"/etc/passwd",
            O_CREAT | O_EXCL | O_WRONLY,
            0o644
        ),
        Err(EEXIST)
    );
    assert_eq!(
        vfs.open(
            &mut cx(),
            root,
            b"/etc/abs",
            O_CREAT | O_EXCL | O_WRONLY,
            0o644
        ),
        Err(EEXIST)
    );
    // Creating through a dangling symlink creates its target.
    vfs.mkdir(&mut cx(), root, b"/nowhere", 0o755).unwrap();
    let created = vfs
        .open(&mut cx(), root, b"/etc/dangling", O_CREAT | O_WRONLY, 0o600)
        .unwrap();
    assert_eq!(resolve(&mut vfs, "/nowhere/file"), Ok(created));
    assert_eq!(vfs.stat(created).unwrap().mode, S_IFREG | 0o600);
}

#[test]
fn contents_access_and_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Vfs>();
    let mut vfs = sample();
    let root = vfs.root();
    let prog = resolve(&mut vfs, "/usr/bin/prog").unwrap();
    assert_eq!(vfs.contents(prog), Some(&b"#!prog"[..]));
    let new = write_file(&mut vfs, "/tmp/x", b"xyz");
    assert_eq!(vfs.contents(new), Some(&b"xyz"[..]));
    let etc = resolve(&mut vfs, "/etc").unwrap();
    assert_eq!(vfs.contents(etc), None);
    assert_eq!(vfs.access(&mut cx(), root, b"/bin/prog", 1, true), Ok(()));
    assert_eq!(
        vfs.access(&mut cx(), root, b"/etc/passwd", 1, true),
        Err(EACCES)
    );
    assert_eq!(vfs.access(&mut cx(), root, b"/etc/passwd", 6, true), Ok(()));
    assert_eq!(
        vfs.access(&mut cx(), root, b"/etc/nothing", 0, true),
        Err(ENOENT)
    );
    assert_eq!(
        vfs.access(&mut cx(), root, b"/proc/cpuinfo", 2, true),
        Err(EACCES)
    );
    // Truncating a lower file copies up only what is kept.
    let passwd = vfs
        .open(&mut cx(), root, b"/etc/passwd", O_WRONLY | O_TRUNC, 0)
        .unwrap();
    assert_eq!(vfs.contents(passwd), Some(&b""[..]));
    assert_eq!(vfs.stat(passwd).unwrap().size, 0);
}

#[test]
fn open_flag_errors() {
    let mut vfs = sample();
    let root = vfs.root();
    let mut c = cx();
    assert_eq!(vfs.open(&mut c, root, b"/etc", O_WRONLY, 0), Err(EISDIR));
    assert_eq!(
        vfs.open(&mut c, root, b"/etc", O_CREAT | O_RDONLY, 0),
        Err(EISDIR)
    );
    assert!(vfs
        .open(&mut c, root, b"/etc", O_RDONLY | O_DIRECTORY, 0)
        .is_ok());
    assert_eq!(
        vfs.open(&mut c, root, b"/etc/passwd", O_RDONLY | O_DIRECTORY, 0),
        Err(ENOTDIR)
    );
    assert_eq!(
        vfs.open(&mut c, root, b"/etc/abs", O_RDONLY | O_NOFOLLOW, 0),
        Err(ELOOP)
    );
    assert_eq!(
        vfs.open(
            &mut c,
            root,
            b"/etc/abs",
            O_CREAT | O_WRONLY | O_NOFOLLOW,
            0
        ),
        Err(ELOOP)
    );
    let link = vfs
        .open(&mut c, root, b"/etc/abs", O_PATH | O_NOFOLLOW, 0)
        .unwrap();
    assert_eq!(vfs.stat(link).unwrap().mode & S_IFMT, S_IFLNK);
    assert_eq!(
        vfs.open(&mut c, root, b"/tmp/newdir/", O_CREAT | O_WRONLY, 0o644),
        Err(EISDIR)
    );
    assert_eq!(
        vfs.open(&mut c, root, b"/missing/x", O_CREAT | O_WRONLY, 0o644),
        Err(ENOENT)
    );
    assert_eq!(
        vfs.open(&mut c, root, b"/etc/passwd/x", O_CREAT | O_WRONLY, 0o644),
        Err(ENOTDIR)
    );
}

#[test]
fn unlink_hides_lower_entries_and_open_files_survive() {
    let mut vfs = sample();
    let root = vfs.root();
    let ino = vfs
        .open(&mut cx(), root, b"/etc/hosts", O_RDONLY, 0)
        .unwrap();
    vfs.unlink(&mut cx(), root, b"/etc/hosts").unwrap();
    assert_eq!(resolve(&mut vfs, "/etc/hosts"), Err(ENOENT));
    assert!(!list(&mut vfs, "/etc").contains(&String::from("hosts")));
    assert_eq!(
        read_all(&mut vfs, ino),
        b"10.0.0.1 image\n",
        "still readable while open"
    );
    assert_eq!(vfs.stat(ino).unwrap().nlink, 0);
    vfs.close(ino);
    assert_eq!(vfs.stat(ino), Err(ENOENT), "freed on last close");
    // Hard links count down.
    let one = resolve(&mut vfs, "/data/one").unwrap();
    vfs.unlink(&mut cx(), root, b"/data/one").unwrap();
    assert_eq!(vfs.stat(one).unwrap().nlink, 1);
    assert_eq!(cat(&mut vfs, "/data/one-again").unwrap(), b"1");
    assert_eq!(vfs.unlink(&mut cx(), root, b"/etc"), Err(EISDIR));
    assert_eq!(vfs.unlink(&mut cx(), root, b"/etc/passwd/"), Err(ENOTDIR));
    assert_eq!(vfs.unlink(&mut cx(), root, b"/etc/missing"), Err(ENOENT));
    // Unlinking a symlink removes the link, not its target.
    vfs.unlink(&mut cx(), root, b"/bin").unwrap();
    assert!(resolve(&mut vfs, "/usr/bin/prog").is_ok());
    assert_eq!(resolve(&mut vfs, "/bin/prog"), Err(ENOENT));
}

#[test]
fn mkdir_rmdir_and_link_counts() {
    let mut vfs = sample();
    let root = vfs.root();
    let root_links = vfs.stat(root).unwrap().nlink;
    let work = vfs.mkdir(&mut cx(), root, b"/work/", 0o700).unwrap();
    assert_eq!(vfs.stat(root).unwrap().nlink, root_links + 1);
    assert_eq!(vfs.stat(work).unwrap().mode, S_IFDIR | 0o700);
    assert_eq!(vfs.mkdir(&mut cx(), root, b"/work", 0o700), Err(EEXIST));
    assert_eq!(vfs.mkdir(&mut cx(), root, b"/etc/abs", 0o700), Err(EEXIST));
    vfs.mkdir(&mut cx(), root, b"/work/sub/", 0o755).unwrap();
    assert_eq!(vfs.stat(work).unwrap().nlink, 3);
    write_file(&mut vfs, "/work/sub/file", b"x");
    assert_eq!(vfs.rmdir(&mut cx(), root, b"/work"), Err(ENOTEMPTY));
    assert_eq!(
        vfs.rmdir(&mut cx(), root, b"/data"),
        Err(ENOTEMPTY),
        "lower entries count"
    );
    assert_eq!(vfs.rmdir(&mut cx(), root, b"/work/sub/file"), Err(ENOTDIR));
    assert_eq!(vfs.rmdir(&mut cx(), work, b"."), Err(EINVAL));
    assert_eq!(vfs.rmdir(&mut cx(), work, b".."), Err(ENOTEMPTY));
    assert_eq!(vfs.rmdir(&mut cx(), root, b"/"), Err(EBUSY));
    vfs.unlink(&mut cx(), root, b"/work/sub/file").unwrap();
    vfs.rmdir(&mut cx(), root, b"/work/sub").unwrap();
    assert_eq!(vfs.stat(work).unwrap().nlink, 2);
    // A removed directory that is still held (a cwd) refuses new entries.
    vfs.retain(work).unwrap();
    vfs.rmdir(&mut cx(), root, b"/work").unwrap();
    assert_eq!(
        vfs.open(&mut cx(), work, b"f", O_CREAT | O_WRONLY, 0o644),
        Err(ENOENT)
    );
    assert_eq!(vfs.path_of(work), Err(ENOENT));
    vfs.close(work);
    // Lower directories empty out too.
    vfs.mkdir(&mut cx(), root, b"/empty", 0o755).unwrap();
    vfs.unlink(&mut cx(), root, b"/loop/a").unwrap();
    vfs.unlink(&mut cx(), root, b"/loop/b").unwrap();
    vfs.unlink(&mut cx(), root, b"/loop/self").unwrap();
    vfs.rmdir(&mut cx(), root, b"/loop").unwrap();
    assert_eq!(resolve(&mut vfs, "/loop"), Err(ENOENT));
}

#[test]
fn rename_follows_posix_rules() {
    let mut vfs = sample();
    let root = vfs.root();
    let mut c = cx();
    let passwd = resolve(&mut vfs, "/etc/passwd").unwrap();
    // File over file: the target's old inode loses its name.
    let hosts = resolve(&mut vfs, "/etc/hosts").unwrap();
    vfs.rename(&mut c, root, b"/etc/passwd", root, b"/etc/hosts", 0)
        .unwrap();
    assert_eq!(
        resolve(&mut vfs, "/etc/hosts"),
        Ok(passwd),
        "inode numbers follow the file"
    );
    assert_eq!(resolve(&mut vfs, "/etc/passwd"), Err(ENOENT));
    assert_eq!(vfs.stat(hosts), Err(ENOENT));
    // Directory moves keep their contents and fix link counts and `..`.
    let data = resolve(&mut vfs, "/data").unwrap();
    vfs.mkdir(&mut c, root, b"/tmp/dst", 0o755).unwrap();
    let tmp_links = stat_of(&mut vfs, "/tmp").nlink;
    vfs.rename(&mut c, root, b"/data", root, b"/tmp/dst/data", 0)
        .unwrap();
    assert_eq!(resolve(&mut vfs, "/tmp/dst/data"), Ok(data));
    assert_eq!(cat(&mut vfs, "/tmp/dst/data/one").unwrap(), b"1");
    assert_eq!(vfs.path_of(data).unwrap(), b"/tmp/dst/data");
    assert_eq!(
        vfs.resolve(&mut c, data, b"..", true),
        resolve(&mut vfs, "/tmp/dst")
    );
    assert_eq!(stat_of(&mut vfs, "/tmp").nlink, tmp_links);
    // Errors.
    assert_eq!(
        vfs.rename(&mut c, root, b"/tmp/dst", root, b"/tmp/dst/data/inside", 0),
        Err(EINVAL)
    );
    assert_eq!(
        vfs.rename(&mut c, root, b"/tmp/dst", root, b"/etc/hosts", 0),
        Err(ENOTDIR)
    );
    assert_eq!(
        vfs.rename(&mut c, root, b"/etc/hosts", root, b"/tmp/dst", 0),
        Err(EISDIR)
    );
    vfs.mkdir(&mut c, root, b"/tmp/full", 0o755).unwrap();
    write_file(&mut vfs, "/tmp/full/x", b"");
    assert_eq!(
        vfs.rename(&mut c, root, b"/tmp/dst", root, b"/tmp/full", 0),
        Err(ENOTEMPTY)
    );
    assert_eq!(
        vfs.rename(&mut c, root, b"/etc/missing", root, b"/tmp/x", 0),
        Err(ENOENT)
    );
    assert_eq!(
        vfs.rename(&mut c, root, b"/etc/hosts", root, b"/tmp/x/", 0),
        Err(ENOTDIR)
    );
    assert_eq!(
        vfs.rename(&mut c, root, b"/etc/hosts", root, b"/proc/x", 0),
        Err(EXDEV)
    );
    // Directory over an empty directory.
    vfs.mkdir(&mut c, root, b"/tmp/empty", 0o755).unwrap();
    vfs.rename(&mut c, root, b"/tmp/dst", root, b"/tmp/empty", 0)
        .unwrap();
    assert_eq!(resolve(&mut vfs, "/tmp/empty/data"), Ok(data));
    // NOREPLACE and EXCHANGE.
    write_file(&mut vfs, "/tmp/a", b"A");
    write_file(&mut vfs, "/tmp/b", b"B");
    assert_eq!(
        vfs.rename(&mut c, root, b"/tmp/a", root, b"/tmp/b", RENAME_NOREPLACE),
        Err(EEXIST)
    );
    vfs.rename(&mut c, root, b"/tmp/a", root, b"/tmp/b", RENAME_EXCHANGE)
        .unwrap();
    assert_eq!(cat(&mut vfs, "/tmp/a").unwrap(), b"B");
    assert_eq!(cat(&mut vfs, "/tmp/b").unwrap(), b"A");
    assert_eq!(
        vfs.rename(&mut c, root, b"/tmp/a", root, b"/tmp/zz", RENAME_EXCHANGE),
        Err(ENOENT)
    );
    // Renaming a name onto another name of the same inode does nothing.
    vfs.link(&mut c, root, b"/tmp/a", root, b"/tmp/a2", false)
        .unwrap();
    vfs.rename(&mut c, root, b"/tmp/a", root, b"/tmp/a2", 0)
        .unwrap();
    assert!(resolve(&mut vfs, "/tmp/a").is_ok());
}

#[test]
fn symlink_link_and_attributes() {
    let mut vfs = sample();
    let root = vfs.root();
    let mut c = cx();
    c.now = Timespec {
        secs: 5000,
        nanos: 1,
    };
    c.uid = 1000;
    vfs.symlink(&mut c, b"../etc/passwd", root, b"/tmp/pw")
        .unwrap();
    assert_eq!(
        resolve(&mut vfs, "/tmp/pw"),
        resolve(&mut vfs, "/etc/passwd")
    );
    assert_eq!(vfs.symlink(&mut c, b"x", root, b"/tmp/pw"), Err(EEXIST));
    assert_eq!(vfs.symlink(&mut c, b"", root, b"/tmp/empty"), Err(ENOENT));
    let file = write_file(&mut vfs, "/tmp/f", b"data");
    vfs.link(&mut c, root, b"/tmp/f", root, b"/etc/f-link", false)
        .unwrap();
    assert_eq!(vfs.stat(file).unwrap().nlink, 2);
    assert_eq!(resolve(&mut vfs, "/etc/f-link"), Ok(file));
    assert_eq!(
        vfs.link(&mut c, root, b"/etc", root, b"/tmp/etc", false),
        Err(EPERM)
    );
    assert_eq!(
        vfs.link(&mut c, root, b"/tmp/f", root, b"/etc/passwd", false),
        Err(EEXIST)
    );
    // Linking a symlink without following links the symlink itself.
    vfs.link(&mut c, root, b"/tmp/pw", root, b"/tmp/pw2", false)
        .unwrap();
    let pw2 = vfs.resolve(&mut c, root, b"/tmp/pw2", false).unwrap();
    assert_eq!(vfs.stat(pw2).unwrap().mode & S_IFMT, S_IFLNK);
    vfs.link(&mut c, root, b"/tmp/pw", root, b"/tmp/pw3", true)
        .unwrap();
    assert_eq!(
        resolve(&mut vfs, "/tmp/pw3"),
        resolve(&mut vfs, "/etc/passwd")
    );
    // chmod / chown / utimens.
    let passwd = resolve(&mut vfs, "/etc/passwd").unwrap();
    vfs.chmod(&mut c, passwd, 0o4600).unwrap();
    vfs.chown(&mut c, passwd, Some(7), None).unwrap();
    vfs.set_times(
        &mut c,
        passwd,
        TimeUpdate::Set(Timespec { secs: 9, nanos: 0 }),
        TimeUpdate::Omit,
    )
    .unwrap();
    let stat = vfs.stat(passwd).unwrap();
    assert_eq!((stat.mode, stat.uid, stat.gid), (S_IFREG | 0o4600, 7, 0));
    assert_eq!(stat.atime, Timespec { secs: 9, nanos: 0 });
    assert_eq!(stat.mtime, Timespec { secs: 77, nanos: 0 });
    assert_eq!(stat.ctime, c.now);
    vfs.set_times(&mut c, passwd, TimeUpdate::Omit, TimeUpdate::Now)
        .unwrap();
    assert_eq!(vfs.stat(passwd).unwrap().mtime, c.now);
    // New files belong to the caller and carry its clock.
    let pw = vfs.resolve(&mut c, root, b"/tmp/pw", false).unwrap();
    let stat = vfs.stat(pw).unwrap();
    assert_eq!((stat.uid, stat.mtime, stat.size), (1000, c.now, 13));
}

#[test]
fn anonymous_files_are_private_writable_and_freed_by_their_last_close() {
    let mut vfs = sample();
    let mut c = cx();
    let before = list(&mut vfs, "/tmp");
    let memfd = vfs.create_anonymous(&mut c, 0o777).unwrap();
    // Nothing in the tree names it, so even a read-only overlay lets it be written.
    vfs.set_read_only(true);
    assert_eq!(vfs.write(&mut c, memfd, 0, b"scratch"), Ok(7));
    vfs.truncate(&mut c, memfd, 3).unwrap();
    assert_eq!(read_all(&mut vfs, memfd), b"scr");
    let stat = vfs.stat(memfd).unwrap();
    assert_eq!((stat.mode, stat.size, stat.nlink), (S_IFREG | 0o777, 3, 0));
    assert_eq!(list(&mut vfs, "/tmp"), before);
    // A dup'd fd keeps it alive; the last close drops it from the overlay.
    vfs.retain(memfd).unwrap();
    vfs.close(memfd);
    assert_eq!(vfs.stat(memfd).map(|s| s.size), Ok(3));
    vfs.close(memfd);
    assert_eq!(vfs.stat(memfd).map(|s| s.size), Err(ENOENT));
    // Named files on a read-only overlay stay protected.
    let named = resolve(&mut vfs, "/data/one").unwrap();
    assert_eq!(vfs.write(&mut c, named, 0, b"x"), Err(EROFS));
    assert_eq!(vfs.truncate(&mut c, named, 0), Err(EROFS));
}

#[test]
fn tmpfile_mknod_and_limits() {
    let mut vfs = sample();
    let root = vfs.root();
    let mut c = cx();
    let tmp = vfs
        .open(&mut c, root, b"/tmp", O_TMPFILE | O_RDWR, 0o600)
        .unwrap();
    vfs.write(&mut c, tmp, 0, b"anon").unwrap();
    assert_eq!(vfs.stat(tmp).unwrap().nlink, 0);
    vfs.link_inode(&mut c, tmp, root, b"/tmp/named").unwrap();
    assert_eq!(cat(&mut vfs, "/tmp/named").unwrap(), b"anon");
    let fifo = vfs
        .mknod(&mut c, root, b"/tmp/fifo", S_IFIFO | 0o644, 0)
        .unwrap();
    assert_eq!(vfs.stat(fifo).unwrap().mode, S_IFIFO | 0o644);
    let null2 = vfs
        .mknod(&mut c, root, b"/tmp/null2", S_IFCHR | 0o666, makedev(1, 3))
        .unwrap();
    assert_eq!(vfs.device(null2), Some(Device::Null));
    assert_eq!(
        vfs.mknod(&mut c, root, b"/tmp/d", S_IFDIR | 0o755, 0),
        Err(EINVAL)
    );
    vfs.set_max_file_size(1 << 20);
    let big = write_file(&mut vfs, "/tmp/big", b"");
    assert_eq!(vfs.truncate(&mut c, big, 1 << 40), Err(EFBIG));
    assert_eq!(vfs.write(&mut c, big, u64::MAX - 1, b"xx"), Err(EFBIG));
    vfs.set_read_only(true);
    assert_eq!(vfs.mkdir(&mut c, root, b"/ro", 0o755), Err(EROFS));
    assert_eq!(vfs.write(&mut c, big, 0, b"x"), Err(EROFS));
    assert_eq!(
        vfs.open(&mut c, root, b"/etc/passwd", O_WRONLY, 0),
        Err(EROFS)
    );
    assert_eq!(cat(&mut vfs, "/etc/passwd").unwrap().len(), 30);
}

#[test]
fn dev_files() {
    let mut vfs = Vfs::empty();
    let root = vfs.root();
    let mut c = cx();
    let open = |vfs: &mut Vfs, c: &mut ProcessView, path: &[u8]| {
        vfs.open(c, root, path, O_RDWR, 0).unwrap()
    };
    let null = open(&mut vfs, &mut c, b"/dev/null");
    let mut buf = [9u8; 16];
    assert_eq!(vfs.read(&mut c, null, 0, &mut buf), Ok(0));
    assert_eq!(vfs.write(&mut c, null, 0, b"gone"), Ok(4));
    let zero = open(&mut vfs, &mut c, b"/dev/zero");
    assert_eq!(vfs.read(&mut c, zero, 0, &mut buf), Ok(16));
    assert_eq!(buf, [0u8; 16]);
    let full = open(&mut vfs, &mut c, b"/dev/full");
    assert_eq!(vfs.write(&mut c, full, 0, b"x"), Err(ENOSPC));
    let urandom = open(&mut vfs, &mut c, b"/dev/urandom");
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    vfs.read(&mut c, urandom, 0, &mut a).unwrap();
    vfs.read(&mut c, urandom, 0, &mut b).unwrap();
    assert_ne!(a, b);
    assert_ne!(a, [0u8; 32]);
    let tty = open(&mut vfs, &mut c, b"/dev/tty");
    assert_eq!(vfs.device(tty), Some(Device::Tty));
    assert_eq!(
        vfs.read(&mut c, tty, 0, &mut buf),
        Err(ENXIO),
        "the caller serves the terminal"
    );
    for (name, target) in [("stdin", "0"), ("stdout", "1"), ("stderr", "2")] {
        let path = alloc::format!("/dev/{name}");
        assert_eq!(
            vfs.readlink(&mut c, root, path.as_bytes()).unwrap(),
            alloc::format!("/proc/self/fd/{target}").as_bytes()
        );
    }
    assert_eq!(
        vfs.readlink(&mut c, root, b"/dev/fd").unwrap(),
        b"/proc/self/fd"
    );
    assert!(list(&mut vfs, "/dev").contains(&String::from("shm")));
}

#[test]
fn proc_self_from_the_context() {
    let mut vfs = sample();
    let root = vfs.root();
    let mut c = cx();
    c.cwd = b"/tmp".to_vec();
    c.cmdline = b"prog\0-v\0".to_vec();
    c.fds = vec![
        (0, b"/dev/tty".to_vec()),
        (1, b"pipe:[7]".to_vec()),
        (3, b"/etc/passwd".to_vec()),
    ];
    c.maps = vec![
        Mapping {
            start: 0x10000,
            end: 0x11000,
            read: true,
            exec: true,
            path: b"/usr/bin/prog".to_vec(),
            ..Mapping::default()
        },
        Mapping {
            start: 0x20000,
            end: 0x22000,
            read: true,
            write: true,
            path: b"[heap]".to_vec(),
            ..Mapping::default()
        },
        Mapping {
            start: 0x30000,
            end: 0x31000,
            read: true,
            ..Mapping::default()
        },
    ];
    c.stat.comm = b"prog".to_vec();
    c.stat.ppid = 1;
    assert_eq!(vfs.readlink(&mut c, root, b"/proc/self").unwrap(), b"42");
    assert_eq!(
        vfs.readlink(&mut c, root, b"/proc/self/exe").unwrap(),
        b"/usr/bin/prog"
    );
    assert_eq!(
        vfs.readlink(&mut c, root, b"/proc/42/exe").unwrap(),
        b"/usr/bin/prog"
    );
    assert_eq!(vfs.resolve(&mut c, root, b"/proc/43", true), Err(ENOENT));
    assert_eq!(
        vfs.resolve(&mut c, root, b"/proc/self/exe", true),
        resolve(&mut vfs, "/usr/bin/prog")
    );
    assert_eq!(
        vfs.resolve(&mut c, root, b"/proc/self/cwd", true),
        resolve(&mut vfs, "/tmp")
    );
    assert_eq!(
        vfs.readlink(&mut c, root, b"/proc/self/fd/1").unwrap(),
        b"pipe:[7]"
    );
    assert_eq!(
        vfs.resolve(&mut c, root, b"/proc/self/fd/2", true),
        Err(ENOENT)
    );
    assert_eq!(
        vfs.resolve(&mut c, root, b"/proc/self/fd/01", true),
        Err(ENOENT)
    );
    // A final fd link is a magic link: the caller reopens its own descriptor.
    let stdin = vfs.resolve(&mut c, root, b"/dev/stdin", true).unwrap();
    assert_eq!(vfs.proc_fd(stdin), Some(0));
    let three = vfs
        .open(&mut c, root, b"/proc/self/fd/3", O_RDONLY, 0)
        .unwrap();
    assert_eq!(vfs.proc_fd(three), Some(3));
    let mut fd_names = Vec::new();
    let fd_dir = vfs.resolve(&mut c, root, b"/proc/self/fd", true).unwrap();
    vfs.read_dir(&mut c, fd_dir, 0, &mut |e| {
        fd_names.push(String::from_utf8_lossy(e.name).into_owned());
        true
    })
    .unwrap();
    assert_eq!(fd_names, [".", "..", "0", "1", "3"]);
    let proc_listing = {
        let proc_ino = vfs.resolve(&mut c, root, b"/proc", true).unwrap();
        let mut names = Vec::new();
        vfs.read_dir(&mut c, proc_ino, 0, &mut |e| {
            names.push(String::from_utf8_lossy(e.name).into_owned());
            true
        })
        .unwrap();
        names
    };
    assert!(
        proc_listing.contains(&String::from("42")) && proc_listing.contains(&String::from("self"))
    );
    let read = |vfs: &mut Vfs, c: &mut ProcessView, path: &[u8]| {
        let ino = vfs.open(c, root, path, O_RDONLY, 0).unwrap();
        let mut out = vec![0u8; 8192];
        let n = vfs.read(c, ino, 0, &mut out).unwrap();
        out.truncate(n);
        String::from_utf8(out).unwrap()
    };
    let maps = read(&mut vfs, &mut c, b"/proc/self/maps");
    let lines: Vec<&str> = maps.lines().collect();
    assert_eq!(lines[0].find("/usr/bin/prog"), Some(73), "{maps}");
    assert!(
        lines[0].starts_with("00010000-00011000 r-xp 00000000 00:00 0 "),
        "{maps}"
    );
    assert!(lines[1].ends_with("[heap]") && lines[1].contains(" rw-p "));
    assert_eq!(lines[2], "00030000-00031000 r--p 00000000 00:00 0");
    let stat = read(&mut vfs, &mut c, b"/proc/self/stat");
    assert!(stat.starts_with("42 (prog) R 1 "), "{stat}");
    assert_eq!(stat.split_whitespace().count(), 52, "{stat}");
    assert_eq!(read(&mut vfs, &mut c, b"/proc/self/cmdline"), "prog\0-v\0");
    assert!(read(&mut vfs, &mut c, b"/proc/cpuinfo").contains("isa\t\t: rv64imafdc"));
    assert!(read(&mut vfs, &mut c, b"/proc/meminfo").starts_with("MemTotal:"));
    assert!(read(&mut vfs, &mut c, b"/proc/mounts").contains("proc /proc proc"));
    assert!(read(&mut vfs, &mut c, b"/proc/self/status").contains("Pid:\t42\n"));
    // /proc is read-only and its own device.
    assert_eq!(
        vfs.open(&mut c, root, b"/proc/cpuinfo", O_WRONLY, 0),
        Err(EACCES)
    );
    assert_eq!(
        vfs.open(&mut c, root, b"/proc/new", O_CREAT | O_WRONLY, 0o644),
        Err(EACCES)
    );
    assert_eq!(vfs.mkdir(&mut c, root, b"/proc/self/x", 0o755), Err(EACCES));
    assert_eq!(vfs.unlink(&mut c, root, b"/proc/cpuinfo"), Err(EACCES));
    let cpuinfo = vfs.resolve(&mut c, root, b"/proc/cpuinfo", true).unwrap();
    assert_eq!(vfs.stat(cpuinfo).unwrap().dev, DEV_PROC);
    assert_eq!(vfs.chmod(&mut c, cpuinfo, 0o777), Err(EPERM));
    assert_eq!(vfs.path_of(fd_dir).unwrap(), b"/proc/self/fd");
}

#[test]
fn etc_defaults_only_when_the_image_has_none() {
    let mut vfs = sample();
    assert_eq!(cat(&mut vfs, "/etc/hosts").unwrap(), b"10.0.0.1 image\n");
    assert_eq!(
        cat(&mut vfs, "/etc/resolv.conf").unwrap(),
        b"nameserver 127.0.0.1\n"
    );
    let mut vfs = image(TarBuilder::new().symlink("etc/resolv.conf", "../run/resolv.conf"));
    assert_eq!(
        cat(&mut vfs, "/etc/resolv.conf"),
        Err(ENOENT),
        "a dangling link is the image's choice"
    );
    assert!(cat(&mut vfs, "/etc/hosts")
        .unwrap()
        .starts_with(b"127.0.0.1"));
    let mut vfs = Vfs::empty();
    assert!(cat(&mut vfs, "/etc/hosts").is_ok());
    assert_eq!(stat_of(&mut vfs, "/tmp").mode, S_IFDIR | 0o1777);
    // An image whose /dev is a file still gets a /dev directory.
    let mut vfs = image(
        TarBuilder::new()
            .file("dev", b"not a dir")
            .file("proc", b"nor this"),
    );
    assert!(resolve(&mut vfs, "/dev/null").is_ok());
    assert!(resolve(&mut vfs, "/proc/cpuinfo").is_ok());
}

#[test]
fn getcwd_paths() {
    let mut vfs = sample();
    let root = vfs.root();
    assert_eq!(vfs.path_of(root).unwrap(), b"/");
    let bin = resolve(&mut vfs, "/bin").unwrap();
    assert_eq!(vfs.path_of(bin).unwrap(), b"/usr/bin");
    let file = resolve(&mut vfs, "/etc/passwd").unwrap();
    assert_eq!(vfs.path_of(file), Err(ENOTDIR));
}

#[cfg(all(feature = "std", unix))]
mod host_dir {
    use super::*;
    extern crate std;
    use std::fs;
    use std::os::unix::fs::symlink;

    #[test]
    fn serves_a_host_directory_without_escaping_it() {
        let base =
            std::env::temp_dir().join(alloc::format!("friscy-hostdir-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let root = base.join("root");
        let outside = base.join("outside");
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret"), b"host secret").unwrap();
        fs::write(root.join("etc/secret"), b"guest file").unwrap();
        fs::write(root.join("etc/data"), b"0123456789").unwrap();
        fs::hard_link(root.join("etc/data"), root.join("etc/data2")).unwrap();
        symlink(&outside, root.join("escape-abs")).unwrap();
        symlink("../outside", root.join("escape-rel")).unwrap();
        symlink("/etc/secret", root.join("abs-inside")).unwrap();
        let mut vfs = Vfs::from_host_dir(&root).unwrap();
        assert_eq!(cat(&mut vfs, "/etc/data").unwrap(), b"0123456789");
        assert_eq!(cat(&mut vfs, "/abs-inside").unwrap(), b"guest file");
        // The absolute link to the host's outside directory means /<that path> in the guest.
        let inside_path = "/escape-abs/secret";
        assert_eq!(cat(&mut vfs, inside_path), Err(ENOENT));
        assert_eq!(cat(&mut vfs, "/escape-rel/secret"), Err(ENOENT));
        assert_eq!(
            resolve(&mut vfs, "/etc/data"),
            resolve(&mut vfs, "/etc/data2")
        );
        assert_eq!(stat_of(&mut vfs, "/etc/data").nlink, 2);
        // Writes go to the overlay, never to the host.
        write_file(&mut vfs, "/etc/data", b"changed");
        assert_eq!(cat(&mut vfs, "/etc/data2").unwrap(), b"changed");
        assert_eq!(fs::read(root.join("etc/data")).unwrap(), b"0123456789");
        write_file(&mut vfs, "/new", b"n");
        assert!(!root.join("new").exists());
        // A file swapped for a symlink behind the VFS's back is not read through.
        let mut vfs = Vfs::from_host_dir(&root).unwrap();
        let secret = resolve(&mut vfs, "/etc/secret").unwrap();
        fs::remove_file(root.join("etc/secret")).unwrap();
        symlink(outside.join("secret"), root.join("etc/secret")).unwrap();
        let mut buf = [0u8; 32];
        assert!(vfs.read(&mut cx(), secret, 0, &mut buf).is_err());
        let _ = fs::remove_dir_all(&base);
    }
}

#[cfg(feature = "std")]
#[test]
#[ignore = "timing: FRISCY_TAR=path cargo test --release -p friscy-core index_timing -- --ignored --nocapture"]
fn index_timing() {
    extern crate std;
    let Ok(path) = std::env::var("FRISCY_TAR") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let index = tar::TarIndex::build(&bytes).unwrap();
        best = best.min(start.elapsed());
        assert!(index.node_count() > 1);
    }
    let index = tar::TarIndex::build(&bytes).unwrap();
    std::println!(
        "{path}: {} MB, {} nodes, indexed in {:?} (best of 5)",
        bytes.len() / 1_000_000,
        index.node_count(),
        best
    );
}

/// Every path of a tree built by scripts/debian-rootfs.sh looks the same through the tar
/// layer and through the host-directory layer.
#[cfg(all(feature = "std", unix))]
#[test]
#[ignore = "needs a built rootfs: FRISCY_ROOTFS=OUTDIR cargo test -p friscy-core rootfs_tar_matches_tree -- --ignored"]
fn rootfs_tar_matches_tree() {
    extern crate std;
    let Ok(out) = std::env::var("FRISCY_ROOTFS") else {
        return;
    };
    let out = std::path::PathBuf::from(out);
    let bytes = std::fs::read(out.join("rootfs.tar")).unwrap();
    let mut tar_vfs = Vfs::from_tar(ImageBytes::Owned(bytes.into_boxed_slice())).unwrap();
    let mut dir_vfs = Vfs::from_host_dir(out.join("root")).unwrap();
    let mut c = cx();
    let mut pending = vec![Vec::from(&b"/"[..])];
    let mut checked = 0;
    while let Some(path) = pending.pop() {
        if path.starts_with(b"/proc") || path.starts_with(b"/dev") {
            continue;
        }
        let (t_root, d_root) = (tar_vfs.root(), dir_vfs.root());
        let t = tar_vfs.resolve(&mut c, t_root, &path, false).unwrap();
        let d = dir_vfs.resolve(&mut c, d_root, &path, false).unwrap();
        let (ts, ds) = (tar_vfs.stat(t).unwrap(), dir_vfs.stat(d).unwrap());
        let shown = String::from_utf8_lossy(&path).into_owned();
        assert_eq!(ts.mode, ds.mode, "{shown}");
        checked += 1;
        match ts.mode & S_IFMT {
            S_IFREG => {
                assert_eq!(ts.size, ds.size, "{shown}");
                assert_eq!(
                    read_all(&mut tar_vfs, t),
                    read_all(&mut dir_vfs, d),
                    "{shown}"
                );
            }
            S_IFLNK => assert_eq!(
                tar_vfs.read_link(&mut c, t),
                dir_vfs.read_link(&mut c, d),
                "{shown}"
            ),
            S_IFDIR => {
                let mut names = Vec::new();
                tar_vfs
                    .read_dir(&mut c, t, 2, &mut |e| {
                        names.push(e.name.to_vec());
                        true
                    })
                    .unwrap();
                let mut dir_names = Vec::new();
                dir_vfs
                    .read_dir(&mut c, d, 2, &mut |e| {
                        dir_names.push(e.name.to_vec());
                        true
                    })
                    .unwrap();
                names.sort();
                dir_names.sort();
                assert_eq!(names, dir_names, "{shown}");
                for name in names {
                    let mut child = path.clone();
                    if child.len() > 1 {
                        child.push(b'/');
                    }
                    child.extend_from_slice(&name);
                    pending.push(child);
                }
            }
            _ => {}
        }
    }
    // The dynamic loader is reached through the merged-/usr link, as the kernel would.
    let root = tar_vfs.root();
    let loader = tar_vfs
        .resolve(&mut c, root, b"/lib/ld-linux-riscv64-lp64d.so.1", true)
        .unwrap();
    assert!(tar_vfs.contents(loader).unwrap().starts_with(b"\x7fELF"));
    std::println!("{checked} paths agree");
}

/// An embedder's own read-only tree: root (0) holds `hello` (1) and `link` (2) → hello.
struct TinyLayer;

impl LowerLayer for TinyLayer {
    fn root(&self) -> LowerId {
        0
    }
    fn stat(&mut self, id: LowerId) -> VfsResult<LowerStat> {
        let (kind, perm, size) = match id {
            0 => (FileType::Directory, 0o755, 0),
            1 => (FileType::Regular, 0o644, 5),
            2 => (FileType::Symlink, 0o777, 5),
            _ => return Err(ENOENT),
        };
        Ok(LowerStat {
            kind,
            perm,
            uid: 0,
            gid: 0,
            nlink: 1,
            size,
            rdev: 0,
            mtime: Timespec::default(),
        })
    }
    fn list(&mut self, dir: LowerId, out: &mut Vec<(Vec<u8>, LowerId)>) -> VfsResult<()> {
        if dir == 0 {
            out.push((b"hello".to_vec(), 1));
            out.push((b"link".to_vec(), 2));
        }
        Ok(())
    }
    fn read(&mut self, id: LowerId, offset: u64, buf: &mut [u8]) -> VfsResult<usize> {
        let data: &[u8] = if id == 1 {
            b"world"
        } else {
            return Err(EINVAL);
        };
        let start = (offset as usize).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }
    fn read_link(&mut self, id: LowerId) -> VfsResult<Vec<u8>> {
        if id == 2 {
            Ok(b"hello".to_vec())
        } else {
            Err(EINVAL)
        }
    }
}

#[test]
fn custom_lower_layer() {
    let mut vfs = Vfs::new(Lower::Custom(alloc::boxed::Box::new(TinyLayer)));
    assert_eq!(cat(&mut vfs, "/link").unwrap(), b"world");
    write_file(&mut vfs, "/hello", b"changed");
    assert_eq!(cat(&mut vfs, "/hello").unwrap(), b"changed");
    assert!(list(&mut vfs, "/").contains(&String::from("proc")));
    let new = write_file(&mut vfs, "/new", b"");
    assert!(
        new >= 1 << 32,
        "overlay inodes stay clear of the layer's ids"
    );
}
