//! One batch: the task-pool engine, the per-container lifecycle with
//! retries, cancellation, and reconciliation by label.

use super::engine::{pick, Engine};
use super::report::{group_failures, EngineReport, PhaseStats, Phases, Report};
use super::{LaunchError, LaunchOptions, Progress, BATCH_LABEL};
use crate::chan::{self, Receiver, Sender};
use crate::docker::{ContainerSpec, Error, Filters, ListOptions, RemoveOptions};
use crate::sync::WaitGroup;
use std::sync::atomic::Ordering::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FORCE: RemoveOptions = RemoveOptions {
    force: true,
    volumes: true,
};

/// Everything the workers share.
struct Ctx {
    engines: Arc<[Engine]>,
    spec: ContainerSpec,
    batch: String,
    opts: LaunchOptions,
    progress: Option<Sender<Progress>>,
    /// Closed to cancel; a closed channel is always ready in `select!`.
    cancel: Receiver<()>,
}

impl Ctx {
    fn emit(&self, p: Progress) {
        if let Some(tx) = &self.progress {
            let _ = tx.try_send(p);
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_closed()
    }
}

/// The phases one container went through.
#[derive(Default)]
struct Timings {
    create: Option<Duration>,
    start: Option<Duration>,
    wait: Option<Duration>,
    logs: Option<Duration>,
    remove: Option<Duration>,
}

enum Outcome {
    Exited {
        exit_code: i64,
    },
    Failed {
        reason: String,
        permanent: Option<Error>,
    },
    Cancelled,
}

struct JobResult {
    outcome: Outcome,
    timings: Timings,
}

/// Why one attempt stopped.
enum AttemptError {
    /// Before the container started: a transient one may be retried.
    BeforeStart(Error),
    /// After it started: it may have run, so it is not retried.
    AfterStart(Error),
    Cancelled,
}

/// A spec error the batch should stop on: a missing image (404 at create)
/// or an invalid request or command (400).
fn is_permanent(e: &Error) -> bool {
    e.is_not_found() || e.status() == Some(400)
}

/// A short reason for grouping failures (no container ids in it).
fn reason(e: &Error, host: &str) -> String {
    match e {
        Error::Connect { source, .. } => format!("engine {host} unreachable: {source}"),
        Error::Io { source, .. } => format!("connection to {host} lost: {source}"),
        Error::Timeout { after, .. } => format!("engine {host} did not answer within {after:?}"),
        Error::Protocol(_) => format!("malformed response from {host}"),
        other => other.to_string(),
    }
}

pub(super) async fn launch(
    engines: Arc<[Engine]>,
    spec: ContainerSpec,
    opts: LaunchOptions,
    progress: Option<Sender<Progress>>,
    batch: String,
    (cancel_tx, cancel_rx): (Sender<()>, Receiver<()>),
) -> Result<Report, LaunchError> {
    let started = Instant::now();
    let ctx = Arc::new(Ctx {
        engines: engines.clone(),
        spec: spec
            .clone()
            .label(BATCH_LABEL, batch.clone())
            .auto_remove(false),
        batch: batch.clone(),
        opts: opts.clone(),
        progress,
        cancel: cancel_rx,
    });

    // The task pool: jobs → workers → results; a WaitGroup over the
    // workers closes the results channel.
    let concurrency = opts.concurrency.clamp(1, opts.count.max(1));
    let (jobs_tx, jobs_rx) = chan::bounded::<usize>(concurrency);
    let (results_tx, results_rx) = chan::unbounded::<JobResult>();
    let workers = WaitGroup::new();
    for _ in 0..concurrency {
        let (ctx, jobs, results) = (ctx.clone(), jobs_rx.clone(), results_tx.clone());
        workers.spawn(worker(ctx, jobs, results));
    }
    drop(jobs_rx);
    {
        let workers = workers.clone();
        crate::spawn(async move {
            workers.wait().await;
            results_tx.close();
        });
    }
    {
        let ctx = ctx.clone();
        let count = opts.count;
        crate::spawn(async move {
            for index in 0..count {
                select! {
                    r = jobs_tx.send(index) => if r.is_err() { return },
                    _ = ctx.cancel.recv() => return,
                }
            }
        });
    }

    // If this future is dropped, cancel and clean up in the background.
    let guard = CancelGuard {
        cancel: Some(cancel_tx),
        workers,
        engines: engines.clone(),
        batch: batch.clone(),
    };

    let mut results = Vec::with_capacity(opts.count);
    let mut permanent: Option<(String, Error)> = None;
    while let Some(r) = results_rx.recv().await {
        if let Outcome::Failed {
            reason,
            permanent: Some(e),
        } = &r.outcome
        {
            if permanent.is_none() {
                permanent = Some((reason.clone(), clone_error(e)));
                guard.cancel();
            }
        }
        results.push(r);
    }
    // Every worker is done: nothing of ours is in flight any more.
    let reconciled = if opts.keep && permanent.is_none() {
        0
    } else {
        reconcile(&engines, &batch).await
    };
    guard.disarm();
    if let Some((reason, source)) = permanent {
        return Err(LaunchError::Spec { reason, source });
    }
    Ok(build_report(&ctx, results, started.elapsed(), reconciled))
}

/// `Error` is not `Clone` (it holds an `io::Error`); keep what matters.
fn clone_error(e: &Error) -> Error {
    match e {
        Error::NotFound { message } => Error::NotFound {
            message: message.clone(),
        },
        Error::Conflict { message } => Error::Conflict {
            message: message.clone(),
        },
        Error::Api { status, message } => Error::Api {
            status: *status,
            message: message.clone(),
        },
        other => Error::Protocol(other.to_string()),
    }
}

async fn worker(ctx: Arc<Ctx>, jobs: Receiver<usize>, results: Sender<JobResult>) {
    loop {
        let index = select! {
            j = jobs.recv() => match j { Some(i) => i, None => return },
            _ = ctx.cancel.recv() => return,
        };
        let r = run_job(&ctx, index).await;
        if results.send(r).await.is_err() {
            return;
        }
    }
}

async fn run_job(ctx: &Ctx, index: usize) -> JobResult {
    let policy = &ctx.opts.retry;
    let mut backoff = policy.initial_backoff;
    let mut attempt = 0u32;
    loop {
        if ctx.cancelled() {
            return JobResult {
                outcome: Outcome::Cancelled,
                timings: Timings::default(),
            };
        }
        let (ei, in_flight) = pick(&ctx.engines);
        let engine = &ctx.engines[ei];
        let mut timings = Timings::default();
        let res = attempt_once(ctx, engine, index, attempt, &mut timings).await;
        drop(in_flight);
        let outcome = match res {
            Ok(exit_code) => {
                if exit_code != 0 {
                    engine.failed.fetch_add(1, Relaxed);
                }
                Outcome::Exited { exit_code }
            }
            Err(AttemptError::Cancelled) => Outcome::Cancelled,
            Err(AttemptError::BeforeStart(e))
                if e.is_transient() && attempt + 1 < policy.max_attempts =>
            {
                if matches!(e, Error::Connect { .. } | Error::Io { .. }) {
                    engine.mark_down();
                }
                let why = reason(&e, engine.host());
                ctx.emit(Progress::Retrying {
                    index,
                    engine: ei,
                    attempt: attempt + 1,
                    reason: why,
                });
                attempt += 1;
                select! {
                    _ = crate::time::sleep(backoff) => {},
                    _ = ctx.cancel.recv() => {},
                }
                backoff = (backoff * 2).min(policy.max_backoff);
                continue;
            }
            Err(AttemptError::BeforeStart(e)) | Err(AttemptError::AfterStart(e)) => {
                if matches!(e, Error::Connect { .. } | Error::Io { .. }) {
                    engine.mark_down();
                }
                engine.failed.fetch_add(1, Relaxed);
                let why = reason(&e, engine.host());
                ctx.emit(Progress::Failed {
                    index,
                    engine: Some(ei),
                    reason: why.clone(),
                });
                Outcome::Failed {
                    reason: why,
                    permanent: is_permanent(&e).then_some(e),
                }
            }
        };
        return JobResult { outcome, timings };
    }
}

/// create → wait registered → start → wait → (logs) → remove, on one
/// engine. Once the container exists, every way out removes it (unless
/// it ran to completion and the batch keeps containers).
async fn attempt_once(
    ctx: &Ctx,
    engine: &Engine,
    index: usize,
    attempt: u32,
    t: &mut Timings,
) -> Result<i64, AttemptError> {
    let docker = &engine.docker;
    let name = format!("{}-{index}", ctx.batch);
    let spec = ctx.spec.clone().name(&name);
    let clock = Instant::now();
    let id = match docker.create(&spec).await {
        Ok(c) => c.id,
        // A retry whose first create did happen (its reply was lost): the
        // name is ours, so is the container.
        Err(e) if e.is_conflict() && attempt > 0 => match docker.inspect(&name).await {
            Ok(info) if info.config.labels.get(BATCH_LABEL) == Some(&ctx.batch) => info.id,
            _ => return Err(AttemptError::BeforeStart(e)),
        },
        Err(e) => return Err(AttemptError::BeforeStart(e)),
    };
    t.create = Some(clock.elapsed());
    engine.launched.fetch_add(1, Relaxed);
    ctx.emit(Progress::Created {
        index,
        engine: engine_index(ctx, engine),
        id: id.clone(),
    });

    let ran = run_created(ctx, engine, index, &id, t).await;
    let keep = ctx.opts.keep && ran.is_ok();
    if !keep {
        let clock = Instant::now();
        // Always forced: a container whose run failed may still be running,
        // and forcing an exited one costs nothing measurable.
        // On error (gone already, or the engine is down) the final
        // reconciliation, or `cleanup` once it is back, takes care of it.
        if docker.remove(&id, FORCE).await.is_ok() {
            t.remove = Some(clock.elapsed());
            ctx.emit(Progress::Removed {
                index,
                engine: engine_index(ctx, engine),
            });
        }
    }
    ran
}

fn engine_index(ctx: &Ctx, engine: &Engine) -> usize {
    ctx.engines
        .iter()
        .position(|e| std::ptr::eq(e, engine))
        .unwrap_or(0)
}

async fn run_created(
    ctx: &Ctx,
    engine: &Engine,
    index: usize,
    id: &str,
    t: &mut Timings,
) -> Result<i64, AttemptError> {
    let docker = &engine.docker;
    if ctx.cancelled() {
        return Err(AttemptError::Cancelled);
    }
    let clock = Instant::now();
    let wait = docker
        .start_watched(id)
        .await
        .map_err(AttemptError::BeforeStart)?;
    t.start = Some(clock.elapsed());
    let ei = engine_index(ctx, engine);
    ctx.emit(Progress::Started { index, engine: ei });
    let clock = Instant::now();
    let exit = select! {
        r = wait => r.map_err(AttemptError::AfterStart)?,
        _ = ctx.cancel.recv() => return Err(AttemptError::Cancelled),
    };
    t.wait = Some(clock.elapsed());
    ctx.emit(Progress::Exited {
        index,
        engine: ei,
        exit_code: exit.status_code,
    });
    if ctx.opts.collect_logs {
        let clock = Instant::now();
        // Best effort: the container ran and its exit code stands; logs
        // that cannot be read (within the deadline) do not fail it.
        let _ = docker.output(id, Some(ctx.spec.is_tty())).await;
        t.logs = Some(clock.elapsed());
    }
    Ok(exit.status_code)
}

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

/// Cancels the batch and cleans up if the launch future is dropped.
struct CancelGuard {
    cancel: Option<Sender<()>>,
    workers: WaitGroup,
    engines: Arc<[Engine]>,
    batch: String,
}

impl CancelGuard {
    fn cancel(&self) {
        if let Some(c) = &self.cancel {
            c.close();
        }
    }

    fn disarm(mut self) {
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

fn build_report(
    ctx: &Ctx,
    results: Vec<JobResult>,
    elapsed: Duration,
    reconciled: usize,
) -> Report {
    let phase = |f: fn(&Timings) -> Option<Duration>| {
        PhaseStats::from_samples(results.iter().filter_map(|r| f(&r.timings)).collect())
    };
    let phases = Phases {
        create: phase(|t| t.create),
        start: phase(|t| t.start),
        wait: phase(|t| t.wait),
        logs: phase(|t| t.logs),
        remove: phase(|t| t.remove),
    };
    let mut exit_codes = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    let (mut succeeded, mut failed, mut cancelled, mut exited) = (0, 0, 0, 0);
    for r in &results {
        match &r.outcome {
            Outcome::Exited { exit_code } => {
                exited += 1;
                *exit_codes.entry(*exit_code).or_insert(0) += 1;
                if *exit_code == 0 {
                    succeeded += 1;
                } else {
                    failed += 1;
                    failures.push(format!("exit code {exit_code}"));
                }
            }
            Outcome::Failed { reason, .. } => {
                failed += 1;
                failures.push(reason.clone());
            }
            Outcome::Cancelled => cancelled += 1,
        }
    }
    let elapsed_s = elapsed.as_secs_f64();
    Report {
        batch: ctx.batch.clone(),
        count: ctx.opts.count,
        succeeded,
        failed,
        cancelled: cancelled + ctx.opts.count.saturating_sub(results.len()),
        elapsed_s,
        containers_per_s: if elapsed_s > 0.0 {
            exited as f64 / elapsed_s
        } else {
            0.0
        },
        phases,
        failures: group_failures(&ctx.batch, failures),
        exit_codes,
        engines: ctx
            .engines
            .iter()
            .map(|e| EngineReport {
                host: e.host().to_owned(),
                launched: e.launched.load(Relaxed),
                failed: e.failed.load(Relaxed),
            })
            .collect(),
        reconciled,
    }
}
