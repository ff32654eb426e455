//! The task state word: lifecycle bits plus a reference count, in one atomic.
//!
//! ```text
//!  63 ........................ 6   5        4          3          2        1         0
//! [        reference count       | CANCELLED | JOIN_WAKER | JOIN_INTEREST | NOTIFIED | COMPLETE | RUNNING ]
//! ```
//!
//! Every transition is a single atomic read-modify-write, so each thread that
//! touches a task learns, from the value it replaced, exactly what it now owns.
//! Rules the transitions enforce:
//!
//! * **At most one poll at a time.** Only the holder of a `Notified` may set
//!   `RUNNING`, and only when `RUNNING` and `COMPLETE` are clear. A wake that
//!   arrives while `RUNNING` is set only sets `NOTIFIED`; the poller sees it
//!   when it clears `RUNNING` and re-queues the task itself.
//! * **At most one queued entry.** A `Notified` is created only by the wake
//!   that moves an idle task from `!NOTIFIED` to `NOTIFIED`.
//! * **No lost wake-ups.** Clearing `RUNNING` and reading `NOTIFIED` happen in
//!   the same compare-and-swap.
//! * **Waking a completed task does nothing** (and never touches the scheduler,
//!   which may already be gone).
//! * **Output ownership is decided once.** After `COMPLETE` is set the output
//!   belongs to the `JoinHandle` if `JOIN_INTEREST` was still set at that
//!   moment, otherwise to the completing thread, which drops it.
//! * **The join waker slot** is written only by the `JoinHandle` and only
//!   while `JOIN_WAKER` is clear and `COMPLETE` is clear; it is read by the
//!   completing thread only if `JOIN_WAKER` was set when `COMPLETE` was set.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use std::fmt;

/// The task is being polled (or cancelled) by exactly one thread.
///
/// Set only from an idle, non-complete state by the holder of a `Notified`
/// (or by shutdown); cleared when the poll returns.
const RUNNING: usize = 0b00_0001;

/// The future has finished (ready, panicked or cancelled) and has been
/// dropped. Never cleared. `RUNNING` is never set again afterwards.
const COMPLETE: usize = 0b00_0010;

/// The task has been woken. While the task is idle this means exactly one
/// `Notified` for it sits in a run queue; while it is running it means "poll
/// again".
const NOTIFIED: usize = 0b00_0100;

/// A `JoinHandle` exists. Cleared once, when the handle is dropped.
const JOIN_INTEREST: usize = 0b00_1000;

/// The join waker slot holds a waker the completing thread must wake.
const JOIN_WAKER: usize = 0b01_0000;

/// `abort()` or runtime shutdown asked for cancellation: the next thread that
/// sets `RUNNING` drops the future instead of polling it.
const CANCELLED: usize = 0b10_0000;

const LIFECYCLE_MASK: usize = RUNNING | COMPLETE;
const REF_SHIFT: u32 = 6;
const REF_ONE: usize = 1 << REF_SHIFT;

/// A new task has three references: the owned-tasks list, the `Notified`
/// handed to the scheduler and the `JoinHandle`.
const INITIAL: usize = (3 * REF_ONE) | JOIN_INTEREST | NOTIFIED;

pub(crate) struct State {
    val: AtomicUsize,
}

#[derive(Copy, Clone)]
pub(crate) struct Snapshot(usize);

/// Outcome of [`State::transition_to_running`].
#[must_use]
pub(crate) enum ToRunning {
    /// Poll the future.
    Success,
    /// Drop the future: the task was cancelled.
    Cancelled,
    /// The task already ran to completion; drop the `Notified` reference.
    Failed,
}

/// Outcome of [`State::transition_to_idle`].
#[must_use]
pub(crate) enum ToIdle {
    /// Idle; the `Notified` reference was released.
    Ok,
    /// Woken during the poll: re-queue, reusing the `Notified` reference.
    OkNotified,
    /// Cancelled during the poll: drop the future now (still `RUNNING`).
    Cancelled,
}

/// Outcome of a wake.
#[must_use]
pub(crate) enum ToNotified {
    /// Nothing to do.
    DoNothing,
    /// Hand a `Notified` to the scheduler (a reference was transferred or added).
    Submit,
    /// The last reference was released: deallocate.
    Dealloc,
}

impl State {
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL),
        }
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Acquire))
    }

    fn fetch_update<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.val.load(Acquire);
        loop {
            let (out, next) = f(Snapshot(curr));
            let Some(next) = next else { return out };
            match self
                .val
                .compare_exchange_weak(curr, next.0, AcqRel, Acquire)
            {
                Ok(_) => return out,
                Err(actual) => curr = actual,
            }
        }
    }

    /// Called by the holder of a `Notified` before polling.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.fetch_update(|s| {
            assert!(s.is_notified(), "running a task that was not notified");
            if s.0 & LIFECYCLE_MASK != 0 {
                // Completed (by shutdown) while queued.
                return (ToRunning::Failed, None);
            }
            let next = Snapshot((s.0 & !NOTIFIED) | RUNNING);
            if s.is_cancelled() {
                (ToRunning::Cancelled, Some(next))
            } else {
                (ToRunning::Success, Some(next))
            }
        })
    }

    /// Called after a poll returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.fetch_update(|s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (ToIdle::Cancelled, None);
            }
            let mut next = s.0 & !RUNNING;
            if s.is_notified() {
                (ToIdle::OkNotified, Some(Snapshot(next)))
            } else {
                debug_assert!(s.ref_count() > 1, "owned list keeps the task alive");
                next -= REF_ONE;
                (ToIdle::Ok, Some(Snapshot(next)))
            }
        })
    }

    /// `RUNNING` → `COMPLETE`. Returns the state just before.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        prev
    }

    /// Drops `count` references after completion; true if that was the last.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.val.fetch_sub(count * REF_ONE, AcqRel));
        assert!(prev.ref_count() >= count, "task reference count underflow");
        prev.ref_count() == count
    }

    /// Wake consuming one reference (`Waker::wake`).
    pub(crate) fn transition_to_notified_by_val(&self) -> ToNotified {
        self.fetch_update(|s| {
            if s.is_running() {
                // The poller re-queues; our reference cannot be the last one
                // because the poller holds one.
                let next = (s.0 | NOTIFIED) - REF_ONE;
                (ToNotified::DoNothing, Some(Snapshot(next)))
            } else if s.is_complete() || s.is_notified() {
                let next = s.0 - REF_ONE;
                let out = if Snapshot(next).ref_count() == 0 {
                    ToNotified::Dealloc
                } else {
                    ToNotified::DoNothing
                };
                (out, Some(Snapshot(next)))
            } else {
                // Our reference becomes the `Notified`'s.
                (ToNotified::Submit, Some(Snapshot(s.0 | NOTIFIED)))
            }
        })
    }

    /// Wake keeping the caller's reference (`Waker::wake_by_ref`).
    pub(crate) fn transition_to_notified_by_ref(&self) -> ToNotified {
        self.fetch_update(|s| {
            if s.is_complete() || s.is_notified() {
                (ToNotified::DoNothing, None)
            } else if s.is_running() {
                (ToNotified::DoNothing, Some(Snapshot(s.0 | NOTIFIED)))
            } else {
                let next = (s.0 | NOTIFIED) + REF_ONE;
                (ToNotified::Submit, Some(Snapshot(next)))
            }
        })
    }

    /// `abort()`: marks the task cancelled. Returns true if the caller must
    /// submit a new `Notified` (a reference was added for it).
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.fetch_update(|s| {
            if s.is_cancelled() || s.is_complete() {
                (false, None)
            } else if s.is_running() || s.is_notified() {
                // The poll in progress, or the queued entry, observes it.
                (false, Some(Snapshot(s.0 | CANCELLED | NOTIFIED)))
            } else {
                let next = (s.0 | CANCELLED | NOTIFIED) + REF_ONE;
                (true, Some(Snapshot(next)))
            }
        })
    }

    /// Shutdown: marks the task cancelled and, if it is idle, claims it
    /// (`RUNNING`) so the caller can drop the future. True if claimed.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update(|s| {
            let mut next = s.0 | CANCELLED;
            let claimed = s.0 & LIFECYCLE_MASK == 0;
            if claimed {
                next |= RUNNING;
            }
            (claimed, Some(Snapshot(next)))
        })
    }

    /// JoinHandle dropped. Returns `(drop_output, drop_waker)`: whether the
    /// caller now owns (and must drop) the output or the join waker.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> (bool, bool) {
        self.fetch_update(|s| {
            debug_assert!(s.is_join_interested());
            if s.is_complete() {
                ((true, false), Some(Snapshot(s.0 & !JOIN_INTEREST)))
            } else {
                let drop_waker = s.is_join_waker_set();
                (
                    (false, drop_waker),
                    Some(Snapshot(s.0 & !(JOIN_INTEREST | JOIN_WAKER))),
                )
            }
        })
    }

    /// Publishes a freshly written join waker. Fails if the task completed.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                (Err(s), None)
            } else {
                let next = Snapshot(s.0 | JOIN_WAKER);
                (Ok(next), Some(next))
            }
        })
    }

    /// Takes back the join waker slot to replace it. Fails if complete.
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|s| {
            debug_assert!(s.is_join_interested() && s.is_join_waker_set());
            if s.is_complete() {
                (Err(s), None)
            } else {
                let next = Snapshot(s.0 & !JOIN_WAKER);
                (Ok(next), Some(next))
            }
        })
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self.val.fetch_add(REF_ONE, Relaxed);
        // Guard against overflow into nonsense (e.g. leaked wakers in a loop).
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference; true if it was the last.
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, AcqRel));
        assert!(prev.ref_count() >= 1, "task reference count underflow");
        prev.ref_count() == 1
    }
}

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("cancelled", &self.is_cancelled())
            .field("refs", &self.ref_count())
            .finish()
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(f)
    }
}
