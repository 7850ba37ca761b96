//! Entry-point wrappers: catch panics so nothing unwinds into C, and map errors to result codes.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::result::{
    friscy_result, set_thread_error, Error, FResult, FRISCY_ERR_INTERNAL, FRISCY_OK,
};

/// Text for a caught panic payload.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    format!("internal error (panic): {msg}")
}

/// Run `f`, turning a panic into `FRISCY_ERR_INTERNAL`; without recording any error text.
pub(crate) fn guard_quiet(f: impl FnOnce() -> FResult) -> friscy_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => FRISCY_OK,
        Ok(Err(e)) => e.code,
        Err(_) => FRISCY_ERR_INTERNAL,
    }
}

/// Run `f`, turning a panic into `FRISCY_ERR_INTERNAL` and recording the failure's detail
/// as the calling thread's last error.
pub(crate) fn guard(f: impl FnOnce() -> FResult) -> friscy_result {
    let outcome = catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(Error::new(FRISCY_ERR_INTERNAL, panic_text(&*payload))));
    match outcome {
        Ok(()) => FRISCY_OK,
        Err(e) => {
            set_thread_error(&e.detail);
            e.code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::FRISCY_ERR_INVALID_ARGUMENT;

    #[test]
    fn panics_become_internal_errors() {
        // Keep the test output quiet: the default hook would print the panic.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = guard(|| panic!("boom"));
        std::panic::set_hook(hook);
        assert_eq!(r, FRISCY_ERR_INTERNAL);
        assert_eq!(guard(|| Ok(())), FRISCY_OK);
        assert_eq!(
            guard(|| Err(Error::invalid("x"))),
            FRISCY_ERR_INVALID_ARGUMENT
        );
    }
}
