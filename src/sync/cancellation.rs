//! `CancellationToken`: a cancel signal shared by a tree of tasks.
//!
//! Each token handle points at a node; clones share it. A node holds a
//! strong reference to its parent and a **weak** one to each child, in a
//! slab under the node's lock, so:
//!
//! * cancelling walks down through the live children (an explicit stack,
//!   not recursion, so a deep chain cannot overflow the stack);
//! * a child never keeps its parent from being cancelled or freed
//!   wrongly, and a parent never keeps a dropped child alive;
//! * a node that is freed (its last handle and last child gone) removes its
//!   slab entry from the parent, so a long-lived parent does not accumulate
//!   dead children.
//!
//! `cancelled` is set under the node's lock, and children are linked under
//! it too: a child is either linked before the cancel (and found by it) or
//! sees the parent cancelled when it is created (and starts cancelled).
//! Waiters use a [`Notify`]: `cancelled()` creates its `Notified` first and
//! checks the flag second, and `cancel` sets the flag first and calls
//! `notify_waiters` second, so no wake-up falls in between.

use super::notify::{Notified, Notify};
use crate::loom::sync::atomic::{AtomicBool, Ordering::*};
use crate::loom::sync::Mutex;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

/// A signal to stop, for one task or a whole tree of them.
///
/// [`cancel`](CancellationToken::cancel) is sticky and wakes every
/// [`cancelled`](CancellationToken::cancelled) future. Clones share the
/// signal; [`child_token`](CancellationToken::child_token) makes a token
/// that is cancelled along with its parent (but can also be cancelled on
/// its own, without touching the parent). It works in [`select!`]:
///
/// [`select!`]: crate::select
///
/// ```
/// use std::time::Duration;
/// use stevedore::{chan, select, sync::CancellationToken};
///
/// # stevedore::Runtime::new().unwrap().block_on(async {
/// let token = CancellationToken::new();
/// let (tx, rx) = chan::bounded::<u32>(8);
/// let worker = {
///     let token = token.child_token();
///     stevedore::spawn(async move {
///         let mut seen = 0;
///         loop {
///             select! {
///                 _ = token.cancelled() => return seen,
///                 v = rx.recv() => match v {
///                     Some(_) => seen += 1,
///                     None => return seen,
///                 },
///             }
///         }
///     })
/// };
/// tx.send(1).await.unwrap();
/// tx.send(2).await.unwrap();
/// while !tx.is_empty() {
///     stevedore::time::sleep(Duration::from_millis(1)).await;
/// }
/// token.cancel(); // the parent: the worker's child token follows
/// assert!(worker.await.unwrap() <= 2);
/// # });
/// ```
#[derive(Clone)]
pub struct CancellationToken {
    node: Arc<Node>,
}

struct Node {
    /// Set once, under `inner`; read without it.
    cancelled: AtomicBool,
    /// The parent and this node's slot in its children (fixed at
    /// creation; `None` for a root, or a child born cancelled).
    parent: Option<(Arc<Node>, usize)>,
    inner: Mutex<Children>,
    notify: Notify,
}

/// A slab of weak child references.
#[derive(Default)]
struct Children {
    slots: Vec<Option<Weak<Node>>>,
    free: Vec<usize>,
}

impl Children {
    fn insert(&mut self, child: Weak<Node>) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(child);
                i
            }
            None => {
                self.slots.push(Some(child));
                self.slots.len() - 1
            }
        }
    }

    fn remove(&mut self, i: usize) {
        if let Some(slot @ Some(_)) = self.slots.get_mut(i) {
            *slot = None;
            self.free.push(i);
        }
        // Keep the slab from staying large after a burst of children.
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
            let len = self.slots.len();
            self.free.retain(|&f| f < len);
        }
    }

    fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Unlink from the parent; if this was the parent's last reference,
        // unlink the parent too, in a loop rather than by recursive drops
        // (a long chain of nodes must not overflow the stack).
        let mut next = self.parent.take();
        while let Some((parent, slot)) = next {
            parent.inner.lock().remove(slot);
            next = match Arc::try_unwrap(parent) {
                Ok(mut node) => node.parent.take(),
                Err(_) => None,
            };
        }
    }
}

impl CancellationToken {
    /// A new, uncancelled root token.
    pub fn new() -> CancellationToken {
        CancellationToken {
            node: Arc::new(Node {
                cancelled: AtomicBool::new(false),
                parent: None,
                inner: Mutex::new(Children::default()),
                notify: Notify::new(),
            }),
        }
    }

    /// A token cancelled whenever this one is (and cancellable on its own,
    /// which does not affect this one). A child of a cancelled token is
    /// cancelled from the start.
    pub fn child_token(&self) -> CancellationToken {
        let parent = &self.node;
        let mut children = parent.inner.lock();
        if parent.cancelled.load(Acquire) {
            drop(children);
            let token = CancellationToken::new();
            token.node.cancelled.store(true, Release);
            return token;
        }
        let node = Arc::new_cyclic(|weak| {
            let slot = children.insert(weak.clone());
            Node {
                cancelled: AtomicBool::new(false),
                parent: Some((parent.clone(), slot)),
                inner: Mutex::new(Children::default()),
                notify: Notify::new(),
            }
        });
        drop(children);
        CancellationToken { node }
    }

    /// Cancels this token and every token below it, waking all their
    /// `cancelled()` futures. Later calls do nothing.
    pub fn cancel(&self) {
        let mut stack = vec![self.node.clone()];
        while let Some(node) = stack.pop() {
            let children = node.inner.lock();
            if node.cancelled.load(Acquire) {
                continue;
            }
            node.cancelled.store(true, Release);
            stack.extend(children.slots.iter().flatten().filter_map(Weak::upgrade));
            drop(children);
            node.notify.notify_waiters();
        }
    }

    /// True once this token (or an ancestor) was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.node.cancelled.load(Acquire)
    }

    /// Completes once the token is cancelled (at once if it already is).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only observes the token, so it can be recreated in
    /// every turn of a `select!` loop.
    pub fn cancelled(&self) -> WaitForCancellation<'_> {
        WaitForCancellation {
            notified: self.node.notify.notified(),
            token: self,
        }
    }

    /// [`cancelled`](CancellationToken::cancelled), owning the token (for a
    /// `'static` future).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn cancelled_owned(self) {
        self.cancelled().await
    }

    /// Runs `fut` until it completes (`Some(output)`) or the token is
    /// cancelled (`None`, and `fut` is dropped). Cancellation wins if both
    /// are ready.
    ///
    /// ```
    /// use stevedore::sync::CancellationToken;
    ///
    /// # stevedore::Runtime::new().unwrap().block_on(async {
    /// let token = CancellationToken::new();
    /// assert_eq!(token.run_until_cancelled(async { 5 }).await, Some(5));
    /// token.cancel();
    /// assert_eq!(token.run_until_cancelled(std::future::pending::<u32>()).await, None);
    /// # });
    /// ```
    ///
    /// # Cancel safety
    ///
    /// As cancel safe as `fut`.
    pub async fn run_until_cancelled<F: Future>(&self, fut: F) -> Option<F::Output> {
        let mut cancelled = std::pin::pin!(self.cancelled());
        let mut fut = std::pin::pin!(fut);
        std::future::poll_fn(|cx| {
            if cancelled.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            fut.as_mut().poll(cx).map(Some)
        })
        .await
    }

    /// A guard that cancels the token when dropped (unless
    /// [`disarm`](DropGuard::disarm)ed): ties a token to a scope.
    pub fn drop_guard(self) -> DropGuard {
        DropGuard { token: Some(self) }
    }

    /// How many live child tokens this one has (for leak checks).
    #[doc(hidden)]
    pub fn __child_count(&self) -> usize {
        self.node.inner.lock().live()
    }
}

impl Default for CancellationToken {
    fn default() -> CancellationToken {
        CancellationToken::new()
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("is_cancelled", &self.is_cancelled())
            .finish()
    }
}

/// Future returned by [`CancellationToken::cancelled`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitForCancellation<'a> {
    token: &'a CancellationToken,
    notified: Notified<'a>,
}

impl Future for WaitForCancellation<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: `notified` is structurally pinned: it is never moved out,
        // and `WaitForCancellation` has no `Drop` of its own.
        let this = unsafe { self.get_unchecked_mut() };
        if this.token.is_cancelled() {
            return Poll::Ready(());
        }
        // SAFETY: as above.
        let notified = unsafe { Pin::new_unchecked(&mut this.notified) };
        // Only `notify_waiters` (from `cancel`) completes it.
        notified.poll(cx)
    }
}

impl fmt::Debug for WaitForCancellation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitForCancellation")
            .field("is_cancelled", &self.token.is_cancelled())
            .finish()
    }
}

/// Cancels its token when dropped; see [`CancellationToken::drop_guard`].
#[must_use = "dropping the guard cancels the token at once"]
pub struct DropGuard {
    token: Option<CancellationToken>,
}

impl DropGuard {
    /// Gives the token back without cancelling it.
    pub fn disarm(mut self) -> CancellationToken {
        self.token.take().expect("present until drop or disarm")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(t) = &self.token {
            t.cancel();
        }
    }
}

impl fmt::Debug for DropGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropGuard")
            .field("token", &self.token)
            .finish()
    }
}
