//! The FIFO permit queue under [`Semaphore`](super::Semaphore),
//! [`Mutex`](super::Mutex) and [`RwLock`](super::RwLock).
//!
//! Protocol:
//!
//! * `state` holds the permits nobody is owed, shifted left by two, the
//!   `CLOSED` bit and the `WAITERS` bit. `WAITERS` is set exactly while the
//!   queue is non-empty, and only under the `waiters` lock. Taking permits
//!   without waiting is one compare-and-swap on `state`; so is releasing
//!   while `WAITERS` is clear. **While `WAITERS` is set, nothing is added to
//!   `state` except under the lock.**
//! * A task that cannot take all it asks for takes what is there **and**
//!   sets `WAITERS` in one compare-and-swap, under the lock, then links a
//!   [`Waiter`] node (inside its [`Acquire`] future) at the back of the
//!   queue, recording how many permits it still `needed`. A release racing
//!   with it either landed before that swap (and is taken) or sees
//!   `WAITERS` and queues on the lock behind it.
//! * Releasing with `WAITERS` set takes the lock and hands the permits to
//!   the waiters **front to back**: the head gets as many as it still
//!   needs; a waiter whose need reaches zero is unlinked, marked `ACQUIRED`
//!   and woken (after the lock is dropped). Only what is left once the
//!   queue is empty goes back to `state`, in the same swap that clears
//!   `WAITERS`. Hence the invariant: **while anyone waits, `state` holds no
//!   permits**, so a newcomer's compare-and-swap cannot overtake the queue:
//!   the order is strict FIFO, and a released permit goes straight to the
//!   next owner (hand-off).
//! * A queued `Acquire` that is dropped unlinks itself under the lock and
//!   gives back the permits it was already handed, to the waiters behind it
//!   (so a cancelled waiter never swallows a wake-up); one dropped after it
//!   was handed everything but before it returned `Ready` gives all back.
//! * `close` sets `CLOSED` and fails every queued waiter; permits released
//!   later still count, but no acquire succeeds any more.
//!
//! A waiter's `state` goes `IDLE` → `QUEUED` (linked; `needed` and `waker`
//! are then touched only under the lock) → `ACQUIRED` or `CLOSED` (unlinked
//! by whoever set it, with `Release` ordering, after its last access to the
//! node: the owner may free the node as soon as it sees either value).

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU8, AtomicUsize, Ordering::*};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::runtime::coop;
use crate::util::linked_list::{Link, LinkedList, Pointers};
use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{ready, Context, Poll, Waker};

/// The most permits a semaphore can hold (three bits are reserved: the
/// `CLOSED` flag and headroom against overflow on release).
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

const CLOSED: usize = 1;
const WAITERS: usize = 2;
const SHIFT: usize = 2;

/// Why an acquire failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryAcquire {
    Closed,
    NoPermits,
}

pub(crate) struct Permits {
    /// Unowed permits << `SHIFT` | `WAITERS` | `CLOSED`; see the module
    /// docs. `WAITERS` and `CLOSED` change only under the lock; permits are
    /// added outside it only while `WAITERS` is clear.
    state: AtomicUsize,
    /// Waiters in arrival order.
    waiters: Mutex<LinkedList<WaiterLink>>,
}

const IDLE: u8 = 0;
const QUEUED: u8 = 1;
const ACQUIRED: u8 = 2;
const CLOSED_W: u8 = 3;

struct Waiter {
    pointers: Pointers<Waiter>,
    /// See the module docs.
    state: AtomicU8,
    /// Permits still missing; under the lock while `QUEUED`, and read by the
    /// owner after `CLOSED`.
    needed: UnsafeCell<usize>,
    /// Under the lock while `QUEUED`.
    waker: UnsafeCell<Option<Waker>>,
    _pin: PhantomPinned,
}

struct WaiterLink;

// SAFETY: `pointers` is a field of the node and lives as long as it.
unsafe impl Link for WaiterLink {
    type Target = Waiter;

    unsafe fn pointers(target: NonNull<Waiter>) -> NonNull<Pointers<Waiter>> {
        // SAFETY: the caller guarantees `target` is live.
        unsafe { NonNull::from(&target.as_ref().pointers) }
    }
}

// SAFETY: the cells are only touched under the lock (or by the owner once
// the node is unlinked); `state` is atomic.
unsafe impl Send for Waiter {}
// SAFETY: as above.
unsafe impl Sync for Waiter {}

/// Wakers collected under the lock, woken after it is dropped. The common
/// case (one waiter handed off) does not allocate.
#[derive(Default)]
struct WakeList {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakeList {
    fn push(&mut self, w: Option<Waker>) {
        let Some(w) = w else { return };
        if self.first.is_none() {
            self.first = Some(w);
        } else {
            self.rest.push(w);
        }
    }

    fn wake(self) {
        if let Some(w) = self.first {
            w.wake();
        }
        for w in self.rest {
            w.wake();
        }
    }
}

impl Permits {
    pub(crate) fn new(permits: usize) -> Permits {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore holds at most {MAX_PERMITS} permits"
        );
        Permits {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(LinkedList::new()),
        }
    }

    /// Permits that could be taken right now.
    pub(crate) fn available(&self) -> usize {
        self.state.load(Acquire) >> SHIFT
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Acquire) & CLOSED != 0
    }

    /// Takes `n` permits if they are all there and nobody is queued.
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquire> {
        let mut cur = self.state.load(Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquire::Closed);
            }
            if cur >> SHIFT < n {
                return Err(TryAcquire::NoPermits);
            }
            match self
                .state
                .compare_exchange_weak(cur, cur - (n << SHIFT), AcqRel, Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Takes up to `n` unowed permits; returns how many. Caller holds the
    /// lock.
    fn take_up_to(&self, n: usize) -> usize {
        let mut cur = self.state.load(Acquire);
        loop {
            let take = (cur >> SHIFT).min(n);
            if take == 0 {
                return 0;
            }
            match self
                .state
                .compare_exchange_weak(cur, cur - (take << SHIFT), AcqRel, Acquire)
            {
                Ok(_) => return take,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Removes up to `n` unowed permits for good; returns how many.
    pub(crate) fn forget(&self, n: usize) -> usize {
        let _lock = self.waiters.lock();
        self.take_up_to(n)
    }

    /// Gives `n` permits back (or adds new ones): the waiters first, in
    /// order.
    ///
    /// # Panics
    ///
    /// If the total would exceed [`MAX_PERMITS`].
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut cur = self.state.load(Acquire);
        while cur & WAITERS == 0 {
            check_total(cur, n);
            match self
                .state
                .compare_exchange_weak(cur, cur + (n << SHIFT), AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        let list = self.waiters.lock();
        self.release_locked(n, list);
    }

    fn release_locked(&self, mut n: usize, mut list: MutexGuard<'_, LinkedList<WaiterLink>>) {
        let mut wakers = WakeList::default();
        while n > 0 {
            let Some(node) = list.front() else { break };
            // SAFETY: linked nodes are live (their owners unlink them under
            // this lock before freeing them).
            let w = unsafe { node.as_ref() };
            // SAFETY: `QUEUED` node, under the lock.
            let needed = w.needed.with_mut(|p| unsafe {
                let take = (*p).min(n);
                *p -= take;
                n -= take;
                *p
            });
            if needed > 0 {
                break;
            }
            list.pop_front();
            // SAFETY: as above; after the `ACQUIRED` store we never touch
            // the node again.
            wakers.push(w.waker.with_mut(|p| unsafe { (*p).take() }));
            w.state.store(ACQUIRED, Release);
        }
        // Anything left means the queue emptied (the loop stops early only
        // when the head still needs more, i.e. `n` ran out).
        let overflow = if list.is_empty() {
            self.settle_empty(n).is_err()
        } else {
            debug_assert_eq!(n, 0);
            false
        };
        drop(list);
        wakers.wake();
        if overflow {
            panic!("a semaphore holds at most {MAX_PERMITS} permits");
        }
    }

    /// The queue is empty (caller holds the lock): clears `WAITERS` and adds
    /// `n` permits in one step. `Err` (and nothing added) on overflow.
    fn settle_empty(&self, n: usize) -> Result<(), ()> {
        let mut cur = self.state.load(Acquire);
        loop {
            if (cur >> SHIFT)
                .checked_add(n)
                .is_none_or(|t| t > MAX_PERMITS)
            {
                self.state.fetch_and(!WAITERS, AcqRel);
                return Err(());
            }
            let new = (cur & !WAITERS) + (n << SHIFT);
            match self.state.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Fails every waiter and every later acquire.
    pub(crate) fn close(&self) {
        let mut wakers = WakeList::default();
        let mut list = self.waiters.lock();
        self.state.fetch_or(CLOSED, AcqRel);
        self.state.fetch_and(!WAITERS, AcqRel);
        while let Some(node) = list.pop_front() {
            // SAFETY: linked, hence live; under the lock.
            let w = unsafe { node.as_ref() };
            // SAFETY: as above.
            wakers.push(w.waker.with_mut(|p| unsafe { (*p).take() }));
            w.state.store(CLOSED_W, Release);
        }
        drop(list);
        wakers.wake();
    }

    /// A future that takes `n` permits, in FIFO order with other waiters.
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            permits: self,
            num: n,
            finished: false,
            waiter: Waiter {
                pointers: Pointers::new(),
                state: AtomicU8::new(IDLE),
                needed: UnsafeCell::new(n),
                waker: UnsafeCell::new(None),
                _pin: PhantomPinned,
            },
        }
    }
}

/// Panics if adding `n` permits to `cur` would exceed [`MAX_PERMITS`].
fn check_total(cur: usize, n: usize) {
    if (cur >> SHIFT)
        .checked_add(n)
        .is_none_or(|t| t > MAX_PERMITS)
    {
        panic!("a semaphore holds at most {MAX_PERMITS} permits");
    }
}

impl fmt::Debug for Permits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permits")
            .field("available", &self.available())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Takes permits from [`Permits`]; `Ok(())` means they now belong to the
/// caller, who must [`release`](Permits::release) them.
///
/// Cancel safe with respect to order: dropping it before it completes gives
/// back whatever it had been handed, to the next waiters.
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct Acquire<'a> {
    permits: &'a Permits,
    num: usize,
    /// `Ready` was returned: the permits are the caller's.
    finished: bool,
    waiter: Waiter,
}

impl Future for Acquire<'_> {
    type Output = Result<(), TryAcquire>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: the waiter is never moved out of the pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        assert!(!this.finished, "Acquire polled after completion");
        ready!(coop::poll_proceed(cx));
        let res = ready!(this.poll_inner(cx));
        this.finished = true;
        if res.is_ok() {
            coop::consume();
        }
        Poll::Ready(res)
    }
}

impl Acquire<'_> {
    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TryAcquire>> {
        let permits = self.permits;
        let w = &self.waiter;
        match w.state.load(Acquire) {
            ACQUIRED => return Poll::Ready(Ok(())),
            CLOSED_W => return Poll::Ready(Err(TryAcquire::Closed)),
            IDLE => match permits.try_acquire(self.num) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(TryAcquire::Closed) => return Poll::Ready(Err(TryAcquire::Closed)),
                Err(TryAcquire::NoPermits) => {}
            },
            _ => {}
        }
        let mut list = permits.waiters.lock();
        match w.state.load(Acquire) {
            ACQUIRED => Poll::Ready(Ok(())),
            CLOSED_W => Poll::Ready(Err(TryAcquire::Closed)),
            QUEUED => {
                // SAFETY: `QUEUED`, under the lock.
                w.waker.with_mut(|p| unsafe {
                    match &mut *p {
                        Some(old) if old.will_wake(cx.waker()) => {}
                        slot => *slot = Some(cx.waker().clone()),
                    }
                });
                Poll::Pending
            }
            _ => {
                // IDLE: `CLOSED` is only set under the lock, so this check is
                // final for as long as we hold it.
                if permits.is_closed() {
                    return Poll::Ready(Err(TryAcquire::Closed));
                }
                // Take what is there and announce the queue in one swap.
                let mut cur = permits.state.load(Acquire);
                let got = loop {
                    let take = (cur >> SHIFT).min(self.num);
                    let mut new = cur - (take << SHIFT);
                    if take < self.num {
                        new |= WAITERS;
                    }
                    match permits
                        .state
                        .compare_exchange_weak(cur, new, AcqRel, Acquire)
                    {
                        Ok(_) => break take,
                        Err(actual) => cur = actual,
                    }
                };
                if got == self.num {
                    return Poll::Ready(Ok(()));
                }
                // SAFETY: IDLE: not linked, only we can see the cells.
                unsafe {
                    w.needed.with_mut(|p| *p = self.num - got);
                    w.waker.with_mut(|p| *p = Some(cx.waker().clone()));
                }
                w.state.store(QUEUED, Relaxed);
                // SAFETY: the future is pinned (`PhantomPinned`) and unlinks
                // the node in `drop`; we hold the list's lock.
                unsafe { list.push_back(NonNull::from(w)) };
                Poll::Pending
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let permits = self.permits;
        let w = &self.waiter;
        match w.state.load(Acquire) {
            IDLE => {}
            ACQUIRED if self.finished => {}
            ACQUIRED => permits.release(self.num),
            CLOSED_W => {
                // Whatever we had been handed before the close still counts.
                // SAFETY: unlinked; the closer no longer touches the node.
                let got = self.num - w.needed.with(|p| unsafe { *p });
                permits.release(got);
            }
            _ => {
                let mut list = permits.waiters.lock();
                match w.state.load(Acquire) {
                    QUEUED => {
                        // SAFETY: `QUEUED` means linked in this list; we hold
                        // its lock.
                        unsafe { list.remove(NonNull::from(w)) };
                        // SAFETY: unlinked now; only we can see the cell.
                        let got = self.num - w.needed.with(|p| unsafe { *p });
                        // Pass on what we were handed (and clear `WAITERS`
                        // if we were the last).
                        permits.release_locked(got, list);
                    }
                    ACQUIRED => {
                        drop(list);
                        if !self.finished {
                            permits.release(self.num);
                        }
                    }
                    _ => {
                        // CLOSED while we took the lock.
                        drop(list);
                        // SAFETY: unlinked; the closer is done with it.
                        let got = self.num - w.needed.with(|p| unsafe { *p });
                        permits.release(got);
                    }
                }
            }
        }
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("num", &self.num)
            .finish_non_exhaustive()
    }
}
