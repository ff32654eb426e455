//! Cooperative budget: a task that keeps finding ready channel operations
//! must still give its worker back.
//!
//! Each task poll starts with [`BUDGET`] units. Every channel or WaitGroup
//! operation that completes without waiting spends one; once the budget is
//! spent, the next such operation wakes the task and returns `Pending`, so the
//! task goes to the back of the run queue. LIFO-slot tasks inherit what is
//! left of their waker's budget, so a ping-pong pair cannot starve the queue.

use super::context;
use std::task::{Context, Poll};

/// Operations per task poll before a forced yield.
pub(crate) const BUDGET: u8 = 128;
const UNCONSTRAINED: u8 = u8::MAX;

/// Runs one task poll with a fresh budget.
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    with_budget(BUDGET, f)
}

/// Runs `f` with no budget (blocking-pool jobs).
pub(crate) fn unconstrained<R>(f: impl FnOnce() -> R) -> R {
    with_budget(UNCONSTRAINED, f)
}

fn with_budget<R>(value: u8, f: impl FnOnce() -> R) -> R {
    struct Restore(u8);
    impl Drop for Restore {
        fn drop(&mut self) {
            context::with(|cx| cx.budget.set(self.0));
        }
    }
    let _restore = Restore(context::with(|cx| cx.budget.replace(value)));
    f()
}

/// `Pending` (after scheduling a wake) if the budget is spent.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    if context::with(|c| c.budget.get()) == 0 {
        cx.waker().wake_by_ref();
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}

/// Spends one unit after an operation completed without waiting.
#[inline]
pub(crate) fn consume() {
    context::with(|c| {
        let b = c.budget.get();
        if b != UNCONSTRAINED && b > 0 {
            c.budget.set(b - 1);
        }
    });
}

/// True unless the current poll spent its whole budget.
pub(crate) fn has_budget_remaining() -> bool {
    context::with(|c| c.budget.get()) != 0
}
