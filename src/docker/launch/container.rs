//! One container's lifecycle on one engine: create → (attach) → wait
//! registered → start → wait → (drain output) → remove, timed per phase.
//!
//! Protocol: every engine call is *guarded*: it races the engine's hung
//! signal and the batch's abort signal, biased to the call (a reply that
//! is ready wins). A guarded call that loses is dropped; its request, if
//! written, goes to an undertaker (`docker::client`) whose undo removes
//! whatever a late create or start leaves. The container's name
//! (`<batch>-<index>`) is noted on its engine as *maybe left* before the
//! create is sent, and cleared only when its removal is seen (or it is
//! kept, or it surely was not created), so the report never claims a
//! removal it did not see. Once the container exists every way out removes
//! it: directly, or — engine hung, batch aborted — by a force-remove left
//! to run in the background. A retried create whose first reply was lost
//! finds its container by name (and batch label) instead of duplicating
//! it.

use super::engine::Engine;
use super::failure::{classify, Phase};
use super::pool::Ctx;
use super::reconcile::FORCE;
use super::report::ContainerTimings;
use super::{FailureKind, Progress, BATCH_LABEL};
use crate::docker::client::Undo;
use crate::docker::{AttachOptions, Error, WaitCondition};
use futures::future::Either;
use std::future::Future;
use std::time::Instant;

/// What one attempt came to.
#[derive(Default)]
pub(super) struct Attempt {
    pub(super) exit_code: Option<i64>,
    pub(super) kind: Option<FailureKind>,
    pub(super) message: Option<String>,
    /// The daemon's error, for a spec failure (it stops the batch).
    pub(super) spec_error: Option<Error>,
    /// An engine failure: the container may run again elsewhere.
    pub(super) retryable: bool,
    /// The start request was sent (the command may have run).
    pub(super) started: bool,
    pub(super) kept: bool,
    pub(super) stdout_bytes: u64,
    pub(super) stderr_bytes: u64,
    pub(super) timings: ContainerTimings,
}

impl Attempt {
    pub(super) fn fail(&mut self, kind: FailureKind, message: impl Into<String>) {
        self.kind = Some(kind);
        self.message = Some(message.into());
        self.retryable = kind.is_engine_failure();
    }
}

/// Why a guarded call did not return.
pub(super) enum Stop {
    Failed(Error),
    /// The engine was marked hung.
    Hung,
    /// The batch abandoned what was in flight.
    Aborted,
}

/// Runs `call`, unless the engine is marked hung or the batch aborts
/// first (the call wins a tie).
pub(super) async fn guarded<T>(
    ctx: &Ctx,
    engine: &Engine,
    call: impl Future<Output = Result<T, Error>>,
) -> Result<T, Stop> {
    let stop = async {
        select! {
            _ = engine.hung.recv() => Stop::Hung,
            _ = ctx.signals.abort.recv() => Stop::Aborted,
        }
    };
    futures::pin_mut!(call);
    futures::pin_mut!(stop);
    match futures::future::select(call, stop).await {
        Either::Left((r, _)) => r.map_err(Stop::Failed),
        Either::Right((s, _)) => Err(s),
    }
}

impl Ctx {
    /// The kind of a stopped call, noting engine failures.
    pub(super) fn stopped(
        &self,
        engine: &Engine,
        stop: &Stop,
        phase: Phase,
    ) -> (FailureKind, String) {
        match stop {
            Stop::Failed(e) => {
                if let Some(kind) = engine.note_error(e) {
                    self.emit(Progress::EngineDown {
                        engine: engine.index,
                        kind,
                        reason: e.to_string(),
                    });
                }
                (classify(e, phase), e.to_string())
            }
            Stop::Hung => (
                FailureKind::EngineTimeout,
                format!("engine {} stopped answering", engine.host()),
            ),
            Stop::Aborted => {
                let kind = self
                    .signals
                    .reason()
                    .map_or(FailureKind::Cancelled, |r| r.kind());
                (kind, "abandoned when the batch was cancelled".into())
            }
        }
    }
}

pub(super) async fn attempt_once(
    ctx: &Ctx,
    engine: &Engine,
    index: usize,
    attempt: u32,
) -> Attempt {
    let mut a = Attempt::default();
    if let Some(r) = ctx.signals.reason() {
        a.fail(r.kind(), "not started: the batch was cancelled");
        return a;
    }
    let docker = &engine.docker;
    let name = format!("{}-{index}", ctx.batch);
    let mut spec = ctx.spec.clone().name(&name);
    if let Some(args) = ctx.opts.job_args(index) {
        spec = spec.cmd(args.iter().cloned());
    }
    let clock = Instant::now();
    engine.note_maybe_left(&name);
    let created = match guarded(ctx, engine, docker.create(&spec)).await {
        Ok(c) => Ok(c.id),
        // A retry whose first create did happen (its reply was lost): the
        // name is ours, so is the container.
        Err(Stop::Failed(e)) if e.is_conflict() && attempt > 0 => {
            match guarded(ctx, engine, docker.inspect(&name)).await {
                Ok(info) if info.config.labels.get(BATCH_LABEL) == Some(&ctx.batch) => Ok(info.id),
                Ok(_) => {
                    // Someone else's container has the name: not ours to remove.
                    engine.note_gone(&name);
                    Err(Stop::Failed(e))
                }
                Err(stop) => Err(stop),
            }
        }
        Err(stop) => Err(stop),
    };
    let id = match created {
        Ok(id) => id,
        Err(stop) => {
            if let Stop::Failed(e) = &stop {
                // Surely not created: never connected, or refused.
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
            return a;
        }
    };
    a.timings.create = Some(clock.elapsed());
    engine.book.lock().launched += 1;
    ctx.emit(Progress::Created {
        index,
        engine: engine.index,
        id: id.clone(),
    });

    run_created(ctx, engine, index, &id, &mut a).await;

    let keep =
        ctx.opts.keep && a.exit_code.is_some() && !matches!(a.kind, Some(FailureKind::TimedOut));
    if keep {
        a.kept = true;
        engine.note_gone(&name);
        return a;
    }
    if engine.is_hung() || ctx.signals.is_aborted() {
        docker.remove_detached(&id);
        return a;
    }
    let clock = Instant::now();
    // Always forced: a container whose run failed may still be running.
    match guarded(ctx, engine, docker.remove(&id, FORCE)).await {
        Ok(()) | Err(Stop::Failed(Error::NotFound { .. })) => {
            a.timings.remove = Some(clock.elapsed());
            engine.note_gone(&name);
            ctx.emit(Progress::Removed {
                index,
                engine: engine.index,
            });
        }
        // The final sweep (or `cleanup`, once the engine is back) sees to it.
        Err(Stop::Failed(e)) => {
            ctx.stopped(engine, &Stop::Failed(e), Phase::Run);
        }
        Err(Stop::Hung | Stop::Aborted) => docker.remove_detached(&id),
    }
    a
}

/// (attach) → wait registered → start → wait → (drain output): fills in
/// the attempt.
async fn run_created(ctx: &Ctx, engine: &Engine, index: usize, id: &str, a: &mut Attempt) {
    let docker = &engine.docker;
    if let Some(r) = ctx.signals.reason() {
        a.fail(r.kind(), "not started: the batch was cancelled");
        return;
    }
    let clock = Instant::now();
    let mut files = None;
    let mut stream = None;
    if let Some(out) = &ctx.output {
        match out.open(&format!("{}-{index}", ctx.batch)).await {
            Ok(f) => files = Some(f),
            Err(e) => {
                a.fail(
                    FailureKind::OutputLost,
                    format!("opening the output files: {e}"),
                );
                return;
            }
        }
        let opts = AttachOptions {
            stdin: false,
            stdout: true,
            stderr: true,
            logs: false,
            tty: Some(ctx.spec.is_tty()),
        };
        match guarded(ctx, engine, docker.attach(id, &opts)).await {
            Ok(att) => stream = Some(att.output),
            Err(stop) => {
                let (kind, message) = ctx.stopped(engine, &stop, Phase::Start);
                a.fail(kind, message);
                close(files, a).await;
                return;
            }
        }
    }
    let wait = match guarded(
        ctx,
        engine,
        docker.wait_registered(id, WaitCondition::NextExit),
    )
    .await
    {
        Ok(w) => w,
        Err(stop) => {
            let (kind, message) = ctx.stopped(engine, &stop, Phase::Start);
            a.fail(kind, message);
            close(files, a).await;
            return;
        }
    };
    a.started = true;
    let start = docker.start_with(id, Undo::Remove(id.to_owned()));
    if let Err(stop) = guarded(ctx, engine, start).await {
        let (kind, message) = ctx.stopped(engine, &stop, Phase::Start);
        a.fail(kind, message);
        if let Stop::Failed(e) = stop {
            if kind.is_spec_failure() {
                a.spec_error = Some(e);
            }
        }
        close(files, a).await;
        return;
    }
    a.timings.start = Some(clock.elapsed());
    ctx.emit(Progress::Started {
        index,
        engine: engine.index,
    });

    // The output is copied while the container runs.
    let copier = match (files, stream) {
        (Some(files), Some(stream)) => Some(crate::spawn(async move {
            let r = files.copy(stream).await;
            (files, r)
        })),
        _ => None,
    };
    let clock = Instant::now();
    let limit = ctx.opts.timeout;
    let timer = async move {
        match limit {
            Some(d) => crate::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    enum Woke {
        Exit(Result<crate::docker::WaitExit, Error>),
        TimedOut,
        Cancelled,
        Hung,
    }
    let woke = select! {
        r = wait => Woke::Exit(r),
        _ = timer => Woke::TimedOut,
        _ = ctx.signals.cancel.recv() => Woke::Cancelled,
        _ = engine.hung.recv() => Woke::Hung,
    };
    match woke {
        Woke::Exit(Ok(exit)) => {
            a.timings.wait = Some(clock.elapsed());
            a.exit_code = Some(exit.status_code);
            ctx.emit(Progress::Exited {
                index,
                engine: engine.index,
                exit_code: exit.status_code,
            });
            if exit.status_code != 0 {
                a.fail(
                    FailureKind::NonZeroExit,
                    format!("exited with code {}", exit.status_code),
                );
            }
            if let Some(copier) = copier {
                let clock = Instant::now();
                drain(ctx, engine, copier, a).await;
                a.timings.output = Some(clock.elapsed());
            }
            if exit.status_code != 0 {
                // The daemon may record the OOM kill (a separate event from
                // containerd) just after the exit: a SIGKILL exit (137) is
                // looked at again for up to a second.
                let tries = if exit.status_code == 137 { 5 } else { 1 };
                for i in 0..tries {
                    if i > 0 {
                        crate::time::sleep(std::time::Duration::from_millis(250)).await;
                    }
                    match guarded(ctx, engine, docker.inspect(id)).await {
                        Ok(info) if info.state.oom_killed => {
                            a.kind = Some(FailureKind::OomKilled);
                            a.message = Some("killed by the OOM killer (exit code 137)".into());
                            break;
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            }
        }
        other => {
            match other {
                Woke::Exit(Err(e)) => {
                    let (kind, message) = ctx.stopped(engine, &Stop::Failed(e), Phase::Run);
                    a.fail(kind, message);
                }
                Woke::TimedOut => {
                    let d = limit.unwrap_or_default();
                    a.fail(
                        FailureKind::TimedOut,
                        format!("still running after {d:?}; killed"),
                    );
                }
                Woke::Hung => {
                    let (kind, message) = ctx.stopped(engine, &Stop::Hung, Phase::Run);
                    a.fail(kind, message);
                }
                _ => {
                    let kind = ctx
                        .signals
                        .reason()
                        .map_or(FailureKind::Cancelled, |r| r.kind());
                    a.fail(kind, "stopped: the batch was cancelled");
                }
            }
            if let Some(copier) = copier {
                copier.abort();
                if let Ok((files, _)) = copier.await {
                    close(Some(files), a).await;
                }
            }
        }
    }
}

/// Waits for the copier to reach the end of the output (it ends with the
/// container), then closes the files.
async fn drain(
    ctx: &Ctx,
    engine: &Engine,
    copier: crate::JoinHandle<(super::output::Files, Result<(), Error>)>,
    a: &mut Attempt,
) {
    let abort = copier.abort_handle();
    let after = engine.docker.timeout();
    let joined = guarded(ctx, engine, async {
        crate::time::timeout(after, copier)
            .await
            .map_err(|_| Error::Timeout {
                what: "reading the output to its end".into(),
                after,
            })
    })
    .await;
    let lost = match joined {
        Ok(Ok((files, r))) => {
            close(Some(files), a).await;
            r.err().map(|e| e.to_string())
        }
        Ok(Err(join)) => Some(format!("the output copier failed: {join}")),
        Err(Stop::Failed(e)) => Some(e.to_string()),
        Err(_) => Some("abandoned before the end of the output".into()),
    };
    abort.abort();
    if let Some(why) = lost {
        let why = format!("output incomplete: {why}");
        match a.kind {
            None => a.fail(FailureKind::OutputLost, why),
            Some(_) => {
                let m = a.message.take().unwrap_or_default();
                a.message = Some(format!("{m}; {why}"));
            }
        }
    }
}

pub(super) async fn close(files: Option<super::output::Files>, a: &mut Attempt) {
    let Some(files) = files else { return };
    match files.close().await {
        Ok((out, err)) => {
            a.stdout_bytes += out;
            a.stderr_bytes += err;
        }
        Err(e) => {
            let why = format!("writing the output: {e}");
            match a.kind {
                None => a.fail(FailureKind::OutputLost, why),
                Some(_) => {
                    let m = a.message.take().unwrap_or_default();
                    a.message = Some(format!("{m}; {why}"));
                }
            }
        }
    }
}
