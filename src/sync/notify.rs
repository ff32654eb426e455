//! `Notify`: wake one waiting task, or all of them, with no data.
//!
//! Protocol: `state` packs a generation counter (bumped by every
//! `notify_waiters`) with one of `EMPTY`, `WAITING` (the queue is not
//! empty) or `NOTIFIED` (a stored permit, no waiters). `EMPTY` ↔ `NOTIFIED`
//! change by compare-and-swap without the lock; every change into or out of
//! `WAITING`, and every generation bump, happens under the `waiters` lock.
//!
//! * `notify_one` with waiters unlinks the **first** (FIFO), marks it
//!   `ONE` and wakes it; without waiters it stores the permit (at most one).
//! * `notify_waiters` unlinks and marks every queued waiter `ALL` and bumps
//!   the generation, so a [`Notified`] created earlier but not yet polled
//!   completes too; it stores no permit.
//! * A `Notified` takes the stored permit, or sees the generation moved
//!   since it was created, or links itself (checking both again under the
//!   lock). A linked one that is dropped after being marked `ONE` but before
//!   completing **passes the notification on** (to the next waiter, or as
//!   the stored permit), so dropping a notified future never loses it.
//!
//! A waiter's `notification` is written (with `Release`) by whoever unlinks
//! it, after its last access to the node.

use crate::chan::select::{ArmPicker, PickChannelArm, SelectArm, Token};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU8, AtomicUsize, Ordering::*};
use crate::loom::sync::{Mutex, MutexGuard};
use crate::runtime::coop;
use crate::util::linked_list::{Link, LinkedList, Pointers};
use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{ready, Context, Poll, Waker};

const EMPTY: usize = 0;
const WAITING: usize = 1;
const NOTIFIED: usize = 2;
const STATE_MASK: usize = 3;
const GEN_ONE: usize = 4;

/// Wakes tasks waiting for an event that carries no data.
///
/// [`notify_one`](Notify::notify_one) wakes the longest-waiting task, or,
/// if none waits, stores a permit that the next
/// [`notified`](Notify::notified) consumes at once (so a notification sent
/// just before the waiter arrives is not lost). At most one permit is
/// stored. [`notify_waiters`](Notify::notify_waiters) wakes every task
/// waiting right now, including `Notified` futures created but not yet
/// polled, and stores nothing.
///
/// ```
/// use std::sync::Arc;
/// use stevedore::sync::Notify;
///
/// # stevedore::Runtime::new().unwrap().block_on(async {
/// let ready = Arc::new(Notify::new());
/// let waiter = {
///     let ready = ready.clone();
///     stevedore::spawn(async move {
///         ready.notified().await;
///         "woken"
///     })
/// };
/// ready.notify_one(); // stored if the waiter is not there yet
/// assert_eq!(waiter.await.unwrap(), "woken");
/// # });
/// ```
pub struct Notify {
    /// Generation << 2 | `EMPTY`/`WAITING`/`NOTIFIED`; see the module docs.
    state: AtomicUsize,
    waiters: Mutex<LinkedList<WaiterLink>>,
}

const NONE: u8 = 0;
const ONE: u8 = 1;
const ALL: u8 = 2;

struct Waiter {
    pointers: Pointers<Waiter>,
    /// `NONE` while linked; `ONE`/`ALL` once unlinked by a notifier.
    notification: AtomicU8,
    /// Under the lock while linked.
    waker: UnsafeCell<Option<Waker>>,
    _pin: PhantomPinned,
}

struct WaiterLink;

// SAFETY: `pointers` is a field of the node.
unsafe impl Link for WaiterLink {
    type Target = Waiter;

    unsafe fn pointers(target: NonNull<Waiter>) -> NonNull<Pointers<Waiter>> {
        // SAFETY: the caller guarantees `target` is live.
        unsafe { NonNull::from(&target.as_ref().pointers) }
    }
}

// SAFETY: the waker cell is only touched under the lock while linked.
unsafe impl Send for Waiter {}
// SAFETY: as above.
unsafe impl Sync for Waiter {}

impl Notify {
    /// A `Notify` with no stored permit.
    pub fn new() -> Notify {
        Notify {
            state: AtomicUsize::new(EMPTY),
            waiters: Mutex::new(LinkedList::new()),
        }
    }

    /// A future that completes on the next notification; see the type
    /// docs. It takes part in [`notify_waiters`](Notify::notify_waiters)
    /// from the moment it is created.
    ///
    /// Awaiting it spends the task's cooperative budget when it completes
    /// without waiting (a stored permit).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a `Notified` dropped after `notify_one` picked it but
    /// before it completed hands that notification to the next waiter (or
    /// stores it as the permit).
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            phase: Phase::Init,
            took_one: false,
            generation: self.state.load(SeqCst) & !STATE_MASK,
            waiter: Waiter {
                pointers: Pointers::new(),
                notification: AtomicU8::new(NONE),
                waker: UnsafeCell::new(None),
                _pin: PhantomPinned,
            },
        }
    }

    /// Wakes the longest-waiting task, or stores a permit for the next
    /// `notified()` if none waits (a permit already stored stays one).
    pub fn notify_one(&self) {
        let mut cur = self.state.load(SeqCst);
        while cur & STATE_MASK != WAITING {
            let new = (cur & !STATE_MASK) | NOTIFIED;
            match self.state.compare_exchange(cur, new, SeqCst, SeqCst) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        let list = self.waiters.lock();
        self.notify_one_locked(list);
    }

    /// `notify_one` with the lock held (consumed, and dropped before the
    /// wake).
    fn notify_one_locked(&self, mut list: MutexGuard<'_, LinkedList<WaiterLink>>) {
        let cur = self.state.load(SeqCst);
        if cur & STATE_MASK != WAITING {
            // EMPTY or NOTIFIED: store the permit. Only EMPTY <-> NOTIFIED
            // can change outside the lock, so a swap is enough.
            self.state.store((cur & !STATE_MASK) | NOTIFIED, SeqCst);
            return;
        }
        let node = list.pop_front().expect("WAITING with an empty queue");
        if list.is_empty() {
            self.state.store(cur & !STATE_MASK, SeqCst);
        }
        // SAFETY: the node was linked, hence live; we hold the lock. After
        // the `ONE` store we never touch it again.
        let waker = unsafe {
            let w = node.as_ref();
            let waker = w.waker.with_mut(|p| (*p).take());
            w.notification.store(ONE, Release);
            waker
        };
        drop(list);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wakes every task waiting now (and every [`Notified`] created before
    /// this call), storing no permit.
    pub fn notify_waiters(&self) {
        let mut list = self.waiters.lock();
        let mut cur = self.state.load(SeqCst);
        loop {
            let keep = match cur & STATE_MASK {
                WAITING => EMPTY,
                s => s,
            };
            let new = (cur & !STATE_MASK).wrapping_add(GEN_ONE) | keep;
            match self.state.compare_exchange(cur, new, SeqCst, SeqCst) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        let mut wakers = Vec::new();
        while let Some(node) = list.pop_front() {
            // SAFETY: linked, hence live; under the lock; not touched after
            // the `ALL` store.
            unsafe {
                let w = node.as_ref();
                wakers.extend(w.waker.with_mut(|p| (*p).take()));
                w.notification.store(ALL, Release);
            }
        }
        drop(list);
        for w in wakers {
            w.wake();
        }
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.load(SeqCst);
        f.debug_struct("Notify")
            .field("permit", &(s & STATE_MASK == NOTIFIED))
            .field("waiting", &(s & STATE_MASK == WAITING))
            .finish()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Not linked yet.
    Init,
    /// Linked (or unlinked by a notifier, not yet seen).
    Waiting,
    /// Completed.
    Done,
}

/// Future returned by [`Notify::notified`].
///
/// In [`select!`](crate::select) it completes only if it wins: one that
/// took a `notify_one` (or the stored permit) just as another arm won
/// passes it on, as a dropped `Notified` does.
#[must_use = "futures do nothing unless awaited"]
pub struct Notified<'a> {
    notify: &'a Notify,
    phase: Phase,
    /// Completed by taking a single notification (`notify_one` or the
    /// stored permit), as opposed to `notify_waiters`.
    took_one: bool,
    /// The generation when this future was created.
    generation: usize,
    waiter: Waiter,
}

impl Notified<'_> {
    /// Registers this future as a waiter without awaiting it, so a
    /// `notify_one` from now on may pick it; returns true if it is already
    /// notified. Use it to check a condition after registering, without a
    /// window where a notification could be missed.
    ///
    /// ```
    /// use std::pin::pin;
    /// use stevedore::sync::Notify;
    ///
    /// # stevedore::Runtime::new().unwrap().block_on(async {
    /// let notify = Notify::new();
    /// let mut wait = pin!(notify.notified());
    /// assert!(!wait.as_mut().enable());
    /// notify.notify_one(); // goes to the enabled future, not a permit
    /// wait.await;
    /// # });
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        // SAFETY: the waiter is never moved out of the pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        this.poll_inner(None).is_ready()
    }

    fn poll_inner(&mut self, waker: Option<&Waker>) -> Poll<()> {
        let notify = self.notify;
        match self.phase {
            Phase::Done => return Poll::Ready(()),
            Phase::Init => {
                let cur = notify.state.load(SeqCst);
                if self.take_permit_or_generation(cur) {
                    self.phase = Phase::Done;
                    return Poll::Ready(());
                }
            }
            Phase::Waiting => {
                if self.observe_notification() {
                    return Poll::Ready(());
                }
            }
        }
        let list = notify.waiters.lock();
        match self.phase {
            Phase::Waiting => {
                if self.observe_notification() {
                    return Poll::Ready(());
                }
                if let Some(waker) = waker {
                    // SAFETY: linked, under the lock.
                    self.waiter.waker.with_mut(|p| unsafe {
                        match &mut *p {
                            Some(old) if old.will_wake(waker) => {}
                            slot => *slot = Some(waker.clone()),
                        }
                    });
                }
                Poll::Pending
            }
            _ => self.link(list, waker),
        }
    }

    /// `Waiting`: true (and `Done`) once a notifier unlinked us.
    fn observe_notification(&mut self) -> bool {
        match self.waiter.notification.load(Acquire) {
            NONE => false,
            n => {
                self.took_one = n == ONE;
                self.phase = Phase::Done;
                true
            }
        }
    }

    /// Consumes the stored permit, or sees a newer generation.
    fn take_permit_or_generation(&mut self, mut cur: usize) -> bool {
        loop {
            if cur & !STATE_MASK != self.generation {
                return true;
            }
            if cur & STATE_MASK != NOTIFIED {
                return false;
            }
            let new = cur & !STATE_MASK; // EMPTY
            match self.notify.state.compare_exchange(cur, new, SeqCst, SeqCst) {
                Ok(_) => {
                    self.took_one = true;
                    return true;
                }
                Err(actual) => cur = actual,
            }
        }
    }

    fn link(
        &mut self,
        mut list: MutexGuard<'_, LinkedList<WaiterLink>>,
        waker: Option<&Waker>,
    ) -> Poll<()> {
        let notify = self.notify;
        let mut cur = notify.state.load(SeqCst);
        loop {
            if self.take_permit_or_generation(cur) {
                self.phase = Phase::Done;
                return Poll::Ready(());
            }
            // EMPTY or WAITING at our generation: move to WAITING.
            let new = (cur & !STATE_MASK) | WAITING;
            match notify.state.compare_exchange(cur, new, SeqCst, SeqCst) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        // SAFETY: not linked yet: only we can see the cell.
        self.waiter
            .waker
            .with_mut(|p| unsafe { *p = waker.cloned() });
        // SAFETY: the future is pinned (`PhantomPinned`) and unlinks the
        // node in `drop`; we hold the list's lock.
        unsafe { list.push_back(NonNull::from(&self.waiter)) };
        self.phase = Phase::Waiting;
        Poll::Pending
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the waiter is never moved out of the pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        if this.phase == Phase::Done {
            return Poll::Ready(());
        }
        ready!(coop::poll_proceed(cx));
        let waited = this.phase == Phase::Waiting;
        ready!(this.poll_inner(Some(cx.waker())));
        if !waited {
            coop::consume();
        }
        Poll::Ready(())
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if self.phase != Phase::Waiting {
            return;
        }
        let notify = self.notify;
        let mut list = notify.waiters.lock();
        match self.waiter.notification.load(Acquire) {
            NONE => {
                // SAFETY: `NONE` while in `Waiting` means linked in this
                // list; we hold its lock.
                unsafe { list.remove(NonNull::from(&self.waiter)) };
                if list.is_empty() {
                    let cur = notify.state.load(SeqCst);
                    if cur & STATE_MASK == WAITING {
                        notify.state.store(cur & !STATE_MASK, SeqCst);
                    }
                }
            }
            // Picked by `notify_one` but never completed: pass it on.
            ONE => notify.notify_one_locked(list),
            _ => {}
        }
    }
}

impl<'a> PickChannelArm for ArmPicker<Notified<'a>> {
    type Arm = Notified<'a>;
    fn pick(&self) -> Self::Arm {
        self.take()
    }
}

impl SelectArm for Notified<'_> {
    type Output = ();

    unsafe fn poll_arm(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        token: &Token,
        arm: usize,
    ) -> Poll<()> {
        // Polled even if another arm just won: what it takes is put back
        // below, so nothing is lost either way.
        ready!(self.as_mut().poll(cx));
        if token.try_claim(arm) {
            return Poll::Ready(());
        }
        // Lost the select after taking a single notification: pass it on.
        // SAFETY: only a plain field is touched; nothing is moved.
        let this = unsafe { self.get_unchecked_mut() };
        if std::mem::take(&mut this.took_one) {
            this.notify.notify_one();
        }
        Poll::Pending
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}
