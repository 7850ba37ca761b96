//! `friscy`: run a RISC-V 64 Linux program under libfriscy from the command line.
fn main() {
    eprintln!("friscy: not implemented yet");
    std::process::exit(2);
}
