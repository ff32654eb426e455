//! The single allocation behind every task.
//!
//! ```text
//! Cell<F, S> (repr(C), one heap allocation)
//! ┌────────────────────────────────────────────┐
//! │ Header   state word, vtable, owned-list links│ ← every raw pointer points here
//! │ Core     scheduler handle S, Stage<F>        │
//! │ Trailer  join waker slot                      │
//! └────────────────────────────────────────────┘
//! ```
//!
//! Type-erased code (wakers, `JoinHandle<T>`, run queues) holds a
//! `NonNull<Header>` and reaches the typed parts through the [`Vtable`].

use super::error::JoinError;
use super::state::State;
use super::Schedule;
use crate::loom::cell::UnsafeCell;
use crate::util::linked_list::Pointers;
use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    /// Links in the runtime's owned-tasks list. Guarded by the shard lock the
    /// task hashes to; `owned_linked` says whether the task is in that list.
    pub(crate) owned: Pointers<Header>,
    pub(crate) owned_linked: std::cell::Cell<bool>,
    /// Which owned-tasks list holds the task: a worker index,
    /// `list::OWNER_REMOTE` or `list::OWNER_NONE`. Fixed at creation.
    pub(crate) owner: u32,
    /// Link in the owner's stack of tasks completed on other threads;
    /// written by the pushing thread before it publishes the task.
    pub(crate) completed_next: UnsafeCell<*mut Header>,
}

// SAFETY: `state` is atomic; `owned`/`owned_linked` are only touched by the
// owner of the owned-tasks list the task is in (see `list.rs`); `vtable` and
// `owner` are immutable.
unsafe impl Send for Header {}
// SAFETY: as above.
unsafe impl Sync for Header {}

/// The typed operations on a type-erased task.
pub(crate) struct Vtable {
    pub(crate) poll: unsafe fn(NonNull<Header>),
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    pub(crate) drop_join_handle_slow: unsafe fn(NonNull<Header>),
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
}

#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    pub(crate) header: Header,
    pub(crate) core: Core<F, S>,
    pub(crate) trailer: Trailer,
}

pub(crate) struct Core<F: Future, S> {
    pub(crate) scheduler: S,
    /// Owned by whoever holds `RUNNING`, or — once `COMPLETE` — by the output
    /// owner decided in `state.rs`.
    pub(crate) stage: UnsafeCell<Stage<F>>,
}

pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

pub(crate) struct Trailer {
    /// Written by the `JoinHandle` while `JOIN_WAKER` is clear; read by the
    /// completing thread when it was set at completion (see `state.rs`).
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
}

impl<F: Future + Send + 'static, S: Schedule> Cell<F, S>
where
    F::Output: Send + 'static,
{
    /// Allocates the cell and writes the future straight into it (building
    /// the whole struct first would copy a large future several times).
    #[inline(always)]
    pub(crate) fn new(future: F, scheduler: S, owner: u32) -> Box<Cell<F, S>> {
        let mut cell = Box::<Cell<F, S>>::new_uninit();
        let p = cell.as_mut_ptr();
        // SAFETY: `p` points to an allocation for a `Cell<F, S>`; each field
        // is written exactly once before `assume_init`.
        unsafe {
            std::ptr::addr_of_mut!((*p).header).write(Header {
                state: State::new(),
                vtable: vtable::<F, S>(),
                owned: Pointers::new(),
                owned_linked: std::cell::Cell::new(false),
                owner,
                completed_next: UnsafeCell::new(std::ptr::null_mut()),
            });
            std::ptr::addr_of_mut!((*p).core.scheduler).write(scheduler);
            std::ptr::addr_of_mut!((*p).core.stage).write(UnsafeCell::new(Stage::Running(future)));
            std::ptr::addr_of_mut!((*p).trailer).write(Trailer {
                join_waker: UnsafeCell::new(None),
            });
            cell.assume_init()
        }
    }
}

struct VtableFor<F, S>(std::marker::PhantomData<(F, S)>);

impl<F: Future + Send + 'static, S: Schedule> VtableFor<F, S>
where
    F::Output: Send + 'static,
{
    const VTABLE: Vtable = Vtable {
        poll: super::harness::poll::<F, S>,
        schedule: super::harness::schedule::<F, S>,
        dealloc: super::harness::dealloc::<F, S>,
        try_read_output: super::harness::try_read_output::<F, S>,
        drop_join_handle_slow: super::harness::drop_join_handle_slow::<F, S>,
        shutdown: super::harness::shutdown::<F, S>,
    };
}

fn vtable<F: Future + Send + 'static, S: Schedule>() -> &'static Vtable
where
    F::Output: Send + 'static,
{
    &VtableFor::<F, S>::VTABLE
}

impl Trailer {
    /// # Safety
    ///
    /// The caller must own the join waker slot (see `state.rs`).
    pub(crate) unsafe fn set_waker(&self, waker: Option<Waker>) {
        // SAFETY: exclusive access per the caller's contract.
        self.join_waker.with_mut(|p| unsafe { *p = waker });
    }

    /// # Safety
    ///
    /// The caller must be allowed to read the join waker slot.
    pub(crate) unsafe fn will_wake(&self, waker: &Waker) -> bool {
        // SAFETY: per the caller's contract nobody writes concurrently.
        self.join_waker.with(|p| unsafe {
            (*p).as_ref()
                .expect("JOIN_WAKER set without a waker")
                .will_wake(waker)
        })
    }

    /// # Safety
    ///
    /// `JOIN_WAKER` was set when `COMPLETE` was set.
    pub(crate) unsafe fn wake_join(&self) {
        // SAFETY: the JoinHandle no longer writes the slot (see `state.rs`).
        self.join_waker.with(|p| unsafe {
            if let Some(w) = (*p).as_ref() {
                w.wake_by_ref();
            }
        })
    }
}
