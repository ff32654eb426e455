//! `WaitGroup`: wait for a collection of tasks to finish (Go's
//! `sync.WaitGroup`).
//!
//! Protocol: the counter is an atomic; waiters park in an intrusive list
//! under a mutex. `done` that brings the counter to zero takes the lock and
//! completes every waiter. A waiter checks the counter again under the lock
//! before linking itself, so a `done` that races with it either finds it
//! linked or is seen by its check: no lost wake-up.
//!
//! The counter only ever holds a valid count: `add` and `done` are
//! compare-and-swap loops that check the new value before publishing it, so
//! a misuse (a `done` too many, an overflowing `add`) panics in its caller
//! without the counter ever passing through an invalid value that others
//! could observe.

use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU8, AtomicUsize, Ordering::*};
use crate::loom::sync::{Arc, Mutex};
use crate::task::JoinHandle;
use crate::util::linked_list::{Link, LinkedList, Pointers};
use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// Counts outstanding work; [`wait`](WaitGroup::wait) completes when the
/// count is zero. Cloning is cheap and every clone shares the count.
///
/// ```
/// use stevedore::{sync::WaitGroup, Runtime};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let rt = Runtime::new().unwrap();
/// let hits = Arc::new(AtomicUsize::new(0));
/// rt.block_on(async {
///     let wg = WaitGroup::new();
///     for _ in 0..10 {
///         let hits = hits.clone();
///         wg.spawn(async move { hits.fetch_add(1, Ordering::Relaxed); });
///     }
///     wg.wait().await;
/// });
/// assert_eq!(hits.load(Ordering::Relaxed), 10);
/// ```
#[derive(Clone)]
pub struct WaitGroup {
    inner: Arc<Inner>,
}

struct Inner {
    count: AtomicUsize,
    waiters: Mutex<LinkedList<WaiterLink>>,
}

const IDLE: u8 = 0;
const WAITING: u8 = 1;
const DONE: u8 = 2;

struct Waiter {
    pointers: Pointers<Waiter>,
    /// IDLE → WAITING (linked, under the lock) → DONE (unlinked by `done`).
    state: AtomicU8,
    /// Touched only under the lock while WAITING.
    waker: UnsafeCell<Option<Waker>>,
    _pin: PhantomPinned,
}

struct WaiterLink;

// SAFETY: `pointers` is a field of the node.
unsafe impl Link for WaiterLink {
    type Target = Waiter;

    unsafe fn pointers(target: NonNull<Waiter>) -> NonNull<Pointers<Waiter>> {
        // SAFETY: the caller guarantees `target` is live.
        unsafe { NonNull::from(&target.as_ref().pointers) }
    }
}

// SAFETY: fields other than `state` are only touched under the lock.
unsafe impl Send for Waiter {}
// SAFETY: as above.
unsafe impl Sync for Waiter {}

impl WaitGroup {
    /// A WaitGroup with a count of zero.
    pub fn new() -> WaitGroup {
        WaitGroup {
            inner: Arc::new(Inner {
                count: AtomicUsize::new(0),
                waiters: Mutex::new(LinkedList::new()),
            }),
        }
    }

    /// Adds `n` to the count.
    ///
    /// The count changes only by a compare-and-swap from one valid value to
    /// the next, so a misuse panics in the misusing caller only: the count
    /// is never seen out of range, and concurrent correct callers and
    /// waiters are unaffected.
    ///
    /// # Panics
    ///
    /// If the count would exceed `isize::MAX` (the count is left unchanged).
    #[track_caller]
    pub fn add(&self, n: usize) {
        let count = &self.inner.count;
        let mut cur = count.load(Acquire);
        loop {
            let Some(next) = cur.checked_add(n).filter(|&c| c <= isize::MAX as usize) else {
                panic!("WaitGroup counter overflow: add({n}) on a count of {cur}");
            };
            match count.compare_exchange_weak(cur, next, AcqRel, Acquire) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Subtracts one from the count, waking every waiter when it hits zero.
    ///
    /// Like [`add`](WaitGroup::add), a compare-and-swap: a `done()` too many
    /// never makes the count wrap, even for an instant, so it cannot disturb
    /// concurrent correct users.
    ///
    /// # Panics
    ///
    /// If the count is already zero (it is left at zero): a negative
    /// WaitGroup counter is a bug, as in Go.
    #[track_caller]
    pub fn done(&self) {
        let count = &self.inner.count;
        let mut cur = count.load(Acquire);
        loop {
            if cur == 0 {
                panic!("negative WaitGroup counter: done() called more often than add()");
            }
            match count.compare_exchange_weak(cur, cur - 1, AcqRel, Acquire) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        if cur == 1 {
            self.inner.release_waiters();
        }
    }

    /// The current count.
    pub fn count(&self) -> usize {
        self.inner.count.load(Acquire)
    }

    /// Completes when the count is zero.
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            wg: self,
            waiter: Waiter {
                pointers: Pointers::new(),
                state: AtomicU8::new(IDLE),
                waker: UnsafeCell::new(None),
                _pin: PhantomPinned,
            },
        }
    }

    /// Blocks this (non-worker) thread until the count is zero.
    ///
    /// # Panics
    ///
    /// On a runtime worker thread (it would block the worker).
    #[track_caller]
    pub fn wait_blocking(&self) {
        assert!(
            !crate::runtime::context::is_worker_thread(),
            "WaitGroup::wait_blocking called on a stevedore worker thread; use wait().await"
        );
        crate::runtime::block_on_thread(self.wait());
    }

    /// `add(1)`, spawn `future`, and `done()` when the task ends — however it
    /// ends: completed, panicked or aborted (Go's `wg.Go`).
    ///
    /// # Panics
    ///
    /// Outside a stevedore runtime (the count is left unchanged).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.add(1);
        let guard = DoneGuard(self.clone());
        crate::spawn(async move {
            let _guard = guard;
            future.await
        })
    }
}

/// Calls `done` when dropped.
struct DoneGuard(WaitGroup);

impl Drop for DoneGuard {
    fn drop(&mut self) {
        self.0.done();
    }
}

impl Inner {
    fn release_waiters(&self) {
        let mut wakers = Vec::new();
        let mut list = self.waiters.lock();
        while let Some(node) = list.pop_front() {
            // SAFETY: linked nodes are live (their futures unlink before
            // dropping), and we hold the lock.
            let w = unsafe { node.as_ref() };
            // SAFETY: under the lock while WAITING.
            wakers.extend(w.waker.with_mut(|p| unsafe { (*p).take() }));
            w.state.store(DONE, Release);
        }
        drop(list);
        for w in wakers {
            w.wake();
        }
    }
}

impl Default for WaitGroup {
    fn default() -> WaitGroup {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

/// Future returned by [`WaitGroup::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<'a> {
    wg: &'a WaitGroup,
    waiter: Waiter,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the waiter is never moved out of the pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        let inner = &*this.wg.inner;
        match this.waiter.state.load(Acquire) {
            DONE => return Poll::Ready(()),
            IDLE if inner.count.load(Acquire) == 0 => return Poll::Ready(()),
            _ => {}
        }
        let mut list = inner.waiters.lock();
        match this.waiter.state.load(Acquire) {
            DONE => Poll::Ready(()),
            WAITING => {
                // SAFETY: under the lock while WAITING.
                this.waiter.waker.with_mut(|p| unsafe {
                    match &mut *p {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        slot => *slot = Some(cx.waker().clone()),
                    }
                });
                Poll::Pending
            }
            _ => {
                if inner.count.load(Acquire) == 0 {
                    return Poll::Ready(());
                }
                // SAFETY: IDLE: not linked, we own the field.
                this.waiter
                    .waker
                    .with_mut(|p| unsafe { *p = Some(cx.waker().clone()) });
                this.waiter.state.store(WAITING, Relaxed);
                // SAFETY: the future is pinned and unlinks itself on drop;
                // we hold the list's lock.
                unsafe { list.push_back(NonNull::from(&this.waiter)) };
                Poll::Pending
            }
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if self.waiter.state.load(Acquire) != WAITING {
            return;
        }
        let mut list = self.wg.inner.waiters.lock();
        if self.waiter.state.load(Acquire) == WAITING {
            // SAFETY: WAITING means linked in this list; we hold its lock.
            unsafe { list.remove(NonNull::from(&self.waiter)) };
        }
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}
