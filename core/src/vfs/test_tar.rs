//! Test helper that writes small tar archives byte by byte, including malformed ones.

use alloc::vec::Vec;

/// Fields of one header; anything unset is zero/empty.
#[derive(Clone, Debug, Default)]
pub struct Header<'a> {
    pub name: &'a [u8],
    pub prefix: &'a [u8],
    pub typeflag: u8,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: Option<u64>,
    pub mtime: u64,
    pub linkname: &'a [u8],
    pub dev: (u32, u32),
    /// `ustar\0` + `00` (POSIX) when true, GNU's `ustar  ` otherwise.
    pub posix: bool,
}

/// Builds an archive in memory.
#[derive(Default)]
pub struct TarBuilder {
    pub bytes: Vec<u8>,
}

fn put(block: &mut [u8], at: usize, bytes: &[u8]) {
    block[at..at + bytes.len()].copy_from_slice(bytes);
}

fn octal(block: &mut [u8], at: usize, width: usize, value: u64) {
    let text = alloc::format!("{:0w$o}", value, w = width - 1);
    put(block, at, text.as_bytes());
}

impl TarBuilder {
    pub fn new() -> TarBuilder {
        TarBuilder::default()
    }

    /// Appends a header block (and `data` padded to a block) and returns the header's offset.
    pub fn member(&mut self, header: &Header<'_>, data: &[u8]) -> usize {
        let mut block = [0u8; 512];
        put(&mut block, 0, &header.name[..header.name.len().min(100)]);
        octal(&mut block, 100, 8, u64::from(header.mode));
        octal(&mut block, 108, 8, u64::from(header.uid));
        octal(&mut block, 116, 8, u64::from(header.gid));
        octal(
            &mut block,
            124,
            12,
            header.size.unwrap_or(data.len() as u64),
        );
        octal(&mut block, 136, 12, header.mtime);
        block[156] = header.typeflag;
        put(
            &mut block,
            157,
            &header.linkname[..header.linkname.len().min(100)],
        );
        if header.posix {
            put(&mut block, 257, b"ustar\x0000");
        } else {
            put(&mut block, 257, b"ustar  \0");
        }
        put(&mut block, 265, b"root");
        put(&mut block, 297, b"root");
        octal(&mut block, 329, 8, u64::from(header.dev.0));
        octal(&mut block, 337, 8, u64::from(header.dev.1));
        put(&mut block, 345, header.prefix);
        seal(&mut block);
        let offset = self.bytes.len();
        self.bytes.extend_from_slice(&block);
        self.bytes.extend_from_slice(data);
        self.pad();
        offset
    }

    fn pad(&mut self) {
        let padded = self.bytes.len().next_multiple_of(512);
        self.bytes.resize(padded, 0);
    }

    pub fn file(&mut self, path: &str, data: &[u8]) -> &mut Self {
        self.member(
            &Header {
                name: path.as_bytes(),
                typeflag: b'0',
                mode: 0o644,
                ..Header::default()
            },
            data,
        );
        self
    }

    pub fn file_with(
        &mut self,
        path: &str,
        data: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
        mtime: u64,
    ) -> &mut Self {
        self.member(
            &Header {
                name: path.as_bytes(),
                typeflag: b'0',
                mode,
                uid,
                gid,
                mtime,
                ..Header::default()
            },
            data,
        );
        self
    }

    pub fn dir(&mut self, path: &str) -> &mut Self {
        self.member(
            &Header {
                name: path.as_bytes(),
                typeflag: b'5',
                mode: 0o755,
                ..Header::default()
            },
            &[],
        );
        self
    }

    pub fn dir_mode(&mut self, path: &str, mode: u32) -> &mut Self {
        self.member(
            &Header {
                name: path.as_bytes(),
                typeflag: b'5',
                mode,
                ..Header::default()
            },
            &[],
        );
        self
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.member(
            &Header {
                name: path.as_bytes(),
                typeflag: b'2',
                mode: 0o777,
                linkname: target.as_bytes(),
                ..Header::default()
            },
            &[],
        );
        self
    }

    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.member(
            &Header {
                name: path.as_bytes(),
                typeflag: b'1',
                mode: 0o644,
                linkname: target.as_bytes(),
                ..Header::default()
            },
            &[],
        );
        self
    }

    pub fn device(&mut self, path: &str, typeflag: u8, major: u32, minor: u32) -> &mut Self {
        self.member(
            &Header {
                name: path.as_bytes(),
                typeflag,
                mode: 0o666,
                dev: (major, minor),
                ..Header::default()
            },
            &[],
        );
        self
    }

    /// A GNU `L` record carrying `path`, then a file member whose own name is truncated.
    pub fn gnu_long_file(&mut self, path: &str, data: &[u8]) -> &mut Self {
        let mut long = path.as_bytes().to_vec();
        long.push(0);
        self.member(
            &Header {
                name: b"././@LongLink",
                typeflag: b'L',
                ..Header::default()
            },
            &long,
        );
        self.member(
            &Header {
                name: path.as_bytes(),
                typeflag: b'0',
                mode: 0o644,
                ..Header::default()
            },
            data,
        );
        self
    }

    /// A GNU `K` record with a long target, then the symlink member.
    pub fn gnu_long_symlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut long = target.as_bytes().to_vec();
        long.push(0);
        self.member(
            &Header {
                name: b"././@LongLink",
                typeflag: b'K',
                ..Header::default()
            },
            &long,
        );
        self.symlink(path, target)
    }

    /// A PAX `x` record set applying to the next member.
    pub fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let mut data = Vec::new();
        for (key, value) in records {
            let body_len = key.len() + value.len() + 3;
            // The length field counts its own digits.
            let mut len = body_len + 1;
            while alloc::format!("{len}").len() + body_len != len {
                len += 1;
            }
            data.extend_from_slice(alloc::format!("{len} {key}=").as_bytes());
            data.extend_from_slice(value);
            data.push(b'\n');
        }
        self.member(
            &Header {
                name: b"PaxHeader",
                typeflag: b'x',
                posix: true,
                ..Header::default()
            },
            &data,
        );
        self
    }

    /// The two zero blocks that end an archive.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut bytes = core::mem::take(&mut self.bytes);
        bytes.resize(bytes.len() + 1024, 0);
        bytes
    }
}

/// Writes the checksum of a header block.
pub fn seal(block: &mut [u8]) {
    block[148..156].fill(b' ');
    let sum: u64 = block[..512].iter().map(|&b| u64::from(b)).sum();
    let text = alloc::format!("{sum:06o}\0 ");
    block[148..156].copy_from_slice(text.as_bytes());
}
