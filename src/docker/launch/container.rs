//! One container's lifecycle on one engine: create → wait registered →
//! start → wait → (logs) → remove, timed per phase.
//!
//! Protocol: once the container exists, every way out removes it (unless
//! it ran to completion and the batch keeps containers); a remove that
//! fails is left to the pool's final sweep. The container is named
//! `<batch>-<index>`, so a retried create whose first reply was lost finds
//! its container by name (and batch label) instead of duplicating it.

use super::engine::Engine;
use super::pool::{AttemptError, Ctx, Timings};
use super::reconcile::FORCE;
use super::{Progress, BATCH_LABEL};
use std::sync::atomic::Ordering::*;
use std::time::Instant;

/// create → wait registered → start → wait → (logs) → remove, on one
/// engine. Once the container exists, every way out removes it (unless
/// it ran to completion and the batch keeps containers).
pub(super) async fn attempt_once(
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
