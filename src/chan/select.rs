//! Runtime support for [`select!`](crate::select): the token that makes at
//! most one arm take effect, and the arm adapters the macro builds.
//!
//! Protocol:
//!
//! 1. The arms are polled in a fresh random order (Go's uniform choice among
//!    ready cases). A channel arm either completes on the spot — after
//!    claiming the token for itself under that channel's lock — or links a
//!    waiter carrying a `SelectRef`.
//! 2. Another thread completing a linked waiter claims the token for that
//!    arm first (`waiter.rs`); if the token is taken, the waiter is unlinked
//!    as `LOST` instead. Claims by other threads are final.
//! 3. An arm that needs a peer claims its own token, then the peer's; if no
//!    peer can be claimed it releases its own claim again. A waiter of ours
//!    that some thread saw claimed in that window was unlinked as `LOST` and
//!    our task was woken, so the next poll re-arms it: nothing is missed.
//! 4. A non-channel future arm (a sleep, a join handle) that becomes ready
//!    claims the token; if a channel arm won in the meantime its output is
//!    dropped. Such arms should be cancellation-safe, as with any select.
//! 5. `default` claims the token for itself if nothing was ready.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::*};
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

const UNDECIDED: usize = usize::MAX;

/// Shared by the arms of one `select!`; records the winning arm.
#[doc(hidden)]
pub struct Token {
    winner: AtomicUsize,
}

impl Token {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Token {
        Token {
            winner: AtomicUsize::new(UNDECIDED),
        }
    }

    /// The arm that won, if decided.
    pub fn winner(&self) -> Option<usize> {
        match self.winner.load(Acquire) {
            UNDECIDED => None,
            w => Some(w),
        }
    }

    /// Claims the select for `arm`; false if another arm already won.
    pub fn try_claim(&self, arm: usize) -> bool {
        match self
            .winner
            .compare_exchange(UNDECIDED, arm, AcqRel, Acquire)
        {
            Ok(_) => true,
            Err(w) => w == arm,
        }
    }

    /// Undoes our own claim for `arm` (step 3 of the protocol).
    fn release(&self, arm: usize) {
        let _ = self
            .winner
            .compare_exchange(arm, UNDECIDED, AcqRel, Acquire);
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("winner", &self.winner())
            .finish()
    }
}

/// Pointer to a select's token plus the arm index of one operation.
///
/// The token outlives every waiter that refers to it: that is the safety
/// contract of [`SelectArm::poll_arm`], the only place a `SelectRef` is
/// stored into a waiter. `select!` keeps its token in the select future's
/// frame, declared before the arm futures (which unlink their waiters on
/// drop), so they are dropped first.
#[derive(Clone, Copy)]
pub(crate) struct SelectRef {
    token: NonNull<Token>,
    arm: usize,
}

// SAFETY: `Token` is an atomic; see the lifetime argument above.
unsafe impl Send for SelectRef {}
// SAFETY: as above.
unsafe impl Sync for SelectRef {}

impl SelectRef {
    pub(crate) fn new(token: &Token, arm: usize) -> SelectRef {
        SelectRef {
            token: NonNull::from(token),
            arm,
        }
    }

    fn token(&self) -> &Token {
        // SAFETY: see the type docs.
        unsafe { self.token.as_ref() }
    }

    pub(crate) fn claim(&self) -> bool {
        self.token().try_claim(self.arm)
    }

    pub(crate) fn release(&self) {
        self.token().release(self.arm);
    }

    pub(crate) fn is_decided(&self) -> bool {
        self.token().winner().is_some()
    }

    pub(crate) fn same_select(&self, other: &SelectRef) -> bool {
        self.token == other.token
    }
}

/// An operation that can take part in a `select!`.
///
/// Support API for the macro: hidden from the docs, but public, so its
/// contract is enforced by `unsafe` rather than by visibility. Safe code
/// cannot poll an arm with a token, so it cannot leave a channel waiter
/// pointing at a dropped token:
///
/// ```compile_fail,E0133
/// use std::pin::pin;
/// use std::task::Context;
/// use stevedore::__private::select::{ArmPicker, PickChannelArm as _, SelectArm as _, Token};
///
/// let (_tx, rx) = stevedore::chan::bounded::<u32>(0);
/// let mut arm = pin!(ArmPicker::new(rx.recv()).pick());
/// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
/// let token = Token::new();
/// // error[E0133]: call to unsafe function requires unsafe block
/// let _ = arm.as_mut().poll_arm(&mut cx, &token, 0);
/// ```
#[doc(hidden)]
pub trait SelectArm {
    type Output;

    /// Polls the arm. `Ready` only if this arm is the select's winner.
    ///
    /// # Safety
    ///
    /// `token` must stay alive, at the same address, until `self` has been
    /// **dropped** — not merely until this call returns: a channel arm links
    /// a waiter that points at the token, peers on other threads claim the
    /// token through it, and only the arm's destructor unlinks it (so if the
    /// arm is leaked, the token must never be freed). Every call on one arm
    /// passes the same `token` and `arm`. `select!` upholds this by
    /// declaring its token before the pinned tuple of arms, in the same
    /// frame, so the arms are always dropped first.
    unsafe fn poll_arm(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        token: &Token,
        arm: usize,
    ) -> Poll<Self::Output>;
}

/// Wraps a plain future as a select arm.
#[doc(hidden)]
#[derive(Debug)]
pub struct FutureArm<F>(F);

impl<F: Future> SelectArm for FutureArm<F> {
    type Output = F::Output;

    unsafe fn poll_arm(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        token: &Token,
        arm: usize,
    ) -> Poll<F::Output> {
        // SAFETY: structural pinning of the only field.
        let fut = unsafe { self.map_unchecked_mut(|s| &mut s.0) };
        match fut.poll(cx) {
            Poll::Ready(v) if token.try_claim(arm) => Poll::Ready(v),
            _ => Poll::Pending,
        }
    }
}

/// Picks the arm adapter for an expression by autoref specialisation:
/// channel operations get their own (select-aware) implementation, any
/// other future is wrapped in [`FutureArm`].
#[doc(hidden)]
#[allow(missing_debug_implementations)]
pub struct ArmPicker<F>(Cell<Option<F>>);

impl<F> ArmPicker<F> {
    pub fn new(f: F) -> ArmPicker<F> {
        ArmPicker(Cell::new(Some(f)))
    }

    pub(crate) fn take(&self) -> F {
        self.0.take().expect("select arm picked twice")
    }
}

/// Chosen for channel operations.
#[doc(hidden)]
pub trait PickChannelArm {
    type Arm: SelectArm;
    fn pick(&self) -> Self::Arm;
}

/// Chosen (through one more autoref) for every other future.
#[doc(hidden)]
pub trait PickFutureArm {
    type Arm: SelectArm;
    fn pick(&self) -> Self::Arm;
}

impl<'a, T> PickChannelArm for ArmPicker<super::Send<'a, T>> {
    type Arm = super::Send<'a, T>;
    fn pick(&self) -> Self::Arm {
        self.take()
    }
}

impl<'a, T> PickChannelArm for ArmPicker<super::Recv<'a, T>> {
    type Arm = super::Recv<'a, T>;
    fn pick(&self) -> Self::Arm {
        self.take()
    }
}

impl<F: Future> PickFutureArm for &ArmPicker<F> {
    type Arm = FutureArm<F>;
    fn pick(&self) -> Self::Arm {
        FutureArm(self.take())
    }
}

/// A random visiting order for `n` arms (at most 64).
#[doc(hidden)]
pub fn random_order(n: usize) -> [u8; 64] {
    assert!(n <= 64, "select! supports at most 64 arms");
    let mut order = [0u8; 64];
    for (i, slot) in order.iter_mut().enumerate().take(n) {
        *slot = i as u8;
    }
    crate::util::rand::shuffle(&mut order[..n]);
    order
}

/// Projects a pinned tuple of arms to a tuple of pinned arms.
#[doc(hidden)]
pub trait Project {
    type Output;
    fn project(self) -> Self::Output;
}

/// See [`Project`].
#[doc(hidden)]
pub fn project<P: Project>(p: P) -> P::Output {
    p.project()
}

macro_rules! impl_project {
    ($($name:ident)+) => {
        impl<'a, $($name),+> Project for Pin<&'a mut ($($name,)+)> {
            type Output = ($(Pin<&'a mut $name>,)+);

            #[allow(non_snake_case)]
            fn project(self) -> Self::Output {
                // SAFETY: tuples have no `Drop` impl, are `Unpin` exactly
                // when all fields are, and are not packed: pinning is
                // structural for their fields, so projecting is sound.
                unsafe {
                    let ($($name,)+) = self.get_unchecked_mut();
                    ($(Pin::new_unchecked($name),)+)
                }
            }
        }
    };
}

impl_project!(A0);
impl_project!(A0 A1);
impl_project!(A0 A1 A2);
impl_project!(A0 A1 A2 A3);
impl_project!(A0 A1 A2 A3 A4);
impl_project!(A0 A1 A2 A3 A4 A5);
impl_project!(A0 A1 A2 A3 A4 A5 A6);
impl_project!(A0 A1 A2 A3 A4 A5 A6 A7);
impl_project!(A0 A1 A2 A3 A4 A5 A6 A7 A8);
impl_project!(A0 A1 A2 A3 A4 A5 A6 A7 A8 A9);
impl_project!(A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
impl_project!(A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
impl_project!(A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);
impl_project!(A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13);
impl_project!(A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14);
impl_project!(A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15);

/// The empty select (`select! {}` or only `default`).
impl Project for Pin<&mut ()> {
    type Output = ();
    fn project(self) -> Self::Output {}
}
