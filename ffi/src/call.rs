//! Guest function calls from C: `friscy_machine_call*`, resume and abandon, and prepared calls (`friscy_call`).
//!
//! The lifecycle (see `friscy_core::vmcall`): the guest's `main` initialises and pauses with
//! the `FRISCY_SYSCALL_PAUSE` system call (`friscy_machine_run` reports `FRISCY_STOP_PAUSED`);
//! then the host calls guest functions, each within an instruction budget. A call that
//! stops early stays in progress until resumed or abandoned; meanwhile `friscy_machine_run`
//! is refused, and abandoning restores the registers the guest had before the call.

use core::ffi::{c_char, CStr};
use core::sync::atomic::AtomicBool;

use friscy_core::vmcall::{Arg, ArgKind, CallError, PreparedCall, MAX_CALL_ARGS};
use friscy_core::StopReason;

use crate::guard::{guard, guard_quiet};
use crate::machine::{friscy_machine, friscy_stop, stop_record, with_machine, State};
use crate::result::*;

/// The system call number a guest makes (in a7, no arguments) to pause: the run stops
/// with `FRISCY_STOP_PAUSED` and the guest is ready for guest calls. In C on riscv64:
/// `register long a7 __asm__("a7") = 0xff00; register long a0 __asm__("a0");
/// __asm__ volatile("ecall" : "=r"(a0) : "r"(a7) : "memory");`
pub const FRISCY_SYSCALL_PAUSE: u64 = 0xff00;
/// Most arguments of one guest call.
pub const FRISCY_CALL_MAX_ARGS: usize = 32;

/// `friscy_arg.kind`: a 64-bit integer or pointer (a guest address), from `i`.
pub const FRISCY_ARG_INT: u32 = 0;
/// `friscy_arg.kind`: a 32-bit `int` or `unsigned`, from the low 32 bits of `i`; the ABI
/// sign-extends it to 64 bits (for either signedness), which this does.
pub const FRISCY_ARG_INT32: u32 = 1;
/// `friscy_arg.kind`: a `double`, from `d`.
pub const FRISCY_ARG_DOUBLE: u32 = 2;
/// `friscy_arg.kind`: a `float`, from `d` (rounded to single precision).
pub const FRISCY_ARG_FLOAT: u32 = 3;

/// One argument of a guest call. Integers go to a0..a7, floating-point values to fa0..fa7
/// (then to free integer registers), the rest to the stack: the RISC-V LP64D convention
/// for scalar arguments. Structs by value and variadic functions are not supported.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct friscy_arg {
    /// `FRISCY_ARG_INT`, `FRISCY_ARG_INT32`, `FRISCY_ARG_DOUBLE` or `FRISCY_ARG_FLOAT`.
    pub kind: u32,
    /// The value of an integer argument.
    pub i: i64,
    /// The value of a floating-point argument.
    pub d: f64,
}

/// How a guest call ended.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct friscy_call_result {
    /// `stop.kind` is `FRISCY_STOP_RETURNED` when the function returned (registers are back
    /// to their pre-call values). Any other kind leaves the call in progress: resume it
    /// with `friscy_machine_call_resume` or abandon it with `friscy_machine_call_abandon`
    /// — except `FRISCY_STOP_EXITED`/`SIGNALED` (the guest ended during the call).
    pub stop: friscy_stop,
    /// The integer result (register a0) when returned; 0 otherwise.
    pub a0: u64,
    /// The `double` result (register fa0) when returned; 0 otherwise.
    pub fa0: f64,
    /// The `float` result (the low 32 bits of fa0) when returned; 0 otherwise.
    pub fa0_float: f32,
}

/// A prepared guest call: the function and its argument kinds resolved once, arguments set
/// in place, made any number of times with `friscy_call_invoke`. Opaque; create with
/// `friscy_call_new`, free with `friscy_call_free`. It belongs to the caller and is tied to
/// the machine it was made for.
pub struct friscy_call {
    /// The machine this call was prepared for (identity only, never dereferenced).
    machine: usize,
    prepared: PreparedCall,
}

fn call_error(e: CallError) -> Error {
    let code = match e {
        CallError::Terminated => FRISCY_ERR_TERMINATED,
        CallError::CallInProgress => FRISCY_ERR_CALL_IN_PROGRESS,
        CallError::NoCall => FRISCY_ERR_NO_CALL,
        CallError::InSystemCall | CallError::OtherProcess => FRISCY_ERR_NOT_CALLABLE,
        CallError::BadAddress(_) | CallError::StackOutOfRange(_) => FRISCY_ERR_GUEST_ADDRESS,
        CallError::UnknownSymbol => FRISCY_ERR_NOT_FOUND,
        CallError::TooManyArguments | CallError::NoSuchArgument(_) => FRISCY_ERR_INVALID_ARGUMENT,
    };
    Error::new(code, e.to_string())
}

fn kind_of(kind: u32, index: usize) -> FResult<ArgKind> {
    Ok(match kind {
        FRISCY_ARG_INT => ArgKind::Int,
        FRISCY_ARG_INT32 => ArgKind::Int32,
        FRISCY_ARG_DOUBLE => ArgKind::Double,
        FRISCY_ARG_FLOAT => ArgKind::Float,
        other => {
            return Err(Error::invalid(format!(
                "argument {index} has kind {other}; need FRISCY_ARG_INT (0), _INT32 (1), \
                 _DOUBLE (2) or _FLOAT (3)"
            )))
        }
    })
}

/// Read `count` arguments from C into a prepared call of `func`.
///
/// # Safety
/// `args` must be NULL (only with `count` 0) or point to `count` readable `friscy_arg`s.
unsafe fn prepare(func: u64, args: *const friscy_arg, count: usize) -> FResult<PreparedCall> {
    if count > MAX_CALL_ARGS {
        return Err(Error::invalid(format!(
            "{count} arguments; at most {MAX_CALL_ARGS}"
        )));
    }
    if count > 0 && args.is_null() {
        return Err(Error::null("args"));
    }
    let mut values = [Arg::Int(0); MAX_CALL_ARGS];
    for (i, slot) in values.iter_mut().enumerate().take(count) {
        // SAFETY: `i < count` readable entries (caller's contract); every bit pattern is valid.
        let a = unsafe { args.add(i).read() };
        *slot = match kind_of(a.kind, i)? {
            ArgKind::Int => Arg::Int(a.i as u64),
            ArgKind::Int32 => Arg::Int32(a.i as u32),
            ArgKind::Double => Arg::Double(a.d),
            ArgKind::Float => Arg::Float(a.d as f32),
        };
    }
    PreparedCall::with_args(func, &values[..count]).map_err(call_error)
}

fn result_record(reason: StopReason, pc: u64) -> friscy_call_result {
    let (a0, fa0) = match reason {
        StopReason::Returned { a0, fa0 } => (a0, fa0),
        _ => (0, 0),
    };
    friscy_call_result {
        stop: stop_record(reason, pc),
        a0,
        fa0: f64::from_bits(fa0),
        fa0_float: f32::from_bits(fa0 as u32),
    }
}

/// Run the call in progress with the C host and write how it ended.
///
/// # Safety
/// `out` must be non-NULL and writable.
unsafe fn drive_call(
    s: &mut State,
    stop: &AtomicBool,
    budget: u64,
    out: *mut friscy_call_result,
) -> FResult {
    if !s.machine.call_in_progress() {
        return Err(call_error(CallError::NoCall));
    }
    let reason = s.drive(stop, budget, |m, host, left| {
        // The call is in progress (checked above); only the guest's own stops end it, and
        // those return from `drive`, so NoCall cannot happen here.
        m.resume_call(host, left).unwrap_or(StopReason::BudgetSpent)
    });
    let record = result_record(reason, s.machine.cpu.pc);
    // SAFETY: non-NULL and writable (caller's contract).
    unsafe { out.write(record) };
    Ok(())
}

/// The machine's stop flag, or the NULL-machine error.
///
/// # Safety
/// `m` must be NULL or a live handle.
unsafe fn stop_flag<'a>(m: *const friscy_machine) -> Option<&'a AtomicBool> {
    // SAFETY: the caller's contract; only a shared reference to the atomic is made.
    unsafe { m.as_ref() }.map(|h| &h.stop)
}

/// Begin a call on the machine with `begin` (or nothing, to resume) and run it.
///
/// # Safety
/// `m` NULL or live; `out` writable when non-NULL.
unsafe fn call_with(
    m: *mut friscy_machine,
    budget: u64,
    out: *mut friscy_call_result,
    begin: impl FnOnce(&mut State) -> FResult,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    let Some(stop) = (unsafe { stop_flag(m) }) else {
        return guard(|| Err(Error::null("machine")));
    };
    // SAFETY: as above.
    unsafe {
        with_machine(m, |s| {
            if out.is_null() {
                return Err(Error::null("out_result"));
            }
            begin(s)?;
            drive_call(s, stop, budget, out)
        })
    }
}

/// Call the guest function at guest address `addr` with `nargs` arguments from `args`,
/// running at most `budget` instructions (counted exactly), and store how it ended in
/// `*out_result`. The guest must be paused (see `FRISCY_SYSCALL_PAUSE`) or otherwise
/// stopped between instructions; the call runs in its first process on its current stack,
/// may make system calls (custom handlers included; fork and execve fail with EPERM) and
/// returns to a trap address the library owns.
///
/// When `out_result->stop.kind` is `FRISCY_STOP_RETURNED`, the results are in `a0`/`fa0`
/// and every register is back to its pre-call value. Otherwise (budget spent, fault, pending
/// I/O, host stop, pause...) the call stays in progress: continue it with
/// `friscy_machine_call_resume` or restore the pre-call registers with
/// `friscy_machine_call_abandon`. Guest memory the function wrote stays written.
///
/// Ownership: `args` is only read during the call (may be NULL when `nargs` is 0);
/// `*out_result` is the caller's and written on `FRISCY_OK`.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_INVALID_ARGUMENT` (more than
/// `FRISCY_CALL_MAX_ARGS` arguments or an unknown kind); `FRISCY_ERR_GUEST_ADDRESS` (`addr`
/// is not code of the program, or stack arguments do not fit below the stack pointer);
/// `FRISCY_ERR_TERMINATED`; `FRISCY_ERR_CALL_IN_PROGRESS`; `FRISCY_ERR_NOT_CALLABLE`;
/// `FRISCY_ERR_BUSY`; `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_call(
    m: *mut friscy_machine,
    addr: u64,
    args: *const friscy_arg,
    nargs: usize,
    budget: u64,
    out_result: *mut friscy_call_result,
) -> friscy_result {
    // SAFETY: forwarded caller contract.
    unsafe {
        call_with(m, budget, out_result, |s| {
            let call = prepare(addr, args, nargs)?;
            s.machine.begin_call(&call).map_err(call_error)
        })
    }
}

/// Like `friscy_machine_call`, with the function named by the NUL-terminated `name` in the
/// program's symbol tables (the program must not be stripped; keep the function with
/// `__attribute__((used))` and out of `static`). Each call looks the name up again: for
/// per-frame calls prepare the call once with `friscy_call_new`.
///
/// Returns as `friscy_machine_call`, and `FRISCY_ERR_NOT_FOUND` for an unknown symbol.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_call_symbol(
    m: *mut friscy_machine,
    name: *const c_char,
    args: *const friscy_arg,
    nargs: usize,
    budget: u64,
    out_result: *mut friscy_call_result,
) -> friscy_result {
    // SAFETY: forwarded caller contract.
    unsafe {
        call_with(m, budget, out_result, |s| {
            let addr = symbol_address(s, name)?;
            let call = prepare(addr, args, nargs)?;
            s.machine.begin_call(&call).map_err(call_error)
        })
    }
}

/// The code address of symbol `name` in the machine's program.
///
/// # Safety
/// `name` must be NULL or a NUL-terminated string.
unsafe fn symbol_address(s: &State, name: *const c_char) -> FResult<u64> {
    if name.is_null() {
        return Err(Error::null("name"));
    }
    // SAFETY: a NUL-terminated string (caller's contract).
    let name = unsafe { CStr::from_ptr(name) }.to_bytes();
    s.machine
        .function_address(&s.elf, name)
        .map_err(|e| match e {
            CallError::UnknownSymbol => Error::new(
                FRISCY_ERR_NOT_FOUND,
                format!(
                    "symbol \"{}\" is not in the program's symbol tables",
                    String::from_utf8_lossy(name)
                ),
            ),
            other => call_error(other),
        })
}

/// Continue the guest call in progress for at most `budget` more instructions and store how
/// it ended in `*out_result` (as `friscy_machine_call`).
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_NO_CALL`; `FRISCY_ERR_BUSY`;
/// `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_call_resume(
    m: *mut friscy_machine,
    budget: u64,
    out_result: *mut friscy_call_result,
) -> friscy_result {
    // SAFETY: forwarded caller contract; nothing to begin, `drive_call` needs a call.
    unsafe { call_with(m, budget, out_result, |_| Ok(())) }
}

/// Give up the guest call in progress: every register (pc and stack pointer included) and
/// the signal mask go back to their values before the call, so the guest is as it was when
/// the call began (except for memory the function wrote). After the guest ended during the
/// call this just ends the call.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_NO_CALL`; `FRISCY_ERR_BUSY`;
/// `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_machine_call_abandon(m: *mut friscy_machine) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    unsafe { with_machine(m, |s| s.machine.abandon_call().map_err(call_error)) }
}

/// Prepare a call of a guest function with `nkinds` arguments of the kinds in `kinds`
/// (`FRISCY_ARG_*`), all 0 until set with `friscy_call_set_int`/`_set_double`. The function
/// is the symbol `name` (NUL-terminated) when `name` is not NULL, else guest address `addr`.
///
/// Ownership: `name` and `kinds` are only read during the call (`kinds` may be NULL when
/// `nkinds` is 0). On success `*out_call` receives a call the caller frees with
/// `friscy_call_free` (before or after the machine); it can only be invoked on `m`.
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_INVALID_ARGUMENT` (too many
/// arguments, unknown kind); `FRISCY_ERR_NOT_FOUND` (unknown symbol);
/// `FRISCY_ERR_GUEST_ADDRESS` (not code of the program); `FRISCY_ERR_BUSY`;
/// `FRISCY_ERR_POISONED`.
#[no_mangle]
pub unsafe extern "C" fn friscy_call_new(
    m: *mut friscy_machine,
    name: *const c_char,
    addr: u64,
    kinds: *const u32,
    nkinds: usize,
    out_call: *mut *mut friscy_call,
) -> friscy_result {
    // SAFETY: `m` is NULL or live (caller's contract).
    unsafe {
        with_machine(m, |s| {
            if out_call.is_null() {
                return Err(Error::null("out_call"));
            }
            if nkinds > MAX_CALL_ARGS {
                return Err(Error::invalid(format!(
                    "{nkinds} arguments; at most {MAX_CALL_ARGS}"
                )));
            }
            if nkinds > 0 && kinds.is_null() {
                return Err(Error::null("kinds"));
            }
            let mut parsed = [ArgKind::Int; MAX_CALL_ARGS];
            for (i, k) in parsed.iter_mut().enumerate().take(nkinds) {
                // SAFETY: `nkinds` readable entries (caller's contract).
                *k = kind_of(kinds.add(i).read(), i)?;
            }
            let func = if name.is_null() {
                if !s.machine.is_code_address(addr) {
                    return Err(call_error(CallError::BadAddress(addr)));
                }
                addr
            } else {
                symbol_address(s, name)?
            };
            let prepared = PreparedCall::new(func, &parsed[..nkinds]).map_err(call_error)?;
            let call = Box::new(friscy_call {
                machine: m as usize,
                prepared,
            });
            // SAFETY: non-NULL and writable (caller's contract).
            out_call.write(Box::into_raw(call));
            Ok(())
        })
    }
}

/// Set argument `index` of a prepared call: to the integer `value` (a FLOAT/DOUBLE
/// argument gets it converted to floating point).
///
/// Returns `FRISCY_OK`; `FRISCY_ERR_NULL_POINTER`; `FRISCY_ERR_INVALID_ARGUMENT` if `index`
/// is not below the call's argument count.
#[no_mangle]
pub unsafe extern "C" fn friscy_call_set_int(
    call: *mut friscy_call,
    index: usize,
    value: i64,
) -> friscy_result {
    // SAFETY: `call` is NULL or live (caller's contract).
    unsafe { set_arg(call, index, Arg::Int(value as u64)) }
}

/// Set argument `index` of a prepared call to the floating-point `value` (an integer
/// argument gets it truncated toward zero).
///
/// Returns as `friscy_call_set_int`.
#[no_mangle]
pub unsafe extern "C" fn friscy_call_set_double(
    call: *mut friscy_call,
    index: usize,
    value: f64,
) -> friscy_result {
    // SAFETY: `call` is NULL or live (caller's contract).
    unsafe { set_arg(call, index, Arg::Double(value)) }
}

/// # Safety
/// `call` must be NULL or a live prepared call.
unsafe fn set_arg(call: *mut friscy_call, index: usize, value: Arg) -> friscy_result {
    guard(|| {
        // SAFETY: the caller's contract; C holds no other reference during the call.
        let call = unsafe { call.as_mut() }.ok_or_else(|| Error::null("call"))?;
        call.prepared.set(index, value).map_err(call_error)
    })
}

/// Make a prepared call on machine `m` (the machine it was prepared for) with at most
/// `budget` instructions, and store how it ended in `*out_result`: as `friscy_machine_call`.
///
/// Returns as `friscy_machine_call`; `FRISCY_ERR_INVALID_ARGUMENT` if `call` was prepared
/// for another machine.
#[no_mangle]
pub unsafe extern "C" fn friscy_call_invoke(
    m: *mut friscy_machine,
    call: *const friscy_call,
    budget: u64,
    out_result: *mut friscy_call_result,
) -> friscy_result {
    // SAFETY: `call` is NULL or live (caller's contract).
    let Some(call) = (unsafe { call.as_ref() }) else {
        return guard(|| Err(Error::null("call")));
    };
    // SAFETY: forwarded caller contract.
    unsafe {
        call_with(m, budget, out_result, |s| {
            if call.machine != m as usize {
                return Err(Error::invalid(
                    "the call was prepared for another machine (friscy_call_new)",
                ));
            }
            s.machine.begin_call(&call.prepared).map_err(call_error)
        })
    }
}

/// Free a prepared call. `friscy_call_free(NULL)` does nothing; the pointer is invalid
/// afterwards. Never fails.
#[no_mangle]
pub unsafe extern "C" fn friscy_call_free(call: *mut friscy_call) {
    let _ = guard_quiet(|| {
        if !call.is_null() {
            // SAFETY: `call` came from `Box::into_raw` in `friscy_call_new` and the caller
            // gives it up.
            drop(unsafe { Box::from_raw(call) });
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_constants_match_the_core() {
        assert_eq!(FRISCY_SYSCALL_PAUSE, friscy_core::vmcall::PAUSE_SYSCALL);
        assert_eq!(FRISCY_CALL_MAX_ARGS, MAX_CALL_ARGS);
    }
}
