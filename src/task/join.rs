//! `JoinHandle`: the owning handle to a task's output.

use super::core::Header;
use super::error::JoinError;
use super::RawTask;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An owned permission to await a task's output.
///
/// Awaiting it yields `Ok(output)`, or `Err(JoinError)` if the task panicked
/// or was cancelled. Dropping the handle **detaches** the task: it keeps
/// running, as a goroutine does. [`abort`](JoinHandle::abort) cancels it.
///
/// **Panics stay in the task.** A panic while polling the future, or in the
/// future's destructor (which runs as soon as it returns `Ready`), makes the
/// task finish with a panic `JoinError`; in the second case the output is
/// dropped — on the worker, with any panic from its own destructor caught
/// and discarded. Outputs nobody reads and the join waker are dropped the
/// same way, so no user code ever unwinds into a worker thread.
pub struct JoinHandle<T> {
    raw: RawTask,
    _p: PhantomData<T>,
}

// SAFETY: the handle only moves `T` out (requires `T: Send`); the header is
// thread-safe.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only exposes `abort`/`is_finished`, which touch the
// atomic state word only.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    ///
    /// `raw` carries the join reference of a task whose output type is `T`.
    pub(super) unsafe fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _p: PhantomData,
        }
    }

    /// Cancels the task. If it is idle it is dropped the next time a worker
    /// picks it up; if it is being polled, as soon as that poll returns.
    /// Aborting a finished task does nothing. Awaiting the handle afterwards
    /// yields `Err(e)` with `e.is_cancelled()` unless the task had finished.
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// True once the task has finished (its output may still be unread).
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// A handle that can abort the task without owning its output.
    pub fn abort_handle(&self) -> AbortHandle {
        self.raw.header().state.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut ret: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: `ret` has the type the task's vtable writes (`T` is the
        // task's output type) and we are the task's JoinHandle.
        unsafe {
            self.raw
                .try_read_output(&mut ret as *mut _ as *mut (), cx.waker())
        };
        ret
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: the handle owns the join reference, released here.
        unsafe { (self.raw.header().vtable.drop_join_handle_slow)(self.raw.ptr) };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("task", &(self.raw.ptr.as_ptr() as *const Header))
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Aborts a task without owning its output; cheap to clone.
pub struct AbortHandle {
    raw: RawTask,
}

// SAFETY: only the atomic state word is touched.
unsafe impl Send for AbortHandle {}
// SAFETY: as above.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// See [`JoinHandle::abort`].
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// See [`JoinHandle::is_finished`].
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> AbortHandle {
        self.raw.header().state.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("task", &(self.raw.ptr.as_ptr() as *const Header))
            .finish()
    }
}
