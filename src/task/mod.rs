//! Tasks: one heap allocation per spawned future, driven by an atomic state
//! machine and referenced by counted, type-erased pointers.
//!
//! Who holds a reference (each is one count in the state word):
//!
//! * the runtime's **owned-tasks list** (`list.rs`), from spawn until the
//!   task completes — this is how shutdown finds idle tasks to drop;
//! * a **`Notified`**, while the task sits in a run queue or is being polled;
//! * the **`JoinHandle`** and any **`AbortHandle`**s;
//! * every **`Waker`** clone.
//!
//! The memory is freed when the count reaches zero. See `state.rs` for the
//! bits and the rules, `harness.rs` for the transitions in context.

mod core;
mod error;
mod harness;
mod join;
mod join_set;
pub(crate) mod list;
#[cfg(stevedore_loom)]
pub(crate) mod loom_support;
mod state;
mod waker;

pub use self::error::JoinError;
pub use self::join::{AbortHandle, JoinHandle};
pub use self::join_set::{JoinNext, JoinSet};

use self::core::Cell;
pub(crate) use self::core::Header;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem;
use std::ptr::NonNull;
use std::task::Waker;

/// What a task needs from whoever runs it.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// A wake from outside the task's own poll: queue it.
    fn schedule(&self, task: Notified<Self>);

    /// The task was woken while it was being polled (e.g. `yield_now`): queue
    /// it behind the work that is already waiting.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }

    /// The task completed: unlink it from the owned list, returning the
    /// list's reference if it was linked.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;
}

/// A type-erased pointer to a task header. Carries no reference by itself.
#[derive(Clone, Copy)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

impl RawTask {
    fn header(&self) -> &Header {
        // SAFETY: every RawTask is embedded in a handle that holds a reference.
        unsafe { self.ptr.as_ref() }
    }

    fn poll(self) {
        // SAFETY: called with a `Notified` reference, consumed by `poll`.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    fn shutdown(self) {
        // SAFETY: called with one reference, consumed by `shutdown`.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// # Safety
    ///
    /// `dst` must point to a `Poll<Result<T, JoinError>>` of the task's
    /// output type, and the caller must be the task's JoinHandle.
    unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        // SAFETY: forwarded contract.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    fn remote_abort(self) {
        if self.header().state.transition_to_notified_and_cancel() {
            // SAFETY: the transition added a reference for the `Notified`.
            unsafe { (self.header().vtable.schedule)(self.ptr) }
        }
    }

    fn drop_reference(self) {
        if self.header().state.ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }
}

/// One counted reference to a task, typed by its scheduler.
pub(crate) struct Task<S: 'static> {
    raw: RawTask,
    _p: PhantomData<S>,
}

// SAFETY: tasks are only created from `Send` futures with `Send` outputs, and
// the header is thread-safe.
unsafe impl<S> Send for Task<S> {}
// SAFETY: as above; `&Task` only exposes the header pointer.
unsafe impl<S> Sync for Task<S> {}

impl<S: 'static> Task<S> {
    /// # Safety
    ///
    /// The caller transfers one reference to `ptr` into the new handle.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Task<S> {
        Task {
            raw: RawTask { ptr },
            _p: PhantomData,
        }
    }

    pub(crate) fn header_ptr(&self) -> NonNull<Header> {
        self.raw.ptr
    }

    pub(crate) fn header(&self) -> &Header {
        self.raw.header()
    }

    /// Cancels the task if it is idle, consuming this reference.
    pub(crate) fn shutdown(self) {
        let raw = self.raw;
        mem::forget(self);
        raw.shutdown();
    }

    /// Gives up the handle without releasing its reference.
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let ptr = self.raw.ptr;
        mem::forget(self);
        ptr
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl<S: 'static> fmt::Debug for Task<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task({:p})", self.raw.ptr)
    }
}

/// A task that is due to be polled: the run-queue entry.
pub(crate) struct Notified<S: 'static>(pub(crate) Task<S>);

impl<S: 'static> Notified<S> {
    /// Polls the task (or finishes cancelling it), consuming the entry.
    pub(crate) fn run(self) {
        let raw = self.0.raw;
        mem::forget(self);
        raw.poll();
    }

    /// Cancels the task instead of running it (queue drained at shutdown).
    pub(crate) fn shutdown(self) {
        self.0.shutdown();
    }

    pub(crate) fn into_raw(self) -> NonNull<Header> {
        self.0.into_raw()
    }

    /// # Safety
    ///
    /// `ptr` must come from [`Notified::into_raw`] for the same `S`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified<S> {
        // SAFETY: forwarded contract.
        Notified(unsafe { Task::from_raw(ptr) })
    }
}

impl<S: 'static> fmt::Debug for Notified<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Notified({:p})", self.0.raw.ptr)
    }
}

/// Allocates a task. Returns the owned-list reference, the first run-queue
/// entry and the join handle.
#[inline(always)]
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    owner: u32,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let cell = Cell::new(future, scheduler, owner);
    // SAFETY: `Box::into_raw` is never null; `Cell` is repr(C) with the
    // header first, so the cast yields the header pointer.
    let ptr = unsafe { NonNull::new_unchecked(Box::into_raw(cell) as *mut Header) };
    let raw = RawTask { ptr };
    // SAFETY: the initial state holds exactly these three references.
    unsafe {
        (
            Task::from_raw(ptr),
            Notified(Task::from_raw(ptr)),
            JoinHandle::new(raw),
        )
    }
}
