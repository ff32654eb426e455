//! The task pool that runs one batch.
//!
//! Protocol: options are validated and the logs directory opened before
//! anything is created. Then a feeder task sends the indices `0..count`
//! into a bounded jobs channel (stopping at cancellation), `concurrency`
//! worker tasks take indices and run each container (`retry.rs`,
//! `container.rs`), and results go to an unbounded results channel that a
//! WaitGroup over the workers closes; nothing is sized by `count`, results
//! stream to the collector (this future), which forwards each as
//! [`Progress::Finished`]. Beside them: a health probe per engine
//! (`engine.rs`) and the deadline timer, both stopped by the *finished*
//! channel. A spec error cancels the batch once and becomes its error.
//! When the results channel closes, the sweep (`reconcile.rs`) runs and the
//! report is built. If this future is dropped, `CancelGuard`
//! (`cancel.rs`) cancels and sweeps in the background.

use super::cancel::{CancelGuard, Reason, Signals};
use super::engine::Engine;
use super::output::Output;
use super::reconcile::sweep;
use super::report::{
    count_failures, ContainerResult, EngineReport, EngineState, OutputReport, PhaseStats, Phases,
    Report, RetryCount,
};
use super::retry::run_job;
use super::warm::warm_worker;
use super::{FailureKind, LaunchError, LaunchOptions, Mode, Progress, WarmReport, BATCH_LABEL};
use crate::chan::{self, Receiver, Sender};
use crate::docker::{ContainerSpec, Docker, Error};
use crate::sync::WaitGroup;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything the workers share.
pub(super) struct Ctx {
    pub(super) engines: Arc<[Engine]>,
    pub(super) spec: ContainerSpec,
    pub(super) batch: String,
    pub(super) opts: LaunchOptions,
    progress: Option<Sender<Progress>>,
    pub(super) signals: Arc<Signals>,
    pub(super) output: Option<Arc<Output>>,
    /// Retries by (from engine, to engine, kind).
    retries: Mutex<BTreeMap<(usize, usize, FailureKind), usize>>,
    /// Warm mode: the spec of the worker containers (labelled, kept alive
    /// by the warm command), and their counts.
    pub(super) warm: Option<WarmCtx>,
}

pub(super) struct WarmCtx {
    pub(super) spec: ContainerSpec,
    pub(super) started: AtomicUsize,
    pub(super) replaced: AtomicUsize,
}

impl Ctx {
    pub(super) fn emit(&self, p: Progress) {
        p.trace(&self.batch, &self.engines);
        if let Some(tx) = &self.progress {
            let _ = tx.try_send(p);
        }
    }

    pub(super) fn note_retry(&self, from: usize, to: usize, kind: FailureKind) {
        *self.retries.lock().entry((from, to, kind)).or_default() += 1;
        self.engines[from].book.lock().retried_away += 1;
    }
}

/// One container's result, and the error that stops the batch if it was
/// a spec failure.
pub(super) struct JobResult {
    pub(super) result: ContainerResult,
    pub(super) spec_error: Option<Error>,
}

pub(super) async fn launch(
    dockers: Arc<[Docker]>,
    unreachable: Arc<[(String, Error)]>,
    spec: ContainerSpec,
    opts: LaunchOptions,
    progress: Option<Sender<Progress>>,
    batch: String,
    signals: Arc<Signals>,
) -> Result<Report, LaunchError> {
    // Nothing is created before every check has passed.
    opts.validate()?;
    let no_cmd = spec.get_cmd().is_none_or(<[String]>::is_empty);
    if matches!(opts.mode, Mode::Warm { .. }) && opts.jobs.is_none() && no_cmd {
        return Err(LaunchError::InvalidOptions {
            option: "cmd",
            reason: "warm mode execs the spec's command in its containers: give one".into(),
        });
    }
    let output = match &opts.logs_dir {
        Some(dir) => Some(Arc::new(Output::start(dir).map_err(|e| {
            LaunchError::LogsDir {
                path: dir.clone(),
                reason: e.to_string(),
            }
        })?)),
        None => None,
    };
    let started = Instant::now();
    let engines: Arc<[Engine]> = dockers
        .iter()
        .enumerate()
        .map(|(i, d)| Engine::new(i, d.clone()))
        .collect();
    let spec = spec
        .clone()
        .label(BATCH_LABEL, batch.clone())
        .auto_remove(false);
    let warm = match opts.mode {
        Mode::Run => None,
        Mode::Warm { .. } => {
            let (program, args) = opts.warm_command.split_first().expect("validated");
            Some(WarmCtx {
                spec: spec
                    .clone()
                    .entrypoint([program.clone()])
                    .cmd(args.iter().cloned()),
                started: AtomicUsize::new(0),
                replaced: AtomicUsize::new(0),
            })
        }
    };
    let ctx = Arc::new(Ctx {
        engines: engines.clone(),
        spec,
        warm,
        batch: batch.clone(),
        opts: opts.clone(),
        progress,
        signals: signals.clone(),
        output,
        retries: Mutex::new(BTreeMap::new()),
    });

    // Closed when the batch is over: stops the probes and the deadline.
    let (finished_tx, finished_rx) = chan::bounded::<()>(0);
    for i in 0..engines.len() {
        let (ctx, stop) = (ctx.clone(), finished_rx.clone());
        drop(crate::spawn(async move {
            let on_down = |kind, reason| {
                ctx.emit(Progress::EngineDown {
                    engine: i,
                    kind,
                    reason,
                })
            };
            ctx.engines[i]
                .probe(ctx.opts.connect_timeout, &stop, on_down)
                .await;
        }));
    }
    if let Some(d) = opts.deadline {
        let (signals, stop) = (signals.clone(), finished_rx.clone());
        drop(crate::spawn(async move {
            select! {
                _ = crate::time::sleep(d) => signals.cancel(Reason::Deadline),
                _ = stop.recv() => {},
            }
        }));
    }

    // The task pool: jobs → workers → results; a WaitGroup over the
    // workers closes the results channel.
    let concurrency = opts.workers().min(opts.count);
    let (jobs_tx, jobs_rx) = chan::bounded::<usize>(concurrency);
    let (results_tx, results_rx) = chan::unbounded::<JobResult>();
    let workers = WaitGroup::new();
    for slot in 0..concurrency {
        let (ctx, jobs, results) = (ctx.clone(), jobs_rx.clone(), results_tx.clone());
        match opts.mode {
            Mode::Run => drop(workers.spawn(worker(ctx, jobs, results))),
            Mode::Warm { .. } => drop(workers.spawn(warm_worker(ctx, slot, jobs, results))),
        }
    }
    drop(jobs_rx);
    {
        let workers = workers.clone();
        drop(crate::spawn(async move {
            workers.wait().await;
            results_tx.close();
        }));
    }
    {
        let ctx = ctx.clone();
        let count = opts.count;
        drop(crate::spawn(async move {
            for index in 0..count {
                select! {
                    r = jobs_tx.send(index) => if r.is_err() { return },
                    _ = ctx.signals.cancel.recv() => return,
                }
            }
        }));
    }

    // If this future is dropped, cancel and clean up in the background.
    let guard = CancelGuard {
        signals: Some(signals.clone()),
        workers,
        engines: engines.clone(),
        batch: batch.clone(),
        keep: opts.keep,
        settle_for: opts.connect_timeout,
    };

    let mut results = Vec::new();
    let mut spec_error: Option<(FailureKind, String, Error)> = None;
    while let Some(r) = results_rx.recv().await {
        if let (Some(e), None) = (r.spec_error, &spec_error) {
            let kind = r.result.kind.unwrap_or(FailureKind::SpecInvalid);
            let reason = r.result.message.clone().unwrap_or_default();
            spec_error = Some((kind, reason, e));
            signals.cancel(Reason::Spec);
        }
        ctx.emit(Progress::Finished(Box::new(r.result.clone())));
        results.push(r.result);
    }
    // Every worker is done: nothing of ours is in flight any more.
    let reconciled = sweep(
        &engines,
        &batch,
        opts.keep && spec_error.is_none(),
        signals.sweep_deadline(),
        opts.connect_timeout,
    )
    .await;
    guard.disarm();
    finished_tx.close();
    if let Some((kind, reason, source)) = spec_error {
        return Err(LaunchError::Spec {
            kind,
            reason,
            source,
        });
    }
    Ok(build_report(
        &ctx,
        results,
        started.elapsed(),
        reconciled,
        &unreachable,
    ))
}

async fn worker(ctx: Arc<Ctx>, jobs: Receiver<usize>, results: Sender<JobResult>) {
    loop {
        let index = select! {
            j = jobs.recv() => match j { Some(i) => i, None => return },
            _ = ctx.signals.cancel.recv() => return,
        };
        let r = run_job(&ctx, index).await;
        if results.send(r).await.is_err() {
            return;
        }
    }
}

fn build_report(
    ctx: &Ctx,
    mut results: Vec<ContainerResult>,
    elapsed: Duration,
    reconciled: usize,
    unreachable: &[(String, Error)],
) -> Report {
    results.sort_by_key(|r| r.index);
    // What may be left anywhere, by name.
    let left: std::collections::BTreeSet<String> = ctx
        .engines
        .iter()
        .flat_map(|e| e.book.lock().maybe_left.iter().cloned().collect::<Vec<_>>())
        .collect();
    for r in &mut results {
        r.removed = !r.kept && !left.contains(&r.name);
    }
    let phase = |f: fn(&ContainerResult) -> Option<Duration>| {
        PhaseStats::from_samples(results.iter().filter_map(f).collect())
    };
    let phases = Phases {
        create: phase(|r| r.timings.create),
        start: phase(|r| r.timings.start),
        wait: phase(|r| r.timings.wait),
        output: phase(|r| r.timings.output),
        remove: phase(|r| r.timings.remove),
        exit: phase(|r| r.timings.exit),
    };
    let mut exit_codes = BTreeMap::new();
    let (mut succeeded, mut failed, mut cancelled, mut exited) = (0, 0, 0, 0);
    for r in &results {
        if let Some(code) = r.exit_code {
            exited += 1;
            *exit_codes.entry(code).or_insert(0) += 1;
        }
        match r.kind {
            None => succeeded += 1,
            Some(FailureKind::Cancelled | FailureKind::DeadlineExceeded) => cancelled += 1,
            Some(_) => failed += 1,
        }
    }
    let hosts: Vec<String> = ctx.engines.iter().map(|e| e.host().to_owned()).collect();
    let mut engines: Vec<EngineReport> = ctx
        .engines
        .iter()
        .map(|e| {
            let state = e.state();
            let b = e.book.lock();
            EngineReport {
                host: e.host().to_owned(),
                state,
                error: b.error.clone(),
                launched: b.launched,
                failed: b.failed,
                retried_away: b.retried_away,
                not_removed: b.maybe_left.iter().cloned().collect(),
                abandoned_requests: e.docker.abandoned_requests(),
            }
        })
        .collect();
    engines.extend(unreachable.iter().map(|(host, err)| EngineReport {
        host: host.clone(),
        state: EngineState::Unreachable,
        error: Some(err.to_string()),
        launched: 0,
        failed: 0,
        retried_away: 0,
        not_removed: Vec::new(),
        abandoned_requests: 0,
    }));
    let retries: Vec<RetryCount> = ctx
        .retries
        .lock()
        .iter()
        .map(|(&(from, to, kind), &count)| RetryCount {
            from: hosts[from].clone(),
            to: hosts[to].clone(),
            kind,
            count,
        })
        .collect();
    let cleanup_hosts = engines
        .iter()
        .filter(|e| !e.not_removed.is_empty() || e.abandoned_requests > 0)
        .map(|e| e.host.clone())
        .collect();
    let elapsed_s = elapsed.as_secs_f64();
    let output = match &ctx.output {
        Some(o) => {
            let (stdout_bytes, stderr_bytes, peak_buffered_bytes) = o.totals();
            OutputReport {
                dir: Some(o.dir.clone()),
                stdout_bytes,
                stderr_bytes,
                peak_buffered_bytes,
            }
        }
        None => OutputReport::default(),
    };
    Report {
        batch: ctx.batch.clone(),
        count: ctx.opts.count,
        succeeded,
        failed,
        cancelled: cancelled + ctx.opts.count.saturating_sub(results.len()),
        deadline_exceeded: ctx.signals.reason() == Some(Reason::Deadline),
        elapsed_s,
        containers_per_s: if elapsed_s > 0.0 {
            exited as f64 / elapsed_s
        } else {
            0.0
        },
        phases,
        failures: count_failures(&results, &hosts),
        exit_codes,
        retried: retries.iter().map(|r| r.count).sum(),
        retries,
        not_removed: engines.iter().map(|e| e.not_removed.len()).sum(),
        engines,
        cleanup_hosts,
        reconciled,
        output,
        warm: match (&ctx.warm, ctx.opts.mode) {
            (Some(w), Mode::Warm { containers }) => Some(WarmReport {
                containers,
                started: w.started.load(Relaxed),
                replaced: w.replaced.load(Relaxed),
            }),
            _ => None,
        },
        containers: results,
    }
}
