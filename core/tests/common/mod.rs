//! Helpers shared by the integration tests: a minimal static ELF around hand-made code.

use friscy_core::linux::ProcessConfig;
use friscy_core::{Config, Machine, NullHost, StopReason};

/// Where the code of [`elf_with_code`] is loaded (and where it starts).
pub const CODE_BASE: u64 = 0x1_0000;
/// End of the one RWX segment of [`elf_with_code`]: code, then zeroed data.
const IMAGE_END: u64 = 0x2_0000;

/// A static ELF with `code` at 0x10000 in one RWX segment reaching to 0x20000.
pub fn elf_with_code(code: &[u8]) -> Vec<u8> {
    let mut elf = vec![0u8; 64 + 56];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2;
    elf[5] = 1;
    elf[6] = 1;
    elf[16..18].copy_from_slice(&2u16.to_le_bytes());
    elf[18..20].copy_from_slice(&243u16.to_le_bytes());
    elf[24..32].copy_from_slice(&CODE_BASE.to_le_bytes());
    elf[32..40].copy_from_slice(&64u64.to_le_bytes());
    elf[54..56].copy_from_slice(&56u16.to_le_bytes());
    elf[56..58].copy_from_slice(&1u16.to_le_bytes());
    let ph = &mut elf[64..];
    ph[0..4].copy_from_slice(&1u32.to_le_bytes());
    ph[4..8].copy_from_slice(&7u32.to_le_bytes());
    ph[8..16].copy_from_slice(&120u64.to_le_bytes());
    ph[16..24].copy_from_slice(&CODE_BASE.to_le_bytes());
    ph[32..40].copy_from_slice(&(code.len() as u64).to_le_bytes());
    ph[40..48].copy_from_slice(&(IMAGE_END - CODE_BASE).to_le_bytes());
    ph[48..56].copy_from_slice(&0x1000u64.to_le_bytes());
    elf.extend_from_slice(code);
    elf
}

/// A 1 MiB deterministic machine running `code` (at [`CODE_BASE`]).
pub fn machine_with_code(code: &[u8]) -> Machine {
    let config = Config {
        memory_size: 1 << 20,
        process: ProcessConfig {
            deterministic: true,
            ..ProcessConfig::default()
        },
    };
    let mut machine = Machine::new(config).unwrap();
    machine
        .load_elf(&elf_with_code(code), &[b"guest"], &[])
        .unwrap();
    machine
}

/// Make system call `number` through an `ecall` at [`CODE_BASE`], as the guest would.
pub fn syscall(machine: &mut Machine, number: u64, args: [u64; 6]) -> i64 {
    machine.cpu.pc = CODE_BASE;
    machine.cpu.x[17] = number;
    machine.cpu.x[10..16].copy_from_slice(&args);
    assert_eq!(machine.run(&mut NullHost, 1), StopReason::BudgetSpent);
    machine.cpu.x[10] as i64
}
