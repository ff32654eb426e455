//! State shared by all workers of a runtime, and the public `Handle` to it.

use super::blocking::BlockingPool;
use super::builder::Config;
use super::context;
use super::driver::Driver;
use super::idle::Idle;
use super::park::Parker;
use super::worker::LifoSlot;
use crate::loom::deque::{Injector, Steal, Stealer};
use crate::loom::sync::atomic::{AtomicBool, Ordering::*};
use crate::loom::sync::Arc;
use crate::task::list::OwnedTasks;
use crate::task::{JoinHandle, Notified, Schedule, Task};
use crate::time::timers::Entry;
use crate::util::cache_padded::CachePadded;
use std::fmt;
use std::future::Future;
use std::task::Waker;
use std::time::Instant;

/// A cheap, cloneable reference to a running runtime: spawn onto it from
/// any thread, or enter it.
#[derive(Clone)]
pub struct Handle {
    pub(super) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    /// What other workers (and wakers) may touch of each worker.
    pub(super) remotes: Box<[CachePadded<Remote>]>,
    /// Spawns and wakes from outside the workers.
    pub(super) inject: Injector<Notified<Handle>>,
    pub(super) idle: Idle,
    pub(super) owned: OwnedTasks<Handle>,
    pub(crate) driver: Driver,
    pub(super) blocking: BlockingPool,
    /// Set once by `Runtime` shutdown; workers exit when they see it.
    pub(super) shutdown: AtomicBool,
    pub(super) config: Config,
}

/// The part of a worker visible to others.
pub(super) struct Remote {
    pub(super) steal: Stealer<Notified<Handle>>,
    /// The next-task slot; stealable (see `worker.rs`).
    pub(super) lifo: LifoSlot,
    pub(super) unpark: Parker,
}

impl Handle {
    /// The handle of the runtime this thread is in.
    ///
    /// # Panics
    ///
    /// Outside a stevedore runtime (a worker, a blocking thread, or a thread
    /// inside `block_on`/`enter`).
    #[track_caller]
    pub fn current() -> Handle {
        Handle::try_current().expect(
            "no stevedore runtime on this thread: call this from a task, from \
             Runtime::block_on, or inside Runtime::enter",
        )
    }

    /// The handle of the runtime this thread is in, if any.
    pub fn try_current() -> Option<Handle> {
        context::try_current()
    }

    /// Spawns a task; see [`crate::spawn`].
    #[inline]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let shared = &*self.shared;
        context::with_core(|core| match core {
            Some(core) if std::ptr::eq(core.shared(), shared) => {
                // SAFETY: we are on worker `core.index()`'s thread.
                let (join, task) =
                    unsafe { shared.owned.bind_local(core.index(), future, self.clone()) };
                core.schedule_local(task, false);
                join
            }
            _ => {
                let (join, task) = shared.owned.bind_remote(future, self.clone());
                if let Some(task) = task {
                    shared.schedule_remote(task);
                }
                join
            }
        })
    }

    /// Runs `f` on the blocking pool; see [`crate::spawn_blocking`].
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared.blocking.spawn(self, f)
    }

    /// Enters the runtime on this thread until the guard drops.
    pub fn enter(&self) -> context::EnterGuard {
        context::enter(self)
    }

    /// Number of worker threads.
    pub fn num_workers(&self) -> usize {
        self.shared.remotes.len()
    }

    /// A snapshot of the runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        let s = &*self.shared;
        RuntimeMetrics {
            workers: s.remotes.len(),
            sleeping_workers: s.idle.num_sleeping(),
            blocking_threads: s.blocking.num_threads(),
            timer_entries: s.driver.timers.len(),
        }
    }

    #[cfg(not(stevedore_loom))]
    pub(crate) fn reactor(&self) -> std::io::Result<&crate::reactor::Reactor> {
        self.shared
            .driver
            .io
            .as_ref()
            .ok_or_else(|| std::io::Error::other("this stevedore runtime has no I/O reactor"))
    }

    fn schedule_task(&self, task: Notified<Handle>, is_yield: bool) {
        let shared = &*self.shared;
        context::with_core(|core| match core {
            Some(core) if std::ptr::eq(core.shared(), shared) => {
                core.schedule_local(task, is_yield)
            }
            _ => shared.schedule_remote(task),
        });
    }
}

impl Schedule for Handle {
    fn schedule(&self, task: Notified<Self>) {
        self.schedule_task(task, false);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.schedule_task(task, true);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        let shared = &*self.shared;
        let current = context::with_core(|core| match core {
            Some(core) if std::ptr::eq(core.shared(), shared) => Some(core.index()),
            _ => None,
        });
        shared.owned.remove(task, current)
    }
}

impl Shared {
    pub(crate) fn to_handle(&self) -> Handle {
        let ptr = self as *const Shared;
        // SAFETY: every `Shared` lives inside an `Arc` (built in
        // `Builder::build`), and `&self` proves a strong count is held.
        let shared = unsafe {
            Arc::increment_strong_count(ptr);
            Arc::from_raw(ptr)
        };
        Handle { shared }
    }

    pub(super) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    pub(super) fn schedule_remote(&self, task: Notified<Handle>) {
        self.inject.push(task);
        self.notify_parked();
    }

    /// Wakes one sleeping worker if the idle protocol says one is needed.
    pub(super) fn notify_parked(&self) {
        if let Some(worker) = self.idle.worker_to_notify() {
            self.remotes[worker].unpark.unpark();
        }
    }

    /// A task went into a next-task slot during a poll: wake a sleeping
    /// worker if one sleeps and nobody searches (Go's `wakep`). The check
    /// is the idle state's read-modify-write (`Idle::worker_to_notify`):
    /// after the slot store, it either reads a parker's update (and wakes
    /// it) or is read by it (and the parker, re-checking the slots, sees
    /// the task). A plain load would not give that order.
    pub(super) fn notify_parked_for_slot(&self) {
        self.notify_parked();
    }

    /// A worker parked: make sure no queued work is left behind (a task
    /// queued by a peer whose poll now blocks its thread).
    pub(super) fn notify_if_work_pending(&self) {
        let pending = !self.inject.is_empty()
            || self
                .remotes
                .iter()
                .any(|r| !r.steal.is_empty() || r.lifo.is_occupied());
        if pending {
            self.notify_parked();
        }
    }

    pub(super) fn steal_injector(
        &self,
        dest: &crate::loom::deque::Worker<Notified<Handle>>,
    ) -> Option<Notified<Handle>> {
        loop {
            match self.inject.steal_batch_and_pop(dest) {
                Steal::Success(t) => return Some(t),
                Steal::Empty => return None,
                Steal::Retry => continue,
            }
        }
    }

    /// Registers a timer in the calling worker's shard (or the shared one)
    /// and wakes the driver owner if it would sleep past it. `None` if the
    /// runtime has shut down (its timers will never fire).
    pub(crate) fn register_timer(&self, deadline: Instant, waker: &Waker) -> Option<Arc<Entry>> {
        let timers = &self.driver.timers;
        let shard = context::with_core(|core| match core {
            Some(core) if std::ptr::eq(core.shared(), self) => core.index(),
            _ => self.driver.remote_shard(),
        });
        let ns = timers.ns_of(deadline);
        let entry = timers.register(shard, ns, waker)?;
        if let Some(owner) = self.driver.owner_to_unpark(ns) {
            self.remotes[owner].unpark.unpark();
        }
        Some(entry)
    }
}

/// Counters of a runtime at one instant ([`Handle::metrics`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Worker threads.
    pub workers: usize,
    /// Workers parked because they found nothing to do.
    pub sleeping_workers: usize,
    /// Threads alive in the blocking pool (it shrinks when idle).
    pub blocking_threads: usize,
    /// Timer entries held, including cancelled ones not yet discarded.
    pub timer_entries: usize,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.shared.remotes.len())
            .finish()
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.remotes.len())
            .field("idle", &self.idle)
            .field("driver", &self.driver)
            .finish()
    }
}
