//! Idle protocol: which workers search for work, which sleep, and who gets
//! woken when work appears.
//!
//! One atomic packs `num_searching` (low 16 bits) and `num_unparked` (the
//! rest); the list of sleeping workers sits behind a mutex.
//!
//! * **At most half the workers search at once**
//!   ([`transition_worker_to_searching`](Idle::transition_worker_to_searching)).
//! * **A push wakes a sleeper only if nobody is searching** — a searcher will
//!   find the work — and only if some worker is asleep
//!   ([`worker_to_notify`](Idle::worker_to_notify)). The woken worker starts
//!   out searching, so a burst of pushes wakes exactly one worker.
//! * **The last searcher to find work wakes another**, so the remaining work
//!   keeps being spread (the caller does this when
//!   [`transition_worker_from_searching`](Idle::transition_worker_from_searching)
//!   returns true).
//! * **Every worker that parks re-checks every queue and next-task slot**
//!   after it is counted as parked (the caller, `Core::park`; tokio does it
//!   for the last searcher only, which leaves a task queued by a worker
//!   whose poll then blocks its thread waiting while a peer sleeps). Pushers publish work before reading the state, and the
//!   parker publishes the state before re-reading the queues — both with
//!   `SeqCst` — so one of the two always sees the other: no lost wake-up.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;

const SEARCH_MASK: usize = (1 << 16) - 1;
const UNPARK_SHIFT: usize = 16;
const UNPARK_ONE: usize = 1 << UNPARK_SHIFT;

#[derive(Debug)]
pub(crate) struct Idle {
    /// `num_unparked << 16 | num_searching`. A worker is "unparked" from the
    /// moment a notifier picks it (or it unparks itself) until it pushes
    /// itself onto `sleepers`; searchers are a subset of unparked workers.
    state: AtomicUsize,
    /// Workers that are parked, or about to park, and not yet picked.
    /// Invariant: `sleepers.len() == num_workers - num_unparked` whenever the
    /// lock is not held.
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCH_MASK, "too many workers");
        Idle {
            state: AtomicUsize::new(num_workers << UNPARK_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// If a sleeper should be woken for new work, picks it: it is counted as
    /// unparked and searching before this returns.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        // Fast path: a full fence (RMW) orders the caller's queue push
        // before this read of the state.
        if !self.notify_should_wakeup() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.notify_should_wakeup() {
            return None;
        }
        self.state.fetch_add(UNPARK_ONE | 1, SeqCst);
        let worker = sleepers.pop();
        debug_assert!(worker.is_some(), "unparked count and sleepers disagree");
        worker
    }

    fn notify_should_wakeup(&self) -> bool {
        let s = self.state.fetch_add(0, SeqCst);
        s & SEARCH_MASK == 0 && (s >> UNPARK_SHIFT) < self.num_workers
    }

    /// The worker is going to sleep. Returns true if it was the last
    /// searcher, in which case the caller must re-check every queue.
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let dec = UNPARK_ONE | usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        is_searching && prev & SEARCH_MASK == 1
    }

    /// Asks to become a searcher; refused when half the workers already are.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let s = self.state.load(SeqCst);
        if 2 * (s & SEARCH_MASK) >= self.num_workers {
            return false;
        }
        // Slight overshoot under a race is harmless: the bound is advisory.
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searcher found work. Returns true if it was the last searcher, in
    /// which case the caller should wake another worker.
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(prev & SEARCH_MASK > 0);
        prev & SEARCH_MASK == 1
    }

    /// Removes `worker` from the sleepers if it is still there (it woke on
    /// its own: timer, driver hand-off, shutdown). Returns false if a
    /// notifier had already picked it — then it is counted as searching.
    pub(crate) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|&w| w == worker) {
            Some(i) => {
                sleepers.swap_remove(i);
                self.state.fetch_add(UNPARK_ONE, SeqCst);
                true
            }
            None => false,
        }
    }

    /// Number of workers currently asleep (for diagnostics and tests).
    pub(crate) fn num_sleeping(&self) -> usize {
        self.num_workers - (self.state.load(SeqCst) >> UNPARK_SHIFT)
    }
}
