//! An intrusive, doubly linked list of nodes that live elsewhere.
//!
//! Used wherever a waiter must be parked without an allocation: channel
//! senders and receivers, WaitGroup waiters, and the runtime's list of owned
//! tasks. The list never owns its nodes; it only stores pointers to them.
//!
//! **Invariant:** every access to a list and to the [`Pointers`] of the nodes
//! linked into it happens under one lock owned by the caller (the channel's
//! mutex, the WaitGroup's mutex, an owned-tasks shard). A node is linked into
//! at most one list at a time, and its owner unlinks it (under that lock)
//! before its memory is released. Node types embed `PhantomPinned`, so a
//! linked node never moves.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::{PhantomData, PhantomPinned};
use std::ptr::NonNull;

/// Describes how to find the [`Pointers`] inside a node type.
///
/// # Safety
///
/// `pointers` must return a pointer to a `Pointers` field that lives inside
/// `target` for as long as `target` does.
pub(crate) unsafe trait Link {
    /// The node type.
    type Target;

    /// Returns the links embedded in `target`.
    ///
    /// # Safety
    ///
    /// `target` must point to a live node.
    unsafe fn pointers(target: NonNull<Self::Target>) -> NonNull<Pointers<Self::Target>>;
}

/// The `prev`/`next` links embedded in a node.
pub(crate) struct Pointers<T> {
    inner: UnsafeCell<PointersInner<T>>,
}

struct PointersInner<T> {
    prev: Option<NonNull<T>>,
    next: Option<NonNull<T>>,
    /// Linked nodes must not move.
    _pin: PhantomPinned,
}

impl<T> Pointers<T> {
    pub(crate) const fn new() -> Pointers<T> {
        Pointers {
            inner: UnsafeCell::new(PointersInner {
                prev: None,
                next: None,
                _pin: PhantomPinned,
            }),
        }
    }
}

impl<T> fmt::Debug for Pointers<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pointers")
    }
}

// SAFETY: the raw pointers are only read or written under the lock that
// guards the list the node belongs to (module invariant).
unsafe impl<T: Send> Send for Pointers<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for Pointers<T> {}

/// # Safety
///
/// `node` must be live and the caller must hold the list's lock.
unsafe fn links<L: Link>(node: NonNull<L::Target>) -> *mut PointersInner<L::Target> {
    // SAFETY: the caller guarantees `node` is live.
    unsafe { L::pointers(node).as_ref().inner.get() }
}

/// The list head; see the module docs for the locking discipline.
pub(crate) struct LinkedList<L: Link> {
    head: Option<NonNull<L::Target>>,
    tail: Option<NonNull<L::Target>>,
    len: usize,
    _marker: PhantomData<*const L>,
}

// SAFETY: the list only holds pointers to nodes whose access is serialised by
// the lock the list itself lives under.
unsafe impl<L: Link> Send for LinkedList<L> where L::Target: Send {}
// SAFETY: as above.
unsafe impl<L: Link> Sync for LinkedList<L> where L::Target: Sync {}

impl<L: Link> LinkedList<L> {
    pub(crate) const fn new() -> LinkedList<L> {
        LinkedList {
            head: None,
            tail: None,
            len: 0,
            _marker: PhantomData,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    pub(crate) fn front(&self) -> Option<NonNull<L::Target>> {
        self.head
    }

    /// Links `node` at the back.
    ///
    /// # Safety
    ///
    /// `node` is live, not linked into any list, and stays put until removed.
    pub(crate) unsafe fn push_back(&mut self, node: NonNull<L::Target>) {
        // SAFETY: `node` is live (caller) and so is `tail` (list invariant).
        unsafe {
            let l = links::<L>(node);
            (*l).next = None;
            (*l).prev = self.tail;
            match self.tail {
                Some(tail) => (*links::<L>(tail)).next = Some(node),
                None => self.head = Some(node),
            }
        }
        self.tail = Some(node);
        self.len += 1;
    }

    /// Links `node` at the front.
    ///
    /// # Safety
    ///
    /// As for [`push_back`](Self::push_back).
    pub(crate) unsafe fn push_front(&mut self, node: NonNull<L::Target>) {
        // SAFETY: `node` is live (caller) and so is `head` (list invariant).
        unsafe {
            let l = links::<L>(node);
            (*l).prev = None;
            (*l).next = self.head;
            match self.head {
                Some(head) => (*links::<L>(head)).prev = Some(node),
                None => self.tail = Some(node),
            }
        }
        self.head = Some(node);
        self.len += 1;
    }

    /// Unlinks and returns the front node.
    pub(crate) fn pop_front(&mut self) -> Option<NonNull<L::Target>> {
        let head = self.head?;
        // SAFETY: `head` is linked here, hence live.
        unsafe { self.remove(head) };
        Some(head)
    }

    /// The node after `node`.
    ///
    /// # Safety
    ///
    /// `node` must be linked into this list.
    pub(crate) unsafe fn next_of(&self, node: NonNull<L::Target>) -> Option<NonNull<L::Target>> {
        // SAFETY: linked nodes are live.
        unsafe { (*links::<L>(node)).next }
    }

    /// Unlinks `node`.
    ///
    /// # Safety
    ///
    /// `node` must be linked into *this* list.
    pub(crate) unsafe fn remove(&mut self, node: NonNull<L::Target>) {
        // SAFETY: `node` and its neighbours are linked here, hence live.
        unsafe {
            let l = links::<L>(node);
            let (prev, next) = ((*l).prev.take(), (*l).next.take());
            match prev {
                Some(p) => (*links::<L>(p)).next = next,
                None => {
                    debug_assert_eq!(self.head, Some(node));
                    self.head = next;
                }
            }
            match next {
                Some(n) => (*links::<L>(n)).prev = prev,
                None => {
                    debug_assert_eq!(self.tail, Some(node));
                    self.tail = prev;
                }
            }
        }
        self.len -= 1;
    }
}

impl<L: Link> fmt::Debug for LinkedList<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkedList")
            .field("len", &self.len)
            .finish()
    }
}
