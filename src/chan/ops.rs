//! The send and receive futures, built on a waiter embedded in each.

use super::channel::{Chan, RecvFail, SendFail};
use super::error::SendError;
use super::select::{SelectArm, SelectRef, Token};
use super::waiter::{Waiter, WakeList, CLOSED, DONE, IDLE, LOST, WAITING};
use super::{Receiver, Sender};
use crate::runtime::coop;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// State of one send: the value sits in the waiter's slot from the start
/// (owned by the op while the waiter is not linked).
pub(super) struct SendOp<T> {
    waiter: Waiter<T>,
}

/// State of one receive; reusable (the `Stream` impl keeps one).
pub(super) struct RecvOp<T> {
    waiter: Waiter<T>,
}

impl<T> SendOp<T> {
    fn new(value: T) -> SendOp<T> {
        SendOp {
            waiter: Waiter::with_value(value),
        }
    }

    /// `Pending` also when this op lost its select.
    ///
    /// # Safety
    ///
    /// `self` is pinned (the waiter may be linked into `chan`), and `chan`
    /// is the channel this op always runs on.
    unsafe fn poll(
        &mut self,
        chan: &Chan<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError<T>>> {
        loop {
            match self.waiter.state() {
                IDLE => {
                    let select = self.waiter.select();
                    if select.is_some_and(|s| s.is_decided()) {
                        return Poll::Pending;
                    }
                    ready!(coop::poll_proceed(cx));
                    let value = self
                        .waiter
                        .take_slot()
                        .expect("`Send` polled after completion");
                    let mut wakers = WakeList::new();
                    let mut inner = chan.lock();
                    let res = inner.try_send(chan.cap, value, select, &mut wakers);
                    let out = match res {
                        Ok(()) => {
                            coop::consume();
                            Poll::Ready(Ok(()))
                        }
                        Err(SendFail::Closed(v)) => Poll::Ready(Err(SendError(v))),
                        Err(SendFail::Lost(v)) => {
                            self.waiter.put_slot(v);
                            Poll::Pending
                        }
                        Err(SendFail::Full(v)) => {
                            // SAFETY: pinned (caller), IDLE, under `chan`'s
                            // lock; `cancel` unlinks before the op is dropped.
                            unsafe { self.waiter.link(&mut inner.send_q, Some(v), cx.waker()) };
                            Poll::Pending
                        }
                    };
                    drop(inner);
                    wakers.wake_all();
                    return out;
                }
                WAITING => {
                    let inner = chan.lock();
                    if self.waiter.state() == WAITING {
                        // SAFETY: under the lock while WAITING.
                        unsafe { self.waiter.update_waker(cx.waker()) };
                        return Poll::Pending;
                    }
                    drop(inner);
                }
                DONE => {
                    coop::consume();
                    return Poll::Ready(Ok(()));
                }
                CLOSED => {
                    let v = self
                        .waiter
                        .take_slot()
                        .expect("`Send` polled after completion");
                    return Poll::Ready(Err(SendError(v)));
                }
                LOST => {
                    // The value is still in the slot.
                    self.waiter.reset();
                    if self.waiter.select().is_some_and(|s| s.is_decided()) {
                        return Poll::Pending;
                    }
                    // Our select is still open (see select.rs, step 3): retry.
                }
                s => unreachable!("waiter state {s}"),
            }
        }
    }

    fn cancel(&self, chan: &Chan<T>) {
        if self.waiter.state() == WAITING {
            let mut inner = chan.lock();
            if self.waiter.state() == WAITING {
                // SAFETY: WAITING means linked in `send_q`; we hold its lock.
                unsafe { self.waiter.unlink(&mut inner.send_q) };
            }
        }
    }
}

impl<T> RecvOp<T> {
    pub(super) fn new() -> RecvOp<T> {
        RecvOp {
            waiter: Waiter::new(),
        }
    }

    /// `Pending` also when this op lost its select.
    ///
    /// # Safety
    ///
    /// As for [`SendOp::poll`].
    pub(super) unsafe fn poll(&mut self, chan: &Chan<T>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        loop {
            match self.waiter.state() {
                IDLE => {
                    let select = self.waiter.select();
                    if select.is_some_and(|s| s.is_decided()) {
                        return Poll::Pending;
                    }
                    ready!(coop::poll_proceed(cx));
                    let mut wakers = WakeList::new();
                    let mut inner = chan.lock();
                    let out = match inner.try_recv(chan.cap, select, &mut wakers) {
                        Ok(v) => {
                            coop::consume();
                            Poll::Ready(Some(v))
                        }
                        Err(RecvFail::Closed) => Poll::Ready(None),
                        Err(RecvFail::Lost) => Poll::Pending,
                        Err(RecvFail::Empty) => {
                            // SAFETY: as in `SendOp::poll`.
                            unsafe { self.waiter.link(&mut inner.recv_q, None, cx.waker()) };
                            Poll::Pending
                        }
                    };
                    drop(inner);
                    wakers.wake_all();
                    return out;
                }
                WAITING => {
                    let inner = chan.lock();
                    if self.waiter.state() == WAITING {
                        // SAFETY: under the lock while WAITING.
                        unsafe { self.waiter.update_waker(cx.waker()) };
                        return Poll::Pending;
                    }
                    drop(inner);
                }
                DONE => {
                    let v = self
                        .waiter
                        .take_slot()
                        .expect("a completed receive holds a value");
                    self.waiter.reset();
                    coop::consume();
                    return Poll::Ready(Some(v));
                }
                CLOSED => {
                    self.waiter.reset();
                    return Poll::Ready(None);
                }
                LOST => {
                    self.waiter.reset();
                    if self.waiter.select().is_some_and(|s| s.is_decided()) {
                        return Poll::Pending;
                    }
                }
                s => unreachable!("waiter state {s}"),
            }
        }
    }

    /// Called when the receive is dropped: leave the queue, and if a value
    /// was already handed over, put it back so nothing is lost.
    pub(super) fn cancel(&self, chan: &Chan<T>) {
        match self.waiter.state() {
            WAITING => {
                let mut inner = chan.lock();
                if self.waiter.state() == WAITING {
                    // SAFETY: WAITING means linked in `recv_q`; we hold its lock.
                    unsafe { self.waiter.unlink(&mut inner.recv_q) };
                    return;
                }
                drop(inner);
                self.cancel(chan);
            }
            DONE => {
                if let Some(v) = self.waiter.take_slot() {
                    chan.give_back(v);
                }
            }
            _ => {}
        }
    }
}

/// Future returned by [`Sender::send`].
#[must_use = "futures do nothing unless awaited"]
pub struct Send<'a, T> {
    sender: &'a Sender<T>,
    op: SendOp<T>,
}

/// Future returned by [`Receiver::recv`].
#[must_use = "futures do nothing unless awaited"]
pub struct Recv<'a, T> {
    receiver: &'a Receiver<T>,
    op: RecvOp<T>,
}

impl<'a, T> Send<'a, T> {
    pub(super) fn new(sender: &'a Sender<T>, value: T) -> Send<'a, T> {
        Send {
            sender,
            op: SendOp::new(value),
        }
    }
}

impl<'a, T> Recv<'a, T> {
    pub(super) fn new(receiver: &'a Receiver<T>) -> Recv<'a, T> {
        Recv {
            receiver,
            op: RecvOp::new(),
        }
    }
}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: the op is never moved out of the pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: pinned, and always on this sender's channel.
        unsafe { this.op.poll(&this.sender.chan, cx) }
    }
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: the op is never moved out of the pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: pinned, and always on this receiver's channel.
        unsafe { this.op.poll(&this.receiver.chan, cx) }
    }
}

impl<T> SelectArm for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    unsafe fn poll_arm(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        token: &Token,
        arm: usize,
    ) -> Poll<Self::Output> {
        // SAFETY: as in `poll`.
        let this = unsafe { self.get_unchecked_mut() };
        // The waiter may keep this pointer while linked: our caller promised
        // that `token` outlives this future (`SelectArm::poll_arm`).
        this.op.waiter.set_select(Some(SelectRef::new(token, arm)));
        // SAFETY: as in `poll`.
        unsafe { this.op.poll(&this.sender.chan, cx) }
    }
}

impl<T> SelectArm for Recv<'_, T> {
    type Output = Option<T>;

    unsafe fn poll_arm(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        token: &Token,
        arm: usize,
    ) -> Poll<Option<T>> {
        // SAFETY: as in `poll`.
        let this = unsafe { self.get_unchecked_mut() };
        // The waiter may keep this pointer while linked: our caller promised
        // that `token` outlives this future (`SelectArm::poll_arm`).
        this.op.waiter.set_select(Some(SelectRef::new(token, arm)));
        // SAFETY: as in `poll`.
        unsafe { this.op.poll(&this.receiver.chan, cx) }
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        self.op.cancel(&self.sender.chan);
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        self.op.cancel(&self.receiver.chan);
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send")
            .field("state", &self.op.waiter.state())
            .finish()
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("state", &self.op.waiter.state())
            .finish()
    }
}
