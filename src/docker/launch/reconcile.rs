//! Reconciliation: the sweep that ends every batch, and `Launcher::cleanup`.
//!
//! Protocol: list the containers carrying `stevedore.batch=<id>` (created
//! or not, running or not) on an engine and force-remove each; a 404 means
//! it is already gone. An engine that cannot be listed is skipped and
//! reported by the caller.

use super::engine::Engine;
use super::BATCH_LABEL;
use crate::docker::{Error, Filters, ListOptions, RemoveOptions};

pub(super) const FORCE: RemoveOptions = RemoveOptions {
    force: true,
    volumes: true,
};

/// Removes every container of `batch` on every engine; returns how many.
/// Engines that cannot be reached are skipped (see `Launcher::cleanup`).
pub(super) async fn reconcile(engines: &[Engine], batch: &str) -> usize {
    let mut removed = 0;
    for engine in engines {
        removed += reconcile_engine(engine, batch).await.unwrap_or(0);
    }
    removed
}

pub(super) async fn reconcile_engine(engine: &Engine, batch: &str) -> Result<usize, Error> {
    let filters = Filters::new().label(format!("{BATCH_LABEL}={batch}"));
    let list = engine
        .docker
        .list(&ListOptions { all: true, filters })
        .await?;
    let mut removed = 0;
    for c in list {
        match engine.docker.remove(&c.id, FORCE).await {
            Ok(()) => removed += 1,
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}
