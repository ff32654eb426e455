//! Cancellation: the cancel channel's protocol and the guard that cleans up
//! after a dropped batch.
//!
//! Protocol: cancelling closes the batch's cancel channel (a closed channel
//! is always ready in `select!`, so every waiting worker and the feeder
//! notice it at once). Workers finish what they hold: a container not yet
//! created is not created, one in flight is removed. If the batch future
//! is dropped, `CancelGuard` closes the channel and, in a detached task,
//! waits for the workers and sweeps the batch label.

use super::engine::Engine;
use super::reconcile::reconcile;
use crate::chan::Sender;
use crate::sync::WaitGroup;
use std::sync::Arc;

/// Cancels the batch and cleans up if the launch future is dropped.
pub(super) struct CancelGuard {
    pub(super) cancel: Option<Sender<()>>,
    pub(super) workers: WaitGroup,
    pub(super) engines: Arc<[Engine]>,
    pub(super) batch: String,
}

impl CancelGuard {
    pub(super) fn cancel(&self) {
        if let Some(c) = &self.cancel {
            c.close();
        }
    }

    pub(super) fn disarm(mut self) {
        self.cancel = None;
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        let Some(cancel) = self.cancel.take() else {
            return;
        };
        cancel.close();
        let (workers, engines, batch) = (
            self.workers.clone(),
            self.engines.clone(),
            self.batch.clone(),
        );
        if let Some(h) = crate::runtime::Handle::try_current() {
            // Workers remove what they created as they notice the
            // cancellation; then sweep by label for anything left.
            drop(h.spawn(async move {
                workers.wait().await;
                reconcile(&engines, &batch).await;
            }));
        }
    }
}
