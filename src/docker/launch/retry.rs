//! Retries: one container's attempts, moving to another engine when one
//! fails.
//!
//! Protocol: each attempt takes the least-loaded engine that is not hung
//! (`engine::pick`) and runs the lifecycle (`container.rs`). An engine
//! failure (unreachable, not answering, a 5xx) is retried — after a backoff
//! doubling up to the policy's maximum, or at once when the engine was
//! marked hung — until `max_attempts`, unless the batch was cancelled. A
//! container lost with its engine after it started runs again only with
//! [`RetryPolicy::rerun_lost`](super::RetryPolicy::rerun_lost). Failures of
//! the container itself (exit code, timeout, OOM) and of the spec are not
//! retried; a spec error is handed to the pool, which stops the batch.
//! Every retry is counted by the engine it left and the one it went to.

use super::container::attempt_once;
use super::engine::pick;
use super::pool::{Ctx, JobResult};
use super::report::ContainerResult;
use super::{FailureKind, Progress};

pub(super) async fn run_job(ctx: &Ctx, index: usize) -> JobResult {
    let policy = &ctx.opts.retry;
    let mut backoff = policy.initial_backoff;
    let mut attempt = 0u32;
    let mut moved_from: Option<(usize, FailureKind)> = None;
    let mut last_engine = None;
    let result = |engine, attempts, a: super::container::Attempt| ContainerResult {
        index,
        line: ctx.opts.job_line(index),
        name: format!("{}-{index}", ctx.batch),
        engine,
        attempts,
        exit_code: a.exit_code,
        kind: a.kind,
        message: a.message,
        stdout_bytes: a.stdout_bytes,
        stderr_bytes: a.stderr_bytes,
        // Nothing of it may be left anywhere (the pool updates this after
        // its sweep).
        removed: !a.kept
            && !ctx.engines.iter().any(|e| {
                e.book
                    .lock()
                    .maybe_left
                    .contains(&format!("{}-{index}", ctx.batch))
            }),
        kept: a.kept,
        timings: a.timings,
        node: None,
    };
    loop {
        if let Some(r) = ctx.signals.reason() {
            let a = super::container::Attempt {
                kind: Some(r.kind()),
                message: Some("not started: the batch was cancelled".into()),
                ..Default::default()
            };
            return JobResult {
                result: result(last_engine, attempt, a),
                spec_error: None,
            };
        }
        let Some((ei, in_flight)) = pick(&ctx.engines) else {
            let a = super::container::Attempt {
                kind: Some(FailureKind::EngineTimeout),
                message: Some("every engine stopped answering".into()),
                ..Default::default()
            };
            return JobResult {
                result: result(last_engine, attempt, a),
                spec_error: None,
            };
        };
        if let Some((from, kind)) = moved_from.take() {
            ctx.note_retry(from, ei, kind);
        }
        last_engine = Some(ei);
        let engine = &ctx.engines[ei];
        let mut a = attempt_once(ctx, engine, index, attempt).await;
        drop(in_flight);
        let kind = a.kind;
        let retry = a.retryable
            && attempt + 1 < policy.max_attempts
            && !ctx.signals.is_cancelled()
            && (!a.started || policy.rerun_lost);
        if let (true, Some(kind)) = (retry, kind) {
            ctx.emit(Progress::Retrying {
                index,
                engine: ei,
                attempt: attempt + 1,
                kind,
                reason: a.message.take().unwrap_or_default(),
            });
            moved_from = Some((ei, kind));
            attempt += 1;
            if !engine.is_hung() {
                select! {
                    _ = crate::time::sleep(backoff) => {},
                    _ = ctx.signals.cancel.recv() => {},
                }
                backoff = (backoff * 2).min(policy.max_backoff);
            }
            continue;
        }
        if kind
            .is_some_and(|k| !matches!(k, FailureKind::Cancelled | FailureKind::DeadlineExceeded))
        {
            engine.book.lock().failed += 1;
        }
        let spec_error = a.spec_error.take();
        return JobResult {
            result: result(Some(ei), attempt + 1, a),
            spec_error,
        };
    }
}
