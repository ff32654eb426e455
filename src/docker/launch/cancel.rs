//! Cancellation: the batch's two signals, and the guard that cleans up
//! after a dropped batch.
//!
//! Protocol: cancelling (a [`Canceller`](super::Canceller), the batch
//! deadline, a spec error, a dropped batch) closes the *cancel* channel
//! once, recording why; a closed channel is always ready in `select!`, so
//! the feeder stops dispatching, containers not yet created are not
//! created, and running ones stop waiting and are removed. Removing what
//! is in flight may take at most the batch's cancel grace: three quarters
//! of it after the cancel, the *abort* channel closes, and every call
//! still in flight is abandoned (its container gets a force-remove queued
//! on its engine); the last quarter is for the final sweep. Every engine
//! call selects on the abort channel and on its engine's hung channel.

use super::engine::Engine;
use super::reconcile::sweep;
use super::FailureKind;
use crate::chan::{self, Receiver, Sender};
use crate::sync::WaitGroup;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a batch was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reason {
    /// By its canceller, or its future was dropped.
    User,
    /// It passed its deadline.
    Deadline,
    /// A spec error: every container would fail.
    Spec,
}

impl Reason {
    /// The kind of the containers it stopped.
    pub(super) fn kind(self) -> FailureKind {
        match self {
            Reason::Deadline => FailureKind::DeadlineExceeded,
            Reason::User | Reason::Spec => FailureKind::Cancelled,
        }
    }
}

/// The cancel and abort signals of one batch.
pub(super) struct Signals {
    cancel_tx: Sender<()>,
    pub(super) cancel: Receiver<()>,
    abort_tx: Sender<()>,
    pub(super) abort: Receiver<()>,
    /// Why and when it was cancelled; set once, before `cancel` closes.
    cancelled: Mutex<Option<(Reason, Instant)>>,
    grace: Duration,
}

impl Signals {
    pub(super) fn new(grace: Duration) -> Arc<Signals> {
        let (cancel_tx, cancel) = chan::bounded(0);
        let (abort_tx, abort) = chan::bounded(0);
        Arc::new(Signals {
            cancel_tx,
            cancel,
            abort_tx,
            abort,
            cancelled: Mutex::new(None),
            grace,
        })
    }

    /// Cancels (the first reason wins) and arms the abort timer.
    pub(super) fn cancel(self: &Arc<Self>, reason: Reason) {
        {
            let mut c = self.cancelled.lock();
            if c.is_some() {
                return;
            }
            *c = Some((reason, Instant::now()));
        }
        self.cancel_tx.close();
        let me = self.clone();
        let abort_after = self.grace.mul_f64(0.75);
        if let Some(h) = crate::runtime::Handle::try_current() {
            drop(h.spawn(async move {
                select! {
                    _ = crate::time::sleep(abort_after) => me.abort(),
                    _ = me.abort.recv() => {},
                }
            }));
        } else {
            self.abort();
        }
    }

    /// Abandons everything still in flight.
    pub(super) fn abort(&self) {
        self.abort_tx.close();
    }

    pub(super) fn reason(&self) -> Option<Reason> {
        self.cancelled.lock().map(|(r, _)| r)
    }

    pub(super) fn is_cancelled(&self) -> bool {
        self.cancel.is_closed()
    }

    pub(super) fn is_aborted(&self) -> bool {
        self.abort.is_closed()
    }

    /// When a cancelled batch's sweep must be done.
    pub(super) fn sweep_deadline(&self) -> Option<Instant> {
        self.cancelled.lock().map(|(_, at)| at + self.grace)
    }
}

/// Cancels the batch and cleans up if the launch future is dropped.
pub(super) struct CancelGuard {
    pub(super) signals: Option<Arc<Signals>>,
    pub(super) workers: WaitGroup,
    pub(super) engines: Arc<[Engine]>,
    pub(super) batch: String,
    pub(super) keep: bool,
    pub(super) settle_for: Duration,
}

impl CancelGuard {
    pub(super) fn disarm(mut self) {
        self.signals = None;
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        let Some(signals) = self.signals.take() else {
            return;
        };
        signals.cancel(Reason::User);
        let (workers, engines, batch, keep, settle_for) = (
            self.workers.clone(),
            self.engines.clone(),
            self.batch.clone(),
            self.keep,
            self.settle_for,
        );
        if let Some(h) = crate::runtime::Handle::try_current() {
            // Workers remove what they created as they notice the
            // cancellation; then sweep by label for anything left.
            drop(h.spawn(async move {
                workers.wait().await;
                sweep(&engines, &batch, keep, signals.sweep_deadline(), settle_for).await;
            }));
        }
    }
}
