//! `Sleep`: a future that completes at a deadline.

use crate::runtime::context;
use crate::time::timers::Entry;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Waits until `duration` has elapsed. `sleep(Duration::ZERO)` is ready at
/// once; there is no rounding up to a millisecond.
///
/// # Panics
///
/// The returned future panics when first polled outside a stevedore runtime.
///
/// # Cancel safety
///
/// Cancel safe: dropping the [`Sleep`] removes its timer.
pub fn sleep(duration: Duration) -> Sleep {
    let deadline = Instant::now()
        .checked_add(duration)
        .unwrap_or_else(far_future);
    sleep_until(deadline)
}

/// Waits until `deadline` (a deadline in the past is ready at once).
///
/// # Panics
///
/// The returned future panics when first polled outside a stevedore runtime.
///
/// # Cancel safety
///
/// Cancel safe: dropping the [`Sleep`] removes its timer.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        entry: None,
    }
}

/// About 30 years away: what `sleep(Duration::MAX)` waits for.
pub(crate) fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// Future returned by [`sleep`] and [`sleep_until`].
///
/// Registers a timer on first poll (in the polling worker's own timer shard)
/// and cancels it when dropped. `Sleep` is `Unpin`.
pub struct Sleep {
    deadline: Instant,
    entry: Option<crate::loom::sync::Arc<Entry>>,
}

impl Sleep {
    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.entry.as_ref().is_some_and(|e| e.is_fired()) || Instant::now() >= self.deadline
    }

    /// Moves the deadline, cancelling any registered timer.
    pub fn reset(&mut self, deadline: Instant) {
        if let Some(e) = self.entry.take() {
            e.cancel();
        }
        self.deadline = deadline;
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(entry) = &self.entry {
            return if entry.poll_fired(cx.waker()) {
                Poll::Ready(())
            } else {
                Poll::Pending
            };
        }
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        let entry = context::with_shared(|shared| {
            let shared = shared.expect(
                "stevedore::time::sleep polled outside a stevedore runtime; \
                 await it inside Runtime::block_on or a spawned task",
            );
            shared.register_timer(deadline, cx.waker())
        });
        self.entry = Some(entry);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(e) = self.entry.take() {
            e.cancel();
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.entry.is_some())
            .finish()
    }
}

// `Sleep` holds only an `Arc` and an `Instant`.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync + Unpin>() {}
    assert_send_sync::<Sleep>();
    let _ = StdArc::<()>::new;
};
