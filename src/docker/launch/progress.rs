//! [`Progress`]: the events a batch reports as it goes.

use super::engine::Engine;
use super::{ContainerResult, FailureKind};

/// What happened to one container (in warm mode: one job, an exec), or to
/// an engine (`index` in `0..count`; `engine` indexes [`Launcher::hosts`](super::Launcher::hosts)).
/// Every dispatched container ends with exactly one
/// [`Finished`](Progress::Finished): the results stream through it as they
/// come.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Created.
    Created {
        /// Which container.
        index: usize,
        /// On which engine.
        engine: usize,
        /// Its id.
        id: String,
    },
    /// Started.
    Started {
        /// Which container.
        index: usize,
        /// On which engine.
        engine: usize,
    },
    /// Exited.
    Exited {
        /// Which container.
        index: usize,
        /// On which engine.
        engine: usize,
        /// With this code.
        exit_code: i64,
    },
    /// Removed.
    Removed {
        /// Which container.
        index: usize,
        /// On which engine.
        engine: usize,
    },
    /// An engine failure; trying again (on another engine if one is up).
    Retrying {
        /// Which container.
        index: usize,
        /// The engine that failed.
        engine: usize,
        /// The attempt about to be made (1 = first retry).
        attempt: u32,
        /// Why.
        kind: FailureKind,
        /// The details.
        reason: String,
    },
    /// An engine stopped answering ([`FailureKind::EngineTimeout`]: marked
    /// down for the rest of the batch) or refused connections
    /// ([`FailureKind::EngineUnreachable`]: passed over for a while).
    EngineDown {
        /// Which engine.
        engine: usize,
        /// Why.
        kind: FailureKind,
        /// The details.
        reason: String,
    },
    /// A container is done, one way or another.
    Finished(Box<ContainerResult>),
    /// Warm mode: a worker container was started (`worker` in
    /// `0..containers`; a replacement keeps its worker's number).
    WorkerStarted {
        /// Which worker.
        worker: usize,
        /// On which engine.
        engine: usize,
        /// The container's id.
        id: String,
    },
    /// Warm mode: a worker container died, hung, or was removed to kill a
    /// job over its timeout; the worker starts a new one.
    WorkerReplaced {
        /// Which worker.
        worker: usize,
        /// On which engine.
        engine: usize,
        /// Why.
        reason: String,
    },
}

impl Progress {
    /// Logs the event through `tracing` (target `stevedore::launch`):
    /// engine trouble and retries at `WARN`, finished containers at
    /// `INFO`, lifecycle steps at `DEBUG`.
    #[cfg(feature = "tracing")]
    pub(super) fn trace(&self, batch: &str, engines: &[Engine]) {
        let host = |e: usize| engines.get(e).map_or("?", |e| e.docker.host());
        match self {
            Progress::Created { index, engine, id } => {
                tracing::debug!(target: "stevedore::launch", batch, index, host = host(*engine), id = %id, "created")
            }
            Progress::Started { index, engine } => {
                tracing::debug!(target: "stevedore::launch", batch, index, host = host(*engine), "started")
            }
            Progress::Exited {
                index,
                engine,
                exit_code,
            } => {
                tracing::debug!(target: "stevedore::launch", batch, index, host = host(*engine), exit_code, "exited")
            }
            Progress::Removed { index, engine } => {
                tracing::debug!(target: "stevedore::launch", batch, index, host = host(*engine), "removed")
            }
            Progress::Retrying {
                index,
                engine,
                attempt,
                kind,
                reason,
            } => {
                tracing::warn!(target: "stevedore::launch", batch, index, host = host(*engine), attempt, kind = ?kind, reason = %reason, "retrying")
            }
            Progress::EngineDown {
                engine,
                kind,
                reason,
            } => {
                tracing::warn!(target: "stevedore::launch", batch, host = host(*engine), kind = ?kind, reason = %reason, "engine down")
            }
            Progress::Finished(r) => match &r.kind {
                None => {
                    tracing::info!(target: "stevedore::launch", batch, index = r.index, name = %r.name, exit_code = r.exit_code, attempts = r.attempts, "finished")
                }
                Some(kind) => {
                    tracing::warn!(target: "stevedore::launch", batch, index = r.index, name = %r.name, kind = ?kind, detail = r.message.as_deref(), attempts = r.attempts, "failed")
                }
            },
            Progress::WorkerStarted { worker, engine, id } => {
                tracing::debug!(target: "stevedore::launch", batch, worker, host = host(*engine), id = %id, "worker started")
            }
            Progress::WorkerReplaced {
                worker,
                engine,
                reason,
            } => {
                tracing::warn!(target: "stevedore::launch", batch, worker, host = host(*engine), reason = %reason, "worker replaced")
            }
        }
    }

    #[cfg(not(feature = "tracing"))]
    pub(super) fn trace(&self, _batch: &str, _engines: &[Engine]) {}
}
