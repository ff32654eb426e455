//! Parking a thread: sleep until unparked or until a deadline, with no lost
//! wake-ups and no spinning.
//!
//! State machine (one atomic):
//!
//! ```text
//!   EMPTY ──park──► PARKED ──unpark──► NOTIFIED ──(parker wakes)──► EMPTY
//!     └──────unpark────────────────────► NOTIFIED ──park (returns at once)──► EMPTY
//! ```
//!
//! `unpark` swaps in `NOTIFIED` and only touches the mutex/condvar if the
//! parker was actually `PARKED`; taking the mutex before notifying closes the
//! window between the parker's `EMPTY → PARKED` transition and its wait.
//!
//! A worker that holds the driver parks in the reactor instead
//! (`PARKED_DRIVER`); unparking it writes to the reactor's `mio::Waker`. A
//! wake that lands before `epoll_wait` is entered leaves the waker's eventfd
//! readable, so `epoll_wait` returns at once: no lost wake-up either way.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::{Arc, Condvar, Mutex};
use std::fmt;
use std::task::{RawWaker, RawWakerVTable, Waker};
use std::time::{Duration, Instant};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;
/// Blocked in the reactor (`epoll_wait`): unpark through the reactor's waker.
#[cfg(not(stevedore_loom))]
const PARKED_DRIVER: usize = 3;

/// A cloneable park/unpark pair for one thread.
#[derive(Clone)]
pub(crate) struct Parker {
    inner: Arc<Inner>,
}

struct Inner {
    state: AtomicUsize,
    lock: Mutex<()>,
    cvar: Condvar,
    /// Interrupts the reactor when this thread is parked in it.
    #[cfg(not(stevedore_loom))]
    driver: Option<std::sync::Arc<mio::Waker>>,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                lock: Mutex::new(()),
                cvar: Condvar::new(),
                #[cfg(not(stevedore_loom))]
                driver: None,
            }),
        }
    }

    /// A worker's parker, which may also park in the reactor.
    #[cfg(not(stevedore_loom))]
    pub(crate) fn with_driver(driver: Option<std::sync::Arc<mio::Waker>>) -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                lock: Mutex::new(()),
                cvar: Condvar::new(),
                driver,
            }),
        }
    }

    /// About to block in the reactor: `EMPTY → PARKED_DRIVER`. False if an
    /// unpark was pending (it is consumed; do not block).
    #[cfg(not(stevedore_loom))]
    pub(crate) fn enter_driver_park(&self) -> bool {
        match self
            .inner
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, SeqCst, SeqCst)
        {
            Ok(_) => true,
            Err(NOTIFIED) => {
                self.inner.state.store(EMPTY, SeqCst);
                false
            }
            Err(actual) => panic!("inconsistent park state {actual}"),
        }
    }

    /// Back from the reactor; a racing unpark is consumed.
    #[cfg(not(stevedore_loom))]
    pub(crate) fn leave_driver_park(&self) {
        self.inner.state.store(EMPTY, SeqCst);
    }

    /// Sleeps until unparked.
    pub(crate) fn park(&self) {
        self.park_timeout(None);
    }

    /// Sleeps until unparked or `timeout` elapses. A pending unpark is
    /// consumed without sleeping.
    pub(crate) fn park_timeout(&self, timeout: Option<Duration>) {
        let inner = &*self.inner;
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        if timeout == Some(Duration::ZERO) {
            return;
        }
        let mut guard = inner.lock.lock();
        match inner.state.compare_exchange(EMPTY, PARKED, SeqCst, SeqCst) {
            Ok(_) => {}
            Err(NOTIFIED) => {
                inner.state.store(EMPTY, SeqCst);
                return;
            }
            Err(actual) => panic!("inconsistent park state {actual}"),
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            let timed_out = match deadline {
                None => {
                    inner.cvar.wait(&mut guard);
                    false
                }
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    left.is_zero() || inner.cvar.wait_for(&mut guard, left).timed_out()
                }
            };
            if inner
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
            if timed_out || deadline.is_some_and(|d| Instant::now() >= d) {
                // Either PARKED (→ EMPTY) or an unpark raced in (consumed).
                inner.state.store(EMPTY, SeqCst);
                return;
            }
            // Spurious wake-up: wait again.
        }
    }

    /// Wakes the parked thread, or makes its next park return at once.
    pub(crate) fn unpark(&self) {
        self.inner.unpark();
    }

    /// A `Waker` that unparks this parker.
    pub(crate) fn waker(&self) -> Waker {
        let ptr = Arc::into_raw(self.inner.clone()) as *const ();
        // SAFETY: the vtable below treats `ptr` as an `Arc<Inner>` reference
        // it owns, which `into_raw` just created.
        unsafe { Waker::from_raw(RawWaker::new(ptr, &PARKER_WAKER)) }
    }
}

static PARKER_WAKER: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

unsafe fn waker_clone(ptr: *const ()) -> RawWaker {
    // SAFETY: `ptr` came from `Arc::into_raw` and the waker holds it.
    unsafe { Arc::increment_strong_count(ptr as *const Inner) };
    RawWaker::new(ptr, &PARKER_WAKER)
}

unsafe fn waker_wake(ptr: *const ()) {
    // SAFETY: consumes the reference the waker held.
    let inner = unsafe { Arc::from_raw(ptr as *const Inner) };
    inner.unpark();
}

unsafe fn waker_wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker holds a reference, so the `Inner` is live.
    unsafe { &*(ptr as *const Inner) }.unpark();
}

unsafe fn waker_drop(ptr: *const ()) {
    // SAFETY: releases the reference the waker held.
    drop(unsafe { Arc::from_raw(ptr as *const Inner) });
}

impl Inner {
    fn unpark(&self) {
        match self.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => return,
            PARKED => {}
            #[cfg(not(stevedore_loom))]
            PARKED_DRIVER => {
                if let Some(w) = &self.driver {
                    let _ = w.wake();
                }
                return;
            }
            actual => panic!("inconsistent park state {actual}"),
        }
        drop(self.lock.lock());
        self.cvar.notify_one();
    }
}

impl fmt::Debug for Parker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parker")
            .field("state", &self.inner.state.load(SeqCst))
            .finish()
    }
}
