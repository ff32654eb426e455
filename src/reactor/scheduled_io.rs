//! Readiness of one registered I/O source, and the tasks waiting on it.
//!
//! ```text
//!  readiness word:  [ tick: 16 bits | SHUTDOWN | ERROR | WRITE_CLOSED | READ_CLOSED | WRITABLE | READABLE ]
//! ```
//!
//! Edge-triggered protocol:
//!
//! 1. The driver ORs the event's bits into the word and bumps the tick, then
//!    takes the wakers of the directions that became ready (under the
//!    waiter lock) and wakes them after releasing it.
//! 2. A task checks the word; if its direction is ready it tries the
//!    syscall. Otherwise it registers its waker under the lock and checks
//!    the word again before returning `Pending`, so an event that raced with
//!    it is seen either by the check or by the driver's waker scan.
//! 3. A syscall that returns `WouldBlock` clears the direction's bits, but
//!    only if the tick is still the one the task observed: an edge that
//!    arrived in between is kept, so no readiness is ever lost (the kernel
//!    will not report it again).
//!
//! Closed and error bits are never cleared.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use crate::loom::sync::Mutex;
use std::task::{Context, Poll, Waker};

pub(crate) const READABLE: usize = 1 << 0;
pub(crate) const WRITABLE: usize = 1 << 1;
pub(crate) const READ_CLOSED: usize = 1 << 2;
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
pub(crate) const ERROR: usize = 1 << 4;
/// The runtime shut down: waiters fail instead of waiting forever.
pub(crate) const SHUTDOWN: usize = 1 << 5;
const READY_MASK: usize = (1 << 16) - 1;
const TICK_SHIFT: u32 = 16;

/// Waiters beyond this many distinct wakers per direction are all woken
/// (spuriously) rather than stored, bounding memory.
const MAX_WAITERS: usize = 32;

/// Which way a task wants to move data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// Bits that make this direction ready (errors and closes wake both).
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR | SHUTDOWN,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR | SHUTDOWN,
        }
    }
}

/// What a task saw when its direction was ready.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadyEvent {
    tick: usize,
    pub(crate) ready: usize,
}

#[derive(Debug)]
pub(crate) struct ScheduledIo {
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

#[derive(Debug, Default)]
struct Waiters {
    readers: Vec<Waker>,
    writers: Vec<Waker>,
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            readiness: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// Driver side: record `ready` (mio's event bits) and wake the waiters
    /// of every direction it affects.
    pub(crate) fn set_readiness_and_wake(&self, ready: usize) {
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |curr| {
            let tick = ((curr >> TICK_SHIFT) + 1) & READY_MASK;
            Some((tick << TICK_SHIFT) | (curr & READY_MASK) | ready)
        });
        self.wake(ready);
    }

    fn wake(&self, ready: usize) {
        let mut w = self.waiters.lock();
        let readers = if ready & Direction::Read.mask() != 0 {
            std::mem::take(&mut w.readers)
        } else {
            Vec::new()
        };
        let writers = if ready & Direction::Write.mask() != 0 {
            std::mem::take(&mut w.writers)
        } else {
            Vec::new()
        };
        drop(w);
        for waker in readers.into_iter().chain(writers) {
            // A user's waker must not unwind into the worker dispatching.
            crate::util::panic::catch_quietly(|| waker.wake());
        }
    }

    /// Marks the source dead (runtime shutdown) and wakes everyone.
    pub(crate) fn shutdown(&self) {
        self.readiness.fetch_or(SHUTDOWN, AcqRel);
        self.wake(SHUTDOWN | ERROR);
    }

    /// Ready now for `dir`, or the waker is registered.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        if let Some(ev) = self.ready_event(dir) {
            return Poll::Ready(ev);
        }
        let mut w = self.waiters.lock();
        let list = match dir {
            Direction::Read => &mut w.readers,
            Direction::Write => &mut w.writers,
        };
        if !list.iter().any(|x| x.will_wake(cx.waker())) {
            if list.len() >= MAX_WAITERS {
                for waker in list.drain(..) {
                    waker.wake();
                }
            }
            list.push(cx.waker().clone());
        }
        // Re-check under the lock: the driver sets the bits before taking it.
        match self.ready_event(dir) {
            Some(ev) => Poll::Ready(ev),
            None => Poll::Pending,
        }
    }

    fn ready_event(&self, dir: Direction) -> Option<ReadyEvent> {
        let curr = self.readiness.load(Acquire);
        let ready = curr & dir.mask();
        (ready != 0).then_some(ReadyEvent {
            tick: curr >> TICK_SHIFT,
            ready,
        })
    }

    /// A syscall returned `WouldBlock` after `ev`: forget the readiness,
    /// unless a newer event arrived meanwhile.
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        let clear = ev.ready & (READABLE | WRITABLE);
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |curr| {
            (curr >> TICK_SHIFT == ev.tick).then_some(curr & !clear)
        });
    }
}
