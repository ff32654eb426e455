//! Launching batches of containers concurrently, over one or many engines.
//!
//! [`Launcher::launch`] runs `count` containers from one spec with at most
//! `concurrency` in flight. The engine of it is the task pool: a jobs
//! channel feeding `concurrency` worker tasks, a results channel, and a
//! WaitGroup over the workers that closes it. Each container goes create →
//! (attach) → wait registered → start → wait → remove, timed per phase,
//! and reports [`Progress`] as it goes; its [`ContainerResult`] streams out
//! as [`Progress::Finished`] and into the [`Report`].
//!
//! **Bounded in time.** Every engine call has a deadline; an engine is
//! pinged every half second and one that does not answer within
//! [`LaunchOptions::connect_timeout`] is marked down: its calls in flight
//! are abandoned at once and its work moves to the other engines.
//! [`LaunchOptions::timeout`] bounds each container, [`LaunchOptions::deadline`]
//! the batch, and a cancelled batch ends within
//! [`LaunchOptions::cancel_grace`].
//!
//! **Nothing is leaked.** Every container carries the label
//! `stevedore.batch=<id>` and a name of its own (`<id>-<index>`). Whatever
//! happens, the workers remove what they created, and the batch ends by
//! listing its label on every engine that answers and removing what is
//! left. A request abandoned on an engine that stopped answering still
//! runs when it resumes, so each is handed to an undertaker that waits for
//! the reply and force-removes the container it created or started (see
//! [`Docker::settle`]); this holds while the process lives. The report
//! names every container not seen removed and the engines to run
//! [`Launcher::cleanup`] on.
//!
//! **Failures** carry a [`FailureKind`]. Engine failures (unreachable,
//! not answering, 5xx) are retried with exponential backoff up to
//! [`RetryPolicy::max_attempts`], on another engine if one is up; a create
//! whose reply was lost is recognised by its name rather than duplicated.
//! Failures of the container (exit code, [`FailureKind::TimedOut`], OOM)
//! are reported, not retried. A spec that cannot work — a missing image,
//! an invalid option or command — stops the batch at once with one
//! [`LaunchError::Spec`].
//!
//! **Several engines.** Each container goes to the reachable engine with
//! the fewest in flight. [`Launcher::connect`] skips (and reports) hosts
//! that cannot be reached.
//!
//! **Swarm mode** ([`LaunchOptions::swarm`]): the first engine is a swarm
//! manager and the batch runs as one `replicated-job` service on its swarm
//! instead of through the pool: progress and the report come from the
//! service's tasks, output from their logs, and the end (done, cancelled,
//! dropped) removes the service and sweeps the tasks' containers off every
//! engine of the launcher (the other engines being the other nodes').
//!
//! **Warm mode** ([`Mode::Warm`], the demo's `--warm K`): the same pool
//! with containers as the workers. Each of K workers starts one
//! long-lived container from the spec, kept alive by
//! [`LaunchOptions::warm_command`], and runs every job it takes as an
//! exec in it ([`Docker::exec_create`], [`Docker::exec_start`],
//! [`Docker::exec_exit_code`]), timed per phase (create, start, output,
//! exit). A worker container that dies or hangs is replaced and the job
//! that found it gone runs once more on the new one; a job that had
//! started is reported ([`FailureKind::WorkerLost`]), and a job over
//! [`LaunchOptions::timeout`] is killed by replacing its container. Worker
//! containers carry the batch label like any other and are removed on
//! every path.
//!
//! **Job lists** ([`JobList`], [`LaunchOptions::with_jobs`], the demo's
//! `--jobs FILE`): one shell-split command per line, each line one job —
//! one container in run mode, one exec in warm mode; results carry the
//! job's line number.
//!
//! # Examples
//!
//! A hundred containers, eight at a time, on the engine at `DOCKER_HOST`,
//! with their output streamed to files:
//!
//! ```no_run
//! use stevedore::docker::launch::{LaunchOptions, Launcher};
//! use stevedore::docker::{ContainerSpec, Docker, MinimalImage};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! stevedore::Runtime::new()?.block_on(async {
//!     let docker = Docker::connect().await?;
//!     let image = docker.ensure_minimal_image(&MinimalImage::from_env()).await?;
//!     let spec = ContainerSpec::new(image.reference)
//!         .cmd(["sh", "-c", "echo hello from $HOSTNAME"])
//!         .network_mode("none");
//!     let mut opts = LaunchOptions::new(100);
//!     opts.concurrency = 8;
//!     opts.logs_dir = Some("batch-logs".into());
//!     let report = Launcher::new(vec![docker]).launch(&spec, &opts, None).await?;
//!     println!("{report}");
//!     assert_eq!(report.succeeded, 100);
//!     Ok(())
//! })
//! # }
//! ```

mod cancel;
mod container;
mod engine;
mod error;
mod exec_job;
mod failure;
mod jobs;
mod options;
mod output;
mod pool;
mod progress;
mod reconcile;
mod report;
mod retry;
mod swarm;
mod warm;

pub use self::error::LaunchError;
pub use self::failure::FailureKind;
pub use self::jobs::{Job, JobList, JobListError};
pub use self::options::{LaunchOptions, Mode, RetryPolicy, MAX_CONCURRENCY, MAX_COUNT};
pub use self::progress::Progress;
pub use self::report::{
    ContainerResult, ContainerTimings, EngineReport, EngineState, FailureCount, OutputReport,
    PhaseStats, Phases, Report, RetryCount, WarmReport,
};

use self::cancel::{Reason, Signals};
use super::{ContainerSpec, Docker, DockerBuilder, Error};
use crate::chan::Sender;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The label that marks a batch's containers.
pub const BATCH_LABEL: &str = "stevedore.batch";

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
/// killed and removed, and the batch's future completes with its report
/// within [`LaunchOptions::cancel_grace`].
#[derive(Clone)]
pub struct Canceller(Arc<Signals>);

impl Canceller {
    /// Cancels the batch (idempotent).
    pub fn cancel(&self) {
        self.0.cancel(Reason::User);
    }

    /// Whether the batch was cancelled (by this handle, its deadline, or a
    /// spec error).
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

impl fmt::Debug for Canceller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Canceller")
            .field("cancelled", &self.is_cancelled())
            .finish()
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
    engines: Arc<[Docker]>,
    unreachable: Arc<[(String, Error)]>,
}

impl Launcher {
    /// A launcher over `engines`.
    ///
    /// # Panics
    ///
    /// If `engines` is empty or names one engine twice; see
    /// [`try_new`](Self::try_new).
    pub fn new(engines: Vec<Docker>) -> Launcher {
        Launcher::try_new(engines).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A launcher over `engines`.
    ///
    /// # Errors
    ///
    /// [`LaunchError::NoEngines`] for none, [`LaunchError::DuplicateEngine`]
    /// when two clients talk to the same host.
    pub fn try_new(engines: Vec<Docker>) -> Result<Launcher, LaunchError> {
        if engines.is_empty() {
            return Err(LaunchError::NoEngines);
        }
        for (i, d) in engines.iter().enumerate() {
            if engines[..i].iter().any(|o| o.endpoint() == d.endpoint()) {
                return Err(LaunchError::DuplicateEngine {
                    host: d.host().to_owned(),
                });
            }
        }
        Ok(Launcher {
            engines: engines.into(),
            unreachable: Arc::new([]),
        })
    }

    /// Connects to every host at once (each with `builder`'s settings, so
    /// its connect timeout bounds how long a silent host can delay this).
    /// Hosts that cannot be reached are skipped and listed in
    /// [`unreachable`](Self::unreachable) and in every report.
    ///
    /// # Errors
    ///
    /// [`LaunchError::InvalidOptions`] for a host that cannot be parsed,
    /// [`LaunchError::NoEngines`] for no host,
    /// [`LaunchError::DuplicateEngine`] for a host given twice (checked
    /// before connecting), [`LaunchError::Unreachable`] when none answers.
    ///
    /// # Cancel safety
    ///
    /// Dropping it leaves nothing behind but pings.
    pub async fn connect(
        hosts: &[String],
        builder: DockerBuilder,
    ) -> Result<Launcher, LaunchError> {
        if hosts.is_empty() {
            return Err(LaunchError::NoEngines);
        }
        let mut parsed = Vec::new();
        for h in hosts {
            let ep = super::http::Host::parse(h).map_err(|reason| LaunchError::InvalidOptions {
                option: "host",
                reason,
            })?;
            if parsed.contains(&ep) {
                return Err(LaunchError::DuplicateEngine { host: h.clone() });
            }
            parsed.push(ep);
        }
        let connects = hosts
            .iter()
            .map(|h| builder.clone().host(h.clone()).connect());
        let results = futures::future::join_all(connects).await;
        let (mut engines, mut unreachable) = (Vec::new(), Vec::new());
        for (h, r) in hosts.iter().zip(results) {
            match r {
                Ok(d) => engines.push(d),
                Err(e) => unreachable.push((h.clone(), e)),
            }
        }
        if engines.is_empty() {
            return Err(LaunchError::Unreachable {
                engines: unreachable,
            });
        }
        Ok(Launcher {
            engines: engines.into(),
            unreachable: unreachable.into(),
        })
    }

    /// The engines' hosts, in order (progress events and results index
    /// them).
    pub fn hosts(&self) -> Vec<String> {
        self.engines.iter().map(|e| e.host().to_owned()).collect()
    }

    /// The engines, in order.
    pub fn engines(&self) -> &[Docker] {
        &self.engines
    }

    /// Hosts [`connect`](Self::connect) could not reach, and why.
    pub fn unreachable(&self) -> &[(String, Error)] {
        &self.unreachable
    }

    /// Runs a batch and reports on it; see [`start`](Self::start).
    ///
    /// # Errors
    ///
    /// See [`start`](Self::start).
    ///
    /// # Cancel safety
    ///
    /// Dropping it cancels the batch and removes its containers in the
    /// background.
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
    /// unbounded, so a slow reader never slows the batch; events that do
    /// not fit a bounded one are dropped).
    ///
    /// [`Canceller::cancel`] stops the batch cleanly: containers in flight
    /// are removed and the report counts the rest as cancelled. Dropping
    /// the `Batch` instead cancels it and removes its containers in the
    /// background.
    ///
    /// # Errors
    ///
    /// The batch resolves to [`LaunchError::InvalidOptions`] or
    /// [`LaunchError::LogsDir`] before creating anything, or to
    /// [`LaunchError::Spec`] when the spec cannot work.
    pub fn start(
        &self,
        spec: &ContainerSpec,
        opts: &LaunchOptions,
        progress: Option<Sender<Progress>>,
    ) -> Batch {
        let id = opts.batch_id.clone().unwrap_or_else(new_batch_id);
        let signals = Signals::new(opts.cancel_grace);
        if opts.swarm {
            let fut = swarm::launch(
                self.engines.clone(),
                self.unreachable.clone(),
                spec.clone(),
                opts.clone(),
                progress,
                id.clone(),
                signals.clone(),
            );
            return Batch {
                id,
                canceller: Canceller(signals),
                fut: Box::pin(fut),
            };
        }
        let fut = pool::launch(
            self.engines.clone(),
            self.unreachable.clone(),
            spec.clone(),
            opts.clone(),
            progress,
            id.clone(),
            signals.clone(),
        );
        Batch {
            id,
            canceller: Canceller(signals),
            fut: Box::pin(fut),
        }
    }

    /// Removes every container of `batch` on every engine (for leftovers of
    /// a batch whose engine died or hung, once it is back). Engines are
    /// cleaned at once; each must answer a ping within its connect timeout
    /// first. Hosts that were unreachable when connecting are reported
    /// with their error.
    ///
    /// # Cancel safety
    ///
    /// Dropping it may leave some of the containers; run it again.
    pub async fn cleanup(&self, batch: &str) -> Vec<CleanupReport> {
        let cleans = self.engines.iter().map(|d| async move {
            let after = d.connect_timeout();
            let result = match crate::time::timeout(after, d.ping()).await {
                Ok(Ok(())) => reconcile::reconcile_engine(d, batch).await,
                Ok(Err(e)) => Err(e),
                Err(_) => Err(Error::Timeout {
                    what: format!("GET /_ping on {}", d.host()),
                    after,
                }),
            };
            CleanupReport {
                host: d.host().to_owned(),
                result,
            }
        });
        let mut out = futures::future::join_all(cleans).await;
        out.extend(self.unreachable.iter().map(|(host, e)| CleanupReport {
            host: host.clone(),
            result: Err(e.clone()),
        }));
        out
    }
}

impl fmt::Debug for Launcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Launcher")
            .field("hosts", &self.hosts())
            .field(
                "unreachable",
                &self.unreachable.iter().map(|(h, _)| h).collect::<Vec<_>>(),
            )
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
