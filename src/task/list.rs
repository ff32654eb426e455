//! The owned-tasks list: every live task of a runtime, so shutdown can find
//! the ones that are idle (held only by wakers) and drop them.
//!
//! Sharded by task address to keep spawns on different workers off each
//! other's lock. Closing marks every shard closed under its lock; a task
//! bound after that is cancelled on the spot, so no task can slip past
//! shutdown.

use super::core::Header;
use super::{new_task, JoinHandle, Notified, Schedule, Task};
use crate::loom::sync::Mutex;
use crate::util::linked_list::{Link, LinkedList, Pointers};
use std::future::Future;
use std::ptr::NonNull;

pub(crate) struct OwnedTasks<S: 'static> {
    shards: Box<[Mutex<Shard>]>,
    shift: u32,
    _p: std::marker::PhantomData<S>,
}

struct Shard {
    list: LinkedList<TaskLink>,
    closed: bool,
}

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
    /// `shards` is rounded up to a power of two.
    pub(crate) fn new(shards: usize) -> OwnedTasks<S> {
        let n = shards.max(1).next_power_of_two();
        OwnedTasks {
            shards: (0..n)
                .map(|_| {
                    Mutex::new(Shard {
                        list: LinkedList::new(),
                        closed: false,
                    })
                })
                .collect(),
            shift: 64 - n.trailing_zeros(),
            _p: std::marker::PhantomData,
        }
    }

    fn shard(&self, ptr: NonNull<Header>) -> &Mutex<Shard> {
        if self.shards.len() == 1 {
            return &self.shards[0];
        }
        let h = ((ptr.as_ptr() as u64) >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        &self.shards[(h >> self.shift) as usize]
    }

    /// Creates a task and links it. If the list is closed, the task is
    /// cancelled immediately and no `Notified` is returned.
    pub(crate) fn bind<F>(
        &self,
        future: F,
        scheduler: S,
    ) -> (JoinHandle<F::Output>, Option<Notified<S>>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, notified, join) = new_task(future, scheduler);
        let ptr = task.header_ptr();
        let mut shard = self.shard(ptr).lock();
        if shard.closed {
            drop(shard);
            task.shutdown();
            drop(notified);
            return (join, None);
        }
        task.header().owned_linked.set(true);
        // SAFETY: a new task is linked nowhere; the list's reference (held
        // by `task`, forgotten below) keeps it alive until removed.
        unsafe { shard.list.push_front(task.into_raw()) };
        drop(shard);
        (join, Some(notified))
    }

    /// Unlinks a completed task, returning the list's reference.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        let ptr = task.header_ptr();
        let mut shard = self.shard(ptr).lock();
        if !task.header().owned_linked.get() {
            return None;
        }
        task.header().owned_linked.set(false);
        // SAFETY: `owned_linked` says it is in this shard's list.
        unsafe { shard.list.remove(ptr) };
        // SAFETY: the list's reference is handed back to the caller.
        Some(unsafe { Task::from_raw(ptr) })
    }

    /// Closes every shard and cancels every task still linked.
    pub(crate) fn close_and_shutdown_all(&self) {
        for shard in self.shards.iter() {
            loop {
                let mut guard = shard.lock();
                guard.closed = true;
                let Some(ptr) = guard.list.pop_front() else {
                    break;
                };
                // SAFETY: linked nodes are live and hold the list's reference.
                unsafe { ptr.as_ref() }.owned_linked.set(false);
                drop(guard);
                // SAFETY: the list's reference moves into this handle.
                unsafe { Task::<S>::from_raw(ptr) }.shutdown();
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.lock().list.is_empty())
    }
}

impl<S> std::fmt::Debug for OwnedTasks<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedTasks")
            .field("shards", &self.shards.len())
            .finish()
    }
}
