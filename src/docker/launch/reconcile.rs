//! Reconciliation: the sweep that ends every batch, and `Launcher::cleanup`.
//!
//! Protocol: on each engine that is not hung, concurrently: first let the
//! client's abandoned requests settle (their undos run), then list the
//! containers carrying `stevedore.batch=<id>` — created or not, running or
//! not — and force-remove each (a 404 means already gone). With `keep`,
//! only the containers the batch did not keep are removed, by name. An
//! engine swept to the end with its abandoned requests settled holds
//! nothing of the batch any more; anything else is left to the report.
//! The sweep of a cancelled batch ends at the cancel grace; every sweep of
//! an engine ends when the engine is marked hung.

use super::engine::Engine;
use super::BATCH_LABEL;
use crate::docker::{Docker, Error, Filters, ListOptions, RemoveOptions};
use std::time::{Duration, Instant};

pub(super) const FORCE: RemoveOptions = RemoveOptions {
    force: true,
    volumes: true,
};

/// Sweeps every engine that answers; returns how many containers it
/// removed.
pub(super) async fn sweep(
    engines: &[Engine],
    batch: &str,
    keep: bool,
    deadline: Option<Instant>,
    settle_for: Duration,
) -> usize {
    let sweeps = engines
        .iter()
        .filter(|e| !e.is_hung())
        .map(|e| sweep_engine(e, batch, keep, deadline, settle_for));
    futures::future::join_all(sweeps).await.into_iter().sum()
}

async fn sweep_engine(
    engine: &Engine,
    batch: &str,
    keep: bool,
    deadline: Option<Instant>,
    settle_for: Duration,
) -> usize {
    let work = async {
        let settled = crate::time::timeout(settle_for, engine.docker.settle())
            .await
            .is_ok();
        let removed = if keep {
            let names: Vec<String> = engine.book.lock().maybe_left.iter().cloned().collect();
            remove_named(&engine.docker, &names).await
        } else {
            reconcile_engine(&engine.docker, batch).await
        };
        (settled, removed)
    };
    let bounded = async {
        match deadline {
            Some(d) => crate::time::timeout_at(d, work).await.ok(),
            None => Some(work.await),
        }
    };
    let outcome = select! {
        r = bounded => r,
        _ = engine.hung.recv() => None,
    };
    match outcome {
        Some((settled, Ok(n))) => {
            if settled {
                engine.book.lock().maybe_left.clear();
            }
            #[cfg(feature = "tracing")]
            tracing::info!(target: "stevedore::launch", batch, host = engine.docker.host(), removed = n, settled, "swept");
            n
        }
        _other => {
            #[cfg(feature = "tracing")]
            match &_other {
                Some((_, Err(e))) => {
                    tracing::warn!(target: "stevedore::launch", batch, host = engine.docker.host(), error = %e, "sweep failed")
                }
                _ => {
                    tracing::warn!(target: "stevedore::launch", batch, host = engine.docker.host(), "sweep gave up: engine hung or deadline passed")
                }
            }
            0
        }
    }
}

async fn remove_named(docker: &Docker, names: &[String]) -> Result<usize, Error> {
    let mut removed = 0;
    for name in names {
        match docker.remove(name, FORCE).await {
            Ok(()) => removed += 1,
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

/// Lists the batch's containers on one engine and force-removes them;
/// returns how many.
pub(super) async fn reconcile_engine(docker: &Docker, batch: &str) -> Result<usize, Error> {
    let filters = Filters::new().label(format!("{BATCH_LABEL}={batch}"));
    let list = docker.list(&ListOptions { all: true, filters }).await?;
    let mut removed = 0;
    for c in list {
        match docker.remove(&c.id, FORCE).await {
            Ok(()) => removed += 1,
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}
