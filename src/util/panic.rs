//! Running user code (destructors, wakers) where a panic must not unwind:
//! on a worker, outside any task's poll.

use std::any::Any;
use std::mem;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`; a panic in it is caught and discarded.
pub(crate) fn catch_quietly(f: impl FnOnce()) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
        discard_panic(panic);
    }
}

/// Drops `value`; a panic in its destructor is caught and discarded.
pub(crate) fn drop_quietly<T>(value: T) {
    catch_quietly(move || drop(value));
}

/// Drops a caught panic payload that nobody will see. A payload's own
/// destructor may panic too (`panic_any` of such a value); then the second
/// payload is leaked, so the regress ends here instead of in the caller.
pub(crate) fn discard_panic(panic: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(panic))) {
        mem::forget(again);
    }
}
