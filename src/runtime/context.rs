//! Per-thread runtime context: which worker (if any) this thread is, which
//! runtime it has entered, and the cooperative budget of the current poll.
//!
//! Everything is a `Cell` of a raw pointer or a small integer so the access
//! is a plain TLS read with no lazy initialisation or destructor.

use super::handle::{Handle, Shared};
use super::worker::Core;
use std::cell::Cell;
use std::ptr;

pub(crate) struct Context {
    /// The worker core running on this thread; null on other threads.
    core: Cell<*const Core>,
    /// The runtime entered by this thread (workers, blocking threads,
    /// `block_on` and `enter` callers); null otherwise. Kept alive by whoever
    /// set it (the worker's `Handle`, an `EnterGuard`).
    shared: Cell<*const Shared>,
    /// Remaining cooperative budget; `u8::MAX` means unconstrained.
    pub(super) budget: Cell<u8>,
}

crate::loom::thread_local! {
    static CONTEXT: Context = Context {
        core: Cell::new(ptr::null()),
        shared: Cell::new(ptr::null()),
        budget: Cell::new(u8::MAX),
    };
}

pub(super) fn with<R>(f: impl FnOnce(&Context) -> R) -> R {
    CONTEXT.with(f)
}

/// Runs `f` with the current worker core, if this thread is a worker.
pub(crate) fn with_core<R>(f: impl FnOnce(Option<&Core>) -> R) -> R {
    CONTEXT.with(|cx| {
        let core = cx.core.get();
        // SAFETY: the pointer is set by `worker::run` for exactly as long as
        // the core lives on this thread's stack.
        f(unsafe { core.as_ref() })
    })
}

/// Runs `f` with the runtime this thread has entered, if any.
pub(crate) fn with_shared<R>(f: impl FnOnce(Option<&Shared>) -> R) -> R {
    CONTEXT.with(|cx| {
        let shared = cx.shared.get();
        // SAFETY: whoever set the pointer keeps the runtime alive until it
        // restores the previous value.
        f(unsafe { shared.as_ref() })
    })
}

/// The handle of the entered runtime, or `None`.
pub(crate) fn try_current() -> Option<Handle> {
    with_shared(|s| s.map(Shared::to_handle))
}

/// True if this thread is a worker of any stevedore runtime.
pub(crate) fn is_worker_thread() -> bool {
    CONTEXT.with(|cx| !cx.core.get().is_null())
}

/// Marks this thread as running `core` until the guard drops.
pub(super) fn set_core(core: &Core) -> CoreGuard {
    CONTEXT.with(|cx| {
        let prev_core = cx.core.replace(core as *const Core);
        let prev_shared = cx.shared.replace(core.shared() as *const Shared);
        CoreGuard {
            prev_core,
            prev_shared,
        }
    })
}

pub(super) struct CoreGuard {
    prev_core: *const Core,
    prev_shared: *const Shared,
}

impl Drop for CoreGuard {
    fn drop(&mut self) {
        CONTEXT.with(|cx| {
            cx.core.set(self.prev_core);
            cx.shared.set(self.prev_shared);
        });
    }
}

/// Enters `handle`'s runtime on this thread until the guard drops.
pub(super) fn enter(handle: &Handle) -> EnterGuard {
    let prev = CONTEXT.with(|cx| cx.shared.replace(handle.shared_ptr()));
    EnterGuard {
        prev,
        _handle: handle.clone(),
    }
}

/// Returned by [`Runtime::enter`](super::Runtime::enter) and
/// [`Handle::enter`]: while it lives, `stevedore::spawn` and the timers work
/// on this thread.
#[derive(Debug)]
pub struct EnterGuard {
    prev: *const Shared,
    _handle: Handle,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        CONTEXT.with(|cx| cx.shared.set(self.prev));
    }
}
