//! `timeout`: bound how long a future may take.

use super::sleep::{far_future, sleep_until, Sleep};
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Runs `future`, giving up after `duration`: `Ok(output)` if it finished in
/// time, `Err(Elapsed)` otherwise (the future is dropped with the `Timeout`).
///
/// The future is polled first, so one that is ready at once wins even
/// against a zero duration.
///
/// # Errors
///
/// [`Elapsed`](crate::time::Elapsed) when the deadline passes first.
///
/// # Panics
///
/// When first polled outside a stevedore runtime.
///
/// # Cancel safety
///
/// As cancel safe as `future`: dropping the `Timeout` (or the deadline
/// passing) drops `future` at its current `.await`.
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    let deadline = Instant::now()
        .checked_add(duration)
        .unwrap_or_else(far_future);
    timeout_at(deadline, future)
}

/// Like [`timeout`], with an absolute deadline.
///
/// # Errors
///
/// [`Elapsed`](crate::time::Elapsed) when the deadline passes first.
///
/// # Panics
///
/// When first polled outside a stevedore runtime.
///
/// # Cancel safety
///
/// As [`timeout`].
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

/// Future returned by [`timeout`].
#[derive(Debug)]
pub struct Timeout<F> {
    future: F,
    sleep: Sleep,
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// Unwraps the future.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned (never moved out while
        // pinned); `sleep` is `Unpin` and not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(v) = future.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The deadline of a [`timeout`] passed before the future finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}
