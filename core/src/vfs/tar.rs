//! Index of a rootfs tar: one pass over the headers builds a tree of nodes whose file data stays in the tar bytes.
//!
//! Headers are walked with `tar-no-std` when it accepts the archive. It refuses some archives
//! a rootfs commonly is (GNU format with `L`/`K` long-name entries, sparse or dump-dir
//! entries, a missing end-of-archive marker), so those are walked by `walk_headers` here
//! instead. Either way the fields tar-no-std cannot give are decoded from the raw header
//! block: names are only offered as UTF-8 `&str` (a rootfs may hold other bytes), `mtime` is
//! read as decimal although tar stores it in octal, PAX records (`path`, `linkpath`, `size`,
//! ...) are skipped rather than applied, and GNU base-256 numbers are not understood.
//!
//! Archive member names are normalised like an extracting `tar` would: leading `/` and `./`
//! are dropped, members naming `..` are skipped, later duplicates replace earlier ones, and
//! missing parent directories exist implicitly. Nothing in an archive can name a node outside
//! the tree, and symlink targets are only text that the VFS resolves inside the root.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::hash::BuildHasher;
use hashbrown::{DefaultHashBuilder, HashTable};

use super::{NAME_MAX, PATH_MAX};

/// Tar block size: headers and data are aligned to it.
const BLOCK: usize = 512;
/// Marks "no slot" in the child lists.
const NONE: u32 = u32::MAX;

/// The bytes of a rootfs image, borrowed for the life of the program or owned by the VFS.
///
/// A C host that keeps the image mapped for as long as the machine lives hands in a
/// `'static` borrow (no copy); one that cannot promise that hands over owned bytes. A Rust
/// host that memory-maps the file can pass the mapping as [`ImageBytes::Shared`].
pub enum ImageBytes {
    Static(&'static [u8]),
    Owned(Box<[u8]>),
    Shared(Box<dyn AsRef<[u8]> + Send + Sync>),
}

impl ImageBytes {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            ImageBytes::Static(bytes) => bytes,
            ImageBytes::Owned(bytes) => bytes,
            ImageBytes::Shared(bytes) => (**bytes).as_ref(),
        }
    }
}

impl core::fmt::Debug for ImageBytes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ImageBytes({} bytes)", self.as_slice().len())
    }
}

/// Why an archive could not be indexed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TarError {
    /// The header at this byte offset fails its checksum (not a tar, or corrupt).
    BadChecksum { offset: u64 },
    /// A numeric field of the header at this offset is not a number.
    BadHeader { offset: u64 },
    /// The archive ends inside the header or data that starts at this offset.
    Truncated { offset: u64 },
    /// More than `u32::MAX` nodes or name bytes.
    TooLarge,
}

impl core::fmt::Display for TarError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TarError::BadChecksum { offset } => {
                write!(f, "tar header at byte {offset} has a bad checksum")
            }
            TarError::BadHeader { offset } => {
                write!(f, "tar header at byte {offset} has a malformed number")
            }
            TarError::Truncated { offset } => {
                write!(f, "tar archive is truncated in the member at byte {offset}")
            }
            TarError::TooLarge => f.write_str("tar archive has too many members"),
        }
    }
}

/// What a node is, with where its content lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TarNodeKind {
    /// Regular file: `size` bytes at `offset` in the tar.
    File {
        offset: u64,
        size: u64,
    },
    Dir,
    /// Symbolic link; the target is `len` bytes at `start` in the index's string arena.
    Symlink {
        start: u32,
        len: u32,
    },
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Fifo,
}

/// One file system object of the archive (hard links share one).
#[derive(Clone, Debug)]
pub struct TarNode {
    pub kind: TarNodeKind,
    /// Permission bits (`0o7777`).
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    /// Names that refer to this node (for directories see [`TarIndex::nlink`]).
    links: u32,
    /// Directories only: the containing directory, first and last child slot, number of
    /// subdirectories.
    parent: u32,
    first_child: u32,
    last_child: u32,
    subdirs: u32,
}

/// A directory entry: `name` in directory `parent` refers to `node`.
#[derive(Clone, Copy, Debug)]
struct Slot {
    parent: u32,
    name_start: u32,
    name_len: u32,
    node: u32,
    next: u32,
}

/// Metadata of a member as read from its header(s).
#[derive(Clone, Copy, Debug, Default)]
struct Meta {
    perm: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
}

/// The searchable tree of an archive.
#[derive(Clone)]
pub struct TarIndex {
    nodes: Vec<TarNode>,
    slots: Vec<Slot>,
    strings: Vec<u8>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl core::fmt::Debug for TarIndex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TarIndex")
            .field("nodes", &self.nodes.len())
            .field("names", &self.slots.len())
            .finish()
    }
}

impl TarIndex {
    /// The root directory's node id.
    pub const ROOT: u32 = 0;

    /// Indexes `bytes`. File data is not copied: nodes record where it lies.
    pub fn build(bytes: &[u8]) -> Result<TarIndex, TarError> {
        if let Some(index) = Self::build_with_tar_no_std(bytes) {
            return Ok(index);
        }
        let mut builder = Builder::new(bytes);
        walk_headers(bytes, |header, payload| builder.member(header, payload))?;
        Ok(builder.finish())
    }

    /// Indexes through tar-no-std's validated header iterator; `None` when it refuses the
    /// archive or a PAX record changes a member's size (its iterator would then step wrongly).
    fn build_with_tar_no_std(bytes: &[u8]) -> Option<TarIndex> {
        let archive = tar_no_std::TarArchiveRef::new(bytes).ok()?;
        let mut builder = Builder::new(bytes);
        for (block, header) in archive.headers() {
            let offset = block.checked_mul(BLOCK)?;
            let raw = bytes.get(offset..offset.checked_add(BLOCK)?)?;
            let mut parsed = RawHeader::parse(raw, offset as u64).ok()?;
            // Fields tar-no-std decodes correctly come from it; the rest stay as parsed above.
            parsed.typeflag = header.typeflag.try_to_type_flag().ok()? as u8;
            parsed.size = header.size.as_number::<u64>().ok()?;
            if let Ok(mode) = header.mode.to_flags() {
                parsed.meta.perm = mode.bits() as u32;
            }
            if let Ok(uid) = header.uid.as_number::<u32>() {
                parsed.meta.uid = uid;
            }
            if let Ok(gid) = header.gid.as_number::<u32>() {
                parsed.meta.gid = gid;
            }
            if let (Ok(major), Ok(minor)) = (
                header.dev_major.as_number::<u32>(),
                header.dev_minor.as_number::<u32>(),
            ) {
                parsed.dev = (major, minor);
            }
            if builder.pending.size.is_some_and(|size| size != parsed.size) {
                return None;
            }
            let payload_start = offset + BLOCK;
            let payload_len = if has_payload(parsed.typeflag) {
                parsed.size as usize
            } else {
                0
            };
            let payload = bytes.get(payload_start..payload_start.checked_add(payload_len)?)?;
            builder.member(&parsed, payload).ok()?;
        }
        Some(builder.finish())
    }

    pub fn node(&self, id: u32) -> Option<&TarNode> {
        self.nodes.get(id as usize)
    }

    /// A hash of everything the index records: each node's kind, data offset and size,
    /// mode, owner and mtime, and every name and link target.
    pub fn fingerprint(&self) -> u64 {
        use crate::snapshot::hash64;
        let mut h = hash64(self.nodes.len() as u64, &self.strings);
        for node in &self.nodes {
            let (tag, a, b) = match node.kind {
                TarNodeKind::File { offset, size } => (0, offset, size),
                TarNodeKind::Dir => (1, 0, 0),
                TarNodeKind::Symlink { start, len } => (2, start.into(), len.into()),
                TarNodeKind::CharDevice { major, minor } => (3, major.into(), minor.into()),
                TarNodeKind::BlockDevice { major, minor } => (4, major.into(), minor.into()),
                TarNodeKind::Fifo => (5, 0, 0),
            };
            let mut fields = [0u8; 48];
            fields[..8].copy_from_slice(&(tag | u64::from(node.perm) << 8).to_le_bytes());
            fields[8..16].copy_from_slice(&a.to_le_bytes());
            fields[16..24].copy_from_slice(&b.to_le_bytes());
            fields[24..32]
                .copy_from_slice(&(u64::from(node.uid) | u64::from(node.gid) << 32).to_le_bytes());
            fields[32..40].copy_from_slice(&node.mtime.to_le_bytes());
            fields[40..48].copy_from_slice(
                &(u64::from(node.links) | u64::from(node.parent) << 32).to_le_bytes(),
            );
            h = hash64(h, &fields);
        }
        for slot in &self.slots {
            let mut fields = [0u8; 16];
            fields[..8].copy_from_slice(
                &(u64::from(slot.parent) | u64::from(slot.node) << 32).to_le_bytes(),
            );
            fields[8..].copy_from_slice(
                &(u64::from(slot.name_start) | u64::from(slot.name_len) << 32).to_le_bytes(),
            );
            h = hash64(h, &fields);
        }
        h
    }

    /// Number of nodes (ids are `0..node_count()`).
    pub fn node_count(&self) -> u32 {
        self.nodes.len() as u32
    }

    /// Link count as `stat` reports it: names for files, `2 + subdirectories` for directories.
    pub fn nlink(&self, id: u32) -> u32 {
        match self.nodes.get(id as usize) {
            Some(node) if node.kind == TarNodeKind::Dir => 2 + node.subdirs,
            Some(node) => node.links,
            None => 0,
        }
    }

    /// The directory containing directory `id` (the root contains itself).
    pub fn parent(&self, id: u32) -> u32 {
        self.nodes
            .get(id as usize)
            .map_or(Self::ROOT, |node| node.parent)
    }

    /// The node named `name` in directory `dir` (no symlink is followed).
    pub fn lookup(&self, dir: u32, name: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one((dir, name));
        let slot = self
            .table
            .find(hash, |&slot| self.slot_is(slot, dir, name))?;
        Some(self.slots[*slot as usize].node)
    }

    /// Visits the entries of directory `dir` in archive order.
    pub fn for_each_child(&self, dir: u32, mut visit: impl FnMut(&[u8], u32)) {
        let Some(node) = self.nodes.get(dir as usize) else {
            return;
        };
        let mut slot = node.first_child;
        while slot != NONE {
            let entry = &self.slots[slot as usize];
            visit(self.string(entry.name_start, entry.name_len), entry.node);
            slot = entry.next;
        }
    }

    /// The target text of symlink `id`.
    pub fn symlink_target(&self, id: u32) -> Option<&[u8]> {
        match self.nodes.get(id as usize)?.kind {
            TarNodeKind::Symlink { start, len } => Some(self.string(start, len)),
            _ => None,
        }
    }

    fn string(&self, start: u32, len: u32) -> &[u8] {
        &self.strings[start as usize..start as usize + len as usize]
    }

    fn slot_is(&self, slot: u32, dir: u32, name: &[u8]) -> bool {
        let entry = &self.slots[slot as usize];
        entry.parent == dir && self.string(entry.name_start, entry.name_len) == name
    }
}

/// Whether data blocks follow a header of this type. Links, devices, directories and FIFOs
/// carry none; everything else (files, PAX and GNU extension records, unknown types, which
/// POSIX says to read as files) does.
fn has_payload(typeflag: u8) -> bool {
    !matches!(typeflag, b'1'..=b'6')
}

/// The fields of one header block that the index uses.
#[derive(Clone, Copy, Debug)]
struct RawHeader<'a> {
    offset: u64,
    typeflag: u8,
    /// ustar prefix (empty unless the magic is POSIX `ustar\0`) and name.
    prefix: &'a [u8],
    name: &'a [u8],
    linkname: &'a [u8],
    size: u64,
    meta: Meta,
    dev: (u32, u32),
}

/// Bytes of a NUL-terminated header field.
fn field(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

/// A numeric header field: octal text (space or NUL padded) or GNU base-256 (high bit set).
fn number(bytes: &[u8]) -> Option<i64> {
    if bytes.first().is_some_and(|&b| b & 0x80 != 0) {
        // GNU base-256: big-endian; a positive value has only the marker bit set in its first
        // byte, a negative one is the two's complement of the whole field.
        let negative = bytes[0] & 0x40 != 0;
        let mut value: i128 = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let b = if i == 0 && !negative { b & 0x7f } else { b };
            value = value.checked_mul(256)?.checked_add(i128::from(b))?;
        }
        if negative {
            value -= 1i128.checked_shl(8 * bytes.len() as u32)?;
        }
        return i64::try_from(value).ok();
    }
    let text = field(bytes);
    let text = text.trim_ascii();
    let mut value: i64 = 0;
    for &digit in text {
        if !(b'0'..=b'7').contains(&digit) {
            return None;
        }
        value = value.checked_mul(8)?.checked_add(i64::from(digit - b'0'))?;
    }
    Some(value)
}

impl<'a> RawHeader<'a> {
    /// Decodes a header block (checksum already verified by the caller).
    fn parse(block: &'a [u8], offset: u64) -> Result<RawHeader<'a>, TarError> {
        let bad = TarError::BadHeader { offset };
        let num = |range: core::ops::Range<usize>| number(&block[range]).ok_or(bad);
        let posix_ustar = &block[257..263] == b"ustar\0";
        let size = num(124..136)?;
        Ok(RawHeader {
            offset,
            typeflag: block[156],
            prefix: if posix_ustar {
                field(&block[345..500])
            } else {
                &[]
            },
            name: field(&block[0..100]),
            linkname: field(&block[157..257]),
            size: u64::try_from(size).map_err(|_| bad)?,
            meta: Meta {
                perm: (num(100..108)? & 0o7777) as u32,
                uid: num(108..116)? as u32,
                gid: num(116..124)? as u32,
                mtime: num(136..148)?,
            },
            dev: (
                number(&block[329..337]).unwrap_or(0) as u32,
                number(&block[337..345]).unwrap_or(0) as u32,
            ),
        })
    }
}

/// Whether the stored checksum matches the block (unsigned sum, or the signed sum some old
/// tars wrote).
fn checksum_ok(block: &[u8]) -> bool {
    let Some(stored) = number(&block[148..156]) else {
        return false;
    };
    // Straight sums vectorise; the checksum field itself counts as eight spaces.
    let field = &block[148..156];
    let spaces = 8 * i64::from(b' ');
    let unsigned = block.iter().map(|&b| i64::from(b)).sum::<i64>()
        - field.iter().map(|&b| i64::from(b)).sum::<i64>();
    if stored == unsigned + spaces {
        return true;
    }
    let signed = block.iter().map(|&b| i64::from(b as i8)).sum::<i64>()
        - field.iter().map(|&b| i64::from(b as i8)).sum::<i64>();
    stored == signed + spaces
}

/// Walks every header of `bytes`, calling `member` with the header and its payload.
///
/// Stops at the first all-zero block or at the end of the bytes (an archive without its
/// end-of-archive marker still reads). A bad checksum or a member running past the end is an
/// error rather than a silently shortened tree.
fn walk_headers<'a>(
    bytes: &'a [u8],
    mut member: impl FnMut(&RawHeader<'a>, &'a [u8]) -> Result<(), TarError>,
) -> Result<(), TarError> {
    let mut offset = 0usize;
    // A PAX `size` record overrides the next header's size field, which then also decides
    // where the following header starts.
    let mut size_override: Option<u64> = None;
    while offset < bytes.len() {
        let truncated = TarError::Truncated {
            offset: offset as u64,
        };
        let block = bytes.get(offset..offset + BLOCK).ok_or(truncated)?;
        if block.iter().all(|&b| b == 0) {
            break;
        }
        if !checksum_ok(block) {
            return Err(TarError::BadChecksum {
                offset: offset as u64,
            });
        }
        let mut header = RawHeader::parse(block, offset as u64)?;
        if let Some(size) = size_override.take() {
            if !matches!(header.typeflag, b'x' | b'g' | b'L' | b'K') {
                header.size = size;
            } else {
                size_override = Some(size);
            }
        }
        let payload_len = if has_payload(header.typeflag) {
            header.size
        } else {
            0
        };
        let payload_start = offset + BLOCK;
        let payload_end = usize::try_from(payload_len)
            .ok()
            .and_then(|len| payload_start.checked_add(len))
            .filter(|&end| end <= bytes.len())
            .ok_or(truncated)?;
        let payload = &bytes[payload_start..payload_end];
        if header.typeflag == b'x' {
            if let Some(size) = pax_records(payload).find(|(key, _)| *key == b"size") {
                size_override = number_decimal(size.1).and_then(|v| u64::try_from(v).ok());
            }
        }
        member(&header, payload)?;
        let padded = payload_end.next_multiple_of(BLOCK);
        offset = padded.min(bytes.len()).max(payload_start);
    }
    Ok(())
}

/// Records of a PAX extended header: `"<len> <key>=<value>\n"` repeated. Malformed data ends
/// the iteration.
fn pax_records(mut data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    core::iter::from_fn(move || {
        let space = data.iter().position(|&b| b == b' ')?;
        let len = core::str::from_utf8(&data[..space])
            .ok()?
            .parse::<usize>()
            .ok()?;
        if len <= space + 1 || len > data.len() {
            return None;
        }
        let record = &data[space + 1..len];
        data = &data[len..];
        let record = record.strip_suffix(b"\n")?;
        let eq = record.iter().position(|&b| b == b'=')?;
        Some((&record[..eq], &record[eq + 1..]))
    })
}

/// A decimal PAX number; fractional seconds of times are dropped.
fn number_decimal(text: &[u8]) -> Option<i64> {
    let whole = text.split(|&b| b == b'.').next()?;
    core::str::from_utf8(whole).ok()?.parse::<i64>().ok()
}

/// Extension records that apply to the next real member.
#[derive(Clone, Debug, Default)]
struct Pending<'a> {
    path: Option<&'a [u8]>,
    linkpath: Option<&'a [u8]>,
    size: Option<u64>,
    uid: Option<u32>,
    gid: Option<u32>,
    mtime: Option<i64>,
}

/// What a member adds to the tree.
enum MemberKind<'a> {
    Node(TarNodeKind),
    Symlink(&'a [u8]),
    HardLink(&'a [u8]),
}

struct Builder<'a> {
    index: TarIndex,
    pending: Pending<'a>,
    path: Vec<u8>,
    archive_len: usize,
}

impl<'a> Builder<'a> {
    fn new(bytes: &'a [u8]) -> Builder<'a> {
        let root = TarNode {
            kind: TarNodeKind::Dir,
            perm: 0o755,
            uid: 0,
            gid: 0,
            mtime: 0,
            links: 1,
            parent: TarIndex::ROOT,
            first_child: NONE,
            last_child: NONE,
            subdirs: 0,
        };
        Builder {
            index: TarIndex {
                nodes: alloc::vec![root],
                slots: Vec::new(),
                strings: Vec::new(),
                table: HashTable::new(),
                hasher: DefaultHashBuilder::default(),
            },
            pending: Pending::default(),
            path: Vec::new(),
            archive_len: bytes.len(),
        }
    }

    fn finish(self) -> TarIndex {
        self.index
    }

    /// Takes one header with its payload (whose bounds the walker has checked).
    fn member(&mut self, header: &RawHeader<'a>, payload: &'a [u8]) -> Result<(), TarError> {
        let trim = |bytes: &'a [u8]| field(bytes);
        match header.typeflag {
            b'x' => {
                for (key, value) in pax_records(payload) {
                    match key {
                        b"path" => self.pending.path = Some(value),
                        b"linkpath" => self.pending.linkpath = Some(value),
                        b"size" => {
                            self.pending.size =
                                number_decimal(value).and_then(|v| u64::try_from(v).ok())
                        }
                        b"uid" => {
                            self.pending.uid =
                                number_decimal(value).and_then(|v| u32::try_from(v).ok())
                        }
                        b"gid" => {
                            self.pending.gid =
                                number_decimal(value).and_then(|v| u32::try_from(v).ok())
                        }
                        b"mtime" => self.pending.mtime = number_decimal(value),
                        _ => {}
                    }
                }
                return Ok(());
            }
            b'L' => {
                self.pending.path = Some(trim(payload));
                return Ok(());
            }
            b'K' => {
                self.pending.linkpath = Some(trim(payload));
                return Ok(());
            }
            // Global PAX records would only set defaults a rootfs never relies on.
            b'g' => return Ok(()),
            // Sparse files, volume labels, multi-volume continuations and old GNU rename
            // records cannot be represented faithfully: skip the member.
            b'S' | b'V' | b'M' | b'N' => {
                self.pending = Pending::default();
                return Ok(());
            }
            _ => {}
        }
        let pending = core::mem::take(&mut self.pending);
        self.path.clear();
        match pending.path {
            Some(path) => self.path.extend_from_slice(path),
            None => {
                if !header.prefix.is_empty() {
                    self.path.extend_from_slice(header.prefix);
                    self.path.push(b'/');
                }
                self.path.extend_from_slice(header.name);
            }
        }
        let link = pending.linkpath.unwrap_or(header.linkname);
        let meta = Meta {
            perm: header.meta.perm,
            uid: pending.uid.unwrap_or(header.meta.uid),
            gid: pending.gid.unwrap_or(header.meta.gid),
            mtime: pending.mtime.unwrap_or(header.meta.mtime),
        };
        let data_offset = header.offset + BLOCK as u64;
        let size = (payload.len() as u64).min(header.size);
        debug_assert!(data_offset as usize + size as usize <= self.archive_len);
        let kind = match header.typeflag {
            b'1' => MemberKind::HardLink(link),
            b'2' => MemberKind::Symlink(link),
            b'3' => MemberKind::Node(TarNodeKind::CharDevice {
                major: header.dev.0,
                minor: header.dev.1,
            }),
            b'4' => MemberKind::Node(TarNodeKind::BlockDevice {
                major: header.dev.0,
                minor: header.dev.1,
            }),
            b'5' | b'D' => MemberKind::Node(TarNodeKind::Dir),
            b'6' => MemberKind::Node(TarNodeKind::Fifo),
            // Pre-POSIX archives mark directories only by a trailing slash.
            0 if self.path.ends_with(b"/") => MemberKind::Node(TarNodeKind::Dir),
            _ => MemberKind::Node(TarNodeKind::File {
                offset: data_offset,
                size,
            }),
        };
        let path = core::mem::take(&mut self.path);
        let result = self.insert(&path, kind, meta);
        self.path = path;
        result
    }

    /// Adds the member at archive path `path`.
    fn insert(&mut self, path: &[u8], kind: MemberKind<'a>, meta: Meta) -> Result<(), TarError> {
        let Some(components) = normalized_components(path) else {
            return Ok(());
        };
        let Some((last, parents)) = components.split_last() else {
            // The archive's own `./`: only a directory may describe the root.
            if let MemberKind::Node(TarNodeKind::Dir) = kind {
                apply_meta(&mut self.index.nodes[0], meta);
            }
            return Ok(());
        };
        let mut dir = TarIndex::ROOT;
        for name in parents {
            dir = self.directory_in(dir, name)?;
        }
        let node = match kind {
            MemberKind::HardLink(target) => {
                // A hard link names an earlier member; one to nothing or to a directory is
                // skipped, as an extracting tar would fail it.
                match self.find_path(target) {
                    Some(node) if self.index.nodes[node as usize].kind != TarNodeKind::Dir => node,
                    _ => return Ok(()),
                }
            }
            MemberKind::Node(TarNodeKind::Dir) => {
                if let Some(existing) = self.index.lookup(dir, last) {
                    if self.index.nodes[existing as usize].kind == TarNodeKind::Dir {
                        apply_meta(&mut self.index.nodes[existing as usize], meta);
                        return Ok(());
                    }
                }
                self.new_node(TarNodeKind::Dir, meta)?
            }
            MemberKind::Node(kind) => self.new_node(kind, meta)?,
            MemberKind::Symlink(target) => {
                let start = self.intern(target)?;
                self.new_node(
                    TarNodeKind::Symlink {
                        start,
                        len: target.len() as u32,
                    },
                    meta,
                )?
            }
        };
        self.bind(dir, last, node)
    }

    /// The directory `name` inside `dir`, created (or put in place of a non-directory)
    /// when missing.
    fn directory_in(&mut self, dir: u32, name: &[u8]) -> Result<u32, TarError> {
        if let Some(existing) = self.index.lookup(dir, name) {
            if self.index.nodes[existing as usize].kind == TarNodeKind::Dir {
                return Ok(existing);
            }
        }
        let meta = Meta {
            perm: 0o755,
            ..Meta::default()
        };
        let node = self.new_node(TarNodeKind::Dir, meta)?;
        self.bind(dir, name, node)?;
        Ok(node)
    }

    /// Looks up an archive path without following symlinks (hard-link targets name members).
    fn find_path(&self, path: &[u8]) -> Option<u32> {
        let components = normalized_components(path)?;
        let mut node = TarIndex::ROOT;
        for name in components {
            if self.index.nodes[node as usize].kind != TarNodeKind::Dir {
                return None;
            }
            node = self.index.lookup(node, name)?;
        }
        Some(node)
    }

    fn new_node(&mut self, kind: TarNodeKind, meta: Meta) -> Result<u32, TarError> {
        let id = u32::try_from(self.index.nodes.len()).map_err(|_| TarError::TooLarge)?;
        if id == NONE {
            return Err(TarError::TooLarge);
        }
        self.index.nodes.push(TarNode {
            kind,
            perm: meta.perm,
            uid: meta.uid,
            gid: meta.gid,
            mtime: meta.mtime,
            links: 0,
            parent: TarIndex::ROOT,
            first_child: NONE,
            last_child: NONE,
            subdirs: 0,
        });
        Ok(id)
    }

    fn intern(&mut self, bytes: &[u8]) -> Result<u32, TarError> {
        let start = u32::try_from(self.index.strings.len()).map_err(|_| TarError::TooLarge)?;
        if u32::try_from(self.index.strings.len() + bytes.len()).is_err() {
            return Err(TarError::TooLarge);
        }
        self.index.strings.extend_from_slice(bytes);
        Ok(start)
    }

    /// Makes `name` in `dir` refer to `node`, replacing what it named before (last wins).
    fn bind(&mut self, dir: u32, name: &[u8], node: u32) -> Result<(), TarError> {
        let index = &mut self.index;
        let hash = index.hasher.hash_one((dir, name));
        let existing = {
            let slots = &index.slots;
            let strings = &index.strings;
            index
                .table
                .find(hash, |&slot| {
                    let entry = &slots[slot as usize];
                    entry.parent == dir
                        && &strings[entry.name_start as usize
                            ..(entry.name_start + entry.name_len) as usize]
                            == name
                })
                .copied()
        };
        if let Some(slot) = existing {
            let old = index.slots[slot as usize].node;
            index.unlink_node(old, dir);
            index.slots[slot as usize].node = node;
        } else {
            let slot = u32::try_from(index.slots.len()).map_err(|_| TarError::TooLarge)?;
            let name_start = self.intern(name)?;
            let index = &mut self.index;
            index.slots.push(Slot {
                parent: dir,
                name_start,
                name_len: name.len() as u32,
                node,
                next: NONE,
            });
            let parent = &mut index.nodes[dir as usize];
            if parent.last_child == NONE {
                parent.first_child = slot;
            } else {
                let last = parent.last_child as usize;
                index.slots[last].next = slot;
            }
            index.nodes[dir as usize].last_child = slot;
            let slots = &index.slots;
            let strings = &index.strings;
            let hasher = &index.hasher;
            index.table.insert_unique(hash, slot, |&s| {
                let entry = &slots[s as usize];
                let name = &strings
                    [entry.name_start as usize..(entry.name_start + entry.name_len) as usize];
                hasher.hash_one((entry.parent, name))
            });
        }
        let index = &mut self.index;
        index.nodes[node as usize].links += 1;
        if index.nodes[node as usize].kind == TarNodeKind::Dir {
            index.nodes[node as usize].parent = dir;
            index.nodes[dir as usize].subdirs += 1;
        }
        Ok(())
    }
}

impl TarIndex {
    /// Drops one name of `node`, which lived in `dir`.
    fn unlink_node(&mut self, node: u32, dir: u32) {
        let entry = &mut self.nodes[node as usize];
        entry.links = entry.links.saturating_sub(1);
        if entry.kind == TarNodeKind::Dir {
            let parent = &mut self.nodes[dir as usize];
            parent.subdirs = parent.subdirs.saturating_sub(1);
        }
    }
}

fn apply_meta(node: &mut TarNode, meta: Meta) {
    node.perm = meta.perm;
    node.uid = meta.uid;
    node.gid = meta.gid;
    node.mtime = meta.mtime;
}

/// The components of an archive path, or `None` for a member to skip: one naming `..`, one
/// whose name or whole path is longer than Linux allows (the guest could never reach it).
fn normalized_components(path: &[u8]) -> Option<Vec<&[u8]>> {
    if path.len() >= PATH_MAX {
        return None;
    }
    let mut components = Vec::new();
    for name in path.split(|&b| b == b'/') {
        match name {
            b"" | b"." => {}
            b".." => return None,
            _ if name.len() > NAME_MAX => return None,
            _ => components.push(name),
        }
    }
    Some(components)
}

#[cfg(test)]
pub(crate) mod tests;
