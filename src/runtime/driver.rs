//! The driver: the resources an idle worker waits on besides its own parker
//! — today the timers.
//!
//! Exactly one parked worker at a time holds the driver (`try_acquire`); it
//! blocks in the I/O reactor (or, without one, on its parker) with a timeout
//! equal to the earliest timer deadline of all shards, and fires due timers
//! when it wakes. Other idle workers park without a
//! timeout. A worker that leaves the driver does not hand it over eagerly
//! (that would cost a futex wake per I/O event); the monitor (`monitor.rs`)
//! wakes a sleeping worker when the driver stays unattended, so a worker
//! stuck in a task cannot stall the timers and sockets of everyone else.
//!
//! Registering a timer earlier than the deadline the owner sleeps until
//! unparks the owner. The owner publishes its deadline and then re-reads the
//! shards; the registering thread publishes its timer and then reads the
//! owner's deadline (all `SeqCst`), so at least one of them notices the
//! other.

use super::park::Parker;
use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use crate::time::timers::Timers;
use std::fmt;

/// `park_deadline` value: nobody is parked on the driver.
const NOT_PARKED: u64 = u64::MAX;
/// `park_deadline` value: the owner sleeps with no timer pending.
const NO_DEADLINE: u64 = u64::MAX - 1;

pub(crate) struct Driver {
    pub(crate) timers: Timers,
    /// The I/O reactor (absent under loom).
    #[cfg(not(stevedore_loom))]
    pub(crate) io: Option<crate::reactor::Reactor>,
    /// Set while a worker holds the driver.
    locked: AtomicBool,
    /// Bumped on every acquisition (read by the monitor).
    generation: AtomicU64,
    /// Index of the worker holding the driver (meaningful while parked).
    owner: AtomicUsize,
    /// Deadline (ns) the owner sleeps until, or `NOT_PARKED`/`NO_DEADLINE`.
    park_deadline: AtomicU64,
    remote_shard: usize,
}

impl Driver {
    pub(crate) fn new(
        num_workers: usize,
        #[cfg(not(stevedore_loom))] io: Option<crate::reactor::Reactor>,
    ) -> Driver {
        Driver {
            timers: Timers::new(num_workers + 1),
            #[cfg(not(stevedore_loom))]
            io,
            locked: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            owner: AtomicUsize::new(0),
            park_deadline: AtomicU64::new(NOT_PARKED),
            remote_shard: num_workers,
        }
    }

    /// The timer shard used by threads that are not workers.
    pub(crate) fn remote_shard(&self) -> usize {
        self.remote_shard
    }

    pub(crate) fn try_acquire(&self) -> bool {
        let acquired = !self.locked.load(SeqCst)
            && self
                .locked
                .compare_exchange(false, true, SeqCst, SeqCst)
                .is_ok();
        if acquired {
            self.generation.fetch_add(1, Relaxed);
        }
        acquired
    }

    /// Whether a worker holds the driver, and how many times it has been
    /// acquired so far.
    pub(crate) fn held_and_generation(&self) -> (bool, u64) {
        (self.locked.load(SeqCst), self.generation.load(Relaxed))
    }

    pub(crate) fn release(&self) {
        self.locked.store(false, SeqCst);
    }

    /// Sleeps (holding the driver) until unparked or the earliest timer.
    pub(crate) fn park(&self, worker: usize, parker: &Parker) {
        self.owner.store(worker, SeqCst);
        let mut next = self.timers.next_deadline();
        loop {
            let published = if next == u64::MAX { NO_DEADLINE } else { next };
            self.park_deadline.store(published, SeqCst);
            let again = self.timers.next_deadline();
            if again >= next {
                break;
            }
            next = again;
        }
        let timeout = (next != u64::MAX).then(|| self.timers.until(next));
        #[cfg(not(stevedore_loom))]
        if let Some(io) = &self.io {
            if parker.enter_driver_park() {
                // SAFETY: we hold the driver lock (caller).
                unsafe { io.turn(timeout) };
                parker.leave_driver_park();
            } else {
                // SAFETY: as above; an unpark was pending, so do not block.
                unsafe { io.turn(Some(std::time::Duration::ZERO)) };
            }
            self.park_deadline.store(NOT_PARKED, SeqCst);
            return;
        }
        parker.park_timeout(timeout);
        self.park_deadline.store(NOT_PARKED, SeqCst);
    }

    /// A non-blocking reactor turn by a busy worker, if nobody holds the
    /// driver. Returns the number of I/O events dispatched.
    pub(crate) fn poll_io_now(&self) -> usize {
        #[cfg(not(stevedore_loom))]
        if let Some(io) = &self.io {
            if self.try_acquire() {
                // SAFETY: we hold the driver lock.
                let n = unsafe { io.turn(Some(std::time::Duration::ZERO)) };
                self.release();
                return n;
            }
        }
        0
    }

    /// After registering a timer at `deadline`: the worker to unpark, if the
    /// driver owner would otherwise sleep past it.
    pub(crate) fn owner_to_unpark(&self, deadline: u64) -> Option<usize> {
        let parked_until = self.park_deadline.load(SeqCst);
        (parked_until != NOT_PARKED && deadline < parked_until).then(|| self.owner.load(SeqCst))
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("locked", &self.locked.load(SeqCst))
            .field("timers", &self.timers)
            .finish()
    }
}
