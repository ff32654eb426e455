//! The owned-tasks list: every live task of a runtime, so shutdown can find
//! the ones that are idle (held only by wakers) and drop them.
//!
//! **Per-worker lists, touched only by their owner.** A task spawned on
//! worker `i` is linked into worker `i`'s list, which only worker `i`'s
//! thread touches (and the shutdown thread, after worker `i` was joined).
//! When a task completes:
//!
//! * on its owner's thread, it is unlinked on the spot — no atomics;
//! * on any other thread, it is pushed onto the owner's `completed` stack (a
//!   push-only Treiber stack that the owner empties with one `swap`, so there
//!   is no ABA), and the owner unlinks it the next time it spawns or parks.
//!
//! The list holds one reference until the task is unlinked, so a detached
//! task is usually freed by the thread that allocated it, and spawn and
//! completion never share a lock across cores.
//!
//! Tasks spawned from outside the workers go to one mutex-protected list and
//! are unlinked eagerly on completion. Closing marks it closed under its
//! lock, so a task bound after shutdown started is cancelled on the spot.
//!
//! **Invariant:** `Header::owned_linked` of a task is written only by the
//! owner of its list — at bind, before the task is published, and when the
//! completed task is unlinked, after its `release` ran — so `release` may
//! read it from any thread.

use super::core::Header;
use super::{new_task, JoinHandle, Notified, Schedule, Task};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicPtr, Ordering::*};
use crate::loom::sync::Mutex;
use crate::util::cache_padded::CachePadded;
use crate::util::linked_list::{Link, LinkedList, Pointers};
use std::future::Future;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

/// `Header::owner` of a task in the remote (locked) list.
pub(crate) const OWNER_REMOTE: u32 = u32::MAX - 1;
/// `Header::owner` of a task in no list (blocking jobs).
pub(crate) const OWNER_NONE: u32 = u32::MAX;

pub(crate) struct OwnedTasks<S: 'static> {
    locals: Box<[LocalList]>,
    remote: Mutex<RemoteList>,
    _p: PhantomData<S>,
}

struct LocalList {
    /// Touched only by the owning worker thread while it runs, and by the
    /// shutdown thread after that worker has been joined.
    list: CachePadded<UnsafeCell<LinkedList<TaskLink>>>,
    /// Tasks of this list completed on other threads, linked through
    /// `Header::completed_next`. Pushed by anyone, emptied by the owner.
    completed: CachePadded<AtomicPtr<Header>>,
}

struct RemoteList {
    list: LinkedList<TaskLink>,
    closed: bool,
}

// SAFETY: see the invariant on `LocalList::list`: accesses are confined to
// one thread at a time, the worker's join ordering the hand-over to the
// shutdown thread; `completed` is atomic.
unsafe impl Sync for LocalList {}
// SAFETY: as above.
unsafe impl Send for LocalList {}

struct TaskLink;

// SAFETY: `owned` is a field of the header, live as long as the header.
unsafe impl Link for TaskLink {
    type Target = Header;

    unsafe fn pointers(target: NonNull<Header>) -> NonNull<Pointers<Header>> {
        // SAFETY: the caller guarantees `target` is live.
        unsafe { NonNull::from(&target.as_ref().owned) }
    }
}

impl<S: Schedule> OwnedTasks<S> {
    pub(crate) fn new(workers: usize) -> OwnedTasks<S> {
        OwnedTasks {
            locals: (0..workers)
                .map(|_| LocalList {
                    list: CachePadded::new(UnsafeCell::new(LinkedList::new())),
                    completed: CachePadded::new(AtomicPtr::new(ptr::null_mut())),
                })
                .collect(),
            remote: Mutex::new(RemoteList {
                list: LinkedList::new(),
                closed: false,
            }),
            _p: PhantomData,
        }
    }

    /// Creates a task owned by worker `worker` and links it.
    ///
    /// # Safety
    ///
    /// Must be called on worker `worker`'s thread.
    #[inline(always)]
    pub(crate) unsafe fn bind_local<F>(
        &self,
        worker: usize,
        future: F,
        scheduler: S,
    ) -> (JoinHandle<F::Output>, Notified<S>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // SAFETY: we are on the owner's thread (caller).
        unsafe { self.drain_completed(worker) };
        let (task, notified, join) = new_task(future, scheduler, worker as u32);
        task.header().owned_linked.set(true);
        // SAFETY: owner's thread (caller). A new task is linked nowhere; the
        // list's reference (held by `task`, forgotten here) keeps it alive.
        self.locals[worker]
            .list
            .with_mut(|l| unsafe { (*l).push_front(task.into_raw()) });
        (join, notified)
    }

    /// Creates a task owned by no worker. If the list is closed the task is
    /// cancelled at once and no `Notified` is returned.
    pub(crate) fn bind_remote<F>(
        &self,
        future: F,
        scheduler: S,
    ) -> (JoinHandle<F::Output>, Option<Notified<S>>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = new_task(future, scheduler, OWNER_REMOTE);
        let mut remote = self.remote.lock();
        if remote.closed {
            drop(remote);
            task.shutdown();
            drop(notified);
            return (join, None);
        }
        task.header().owned_linked.set(true);
        // SAFETY: a new task is linked nowhere; the list's reference keeps it
        // alive until removed.
        unsafe { remote.list.push_front(task.into_raw()) };
        (join, Some(notified))
    }

    /// Called when `task` completed, on worker `current` (if any). Returns
    /// the list's reference if the task was unlinked now; otherwise the
    /// owner unlinks it later (or shutdown already has).
    pub(crate) fn remove(&self, task: &Task<S>, current: Option<usize>) -> Option<Task<S>> {
        let header = task.header();
        let ptr = task.header_ptr();
        match header.owner {
            OWNER_NONE => None,
            OWNER_REMOTE => {
                let mut remote = self.remote.lock();
                if !header.owned_linked.get() {
                    return None;
                }
                header.owned_linked.set(false);
                // SAFETY: `owned_linked` says it is in the remote list.
                unsafe { remote.list.remove(ptr) };
                // SAFETY: the list's reference is handed back to the caller.
                Some(unsafe { Task::from_raw(ptr) })
            }
            owner => {
                if !header.owned_linked.get() {
                    return None; // popped by shutdown
                }
                let owner = owner as usize;
                if current == Some(owner) {
                    header.owned_linked.set(false);
                    // SAFETY: on the owner's thread; the task is linked there.
                    self.locals[owner]
                        .list
                        .with_mut(|l| unsafe { (*l).remove(ptr) });
                    // SAFETY: the list's reference is handed back.
                    return Some(unsafe { Task::from_raw(ptr) });
                }
                let head = &self.locals[owner].completed;
                let mut cur = head.load(Relaxed);
                loop {
                    // SAFETY: until published below only we touch the field.
                    header.completed_next.with_mut(|p| unsafe { *p = cur });
                    match head.compare_exchange_weak(cur, ptr.as_ptr(), Release, Relaxed) {
                        Ok(_) => return None,
                        Err(actual) => cur = actual,
                    }
                }
            }
        }
    }

    /// Unlinks the tasks of worker `worker` that completed elsewhere.
    ///
    /// # Safety
    ///
    /// Must be called on worker `worker`'s thread (or after it was joined).
    pub(crate) unsafe fn drain_completed(&self, worker: usize) {
        let local = &self.locals[worker];
        if local.completed.load(Relaxed).is_null() {
            return;
        }
        let mut cur = local.completed.swap(ptr::null_mut(), Acquire);
        while let Some(ptr) = NonNull::new(cur) {
            // SAFETY: the list still holds a reference, so the task is live.
            let header = unsafe { ptr.as_ref() };
            // SAFETY: the pusher wrote `completed_next` before publishing the
            // task with Release; our `swap` acquired it.
            cur = header.completed_next.with(|p| unsafe { *p });
            header.owned_linked.set(false);
            // SAFETY: owner's thread (caller); pushed tasks are still linked.
            local.list.with_mut(|l| unsafe { (*l).remove(ptr) });
            // SAFETY: the list's reference moves into this handle, dropped.
            drop(unsafe { Task::<S>::from_raw(ptr) });
        }
    }

    /// Closes the remote list and cancels every task still linked anywhere.
    ///
    /// # Safety
    ///
    /// Every worker thread has been joined.
    pub(crate) unsafe fn close_and_shutdown_all(&self) {
        for (worker, local) in self.locals.iter().enumerate() {
            loop {
                // SAFETY: the worker was joined (caller): we own its list.
                unsafe { self.drain_completed(worker) };
                // SAFETY: as above.
                let next = local.list.with_mut(|l| unsafe { (*l).pop_front() });
                let Some(ptr) = next else { break };
                // SAFETY: linked nodes are live.
                unsafe { ptr.as_ref() }.owned_linked.set(false);
                // SAFETY: the list's reference moves into this handle.
                unsafe { Task::<S>::from_raw(ptr) }.shutdown();
            }
        }
        loop {
            let mut remote = self.remote.lock();
            remote.closed = true;
            let Some(ptr) = remote.list.pop_front() else {
                break;
            };
            // SAFETY: linked nodes are live and hold the list's reference.
            unsafe { ptr.as_ref() }.owned_linked.set(false);
            drop(remote);
            // SAFETY: the list's reference moves into this handle.
            unsafe { Task::<S>::from_raw(ptr) }.shutdown();
        }
    }
}

impl<S> std::fmt::Debug for OwnedTasks<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedTasks")
            .field("workers", &self.locals.len())
            .finish()
    }
}
