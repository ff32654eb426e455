//! `JoinSet`: a collection of spawned tasks, joined in completion order.
//!
//! Each task's `JoinHandle` sits in a slab slot with its own waker (an
//! `Entry`). The set polls a handle only when that handle's waker fired
//! (or once, right after the spawn, to register it): the entry waker pushes
//! its key onto the shared `ready` list, once (`queued` flag), and wakes
//! whoever waits in `join_next`. So `join_next` costs O(finished tasks), not
//! O(all tasks), per call.
//!
//! Keys carry a generation, so a stale wake for a slot that was reused is
//! ignored. `join_next` takes a result out only within a single poll, and
//! only returns it: dropping the future loses nothing (cancel safe).

use super::{AbortHandle, JoinError, JoinHandle};
use crate::chan::select::{ArmPicker, PickChannelArm, SelectArm, Token};
use crate::loom::sync::atomic::{AtomicBool, Ordering::*};
use crate::loom::sync::Mutex;
use crate::runtime::{coop, Handle};
use futures::task::AtomicWaker;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
// The std `Arc`: `std::task::Wake` is implemented for it.
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A set of tasks spawned on the runtime, awaited in the order they
/// finish. **Dropping the set aborts every task still in it.**
///
/// All tasks must have the same output type `T`. Results are taken with
/// [`join_next`](JoinSet::join_next); [`len`](JoinSet::len) counts tasks
/// not yet joined (finished or not).
///
/// ```
/// use stevedore::task::JoinSet;
///
/// # stevedore::Runtime::new().unwrap().block_on(async {
/// let mut set = JoinSet::new();
/// for i in 0..10u64 {
///     set.spawn(async move { i * i });
/// }
/// let mut sum = 0;
/// while let Some(res) = set.join_next().await {
///     sum += res.unwrap(); // Err(JoinError) if the task panicked or was aborted
/// }
/// assert_eq!(sum, 285);
/// assert!(set.is_empty());
/// # });
/// ```
pub struct JoinSet<T> {
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
    len: usize,
    /// Keys to poll, taken from `shared.ready` (owned: no lock).
    check: VecDeque<Key>,
    /// Results taken by a `select!` arm that then lost (counted in
    /// `len`); returned first.
    stash: VecDeque<Result<T, JoinError>>,
    shared: Arc<Shared>,
}

struct Slot<T> {
    generation: u32,
    task: Option<(JoinHandle<T>, Arc<Entry>)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Key {
    index: usize,
    generation: u32,
}

struct Shared {
    /// Keys whose handle may have finished.
    ready: Mutex<Vec<Key>>,
    /// The task waiting in `join_next`.
    waker: AtomicWaker,
}

/// The waker of one task's join handle.
struct Entry {
    key: Key,
    /// True while the key is in `ready` or `check`.
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for Entry {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, AcqRel) {
            return;
        }
        self.shared.ready.lock().push(self.key);
        self.shared.waker.wake();
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            check: VecDeque::new(),
            stash: VecDeque::new(),
            shared: Arc::new(Shared {
                ready: Mutex::new(Vec::new()),
                waker: AtomicWaker::new(),
            }),
        }
    }

    /// Tasks not yet joined (running or finished).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if no task is left to join.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Aborts every task in the set. They stay in it: `join_next` yields
    /// their results (`Err` with `is_cancelled()`, unless a task finished
    /// first).
    pub fn abort_all(&mut self) {
        for slot in &self.slots {
            if let Some((handle, _)) = &slot.task {
                handle.abort();
            }
        }
    }

    /// Removes every task from the set **without** aborting it: they run
    /// on, detached.
    pub fn detach_all(&mut self) {
        self.stash.clear();
        self.slots.clear();
        self.free.clear();
        self.check.clear();
        self.len = 0;
        self.shared.ready.lock().clear();
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot {
                generation: 0,
                task: None,
            });
            self.slots.len() - 1
        });
        let slot = &mut self.slots[index];
        let key = Key {
            index,
            generation: slot.generation,
        };
        let entry = Arc::new(Entry {
            key,
            queued: AtomicBool::new(true),
            shared: self.shared.clone(),
        });
        slot.task = Some((handle, entry));
        self.len += 1;
        // Polled once by the next `join_next`, which registers its waker.
        self.check.push_back(key);
        abort
    }

    /// Polls the handles whose wakers fired; the first finished one is
    /// removed and returned.
    fn poll_ready_handles(&mut self) -> Option<Result<T, JoinError>> {
        if let Some(res) = self.stash.pop_front() {
            self.len -= 1;
            return Some(res);
        }
        loop {
            if self.check.is_empty() {
                let mut ready = self.shared.ready.lock();
                if ready.is_empty() {
                    return None;
                }
                self.check.extend(ready.drain(..));
            }
            while let Some(key) = self.check.pop_front() {
                let Some(slot) = self.slots.get_mut(key.index) else {
                    continue;
                };
                if slot.generation != key.generation {
                    continue; // a stale wake for a reused slot
                }
                let Some((handle, entry)) = &mut slot.task else {
                    continue;
                };
                // Cleared before polling: a wake from now on queues it again.
                entry.queued.store(false, Release);
                let waker = Waker::from(entry.clone());
                let mut cx = Context::from_waker(&waker);
                if let Poll::Ready(res) = std::pin::Pin::new(handle).poll(&mut cx) {
                    slot.task = None;
                    slot.generation = slot.generation.wrapping_add(1);
                    self.free.push(key.index);
                    self.len -= 1;
                    return Some(res);
                }
            }
        }
    }

    /// Waits for the next task to finish and returns its result; `None`
    /// once the set is empty.
    ///
    /// # Errors
    ///
    /// The result is `Err(JoinError)` for a task that panicked (see
    /// [`JoinError::into_panic`]) or was aborted.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a result is removed from the set only when this future
    /// returns it. In [`select!`](crate::select) it completes only if it
    /// wins; a result taken just as another arm won goes back into the
    /// set.
    pub fn join_next(&mut self) -> JoinNext<'_, T> {
        JoinNext { set: self }
    }

    /// Polls for the next finished task; see
    /// [`join_next`](JoinSet::join_next). Spends the task's cooperative
    /// budget for each result.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        std::task::ready!(coop::poll_proceed(cx));
        if let Some(res) = self.poll_ready_handles() {
            coop::consume();
            return Poll::Ready(Some(res));
        }
        // Register, then look again: a wake in between is not lost.
        self.shared.waker.register(cx.waker());
        match self.poll_ready_handles() {
            Some(res) => {
                coop::consume();
                Poll::Ready(Some(res))
            }
            None => Poll::Pending,
        }
    }

    /// The result of a task that has already finished, without waiting;
    /// `None` if none has (or the set is empty).
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        if self.len == 0 {
            return None;
        }
        self.poll_ready_handles()
    }

    /// Aborts every task and waits until all have ended, discarding their
    /// results.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: what is left stays in the set (aborted).
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime as part of the set.
    ///
    /// # Panics
    ///
    /// Outside a stevedore runtime (as [`crate::spawn`]).
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(crate::spawn(future))
    }

    /// Spawns `future` on the runtime behind `handle` as part of the set.
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Runs `f` on the blocking pool as part of the set. Aborting it only
    /// takes effect if it has not started.
    ///
    /// # Panics
    ///
    /// Outside a stevedore runtime.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(crate::spawn_blocking(f))
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// # Panics
    ///
    /// If a task panicked (its panic is resumed here) or was aborted; the
    /// remaining tasks are aborted as the set drops.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: it consumes the set, so the results gathered so far
    /// are lost (and the remaining tasks aborted) if the future is dropped.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        while let Some(res) = self.join_next().await {
            match res {
                Ok(v) => out.push(v),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("a task of the JoinSet was cancelled: {e}"),
            }
        }
        out
    }
}

/// Future returned by [`JoinSet::join_next`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinNext<'a, T> {
    set: &'a mut JoinSet<T>,
}

impl<T> Future for JoinNext<'_, T> {
    type Output = Option<Result<T, JoinError>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.set.poll_join_next(cx)
    }
}

impl<T> fmt::Debug for JoinNext<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinNext")
            .field("len", &self.set.len)
            .finish()
    }
}

impl<'a, T> PickChannelArm for ArmPicker<JoinNext<'a, T>> {
    type Arm = JoinNext<'a, T>;
    fn pick(&self) -> Self::Arm {
        self.take()
    }
}

impl<T> SelectArm for JoinNext<'_, T> {
    type Output = Option<Result<T, JoinError>>;

    unsafe fn poll_arm(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        token: &Token,
        arm: usize,
    ) -> Poll<Self::Output> {
        // Polled even if another arm just won: what it takes is put back
        // below, so nothing is lost either way.
        let out = std::task::ready!(self.as_mut().poll(cx));
        if token.try_claim(arm) {
            return Poll::Ready(out);
        }
        if let Some(res) = out {
            // Lost the select: the result goes back, first in line.
            self.set.stash.push_front(res);
            self.set.len += 1;
        }
        Poll::Pending
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
