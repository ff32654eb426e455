//! Launching batches of containers concurrently, over one or many engines.
//!
//! [`Launcher::launch`] runs `count` containers from one spec with at most
//! `concurrency` in flight. The engine of it is the task pool: a jobs
//! channel feeding `concurrency` worker tasks, a results channel, and a
//! WaitGroup over the workers that closes it. Each container goes create →
//! wait registered → start → wait → (logs) → remove, timed per phase, and
//! reports [`Progress`] as it goes.
//!
//! **Nothing is leaked.** Every container carries the label
//! `stevedore.batch=<id>` and a name of its own (`<id>-<index>`). Whatever
//! happens — a failure, the daemon dying, the launch future being dropped
//! (Ctrl-C in the demo) — the workers remove what they created, and the
//! batch ends by listing its label on every engine and removing what is
//! left. Cancellation is cooperative: no create is abandoned mid-request,
//! where the daemon could still finish it after the sweep. Containers on an
//! engine that died are removed by [`Launcher::cleanup`] once it is back.
//!
//! **Failures.** Transient errors before a container started (connection
//! refused during a daemon restart, timeouts, 5xx) are retried with
//! exponential backoff up to [`RetryPolicy::max_attempts`], on another
//! engine if one is up; a create whose reply was lost is recognised by its
//! name rather than duplicated. After a container started, a failure is
//! reported, not retried (it may have run). A spec that cannot work — a
//! missing image, an invalid option or command — stops the batch at once
//! with one [`LaunchError::Spec`].
//!
//! **Several engines.** Each container goes to the reachable engine with
//! the fewest in flight; an engine that stops answering is passed over, so
//! its remaining work moves to the others.

mod cancel;
mod container;
mod engine;
mod pool;
mod reconcile;
mod report;
mod retry;

pub use self::report::{EngineReport, FailureCount, PhaseStats, Phases, Report};

use self::engine::Engine;
use super::{ContainerSpec, Docker, Error};
use crate::chan::Sender;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// The label that marks a batch's containers.
pub const BATCH_LABEL: &str = "stevedore.batch";

/// How to launch a batch.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// Containers to run.
    pub count: usize,
    /// Most containers in flight at once.
    pub concurrency: usize,
    /// Read each container's output after it exits.
    pub collect_logs: bool,
    /// Keep containers that ran to completion (failed or cancelled ones are
    /// always removed).
    pub keep: bool,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// The batch id; generated if `None`.
    pub batch_id: Option<String>,
}

impl LaunchOptions {
    /// `count` containers, 8 at a time, no logs, removed afterwards.
    pub fn new(count: usize) -> LaunchOptions {
        LaunchOptions {
            count,
            concurrency: 8,
            collect_logs: false,
            keep: false,
            retry: RetryPolicy::default(),
            batch_id: None,
        }
    }
}

/// Retries of transient failures: `max_attempts` in all, backing off from
/// `initial_backoff`, doubling up to `max_backoff`.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per container, the first included.
    pub max_attempts: u32,
    /// Wait before the first retry.
    pub initial_backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// What happened to one container (`index` in `0..count`; `engine` indexes
/// [`Launcher::hosts`]).
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
    /// A transient failure; trying again.
    Retrying {
        /// Which container.
        index: usize,
        /// The engine that failed.
        engine: usize,
        /// The attempt about to be made (1 = first retry).
        attempt: u32,
        /// Why.
        reason: String,
    },
    /// Failed for good.
    Failed {
        /// Which container.
        index: usize,
        /// On which engine, if it got that far.
        engine: Option<usize>,
        /// Why.
        reason: String,
    },
}

/// Why a batch stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum LaunchError {
    /// The spec cannot work (missing image, invalid option or command). The
    /// batch stopped early; nothing it created is left.
    Spec {
        /// A readable reason.
        reason: String,
        /// The daemon's error.
        source: Error,
    },
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LaunchError::Spec { reason, .. } => write!(f, "the batch cannot run: {reason}"),
        }
    }
}

impl std::error::Error for LaunchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LaunchError::Spec { source, .. } => Some(source),
        }
    }
}

/// A running batch: a future of its [`Report`].
#[must_use = "a batch runs only while awaited"]
pub struct Batch {
    id: String,
    canceller: Canceller,
    fut: Pin<Box<dyn Future<Output = Result<Report, LaunchError>> + Send>>,
}

impl Batch {
    /// The batch id (the value of the `stevedore.batch` label).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A handle that cancels the batch.
    pub fn canceller(&self) -> Canceller {
        self.canceller.clone()
    }
}

impl Future for Batch {
    type Output = Result<Report, LaunchError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.fut.as_mut().poll(cx)
    }
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch").field("id", &self.id).finish()
    }
}

/// Cancels a [`Batch`]: no new container is started, those in flight are
/// removed, and the batch's future completes with its report.
#[derive(Debug, Clone)]
pub struct Canceller(Sender<()>);

impl Canceller {
    /// Cancels the batch (idempotent).
    pub fn cancel(&self) {
        self.0.close();
    }
}

/// What [`Launcher::cleanup`] did on one engine.
#[derive(Debug)]
#[non_exhaustive]
pub struct CleanupReport {
    /// The engine.
    pub host: String,
    /// Containers removed, or why the engine could not be cleaned.
    pub result: Result<usize, Error>,
}

/// Launches batches over one or more engines.
#[derive(Clone)]
pub struct Launcher {
    engines: Arc<[Engine]>,
}

impl Launcher {
    /// A launcher over `engines` (at least one).
    ///
    /// # Panics
    ///
    /// If `engines` is empty.
    pub fn new(engines: Vec<Docker>) -> Launcher {
        assert!(!engines.is_empty(), "a launcher needs at least one engine");
        Launcher {
            engines: engines.into_iter().map(Engine::new).collect(),
        }
    }

    /// The engines' hosts, in order.
    pub fn hosts(&self) -> Vec<String> {
        self.engines.iter().map(|e| e.host().to_owned()).collect()
    }

    /// Runs a batch and reports on it; see [`start`](Self::start).
    pub async fn launch(
        &self,
        spec: &ContainerSpec,
        opts: &LaunchOptions,
        progress: Option<Sender<Progress>>,
    ) -> Result<Report, LaunchError> {
        self.start(spec, opts, progress).await
    }

    /// Starts a batch: await the returned [`Batch`] for its report.
    /// `progress`, if given, receives an event per lifecycle step (make it
    /// unbounded, so a slow reader never slows the batch).
    ///
    /// [`Canceller::cancel`] stops the batch cleanly: containers in flight
    /// are removed and the report counts the rest as cancelled. Dropping
    /// the `Batch` instead cancels it and removes its containers in the
    /// background.
    pub fn start(
        &self,
        spec: &ContainerSpec,
        opts: &LaunchOptions,
        progress: Option<Sender<Progress>>,
    ) -> Batch {
        let id = opts.batch_id.clone().unwrap_or_else(new_batch_id);
        let (cancel_tx, cancel_rx) = crate::chan::bounded::<()>(0);
        let canceller = Canceller(cancel_tx.clone());
        let fut = pool::launch(
            self.engines.clone(),
            spec.clone(),
            opts.clone(),
            progress,
            id.clone(),
            (cancel_tx, cancel_rx),
        );
        Batch {
            id,
            canceller,
            fut: Box::pin(fut),
        }
    }

    /// Removes every container of `batch` on every engine (for leftovers of
    /// a batch whose engine died, once it is back).
    pub async fn cleanup(&self, batch: &str) -> Vec<CleanupReport> {
        let mut out = Vec::new();
        for e in self.engines.iter() {
            out.push(CleanupReport {
                host: e.host().to_owned(),
                result: reconcile::reconcile_engine(e, batch).await,
            });
        }
        out
    }
}

impl fmt::Debug for Launcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Launcher")
            .field("hosts", &self.hosts())
            .finish()
    }
}

/// A fresh batch id: `sd-<unix ms>-<random>`, valid in container names.
pub fn new_batch_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!(
        "sd-{ms}-{:04x}",
        crate::util::rand::below(u32::from(u16::MAX))
    )
}
