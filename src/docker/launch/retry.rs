//! Retries: one container's attempts, with exponential backoff, moving to
//! another engine when one fails.
//!
//! Protocol: each attempt picks the least-loaded reachable engine and runs
//! the lifecycle (`container.rs`). A transient error before the container
//! started is retried after a backoff (doubling up to the policy's
//! maximum), unless the batch was cancelled meanwhile; an engine that
//! refused or dropped the connection is passed over for a while. Errors
//! after start, and permanent errors, end the container; a permanent one
//! is handed to the pool, which stops the batch.

use super::container::attempt_once;
use super::engine::pick;
use super::pool::{AttemptError, Ctx, JobResult, Outcome, Timings};
use super::Progress;
use crate::docker::Error;
use std::sync::atomic::Ordering::*;

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

pub(super) async fn run_job(ctx: &Ctx, index: usize) -> JobResult {
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
