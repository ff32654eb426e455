//! The typed halves of the vtable: poll, complete, cancel, join, dealloc.
//!
//! Every function here is entered holding exactly one reference (a
//! `Notified`, a waker, the owned list's or the `JoinHandle`'s) and either
//! passes it on or releases it; see the ownership rules in `state.rs`.
//!
//! **No user code unwinds into a worker.** Everything here that runs user
//! code — polling the future, dropping it, dropping its output, waking or
//! dropping the join waker, dropping a panic payload — runs under
//! `catch_unwind`, and a panic payload whose own destructor panics is
//! leaked rather than dropped again (`util::panic`).

use super::core::{Cell, Core, Header, Stage, Trailer};
use super::error::JoinError;
use super::state::{State, ToIdle, ToRunning};
use super::waker::waker_ref;
use super::{Notified, Schedule, Task};
use crate::util::panic::{discard_panic, drop_quietly};
use std::future::Future;
use std::mem::{self, ManuallyDrop};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

struct Harness<F: Future, S> {
    cell: NonNull<Cell<F, S>>,
}

impl<F: Future, S: Schedule> Harness<F, S> {
    /// # Safety
    ///
    /// `ptr` points to a live `Cell<F, S>` and the caller holds a reference.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness { cell: ptr.cast() }
    }

    fn header_ptr(&self) -> NonNull<Header> {
        self.cell.cast()
    }

    fn header(&self) -> &Header {
        // SAFETY: the harness holds a reference, so the cell is live.
        unsafe { &self.cell.as_ref().header }
    }

    fn state(&self) -> &State {
        &self.header().state
    }

    fn core(&self) -> &Core<F, S> {
        // SAFETY: as in `header`.
        unsafe { &self.cell.as_ref().core }
    }

    fn trailer(&self) -> &Trailer {
        // SAFETY: as in `header`.
        unsafe { &self.cell.as_ref().trailer }
    }

    fn poll(self) {
        match self.state().transition_to_running() {
            ToRunning::Success => {
                let waker = waker_ref(self.header_ptr());
                let mut cx = Context::from_waker(&waker);
                if poll_future(self.core(), &mut cx) {
                    return self.complete();
                }
                match self.state().transition_to_idle() {
                    ToIdle::Ok => {}
                    ToIdle::OkNotified => {
                        // SAFETY: the `Notified` reference we ran with is reused.
                        let task = unsafe { Task::from_raw(self.header_ptr()) };
                        self.core().scheduler.yield_now(Notified(task));
                    }
                    ToIdle::Cancelled => {
                        cancel_task(self.core());
                        self.complete();
                    }
                }
            }
            ToRunning::Cancelled => {
                cancel_task(self.core());
                self.complete();
            }
            ToRunning::Failed => self.drop_reference(),
        }
    }

    /// Publishes completion, hands the output over and releases the running
    /// reference plus, if still linked, the owned list's reference.
    fn complete(self) {
        let snapshot = self.state().transition_to_complete();
        // A panicking output destructor or join waker must not unwind into
        // the worker.
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| {
            if !snapshot.is_join_interested() {
                self.core().set_stage(Stage::Consumed);
            } else if snapshot.is_join_waker_set() {
                // SAFETY: JOIN_WAKER was set when COMPLETE was set.
                unsafe { self.trailer().wake_join() };
            }
        })) {
            discard_panic(panic);
        }
        // SAFETY: borrowed view of our own reference; never dropped.
        let me = ManuallyDrop::new(unsafe { Task::<S>::from_raw(self.header_ptr()) });
        let count = match self.core().scheduler.release(&me) {
            Some(owned) => {
                mem::forget(owned);
                2
            }
            None => 1,
        };
        if self.state().transition_to_terminal(count) {
            self.dealloc();
        }
    }

    fn drop_reference(self) {
        if self.state().ref_dec() {
            self.dealloc();
        }
    }

    fn dealloc(self) {
        // SAFETY: the last reference is gone; the cell was created by
        // `Box::new` in `Cell::new`.
        let cell = unsafe { Box::from_raw(self.cell.as_ptr()) };
        // What is left in the cell may hold user values (a join waker, an
        // output nobody read); the box is freed even if one panics.
        drop_quietly(cell);
    }
}

impl<F: Future, S> Core<F, S> {
    /// # Safety (not marked unsafe: callers hold `RUNNING` or own the output)
    fn set_stage(&self, stage: Stage<F>) {
        // SAFETY: callers own the stage per the rules in `state.rs`.
        self.stage.with_mut(|p| unsafe { *p = stage });
    }

    fn take_output(&self) -> Result<F::Output, JoinError> {
        // SAFETY: only the JoinHandle calls this, after observing COMPLETE
        // with JOIN_INTEREST still set, which makes it the output's owner.
        self.stage.with_mut(
            |p| match mem::replace(unsafe { &mut *p }, Stage::Consumed) {
                Stage::Finished(out) => out,
                _ => panic!("JoinHandle polled after it returned its output"),
            },
        )
    }
}

/// Polls the future; on `Ready` (or a panic) stores the result. Returns true
/// when the task is finished.
fn poll_future<F: Future, S>(core: &Core<F, S>, cx: &mut Context<'_>) -> bool {
    let res = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: we hold RUNNING, so we own the stage.
        core.stage.with_mut(|p| match unsafe { &mut *p } {
            Stage::Running(fut) => {
                // SAFETY: the future lives in the heap cell and is never moved
                // out of it while in `Running`; it is dropped in place.
                unsafe { Pin::new_unchecked(fut) }.poll(cx)
            }
            _ => unreachable!("polled a task whose future is gone"),
        })
    }));
    let out = match res {
        Ok(Poll::Pending) => return false,
        Ok(Poll::Ready(out)) => Ok(out),
        Err(panic) => Err(JoinError::panic(panic)),
    };
    // Drop the future before publishing the output; its destructor may
    // panic. Then the task fails with that panic and the output (or the
    // poll's own panic) is dropped here — under `catch_unwind` too, since
    // the output's destructor may panic as well.
    let out = match catch_unwind(AssertUnwindSafe(|| core.set_stage(Stage::Consumed))) {
        Ok(()) => out,
        Err(panic) => {
            drop_quietly(out);
            Err(JoinError::panic(panic))
        }
    };
    core.set_stage(Stage::Finished(out));
    true
}

/// Drops the future of a cancelled task and records why it ended.
fn cancel_task<F: Future, S>(core: &Core<F, S>) {
    let res = catch_unwind(AssertUnwindSafe(|| core.set_stage(Stage::Consumed)));
    let err = match res {
        Ok(()) => JoinError::cancelled(),
        Err(panic) => JoinError::panic(panic),
    };
    core.set_stage(Stage::Finished(Err(err)));
}

/// Reads the output into `dst` if the task is complete; otherwise makes sure
/// `waker` is the registered join waker.
fn can_read_output(state: &State, trailer: &Trailer, waker: &Waker) -> bool {
    let snapshot = state.load();
    if snapshot.is_complete() {
        return true;
    }
    let res = if !snapshot.is_join_waker_set() {
        set_join_waker(state, trailer, waker)
    } else {
        // SAFETY: JOIN_WAKER is set and we are the JoinHandle: only we write.
        if unsafe { trailer.will_wake(waker) } {
            return false;
        }
        state
            .unset_join_waker()
            .and_then(|_| set_join_waker(state, trailer, waker))
    };
    match res {
        Ok(_) => false,
        Err(snapshot) => {
            debug_assert!(snapshot.is_complete());
            true
        }
    }
}

fn set_join_waker(
    state: &State,
    trailer: &Trailer,
    waker: &Waker,
) -> Result<super::state::Snapshot, super::state::Snapshot> {
    // SAFETY: JOIN_WAKER is clear, so the slot is ours.
    unsafe { trailer.set_waker(Some(waker.clone())) };
    let res = state.set_join_waker();
    if res.is_err() {
        // Completed meanwhile; the completer never looked at the slot.
        // SAFETY: JOIN_WAKER is still clear, so the slot is still ours.
        unsafe { trailer.set_waker(None) };
    }
    res
}

// ===== vtable entries =====

/// # Safety
///
/// `ptr` is a live `Cell<F, S>`; consumes a `Notified` reference.
pub(super) unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded contract.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll();
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>`; the caller transfers a `Notified` reference.
pub(super) unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded contract.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    // SAFETY: the reference is transferred into the `Notified`.
    let task = unsafe { Task::from_raw(ptr) };
    harness.core().scheduler.schedule(Notified(task));
}

/// # Safety
///
/// The last reference to `ptr` is gone.
pub(super) unsafe fn dealloc<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded contract.
    unsafe { Harness::<F, S>::from_raw(ptr) }.dealloc();
}

/// # Safety
///
/// `dst` points to a `Poll<Result<F::Output, JoinError>>`; the caller is the
/// task's `JoinHandle`.
pub(super) unsafe fn try_read_output<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: forwarded contract.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if can_read_output(harness.state(), harness.trailer(), waker) {
        let dst = dst as *mut Poll<Result<F::Output, JoinError>>;
        // SAFETY: `dst` has the right type (caller); we own the output.
        unsafe { *dst = Poll::Ready(harness.core().take_output()) };
    }
}

/// # Safety
///
/// Called once, by the `JoinHandle`'s destructor; consumes its reference.
pub(super) unsafe fn drop_join_handle_slow<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded contract.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let (drop_output, drop_waker) = harness.state().transition_to_join_handle_dropped();
    if drop_output {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| {
            harness.core().set_stage(Stage::Consumed)
        })) {
            discard_panic(panic);
        }
    }
    if drop_waker {
        // The waker's destructor is user code: it must not unwind here.
        crate::util::panic::catch_quietly(|| {
            // SAFETY: the transition handed the slot to us.
            unsafe { harness.trailer().set_waker(None) }
        });
    }
    harness.drop_reference();
}

/// # Safety
///
/// Consumes one reference (the owned list's, or a queued `Notified`'s).
pub(super) unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded contract.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if !harness.state().transition_to_shutdown() {
        // Running elsewhere (it will see CANCELLED) or already complete.
        return harness.drop_reference();
    }
    cancel_task(harness.core());
    harness.complete();
}
