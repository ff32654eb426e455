//! The channel itself: one mutex around the buffer and two waiter queues.
//!
//! **Invariants** (hold whenever the lock is free):
//!
//! * receivers wait only while the buffer is empty;
//! * senders wait only while the buffer is full (always, for `bounded(0)`);
//! * once `closed`, nothing waits: close completes every waiter;
//! * the buffer exceeds the capacity only by values *given back* (handed to
//!   a receive that was then cancelled, see [`Chan::give_back`]), which sit
//!   at its front; a receive refills from a waiting sender only a slot below
//!   the capacity, so a `send` on `bounded(0)` completes only by handing its
//!   value to a receive, never into the buffer.
//!
//! A receive that frees a slot in a full buffer moves the first waiting
//! sender's value into it and completes that sender (Go's `recv` on a full
//! buffered channel); a send finding a waiting receiver hands the value
//! straight to it. Either way each blocked operation costs its peer one lock
//! acquisition and its own task one wake — never a retry loop.

use super::select::SelectRef;
use super::waiter::{self, claim_peer, close_all, finish, Finish, Queue, WakeList};
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use crate::loom::sync::{Mutex, MutexGuard};
use std::collections::VecDeque;
use std::ptr::NonNull;

pub(super) struct Chan<T> {
    inner: Mutex<Inner<T>>,
    /// `usize::MAX` for unbounded, 0 for rendezvous.
    pub(super) cap: usize,
    /// Live `Sender`s and `Receiver`s. When a side reaches zero the channel
    /// closes; the second side to reach zero frees it (see `destroy`).
    senders: AtomicUsize,
    receivers: AtomicUsize,
    /// Set by the first side to run out of handles.
    destroy: AtomicBool,
    /// Mirror of `Inner::closed` for lock-free `is_closed`.
    closed: AtomicBool,
}

pub(super) struct Inner<T> {
    buf: VecDeque<T>,
    closed: bool,
    pub(super) send_q: Queue<T>,
    pub(super) recv_q: Queue<T>,
}

/// Why an attempt to send did not complete.
pub(super) enum SendFail<T> {
    /// No room and no receiver: link a waiter (or fail `try_send`).
    Full(T),
    Closed(T),
    /// Our select already chose another arm.
    Lost(T),
}

/// Why an attempt to receive did not complete.
pub(super) enum RecvFail {
    Empty,
    Closed,
    Lost,
}

impl<T> Chan<T> {
    pub(super) fn new(cap: usize) -> Chan<T> {
        let initial = if cap == usize::MAX { 0 } else { cap.min(1024) };
        Chan {
            inner: Mutex::new(Inner {
                buf: VecDeque::with_capacity(initial),
                closed: false,
                send_q: Queue::new(),
                recv_q: Queue::new(),
            }),
            cap,
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
            destroy: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock()
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Acquire)
    }

    /// Buffered values, at most `cap`: given-back values beyond the
    /// capacity are not counted (a rendezvous channel always reads 0).
    pub(super) fn len(&self) -> usize {
        self.lock().buf.len().min(self.cap)
    }

    /// Closes the channel; true if this call closed it.
    pub(super) fn close(&self) -> bool {
        let mut wakers = WakeList::new();
        let mut inner = self.lock();
        if inner.closed {
            return false;
        }
        inner.closed = true;
        self.closed.store(true, Release);
        // SAFETY: we hold the lock that owns both queues.
        unsafe {
            close_all(&mut inner.send_q, &mut wakers);
            close_all(&mut inner.recv_q, &mut wakers);
        }
        drop(inner);
        wakers.wake_all();
        true
    }

    /// A value delivered to a receive that was then cancelled goes back to
    /// the front of the line: to the next waiting receiver, else the front of
    /// the buffer — even beyond the capacity (even on `bounded(0)`): its
    /// sender has already completed, so it cannot be handed back, and it
    /// must not be lost. Such a slot is not refilled (see `try_recv`).
    pub(super) fn give_back(&self, value: T) {
        let mut wakers = WakeList::new();
        let mut inner = self.lock();
        // SAFETY: we hold the lock that owns the queue.
        let peer = unsafe { claim_peer(&mut inner.recv_q, None, &mut wakers) };
        match peer {
            Some(node) => {
                // SAFETY: `node` is linked in `recv_q`, under its lock.
                unsafe {
                    finish(
                        &mut inner.recv_q,
                        node,
                        Finish::Done(Some(value)),
                        &mut wakers,
                    )
                };
            }
            None => inner.buf.push_front(value),
        }
        drop(inner);
        wakers.wake_all();
    }
}

impl<T> Inner<T> {
    /// One send attempt under the lock. `own` is the caller's select arm.
    pub(super) fn try_send(
        &mut self,
        cap: usize,
        value: T,
        own: Option<SelectRef>,
        wakers: &mut WakeList,
    ) -> Result<(), SendFail<T>> {
        let claim_own = || own.is_none_or(|s| s.claim());
        if self.closed {
            return Err(if claim_own() {
                SendFail::Closed(value)
            } else {
                SendFail::Lost(value)
            });
        }
        if !self.recv_q.is_empty() {
            if !claim_own() {
                return Err(SendFail::Lost(value));
            }
            // SAFETY: we hold the lock that owns the queue.
            match unsafe { claim_peer(&mut self.recv_q, own, wakers) } {
                Some(node) => {
                    // SAFETY: as above; `node` is linked in `recv_q`.
                    unsafe { finish(&mut self.recv_q, node, Finish::Done(Some(value)), wakers) };
                    return Ok(());
                }
                None => {
                    if let Some(s) = own {
                        s.release();
                    }
                }
            }
        }
        if self.buf.len() < cap {
            if !claim_own() {
                return Err(SendFail::Lost(value));
            }
            self.buf.push_back(value);
            return Ok(());
        }
        Err(SendFail::Full(value))
    }

    /// One receive attempt under the lock.
    pub(super) fn try_recv(
        &mut self,
        cap: usize,
        own: Option<SelectRef>,
        wakers: &mut WakeList,
    ) -> Result<T, RecvFail> {
        let claim_own = || own.is_none_or(|s| s.claim());
        if !self.buf.is_empty() {
            if !claim_own() {
                return Err(RecvFail::Lost);
            }
            let value = self.buf.pop_front().expect("checked non-empty");
            // Refill the freed slot from the first waiting sender — only if
            // a slot within the capacity was freed: a given-back value may
            // have held the buffer beyond it (and on `bounded(0)` there is no
            // slot at all), and a sender completes only into a real slot or
            // into a receive's hands.
            if self.buf.len() < cap {
                // SAFETY: we hold the lock that owns the queue.
                if let Some(node) = unsafe { claim_peer(&mut self.send_q, own, wakers) } {
                    // SAFETY: as above; `node` is linked in `send_q`.
                    let v = unsafe { finish(&mut self.send_q, node, Finish::Done(None), wakers) };
                    self.buf.push_back(v.expect("waiting sender holds a value"));
                }
            }
            return Ok(value);
        }
        if !self.send_q.is_empty() {
            if !claim_own() {
                return Err(RecvFail::Lost);
            }
            // SAFETY: as above.
            match unsafe { claim_peer(&mut self.send_q, own, wakers) } {
                Some(node) => {
                    // SAFETY: as above.
                    let v = unsafe { finish(&mut self.send_q, node, Finish::Done(None), wakers) };
                    return Ok(v.expect("waiting sender holds a value"));
                }
                None => {
                    if let Some(s) = own {
                        s.release();
                    }
                }
            }
        }
        if self.closed {
            return Err(if claim_own() {
                RecvFail::Closed
            } else {
                RecvFail::Lost
            });
        }
        Err(RecvFail::Empty)
    }
}

/// Which side of a channel a [`ChanRef`] counts as.
#[derive(Clone, Copy)]
pub(super) enum Side {
    Sender,
    Receiver,
}

/// A counted pointer to a channel. Each side has one counter and the
/// channel is freed by whichever side runs out of handles second, so a
/// clone or drop costs one atomic operation (an `Arc` would add a second,
/// contended one on top of the side's count).
pub(super) struct ChanRef<T> {
    ptr: NonNull<Chan<T>>,
}

// SAFETY: a `ChanRef` only gives `&Chan<T>`, and `Chan<T>` is `Sync` for
// `T: Send` (its state sits behind a mutex).
unsafe impl<T: Send> Send for ChanRef<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for ChanRef<T> {}

impl<T> ChanRef<T> {
    /// A new channel with one sender and one receiver reference.
    pub(super) fn new(cap: usize) -> (ChanRef<T>, ChanRef<T>) {
        let ptr = NonNull::from(Box::leak(Box::new(Chan::new(cap))));
        (ChanRef { ptr }, ChanRef { ptr })
    }

    fn counter(&self, side: Side) -> &AtomicUsize {
        match side {
            Side::Sender => &self.senders,
            Side::Receiver => &self.receivers,
        }
    }

    /// Another reference on `side`.
    pub(super) fn acquire(&self, side: Side) -> ChanRef<T> {
        self.counter(side).fetch_add(1, Relaxed);
        ChanRef { ptr: self.ptr }
    }

    /// Drops this reference, counted on `side`.
    ///
    /// # Safety
    ///
    /// Called exactly once per reference, with the side it was counted on;
    /// the reference is not used afterwards.
    pub(super) unsafe fn release(&self, side: Side) {
        if self.counter(side).fetch_sub(1, AcqRel) != 1 {
            return;
        }
        self.close();
        if self.destroy.swap(true, AcqRel) {
            // SAFETY: both sides are out of handles: nobody else can reach
            // the channel; it was allocated by `Box` in `new`.
            drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
        }
    }

    pub(super) fn same(&self, other: &ChanRef<T>) -> bool {
        self.ptr == other.ptr
    }
}

impl<T> std::ops::Deref for ChanRef<T> {
    type Target = Chan<T>;

    fn deref(&self) -> &Chan<T> {
        // SAFETY: the reference keeps the channel alive (see `release`).
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> Drop for Chan<T> {
    fn drop(&mut self) {
        // No handle, hence no future, is left: the queues are empty.
        let inner = self.inner.lock();
        debug_assert!(inner.send_q.is_empty() && inner.recv_q.is_empty());
        let _ = waiter::IDLE;
    }
}
