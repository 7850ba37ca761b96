//! Fuzz target: whatever gdb sends, the remote stub answers or ends the session with an error, never panics or hangs.
//!
//! The input is what gdb sends: lines of packet bodies, each framed as `$body#checksum` by the
//! target (so most inputs reach the command handlers), or raw bytes if the first byte is odd.
//! The guest is a six-instruction program (four `addi a0, a0, 1`, then exit), so a continue
//! ends; the stream ends the session once the input is spent or the guest has been polled a
//! few times (gdb can write an endless loop into guest memory).
#![no_main]

use friscy_core::gdb::{serve_with_host, DebugStream, StreamError};
use friscy_core::{Config, Machine, NullHost};
use libfuzzer_sys::fuzz_target;

const CODE: u64 = 0x10000;
const PROGRAM: [u32; 6] = [
    0x0015_0513,
    0x0015_0513,
    0x0015_0513,
    0x0015_0513,
    0x05d0_0893,
    0x0000_0073,
];
/// Polls of a running guest before the stream gives up (bounds the instructions per input).
const MAX_POLLS: u32 = 4;
/// Answer bytes before the stream gives up: `m10008,40000000` legitimately answers with the
/// whole 1 MiB guest in hex, which takes seconds under the sanitizer (a real gdb asks for
/// at most its packet size at a time).
const MAX_WRITTEN: usize = 256 << 10;

struct Input {
    bytes: Vec<u8>,
    pos: usize,
    polls: u32,
    written: usize,
}

impl DebugStream for Input {
    fn read(&mut self) -> Result<u8, StreamError> {
        let b = *self.bytes.get(self.pos).ok_or(StreamError)?;
        self.pos += 1;
        Ok(b)
    }

    fn try_read(&mut self) -> Result<Option<u8>, StreamError> {
        self.polls += 1;
        match self.bytes.get(self.pos) {
            None => Err(StreamError),
            Some(0x03) => {
                self.pos += 1;
                Ok(Some(0x03))
            }
            Some(_) if self.polls > MAX_POLLS => Err(StreamError),
            Some(_) => Ok(None),
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<(), StreamError> {
        self.written += data.len();
        if self.written > MAX_WRITTEN {
            return Err(StreamError);
        }
        Ok(())
    }
}

fn frame(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in data.split(|&b| b == b'\n') {
        if line == [0x03] {
            out.push(0x03);
            continue;
        }
        let sum = line.iter().fold(0u8, |s, &b| s.wrapping_add(b));
        out.push(b'$');
        out.extend_from_slice(line);
        out.extend_from_slice(format!("#{sum:02x}").as_bytes());
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode & 1 == 1 {
        rest.to_vec()
    } else {
        frame(rest)
    };
    let mut m = Machine::new(Config {
        memory_size: 1 << 20,
        ..Config::default()
    })
    .expect("1 MiB machine");
    for (i, w) in PROGRAM.iter().enumerate() {
        m.mem.write_u32(CODE + 4 * i as u64, *w).expect("code fits");
    }
    m.cpu.pc = CODE;
    let input = Input {
        bytes,
        pos: 0,
        polls: 0,
        written: 0,
    };
    let _ = serve_with_host(&mut m, &mut NullHost, input);
});
