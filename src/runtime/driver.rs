//! The driver: the resources an idle worker waits on besides its own parker
//! — today the timers.
//!
//! Exactly one parked worker at a time holds the driver (`try_acquire`); it
//! parks with a timeout equal to the earliest timer deadline of all shards,
//! and fires due timers when it wakes. Other idle workers park without a
//! timeout. A worker that leaves the driver wakes a sleeping peer (if nobody
//! is searching) so that one of them takes the driver over: a worker that
//! then blocks inside a task cannot stall the timers of everyone else.
//!
//! Registering a timer earlier than the deadline the owner sleeps until
//! unparks the owner. The owner publishes its deadline and then re-reads the
//! shards; the registering thread publishes its timer and then reads the
//! owner's deadline (all `SeqCst`), so at least one of them notices the
//! other.

use super::park::Parker;
use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use crate::time::timers::Timers;
use std::fmt;

/// `park_deadline` value: nobody is parked on the driver.
const NOT_PARKED: u64 = u64::MAX;
/// `park_deadline` value: the owner sleeps with no timer pending.
const NO_DEADLINE: u64 = u64::MAX - 1;

pub(crate) struct Driver {
    pub(crate) timers: Timers,
    /// Set while a worker holds the driver.
    locked: AtomicBool,
    /// Index of the worker holding the driver (meaningful while parked).
    owner: AtomicUsize,
    /// Deadline (ns) the owner sleeps until, or `NOT_PARKED`/`NO_DEADLINE`.
    park_deadline: AtomicU64,
    remote_shard: usize,
}

impl Driver {
    pub(crate) fn new(num_workers: usize) -> Driver {
        Driver {
            timers: Timers::new(num_workers + 1),
            locked: AtomicBool::new(false),
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
        !self.locked.load(SeqCst)
            && self
                .locked
                .compare_exchange(false, true, SeqCst, SeqCst)
                .is_ok()
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
        parker.park_timeout(timeout);
        self.park_deadline.store(NOT_PARKED, SeqCst);
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
