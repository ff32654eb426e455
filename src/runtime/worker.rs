//! A worker thread: the run loop, work stealing, the next-task slot, parking.
//!
//! Each worker owns a FIFO `crossbeam_deque::Worker` and exposes its
//! `Stealer`. One iteration of the run loop:
//!
//! 1. every `global_queue_interval` ticks (61), and right after a task
//!    yielded, take one task from the global injector first, so remote
//!    spawns cannot starve behind local work;
//! 2. every `event_interval` ticks, fire due timers and, if no worker is
//!    parked in it, run a non-blocking turn of the I/O reactor;
//! 3. pop the local queue, else pull a batch from the injector;
//! 4. with nothing local, fire due timers, then **search**: steal half of a
//!    random victim's queue (crossbeam's batch steal), the injector, and as a
//!    last pass the victims' next-task slots;
//! 5. with nothing found, **park** (see `idle.rs` and `driver.rs`).
//!
//! **The next-task (LIFO) slot.** A task woken or spawned by the task being
//! polled goes into a one-element slot and runs right after the current poll
//! — the message-passing fast path. It is bounded: at most
//! [`MAX_LIFO_POLLS`] slot tasks run back to back (then the slot is disabled
//! until the next queue pick), and they share the waker's coop budget. It
//! **cannot strand a task**: the slot is an atomic pointer that searching
//! workers steal from on their last pass before parking (Go's `runnext`
//! rule), and the owner empties it before it parks. A task put into the
//! slot while a task is being polled wakes a sleeping worker if one sleeps
//! and none is searching (Go's `wakep` on `runqput(next)`): the poll may
//! block its thread for long, and a worker parked on the driver would
//! otherwise not notice the slot. The pusher's slot store is followed by a
//! read-modify-write of the idle state, and every parking worker's
//! read-modify-write of that state by a re-check of the queues and slots:
//! either the pusher reads the parker's update (and wakes it) or the parker
//! reads the pusher's (and then sees the slot) (`loom-tests/tests/runtime.rs`).

use super::context;
use super::coop;
use super::handle::{Handle, Shared};
use crate::loom::deque::Worker;
use crate::loom::sync::atomic::{AtomicPtr, Ordering::SeqCst};
use crate::loom::sync::Arc;
use crate::task::Notified;
use crate::time::timers::Entry;
use crate::util::rand;
use std::cell::{Cell, RefCell};
use std::ptr;

/// Slot tasks polled back to back before the slot is disabled.
pub(crate) const MAX_LIFO_POLLS: u32 = 3;

/// Worker-local state; lives on the worker thread's stack and is reached
/// through the thread-local context (only ever by `&Core`).
pub(crate) struct Core {
    index: usize,
    handle: Handle,
    run_queue: Worker<Notified<Handle>>,
    tick: Cell<u32>,
    /// True only while a task is being polled and the slot budget remains.
    lifo_enabled: Cell<bool>,
    /// True while a task is being polled (not during a driver turn, whose
    /// slot task this worker runs right after): filling the slot then
    /// applies the wake rule.
    in_poll: Cell<bool>,
    is_searching: Cell<bool>,
    /// A task yielded since the last pick: check the global queue first, so
    /// work injected from outside gets a turn (Go puts `Gosched`'d
    /// goroutines on the global queue for the same reason).
    yielded: Cell<bool>,
    timer_buf: RefCell<Vec<Arc<Entry>>>,
}

/// The stealable next-task slot: an owned `Notified` as a raw pointer.
pub(crate) struct LifoSlot {
    task: AtomicPtr<crate::task::Header>,
}

impl LifoSlot {
    pub(crate) fn new() -> LifoSlot {
        LifoSlot {
            task: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Puts `task` in the slot, returning the previous occupant.
    fn replace(&self, task: Notified<Handle>) -> Option<Notified<Handle>> {
        let new = task.into_raw().as_ptr();
        // Released by the pusher's idle-state RMW that follows (the wake
        // rule in `Core::schedule_local`).
        let prev = self.task.swap(new, SeqCst);
        // SAFETY: non-null pointers in the slot come from `into_raw` above.
        ptr::NonNull::new(prev).map(|p| unsafe { Notified::from_raw(p.cast()) })
    }

    /// Empties the slot (owner or thief). Reads before it writes, so
    /// searchers probing an empty slot do not steal its cache line.
    pub(crate) fn take(&self) -> Option<Notified<Handle>> {
        if !self.is_occupied() {
            return None;
        }
        let prev = self.task.swap(ptr::null_mut(), SeqCst);
        // SAFETY: as in `replace`.
        ptr::NonNull::new(prev).map(|p| unsafe { Notified::from_raw(p.cast()) })
    }

    /// Every worker that parks reads this after its idle-state RMW (see
    /// the wake rule).
    pub(crate) fn is_occupied(&self) -> bool {
        !self.task.load(SeqCst).is_null()
    }
}

impl Drop for LifoSlot {
    fn drop(&mut self) {
        drop(self.take());
    }
}

/// Entry point of a worker thread.
pub(super) fn run(handle: Handle, index: usize, run_queue: Worker<Notified<Handle>>) {
    set_timer_slack();
    let core = Core {
        index,
        handle,
        run_queue,
        tick: Cell::new(0),
        lifo_enabled: Cell::new(false),
        in_poll: Cell::new(false),
        is_searching: Cell::new(false),
        yielded: Cell::new(false),
        timer_buf: RefCell::new(Vec::new()),
    };
    {
        let _guard = context::set_core(&core);
        core.run();
    }
    // Shutdown: release our queue entries; the owned-tasks list (walked by
    // the thread shutting the runtime down) cancels the tasks themselves.
    while let Some(task) = core.run_queue.pop() {
        drop(task);
    }
    drop(core.remote().lifo.take());
}

impl Core {
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    pub(crate) fn index(&self) -> usize {
        self.index
    }

    fn remote(&self) -> &super::handle::Remote {
        &self.shared().remotes[self.index]
    }

    fn run(&self) {
        let shared = self.shared();
        let cfg = &shared.config;
        loop {
            if shared.is_shutdown() {
                return;
            }
            let tick = self.tick.get().wrapping_add(1);
            self.tick.set(tick);
            if tick % cfg.event_interval == 0 {
                // As after a driver park: the first task this wakes goes to
                // the next-task slot rather than waking a peer.
                self.lifo_enabled.set(true);
                self.fire_timers();
                shared.driver.poll_io_now();
                self.lifo_enabled.set(false);
            }
            if let Some(task) = self.next_task(tick) {
                self.run_task(task);
                continue;
            }
            if self.fire_timers() > 0 {
                continue;
            }
            if let Some(task) = self.steal_work() {
                self.run_task(task);
                continue;
            }
            self.park();
        }
    }

    fn next_task(&self, tick: u32) -> Option<Notified<Handle>> {
        let shared = self.shared();
        if tick % shared.config.global_queue_interval == 0 || self.yielded.replace(false) {
            if let crate::loom::deque::Steal::Success(t) = shared.inject.steal() {
                return Some(t);
            }
        }
        if let Some(t) = self.remote().lifo.take() {
            return Some(t); // woken by our own driver turn
        }
        if let Some(t) = self.run_queue.pop() {
            return Some(t);
        }
        if shared.inject.is_empty() {
            return None;
        }
        shared.steal_injector(&self.run_queue)
    }

    fn run_task(&self, task: Notified<Handle>) {
        let shared = self.shared();
        if self.is_searching.replace(false) && shared.idle.transition_worker_from_searching() {
            // Last searcher found work: there may be more, get help.
            shared.notify_parked();
        }
        self.lifo_enabled.set(true);
        self.in_poll.set(true);
        coop::budget(|| {
            task.run();
            let mut lifo_polls = 0;
            while let Some(next) = self.remote().lifo.take() {
                if !coop::has_budget_remaining() {
                    self.push_local(next);
                    break;
                }
                lifo_polls += 1;
                if lifo_polls >= MAX_LIFO_POLLS {
                    self.lifo_enabled.set(false);
                }
                next.run();
            }
        });
        self.in_poll.set(false);
        self.lifo_enabled.set(false);
    }

    /// Called by the scheduler when a task of this runtime is woken or
    /// spawned on this worker's thread.
    pub(crate) fn schedule_local(&self, task: Notified<Handle>, is_yield: bool) {
        if is_yield {
            self.yielded.set(true);
            return self.push_local(task);
        }
        if !self.lifo_enabled.get() {
            return self.push_local(task);
        }
        match self.remote().lifo.replace(task) {
            // `push_local` applies the usual push wake-up.
            Some(prev) => self.push_local(prev),
            // The wake rule: the poll in progress may block this thread, so
            // make sure an idle worker can come and take the slot.
            None if self.in_poll.get() => self.shared().notify_parked_for_slot(),
            None => {}
        }
    }

    fn push_local(&self, task: Notified<Handle>) {
        self.run_queue.push(task);
        self.shared().notify_parked();
    }

    fn steal_work(&self) -> Option<Notified<Handle>> {
        let shared = self.shared();
        if !self.is_searching.get() {
            if !shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.is_searching.set(true);
        }
        let n = shared.remotes.len();
        let start = rand::below(n as u32) as usize;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.index {
                continue;
            }
            loop {
                use crate::loom::deque::Steal;
                match shared.remotes[victim]
                    .steal
                    .steal_batch_and_pop(&self.run_queue)
                {
                    Steal::Success(t) => return Some(t),
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
        }
        if let Some(t) = shared.steal_injector(&self.run_queue) {
            return Some(t);
        }
        // Last pass: a slot task whose owner is busy in a long poll.
        for i in 0..n {
            let victim = (start + i) % n;
            if victim != self.index {
                if let Some(t) = shared.remotes[victim].lifo.take() {
                    return Some(t);
                }
            }
        }
        None
    }

    /// Fires due timers in every shard; returns how many fired.
    fn fire_timers(&self) -> usize {
        let timers = &self.shared().driver.timers;
        let next = timers.next_deadline();
        if next == u64::MAX {
            return 0;
        }
        let now = timers.now_ns();
        if next > now {
            return 0;
        }
        timers.fire_due(now, &mut self.timer_buf.borrow_mut())
    }

    fn park(&self) {
        let shared = self.shared();
        // SAFETY: this is worker `self.index`'s thread.
        unsafe { shared.owned.drain_completed(self.index) };
        // Every parker (not only the last searcher) re-checks the queues and
        // slots after it is counted as parked: a worker that parks without
        // searching (refused: enough searchers) may otherwise miss a task a
        // busy peer queued just before its poll blocked the thread — the
        // pusher saw this worker still unparked and woke nobody. Found by
        // the slot wake loom model.
        shared
            .idle
            .transition_worker_to_parked(self.index, self.is_searching.replace(false));
        shared.notify_if_work_pending();
        let parker = &self.remote().unpark;
        let holds_driver = !shared.is_shutdown() && shared.driver.try_acquire();
        if holds_driver {
            // The first task the turn wakes goes to the next-task slot (no
            // notification: we run it ourselves right after); more wakes
            // displace it into the queue and wake a peer to help.
            self.lifo_enabled.set(true);
            shared.driver.park(self.index, parker);
        } else if !shared.is_shutdown() {
            parker.park();
        }
        if !shared.idle.unpark_worker_by_id(self.index) {
            // A notifier picked us: we count as a searcher.
            self.is_searching.set(true);
        }
        if holds_driver {
            self.fire_timers();
            shared.driver.release();
            self.lifo_enabled.set(false);
        }
    }
}

/// Timer slack is 50 µs by default on Linux; workers sleep until exact timer
/// deadlines, so ask for 1 ns.
fn set_timer_slack() {
    #[cfg(all(target_os = "linux", not(stevedore_loom)))]
    // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}
