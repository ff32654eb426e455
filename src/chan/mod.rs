//! Go-style channels: multi-producer, multi-consumer, bounded (including
//! rendezvous) or unbounded, with [`select!`](crate::select).
//!
//! | Go                         | stevedore                                  |
//! |----------------------------|--------------------------------------------|
//! | `make(chan T)`             | [`bounded(0)`](bounded) (rendezvous)       |
//! | `make(chan T, n)`          | [`bounded(n)`](bounded)                    |
//! | —                          | [`unbounded()`]                            |
//! | `ch <- v`                  | `tx.send(v).await`                         |
//! | `v, ok := <-ch`            | `rx.recv().await` → `Option<T>`            |
//! | `for v := range ch`        | `while let Some(v) = rx.recv().await`      |
//! | `close(ch)`                | [`Sender::close`], or drop every `Sender`  |
//! | `select { … default: … }`  | [`select!`](crate::select)                 |
//!
//! Differences from Go, all in the direction of "no panics, nothing lost":
//!
//! * Sending on a closed channel returns the value in [`SendError`] instead
//!   of panicking; closing twice is a no-op that returns `false`.
//! * The channel also closes when the last [`Receiver`] is dropped, so
//!   blocked senders get their values back instead of deadlocking.
//! * Futures are cancellable: dropping a pending `send` withdraws it; a value
//!   already handed to a `recv` that is then dropped goes back to the front
//!   of the channel.
//! * Each completed operation spends one unit of the task's cooperative
//!   budget, so a task that always finds its channel ready still yields.
//!
//! The blocking forms ([`Sender::send_blocking`], [`Receiver::recv_blocking`])
//! are for plain threads and panic on a runtime worker.

mod channel;
mod error;
mod ops;
#[doc(hidden)]
pub mod select;
mod waiter;

pub use self::error::{SendError, TryRecvError, TrySendError};
pub use self::ops::{Recv, Send};

use self::channel::{ChanRef, RecvFail, SendFail, Side};
use self::ops::RecvOp;
use self::waiter::WakeList;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A channel holding up to `cap` values. `bounded(0)` is a rendezvous
/// channel: a send completes only when a receiver takes the value.
///
/// # Examples
///
/// A producer and a consumer; dropping the last sender closes the channel,
/// which ends the consumer's loop.
///
/// ```
/// use stevedore::chan;
///
/// stevedore::Runtime::new().unwrap().block_on(async {
///     let (tx, rx) = chan::bounded(4);
///     let producer = stevedore::spawn(async move {
///         for i in 0..10 {
///             tx.send(i).await.unwrap();
///         }
///     });
///     let mut sum = 0;
///     while let Some(i) = rx.recv().await {
///         sum += i;
///     }
///     producer.await.unwrap();
///     assert_eq!(sum, 45);
/// });
/// ```
///
/// # Panics
///
/// If `cap` is `usize::MAX` (use [`unbounded`]).
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        cap != usize::MAX,
        "use unbounded() for an unbounded channel"
    );
    new(cap)
}

/// A channel whose sends never wait.
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    new(usize::MAX)
}

fn new<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = ChanRef::new(cap);
    (
        Sender { chan: tx },
        Receiver {
            chan: rx,
            stream_op: None,
        },
    )
}

/// The sending half. Clone it for more producers; the channel closes when
/// the last one is dropped.
pub struct Sender<T> {
    chan: ChanRef<T>,
}

/// The receiving half. Clone it for more consumers. Also a
/// [`Stream`](futures::Stream) that ends when the channel is closed and
/// drained.
pub struct Receiver<T> {
    chan: ChanRef<T>,
    /// The pending receive of the `Stream` impl, kept across polls.
    stream_op: Option<Pin<Box<RecvOp<T>>>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room (or, for `bounded(0)`, for a
    /// receiver). Fails, returning the value, if the channel is closed.
    ///
    /// # Errors
    ///
    /// [`SendError`] holding the value if the channel is closed, or
    /// closes while the send waits (every receiver dropped counts as
    /// closed).
    ///
    /// # Cancel safety
    ///
    /// Dropped before it completes, the send is withdrawn: its value is
    /// dropped with the future unless a receiver had already taken it, and
    /// it is never delivered twice. In [`select!`](crate::select) a send arm
    /// that does not win delivers nothing.
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send::new(self, value)
    }

    /// Sends without waiting.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut wakers = WakeList::new();
        let mut inner = self.chan.lock();
        let res = inner.try_send(self.chan.cap, value, None, &mut wakers);
        drop(inner);
        wakers.wake_all();
        match res {
            Ok(()) => Ok(()),
            Err(SendFail::Full(v)) => Err(TrySendError::Full(v)),
            Err(SendFail::Closed(v)) | Err(SendFail::Lost(v)) => Err(TrySendError::Closed(v)),
        }
    }

    /// Sends from a plain thread, blocking it until done.
    ///
    /// # Panics
    ///
    /// On a runtime worker thread (it would block the worker).
    #[track_caller]
    pub fn send_blocking(&self, value: T) -> Result<(), SendError<T>> {
        assert_not_worker("Sender::send_blocking");
        crate::runtime::block_on_thread(self.send(value))
    }

    /// Closes the channel: waiting and future sends fail, receivers drain
    /// what is buffered and then see `None`. True if this call closed it.
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// True once the channel is closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Values currently buffered.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// True if nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity, or `None` if unbounded.
    pub fn capacity(&self) -> Option<usize> {
        (self.chan.cap != usize::MAX).then_some(self.chan.cap)
    }

    /// True if both handles belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        self.chan.same(&other.chan)
    }
}

impl<T> Receiver<T> {
    /// Receives the next value: `None` once the channel is closed and
    /// drained.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: no value is lost. One handed to this receive just
    /// before it was dropped goes to another receive instead. In
    /// [`select!`](crate::select) a receive arm that does not win takes
    /// nothing.
    pub fn recv(&self) -> Recv<'_, T> {
        Recv::new(self)
    }

    /// Receives without waiting.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut wakers = WakeList::new();
        let mut inner = self.chan.lock();
        let res = inner.try_recv(None, &mut wakers);
        drop(inner);
        wakers.wake_all();
        match res {
            Ok(v) => Ok(v),
            Err(RecvFail::Empty) => Err(TryRecvError::Empty),
            Err(RecvFail::Closed) | Err(RecvFail::Lost) => Err(TryRecvError::Closed),
        }
    }

    /// Receives from a plain thread, blocking it until done.
    ///
    /// # Panics
    ///
    /// On a runtime worker thread (it would block the worker).
    #[track_caller]
    pub fn recv_blocking(&self) -> Option<T> {
        assert_not_worker("Receiver::recv_blocking");
        crate::runtime::block_on_thread(self.recv())
    }

    /// Closes the channel (see [`Sender::close`]).
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// True once the channel is closed (values may still be buffered).
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Values currently buffered.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// True if nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity, or `None` if unbounded.
    pub fn capacity(&self) -> Option<usize> {
        (self.chan.cap != usize::MAX).then_some(self.chan.cap)
    }
}

#[track_caller]
fn assert_not_worker(what: &str) {
    assert!(
        !crate::runtime::context::is_worker_thread(),
        "{what} called on a stevedore worker thread; use the async form instead"
    );
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        Sender {
            chan: self.chan.acquire(Side::Sender),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        Receiver {
            chan: self.chan.acquire(Side::Receiver),
            stream_op: None,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // SAFETY: each `Sender` holds one sender reference, released once.
        unsafe { self.chan.release(Side::Sender) };
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(op) = self.stream_op.take() {
            op.cancel(&self.chan);
        }
        // SAFETY: each `Receiver` holds one receiver reference, released once.
        unsafe { self.chan.release(Side::Receiver) };
    }
}

impl<T> futures::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let op = this
            .stream_op
            .get_or_insert_with(|| Box::pin(RecvOp::new()));
        // SAFETY: the op is boxed and pinned; it is always used on `chan`
        // and cancelled on it in `Drop`.
        unsafe { op.as_mut().get_unchecked_mut().poll(&this.chan, cx) }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}
