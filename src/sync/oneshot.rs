//! A one-shot channel: one value, sent once, from one task to another.
//!
//! Built on `futures-channel`'s oneshot (already a dependency through
//! `futures`, and well exercised): this module adds the cooperative budget
//! to receiving, the closed/`Empty` error shapes, and `recv_blocking`.
//!
//! Drop and close semantics:
//!
//! * [`Sender::send`] hands the value back (`Err(value)`) if the receiver
//!   was dropped or [closed](Receiver::close).
//! * Dropping the `Sender` without sending completes the receiver with
//!   [`RecvError`].
//! * A value sent before the receiver is dropped is dropped with the
//!   receiver; one sent before [`Receiver::close`] can still be received.
//!
//! ```
//! use stevedore::sync::oneshot;
//!
//! # stevedore::Runtime::new().unwrap().block_on(async {
//! let (tx, rx) = oneshot::channel();
//! stevedore::spawn(async move {
//!     let _ = tx.send("done");
//! });
//! assert_eq!(rx.await, Ok("done"));
//!
//! let (tx, rx) = oneshot::channel::<u32>();
//! drop(rx);
//! assert_eq!(tx.send(7), Err(7)); // the receiver is gone: value handed back
//! # });
//! ```

use crate::chan::select::{ArmPicker, PickChannelArm, SelectArm, Token};
use crate::runtime::coop;
use futures::channel::oneshot as inner;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A new one-shot channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = inner::channel();
    (
        Sender { inner: tx },
        Receiver {
            inner: rx,
            stash: None,
        },
    )
}

/// Sends the channel's one value.
pub struct Sender<T> {
    inner: inner::Sender<T>,
}

/// Receives the channel's one value: await it (it is a future), or poll
/// with [`try_recv`](Receiver::try_recv).
///
/// Awaiting yields `Ok(value)`, or `Err(RecvError)` if the sender was
/// dropped without sending. Polling again after that yields
/// `Err(RecvError)`.
///
/// In [`select!`](crate::select), pass it as `&mut rx`: if another arm
/// wins at the moment the value arrives, the value stays in the receiver
/// for the next poll instead of being dropped with the arm.
pub struct Receiver<T> {
    inner: inner::Receiver<T>,
    /// A result taken by a `select!` arm that then lost; returned first.
    stash: Option<Result<T, RecvError>>,
}

/// The sender was dropped without sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the oneshot sender was dropped without sending")
    }
}

impl std::error::Error for RecvError {}

/// [`Receiver::try_recv`] found no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing sent yet; the sender is still there.
    Empty,
    /// Nothing will come: the sender was dropped without sending, the
    /// receiver was closed, or the value was already taken.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value sent yet"),
            TryRecvError::Closed => f.write_str("the oneshot channel is closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender.
    ///
    /// # Errors
    ///
    /// `Err(value)`, handing the value back, if the receiver was dropped or
    /// closed.
    pub fn send(self, value: T) -> Result<(), T> {
        self.inner.send(value)
    }

    /// True once the receiver was dropped or closed: a `send` would fail.
    pub fn is_closed(&self) -> bool {
        self.inner.is_canceled()
    }

    /// Completes when the receiver is dropped or closed (to stop work whose
    /// result nobody wants any more).
    ///
    /// ```
    /// # stevedore::Runtime::new().unwrap().block_on(async {
    /// let (mut tx, rx) = stevedore::sync::oneshot::channel::<u32>();
    /// drop(rx);
    /// tx.closed().await;
    /// assert!(tx.is_closed());
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls for the receiver going away; see [`closed`](Sender::closed).
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.poll_canceled(cx)
    }
}

impl<T> Receiver<T> {
    /// Refuses the value from now on: a later `send` fails and hands it
    /// back. A value sent before is still received.
    pub fn close(&mut self) {
        self.inner.close();
    }

    /// Takes the value if it was sent, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if the sender is still there,
    /// [`TryRecvError::Closed`] if nothing will come.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.stash.take() {
            Some(Ok(v)) => return Ok(v),
            Some(Err(_)) => return Err(TryRecvError::Closed),
            None => {}
        }
        match self.inner.try_recv() {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(TryRecvError::Empty),
            Err(inner::Canceled) => Err(TryRecvError::Closed),
        }
    }

    /// Waits for the value from a plain (non-worker) thread, blocking it.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender was dropped without sending.
    ///
    /// # Panics
    ///
    /// On a runtime worker thread.
    #[track_caller]
    pub fn recv_blocking(self) -> Result<T, RecvError> {
        assert!(
            !crate::runtime::context::is_worker_thread(),
            "oneshot::Receiver::recv_blocking called on a stevedore worker thread; use .await"
        );
        crate::runtime::block_on_thread(self)
    }
}

// The stashed value is never pinned (it is only moved in and out whole),
// and the inner receiver is `Unpin`.
impl<T> Unpin for Receiver<T> {}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(res) = self.stash.take() {
            return Poll::Ready(res);
        }
        ready!(coop::poll_proceed(cx));
        let res = ready!(Pin::new(&mut self.inner).poll(cx));
        coop::consume();
        Poll::Ready(res.map_err(|inner::Canceled| RecvError(())))
    }
}

/// The `select!` arm for `&mut Receiver`: completes only if it wins the
/// select; a value that arrives as another arm wins is kept.
#[doc(hidden)]
#[derive(Debug)]
pub struct SelectRecv<'a, T>(&'a mut Receiver<T>);

impl<'a, T> PickChannelArm for ArmPicker<&'a mut Receiver<T>> {
    type Arm = SelectRecv<'a, T>;
    fn pick(&self) -> Self::Arm {
        SelectRecv(self.take())
    }
}

impl<T> SelectArm for SelectRecv<'_, T> {
    type Output = Result<T, RecvError>;

    unsafe fn poll_arm(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        token: &Token,
        arm: usize,
    ) -> Poll<Self::Output> {
        // Polled even if another arm just won: what it takes is put back
        // below, so nothing is lost either way.
        let res = ready!(Pin::new(&mut *self.0).poll(cx));
        if token.try_claim(arm) {
            Poll::Ready(res)
        } else {
            self.0.stash = Some(res);
            Poll::Pending
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
