//! Per-thread runtime context: which worker (if any) this thread is, which
//! runtime it has entered, and the cooperative budget of the current poll.
//!
//! Everything is a `Cell` of a raw pointer or a small integer so the access
//! is a plain TLS read with no lazy initialisation or destructor.
//!
//! **The entered runtime is owned by the thread, not by a guard.** `shared`
//! always holds one strong count of the `Arc<Shared>` it points to (taken by
//! whoever stored it); a guard owns the count of the value it will put back
//! and releases the one it takes out. Every store is a swap of owned counts,
//! so the pointer can never dangle — whatever order guards drop in, and even
//! if one is leaked with `mem::forget` (the runtime's `Shared` then leaks
//! too). Out-of-order drops of `EnterGuard`s are still a bug, reported by a
//! panic (see [`EnterGuard`]).

use super::handle::{Handle, Shared};
use super::worker::Core;
use crate::loom::sync::Arc;
use std::cell::Cell;
use std::ptr;

pub(crate) struct Context {
    /// The worker core running on this thread; null on other threads.
    core: Cell<*const Core>,
    /// The runtime entered by this thread (workers, blocking threads,
    /// `block_on` and `enter` callers); null otherwise. Owns one strong count
    /// of its `Arc<Shared>` (see the module docs).
    shared: Cell<*const Shared>,
    /// How many `EnterGuard`s are live on this thread; each guard remembers
    /// the depth it created, so an out-of-order drop is detected.
    depth: Cell<usize>,
    /// Remaining cooperative budget; `u8::MAX` means unconstrained.
    pub(super) budget: Cell<u8>,
}

crate::loom::thread_local! {
    static CONTEXT: Context = Context {
        core: Cell::new(ptr::null()),
        shared: Cell::new(ptr::null()),
        depth: Cell::new(0),
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
        // SAFETY: the context owns a strong count of the pointed-to `Shared`
        // for as long as the pointer is stored (module docs), and `f` cannot
        // replace it while borrowing it: every store happens in `enter`,
        // `set_core` or a guard's drop, none of which hand out the reference.
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

/// A strong count of `shared`'s `Arc`, as a raw pointer for the context.
fn own(shared: &Arc<Shared>) -> *const Shared {
    Arc::into_raw(Arc::clone(shared))
}

/// Releases a count taken by [`own`] (or stored in the context).
///
/// # Safety
///
/// `ptr` is null or carries one strong count, which the caller gives up.
unsafe fn release(ptr: *const Shared) {
    if !ptr.is_null() {
        // SAFETY: per the contract, `ptr` came from `Arc::into_raw` and its
        // count is ours to drop.
        drop(unsafe { Arc::from_raw(ptr) });
    }
}

/// Marks this thread as running `core` until the guard drops.
pub(super) fn set_core(core: &Core) -> CoreGuard {
    let shared = own(&core.handle().shared);
    CONTEXT.with(|cx| {
        let prev_core = cx.core.replace(core as *const Core);
        let prev_shared = cx.shared.replace(shared);
        CoreGuard {
            prev_core,
            prev_shared,
        }
    })
}

pub(super) struct CoreGuard {
    prev_core: *const Core,
    /// Owns one count (or is null): it goes back into the context on drop.
    prev_shared: *const Shared,
}

impl Drop for CoreGuard {
    fn drop(&mut self) {
        let cur = CONTEXT.with(|cx| {
            cx.core.set(self.prev_core);
            cx.shared.replace(self.prev_shared)
        });
        // SAFETY: the context owned `cur`'s count; it is ours now.
        unsafe { release(cur) };
    }
}

/// Enters `handle`'s runtime on this thread until the guard drops.
pub(super) fn enter(handle: &Handle) -> EnterGuard {
    let shared = own(&handle.shared);
    CONTEXT.with(|cx| {
        let prev = cx.shared.replace(shared);
        let depth = cx.depth.get() + 1;
        cx.depth.set(depth);
        EnterGuard {
            prev,
            depth,
            _not_send: std::marker::PhantomData,
        }
    })
}

/// Returned by [`Runtime::enter`](super::Runtime::enter) and
/// [`Handle::enter`]: while it lives, `stevedore::spawn` and the timers work
/// on this thread.
///
/// Guards must be dropped in the reverse order of their creation, on the
/// thread that created them (the guard is neither `Send` nor `Sync`).
///
/// # Panics
///
/// Dropping a guard while a guard created after it on the same thread is
/// still live panics ("EnterGuard values dropped out of order"), unless the
/// thread is already panicking. Memory stays valid either way: the thread's
/// context owns a reference to the runtime it names, so out-of-order drops
/// or a leaked guard never leave it pointing at a dropped runtime (which
/// runtime the thread is in afterwards is unspecified, and a leaked guard
/// leaks the runtime's shared state).
///
/// ```
/// let rt1 = stevedore::Runtime::new().unwrap();
/// let rt2 = stevedore::Runtime::new().unwrap();
/// let g1 = rt1.enter();
/// let g2 = rt2.enter();
/// use std::panic::{catch_unwind, AssertUnwindSafe};
/// let out_of_order = catch_unwind(AssertUnwindSafe(move || drop(g1)));
/// assert!(out_of_order.is_err());
/// # let _ = catch_unwind(AssertUnwindSafe(move || drop(g2)));
/// ```
pub struct EnterGuard {
    /// Owns one count (or is null): it goes back into the context on drop.
    prev: *const Shared,
    /// The thread's guard depth this guard created.
    depth: usize,
    /// The guard restores *this thread's* context.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let (cur, in_order) = CONTEXT.with(|cx| {
            let in_order = cx.depth.get() == self.depth;
            cx.depth.set(self.depth - 1);
            (cx.shared.replace(self.prev), in_order)
        });
        // SAFETY: the context owned `cur`'s count; it is ours now.
        unsafe { release(cur) };
        if !in_order && !std::thread::panicking() {
            panic!(
                "EnterGuard values dropped out of order: guards returned by \
                 Runtime::enter/Handle::enter must be dropped in the reverse \
                 order of their creation"
            );
        }
    }
}

impl std::fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard")
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}
