//! Warm mode: the task pool with containers as the workers.
//!
//! Protocol: the pool (`pool.rs`) is unchanged — a jobs channel, K
//! workers, a results channel closed by a WaitGroup over the workers —
//! but each worker owns one long-lived *worker container*, started from
//! the spec with the warm command (it only waits) on the least-loaded
//! engine when the worker takes its first job, and runs every job it
//! takes as an exec in it (`exec_job.rs`). The K containers start
//! concurrently, one per worker.
//!
//! Worker containers carry the batch label and a name of their own
//! (`<batch>-w<worker>`, a replacement `<batch>-w<worker>-<n>`), noted on
//! their engine as *maybe left* before the create, cleared once their
//! removal is seen — the same bookkeeping, sweep and undertakers as the
//! run mode's containers. A worker removes its container when the jobs
//! channel closes or the batch is cancelled (the removal kills a job still
//! running in it); the batch's final sweep removes anything else by label.
//!
//! Replacement: a job that finds its container gone, dead or on a failed
//! engine gets [`WorkerAfter::Replace`]; the worker removes the container
//! and starts another before its next exec. The job runs once more on the
//! fresh container if it had not started (once only); a job that had
//! started is reported ([`FailureKind::WorkerLost`], or the engine's
//! failure), never run twice. A job over the timeout is killed by
//! replacing its container. A worker whose fresh containers are lost twice
//! in a row before a job could start in them has a warm command that does
//! not wait: that is a spec failure and stops the batch. Starting a
//! container retries engine failures like the run mode
//! ([`RetryPolicy`](super::RetryPolicy)).

use super::container::{guarded, Attempt, Stop};
use super::engine::{pick, Engine, InFlight};
use super::exec_job::{exec_job, WorkerAfter};
use super::failure::Phase;
use super::pool::{Ctx, JobResult};
use super::reconcile::FORCE;
use super::report::ContainerResult;
use super::{FailureKind, Progress};
use crate::chan::{Receiver, Sender};
use crate::docker::client::Undo;
use crate::docker::Error;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// A running worker container.
struct WarmContainer<'a> {
    engine: &'a Engine,
    id: String,
    name: String,
    /// Jobs whose exec started in it.
    jobs: usize,
    _in_flight: InFlight<'a>,
}

/// One worker: its slot, its container and its history.
struct Worker<'a> {
    ctx: &'a Ctx,
    slot: usize,
    /// Containers started by this worker (names the next one).
    generation: usize,
    current: Option<WarmContainer<'a>>,
    /// Fresh containers lost in a row before a job started in them.
    fresh_losses: u32,
}

/// A worker of the warm pool: takes job indices until the jobs channel
/// closes or the batch is cancelled, then removes its container.
pub(super) async fn warm_worker(
    ctx: Arc<Ctx>,
    slot: usize,
    jobs: Receiver<usize>,
    results: Sender<JobResult>,
) {
    let mut w = Worker {
        ctx: &ctx,
        slot,
        generation: 0,
        current: None,
        fresh_losses: 0,
    };
    loop {
        let index = select! {
            j = jobs.recv() => match j { Some(i) => i, None => break },
            _ = ctx.signals.cancel.recv() => break,
        };
        let r = w.run(index).await;
        if results.send(r).await.is_err() {
            break;
        }
    }
    if let Some(c) = w.current.take() {
        remove(&ctx, c).await;
    }
}

impl<'a> Worker<'a> {
    /// Runs one job to its result: starting or replacing the container as
    /// needed, retrying a job that did not start once.
    async fn run(&mut self, index: usize) -> JobResult {
        let ctx = self.ctx;
        let policy = &ctx.opts.retry;
        let mut backoff = policy.initial_backoff;
        let (mut attempts, mut start_failures) = (0u32, 0u32);
        let mut reran = false;
        let mut moved_from: Option<(usize, FailureKind)> = None;
        loop {
            if let Some(r) = ctx.signals.reason() {
                let mut a = Attempt::default();
                a.fail(r.kind(), "not started: the batch was cancelled");
                let (engine, name) = self.placement();
                return result(ctx, index, attempts, engine, name, a);
            }
            if self.current.is_none() {
                match self.start().await {
                    Ok(c) => self.current = Some(c),
                    Err(a) => {
                        start_failures += 1;
                        let again = a.retryable
                            && a.spec_error.is_none()
                            && start_failures < policy.max_attempts
                            && !ctx.signals.is_cancelled();
                        if !again {
                            return result(ctx, index, attempts, None, String::new(), a);
                        }
                        select! {
                            _ = crate::time::sleep(backoff) => {},
                            _ = ctx.signals.cancel.recv() => {},
                        }
                        backoff = (backoff * 2).min(policy.max_backoff);
                        continue;
                    }
                }
            }
            let c = self.current.as_mut().expect("just started");
            if let Some((from, kind)) = moved_from.take() {
                ctx.note_retry(from, c.engine.index, kind);
            }
            attempts += 1;
            let mut out = exec_job(ctx, c.engine, &c.id, index).await;
            if out.a.started {
                c.jobs += 1;
                self.fresh_losses = 0;
            }
            let (engine, name) = (c.engine.index, c.name.clone());
            let WorkerAfter::Replace(why) = out.worker else {
                return result(ctx, index, attempts, Some(engine), name, out.a);
            };
            let c = self.current.take().expect("present");
            let fresh = c.jobs == 0;
            ctx.warm
                .as_ref()
                .expect("warm mode")
                .replaced
                .fetch_add(1, Relaxed);
            ctx.emit(Progress::WorkerReplaced {
                worker: self.slot,
                engine,
                reason: why,
            });
            remove(ctx, c).await;
            if fresh && !out.a.started {
                self.fresh_losses += 1;
                if self.fresh_losses >= 2 {
                    let e = Error::ContainerNotRunning {
                        container: name.clone(),
                        message: format!(
                            "warm containers stop on their own: the warm command {:?} must wait",
                            ctx.opts.warm_command
                        ),
                    };
                    out.a.fail(FailureKind::SpecInvalid, e.to_string());
                    out.a.spec_error = Some(e);
                    return result(ctx, index, attempts, Some(engine), name, out.a);
                }
            }
            let again = out.a.retryable && !reran && !ctx.signals.is_cancelled();
            if !again {
                return result(ctx, index, attempts, Some(engine), name, out.a);
            }
            reran = true;
            let kind = out.a.kind.unwrap_or(FailureKind::WorkerLost);
            ctx.emit(Progress::Retrying {
                index,
                engine,
                attempt: attempts,
                kind,
                reason: out.a.message.take().unwrap_or_default(),
            });
            moved_from = Some((engine, kind));
        }
    }

    /// Where the worker's container is, if it has one.
    fn placement(&self) -> (Option<usize>, String) {
        match &self.current {
            Some(c) => (Some(c.engine.index), c.name.clone()),
            None => (None, String::new()),
        }
    }

    /// Creates and starts a worker container on the least-loaded engine.
    async fn start(&mut self) -> Result<WarmContainer<'a>, Attempt> {
        let ctx = self.ctx;
        let mut a = Attempt::default();
        let Some((ei, in_flight)) = pick(&ctx.engines) else {
            a.fail(FailureKind::EngineTimeout, "every engine stopped answering");
            a.retryable = false;
            return Err(a);
        };
        let engine = &ctx.engines[ei];
        let docker = &engine.docker;
        let warm = ctx.warm.as_ref().expect("warm mode");
        let name = match self.generation {
            0 => format!("{}-w{}", ctx.batch, self.slot),
            n => format!("{}-w{}-{n}", ctx.batch, self.slot),
        };
        self.generation += 1;
        let spec = warm.spec.clone().name(&name);
        engine.note_maybe_left(&name);
        let id = match guarded(ctx, engine, docker.create(&spec)).await {
            Ok(c) => c.id,
            Err(stop) => {
                if let Stop::Failed(e) = &stop {
                    if matches!(e, Error::Connect { .. } | Error::Api { status: 400, .. })
                        || e.is_not_found()
                    {
                        engine.note_gone(&name);
                    }
                }
                let (mut kind, message) = ctx.stopped(engine, &stop, Phase::Create);
                if let Stop::Failed(e) = stop {
                    if e.is_not_found() {
                        let image = guarded(ctx, engine, docker.inspect_image(spec.image())).await;
                        if matches!(&image, Err(Stop::Failed(ie)) if ie.is_not_found()) {
                            kind = FailureKind::ImageMissing;
                        }
                    }
                    if kind.is_spec_failure() {
                        a.spec_error = Some(e);
                    }
                }
                a.fail(kind, message);
                return Err(a);
            }
        };
        engine.book.lock().launched += 1;
        warm.started.fetch_add(1, Relaxed);
        let c = WarmContainer {
            engine,
            id,
            name,
            jobs: 0,
            _in_flight: in_flight,
        };
        let start = docker.start_with(&c.id, Undo::Remove(c.id.clone()));
        if let Err(stop) = guarded(ctx, engine, start).await {
            let (kind, message) = ctx.stopped(engine, &stop, Phase::Start);
            a.fail(kind, message);
            if let Stop::Failed(e) = stop {
                if kind.is_spec_failure() {
                    a.spec_error = Some(e);
                }
            }
            remove(ctx, c).await;
            return Err(a);
        }
        ctx.emit(Progress::WorkerStarted {
            worker: self.slot,
            engine: ei,
            id: c.id.clone(),
        });
        Ok(c)
    }
}

/// Removes a worker container (killing what runs in it): directly, or in
/// the background when its engine is hung or the batch aborted.
async fn remove(ctx: &Ctx, c: WarmContainer<'_>) {
    let (engine, docker) = (c.engine, &c.engine.docker);
    if engine.is_hung() || ctx.signals.is_aborted() {
        docker.remove_detached(&c.id);
        return;
    }
    match guarded(ctx, engine, docker.remove(&c.id, FORCE)).await {
        Ok(()) | Err(Stop::Failed(Error::NotFound { .. })) => engine.note_gone(&c.name),
        // The final sweep (or `cleanup`, once the engine is back) sees to it.
        Err(Stop::Failed(e)) => {
            ctx.stopped(engine, &Stop::Failed(e), Phase::Run);
        }
        Err(Stop::Hung | Stop::Aborted) => docker.remove_detached(&c.id),
    }
}

/// A job's result.
fn result(
    ctx: &Ctx,
    index: usize,
    attempts: u32,
    engine: Option<usize>,
    name: String,
    a: Attempt,
) -> JobResult {
    if let (Some(ei), Some(kind)) = (engine, a.kind) {
        if !matches!(kind, FailureKind::Cancelled | FailureKind::DeadlineExceeded) {
            ctx.engines[ei].book.lock().failed += 1;
        }
    }
    JobResult {
        result: ContainerResult {
            index,
            line: ctx.opts.job_line(index),
            name,
            engine,
            attempts,
            exit_code: a.exit_code,
            kind: a.kind,
            message: a.message,
            stdout_bytes: a.stdout_bytes,
            stderr_bytes: a.stderr_bytes,
            // Set by the pool once it knows what is left.
            removed: false,
            kept: false,
            timings: a.timings,
            node: None,
        },
        spec_error: a.spec_error,
    }
}
