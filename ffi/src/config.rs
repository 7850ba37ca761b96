//! `friscy_config`: the extensible settings struct for creating a machine, and its validation.

use core::ffi::{c_char, CStr};
use core::mem::{size_of, MaybeUninit};

use friscy_core::linux::ProcessConfig;
use friscy_core::Config;

use crate::guard::guard;
use crate::result::{Error, FResult, FRISCY_ERR_UNSUPPORTED};

/// `friscy_config.flags` bit: deterministic mode. The guest's clocks and random bytes
/// (getrandom, AT_RANDOM) come only from the retired-instruction count and `seed`; the
/// host's clock and entropy callbacks are never called, so runs are reproducible.
pub const FRISCY_CONFIG_DETERMINISTIC: u32 = 1;

/// Settings for `friscy_machine_new_from_elf`.
///
/// Always initialise with `friscy_config_init(&cfg, sizeof cfg)`, then change fields.
/// `struct_size` lets the struct grow: a library reads only the bytes the caller has, and
/// gives newer fields their defaults.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct friscy_config {
    /// Size of the caller's struct in bytes; set by `friscy_config_init`.
    pub struct_size: u32,
    /// Bit set of `FRISCY_CONFIG_*` flags. Default 0. Unknown bits are rejected.
    pub flags: u32,
    /// Guest address space size in bytes: a multiple of 4096, at least 16384.
    /// Default 1 GiB. The host memory is allocated zeroed, so on systems with lazy
    /// paging only the pages the guest touches use RAM.
    pub memory_size: u64,
    /// Largest guest stack in bytes (capped at a quarter of `memory_size`). Default 8 MiB.
    pub stack_size: u64,
    /// Seed for the guest's pseudo-random bytes: AT_RANDOM (which glibc uses for its stack
    /// protector and pointer guard) always comes from it, and getrandom does in deterministic
    /// mode or without an entropy callback. The default is a fixed value, so a host that
    /// wants unpredictable canaries sets a random seed.
    pub seed: u64,
    /// `argc` NUL-terminated strings: the guest's argv (argv[0] is the program name the
    /// guest sees). May be NULL when `argc` is 0. Copied when the machine is created.
    pub argv: *const *const c_char,
    /// Number of strings in `argv`. Default 0.
    pub argc: usize,
    /// `envc` NUL-terminated "KEY=VALUE" strings: the guest's environment. May be NULL when
    /// `envc` is 0. Copied when the machine is created.
    pub envp: *const *const c_char,
    /// Number of strings in `envp`. Default 0.
    pub envc: usize,
    /// Absolute guest path `getcwd` reports (at most 255 bytes), or NULL for "/".
    /// Copied when the machine is created.
    pub working_directory: *const c_char,
    /// Most bytes of heap (brk) plus mmap'd memory each guest process may hold: beyond it
    /// brk fails and mmap fails with ENOMEM (the guest sees it as RLIMIT_DATA), so a guest
    /// cannot make the host run out of memory. 0 (the default): only `memory_size` bounds
    /// it. Added in 0.1 with the two fields below: older, smaller structs get the defaults.
    pub memory_limit: u64,
    /// Most open file descriptors per guest process (RLIMIT_NOFILE): 1..=256, default 256.
    pub max_open_files: u32,
    /// Most guest processes alive or unreaped at once (RLIMIT_NPROC; fork fails with
    /// EAGAIN beyond it): 1..=4096, default 64.
    pub max_processes: u32,
}

/// Largest `struct_size` accepted: anything bigger is an uninitialised struct, not a layout.
pub(crate) const MAX_STRUCT_SIZE: usize = 65536;

/// The first published layout (up to `working_directory`); every caller's struct is at
/// least this large.
pub(crate) const CONFIG_MIN_SIZE: usize = core::mem::offset_of!(friscy_config, memory_limit);
/// Largest `max_processes` accepted.
const MAX_PROCESSES_LIMIT: u32 = 4096;

impl Default for friscy_config {
    fn default() -> Self {
        let core = Config::default();
        friscy_config {
            struct_size: size_of::<friscy_config>() as u32,
            flags: 0,
            memory_size: core.memory_size,
            stack_size: core.process.stack_size,
            seed: core.process.seed,
            argv: core::ptr::null(),
            argc: 0,
            envp: core::ptr::null(),
            envc: 0,
            working_directory: core::ptr::null(),
            memory_limit: core.process.memory_limit,
            max_open_files: core.process.max_open_files as u32,
            max_processes: core.process.max_processes as u32,
        }
    }
}

/// Copy a caller's extensible struct of `size` bytes at `src` into a `T` whose fields the
/// caller does not have keep their values from `base` (Linux `copy_struct_from_user` rules:
/// a larger struct is accepted only if the bytes this library does not know are zero).
///
/// # Safety
/// `src` must be valid for reads of `size` bytes, and every bit pattern must be a valid `T`
/// (plain integers, raw pointers and optional function pointers).
pub(crate) unsafe fn read_extensible<T: Copy>(
    src: *const u8,
    size: usize,
    min: usize,
    base: T,
    what: &str,
) -> FResult<T> {
    if size < min || size > MAX_STRUCT_SIZE {
        return Err(Error::invalid(format!(
            "{what}.struct_size is {size}, not between {min} and {MAX_STRUCT_SIZE} bytes; \
             initialise the struct with its _init function"
        )));
    }
    let ours = size_of::<T>();
    if size > ours {
        // SAFETY: the caller promises `size` readable bytes at `src`.
        let extra = unsafe { core::slice::from_raw_parts(src.add(ours), size - ours) };
        if let Some(pos) = extra.iter().position(|&b| b != 0) {
            return Err(Error::new(
                FRISCY_ERR_UNSUPPORTED,
                format!(
                    "{what} is {size} bytes and byte {} (beyond the {ours} this library knows) \
                     is not zero",
                    ours + pos
                ),
            ));
        }
    }
    let mut out = MaybeUninit::new(base);
    // SAFETY: copying min(size, ours) bytes from a readable source over an initialised `T`;
    // the caller promises every bit pattern is a valid `T`.
    unsafe {
        core::ptr::copy_nonoverlapping(src, out.as_mut_ptr().cast::<u8>(), size.min(ours));
        Ok(out.assume_init())
    }
}

/// Fill the first `size` bytes of `dst` with `value` (zeros past `size_of::<T>()`).
///
/// # Safety
/// `dst` must be valid for writes of `size` bytes and `size >= min`.
pub(crate) unsafe fn write_extensible<T: Copy>(dst: *mut u8, size: usize, value: &T) {
    let ours = size_of::<T>();
    // SAFETY: the caller promises `size` writable bytes; the source is a local `T`.
    unsafe {
        core::ptr::write_bytes(dst, 0, size);
        core::ptr::copy_nonoverlapping((value as *const T).cast::<u8>(), dst, size.min(ours));
    }
}

/// Initialise a config with the defaults: 1 GiB guest memory, 8 MiB stack, no argv or
/// environment, working directory "/", not deterministic, no memory limit, 256 open files
/// and 64 processes at most.
///
/// Pass `sizeof` of the caller's struct as `config_size`: the library fills exactly that
/// many bytes (zeroing any it does not know) and stores the size in `struct_size`, so a
/// program built against an older or newer header works with this library.
///
/// Ownership: the caller owns `config`; it holds no resources, needs no free.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER` if `config` is NULL;
/// `FRISCY_ERR_INVALID_ARGUMENT` if `config_size` is smaller than the first published
/// layout or larger than 65536.
#[no_mangle]
pub unsafe extern "C" fn friscy_config_init(
    config: *mut friscy_config,
    config_size: usize,
) -> crate::result::friscy_result {
    guard(|| {
        if config.is_null() {
            return Err(Error::null("config"));
        }
        if !(CONFIG_MIN_SIZE..=MAX_STRUCT_SIZE).contains(&config_size) {
            return Err(Error::invalid(format!(
                "config_size {config_size} is not between {CONFIG_MIN_SIZE} and {MAX_STRUCT_SIZE}; \
                 pass sizeof(friscy_config)"
            )));
        }
        let value = friscy_config {
            struct_size: config_size as u32,
            ..friscy_config::default()
        };
        // SAFETY: the caller promises `config_size` writable bytes at `config`.
        unsafe { write_extensible(config.cast::<u8>(), config_size, &value) };
        Ok(())
    })
}

/// A config checked and copied out of caller memory.
#[derive(Debug)]
pub(crate) struct Settings {
    pub core: Config,
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
}

/// Read `count` C strings from `list`, naming `what` in errors.
///
/// # Safety
/// `list` must be NULL or point to `count` pointers, each NULL or to a NUL-terminated string.
unsafe fn string_list(
    list: *const *const c_char,
    count: usize,
    what: &str,
) -> FResult<Vec<Vec<u8>>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if list.is_null() {
        return Err(Error::null(&format!(
            "config.{what} (with a count of {count})"
        )));
    }
    if count > 1 << 20 {
        return Err(Error::invalid(format!(
            "config.{what} has {count} entries (at most 1048576)"
        )));
    }
    (0..count)
        .map(|i| {
            // SAFETY: the caller promises `count` readable pointers at `list`.
            let p = unsafe { list.add(i).read() };
            if p.is_null() {
                return Err(Error::null(&format!("config.{what}[{i}]")));
            }
            // SAFETY: the caller promises a NUL-terminated string.
            Ok(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
        })
        .collect()
}

/// Validate a caller's config (NULL means all defaults) and copy what it points to.
///
/// # Safety
/// `config` must be NULL or point to at least `struct_size` readable bytes that were
/// initialised with `friscy_config_init`, with valid string pointers.
pub(crate) unsafe fn read_config(config: *const friscy_config) -> FResult<Settings> {
    let cfg = if config.is_null() {
        friscy_config::default()
    } else {
        // SAFETY: the first field is readable in any layout the caller may have.
        let size = unsafe { config.cast::<u32>().read() } as usize;
        // SAFETY: the caller promises `struct_size` readable bytes; the struct holds only
        // integers and raw pointers, valid for any bit pattern.
        unsafe {
            read_extensible(
                config.cast::<u8>(),
                size,
                CONFIG_MIN_SIZE,
                friscy_config::default(),
                "config",
            )?
        }
    };
    if cfg.flags & !FRISCY_CONFIG_DETERMINISTIC != 0 {
        return Err(Error::invalid(format!(
            "config.flags has unknown bits {:#x}",
            cfg.flags & !FRISCY_CONFIG_DETERMINISTIC
        )));
    }
    // SAFETY: string validity is the caller's contract.
    let argv = unsafe { string_list(cfg.argv, cfg.argc, "argv")? };
    // SAFETY: as above.
    let envp = unsafe { string_list(cfg.envp, cfg.envc, "envp")? };
    let cwd = if cfg.working_directory.is_null() {
        b"/".to_vec()
    } else {
        // SAFETY: the caller promises a NUL-terminated string.
        unsafe { CStr::from_ptr(cfg.working_directory) }
            .to_bytes()
            .to_vec()
    };
    if !cwd.starts_with(b"/") || cwd.len() > 255 {
        return Err(Error::invalid(format!(
            "config.working_directory \"{}\" must be an absolute path of at most 255 bytes",
            String::from_utf8_lossy(&cwd)
        )));
    }
    let max_fds = friscy_core::linux::fd::MAX_FDS;
    if cfg.max_open_files == 0 || cfg.max_open_files as usize > max_fds {
        return Err(Error::invalid(format!(
            "config.max_open_files is {}; need 1..={max_fds}",
            cfg.max_open_files
        )));
    }
    if !(1..=MAX_PROCESSES_LIMIT).contains(&cfg.max_processes) {
        return Err(Error::invalid(format!(
            "config.max_processes is {}; need 1..={MAX_PROCESSES_LIMIT}",
            cfg.max_processes
        )));
    }
    Ok(Settings {
        core: Config {
            memory_size: cfg.memory_size,
            process: ProcessConfig {
                stack_size: cfg.stack_size,
                deterministic: cfg.flags & FRISCY_CONFIG_DETERMINISTIC != 0,
                seed: cfg.seed,
                memory_limit: cfg.memory_limit,
                max_open_files: cfg.max_open_files as usize,
                max_processes: cfg.max_processes as usize,
            },
        },
        argv,
        envp,
        cwd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::*;

    #[test]
    fn init_fills_defaults_and_size() {
        let mut cfg = MaybeUninit::<friscy_config>::uninit();
        let r = unsafe { friscy_config_init(cfg.as_mut_ptr(), size_of::<friscy_config>()) };
        assert_eq!(r, FRISCY_OK);
        let cfg = unsafe { cfg.assume_init() };
        assert_eq!(cfg.struct_size as usize, size_of::<friscy_config>());
        assert_eq!(cfg.memory_size, 1 << 30);
        assert_eq!(cfg.stack_size, 8 << 20);
        assert_eq!(cfg.flags, 0);
        assert!(cfg.argv.is_null() && cfg.envp.is_null() && cfg.working_directory.is_null());
        assert_eq!(
            (cfg.memory_limit, cfg.max_open_files, cfg.max_processes),
            (0, 256, 64)
        );
    }

    #[test]
    fn first_layout_without_limits_gets_default_limits() {
        // A caller built against the header before the limit fields: its struct ends at
        // `working_directory`, and the bytes after it are not the caller's.
        let mut buf = [0xa5u8; size_of::<friscy_config>()];
        let r = unsafe { friscy_config_init(buf.as_mut_ptr().cast(), CONFIG_MIN_SIZE) };
        assert_eq!(r, FRISCY_OK);
        assert!(
            buf[CONFIG_MIN_SIZE..].iter().all(|&b| b == 0xa5),
            "wrote past the struct"
        );
        let s = unsafe { read_config(buf.as_ptr().cast()) }.unwrap();
        assert_eq!(s.core.process, ProcessConfig::default());
    }

    #[test]
    fn limits_are_validated_and_passed_on() {
        let mut cfg = friscy_config {
            memory_limit: 8 << 20,
            max_open_files: 20,
            max_processes: 5,
            ..Default::default()
        };
        let p = unsafe { read_config(&cfg) }.unwrap().core.process;
        assert_eq!(
            (p.memory_limit, p.max_open_files, p.max_processes),
            (8 << 20, 20, 5)
        );
        for (files, procs) in [(0, 5), (257, 5), (20, 0), (20, 4097)] {
            cfg.max_open_files = files;
            cfg.max_processes = procs;
            let e = unsafe { read_config(&cfg) }.unwrap_err();
            assert_eq!(e.code, FRISCY_ERR_INVALID_ARGUMENT, "{files} {procs}");
        }
    }

    #[test]
    fn init_rejects_null_and_bad_sizes() {
        let mut cfg = friscy_config::default();
        unsafe {
            assert_eq!(
                friscy_config_init(core::ptr::null_mut(), size_of::<friscy_config>()),
                FRISCY_ERR_NULL_POINTER
            );
            assert_eq!(friscy_config_init(&mut cfg, 8), FRISCY_ERR_INVALID_ARGUMENT);
        }
    }

    /// A caller built against a future header with one more field.
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Bigger {
        base: friscy_config,
        extra: u64,
    }

    #[test]
    fn larger_struct_is_accepted_only_with_zero_tail() {
        let mut big = MaybeUninit::<Bigger>::uninit();
        let r = unsafe { friscy_config_init(big.as_mut_ptr().cast(), size_of::<Bigger>()) };
        assert_eq!(r, FRISCY_OK);
        let mut big = unsafe { big.assume_init() };
        assert_eq!(big.extra, 0, "init zeroes bytes it does not know");
        assert_eq!(big.base.struct_size as usize, size_of::<Bigger>());
        big.base.memory_size = 1 << 20;
        let s = unsafe { read_config(&big.base) }.unwrap();
        assert_eq!(s.core.memory_size, 1 << 20);
        big.extra = 1;
        let e = unsafe { read_config(&big.base) }.unwrap_err();
        assert_eq!(e.code, FRISCY_ERR_UNSUPPORTED);
    }

    #[test]
    fn validates_lists_flags_and_cwd() {
        let a = c"prog".as_ptr();
        let argv = [a, core::ptr::null()];
        let mut cfg = friscy_config {
            argv: argv.as_ptr(),
            argc: 1,
            ..Default::default()
        };
        let s = unsafe { read_config(&cfg) }.unwrap();
        assert_eq!(s.argv, vec![b"prog".to_vec()]);
        assert_eq!(s.cwd, b"/");
        cfg.argc = 2;
        let e = unsafe { read_config(&cfg) }.unwrap_err();
        assert_eq!(e.code, FRISCY_ERR_NULL_POINTER);
        assert!(e.detail.contains("argv[1]"), "{}", e.detail);
        cfg.argc = 1;
        cfg.envc = 3;
        assert_eq!(
            unsafe { read_config(&cfg) }.unwrap_err().code,
            FRISCY_ERR_NULL_POINTER
        );
        cfg.envc = 0;
        cfg.flags = 6;
        assert_eq!(
            unsafe { read_config(&cfg) }.unwrap_err().code,
            FRISCY_ERR_INVALID_ARGUMENT
        );
        cfg.flags = FRISCY_CONFIG_DETERMINISTIC;
        assert!(
            unsafe { read_config(&cfg) }
                .unwrap()
                .core
                .process
                .deterministic
        );
        cfg.working_directory = c"relative".as_ptr();
        assert_eq!(
            unsafe { read_config(&cfg) }.unwrap_err().code,
            FRISCY_ERR_INVALID_ARGUMENT
        );
        cfg.working_directory = c"/work".as_ptr();
        assert_eq!(unsafe { read_config(&cfg) }.unwrap().cwd, b"/work");
        cfg.struct_size = 4;
        assert_eq!(
            unsafe { read_config(&cfg) }.unwrap_err().code,
            FRISCY_ERR_INVALID_ARGUMENT
        );
    }
}
