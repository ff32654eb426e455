//! The channel itself: one mutex around the buffer and two waiter queues.
//!
//! **Invariants** (hold whenever the lock is free):
//!
//! * receivers wait only while the buffer is empty;
//! * senders wait only while the buffer is full (always, for `bounded(0)`);
//! * once `closed`, nothing waits: close completes every waiter.
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

pub(super) struct Chan<T> {
    inner: Mutex<Inner<T>>,
    /// `usize::MAX` for unbounded, 0 for rendezvous.
    pub(super) cap: usize,
    pub(super) senders: AtomicUsize,
    pub(super) receivers: AtomicUsize,
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
            closed: AtomicBool::new(false),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock()
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Acquire)
    }

    pub(super) fn len(&self) -> usize {
        self.lock().buf.len()
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
    /// the front of the line: to the next waiting receiver, else the buffer.
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
        own: Option<SelectRef>,
        wakers: &mut WakeList,
    ) -> Result<T, RecvFail> {
        let claim_own = || own.is_none_or(|s| s.claim());
        if !self.buf.is_empty() {
            if !claim_own() {
                return Err(RecvFail::Lost);
            }
            let value = self.buf.pop_front().expect("checked non-empty");
            // Refill the freed slot from the first waiting sender.
            // SAFETY: we hold the lock that owns the queue.
            if let Some(node) = unsafe { claim_peer(&mut self.send_q, own, wakers) } {
                // SAFETY: as above; `node` is linked in `send_q`.
                let v = unsafe { finish(&mut self.send_q, node, Finish::Done(None), wakers) };
                self.buf.push_back(v.expect("waiting sender holds a value"));
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

impl<T> Drop for Chan<T> {
    fn drop(&mut self) {
        // No handle, hence no future, is left: the queues are empty.
        let inner = self.inner.lock();
        debug_assert!(inner.send_q.is_empty() && inner.recv_q.is_empty());
        let _ = waiter::IDLE;
    }
}
