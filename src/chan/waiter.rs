//! Waiter nodes: a blocked send or receive, embedded in its (pinned) future
//! and linked into the channel's queue. No allocation per blocked operation.
//!
//! ```text
//!   IDLE ──(try failed, linked under the lock)──► WAITING
//!   WAITING ──(peer completed it: value moved in/out)──► DONE
//!   WAITING ──(channel closed)──► CLOSED
//!   WAITING ──(its select already chose another arm)──► LOST
//!   DONE / CLOSED / LOST ──(future re-arms, select only)──► IDLE
//! ```
//!
//! **Ownership.** While `WAITING`, every field but `state` belongs to the
//! channel and is touched only under the channel lock. The thread that moves
//! the node out of `WAITING` does so under the lock, after unlinking it and
//! after writing `slot`, with a `Release` store; from then on the fields
//! belong to the future again (it reads `state` with `Acquire`).
//!
//! **Select.** A node may carry a [`SelectRef`]: the token shared by all arms
//! of one `select!`. Completing such a node first claims the token for the
//! node's arm; if another arm already won, the node is unlinked as `LOST`
//! (and its task woken) instead. So at most one arm of a select ever takes
//! effect, and no value is handed to an arm that will not be used.

use super::select::SelectRef;
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU8, Ordering::*};
use crate::util::linked_list::{Link, LinkedList, Pointers};
use std::marker::PhantomPinned;
use std::ptr::NonNull;
use std::task::Waker;

pub(super) const IDLE: u8 = 0;
pub(super) const WAITING: u8 = 1;
pub(super) const DONE: u8 = 2;
pub(super) const CLOSED: u8 = 3;
pub(super) const LOST: u8 = 4;

pub(super) struct Waiter<T> {
    pointers: Pointers<Waiter<T>>,
    state: AtomicU8,
    waker: UnsafeCell<Option<Waker>>,
    /// Send: the value to deliver. Receive: the value delivered.
    slot: UnsafeCell<Option<T>>,
    /// Fixed before the node is first linked.
    select: UnsafeCell<Option<SelectRef>>,
    _pin: PhantomPinned,
}

// SAFETY: the cells are handed between threads under the channel lock or
// through the Release/Acquire `state` protocol described above; `T: Send`
// is all that crosses threads.
unsafe impl<T: Send> Send for Waiter<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Waiter<T> {}

pub(super) struct WaiterLink<T>(std::marker::PhantomData<T>);

// SAFETY: `pointers` is a field of the node.
unsafe impl<T> Link for WaiterLink<T> {
    type Target = Waiter<T>;

    unsafe fn pointers(target: NonNull<Waiter<T>>) -> NonNull<Pointers<Waiter<T>>> {
        // SAFETY: the caller guarantees `target` is live.
        unsafe { NonNull::from(&target.as_ref().pointers) }
    }
}

pub(super) type Queue<T> = LinkedList<WaiterLink<T>>;

impl<T> Waiter<T> {
    pub(super) fn new() -> Waiter<T> {
        Waiter {
            pointers: Pointers::new(),
            state: AtomicU8::new(IDLE),
            waker: UnsafeCell::new(None),
            slot: UnsafeCell::new(None),
            select: UnsafeCell::new(None),
            _pin: PhantomPinned,
        }
    }

    /// A send waiter holding `value`, not linked.
    pub(super) fn with_value(value: T) -> Waiter<T> {
        let w = Waiter::new();
        w.put_slot(value);
        w
    }

    pub(super) fn state(&self) -> u8 {
        self.state.load(Acquire)
    }

    /// Owner side (not linked): back to `IDLE` for another attempt.
    pub(super) fn reset(&self) {
        self.state.store(IDLE, Relaxed);
    }

    /// Owner side. Only changes anything while the node is not linked: a
    /// linked node's select reference is fixed (and always the same value,
    /// since an arm keeps its index and token).
    pub(super) fn set_select(&self, sel: Option<SelectRef>) {
        if self.state.load(Acquire) != WAITING {
            // SAFETY: not linked: the owner has the field.
            self.select.with_mut(|p| unsafe { *p = sel });
        }
    }

    pub(super) fn select(&self) -> Option<SelectRef> {
        // SAFETY: written only by the owner while no one else reads (above).
        self.select.with(|p| unsafe { *p })
    }

    /// Owner side, when not linked.
    pub(super) fn put_slot(&self, value: T) {
        // SAFETY: not linked, so the owner has the fields.
        self.slot.with_mut(|p| unsafe { *p = Some(value) });
    }

    /// Owner side, when not linked (IDLE, or after DONE/CLOSED/LOST).
    pub(super) fn take_slot(&self) -> Option<T> {
        // SAFETY: not linked, so the owner has the fields.
        self.slot.with_mut(|p| unsafe { (*p).take() })
    }

    /// Links the node (under the channel lock) with `value` in its slot.
    ///
    /// # Safety
    ///
    /// The node is `IDLE`, pinned, and the caller holds the lock of the
    /// channel that owns `queue`; the owner unlinks it before it is dropped.
    pub(super) unsafe fn link(&self, queue: &mut Queue<T>, value: Option<T>, waker: &Waker) {
        // SAFETY: not yet linked: we own the fields.
        self.slot.with_mut(|p| unsafe { *p = value });
        // SAFETY: as above.
        self.waker.with_mut(|p| unsafe { *p = Some(waker.clone()) });
        self.state.store(WAITING, Relaxed);
        // SAFETY: the caller guarantees pinning and lock ownership.
        unsafe { queue.push_back(NonNull::from(self)) };
    }

    /// Refreshes the waker of a `WAITING` node.
    ///
    /// # Safety
    ///
    /// Caller holds the channel lock and the node is `WAITING`.
    pub(super) unsafe fn update_waker(&self, waker: &Waker) {
        // SAFETY: under the lock while WAITING.
        self.waker.with_mut(|p| unsafe {
            match &mut *p {
                Some(w) if w.will_wake(waker) => {}
                slot => *slot = Some(waker.clone()),
            }
        });
    }

    /// Unlinks a `WAITING` node whose future is going away.
    ///
    /// # Safety
    ///
    /// Caller holds the channel lock and the node is linked in `queue`.
    pub(super) unsafe fn unlink(&self, queue: &mut Queue<T>) {
        // SAFETY: forwarded contract.
        unsafe { queue.remove(NonNull::from(self)) };
        self.state.store(IDLE, Relaxed);
        // SAFETY: unlinked: we own the fields again.
        self.waker.with_mut(|p| unsafe { *p = None });
    }
}

/// Wakers collected under a lock, woken after it is released.
pub(super) struct WakeList {
    inline: [Option<Waker>; 4],
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    pub(super) fn new() -> WakeList {
        WakeList {
            inline: [None, None, None, None],
            len: 0,
            spill: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, w: Option<Waker>) {
        let Some(w) = w else { return };
        if self.len < self.inline.len() {
            self.inline[self.len] = Some(w);
            self.len += 1;
        } else {
            self.spill.push(w);
        }
    }

    pub(super) fn wake_all(mut self) {
        for w in self.inline[..self.len].iter_mut() {
            if let Some(w) = w.take() {
                w.wake();
            }
        }
        for w in self.spill.drain(..) {
            w.wake();
        }
    }
}

/// How a node left `WAITING`.
pub(super) enum Finish<T> {
    /// Completed: for a send the slot was emptied, for a receive filled.
    Done(Option<T>),
    Closed,
}

/// Moves a linked node out of `WAITING` (under the lock): writes the slot,
/// collects the waker, publishes the new state.
///
/// # Safety
///
/// Caller holds the channel lock and `node` is linked in `queue`.
pub(super) unsafe fn finish<T>(
    queue: &mut Queue<T>,
    node: NonNull<Waiter<T>>,
    how: Finish<T>,
    wakers: &mut WakeList,
) -> Option<T> {
    // SAFETY: linked nodes are live (their futures unlink before dropping).
    let w = unsafe { node.as_ref() };
    // SAFETY: forwarded contract.
    unsafe { queue.remove(node) };
    // SAFETY: under the lock while WAITING.
    wakers.push(w.waker.with_mut(|p| unsafe { (*p).take() }));
    let (taken, state) = match how {
        Finish::Done(value) => {
            // Receive: `value` is Some and goes in; send: the slot comes out.
            // SAFETY: under the lock while WAITING.
            let prev = w
                .slot
                .with_mut(|p| unsafe { std::mem::replace(&mut *p, value) });
            (prev, DONE)
        }
        Finish::Closed => (None, CLOSED),
    };
    w.state.store(state, Release);
    taken
}

/// Unlinks `node` as `LOST` (its select chose another arm) and wakes it.
///
/// # Safety
///
/// As for [`finish`].
unsafe fn lose<T>(queue: &mut Queue<T>, node: NonNull<Waiter<T>>, wakers: &mut WakeList) {
    // SAFETY: forwarded contract.
    let w = unsafe { node.as_ref() };
    // SAFETY: forwarded contract.
    unsafe { queue.remove(node) };
    // SAFETY: under the lock while WAITING.
    wakers.push(w.waker.with_mut(|p| unsafe { (*p).take() }));
    w.state.store(LOST, Release);
}

/// Finds the first node in `queue` that may be completed now: nodes of our
/// own select are skipped over (a select never pairs with itself); nodes
/// whose select already decided are unlinked as `LOST`; a node in a select is
/// claimed for its arm. The returned node is still linked.
///
/// # Safety
///
/// Caller holds the channel lock that owns `queue`.
pub(super) unsafe fn claim_peer<T>(
    queue: &mut Queue<T>,
    own: Option<SelectRef>,
    wakers: &mut WakeList,
) -> Option<NonNull<Waiter<T>>> {
    let mut cur = queue.front();
    while let Some(node) = cur {
        // SAFETY: `node` is linked, hence live; under the lock.
        let next = unsafe { queue.next_of(node) };
        // SAFETY: as above.
        let sel = unsafe { node.as_ref() }.select();
        match sel {
            None => return Some(node),
            Some(s) if own.is_some_and(|o| o.same_select(&s)) => {}
            Some(s) => {
                if s.claim() {
                    return Some(node);
                }
                // SAFETY: linked in `queue`, under its lock.
                unsafe { lose(queue, node, wakers) };
            }
        }
        cur = next;
    }
    None
}

/// Completes every node of `queue` as `CLOSED` (or `LOST`).
///
/// # Safety
///
/// Caller holds the channel lock that owns `queue`.
pub(super) unsafe fn close_all<T>(queue: &mut Queue<T>, wakers: &mut WakeList) {
    while let Some(node) = queue.front() {
        // SAFETY: linked, hence live; under the lock.
        let sel = unsafe { node.as_ref() }.select();
        match sel {
            Some(s) if !s.claim() => {
                // SAFETY: linked in `queue`, under its lock.
                unsafe { lose(queue, node, wakers) }
            }
            _ => {
                // SAFETY: as above.
                unsafe { finish(queue, node, Finish::Closed, wakers) };
            }
        }
    }
}
