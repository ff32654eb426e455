//! The task pool that runs one batch.
//!
//! Protocol: a feeder task sends the indices `0..count` into a bounded jobs
//! channel (stopping at cancellation); `concurrency` worker tasks take
//! indices and run each container's lifecycle (`retry.rs`,
//! `container.rs`); results go to an unbounded results channel that a
//! WaitGroup over the workers closes. The collector (this future) reads
//! results until the channel closes, then sweeps the batch label
//! (`reconcile.rs`) and builds the report. A permanent (spec) error closes
//! the cancel channel once and becomes the batch's error. If this future
//! is dropped, `CancelGuard` (`cancel.rs`) cancels and sweeps in the
//! background.

use super::cancel::CancelGuard;
use super::engine::Engine;
use super::reconcile::reconcile;
use super::report::{group_failures, EngineReport, PhaseStats, Phases, Report};
use super::retry::run_job;
use super::{LaunchError, LaunchOptions, Progress, BATCH_LABEL};
use crate::chan::{self, Receiver, Sender};
use crate::docker::{ContainerSpec, Error};
use crate::sync::WaitGroup;
use std::sync::atomic::Ordering::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything the workers share.
pub(super) struct Ctx {
    pub(super) engines: Arc<[Engine]>,
    pub(super) spec: ContainerSpec,
    pub(super) batch: String,
    pub(super) opts: LaunchOptions,
    pub(super) progress: Option<Sender<Progress>>,
    /// Closed to cancel; a closed channel is always ready in `select!`.
    pub(super) cancel: Receiver<()>,
}

impl Ctx {
    pub(super) fn emit(&self, p: Progress) {
        if let Some(tx) = &self.progress {
            let _ = tx.try_send(p);
        }
    }

    pub(super) fn cancelled(&self) -> bool {
        self.cancel.is_closed()
    }
}

/// The phases one container went through.
#[derive(Default)]
pub(super) struct Timings {
    pub(super) create: Option<Duration>,
    pub(super) start: Option<Duration>,
    pub(super) wait: Option<Duration>,
    pub(super) logs: Option<Duration>,
    pub(super) remove: Option<Duration>,
}

pub(super) enum Outcome {
    Exited {
        exit_code: i64,
    },
    Failed {
        reason: String,
        permanent: Option<Error>,
    },
    Cancelled,
}

pub(super) struct JobResult {
    pub(super) outcome: Outcome,
    pub(super) timings: Timings,
}

/// Why one attempt stopped.
pub(super) enum AttemptError {
    /// Before the container started: a transient one may be retried.
    BeforeStart(Error),
    /// After it started: it may have run, so it is not retried.
    AfterStart(Error),
    Cancelled,
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
