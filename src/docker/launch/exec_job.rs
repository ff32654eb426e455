//! One job of a warm batch: an exec in a worker container — exec create →
//! exec start (hijacked) → the output read to its end → the exit code,
//! timed per phase.
//!
//! Protocol: every call is guarded like the run mode's (`container.rs`):
//! it races the engine's hung signal and the batch's abort signal. While
//! the output is read, the job also races its timeout and the batch's
//! cancel signal. What the job says about its worker container decides
//! what the worker does next (`warm.rs`): [`WorkerAfter::Fine`] keeps it;
//! [`WorkerAfter::Replace`] removes it — which also kills a job still
//! running in it (the Engine API cannot kill an exec) — and starts a new
//! one. A job whose exec never started (the container was already gone,
//! the engine failed before the start) is marked retryable; one that
//! started is reported, never run twice. A non-zero exit code is checked
//! against its container: a container that stopped or was paused under the
//! exec (killed: 137; the runtime refused the exec: 126) is a lost worker, not the job's
//! own failure.

use super::container::{close, guarded, Attempt, Stop};
use super::engine::Engine;
use super::failure::Phase;
use super::output::Files;
use super::pool::Ctx;
use super::{FailureKind, Progress};
use crate::docker::{Error, ExecSpec, LogStream, StreamKind};
use std::time::Instant;

/// What the worker should do with its container after a job.
pub(super) enum WorkerAfter {
    /// Keep using it.
    Fine,
    /// Remove it (killing whatever still runs in it) and start another.
    Replace(String),
}

/// A job's attempt, and the state of its worker container.
pub(super) struct ExecOutcome {
    pub(super) a: Attempt,
    pub(super) worker: WorkerAfter,
}

/// Runs job `index` in `container` on `engine`.
pub(super) async fn exec_job(
    ctx: &Ctx,
    engine: &Engine,
    container: &str,
    index: usize,
) -> ExecOutcome {
    let mut a = Attempt::default();
    let worker = run(ctx, engine, container, index, &mut a).await;
    ExecOutcome { a, worker }
}

/// The worker is lost for this job: mark it so.
fn worker_lost(a: &mut Attempt, container: &str, e: &Error) -> WorkerAfter {
    a.fail(
        FailureKind::WorkerLost,
        format!("worker container {container} is gone: {e}"),
    );
    // Not the engine's fault, but the job may run on a fresh worker if it
    // had not started.
    a.retryable = !a.started;
    WorkerAfter::Replace(e.to_string())
}

/// A stopped call: its kind; the worker is replaced after an engine
/// failure (its state is unknown).
fn stopped(ctx: &Ctx, engine: &Engine, a: &mut Attempt, stop: &Stop, phase: Phase) -> WorkerAfter {
    let (kind, message) = ctx.stopped(engine, stop, phase);
    a.fail(kind, message.clone());
    a.retryable = kind.is_engine_failure() && !a.started;
    if kind.is_engine_failure() {
        WorkerAfter::Replace(message)
    } else {
        WorkerAfter::Fine
    }
}

async fn run(
    ctx: &Ctx,
    engine: &Engine,
    container: &str,
    index: usize,
    a: &mut Attempt,
) -> WorkerAfter {
    if let Some(r) = ctx.signals.reason() {
        a.fail(r.kind(), "not started: the batch was cancelled");
        return WorkerAfter::Fine;
    }
    let docker = &engine.docker;
    let args: Vec<String> = match ctx.opts.job_args(index) {
        Some(args) => args.to_vec(),
        None => ctx.spec.get_cmd().unwrap_or_default().to_vec(),
    };
    let tty = ctx.spec.is_tty();
    let spec = ExecSpec::new(args).tty(tty);
    let mut files = None;
    if let Some(out) = &ctx.output {
        match out.open(&format!("{}-{index}", ctx.batch)).await {
            Ok(f) => files = Some(f),
            Err(e) => {
                a.fail(
                    FailureKind::OutputLost,
                    format!("opening the output files: {e}"),
                );
                return WorkerAfter::Fine;
            }
        }
    }

    let clock = Instant::now();
    let exec_id = match guarded(ctx, engine, docker.exec_create(container, &spec)).await {
        Ok(id) => id,
        Err(Stop::Failed(e @ (Error::ContainerNotRunning { .. } | Error::NotFound { .. }))) => {
            close(files, a).await;
            return worker_lost(a, container, &e);
        }
        Err(stop) => {
            close(files, a).await;
            return stopped(ctx, engine, a, &stop, Phase::Start);
        }
    };
    a.timings.create = Some(clock.elapsed());
    ctx.emit(Progress::Created {
        index,
        engine: engine.index,
        id: exec_id.clone(),
    });

    let clock = Instant::now();
    let stream = match guarded(ctx, engine, docker.exec_start(&exec_id, tty)).await {
        Ok(s) => s,
        // Refused before it ran: the container stopped since the create.
        Err(Stop::Failed(e @ (Error::Conflict { .. } | Error::NotFound { .. }))) => {
            close(files, a).await;
            return worker_lost(a, container, &e);
        }
        Err(stop) => {
            // The start may have been sent: the command may run.
            a.started = true;
            close(files, a).await;
            return stopped(ctx, engine, a, &stop, Phase::Start);
        }
    };
    a.started = true;
    a.timings.start = Some(clock.elapsed());
    ctx.emit(Progress::Started {
        index,
        engine: engine.index,
    });

    let clock = Instant::now();
    let limit = ctx.opts.timeout;
    let timer = async move {
        match limit {
            Some(d) => crate::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    enum Woke {
        Done(Result<(u64, u64), Error>),
        TimedOut,
        Cancelled,
        Hung,
    }
    let woke = {
        let read = read_output(stream, files.as_ref());
        select! {
            r = read => Woke::Done(r),
            _ = timer => Woke::TimedOut,
            _ = ctx.signals.cancel.recv() => Woke::Cancelled,
            _ = engine.hung.recv() => Woke::Hung,
        }
    };
    let (out, err) = match woke {
        Woke::Done(Ok(counted)) => counted,
        Woke::Done(Err(e)) => {
            close(files, a).await;
            a.fail(FailureKind::OutputLost, format!("output incomplete: {e}"));
            // The exec may still run: only removing its container stops it.
            return WorkerAfter::Replace(format!("the output of a job broke off: {e}"));
        }
        Woke::TimedOut => {
            close(files, a).await;
            let d = limit.unwrap_or_default();
            a.fail(
                FailureKind::TimedOut,
                format!("still running after {d:?}; killed with its worker container"),
            );
            return WorkerAfter::Replace(format!("job over its timeout ({d:?})"));
        }
        Woke::Cancelled => {
            close(files, a).await;
            let kind = ctx
                .signals
                .reason()
                .map_or(FailureKind::Cancelled, |r| r.kind());
            a.fail(kind, "stopped: the batch was cancelled");
            // The worker's container is removed when it stops, which kills
            // the exec.
            return WorkerAfter::Fine;
        }
        Woke::Hung => {
            close(files, a).await;
            return stopped(ctx, engine, a, &Stop::Hung, Phase::Run);
        }
    };
    a.timings.output = Some(clock.elapsed());
    a.stdout_bytes += out;
    a.stderr_bytes += err;
    close(files, a).await;

    let clock = Instant::now();
    let code = match guarded(ctx, engine, docker.exec_exit_code(&exec_id)).await {
        Ok(code) => code,
        Err(Stop::Failed(e @ (Error::ContainerNotRunning { .. } | Error::NotFound { .. }))) => {
            return worker_lost(a, container, &e);
        }
        Err(stop) => return stopped(ctx, engine, a, &stop, Phase::Run),
    };
    a.timings.exit = Some(clock.elapsed());
    a.exit_code = Some(code);
    ctx.emit(Progress::Exited {
        index,
        engine: engine.index,
        exit_code: code,
    });
    if code == 0 {
        return WorkerAfter::Fine;
    }
    a.fail(FailureKind::NonZeroExit, format!("exited with code {code}"));
    a.retryable = false;
    {
        // Killed by a signal (≥ 128) or refused by the runtime (126): its
        // container may have stopped under it.
        match guarded(ctx, engine, docker.inspect(container)).await {
            Ok(info) if info.state.running && !info.state.paused => {}
            Ok(info) => {
                let what = if info.state.paused {
                    "was paused"
                } else {
                    "stopped"
                };
                a.kind = Some(FailureKind::WorkerLost);
                a.message = Some(format!(
                    "exited with code {code}: its worker container {container} {what}"
                ));
                return WorkerAfter::Replace(format!("{what} during a job"));
            }
            Err(Stop::Failed(e)) if e.is_not_found() => {
                a.kind = Some(FailureKind::WorkerLost);
                a.message = Some(format!(
                    "exited with code {code}: its worker container {container} was removed"
                ));
                return WorkerAfter::Replace("removed during a job".into());
            }
            Err(_) => {}
        }
    }
    WorkerAfter::Fine
}

/// Reads the exec's output to its end: to the files, or counted and
/// dropped. Returns (stdout, stderr) bytes read when not writing files
/// (the files count their own).
async fn read_output(stream: LogStream, files: Option<&Files>) -> Result<(u64, u64), Error> {
    use futures::StreamExt;
    if let Some(files) = files {
        files.copy(stream).await?;
        return Ok((0, 0));
    }
    let (mut out, mut err) = (0u64, 0u64);
    futures::pin_mut!(stream);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        match chunk.stream {
            StreamKind::Stderr => err += chunk.bytes.len() as u64,
            _ => out += chunk.bytes.len() as u64,
        }
    }
    Ok((out, err))
}
